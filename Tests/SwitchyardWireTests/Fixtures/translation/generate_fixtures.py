#!/usr/bin/env python3
"""Writes the golden translation fixture directories next to this script.

Every expected value below is written by hand from shared/docs/translation-spec.md (§8 vectors + brief
conventions); only sha256 aliases/hashes and gw1: base64 payloads are computed. Nothing here runs a
translator. The case directories are the fixtures the Swift runner reads; if you edit a case by hand,
update this script too (or stop regenerating). Re-run: python3 generate_fixtures.py && python3 check_fixtures.py
Regeneration deletes and rewrites every T??-*/X??-* directory in this folder.
"""
import base64, hashlib, json, os, shutil

ROOT = os.path.dirname(os.path.abspath(__file__))
UP = "test/model"
CM = "claude-sonnet-4-5"

CASES = []


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def cj(o):  # compact JSON, original key order
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def b64j(o):
    return base64.b64encode(cj(o).encode()).decode()


def case(name, kind, description, files, dialect="openrouter", options=None, request=None):
    meta = {"description": description, "kind": kind, "dialect": dialect,
            "upstream_model": UP, "client_model": CM}
    if options is not None:
        meta["options"] = options
    if request is not None:
        meta["request"] = request
    CASES.append((name, meta, files))


# ---------------------------------------------------------------- request helpers
def areq(messages, max_tokens=1024, **kw):
    r = {"model": CM, "max_tokens": max_tokens}
    r.update(kw)
    r["messages"] = messages
    return r


def oreq(messages, dialect="openrouter", max_tokens=1024, **kw):
    r = {"model": UP}
    r["max_tokens" if dialect == "openrouter" else "max_completion_tokens"] = max_tokens
    r["messages"] = messages
    r.update(kw)
    return r


def req_case(name, desc, a, o, dialect="openrouter", options=None):
    case(name, "request", desc, {"anthropic.request.json": a, "openai.request.json": o},
         dialect=dialect, options=options)


def err_case(name, desc, a, contains, dialect="openrouter"):
    case(name, "request", desc, {"anthropic.request.json": a,
                                 "expected.error.json": {"status": 400, "type": "invalid_request_error",
                                                         "message_contains": contains}}, dialect=dialect)


def tool(name, desc=None, schema=None):
    t = {"name": name}
    if desc is not None:
        t["description"] = desc
    t["input_schema"] = schema if schema is not None else {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}
    return t


def ftool(name, desc=None, params=None):
    f = {"name": name}
    if desc is not None:
        f["description"] = desc
    f["parameters"] = params if params is not None else {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}
    return {"type": "function", "function": f}


def tc(id_, name, args):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


READ = tool("Read", "Read a file")
FREAD = ftool("Read", "Read a file")

# ---------------------------------------------------------------- response helpers
def oresp(message, finish="stop", usage=None, native=None, extra_choice=None):
    ch = {"index": 0, "message": dict({"role": "assistant"}, **message), "finish_reason": finish}
    if native is not None:
        ch["native_finish_reason"] = native
    if extra_choice:
        ch.update(extra_choice)
    r = {"id": "gen-1760000000-abc", "object": "chat.completion", "created": 1760000000, "model": UP,
         "provider": "TestProvider", "choices": [ch]}
    if usage is not False:
        r["usage"] = usage if usage is not None else {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    return r


def u(inp, out, cc=0, cr=0):
    return {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": cc, "cache_read_input_tokens": cr}


def aresp(content, stop_reason, usage, stop_sequence=None):
    return {"id": "<msg_id>", "type": "message", "role": "assistant", "model": CM, "content": content,
            "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage}


def resp_case(name, desc, upstream, expected, request=None, upstream_meta=None, dialect="openrouter", raw_text=None):
    files = {}
    if raw_text is not None:
        files["openai.response.txt"] = raw_text
    else:
        files["openai.response.json"] = upstream
    if upstream_meta is not None:
        files["upstream.json"] = upstream_meta
    if "status" in expected and "type" in expected and "id" not in expected:
        files["expected.error.json"] = expected
    else:
        files["anthropic.response.json"] = expected
    case(name, "response", desc, files, dialect=dialect, request=request)


def err(status, typ, contains, headers=None):
    e = {"status": status, "type": typ, "message_contains": contains}
    if headers:
        e["headers"] = headers
    return e


# ---------------------------------------------------------------- stream helpers
def chunk(delta=None, finish=None, usage=None, native=None, choices=True, extra=None):
    c = {"id": "gen-1760000000-xyz", "object": "chat.completion.chunk", "created": 1760000000, "model": UP}
    if choices:
        ch = {"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}
        if native is not None:
            ch["native_finish_reason"] = native
        c["choices"] = [ch]
    else:
        c["choices"] = []
    if usage is not None:
        c["usage"] = usage
    if extra:
        c.update(extra)
    return c


def sse(*items, done=True):
    out = []
    for it in items:
        if isinstance(it, str):
            out.append(it + "\n\n")  # comment line (":...") or raw line
        else:
            out.append("data: " + cj(it) + "\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out)


COMMENT = ": OPENROUTER PROCESSING"


def ev(name, data):
    return {"event": name, "data": data}


def e_start():
    return ev("message_start", {"type": "message_start", "message": {
        "id": "<msg_id>", "type": "message", "role": "assistant", "model": CM, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0}}})


def e_text(i):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})


def e_think(i):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})


def e_tool(i, id_, name):
    return ev("content_block_start", {"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": id_, "name": name, "input": {}}})


def e_td(i, t):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": t}})


def e_thd(i, t):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "thinking_delta", "thinking": t}})


def e_sig(i, s):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "signature_delta", "signature": s}})


def e_js(i, p):
    return ev("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": p}})


def e_stop(i):
    return ev("content_block_stop", {"type": "content_block_stop", "index": i})


def e_md(stop_reason, inp, out, cc=0, cr=0, stop_sequence=None):
    return ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                                "usage": {"input_tokens": inp, "cache_creation_input_tokens": cc, "cache_read_input_tokens": cr, "output_tokens": out}})


def e_end():
    return ev("message_stop", {"type": "message_stop"})


def e_err(typ, contains):
    return ev("error", {"type": "error", "error": {"type": typ, "message": "<contains:" + contains + ">"}})


def stream_case(name, desc, sse_text, events=None, error=None, request=None, upstream_meta=None, dialect="openrouter"):
    files = {"openai.sse": sse_text}
    if upstream_meta is not None:
        files["upstream.json"] = upstream_meta
    if events is not None:
        files["anthropic.events.json"] = events
    else:
        files["expected.error.json"] = error
    if request is None:
        request = areq([{"role": "user", "content": "Hi"}], stream=True)
    case(name, "stream", desc, files, dialect=dialect, request=request)


def usage(p, c, cached=None, write=None, reasoning=None):
    x = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    if cached is not None or write is not None:
        x["prompt_tokens_details"] = {}
        if cached is not None:
            x["prompt_tokens_details"]["cached_tokens"] = cached
        if write is not None:
            x["prompt_tokens_details"]["cache_write_tokens"] = write
    if reasoning is not None:
        x["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return x


# =====================================================================================
# T-series: §8 test vectors
# =====================================================================================

# T1
t1a = areq([{"role": "user", "content": "Hi"}], system="Be brief.")
for d in ("openrouter", "openai"):
    req_case(f"T01-plain-text-system-{d}", f"§8 T1: plain text request with a string system prompt ({d} dialect; openai uses max_completion_tokens).",
             t1a, oreq([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], dialect=d), dialect=d)

# T2
BILLING = "x-anthropic-billing-header: cc_version=2.1.88.a3f; cc_entrypoint=cli; cch=00000;"
t2sys = [{"type": "text", "text": BILLING},
         {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
         {"type": "text", "text": "Rules…"}]
t2a = areq([{"role": "user", "content": "Hi"}], system=t2sys)
req_case("T02-system-billing-header",
         "§8 T2 default: billing-header block dropped, remaining system texts joined with \\n\\n, cache_control stripped.",
         t2a, oreq([{"role": "system", "content": "You are Claude Code.\n\nRules…"}, {"role": "user", "content": "Hi"}]))
req_case("T02-system-billing-header-cache-mode",
         "§8 T2 cache mode: system becomes an array of text parts keeping cache_control; billing header still dropped. User content is a plain string so it stays a string.",
         t2a, oreq([{"role": "system", "content": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Rules…"}]},
                    {"role": "user", "content": "Hi"}]),
         options={"strip_billing_header": True, "cache_mode": True})

# T3
t3asst = {"role": "assistant", "content": [{"type": "text", "text": "Checking both."},
                                           {"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}},
                                           {"type": "tool_use", "id": "toolu_B", "name": "Read", "input": {"file_path": "/b"}}]}
t3a = areq([{"role": "user", "content": "Read /a and /b"}, t3asst,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "a-body"},
                                         {"type": "tool_result", "tool_use_id": "toolu_B", "content": "b-body"}]}], tools=[READ])
T3_O_ASST = {"role": "assistant", "content": "Checking both.", "tool_calls": [
    tc("toolu_A", "Read", "{\"file_path\":\"/a\"}"), tc("toolu_B", "Read", "{\"file_path\":\"/b\"}")]}
req_case("T03-assistant-text-two-tool-use",
         "§8 T3: assistant text + two tool_use → one assistant message with content string and two tool_calls (compact JSON arguments).",
         t3a, oreq([{"role": "user", "content": "Read /a and /b"}, T3_O_ASST,
                    {"role": "tool", "tool_call_id": "toolu_A", "content": "a-body"},
                    {"role": "tool", "tool_call_id": "toolu_B", "content": "b-body"}], tools=[FREAD]))

# T4
t4a = areq([{"role": "user", "content": "Read /a and /b"}, t3asst,
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "a-body"},
                                         {"type": "tool_result", "tool_use_id": "toolu_B", "content": [{"type": "text", "text": "b1"}, {"type": "text", "text": "b2"}]},
                                         {"type": "text", "text": "<system-reminder>x</system-reminder>"}]}], tools=[READ])
req_case("T04-tool-results-then-text",
         "§8 T4: two tool_results (string and text-block content joined with \\n) then trailing text → tool, tool, user (in that order).",
         t4a, oreq([{"role": "user", "content": "Read /a and /b"}, T3_O_ASST,
                    {"role": "tool", "tool_call_id": "toolu_A", "content": "a-body"},
                    {"role": "tool", "tool_call_id": "toolu_B", "content": "b1\nb2"},
                    {"role": "user", "content": "<system-reminder>x</system-reminder>"}], tools=[FREAD]))

# T5
t5a = areq([{"role": "user", "content": "Read /a"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}}]},
            {"role": "user", "content": [{"type": "text", "text": "note"}, {"type": "tool_result", "tool_use_id": "toolu_A", "content": "ok"}]}], tools=[READ])
