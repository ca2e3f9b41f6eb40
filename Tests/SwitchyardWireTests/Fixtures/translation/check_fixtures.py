#!/usr/bin/env python3
"""Validates the golden translation fixtures in this folder (structure only, not translation semantics).

Usage: python3 check_fixtures.py [FOLDER]   (default: the folder this script lives in)
Exit status 0 when every case directory is well-formed, 1 otherwise. Prints a count per kind.
"""
import json
import os
import re
import sys

KINDS = {"request", "response", "stream"}
DIALECTS = {"openrouter", "openai"}
ERROR_TYPES = {"invalid_request_error", "authentication_error", "permission_error", "not_found_error", "rate_limit_error",
               "timeout_error", "overloaded_error", "api_error", "billing_error", "request_too_large"}
PLACEHOLDER_RE = re.compile(r"^<[a-z_]+(:.*)?>$", re.S)
KNOWN_PLACEHOLDERS = {"<msg_id>", "<toolu_id>", "<int>", "<any>"}
NAME_RE = re.compile(r"^[TX]\d{2,3}-[a-z0-9]+(-[a-z0-9]+)*$")
OPENAI_REQ_KEYS = {"model", "messages", "max_tokens", "max_completion_tokens", "stream", "stream_options", "temperature", "top_p",
                   "top_k", "stop", "user", "safety_identifier", "tools", "tool_choice", "parallel_tool_calls", "reasoning",
                   "reasoning_effort", "response_format"}
OPENROUTER_ONLY = {"max_tokens", "top_k", "user", "reasoning"}
OPENAI_ONLY = {"max_completion_tokens", "safety_identifier", "reasoning_effort"}
USAGE_KEYS = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
EVENT_NAMES = {"message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "error"}

problems = []


def bad(case, msg):
    problems.append(f"{case}: {msg}")


def load_json(case, path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001
        bad(case, f"{os.path.basename(path)} does not parse: {e}")
        return None


def walk_strings(o, path=""):
    if isinstance(o, str):
        yield path, o
    elif isinstance(o, dict):
        for k, v in o.items():
            yield from walk_strings(v, f"{path}.{k}" if path else k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk_strings(v, f"{path}.{i}" if path else str(i))


def check_placeholders(case, fname, obj):
    for path, s in walk_strings(obj):
        if PLACEHOLDER_RE.match(s) and s not in KNOWN_PLACEHOLDERS and not s.startswith("<contains:"):
            bad(case, f"{fname}: unknown placeholder {s!r} at {path}")
        if s == "<int>" and not re.search(r"(^|\.)usage\.(input_tokens|output_tokens|cache_creation_input_tokens|cache_read_input_tokens)$", path):
            bad(case, f"{fname}: <int> outside a usage count at {path}")


def check_error(case, e, fname="expected.error.json"):
    if not isinstance(e, dict):
        return bad(case, f"{fname} is not an object")
    if not isinstance(e.get("status"), int) or not 400 <= e["status"] <= 599:
        bad(case, f"{fname}: status must be an int 400-599")
    if e.get("type") not in ERROR_TYPES:
        bad(case, f"{fname}: unknown error type {e.get('type')!r}")
    if not isinstance(e.get("message_contains"), str):
        bad(case, f"{fname}: message_contains must be a string")
    h = e.get("headers", {})
    if not isinstance(h, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in h.items()):
        bad(case, f"{fname}: headers must map strings to strings")
    extra = set(e) - {"status", "type", "message_contains", "headers"}
    if extra:
        bad(case, f"{fname}: unexpected keys {sorted(extra)}")


def check_usage(case, fname, usage):
    if not isinstance(usage, dict) or set(usage) != USAGE_KEYS:
        bad(case, f"{fname}: usage must have exactly {sorted(USAGE_KEYS)}")
        return
    for k, v in usage.items():
        if not ((isinstance(v, int) and not isinstance(v, bool) and v >= 0) or v == "<int>"):
            bad(case, f"{fname}: usage.{k} must be an int >= 0 or \"<int>\"")


def check_anthropic_response(case, r, meta, fname="anthropic.response.json"):
    want = {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"}
    if not isinstance(r, dict) or set(r) != want:
        return bad(case, f"{fname}: keys must be exactly {sorted(want)}")
    if r["id"] != "<msg_id>" or r["type"] != "message" or r["role"] != "assistant":
        bad(case, f"{fname}: id/type/role wrong")
    if r["model"] != meta["client_model"]:
        bad(case, f"{fname}: model must echo client_model")
    if r["stop_reason"] not in {"end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"}:
        bad(case, f"{fname}: bad stop_reason {r['stop_reason']!r}")
    if (r["stop_reason"] == "stop_sequence") != isinstance(r["stop_sequence"], str):
        bad(case, f"{fname}: stop_sequence must be a string exactly when stop_reason is stop_sequence")
    for i, b in enumerate(r["content"]):
        t = b.get("type")
        if t == "text" and b.get("text") == "":
            bad(case, f"{fname}: empty text block at content.{i}")
        if t not in {"text", "thinking", "redacted_thinking", "tool_use"}:
            bad(case, f"{fname}: unexpected block type {t!r}")
    check_usage(case, fname, r["usage"])


def check_openai_request(case, o, meta):
    d = meta["dialect"]
    if not isinstance(o, dict):
        return bad(case, "openai.request.json is not an object")
    extra = set(o) - OPENAI_REQ_KEYS
    if extra:
        bad(case, f"openai.request.json: keys not allowed {sorted(extra)}")
    wrong = set(o) & (OPENAI_ONLY if d == "openrouter" else OPENROUTER_ONLY)
    if wrong:
        bad(case, f"openai.request.json: keys {sorted(wrong)} do not belong to dialect {d}")
    if o.get("model") != meta["upstream_model"]:
        bad(case, "openai.request.json: model must be upstream_model")
    if ("stream" in o) != ("stream_options" in o):
        bad(case, "openai.request.json: stream and stream_options go together")
    for k, v in o.items():
        if v is None:
            bad(case, f"openai.request.json: null value for {k}")
    if "stop" in o and not o["stop"]:
        bad(case, "openai.request.json: empty stop")
    if "parallel_tool_calls" in o and not o.get("tools"):
        bad(case, "openai.request.json: parallel_tool_calls without tools")
    msgs = o.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return bad(case, "openai.request.json: messages must be a non-empty list")
    pending = None
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role not in {"system", "user", "assistant", "tool"}:
            bad(case, f"openai.request.json: messages.{i}.role {role!r}")
        if role == "tool":
            if not isinstance(m.get("tool_call_id"), str) or not isinstance(m.get("content"), str):
                bad(case, f"openai.request.json: messages.{i} tool message needs tool_call_id and string content")
            elif pending is None or m["tool_call_id"] not in pending:
                bad(case, f"openai.request.json: messages.{i} tool message not paired with the preceding tool_calls")
            else:
                pending.discard(m["tool_call_id"])
            continue
        if pending:
            bad(case, f"openai.request.json: tool calls {sorted(pending)} have no tool message before messages.{i}")
        pending = None
        if role == "assistant":
            if m.get("content") is None and not m.get("tool_calls"):
                bad(case, f"openai.request.json: messages.{i} assistant content null without tool_calls")
            if m.get("tool_calls"):
                pending = set()
                for j, c in enumerate(m["tool_calls"]):
                    try:
                        json.loads(c["function"]["arguments"])
                    except Exception:  # noqa: BLE001
                        bad(case, f"openai.request.json: messages.{i}.tool_calls.{j} arguments are not JSON")
                    pending.add(c["id"])
            if d == "openai" and ("reasoning" in m or "reasoning_details" in m):
                bad(case, f"openai.request.json: messages.{i} carries reasoning in openai dialect")
    if pending and msgs[-1].get("role") != "assistant":
        bad(case, f"openai.request.json: trailing tool calls {sorted(pending)} unanswered")


def check_sse(case, text, status):
    if not 200 <= status <= 299:
        try:
            json.loads(text)
        except Exception:  # noqa: BLE001
            if not text.lstrip().startswith("<"):
                bad(case, "openai.sse: non-2xx upstream body is neither JSON nor HTML")
        return
    if "\r" in text:
        bad(case, "openai.sse: use \\n line endings")
    if not text.endswith("\n\n"):
        bad(case, "openai.sse: must end with a blank line (\\n\\n) after the last event")
    blocks = text.split("\n\n")
    if blocks[-1] != "":
        bad(case, "openai.sse: trailing partial event")
    blocks = blocks[:-1]
    done_at = None
    for i, blk in enumerate(blocks):
        for line in blk.split("\n"):
            if line.startswith(":"):
                continue
            if not line.startswith("data: "):
                bad(case, f"openai.sse: event {i}: line must start with 'data: ' or ':': {line[:40]!r}")
                continue
            payload = line[len("data: "):]
            if payload == "[DONE]":
                done_at = i
                continue
            try:
                json.loads(payload)
            except Exception as e:  # noqa: BLE001
                bad(case, f"openai.sse: event {i}: data is not JSON: {e}")
    if done_at is not None and done_at != len(blocks) - 1:
        bad(case, "openai.sse: [DONE] must be the last event")


def check_events(case, evs, meta):
    fname = "anthropic.events.json"
    if not isinstance(evs, list) or not evs:
        return bad(case, f"{fname} must be a non-empty list")
    for i, e in enumerate(evs):
        if not isinstance(e, dict) or set(e) != {"event", "data"}:
            return bad(case, f"{fname}: item {i} must be {{event, data}}")
        if e["event"] not in EVENT_NAMES:
            bad(case, f"{fname}: item {i}: event {e['event']!r} not allowed (no pings)")
        if e["data"].get("type") != e["event"]:
            bad(case, f"{fname}: item {i}: data.type must equal the event name")
    if evs[0]["event"] != "message_start":
        bad(case, f"{fname}: must start with message_start")
    else:
        m = evs[0]["data"].get("message", {})
        want = {"id": "<msg_id>", "type": "message", "role": "assistant", "model": meta["client_model"], "content": [],
                "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}}
        if m != want:
            bad(case, f"{fname}: message_start does not follow the convention")
    last = evs[-1]["event"]
    if last not in {"message_stop", "error"}:
        bad(case, f"{fname}: must end with message_stop or error")
    names = [e["event"] for e in evs]
    if names.count("error") > 1 or ("error" in names and names[-1] != "error"):
        bad(case, f"{fname}: error must be the single last event")
    if last == "message_stop":
        if names.count("message_delta") != 1 or names[-2] != "message_delta":
            bad(case, f"{fname}: exactly one message_delta, right before message_stop")
        md = evs[-2]["data"]
        if set(md) != {"type", "delta", "usage"} or set(md["delta"]) != {"stop_reason", "stop_sequence"}:
            bad(case, f"{fname}: message_delta shape")
        else:
            check_usage(case, fname, md["usage"])
    elif "message_delta" in names or "message_stop" in names:
        bad(case, f"{fname}: no message_delta/message_stop in an errored stream")
    nxt, open_ = 0, None
    for i, e in enumerate(evs[1:], 1):
        n, d = e["event"], e["data"]
        if n == "content_block_start":
            if open_ is not None:
                bad(case, f"{fname}: item {i}: block {open_} still open")
            if d.get("index") != nxt:
                bad(case, f"{fname}: item {i}: index {d.get('index')} but expected {nxt}")
            cb = d.get("content_block", {})
            t = cb.get("type")
            shapes = {"text": {"type": "text", "text": ""}, "thinking": {"type": "thinking", "thinking": "", "signature": ""}}
            if t in shapes and cb != shapes[t]:
                bad(case, f"{fname}: item {i}: {t} block start shape")
            if t == "tool_use" and (cb.get("input") != {} or set(cb) != {"type", "id", "name", "input"}):
                bad(case, f"{fname}: item {i}: tool_use start must be {{type,id,name,input:{{}}}}")
            open_, nxt = d.get("index"), nxt + 1
        elif n == "content_block_delta":
            if d.get("index") != open_:
                bad(case, f"{fname}: item {i}: delta for a block that is not open")
        elif n == "content_block_stop":
            if d.get("index") != open_:
                bad(case, f"{fname}: item {i}: stop for a block that is not open")
            open_ = None
        elif n in {"message_delta", "message_stop"} and open_ is not None:
            bad(case, f"{fname}: item {i}: {n} while block {open_} is open")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    dirs = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith((".", "_")))
    counts = {k: 0 for k in KINDS}
    for name in dirs:
        p = os.path.join(root, name)
        if not NAME_RE.match(name):
            bad(name, "directory name must look like T01-some-slug or X01-some-slug")
        files = set(os.listdir(p))
        if "case.json" not in files:
            bad(name, "case.json missing")
            continue
        meta = load_json(name, os.path.join(p, "case.json"))
        if not isinstance(meta, dict):
            continue
        extra = set(meta) - {"description", "kind", "dialect", "upstream_model", "client_model", "options", "request"}
        if extra:
            bad(name, f"case.json: unexpected keys {sorted(extra)}")
        if not isinstance(meta.get("description"), str) or not meta["description"].strip():
            bad(name, "case.json: description missing")
        kind = meta.get("kind")
        if kind not in KINDS:
            bad(name, f"case.json: kind {kind!r} invalid")
            continue
        if meta.get("dialect") not in DIALECTS:
            bad(name, f"case.json: dialect {meta.get('dialect')!r} invalid")
            continue
        for k in ("upstream_model", "client_model"):
            if not isinstance(meta.get(k), str) or not meta[k]:
                bad(name, f"case.json: {k} missing")
        opts = meta.get("options", {})
        if not isinstance(opts, dict) or set(opts) - {"strip_billing_header", "cache_mode"} or not all(isinstance(v, bool) for v in opts.values()):
            bad(name, "case.json: options may only hold booleans strip_billing_header / cache_mode")
        if "request" in meta and not isinstance(meta["request"], dict):
            bad(name, "case.json: request must be an object")
        for suffix in ("-openrouter", "-openai"):
            if name.endswith(suffix) and meta["dialect"] != suffix[1:]:
                bad(name, f"name ends with {suffix} but dialect is {meta['dialect']}")
        counts[kind] += 1

        def one_of(options):
            present = [f for f in options if f in files]
            if len(present) != 1:
                bad(name, f"need exactly one of {options}, found {present}")
            return present[0] if len(present) == 1 else None

        upstream_status = 200
        if "upstream.json" in files:
            up = load_json(name, os.path.join(p, "upstream.json"))
            if isinstance(up, dict):
                if set(up) - {"status", "headers"} or not isinstance(up.get("status", 200), int):
                    bad(name, "upstream.json: only status (int) and headers")
                upstream_status = up.get("status", 200)
                h = up.get("headers", {})
                if not isinstance(h, dict) or not all(isinstance(v, str) for v in h.values()):
                    bad(name, "upstream.json: headers must map strings to strings")

        if kind == "request":
            allowed = {"case.json", "anthropic.request.json", "openai.request.json", "expected.error.json", "expected.local.json"}
            if "anthropic.request.json" not in files:
                bad(name, "anthropic.request.json missing")
            else:
                load_json(name, os.path.join(p, "anthropic.request.json"))
            exp = one_of(["openai.request.json", "expected.error.json", "expected.local.json"])
            if exp:
                obj = load_json(name, os.path.join(p, exp))
                if obj is not None:
                    check_placeholders(name, exp, obj)
                    if exp == "openai.request.json":
                        check_openai_request(name, obj, meta)
                    elif exp == "expected.error.json":
                        check_error(name, obj)
                    else:
                        check_anthropic_response(name, obj, meta, exp)
        elif kind == "response":
            allowed = {"case.json", "openai.response.json", "openai.response.txt", "upstream.json", "anthropic.response.json", "expected.error.json"}
            src = one_of(["openai.response.json", "openai.response.txt"])
            if src == "openai.response.json":
                load_json(name, os.path.join(p, src))
            elif src == "openai.response.txt" and 200 <= upstream_status <= 299:
                with open(os.path.join(p, src), encoding="utf-8") as f:
                    try:
                        json.loads(f.read().lstrip())
                    except Exception as e:  # noqa: BLE001
                        bad(name, f"openai.response.txt: 2xx body does not parse after trimming: {e}")
            exp = one_of(["anthropic.response.json", "expected.error.json"])
            if exp:
                obj = load_json(name, os.path.join(p, exp))
                if obj is not None:
                    check_placeholders(name, exp, obj)
                    check_anthropic_response(name, obj, meta) if exp == "anthropic.response.json" else check_error(name, obj)
        else:
            allowed = {"case.json", "openai.sse", "upstream.json", "anthropic.events.json", "expected.error.json"}
            if "openai.sse" not in files:
                bad(name, "openai.sse missing")
            else:
                with open(os.path.join(p, "openai.sse"), encoding="utf-8", newline="") as f:
                    check_sse(name, f.read(), upstream_status)
            exp = one_of(["anthropic.events.json", "expected.error.json"])
            if exp:
                obj = load_json(name, os.path.join(p, exp))
                if obj is not None:
                    check_placeholders(name, exp, obj)
                    check_events(name, obj, meta) if exp == "anthropic.events.json" else check_error(name, obj)
        stray = files - allowed
        if stray:
            bad(name, f"unexpected files {sorted(stray)}")

    total = sum(counts.values())
    print(f"{total} cases: " + ", ".join(f"{counts[k]} {k}" for k in sorted(counts)))
    if problems:
        print(f"{len(problems)} problem(s):")
        for pr in problems:
            print("  " + pr)
        return 1
    print("all fixtures well-formed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