req_case("T05-text-before-tool-result",
         "§8 T5: text placed before a tool_result in the same user turn is reordered: tool message first, then the user text. Assistant with only tool calls has content null.",
         t5a, oreq([{"role": "user", "content": "Read /a"},
                    {"role": "assistant", "content": None, "tool_calls": [tc("toolu_A", "Read", "{\"file_path\":\"/a\"}")]},
                    {"role": "tool", "tool_call_id": "toolu_A", "content": "ok"},
                    {"role": "user", "content": "note"}], tools=[FREAD]))

# T6
t6a = areq([{"role": "user", "content": "Read /c and /d"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_C", "name": "Read", "input": {"file_path": "/c"}},
                                              {"type": "tool_use", "id": "toolu_D", "name": "Read", "input": {"file_path": "/d"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_C", "is_error": True, "content": "File not found"},
                                         {"type": "tool_result", "tool_use_id": "toolu_D"}]}], tools=[READ])
req_case("T06-tool-result-error-and-missing-content",
         "§8 T6: is_error tool_result gets the \"Error: \" prefix; a tool_result without content becomes \"\".",
         t6a, oreq([{"role": "user", "content": "Read /c and /d"},
                    {"role": "assistant", "content": None, "tool_calls": [tc("toolu_C", "Read", "{\"file_path\":\"/c\"}"), tc("toolu_D", "Read", "{\"file_path\":\"/d\"}")]},
                    {"role": "tool", "tool_call_id": "toolu_C", "content": "Error: File not found"},
                    {"role": "tool", "tool_call_id": "toolu_D", "content": ""}], tools=[FREAD]))

# T7
SHOT = tool("Screenshot", "Take a screenshot", {"type": "object", "properties": {}})
t7a = areq([{"role": "user", "content": "Take a screenshot"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_S", "name": "Screenshot", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_S", "content": [
                {"type": "text", "text": "screenshot"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}]}]}], tools=[SHOT])
req_case("T07-tool-result-image",
         "§8 T7: tool_result with text + image → tool message with the text, then a user message carrying the image with a label part. Empty input → arguments \"{}\".",
         t7a, oreq([{"role": "user", "content": "Take a screenshot"},
                    {"role": "assistant", "content": None, "tool_calls": [tc("toolu_S", "Screenshot", "{}")]},
                    {"role": "tool", "tool_call_id": "toolu_S", "content": "screenshot"},
                    {"role": "user", "content": [{"type": "text", "text": "[image output of tool call toolu_S]"},
                                                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}]}],
                   tools=[ftool("Screenshot", "Take a screenshot", {"type": "object", "properties": {}})]))

# T8
t8a = areq([{"role": "user", "content": [{"type": "text", "text": "What is in these?"},
                                         {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4A"}},
                                         {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}])
req_case("T08-user-images",
         "§8 T8: base64 and url images in a user turn → image_url parts; content stays an array.",
         t8a, oreq([{"role": "user", "content": [{"type": "text", "text": "What is in these?"},
                                                 {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4A"}},
                                                 {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]))

# T9
t9a = areq([{"role": "user", "content": [{"type": "document", "title": "spec.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}},
                                         {"type": "text", "text": "Summarize"}]}])
req_case("T09-pdf-document",
         "§8 T9: base64 PDF document → file part with filename = title and a data URL.",
         t9a, oreq([{"role": "user", "content": [{"type": "file", "file": {"filename": "spec.pdf", "file_data": "data:application/pdf;base64,JVBER"}},
                                                 {"type": "text", "text": "Summarize"}]}]))

# T10
WEATHER = tool("weather", "Get weather", {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]})
FWEATHER = ftool("weather", "Get weather", {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]})
t10a = areq([{"role": "user", "content": "Weather in Florence?"},
             {"role": "assistant", "content": [{"type": "thinking", "thinking": "plan", "signature": "EqQB"},
                                               {"type": "tool_use", "id": "toolu_W", "name": "weather", "input": {"location": "Florence"}}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_W", "content": "Sunny"}]}], tools=[WEATHER])
W_CALL = tc("toolu_W", "weather", "{\"location\":\"Florence\"}")
req_case("T10-thinking-history-openrouter",
         "§8 T10 OpenRouter: signed thinking block in history → reasoning + reasoning_details (reasoning.text, anthropic-claude-v1, index 0); content null.",
         t10a, oreq([{"role": "user", "content": "Weather in Florence?"},
                     {"role": "assistant", "content": None, "reasoning": "plan",
                      "reasoning_details": [{"type": "reasoning.text", "text": "plan", "signature": "EqQB", "format": "anthropic-claude-v1", "index": 0}],
                      "tool_calls": [W_CALL]},
                     {"role": "tool", "tool_call_id": "toolu_W", "content": "Sunny"}], tools=[FWEATHER]))
req_case("T10-thinking-history-openai",
         "§8 T10 generic OpenAI-compatible: thinking dropped entirely (no reasoning / reasoning_details).",
         t10a, oreq([{"role": "user", "content": "Weather in Florence?"},
                     {"role": "assistant", "content": None, "tool_calls": [W_CALL]},
                     {"role": "tool", "tool_call_id": "toolu_W", "content": "Sunny"}], dialect="openai", tools=[FWEATHER]), dialect="openai")

# T11
ENC = {"type": "reasoning.encrypted", "data": "gAAAAB_opaque_blob", "format": "openai-responses-v1", "index": 0, "id": "rs_1"}
SUMM = {"type": "reasoning.summary", "summary": "Plan the arithmetic", "format": "openai-responses-v1", "index": 0, "id": "rs_1"}
resp_case("T11-codec-round-trip-response",
          "§8 T11 response half: non-Anthropic reasoning.encrypted detail → redacted_thinking whose data is \"gw1:\"+base64(JSON(detail)). The exact base64 depends on the encoder's key order/whitespace, so only the gw1: prefix is asserted here; the request half (T11-codec-round-trip-request) checks the decoded object exactly.",
          oresp({"content": "The answer is 4.", "reasoning": None, "reasoning_details": [ENC]}, usage=usage(50, 30)),
          aresp([{"type": "redacted_thinking", "data": "<contains:gw1:>"}, {"type": "text", "text": "The answer is 4."}], "end_turn", u(50, 30)))
t11a = areq([{"role": "user", "content": "What is 2+2?"},
             {"role": "assistant", "content": [{"type": "thinking", "thinking": "Plan the arithmetic", "signature": "gw1:" + b64j(SUMM)},
                                               {"type": "redacted_thinking", "data": "gw1:" + b64j(ENC)},
                                               {"type": "text", "text": "The answer is 4."}]},
             {"role": "user", "content": "Thanks. And 3+3?"}])
req_case("T11-codec-round-trip-request",
         "§8 T11 request half: thinking with gw1: signature and redacted_thinking with gw1: data are decoded and the original detail objects emitted verbatim (their own index values) in reasoning_details; reasoning = thinking text.",
         t11a, oreq([{"role": "user", "content": "What is 2+2?"},
                     {"role": "assistant", "content": "The answer is 4.", "reasoning": "Plan the arithmetic", "reasoning_details": [SUMM, ENC]},
                     {"role": "user", "content": "Thanks. And 3+3?"}]))

# T12
BASH_SCHEMA = {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}
BASH = tool("Bash", "run", BASH_SCHEMA)
FBASH = ftool("Bash", "run", BASH_SCHEMA)
req_case("T12-tools-tool-choice-any-no-parallel",
         "§8 T12: tools → function tools, tool_choice any → \"required\", disable_parallel_tool_use → parallel_tool_calls false.",
         areq([{"role": "user", "content": "list files"}], tools=[BASH], tool_choice={"type": "any", "disable_parallel_tool_use": True}),
         oreq([{"role": "user", "content": "list files"}], tools=[FBASH], tool_choice="required", parallel_tool_calls=False))

# T13
req_case("T13-tool-choice-tool",
         "§8 T13: tool_choice {type:tool,name} → {type:function,function:{name}}.",
         areq([{"role": "user", "content": "list files"}], tools=[BASH], tool_choice={"type": "tool", "name": "Bash"}),
         oreq([{"role": "user", "content": "list files"}], tools=[FBASH], tool_choice={"type": "function", "function": {"name": "Bash"}}))
req_case("T13-tool-choice-none",
         "§8 T13: tool_choice none → \"none\", tools kept.",
         areq([{"role": "user", "content": "list files"}], tools=[BASH], tool_choice={"type": "none"}),
         oreq([{"role": "user", "content": "list files"}], tools=[FBASH], tool_choice="none"))
req_case("T13-tool-choice-auto-no-tools",
         "§8 T13: tool_choice auto (with disable_parallel_tool_use) but no tools → neither tool_choice nor parallel_tool_calls nor tools emitted.",
         areq([{"role": "user", "content": "hello"}], tool_choice={"type": "auto", "disable_parallel_tool_use": True}),
         oreq([{"role": "user", "content": "hello"}]))

# T14
LONG = "mcp__very_long_server_name__" + "x" * 60
assert len(LONG) == 88
ALIAS = LONG[:55] + "_" + sha(LONG)[:8]
assert len(ALIAS) == 64
LSCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}}
t14a = areq([{"role": "user", "content": "search"}], tools=[tool(LONG, "long", LSCHEMA)], tool_choice={"type": "tool", "name": LONG})
req_case("T14-long-tool-name-request",
         "§8 T14: 88-char tool name → name[:55] + \"_\" + sha256(name)[:8] in tools and in tool_choice.",
         t14a, oreq([{"role": "user", "content": "search"}], tools=[ftool(ALIAS, "long", LSCHEMA)],
                    tool_choice={"type": "function", "function": {"name": ALIAS}}))
t14ctx = areq([{"role": "user", "content": "search"}], tools=[tool(LONG, "long", LSCHEMA)])
resp_case("T14-long-tool-name-response",
          "§8 T14: a response tool call using the alias is mapped back to the original 88-char name (alias map built from the request's tools).",
          oresp({"content": None, "tool_calls": [tc("call_L1", ALIAS, "{\"q\":\"cats\"}")]}, finish="tool_calls", usage=usage(80, 12)),
          aresp([{"type": "tool_use", "id": "call_L1", "name": LONG, "input": {"q": "cats"}}], "tool_use", u(80, 12)),
          request=t14ctx)
stream_case("T14-long-tool-name-stream",
            "§8 T14 streaming variant: content_block_start carries the original 88-char name.",
            sse(chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_L1", "type": "function", "function": {"name": ALIAS, "arguments": ""}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"q\":\"cats\"}"}}]}),
                chunk({}, finish="tool_calls", usage=usage(80, 12))),
            [e_start(), e_tool(0, "call_L1", LONG), e_js(0, "{\"q\":\"cats\"}"), e_stop(0), e_md("tool_use", 80, 12), e_end()],
            request=dict(t14ctx, stream=True))

# T15
req_case("T15-server-tool-filtered",
         "§8 T15: server tool (web_search_20250305) dropped; only the custom Read tool is forwarded.",
         areq([{"role": "user", "content": "find it"}], tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}, READ]),
         oreq([{"role": "user", "content": "find it"}], tools=[FREAD]))

# T16
t16a = areq([{"role": "user", "content": "Think hard."}], max_tokens=32000, thinking={"type": "enabled", "budget_tokens": 10000})
req_case("T16-thinking-budget-10000-openrouter", "§8 T16: enabled budget 10000 → reasoning {max_tokens:10000}.",
         t16a, oreq([{"role": "user", "content": "Think hard."}], max_tokens=32000, reasoning={"max_tokens": 10000}))
req_case("T16-thinking-budget-10000-openai", "§8 T16: enabled budget 10000 → reasoning_effort high (> 8192).",
         t16a, oreq([{"role": "user", "content": "Think hard."}], dialect="openai", max_tokens=32000, reasoning_effort="high"), dialect="openai")
for b, eff in ((1024, "low"), (4096, "medium")):
    req_case(f"T16-thinking-budget-{b}-openai", f"§8 T16: enabled budget {b} → reasoning_effort {eff}.",
             areq([{"role": "user", "content": "Think."}], max_tokens=32000, thinking={"type": "enabled", "budget_tokens": b}),
             oreq([{"role": "user", "content": "Think."}], dialect="openai", max_tokens=32000, reasoning_effort=eff), dialect="openai")
t16ad = areq([{"role": "user", "content": "Think."}], max_tokens=32000, thinking={"type": "adaptive"}, output_config={"effort": "max"})
req_case("T16-thinking-adaptive-max-openrouter", "§8 T16: adaptive + output_config.effort max → reasoning {effort:xhigh}.",
         t16ad, oreq([{"role": "user", "content": "Think."}], max_tokens=32000, reasoning={"effort": "xhigh"}))
req_case("T16-thinking-adaptive-max-openai", "§2.10/T16: adaptive + effort max → reasoning_effort xhigh (openai dialect).",
         t16ad, oreq([{"role": "user", "content": "Think."}], dialect="openai", max_tokens=32000, reasoning_effort="xhigh"), dialect="openai")

# T17
UID = "user_abc_account_x_session_y"
t17a = areq([{"role": "user", "content": "Hi"}], stop_sequences=["END"], top_k=40, temperature=0.2, metadata={"user_id": UID})
req_case("T17-sampling-metadata-openrouter", "§8 T17: stop, top_k, temperature passed; user = sha256 hex of metadata.user_id.",
         t17a, oreq([{"role": "user", "content": "Hi"}], stop=["END"], top_k=40, temperature=0.2, user=sha(UID)))
req_case("T17-sampling-metadata-openai", "§8 T17 openai dialect: top_k dropped, safety_identifier = sha256 hex of metadata.user_id.",
         t17a, oreq([{"role": "user", "content": "Hi"}], dialect="openai", stop=["END"], temperature=0.2, safety_identifier=sha(UID)), dialect="openai")

# T18
case("T18-max-tokens-zero", "request",
     "§8 T18: max_tokens 0 → no upstream call; answered locally with empty content, stop_reason max_tokens, estimated input_tokens.",
     {"anthropic.request.json": areq([{"role": "user", "content": "warm the cache"}], max_tokens=0, system="You are Claude Code."),
      "expected.local.json": aresp([], "max_tokens", u("<int>", 0))})

# T19
resp_case("T19-response-text-two-tools-cached-usage",
          "§8 T19: text + two tool calls; usage input = prompt - cached - written.",
          oresp({"content": "Reading.", "tool_calls": [tc("call_1", "Read", "{\"file_path\":\"/a\"}"), tc("call_2", "Read", "{\"file_path\":\"/b\"}")]},
                finish="tool_calls", usage=usage(1200, 40, cached=1000, write=0)),
          aresp([{"type": "text", "text": "Reading."},
                 {"type": "tool_use", "id": "call_1", "name": "Read", "input": {"file_path": "/a"}},
                 {"type": "tool_use", "id": "call_2", "name": "Read", "input": {"file_path": "/b"}}], "tool_use", u(200, 40, 0, 1000)),
          request=areq([{"role": "user", "content": "Read /a and /b"}], tools=[READ]))

# T20
CALC = tool("calc", "calc", {"type": "object", "properties": {"a": {"type": "number"}}})
ctx_calc = areq([{"role": "user", "content": "calc"}], tools=[CALC])


def args_case(name, desc, args, expected_input):
    resp_case(name, desc, oresp({"content": None, "tool_calls": [tc("call_x", "calc", args)]}, finish="tool_calls", usage=usage(30, 5)),
              aresp([{"type": "tool_use", "id": "call_x", "name": "calc", "input": expected_input}], "tool_use", u(30, 5)), request=ctx_calc)


args_case("T20-args-truncated-repaired", "§8 T20: arguments '{\"a\": 1,' — light repair (drop trailing comma, close brace) yields {\"a\":1}.", "{\"a\": 1,", {"a": 1})
args_case("T20-args-double-encoded", "§8 T20: double-encoded arguments string → parsed inner object.", "\"{\\\"a\\\":1}\"", {"a": 1})
args_case("T20-args-empty", "§8 T20: empty arguments → {}.", "", {})
args_case("T20-args-array", "§8 T20: non-object JSON (array) → {\"value\": [1,2]}.", "[1,2]", {"value": [1, 2]})

# T21
resp_case("T21-response-reasoning-with-signature",
          "§8 T21: reasoning_details reasoning.text with anthropic signature → thinking block with that signature, before tool_use; reasoning string not duplicated.",
          oresp({"content": None, "reasoning": "R",
                 "reasoning_details": [{"type": "reasoning.text", "text": "R", "format": "anthropic-claude-v1", "index": 0, "signature": "EvgC"}],
                 "tool_calls": [tc("toolu_bdrk_01Af", "weather", "{\"location\": \"Florence, Italy\"}")]}, finish="tool_calls", native="tool_use", usage=usage(500, 60)),
          aresp([{"type": "thinking", "thinking": "R", "signature": "EvgC"},
                 {"type": "tool_use", "id": "toolu_bdrk_01Af", "name": "weather", "input": {"location": "Florence, Italy"}}], "tool_use", u(500, 60)),
          request=areq([{"role": "user", "content": "Weather?"}], tools=[WEATHER]))
resp_case("T21-response-reasoning-content-only",
          "§8 T21 variant: only reasoning_content → thinking block with signature \"\".",
          oresp({"content": None, "reasoning_content": "R",
                 "tool_calls": [tc("toolu_bdrk_01Af", "weather", "{\"location\": \"Florence, Italy\"}")]}, finish="tool_calls", usage=usage(500, 60)),
          aresp([{"type": "thinking", "thinking": "R", "signature": ""},
                 {"type": "tool_use", "id": "toolu_bdrk_01Af", "name": "weather", "input": {"location": "Florence, Italy"}}], "tool_use", u(500, 60)),
          request=areq([{"role": "user", "content": "Weather?"}], tools=[WEATHER]), dialect="openai")

# T22
ctx_bash = areq([{"role": "user", "content": "list"}], tools=[BASH])
resp_case("T22-finish-length-with-tool-call", "§8 T22: finish_reason length with a tool call → max_tokens (length beats the tool rule).",
          oresp({"content": None, "tool_calls": [tc("call_b", "Bash", "{\"command\":\"ls\"}")]}, finish="length", usage=usage(40, 10)),
          aresp([{"type": "tool_use", "id": "call_b", "name": "Bash", "input": {"command": "ls"}}], "max_tokens", u(40, 10)), request=ctx_bash)
resp_case("T22-finish-stop-with-tool-call", "§8 T22: finish_reason stop with a tool call → tool_use.",
          oresp({"content": None, "tool_calls": [tc("call_b", "Bash", "{\"command\":\"ls\"}")]}, finish="stop", usage=usage(40, 10)),
          aresp([{"type": "tool_use", "id": "call_b", "name": "Bash", "input": {"command": "ls"}}], "tool_use", u(40, 10)), request=ctx_bash)
resp_case("T22-finish-content-filter", "§8 T22: content_filter → refusal.",
          oresp({"content": "I was going to"}, finish="content_filter", usage=usage(40, 4)),
          aresp([{"type": "text", "text": "I was going to"}], "refusal", u(40, 4)))
resp_case("T22-message-refusal", "§8 T22: message.refusal → text block with the refusal text, stop_reason refusal.",
          oresp({"content": None, "refusal": "I can't"}, finish="stop", usage=usage(40, 3)),
          aresp([{"type": "text", "text": "I can't"}], "refusal", u(40, 3)), dialect="openai")
resp_case("T22-finish-missing-no-tools", "§8 T22: finish_reason null and no tool calls → end_turn.",
          oresp({"content": "Hello."}, finish=None, usage=usage(10, 2)),
          aresp([{"type": "text", "text": "Hello."}], "end_turn", u(10, 2)))
resp_case("T22-native-stop-sequence", "§8 T22: finish stop + native_finish_reason stop_sequence + exactly one requested stop sequence → stop_sequence \"END\".",
          oresp({"content": "1 2 3 "}, finish="stop", native="stop_sequence", usage=usage(15, 6)),
          aresp([{"type": "text", "text": "1 2 3 "}], "stop_sequence", u(15, 6), stop_sequence="END"),
          request=areq([{"role": "user", "content": "count"}], stop_sequences=["END"]))

# T23
resp_case("T23-empty-output-null", "§8 T23: content null + stop → content [], end_turn.",
          oresp({"content": None}, finish="stop", usage=usage(10, 0)), aresp([], "end_turn", u(10, 0)))
resp_case("T23-empty-output-empty-string", "§8 T23: content \"\" → content [] (never an empty text block).",
          oresp({"content": ""}, finish="stop", usage=usage(10, 0)), aresp([], "end_turn", u(10, 0)))

# T24
resp_case("T24-leading-whitespace", "§8 T24: OpenRouter body with leading whitespace/newlines parses fine (raw bytes in openai.response.txt).",
          None, aresp([{"type": "text", "text": "Hello!"}], "end_turn", u(9, 3)),
          raw_text="\n         \n\n" + json.dumps(oresp({"content": "Hello!"}, usage=usage(9, 3))))
resp_case("T24-200-with-error-body", "§8 T24: HTTP 200 whose body is an OpenRouter error with code 502 → HTTP 529 overloaded_error.",
          {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "TestProvider", "raw": "upstream exploded"}}},
          err(529, "overloaded_error", "Provider returned error"), upstream_meta={"status": 200})

# T25
stream_case("T25-stream-text-trailing-usage",
            "§8 T25: text-only stream with OpenAI-style trailing usage chunk (choices []); the empty first content creates no block; exactly one message_delta after the usage chunk.",
            sse(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}), chunk({"content": "lo"}),
                chunk({}, finish="stop"), chunk(choices=False, usage=usage(12, 2))),
            [e_start(), e_text(0), e_td(0, "Hel"), e_td(0, "lo"), e_stop(0), e_md("end_turn", 12, 2), e_end()], dialect="openai")

# T26
EDIT_SCHEMA = {"type": "object", "properties": {"file_path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}}}
frags = ["{\"fi", "le_path\": \"/x", "\", \"old\": ", "\"a\", \"new\": \"b", "\"}"]
assert json.loads("".join(frags)) == {"file_path": "/x", "old": "a", "new": "b"}
stream_case("T26-stream-tool-call-fragments",
            "§8 T26: one tool call whose arguments arrive in 5 fragments → 5 input_json_delta events with the exact strings.",
            sse(chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "Edit", "arguments": ""}}]}),
                *[chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}) for f in frags],
                chunk({}, finish="tool_calls"), chunk(choices=False, usage=usage(300, 25))),
            [e_start(), e_tool(0, "call_9", "Edit")] + [e_js(0, f) for f in frags] + [e_stop(0), e_md("tool_use", 300, 25), e_end()],
            request=areq([{"role": "user", "content": "edit"}], tools=[tool("Edit", "edit", EDIT_SCHEMA)], stream=True), dialect="openai")

# §4.5 worked example + T27
ADD = tool("add", "add", {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}})
MUL = tool("multiply", "multiply", {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}})
ctx_math = areq([{"role": "user", "content": "Add and multiply 2 and 3"}], tools=[ADD, MUL], stream=True)
U45 = {"prompt_tokens": 685, "completion_tokens": 120, "total_tokens": 805, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}}


def math_chunks(first_role):
    d0 = {"tool_calls": [{"index": 0, "id": "toolu_bdrk_01L6", "type": "function", "function": {"name": "add", "arguments": ""}}]}
    if first_role:
        d0 = {"content": None, "role": "assistant", **d0}
    return [chunk(d0),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\": 2"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": ", \"b\": 3}"}}]}),
            chunk({"tool_calls": [{"index": 1, "id": "toolu_bdrk_014p", "type": "function", "function": {"name": "multiply", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{\"a\": 2, \"b\": 3}"}}]}),
            chunk({"content": "", "role": "assistant"}, finish="tool_calls", native="tool_use"),
            chunk({"content": "", "role": "assistant"}, finish="tool_calls", native="tool_use", usage=U45)]


def math_events(base):
    return [e_tool(base, "toolu_bdrk_01L6", "add"), e_js(base, "{\"a"), e_js(base, "\": 2"), e_js(base, ", \"b\": 3}"), e_stop(base),
            e_tool(base + 1, "toolu_bdrk_014p", "multiply"), e_js(base + 1, "{\"a\": 2, \"b\": 3}"), e_stop(base + 1),
            e_md("tool_use", 685, 120), e_end()]


WORKED_NAME = "X01-worked-example-4-5-multi-tool-stream"
stream_case(WORKED_NAME,
            "§4.5 worked example: OpenRouter multi-tool stream with leading comment, repeated finish chunk (second carries usage) → two tool_use blocks, one message_delta.",
            sse(COMMENT, *math_chunks(True)), [e_start()] + math_events(0), request=ctx_math)
stream_case("T27-stream-text-then-parallel-tools-repeated-finish",
            "§8 T27: text then two parallel tool calls, OpenRouter repeated finish chunk → text block 0, tool_use 1 and 2, exactly one message_delta with the repeated chunk's usage.",
            sse(COMMENT, chunk({"role": "assistant", "content": "I'll add and multiply."}), *math_chunks(False)),
            [e_start(), e_text(0), e_td(0, "I'll add and multiply."), e_stop(0)] + math_events(1), request=ctx_math)

# T28
RD = lambda **k: dict({"type": "reasoning.text"}, **k)
stream_case("T28-stream-reasoning-signature-tool",
            "§8 T28: reasoning (both reasoning and reasoning_details carry the same text; consumed once) → signature chunk → tool call; usage inline on the finish chunk.",
            sse(COMMENT,
                chunk({"role": "assistant", "content": "", "reasoning": "The user", "reasoning_details": [RD(text="The user", format="anthropic-claude-v1", index=0)]}),
                chunk({"content": "", "reasoning": " asks", "reasoning_details": [RD(text=" asks", format="anthropic-claude-v1", index=0)]}),
                chunk({"content": "", "reasoning_details": [RD(signature="Eq0E", format="anthropic-claude-v1", index=0)]}),
                chunk({"content": None, "tool_calls": [{"index": 0, "id": "toolu_bdrk_01Af", "type": "function", "function": {"name": "weather", "arguments": ""}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"location\": "}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"Florence\"}"}}]}),
                chunk({"content": "", "role": "assistant"}, finish="tool_calls", native="tool_use", usage=usage(500, 80, cached=0, write=0, reasoning=20))),
            [e_start(), e_think(0), e_thd(0, "The user"), e_thd(0, " asks"), e_sig(0, "Eq0E"), e_stop(0),
             e_tool(1, "toolu_bdrk_01Af", "weather"), e_js(1, "{\"location\": "), e_js(1, "\"Florence\"}"), e_stop(1),
             e_md("tool_use", 500, 80), e_end()],
            request=areq([{"role": "user", "content": "Weather in Florence?"}], max_tokens=4096, tools=[WEATHER], thinking={"type": "enabled", "budget_tokens": 2048}, stream=True))

# T29
stream_case("T29-stream-length-mid-tool-call",
            "§8 T29: finish_reason length in the middle of a tool call → block closed as is, stop_reason max_tokens (not tool_use).",
            sse(chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_L", "type": "function", "function": {"name": "Bash", "arguments": ""}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"command\": \"ls -la /very/lo"}}]}),
                chunk({}, finish="length", usage=usage(60, 16))),
            [e_start(), e_tool(0, "call_L", "Bash"), e_js(0, "{\"command\": \"ls -la /very/lo"), e_stop(0), e_md("max_tokens", 60, 16), e_end()],
            request=dict(ctx_bash, stream=True))
resp_case("T29-response-length-mid-tool-call",
          "§8 T29 non-stream equivalent: truncated arguments with finish length → tool_use (input {} or repaired: asserted as <any>) and stop_reason max_tokens.",
          oresp({"content": None, "tool_calls": [tc("call_L", "Bash", "{\"command\": \"ls -la /very/lo")]}, finish="length", usage=usage(60, 16)),
          aresp([{"type": "tool_use", "id": "call_L", "name": "Bash", "input": "<any>"}], "max_tokens", u(60, 16)), request=ctx_bash)

# T30
stream_case("T30-stream-keepalive-comments",
            "§8 T30: OpenRouter comment lines before the first data line (ignored) and between data lines (pings, excluded from the expected events).",
            sse(COMMENT, COMMENT, chunk({"role": "assistant", "content": "Hi"}), COMMENT, chunk({"content": " there"}), COMMENT,
                chunk({}, finish="stop", native="end_turn", usage=usage(20, 3)), COMMENT),
            [e_start(), e_text(0), e_td(0, "Hi"), e_td(0, " there"), e_stop(0), e_md("end_turn", 20, 3), e_end()])

# T31
stream_case("T31-stream-mid-stream-error",
            "§8 T31: after text deltas a chunk carries error {code:502} and finish_reason error → SSE error event overloaded_error, nothing after it (no content_block_stop, no message_delta/message_stop). Upstream closes without [DONE].",
            sse(chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"}), chunk({"content": "lo"}),
                {"id": "gen-x", "object": "chat.completion.chunk", "error": {"code": 502, "message": "Provider disconnected"},
                 "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}, done=False),
            [e_start(), e_text(0), e_td(0, "Hel"), e_td(0, "lo"), e_err("overloaded_error", "Provider disconnected")])

# T32
stream_case("T32-stream-429-before-first-token",
            "§8 T32: upstream HTTP 429 with Retry-After before streaming → plain HTTP 429 rate_limit_error with retry-after copied (openai.sse holds the upstream JSON error body).",
            json.dumps({"error": {"code": 429, "message": "Rate limit exceeded"}}),
            error=err(429, "rate_limit_error", "Rate limit exceeded", {"retry-after": "20"}),
            upstream_meta={"status": 429, "headers": {"retry-after": "20", "content-type": "application/json"}})
stream_case("T32-stream-error-first-data-event",
            "§8 T32: HTTP 200 but the first data event carries error code 429 → nothing committed, plain HTTP 429 rate_limit_error.",
            sse(COMMENT, {"error": {"code": 429, "message": "Rate limit exceeded"}}, done=False),
            error=err(429, "rate_limit_error", "Rate limit exceeded"))

# T33
stream_case("T33-stream-eof-without-finish",
            "§8 T33: text deltas then TCP close without finish_reason or [DONE] → SSE error api_error \"upstream stream ended before completion\", no message_stop.",
            sse(chunk({"role": "assistant", "content": "Partial"}), chunk({"content": " answ"}), done=False),
            [e_start(), e_text(0), e_td(0, "Partial"), e_td(0, " answ"), e_err("api_error", "ended before completion")])

# T34
GREP = tool("Grep", "grep", {"type": "object", "properties": {"q": {"type": "number"}}})
READP = tool("Read", "read", {"type": "object", "properties": {"p": {"type": "number"}}})
stream_case("T34-stream-reused-tool-index",
            "§8 T34: provider reuses tool index 0 for a second call with a different id → two tool_use blocks.",
            sse(chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "Read", "arguments": "{\"p\":1}"}}]}),
                chunk({"tool_calls": [{"index": 0, "id": "call_b", "type": "function", "function": {"name": "Grep", "arguments": "{\"q\":2}"}}]}),
                chunk({}, finish="tool_calls", usage=usage(70, 20))),
            [e_start(), e_tool(0, "call_a", "Read"), e_js(0, "{\"p\":1}"), e_stop(0), e_tool(1, "call_b", "Grep"), e_js(1, "{\"q\":2}"), e_stop(1),
             e_md("tool_use", 70, 20), e_end()],
            request=areq([{"role": "user", "content": "go"}], tools=[READP, GREP], stream=True), dialect="openai")

# T35
stream_case("T35-stream-args-before-name",
            "§8 T35: arguments arrive before the name and no id is ever sent → block opened when the name arrives, generated toolu_ id, buffered fragment flushed first.",
            sse(chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"name": "Calc", "arguments": "1}"}}]}),
                chunk({}, finish="tool_calls", usage=usage(33, 7))),
            [e_start(), e_tool(0, "<toolu_id>", "Calc"), e_js(0, "{\"x\":"), e_js(0, "1}"), e_stop(0), e_md("tool_use", 33, 7), e_end()],
            request=areq([{"role": "user", "content": "calc"}], tools=[tool("Calc", "calc", {"type": "object", "properties": {"x": {"type": "number"}}})], stream=True),
            dialect="openai")

# T36
CTX_ERR = {"error": {"message": "This model's maximum context length is 128000 tokens. However, you requested 140512 tokens (136416 in the messages, 4096 in the completion). Please reduce the length of the messages or completion.",
                     "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
resp_case("T36-context-length-error-rewrite",
          "§8 T36: upstream 400 context_length_exceeded → 400 invalid_request_error \"prompt is too long: 140512 tokens > 128000 maximum\".",
          CTX_ERR, err(400, "invalid_request_error", "prompt is too long: 140512 tokens > 128000 maximum"),
          upstream_meta={"status": 400}, dialect="openai")
stream_case("T36-context-length-error-rewrite-stream",
            "§8 T36 for a streamed request: upstream 400 before streaming → plain HTTP 400 with the Anthropic wording.",
            json.dumps(CTX_ERR), error=err(400, "invalid_request_error", "prompt is too long: 140512 tokens > 128000 maximum"),
            upstream_meta={"status": 400, "headers": {"content-type": "application/json"}}, dialect="openai")

# T40
t40a = areq([{"role": "user", "content": "Read /a and /b"}, t3asst,
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "a-body"},
                                          {"type": "text", "text": "continue"}]}], tools=[READ])
req_case("T40-pairing-repair",
         "§8 T40: tool_result for toolu_B missing → placeholder tool message inserted right after the toolu_A tool message, before the user text.",
         t40a, oreq([{"role": "user", "content": "Read /a and /b"}, T3_O_ASST,
                     {"role": "tool", "tool_call_id": "toolu_A", "content": "a-body"},
                     {"role": "tool", "tool_call_id": "toolu_B", "content": "(no result: tool call was interrupted)"},
                     {"role": "user", "content": "continue"}], tools=[FREAD]))

# =====================================================================================
# X-series: extras
# =====================================================================================
XN = [1]


def X(slug):
    XN[0] += 1
    return f"X{XN[0]:02d}-{slug}"


HI = [{"role": "user", "content": "Hi"}]

# ---- request validation
err_case(X("invalid-unknown-block-type"), "Unknown content block type \"foo\" → 400 naming messages.0.content.0.type (message should also name \"foo\").",
         areq([{"role": "user", "content": [{"type": "foo", "text": "x"}]}]), "messages.0.content.0.type")
err_case(X("invalid-missing-max-tokens"), "max_tokens missing → 400.", {"model": CM, "messages": HI}, "max_tokens")
err_case(X("invalid-negative-max-tokens"), "max_tokens -1 → 400.", areq(HI, max_tokens=-1), "max_tokens")
err_case(X("invalid-max-tokens-string"), "max_tokens \"1024\" (string) → 400.", areq(HI, max_tokens="1024"), "max_tokens")
err_case(X("invalid-max-tokens-fractional"), "max_tokens 10.5 → 400 (§1.4: fractional rejected).", areq(HI, max_tokens=10.5), "max_tokens")
err_case(X("invalid-max-tokens-null"), "max_tokens null → 400 (§1.4).", areq(HI, max_tokens=None), "max_tokens")
err_case(X("invalid-messages-empty"), "messages [] → 400.", areq([]), "messages")
err_case(X("invalid-role-robot"), "message role \"robot\" → 400 naming messages.0.role.", areq([{"role": "robot", "content": "Hi"}]), "messages.0.role")
err_case(X("invalid-tool-use-without-id"), "assistant tool_use without id → 400 naming messages.1.content.0.id.",
         areq([{"role": "user", "content": "go"}, {"role": "assistant", "content": [{"type": "tool_use", "name": "Read", "input": {}}]}], tools=[READ]),
         "messages.1.content.0.id")
err_case(X("invalid-tool-result-without-tool-use-id"), "tool_result without tool_use_id → 400 naming messages.2.content.0.tool_use_id.",
         areq([{"role": "user", "content": "go"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}}]},
               {"role": "user", "content": [{"type": "tool_result", "content": "ok"}]}], tools=[READ]),
         "messages.2.content.0.tool_use_id")
err_case(X("invalid-temperature-out-of-range"), "temperature 1.5 (Anthropic range 0–1) → 400.", areq(HI, temperature=1.5), "temperature")
err_case(X("invalid-temperature-string"), "temperature \"0.5\" (string) → 400.", areq(HI, temperature="0.5"), "temperature")
err_case(X("invalid-stream-string"), "stream \"yes\" → 400.", areq(HI, stream="yes"), "stream")
err_case(X("invalid-tool-without-name"), "tools[0] without name → 400 naming tools.0.name.",
         areq(HI, tools=[{"description": "d", "input_schema": {"type": "object", "properties": {}}}]), "tools.0.name")
err_case(X("invalid-tool-choice-type"), "tool_choice type \"sometimes\" → 400 naming tool_choice.type.",
         areq(HI, tools=[READ], tool_choice={"type": "sometimes"}), "tool_choice.type")
err_case(X("invalid-stop-sequence-number"), "stop_sequences [42] → 400 naming stop_sequences.0.", areq(HI, stop_sequences=[42]), "stop_sequences.0")
err_case(X("invalid-image-source-file-path"), "image source type \"file_path\" → 400 naming messages.0.content.0.source.type.",
         areq([{"role": "user", "content": [{"type": "image", "source": {"type": "file_path", "path": "/tmp/a.png"}}]}]),
         "messages.0.content.0.source.type")
err_case(X("invalid-model-empty"), "model \"\" → 400.", {"model": "", "max_tokens": 1024, "messages": HI}, "model")
err_case(X("invalid-thinking-budget-too-small"), "thinking enabled with budget_tokens 10 (< 1024) → 400.",
         areq(HI, thinking={"type": "enabled", "budget_tokens": 10}), "thinking.budget_tokens")
err_case(X("invalid-system-number"), "system 42 → 400.", areq(HI, system=42), "system")

# ---- accepted oddities
TODO = tool("TodoWrite", "todos", {"type": "object", "properties": {"todos": {"type": "array"}}})
req_case(X("tool-id-functions-colon"),
         "§2.11: Kimi-style tool id functions.TodoWrite:0 accepted and forwarded unchanged (tool_calls[].id and tool_call_id).",
         areq([{"role": "user", "content": "plan"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "functions.TodoWrite:0", "name": "TodoWrite", "input": {"todos": [{"content": "a", "status": "pending"}]}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "functions.TodoWrite:0", "content": "ok"}]}], tools=[TODO]),
         oreq([{"role": "user", "content": "plan"},
               {"role": "assistant", "content": None, "tool_calls": [tc("functions.TodoWrite:0", "TodoWrite", "{\"todos\":[{\"content\":\"a\",\"status\":\"pending\"}]}")]},
               {"role": "tool", "tool_call_id": "functions.TodoWrite:0", "content": "ok"}],
              tools=[ftool("TodoWrite", "todos", {"type": "object", "properties": {"todos": {"type": "array"}}})]))
req_case(X("system-role-mid-conversation"),
         "§2.2: a role:system message in the middle of messages → {role:system} at that position (after the leading top-level system).",
         areq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
               {"role": "system", "content": "Answer in French from now on."}, {"role": "user", "content": "How are you?"}], system="Base rules."),
         oreq([{"role": "system", "content": "Base rules."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
               {"role": "system", "content": "Answer in French from now on."}, {"role": "user", "content": "How are you?"}]))
req_case(X("defer-loading-empty-schema"),
         "§2.7: defer_loading dropped; empty input_schema {} becomes {\"type\":\"object\",\"properties\":{}} (brief's decision; the spec's literal rule would leave {} unchanged).",
         areq([{"role": "user", "content": "search"}], tools=[{"name": "mcp__srv__search", "description": "Search", "input_schema": {}, "defer_loading": True}]),
         oreq([{"role": "user", "content": "search"}], tools=[ftool("mcp__srv__search", "Search", {"type": "object", "properties": {}})]))
req_case(X("unknown-top-level-keys-dropped"),
         "§2.1: context_management, service_tier, inference_geo, mcp_servers, container and top-level cache_control (non-cache mode) are dropped.",
         areq(HI, context_management={"edits": [{"type": "clear_tool_uses_20250919"}]}, service_tier="auto", inference_geo="us",
              mcp_servers=[{"type": "url", "url": "https://mcp.example.com/sse", "name": "ex"}], container="container_123", cache_control={"type": "ephemeral"}),
         oreq(HI))
t_es = areq([{"role": "user", "content": "Hi"},
             {"role": "assistant", "content": [{"type": "thinking", "thinking": "User greets.", "signature": ""},
                                               {"type": "text", "text": "Hello!"}]},
             {"role": "user", "content": "What's up?"}])
req_case(X("thinking-empty-signature-history-openrouter"),
         "Claude Code shape: thinking block with signature \"\" → contributes to reasoning only; reasoning_details omitted because it would be empty.",
         t_es, oreq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!", "reasoning": "User greets."},
                     {"role": "user", "content": "What's up?"}]))
req_case(X("thinking-empty-signature-history-openai"),
         "Thinking block with signature \"\" in history, openai dialect → dropped entirely.",
         t_es, oreq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "What's up?"}], dialect="openai"),
         dialect="openai")
req_case(X("thinking-mixed-signatures-history-openrouter"),
         "Unsigned + signed + redacted thinking blocks: reasoning = all thinking texts concatenated with \"\"; reasoning_details only for the signed one and the redacted one, index = position in reasoning_details.",
         areq([{"role": "user", "content": "Hi"},
               {"role": "assistant", "content": [{"type": "thinking", "thinking": "First. ", "signature": ""},
                                                 {"type": "thinking", "thinking": "Second.", "signature": "EsIG"},
                                                 {"type": "redacted_thinking", "data": "EmwKAhgB"},
                                                 {"type": "text", "text": "Hello!"}]},
               {"role": "user", "content": "Go on"}]),
         oreq([{"role": "user", "content": "Hi"},
               {"role": "assistant", "content": "Hello!", "reasoning": "First. Second.",
                "reasoning_details": [{"type": "reasoning.text", "text": "Second.", "signature": "EsIG", "format": "anthropic-claude-v1", "index": 0},
                                      {"type": "reasoning.encrypted", "data": "EmwKAhgB", "format": "anthropic-claude-v1", "index": 1}]},
               {"role": "user", "content": "Go on"}]))
req_case(X("document-text-source"),
         "§2.5: document with a text source → text part \"<title>\\n<context>\\n<data>\"; all parts text → collapsed to one string joined with \\n\\n.",
         areq([{"role": "user", "content": [{"type": "document", "title": "notes.txt", "context": "meeting notes",
                                             "source": {"type": "text", "media_type": "text/plain", "data": "Line 1\nLine 2"}},
                                            {"type": "text", "text": "Summarize"}]}]),
         oreq([{"role": "user", "content": "notes.txt\nmeeting notes\nLine 1\nLine 2\n\nSummarize"}]))
req_case(X("search-result-block"),
         "§2.5: search_result block → text \"<title> (<source>)\\n<text>\" (single text block to avoid the unspecified join); collapsed to a string with the following text.",
         areq([{"role": "user", "content": [{"type": "search_result", "source": "https://ex.com/a", "title": "A",
                                             "content": [{"type": "text", "text": "t1"}]},
                                            {"type": "text", "text": "Use it."}]}]),
         oreq([{"role": "user", "content": "A (https://ex.com/a)\nt1\n\nUse it."}]))
req_case(X("cache-control-stripped"),
         "§2.9 default: cache_control stripped from system blocks, user text/image blocks, tool_result blocks and tools.",
         areq([{"role": "user", "content": [{"type": "text", "text": "Look", "cache_control": {"type": "ephemeral"}},
                                            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}, "cache_control": {"type": "ephemeral"}}]},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}, "cache_control": {"type": "ephemeral"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "a-body", "cache_control": {"type": "ephemeral"}},
                                            {"type": "text", "text": "next", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}],
              system=[{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}],
              tools=[dict(READ, cache_control={"type": "ephemeral"})]),
         oreq([{"role": "system", "content": "Sys"},
               {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
               {"role": "assistant", "content": None, "tool_calls": [tc("toolu_A", "Read", "{\"file_path\":\"/a\"}")]},
               {"role": "tool", "tool_call_id": "toolu_A", "content": "a-body"},
               {"role": "user", "content": "next"}], tools=[FREAD]))
req_case(X("cache-mode-user-cache-control"),
         "§2.9 cache mode: cache_control kept on system parts and on the user's text part (array form forced).",
         areq([{"role": "user", "content": [{"type": "text", "text": "Big document", "cache_control": {"type": "ephemeral"}},
                                            {"type": "text", "text": "Question?"}]}],
              system=[{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}]),
         oreq([{"role": "system", "content": [{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}]},
               {"role": "user", "content": [{"type": "text", "text": "Big document", "cache_control": {"type": "ephemeral"}},
                                            {"type": "text", "text": "Question?"}]}]),
         options={"strip_billing_header": True, "cache_mode": True})

# ---- more request mapping
n = X("stream-flag")
for d in ("openrouter", "openai"):
    req_case(f"{n}-{d}", f"§2.1: stream true → stream true + stream_options.include_usage ({d}).",
             areq(HI, stream=True), oreq(HI, dialect=d, stream=True, stream_options={"include_usage": True}), dialect=d)
req_case(X("stream-false-omitted"), "§2.1: stream false → stream and stream_options omitted.", areq(HI, stream=False), oreq(HI))
req_case(X("thinking-display-omitted"), "§2.10: display omitted → reasoning {max_tokens, exclude:true}.",
         areq(HI, max_tokens=16000, thinking={"type": "enabled", "budget_tokens": 2048, "display": "omitted"}),
         oreq(HI, max_tokens=16000, reasoning={"max_tokens": 2048, "exclude": True}))
n = X("thinking-adaptive-no-effort")
req_case(f"{n}-openrouter", "§2.10: adaptive without effort → reasoning {enabled:true}.",
         areq(HI, max_tokens=16000, thinking={"type": "adaptive"}), oreq(HI, max_tokens=16000, reasoning={"enabled": True}))
req_case(f"{n}-openai", "§2.10: adaptive without effort → reasoning_effort medium.",
         areq(HI, max_tokens=16000, thinking={"type": "adaptive"}), oreq(HI, dialect="openai", max_tokens=16000, reasoning_effort="medium"), dialect="openai")
req_case(X("thinking-adaptive-effort-low-openrouter"), "§2.10: adaptive + output_config.effort low → reasoning {effort:low}.",
         areq(HI, max_tokens=16000, thinking={"type": "adaptive"}, output_config={"effort": "low"}), oreq(HI, max_tokens=16000, reasoning={"effort": "low"}))
req_case(X("thinking-budget-capped"), "Brief convention: budget_tokens ≥ max_tokens is capped to max_tokens-1 (not rejected).",
         areq(HI, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 8000}), oreq(HI, max_tokens=4096, reasoning={"max_tokens": 4095}))
req_case(X("thinking-disabled"), "§2.10: thinking disabled → no reasoning key.", areq(HI, thinking={"type": "disabled"}), oreq(HI))
req_case(X("billing-header-kept"), "strip_billing_header false → the billing line is forwarded as part of the joined system text.",
         areq(HI, system=[{"type": "text", "text": BILLING}, {"type": "text", "text": "You are Claude Code."}]),
         oreq([{"role": "system", "content": BILLING + "\n\nYou are Claude Code."}, {"role": "user", "content": "Hi"}]),
         options={"strip_billing_header": False, "cache_mode": False})
req_case(X("user-text-blocks-joined"), "§2.2: user text blocks joined with \\n\\n into a string; empty text block skipped.",
         areq([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": ""}, {"type": "text", "text": "b"}]}]),
         oreq([{"role": "user", "content": "a\n\nb"}]))
req_case(X("assistant-text-blocks-joined"), "§2.2: assistant text blocks joined with \\n\\n, empty text skipped.",
         areq([{"role": "user", "content": "Hi"},
               {"role": "assistant", "content": [{"type": "text", "text": "First"}, {"type": "text", "text": ""}, {"type": "text", "text": "Second"}]},
               {"role": "user", "content": "ok"}]),
         oreq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "First\n\nSecond"}, {"role": "user", "content": "ok"}]))
req_case(X("assistant-prefill-kept"), "§2.2: final assistant message (prefill) kept as the last message.",
         areq([{"role": "user", "content": "Give JSON"}, {"role": "assistant", "content": "{"}]),
         oreq([{"role": "user", "content": "Give JSON"}, {"role": "assistant", "content": "{"}]))
n = X("document-url-pdf")
dua = areq([{"role": "user", "content": [{"type": "document", "source": {"type": "url", "url": "https://ex.com/a.pdf"}}, {"type": "text", "text": "Summarize"}]}])
req_case(f"{n}-openrouter", "§2.5: url PDF on OpenRouter → file part with file_data = the URL, filename document.pdf (no title).",
         dua, oreq([{"role": "user", "content": [{"type": "file", "file": {"filename": "document.pdf", "file_data": "https://ex.com/a.pdf"}},
                                                  {"type": "text", "text": "Summarize"}]}]))
req_case(f"{n}-openai", "§2.5: url PDF on OpenAI → text note [document: <url>]; all parts are then text, so collapsed to a string.",
         dua, oreq([{"role": "user", "content": "[document: https://ex.com/a.pdf]\n\nSummarize"}], dialect="openai"), dialect="openai")
req_case(X("document-base64-default-filename"), "§2.5: base64 PDF without title → filename document.pdf.",
         areq([{"role": "user", "content": [{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}}]}]),
         oreq([{"role": "user", "content": [{"type": "file", "file": {"filename": "document.pdf", "file_data": "data:application/pdf;base64,JVBER"}}]}]))
req_case(X("tool-schema-cleanup"),
         "§2.7: top-level $schema removed, properties:{} added to an object schema without properties, additionalProperties kept; description omitted when absent.",
         areq(HI, tools=[{"name": "Noop", "input_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False}}]),
         oreq(HI, tools=[{"type": "function", "function": {"name": "Noop", "parameters": {"type": "object", "additionalProperties": False, "properties": {}}}}]))
OSCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}
req_case(X("output-config-format"), "§2.1: output_config.format json_schema → response_format json_schema named structured_output, strict true (schema already strict-ready).",
         areq(HI, output_config={"format": {"type": "json_schema", "schema": OSCHEMA}}),
         oreq(HI, response_format={"type": "json_schema", "json_schema": {"name": "structured_output", "schema": OSCHEMA, "strict": True}}))
req_case(X("stop-sequences-truncated-openai"), "§2.1: OpenAI proper accepts ≤4 stop sequences → truncated to the first 4.",
         areq(HI, stop_sequences=["a", "b", "c", "d", "e"]), oreq(HI, dialect="openai", stop=["a", "b", "c", "d"]), dialect="openai")
req_case(X("stop-sequences-empty-omitted"), "§2.1: empty stop_sequences → stop omitted.", areq(HI, stop_sequences=[]), oreq(HI))
req_case(X("top-p-temperature-openai"), "§2.1: temperature and top_p passed through; top_k dropped on openai dialect.",
         areq(HI, temperature=0.7, top_p=0.9, top_k=5), oreq(HI, dialect="openai", temperature=0.7, top_p=0.9), dialect="openai")
LONGID = "toolu_bdrk_01AbCdEfGhIjKlMnOpQrStUvWxYz0123"
assert len(LONGID) > 40
SHORT = "call_" + sha(LONGID)[:35]
req_case(X("openai-long-tool-id-shortened"), "§2.11: openai dialect, tool id > 40 chars → \"call_\" + sha256(id)[:35] in both tool_calls[].id and tool_call_id.",
         areq([{"role": "user", "content": "Read /a"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": LONGID, "name": "Read", "input": {"file_path": "/a"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": LONGID, "content": "ok"}]}], tools=[READ]),
         oreq([{"role": "user", "content": "Read /a"},
               {"role": "assistant", "content": None, "tool_calls": [tc(SHORT, "Read", "{\"file_path\":\"/a\"}")]},
               {"role": "tool", "tool_call_id": SHORT, "content": "ok"}], dialect="openai", tools=[FREAD]), dialect="openai")
req_case(X("orphan-tool-result"), "§2.3: tool_result without a matching preceding tool call → user message \"[tool result for <id>]\\n<content>\".",
         areq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_Z", "content": "stale"}]}]),
         oreq([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "[tool result for toolu_Z]\nstale"}]))
req_case(X("duplicate-tool-result"), "§2.3: duplicate tool results for one id → keep the first.",
         areq([{"role": "user", "content": "Read /a"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {"file_path": "/a"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A", "content": "first"},
                                            {"type": "tool_result", "tool_use_id": "toolu_A", "content": "second"}]}], tools=[READ]),
         oreq([{"role": "user", "content": "Read /a"},
               {"role": "assistant", "content": None, "tool_calls": [tc("toolu_A", "Read", "{\"file_path\":\"/a\"}")]},
               {"role": "tool", "tool_call_id": "toolu_A", "content": "first"}], tools=[FREAD]))
req_case(X("thinking-in-user-turn-dropped"), "§2.5: thinking block inside a user turn is dropped.",
         areq([{"role": "user", "content": [{"type": "thinking", "thinking": "x", "signature": "s"}, {"type": "text", "text": "hi"}]}]),
         oreq([{"role": "user", "content": "hi"}]))
req_case(X("tool-result-text-blocks-with-error"), "§2.4: tool_result text blocks joined with \\n and is_error prefix applied to the joined string.",
         areq([{"role": "user", "content": "run"},
               {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_E", "name": "Bash", "input": {"command": "false"}}]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_E", "is_error": True,
                                             "content": [{"type": "text", "text": "exit 1"}, {"type": "text", "text": "stderr: boom"}]}]}], tools=[BASH]),
         oreq([{"role": "user", "content": "run"},
               {"role": "assistant", "content": None, "tool_calls": [tc("toolu_E", "Bash", "{\"command\":\"false\"}")]},
               {"role": "tool", "tool_call_id": "toolu_E", "content": "Error: exit 1\nstderr: boom"}], tools=[FBASH]))

# ---- responses
resp_case(X("response-usage-missing"), "§3.6: upstream omits usage → estimated input/output tokens (<int>), cache fields 0.",
          oresp({"content": "Hello."}, usage=False), aresp([{"type": "text", "text": "Hello."}], "end_turn", u("<int>", "<int>")))
resp_case(X("response-deepseek-cache-hit-usage"), "§3.6: DeepSeek prompt_cache_hit_tokens used as cached tokens.",
          oresp({"content": "Hi."}, usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110, "prompt_cache_hit_tokens": 80, "prompt_cache_miss_tokens": 20}),
          aresp([{"type": "text", "text": "Hi."}], "end_turn", u(20, 10, 0, 80)), dialect="openai")
resp_case(X("response-cache-write-usage"), "§3.6: cache_write_tokens → cache_creation_input_tokens, subtracted from input.",
          oresp({"content": "Hi."}, usage=usage(3000, 10, cached=0, write=2500)), aresp([{"type": "text", "text": "Hi."}], "end_turn", u(500, 10, 2500, 0)))
resp_case(X("response-content-parts-array"), "§3.2: message.content as an array of parts → text parts concatenated into one text block.",
          oresp({"content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}), aresp([{"type": "text", "text": "Hello"}], "end_turn", u(100, 20)),
          dialect="openai")
resp_case(X("response-legacy-function-call"), "§3.4: legacy message.function_call → one tool_use with a generated toolu_ id; finish function_call → tool_use.",
          oresp({"content": None, "function_call": {"name": "Read", "arguments": "{\"file_path\":\"/a\"}"}}, finish="function_call"),
          aresp([{"type": "tool_use", "id": "<toolu_id>", "name": "Read", "input": {"file_path": "/a"}}], "tool_use", u(100, 20)),
          request=areq([{"role": "user", "content": "read"}], tools=[READ]), dialect="openai")
resp_case(X("response-tool-call-missing-id"), "§3.4: tool call without id → generated toolu_ id.",
          oresp({"content": None, "tool_calls": [{"type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/a\"}"}}]}, finish="tool_calls"),
          aresp([{"type": "tool_use", "id": "<toolu_id>", "name": "Read", "input": {"file_path": "/a"}}], "tool_use", u(100, 20)),
          request=areq([{"role": "user", "content": "read"}], tools=[READ]), dialect="openai")
resp_case(X("response-arguments-object"), "§3.4: arguments already an object → used as is.",
          oresp({"content": None, "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "calc", "arguments": {"a": 1}}}]}, finish="tool_calls", usage=usage(30, 5)),
          aresp([{"type": "tool_use", "id": "call_x", "name": "calc", "input": {"a": 1}}], "tool_use", u(30, 5)), request=ctx_calc, dialect="openai")
args_case(X("response-arguments-garbage"), "§3.4: unparseable, unrepairable arguments → {}.", "not json at all", {})
args_case(X("response-arguments-fenced"), "§3.4: arguments wrapped in ```json fences → fences stripped, parsed.", "```json\n{\"a\": 1}\n```", {"a": 1})
args_case(X("response-arguments-number"), "§3.4: non-object JSON (number) → {\"value\": 5}.", "5", {"value": 5})
resp_case(X("response-redacted-anthropic"), "§3.3: reasoning.encrypted in anthropic-claude-v1 format → redacted_thinking with the raw data.",
          oresp({"content": "Hi.", "reasoning_details": [{"type": "reasoning.encrypted", "data": "EmwKAhgBEgy", "format": "anthropic-claude-v1", "index": 0}]}),
          aresp([{"type": "redacted_thinking", "data": "EmwKAhgBEgy"}, {"type": "text", "text": "Hi."}], "end_turn", u(100, 20)))
resp_case(X("response-reasoning-text-non-anthropic"), "§2.6.1/§3.3: reasoning.text in google-gemini-v1 format → thinking text kept, signature is the gw1: codec (prefix asserted only).",
          oresp({"content": "Done.", "reasoning": "Plan", "reasoning_details": [{"type": "reasoning.text", "text": "Plan", "signature": "opaque-xyz", "format": "google-gemini-v1", "index": 0}]}),
          aresp([{"type": "thinking", "thinking": "Plan", "signature": "<contains:gw1:>"}, {"type": "text", "text": "Done."}], "end_turn", u(100, 20)))
resp_case(X("response-reasoning-summary"), "§3.3: reasoning.summary (openai-responses-v1) → thinking with the summary text, signature gw1: codec.",
          oresp({"content": "Done.", "reasoning_details": [{"type": "reasoning.summary", "summary": "Plan it", "format": "openai-responses-v1", "index": 0, "id": "rs_9"}]}),
          aresp([{"type": "thinking", "thinking": "Plan it", "signature": "<contains:gw1:>"}, {"type": "text", "text": "Done."}], "end_turn", u(100, 20)))
resp_case(X("response-reasoning-string-only"), "§3.3: OpenRouter message.reasoning string without details → thinking with signature \"\", before text.",
          oresp({"content": "Done.", "reasoning": "Quick plan"}),
          aresp([{"type": "thinking", "thinking": "Quick plan", "signature": ""}, {"type": "text", "text": "Done."}], "end_turn", u(100, 20)))
resp_case(X("response-native-stop-sequence-two-requested"), "§3.5: native stop_sequence but two stop sequences requested → cannot tell which: end_turn + null.",
          oresp({"content": "1 2 3 "}, native="stop_sequence"), aresp([{"type": "text", "text": "1 2 3 "}], "end_turn", u(100, 20)),
          request=areq([{"role": "user", "content": "count"}], stop_sequences=["END", "STOP"]))
resp_case(X("response-vllm-stop-reason-string"), "§3.5(b): vLLM choice.stop_reason string → stop_sequence with that string.",
          oresp({"content": "1 2 3 "}, extra_choice={"stop_reason": "STOP"}), aresp([{"type": "text", "text": "1 2 3 "}], "stop_sequence", u(100, 20), stop_sequence="STOP"),
          request=areq([{"role": "user", "content": "count"}], stop_sequences=["END", "STOP"]), dialect="openai")
resp_case(X("response-text-and-thinking-and-tool-order"), "§3.2: order thinking → text → refusal → tool_use regardless of field order.",
          oresp({"tool_calls": [tc("call_o", "Read", "{\"file_path\":\"/a\"}")], "content": "Reading.", "reasoning_content": "Need file."}, finish="tool_calls"),
          aresp([{"type": "thinking", "thinking": "Need file.", "signature": ""}, {"type": "text", "text": "Reading."},
                 {"type": "tool_use", "id": "call_o", "name": "Read", "input": {"file_path": "/a"}}], "tool_use", u(100, 20)),
          request=areq([{"role": "user", "content": "read"}], tools=[READ]), dialect="openai")

# ---- upstream error mapping (non-stream)
def up_err(slug, desc, status, body, exp, headers=None, raw=None, dialect="openrouter"):
    meta = {"status": status}
    if headers:
        meta["headers"] = headers
    resp_case(X(slug), desc, body, exp, upstream_meta=meta, raw_text=raw, dialect=dialect)


up_err("error-402-billing", "§5.3: 402 → 402 billing_error with x-should-retry false.", 402,
       {"error": {"code": 402, "message": "Insufficient credits"}}, err(402, "billing_error", "Insufficient credits", {"x-should-retry": "false"}))
up_err("error-403-moderation", "§5.3: 403 moderation → 403 permission_error, message includes metadata.reasons.", 403,
       {"error": {"code": 403, "message": "Input was flagged", "metadata": {"reasons": ["harassment"], "flagged_input": "...", "provider_name": None, "model_slug": UP}}},
       err(403, "permission_error", "harassment"))
up_err("error-404-not-found", "Upstream 404 (the routed model is not served upstream) → 502 api_error with the upstream's message: claude-code.md reserves 404 for a model no route serves, since Claude Code hides a 404's message.", 404,
       {"error": {"code": 404, "message": "No endpoints found for test/model."}}, err(502, "api_error", "No endpoints found"))
up_err("error-408-timeout", "§5.3: 408 → 504 timeout_error.", 408, {"error": {"code": 408, "message": "Request timed out"}}, err(504, "timeout_error", "timed out"))
up_err("error-413-too-large", "§5.3: 413 → 413 request_too_large.", 413, {"error": {"code": 413, "message": "Payload too large"}}, err(413, "request_too_large", "too large"))
up_err("error-422-invalid", "§5.3: 422 → 400 invalid_request_error.", 422,
       {"error": {"message": "Unprocessable: bad tool schema", "type": "invalid_request_error", "param": "tools", "code": None}},
       err(400, "invalid_request_error", "bad tool schema"), dialect="openai")
up_err("error-409-other-4xx", "§5.3: other 4xx (409) → same status, invalid_request_error.", 409,
       {"error": {"code": 409, "message": "Conflict happened"}}, err(409, "invalid_request_error", "Conflict happened"))
up_err("error-429-retry-after", "§5.3: 429 with Retry-After → 429 rate_limit_error, retry-after copied.", 429,
       {"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min"}},
       err(429, "rate_limit_error", "Rate limit exceeded", {"retry-after": "20"}), headers={"retry-after": "20"})
up_err("error-500", "§5.3: 500 → 500 api_error.", 500, {"error": {"code": 500, "message": "Internal Server Error"}}, err(500, "api_error", "Internal Server Error"))
up_err("error-502-overloaded", "§5.3: 502 → 529 overloaded_error.", 502,
       {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "X", "raw": "bad gateway"}}},
       err(529, "overloaded_error", "Provider returned error"))
up_err("error-503-no-provider", "§5.3: 503 (no available provider) → 529 overloaded_error.", 503,
       {"error": {"code": 503, "message": "No allowed providers are available for the selected model."}},
       err(529, "overloaded_error", "No allowed providers"))
up_err("error-504-timeout", "§5.3: 504 → 504 timeout_error.", 504, {"error": {"code": 504, "message": "Gateway Timeout"}}, err(504, "timeout_error", "Gateway Timeout"))
up_err("error-501-other-5xx", "§5.3: other 5xx (501) → same status, api_error.", 501, {"error": {"code": 501, "message": "Not implemented"}},
       err(501, "api_error", "Not implemented"))
up_err("error-vllm-object-error", "§5.2: vLLM {object:error} body with 400 → 400 invalid_request_error.", 400,
       {"object": "error", "message": "Invalid tool schema", "type": "BadRequestError", "param": None, "code": 400},
       err(400, "invalid_request_error", "Invalid tool schema"), dialect="openai")
up_err("error-html-502", "§5.2: non-JSON HTML body with 502 → 529 overloaded_error (status-derived); message not asserted.", 502,
       None, err(529, "overloaded_error", ""), headers={"content-type": "text/html"}, raw="<html><body><h1>502 Bad Gateway</h1></body></html>\n")
up_err("error-context-length-message-only", "§5.3: context-length wording without code (numbers not extractable: 'about') → 400 'prompt is too long: ...'.", 400,
       {"error": {"code": 400, "message": "This endpoint's maximum context length is 131072 tokens. However, you requested about 150000 tokens. Please reduce the length."}},
       err(400, "invalid_request_error", "prompt is too long"))

# ---- streams
stream_case(X("stream-usage-inline-single-finish"), "OpenRouter: finish and usage in one single chunk (no repeat) with cached + cache_write tokens.",
            sse(COMMENT, chunk({"role": "assistant", "content": "Hi"}), chunk({"content": " there"}),
                chunk({"content": "", "role": "assistant"}, finish="stop", native="end_turn", usage=usage(1500, 5, cached=1200, write=100))),
            [e_start(), e_text(0), e_td(0, "Hi"), e_td(0, " there"), e_stop(0), e_md("end_turn", 200, 5, cc=100, cr=1200), e_end()])
stream_case(X("stream-reasoning-content-deepseek"), "DeepSeek-style reasoning_content deltas → thinking block (signature \"\", no signature_delta), then text block.",
            sse(chunk({"role": "assistant", "content": None, "reasoning_content": ""}), chunk({"content": None, "reasoning_content": "Let me"}),
                chunk({"content": None, "reasoning_content": " think."}), chunk({"content": "42", "reasoning_content": None}),
                chunk({"content": ""}, finish="stop", usage=usage(25, 9, reasoning=4))),
            [e_start(), e_think(0), e_thd(0, "Let me"), e_thd(0, " think."), e_stop(0), e_text(1), e_td(1, "42"), e_stop(1), e_md("end_turn", 25, 9), e_end()],
            dialect="openai")
stream_case(X("stream-reasoning-string-only"), "OpenRouter delta.reasoning without reasoning_details → thinking block (signature \"\", no signature_delta), then text.",
            sse(chunk({"role": "assistant", "content": "", "reasoning": "Hmm"}), chunk({"content": "", "reasoning": "."}), chunk({"content": "Ok"}),
                chunk({}, finish="stop", usage=usage(25, 4))),
            [e_start(), e_think(0), e_thd(0, "Hmm"), e_thd(0, "."), e_stop(0), e_text(1), e_td(1, "Ok"), e_stop(1), e_md("end_turn", 25, 4), e_end()])
stream_case(X("stream-refusal-delta"), "delta.refusal treated as text; stop_reason refusal.",
            sse(chunk({"role": "assistant", "content": None, "refusal": ""}), chunk({"refusal": "I can't"}), chunk({"refusal": " help with that."}),
                chunk({}, finish="stop"), chunk(choices=False, usage=usage(30, 6))),
            [e_start(), e_text(0), e_td(0, "I can't"), e_td(0, " help with that."), e_stop(0), e_md("refusal", 30, 6), e_end()], dialect="openai")
stream_case(X("stream-only-comments-then-done"), "Only comment lines then [DONE], no data event and no finish → nothing committed; decided: HTTP 502 api_error mentioning 'ended'.",
            sse(COMMENT, COMMENT, COMMENT), error=err(502, "api_error", "ended"))
stream_case(X("stream-done-without-usage"), "[DONE] right after a finish chunk, no usage anywhere → estimated input/output (<int>), cache fields 0.",
            sse(chunk({"role": "assistant", "content": "Hi"}), chunk({}, finish="stop")),
            [e_start(), e_text(0), e_td(0, "Hi"), e_stop(0), e_md("end_turn", "<int>", "<int>"), e_end()], dialect="openai")
stream_case(X("stream-content-in-finish-chunk"), "Finish chunk that also carries content: the content delta is emitted before the block closes.",
            sse(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": "lo"}, finish="stop", usage=usage(10, 2))),
            [e_start(), e_text(0), e_td(0, "Hel"), e_td(0, "lo"), e_stop(0), e_md("end_turn", 10, 2), e_end()])
stream_case(X("stream-native-stop-sequence"), "Stream: native_finish_reason stop_sequence + one requested stop sequence → stop_reason stop_sequence, stop_sequence END.",
            sse(chunk({"role": "assistant", "content": "1 2 3 "}), chunk({"content": ""}, finish="stop", native="stop_sequence", usage=usage(15, 6))),
            [e_start(), e_text(0), e_td(0, "1 2 3 "), e_stop(0), e_md("stop_sequence", 15, 6, stop_sequence="END"), e_end()],
            request=areq([{"role": "user", "content": "count"}], stop_sequences=["END"], stream=True))
stream_case(X("stream-error-key-after-commit"), "Top-level error chunk (no choices) after text, code 429 → SSE error rate_limit_error; the following [DONE] produces nothing.",
            sse(chunk({"role": "assistant", "content": "Hel"}), {"error": {"code": 429, "message": "Rate limit exceeded"}}),
            [e_start(), e_text(0), e_td(0, "Hel"), e_err("rate_limit_error", "Rate limit exceeded")])
stream_case(X("stream-finish-reason-error-no-error-key"), "finish_reason \"error\" without an error object after text → SSE error event (type not asserted), nothing after it.",
            sse(chunk({"role": "assistant", "content": "Hel"}), chunk({"content": ""}, finish="error"), done=False),
            [e_start(), e_text(0), e_td(0, "Hel"), ev("error", {"type": "error", "error": {"type": "<any>", "message": "<any>"}})])
stream_case(X("stream-upstream-503-before-stream"), "Upstream HTTP 503 before any event → plain HTTP 529 overloaded_error.",
            json.dumps({"error": {"code": 503, "message": "No available provider"}}), error=err(529, "overloaded_error", "No available provider"),
            upstream_meta={"status": 503, "headers": {"content-type": "application/json"}})
stream_case(X("stream-empty-output"), "Role chunk with empty content, finish stop, usage → message_start, message_delta end_turn, message_stop (no blocks).",
            sse(chunk({"role": "assistant", "content": ""}), chunk({}, finish="stop", usage=usage(10, 0))),
            [e_start(), e_md("end_turn", 10, 0), e_end()])
stream_case(X("stream-text-then-tool-stop-finish"), "Text then a tool call with finish_reason stop → stop_reason tool_use (tool override).",
            sse(chunk({"role": "assistant", "content": "Let me check."}),
                chunk({"tool_calls": [{"index": 0, "id": "call_r", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"/a\"}"}}]}),
                chunk({}, finish="stop"), chunk(choices=False, usage=usage(50, 15))),
            [e_start(), e_text(0), e_td(0, "Let me check."), e_stop(0), e_tool(1, "call_r", "Read"), e_js(1, "{\"file_path\":\"/a\"}"), e_stop(1),
             e_md("tool_use", 50, 15), e_end()],
            request=areq([{"role": "user", "content": "read"}], tools=[READ], stream=True), dialect="openai")
stream_case(X("stream-content-filter"), "finish_reason content_filter in a stream → stop_reason refusal.",
            sse(chunk({"role": "assistant", "content": "I was"}), chunk({}, finish="content_filter", usage=usage(20, 2))),
            [e_start(), e_text(0), e_td(0, "I was"), e_stop(0), e_md("refusal", 20, 2), e_end()], dialect="openai")
stream_case(X("stream-eof-after-finish-without-done"), "§4.3 step 7: upstream EOF after a finish_reason (with usage) but without [DONE] → finalize normally.",
            sse(chunk({"role": "assistant", "content": "Done"}), chunk({}, finish="stop", usage=usage(10, 1)), done=False),
            [e_start(), e_text(0), e_td(0, "Done"), e_stop(0), e_md("end_turn", 10, 1), e_end()])
stream_case(X("stream-redacted-reasoning-anthropic"), "reasoning.encrypted (anthropic-claude-v1) in a stream → redacted_thinking start+stop immediately, then text.",
            sse(chunk({"role": "assistant", "content": "", "reasoning_details": [{"type": "reasoning.encrypted", "data": "EmwKAhgB", "format": "anthropic-claude-v1", "index": 0}]}),
                chunk({"content": "Hi."}), chunk({}, finish="stop", native="end_turn", usage=usage(20, 8))),
            [e_start(), ev("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "redacted_thinking", "data": "EmwKAhgB"}}),
             e_stop(0), e_text(1), e_td(1, "Hi."), e_stop(1), e_md("end_turn", 20, 8), e_end()])


# =====================================================================================
def write():
    if os.path.isdir(ROOT):
        for d in os.listdir(ROOT):
            p = os.path.join(ROOT, d)
            if os.path.isdir(p) and (d[:1] in "TX") and d[1:3].isdigit():
                shutil.rmtree(p)
    os.makedirs(ROOT, exist_ok=True)
    names = set()
    for name, meta, files in CASES:
        assert name not in names, name
        names.add(name)
        d = os.path.join(ROOT, name)
        os.makedirs(d)
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=2, ensure_ascii=False)
            f.write("\n")
        for fn, content in files.items():
            with open(os.path.join(d, fn), "w", newline="") as f:
                if fn.endswith(".json"):
                    json.dump(content, f, indent=2, ensure_ascii=False)
                    f.write("\n")
                else:
                    f.write(content)
    print(len(CASES), "cases written")


if __name__ == "__main__":
    write()
