#!/usr/bin/env python3
"""Structure-aware fuzzer for Switchyard's inbound Messages surface (reliability rule 2),
and for its OpenAI Chat Completions front door (--endpoint chat).

Sends a fixed list of hostile requests, then random mutations of valid seed Messages requests
(field drops, retypes, nulls, odd values, huge numbers, deep nesting, invalid UTF-8, NUL bytes in
keys, truncated JSON, non-object bodies, duplicate keys, byte damage), and checks every answer:

  * it completes within a bound (else: hang);
  * it is a 2xx (a complete message / SSE stream / token count) or a 4xx with the Anthropic
    envelope and content-type application/json (else: non-envelope, bad 2xx);
  * never a 5xx; the connection is never dropped without an answer; the gateway process stays alive.

`--endpoint chat` does the same for POST /v1/chat/completions and /openai/v1/chat/completions
(docs/openai-front-door.md): seeds for both kinds of target (model `claude-native-1` goes to the
Anthropic-kind provider and is translated, any other model to the OpenAI-kind one), a fixed hostile
list, structural, text and chat-specific mutations (n, input_audio / file_id / odd parts, data URLs,
reasoning_effort, response_format, tool_choice, stop, stream_options, tool messages ...). An answer
must be a 2xx (a `chat.completion`, or an SSE stream of chunks ending in `[DONE]` after a finish, or
in one well-formed `{"error":...}` data event) or a 4xx in the OpenAI envelope
`{"error":{"message","type","param","code"}}`; never a 5xx or a hang. In addition, a request that
the front door's validation rules make invalid (body not a JSON object, model, messages, roles,
stream, max tokens, temperature, top_p, n, tools, tool_choice, stop, unsupported content parts; a
file by id for translated requests) must not be accepted (`accepted_invalid`). `--endpoint all` runs both.

Script use (starts its own mock upstream and gateway unless --url is given):

    python tests/reliability/fuzz.py --requests 20000 --seed 7
    python tests/reliability/fuzz.py --requests 500 --seed 1 --url http://127.0.0.1:8000 --pid 1234
    python tests/reliability/fuzz.py --endpoint chat --requests 3000 --seed 7

pytest use: `test_fuzz.py` (and tests/openai/test_openai_fuzz.py for the chat endpoint) call
`run_fuzz(...)` with a small N. Stdlib only.
The last line printed is the summary:
    fuzz summary: requests=N 2xx=.. 4xx=.. 5xx=.. non_envelope=.. hangs=.. crashes=.. ...
"""
from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import relkit as rk  # noqa: E402

# --------------------------------------------------------------------------- JSON with raw pieces


class Raw:
    """Bytes emitted verbatim in place of a JSON value (huge numbers, NaN, bad UTF-8, nesting)."""
    __slots__ = ("b",)

    def __init__(self, b: bytes):
        self.b = b

    def __repr__(self):
        return f"Raw({self.b[:40]!r}{'...' if len(self.b) > 40 else ''})"


class Pairs:
    """A JSON object given as a list of (key, value) pairs; keys may repeat or be Raw."""
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = list(items)


def enc_str(s: str, ascii_only: bool) -> bytes:
    out = json.dumps(s, ensure_ascii=ascii_only)
    return out.encode("utf-8", "surrogatepass")  # lone surrogates -> invalid UTF-8 (CESU-8)


def encode(v, ascii_only: bool = False) -> bytes:
    parts: list[bytes] = []

    def walk(x):
        if isinstance(x, Raw):
            parts.append(x.b)
        elif isinstance(x, Pairs):
            parts.append(b"{")
            for i, (k, val) in enumerate(x.items):
                if i:
                    parts.append(b",")
                parts.append(k.b if isinstance(k, Raw) else enc_str(str(k), ascii_only))
                parts.append(b":")
                walk(val)
            parts.append(b"}")
        elif isinstance(x, dict):
            walk(Pairs(x.items()))
        elif isinstance(x, (list, tuple)):
            parts.append(b"[")
            for i, val in enumerate(x):
                if i:
                    parts.append(b",")
                walk(val)
            parts.append(b"]")
        elif isinstance(x, str):
            parts.append(enc_str(x, ascii_only))
        elif x is None or isinstance(x, (bool, int, float)):
            try:
                parts.append(json.dumps(x).encode())
            except ValueError:
                parts.append(repr(x).encode())
        else:
            parts.append(json.dumps(str(x)).encode())

    walk(v)
    return b"".join(parts)


def nested(depth: int, kind: str = "array", leaf: bytes = b"1") -> Raw:
    if kind == "array":
        return Raw(b"[" * depth + leaf + b"]" * depth)
    if kind == "object":
        return Raw(b'{"a":' * depth + leaf + b"}" * depth)
    return Raw(b'[{"a":' * (depth // 2) + leaf + b"}]" * (depth // 2))


# --------------------------------------------------------------------------- seeds

PNG_1PX = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()

TOOLS = [{"name": "Read", "description": "read a file",
          "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}},
         {"name": "Calc", "input_schema": {"type": "object", "properties": {"x": {"type": "number"}}}}]


def seeds() -> list[tuple[str, str, dict]]:
    """(name, path, body) of valid requests the mutator starts from."""
    m = "claude-sonnet-4-5"
    return [
        ("simple", "/v1/messages", {"model": m, "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]}),
        ("simple-stream", "/v1/messages", {"model": m, "max_tokens": 64, "stream": True,
                                           "messages": [{"role": "user", "content": "hello there"}]}),
        ("multi-turn", "/v1/messages", {"model": "claude-haiku-4-5-20251001", "max_tokens": 100, "system": "be brief",
                                        "messages": [{"role": "user", "content": "hi"},
                                                     {"role": "assistant", "content": "hello"},
                                                     {"role": "user", "content": [{"type": "text", "text": "again"}]}]}),
        ("system-blocks", "/v1/messages", {"model": m, "max_tokens": 32,
                                           "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1;"},
                                                      {"type": "text", "text": "You are helpful", "cache_control": {"type": "ephemeral"}}],
                                           "messages": [{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]}]}),
        ("tools", "/v1/messages", {"model": m, "max_tokens": 200, "tools": TOOLS, "tool_choice": {"type": "auto"},
                                   "messages": [{"role": "user", "content": "read /etc/hosts"},
                                                {"role": "assistant", "content": [
                                                    {"type": "text", "text": "ok"},
                                                    {"type": "tool_use", "id": "toolu_01ABC", "name": "Read", "input": {"file_path": "/etc/hosts"}}]},
                                                {"role": "user", "content": [
                                                    {"type": "tool_result", "tool_use_id": "toolu_01ABC", "content": "127.0.0.1 localhost"},
                                                    {"type": "text", "text": "thanks"}]}]}),
        ("tools-stream", "/v1/messages", {"model": m, "max_tokens": 200, "stream": True, "tools": TOOLS,
                                          "tool_choice": {"type": "tool", "name": "Calc", "disable_parallel_tool_use": True},
                                          "messages": [{"role": "user", "content": "compute"}]}),
        ("thinking", "/v1/messages", {"model": "claude-opus-4-1", "max_tokens": 4096,
                                      "thinking": {"type": "enabled", "budget_tokens": 2048},
                                      "messages": [{"role": "user", "content": "think"},
                                                   {"role": "assistant", "content": [
                                                       {"type": "thinking", "thinking": "hmm", "signature": "EqQBsig"},
                                                       {"type": "redacted_thinking", "data": "abc"},
                                                       {"type": "text", "text": "done"}]},
                                                   {"role": "user", "content": "more"}]}),
        ("media", "/v1/messages", {"model": m, "max_tokens": 50,
                                   "messages": [{"role": "user", "content": [
                                       {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}},
                                       {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                                       {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}},
                                       {"type": "text", "text": "describe"}]}]}),
        ("sampling", "/v1/messages", {"model": m, "max_tokens": 10, "temperature": 0.5, "top_p": 0.9, "top_k": 5,
                                      "stop_sequences": ["\n\nHuman:", "END"], "metadata": {"user_id": "user_abc_session_1"},
                                      "service_tier": "auto", "messages": [{"role": "user", "content": "x"}]}),
        ("output-config", "/v1/messages", {"model": m, "max_tokens": 100,
                                           "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {
                                               "type": "object", "properties": {"a": {"type": "string"}}}}},
                                           "messages": [{"role": "user", "content": "json please"}]}),
        ("tool-result-blocks", "/v1/messages", {"model": m, "max_tokens": 100, "tools": TOOLS[:1],
                                                "messages": [{"role": "user", "content": "go"},
                                                             {"role": "assistant", "content": [
                                                                 {"type": "tool_use", "id": "toolu_A", "name": "Read", "input": {}},
                                                                 {"type": "tool_use", "id": "toolu_B", "name": "Read", "input": {"file_path": "b"}}]},
                                                             {"role": "user", "content": [
                                                                 {"type": "tool_result", "tool_use_id": "toolu_A", "is_error": True,
                                                                  "content": [{"type": "text", "text": "err"},
                                                                              {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_1PX}}]}]}]}),
        ("max-tokens-zero", "/v1/messages", {"model": m, "max_tokens": 0, "messages": [{"role": "user", "content": "warm"}]}),
        ("count-tokens", "/v1/messages/count_tokens", {"model": m, "system": "s", "tools": TOOLS,
                                                       "messages": [{"role": "user", "content": "hello"}]}),
        ("beta-path", "/anthropic/v1/messages?beta=true", {"model": m, "max_tokens": 16,
                                                           "messages": [{"role": "user", "content": "via prefix"}]}),
        # routed to the Anthropic-native (pass-through) provider when the gateway has the `native` route
        ("native", "/v1/messages", {"model": "claude-native-1", "max_tokens": 64, "system": "s", "tools": TOOLS,
                                    "thinking": {"type": "enabled", "budget_tokens": 1024},
                                    "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}),
        ("native-stream", "/v1/messages", {"model": "claude-native-1", "max_tokens": 64, "stream": True,
                                           "messages": [{"role": "user", "content": "hello native"}]}),
    ]


# --------------------------------------------------------------------------- fixed hostile list

def fixed_cases() -> list[tuple[str, str, bytes, dict]]:
    """(name, path, body bytes, extra headers)."""
    ok = b'"model":"claude-sonnet-4-5","max_tokens":16'
    msgs = b'"messages":[{"role":"user","content":"hi"}]'

    def body(*parts: bytes) -> bytes:
        return b"{" + b",".join(parts) + b"}"

    cases = [
        ("empty body", b""),
        ("whitespace body", b"   \n\t "),
        ("null", b"null"), ("true", b"true"), ("number", b"1"), ("string", b'"hello"'),
        ("array", b"[]"), ("array of object", b"[" + body(ok, msgs) + b"]"),
        ("empty object", b"{}"),
        ("deep array 10000", nested(10000).b),
        ("deep object 10000", nested(10000, "object").b),
        ("deep array 100000", nested(100000).b),
        ("deep unclosed 10000", b"[" * 10000),
        ("deep messages 10000", body(ok, b'"messages":' + nested(10000).b)),
        ("deep content 10000", body(ok, b'"messages":[{"role":"user","content":' + nested(10000, "mixed").b + b"}]")),
        ("deep tool input 10000", body(ok, b'"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":'
                                     + nested(10000, "object").b + b"}]},{\"role\":\"user\",\"content\":\"b\"}]")),
        ("deep input_schema 10000", body(ok, msgs, b'"tools":[{"name":"f","input_schema":' + nested(10000, "object").b + b"}]")),
        ("deep metadata 10000", body(ok, msgs, b'"metadata":' + nested(10000, "object").b)),
        ("deep nesting 129", body(ok, msgs, b'"metadata":' + nested(129, "object").b)),
        ("invalid utf8 in model", body(b'"model":"claude-\xff\xfe","max_tokens":16', msgs)),
        ("invalid utf8 in content", body(ok, b'"messages":[{"role":"user","content":"a\xc3\x28b"}]')),
        ("overlong utf8", body(ok, b'"messages":[{"role":"user","content":"\xc0\xaf\xe0\x80\xaf"}]')),
        ("utf8 surrogate bytes", body(ok, b'"messages":[{"role":"user","content":"\xed\xa0\x80"}]')),
        ("lone surrogate escape", body(ok, b'"messages":[{"role":"user","content":"\\ud800"}]')),
        ("reversed surrogate escapes", body(ok, b'"messages":[{"role":"user","content":"\\udc00\\ud800"}]')),
        ("truncated escape", body(ok, b'"messages":[{"role":"user","content":"\\u12"}]')),
        ("invalid escape", body(ok, b'"messages":[{"role":"user","content":"\\x41"}]')),
        ("utf8 in key", body(ok, msgs, b'"\xff":1')),
        ("NUL escape in key", body(ok, msgs, b'"mo\\u0000del":"x"')),
        ("raw NUL in key", body(ok, msgs, b'"mo\x00del":"x"')),
        ("raw NUL in string", body(ok, b'"messages":[{"role":"user","content":"a\x00b"}]')),
        ("NUL escape in model", body(b'"model":"claude\\u0000evil","max_tokens":16', msgs)),
        ("raw control chars", body(ok, b'"messages":[{"role":"user","content":"\x01\x02\x1f\n"}]')),
        ("bom prefix", b"\xef\xbb\xbf" + body(ok, msgs)),
        ("utf16 body", body(ok, msgs).decode().encode("utf-16")),
        ("trailing garbage", body(ok, msgs) + b" xyz"),
        ("two objects", body(ok, msgs) + body(ok, msgs)),
        ("trailing comma", b'{"model":"m","max_tokens":1,"messages":[],}'),
        ("single quotes", b"{'model':'m'}"),
        ("truncated 1", body(ok, msgs)[:-1]),
        ("truncated half", body(ok, msgs)[:30]),
        ("truncated in string", b'{"model":"claude-son'),
        ("truncated in escape", b'{"model":"a\\'),
        ("truncated in number", b'{"max_tokens":12'),
        ("truncated literal", b'{"stream":tr'),
        ("duplicate model", body(ok, b'"model":1', msgs)),
        ("duplicate messages", body(ok, msgs, b'"messages":"x"')),
        ("duplicate stream", body(ok, msgs, b'"stream":true,"stream":false')),
        ("max_tokens 1e400", body(b'"model":"m","max_tokens":1e400', msgs)),
        ("max_tokens huge int", body(b'"model":"m","max_tokens":' + b"9" * 400, msgs)),
        ("max_tokens 2^63", body(b'"model":"m","max_tokens":9223372036854775808', msgs)),
        ("max_tokens 2^64", body(b'"model":"m","max_tokens":18446744073709551616', msgs)),
        ("max_tokens int64 max", body(b'"model":"m","max_tokens":9223372036854775807', msgs)),
        ("max_tokens -1", body(b'"model":"m","max_tokens":-1', msgs)),
        ("max_tokens -0", body(b'"model":"m","max_tokens":-0', msgs)),
        ("max_tokens 1.0", body(b'"model":"m","max_tokens":1.0', msgs)),
        ("max_tokens 1e2", body(b'"model":"m","max_tokens":1e2', msgs)),
        ("max_tokens 1.5", body(b'"model":"m","max_tokens":1.5', msgs)),
        ("max_tokens NaN", body(b'"model":"m","max_tokens":NaN', msgs)),
        ("max_tokens Infinity", body(b'"model":"m","max_tokens":Infinity', msgs)),
        ("max_tokens leading zero", body(b'"model":"m","max_tokens":016', msgs)),
        ("max_tokens +1", body(b'"model":"m","max_tokens":+1', msgs)),
        ("max_tokens string", body(b'"model":"m","max_tokens":"16"', msgs)),
        ("max_tokens true", body(b'"model":"m","max_tokens":true', msgs)),
        ("max_tokens null", body(b'"model":"m","max_tokens":null', msgs)),
        ("number 1e-400", body(ok, msgs, b'"temperature":1e-400')),
        ("number -1e400", body(ok, msgs, b'"temperature":-1e400')),
        ("number long mantissa", body(ok, msgs, b'"temperature":0.' + b"1" * 5000)),
        ("exponent huge", body(ok, msgs, b'"top_p":1e99999999999999999999')),
        ("model empty", body(b'"model":"","max_tokens":16', msgs)),
        ("model 100KiB", body(b'"model":"' + b"m" * 100_000 + b'","max_tokens":16', msgs)),
        ("model newline", body(b'"model":"a\\nb\\r\\nX-Evil: 1","max_tokens":16', msgs)),
        ("model array", body(b'"model":["claude"],"max_tokens":16', msgs)),
        ("model object", body(b'"model":{"a":1},"max_tokens":16', msgs)),
        ("messages empty", body(ok, b'"messages":[]')),
        ("messages null", body(ok, b'"messages":null')),
        ("messages object", body(ok, b'"messages":{"role":"user","content":"hi"}')),
        ("message not object", body(ok, b'"messages":["hi",1,null]')),
        ("role missing", body(ok, b'"messages":[{"content":"hi"}]')),
        ("role bogus", body(ok, b'"messages":[{"role":"wizard","content":"hi"}]')),
        ("role system", body(ok, b'"messages":[{"role":"system","content":"hi"},{"role":"user","content":"x"}]')),
        ("content null", body(ok, b'"messages":[{"role":"user","content":null}]')),
        ("content number", body(ok, b'"messages":[{"role":"user","content":5}]')),
        ("content empty array", body(ok, b'"messages":[{"role":"user","content":[]}]')),
        ("content empty string", body(ok, b'"messages":[{"role":"user","content":""}]')),
        ("block unknown type", body(ok, b'"messages":[{"role":"user","content":[{"type":"foo"}]}]')),
        ("block no type", body(ok, b'"messages":[{"role":"user","content":[{"text":"a"}]}]')),
        ("block type number", body(ok, b'"messages":[{"role":"user","content":[{"type":7}]}]')),
        ("image bad base64", body(ok, b'"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"%%%"}}]}]')),
        ("image no source", body(ok, b'"messages":[{"role":"user","content":[{"type":"image"}]}]')),
        ("tool_use bad id", body(ok, b'"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"tool_use","id":"bad id/\\u0000","name":"f","input":"notobject"}]}]')),
        ("tool_result orphan", body(ok, b'"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"nope","content":{"x":1}}]}]')),
        ("tools not array", body(ok, msgs, b'"tools":{"name":"f"}')),
        ("tool schema null", body(ok, msgs, b'"tools":[{"name":"f","input_schema":null}]')),
        ("tool name empty", body(ok, msgs, b'"tools":[{"name":"","input_schema":{}}]')),
        ("tool_choice garbage", body(ok, msgs, b'"tool_choice":{"type":"tool"}')),
        ("tool_choice string", body(ok, msgs, b'"tool_choice":"any"')),
        ("thinking budget huge", body(ok, msgs, b'"thinking":{"type":"enabled","budget_tokens":99999999999999999999}')),
        ("thinking type bogus", body(ok, msgs, b'"thinking":{"type":"maybe"}')),
        ("stream string", body(ok, msgs, b'"stream":"true"')),
        ("stream null", body(ok, msgs, b'"stream":null')),
        ("stop_sequences string", body(ok, msgs, b'"stop_sequences":"END"')),
        ("stop_sequences 10000", body(ok, msgs, b'"stop_sequences":[' + b",".join([b'"s"'] * 10000) + b"]")),
        ("temperature 5", body(ok, msgs, b'"temperature":5')),
        ("system number", body(ok, msgs, b'"system":42')),
        ("system blocks bad", body(ok, msgs, b'"system":[{"type":"image"}]')),
        ("metadata string", body(ok, msgs, b'"metadata":"x"')),
        ("100k messages", body(ok, b'"messages":[' + b",".join([b'{"role":"user","content":"a"}'] * 100_000) + b"]")),
        ("100k keys", body(ok, msgs, b'"metadata":{' + b",".join(b'"k%d":1' % i for i in range(100_000)) + b"}")),
        ("1000 duplicate keys", body(ok, msgs, b",".join([b'"model":"m"'] * 1000))),
        ("key 64KiB", body(ok, msgs, b'"' + b"k" * 65536 + b'":1')),
        ("string escapes storm", body(ok, b'"messages":[{"role":"user","content":"' + b"\\u00e9\\n\\\"" * 20000 + b'"}]')),
    ]
    out = [(f"fixed:{n}", "/v1/messages", b, {}) for n, b in cases]
    simple = body(ok, msgs)
    out += [
        ("fixed:count_tokens deep", "/v1/messages/count_tokens", body(b'"model":"m"', b'"messages":' + nested(10000).b), {}),
        ("fixed:count_tokens not object", "/v1/messages/count_tokens", b"[1,2]", {}),
        ("fixed:count_tokens truncated", "/v1/messages/count_tokens", b'{"model":"m","messages":[', {}),
        ("fixed:content-type text/plain", "/v1/messages", simple, {"Content-Type": "text/plain"}),
        ("fixed:content-type missing", "/v1/messages", simple, {"Content-Type": None}),
        ("fixed:content-type garbage", "/v1/messages", simple, {"Content-Type": "\x01\x02;;;=="}),
        ("fixed:anthropic-version odd", "/v1/messages", simple, {"anthropic-version": "1999-99-99\x7f"}),
        ("fixed:anthropic-beta huge", "/v1/messages", simple, {"anthropic-beta": ",".join(["x"] * 3000)}),
        ("fixed:query string junk", "/v1/messages?%%%&&==&beta=" + "a" * 2000, simple, {}),
        ("fixed:path dot segments", "/v1/../v1/messages", simple, {}),
        ("fixed:path double slash", "//v1//messages", simple, {}),
        ("fixed:path percent", "/v1/%6d%65ssages", simple, {}),
        ("fixed:path nul", "/v1/messages%00", simple, {}),
        ("fixed:anthropic prefix", "/anthropic/v1/messages/", simple, {}),
    ]
    return out


# --------------------------------------------------------------------------- mutation

ODD_STRINGS = ["", " ", "\u0000", "\ud800", "\udfff\ud800", "\u202e\u202d", "💥" * 50, "a" * 70000, "\\", "\"",
               "null", "true", "0", "-1", "claude-sonnet-4-5\u0000", "../../etc/passwd", "%s%n%x", "\r\n\r\n",
               "<script>", "ｆｕｌｌ", "\ufeff", "\x7f\x80", "toolu_" + "A" * 300, "x" * 129]
ODD_NUMBERS = [0, -1, 1, -0.0, 0.5, 2 ** 31, 2 ** 31 - 1, -2 ** 31, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, 2 ** 64, -2 ** 63 - 1,
               1e308, -1e308, 5e-324, 1.0, 1e2, 123456789.123456789]
RAW_NUMBERS = [b"1e400", b"-1e400", b"9" * 300, b"NaN", b"Infinity", b"-Infinity", b"1e-400", b"00", b"1.", b".5",
               b"-", b"+1", b"0x10", b"1e", b"1E+9999", b"-0.0e-0"]
KNOWN_KEYS = ["model", "max_tokens", "messages", "stream", "system", "tools", "tool_choice", "thinking", "metadata",
              "stop_sequences", "temperature", "top_p", "top_k", "role", "content", "type", "text", "source", "id", "name",
              "input", "tool_use_id", "is_error", "cache_control", "output_config", "budget_tokens", "signature", "data"]


def random_value(rnd: random.Random, depth: int = 0, keys: list[str] = KNOWN_KEYS):
    r = rnd.random()
    if r < 0.15:
        return rnd.choice(ODD_STRINGS)
    if r < 0.3:
        return rnd.choice(ODD_NUMBERS)
    if r < 0.4:
        return Raw(rnd.choice(RAW_NUMBERS))
    if r < 0.5:
        return rnd.choice([None, True, False])
    if r < 0.6 and depth < 3:
        return [random_value(rnd, depth + 1, keys) for _ in range(rnd.randint(0, 3))]
    if r < 0.7 and depth < 3:
        return {rnd.choice(keys): random_value(rnd, depth + 1, keys) for _ in range(rnd.randint(0, 3))}
    if r < 0.75:
        return nested(rnd.choice([129, 1000, 10000]), rnd.choice(["array", "object", "mixed"]))
    if r < 0.8:
        return Raw(b'"' + bytes(rnd.randrange(0x80, 0x100) for _ in range(rnd.randint(1, 6))) + b'"')  # bad UTF-8
    if r < 0.9:
        return rnd.choice(["user", "assistant", "text", "tool_use", "tool_result", "image", "thinking", "enabled",
                           "auto", "any", "none", "base64", "ephemeral"])
    return "fuzz-" + "".join(rnd.choice("abcxyz019-_") for _ in range(rnd.randint(1, 12)))


def containers(root):
    """Every (container, key) pair in the tree (dicts and lists only)."""
    out = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((node, k))
                if isinstance(v, (dict, list)):
                    stack.append(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((node, i))
                if isinstance(v, (dict, list)):
                    stack.append(v)
    return out


def retype(rnd: random.Random, v):
    choices = [None, True, 0, -1, 1.5, "", "str", [], {}, [v], {"value": v}]
    if isinstance(v, str):
        choices += [len(v), [v, v], v.encode("utf-8", "surrogatepass").hex()[:200]]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        choices += [str(v), [v], bool(v)]
    if isinstance(v, list):
        choices += [v[0] if v else None, {str(i): x for i, x in enumerate(v)}]
    if isinstance(v, dict):
        choices += [list(v.values()), list(v.keys())]
    return rnd.choice(choices)


MESSAGES_ROLES = ["assistant", "user", "system", "tool", "", None]


def mutate_tree(rnd: random.Random, body, keys: list[str] = KNOWN_KEYS,
                roles: list = MESSAGES_ROLES) -> tuple[object, list[str]]:
    """Apply 1-3 structural mutations; returns the new tree (may contain Raw/Pairs) and their names.
    `keys` and `roles` are the surface's vocabulary (Messages by default, or Chat Completions)."""
    body = copy.deepcopy(body)
    ops = []
    for _ in range(rnd.choice([1, 1, 1, 2, 2, 3])):
        slots = containers(body) if isinstance(body, (dict, list)) else []
        op = rnd.choice(["drop", "retype", "null", "odd", "odd", "number", "deep", "badutf8", "nulkey", "extra",
                         "dupkey", "dup_elem", "empty", "wrap", "not_object", "swap_role"])
        if not slots or op == "not_object":
            body = rnd.choice([None, [body], "body", 42, True, Raw(b"[]")])
            ops.append("not_object")
            break
        parent, key = rnd.choice(slots)
        val = parent[key]
        where = f"{op}@{key}"
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = retype(rnd, val)
        elif op == "null":
            parent[key] = None
        elif op == "odd":
            parent[key] = random_value(rnd, keys=keys)
        elif op == "number":
            parent[key] = rnd.choice([Raw(rnd.choice(RAW_NUMBERS)), rnd.choice(ODD_NUMBERS)])
        elif op == "deep":
            parent[key] = nested(rnd.choice([10000, 10000, 129, 128, 127, 3000]), rnd.choice(["array", "object", "mixed"]),
                                 leaf=encode(val)[:1000] if not isinstance(val, (dict, list)) else b"1")
        elif op == "badutf8":
            s = val if isinstance(val, str) else "x"
            junk = bytes(rnd.choice([0xff, 0xfe, 0xc0, 0xc3, 0xed, 0xf8, 0x80, 0xbf]) for _ in range(rnd.randint(1, 3)))
            cut = rnd.randint(0, len(s))
            parent[key] = Raw(b'"' + json.dumps(s[:cut])[1:-1].encode() + junk + json.dumps(s[cut:])[1:-1].encode() + b'"')
        elif op == "nulkey" and isinstance(parent, dict):
            new_key = str(key) + rnd.choice(["\u0000", "\u0000x", "\x00"]) if rnd.random() < 0.8 else "\u0000"
            items = [(new_key if k == key else k, v) for k, v in parent.items()]
            parent.clear()
            parent.update(items)
        elif op == "extra" and isinstance(parent, dict):
            parent[rnd.choice(keys + ["__proto__", "constructor", "", "x" * 1000])] = random_value(rnd, keys=keys)
        elif op == "dupkey" and isinstance(parent, dict):
            # replace the dict by an object with a repeated key (first or last value differs)
            items = list(parent.items())
            items.insert(rnd.randint(0, len(items)), (key, random_value(rnd, keys=keys)))
            _replace_node(body, parent, Pairs(items))
            body = body if not (parent is body) else Pairs(items)
        elif op == "dup_elem" and isinstance(parent, list):
            parent[key:key] = [val] * rnd.choice([1, 2, 100])
        elif op == "empty":
            parent[key] = type(val)() if isinstance(val, (dict, list, str)) else 0
        elif op == "wrap":
            parent[key] = [val] if rnd.random() < 0.5 else {"type": "text", "text": val}
        elif op == "swap_role" and isinstance(parent, dict) and "role" in parent:
            parent["role"] = rnd.choice(roles)
        else:
            parent[key] = random_value(rnd, keys=keys)
            where = f"odd@{key}"
        ops.append(where)
        if isinstance(body, Pairs):
            break  # the tree is no longer mutable as dict/list
    return body, ops


FREE_TEXT_KEYS = {"text", "content", "system", "description", "user_id", "data", "thinking", "signature"}


def mutate_text(rnd: random.Random, body, text_keys: set = FREE_TEXT_KEYS) -> tuple[object, list[str]]:
    """Mutations that keep the request valid: odd but legal strings in free-text fields, so the
    translator and the upstream path (not only validation) see hostile content."""
    body = copy.deepcopy(body)
    slots = [(p, k) for p, k in containers(body) if isinstance(p[k], str) and (k in text_keys or isinstance(k, int))]
    if not slots:
        return body, ["text:none"]
    ops = []
    for _ in range(rnd.randint(1, 3)):
        parent, key = rnd.choice(slots)
        choice = rnd.choice(ODD_STRINGS + ["\u0000" * 100, "x" * 300_000, "\n" * 5000, "data: [DONE]\n\n",
                                           "event: message_stop\ndata: {}\n\n", "}\"]}", "\u2028\u2029"])
        parent[key] = choice if rnd.random() < 0.5 else parent[key] + choice
        ops.append(f"text@{key}")
    return body, ops


def _replace_node(root, target, replacement):
    for parent, key in containers(root):
        if parent[key] is target:
            parent[key] = replacement
            return True
    return False


def damage_bytes(rnd: random.Random, data: bytes) -> tuple[bytes, str]:
    """Byte-level damage: truncate, flip, insert, delete, duplicate."""
    if not data:
        return data, "none"
    op = rnd.choice(["truncate", "truncate", "flip", "insert", "delete", "dup", "nul"])
    i = rnd.randrange(len(data))
    if op == "truncate":
        return data[:i], f"truncate@{i}"
    if op == "flip":
        b = bytearray(data)
        for _ in range(rnd.randint(1, 4)):
            j = rnd.randrange(len(b))
            b[j] ^= 1 << rnd.randrange(8)
        return bytes(b), "flip"
    if op == "insert":
        junk = rnd.choice([b"\x00", b"\xff", b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"\\u", os.urandom(4)])
        return data[:i] + junk + data[i:], f"insert@{i}"
    if op == "delete":
        return data[:i] + data[i + rnd.randint(1, 16):], f"delete@{i}"
    if op == "nul":
        return data[:i] + b"\x00" + data[i:], f"nul@{i}"
    j = rnd.randrange(len(data))
    return data[:i] + data[min(i, j):max(i, j)] + data[i:], "dup"


@dataclass
class FuzzCase:
    index: int
    name: str
    path: str
    body: bytes
    headers: dict = field(default_factory=dict)
    stream: bool = False
    invalid: str | None = None   # chat endpoint: why the validation rules refuse it (must not be a 2xx)

    def describe(self) -> str:
        return f"#{self.index} {self.name} {self.path} body[{len(self.body)}]={self.body[:160]!r}"


ENDPOINTS = ("messages", "chat", "all")


def generate(n: int, seed: int, endpoint: str = "messages") -> list[FuzzCase]:
    """The fixed hostile list, then random mutations, `n` requests in all (at least the fixed list).
    endpoint: "messages" (/v1/messages and count_tokens), "chat" (the OpenAI front door), "all" (both, half each)."""
    if endpoint == "chat":
        return generate_chat(n, seed)
    if endpoint == "all":
        first = generate(n // 2, seed, "messages")
        return first + generate_chat(n - len(first), seed, start=len(first))
    if endpoint != "messages":
        raise ValueError(f"unknown endpoint {endpoint!r}")
    cases = []
    for i, (name, path, body, headers) in enumerate(fixed_cases()):
        cases.append(FuzzCase(i, name, path, body, headers, stream=b'"stream":true' in body))
    base = seeds()
    i = len(cases)
    while i < n:
        rnd = random.Random(seed * 1_000_003 + i)
        sname, path, seed_body = rnd.choice(base)
        try:
            body, ops = mutate_text(rnd, seed_body) if rnd.random() < 0.25 else mutate_tree(rnd, seed_body)
            data = encode(body, ascii_only=rnd.random() < 0.3)
        except Exception as e:  # a mutator bug must not stop the run: fall back to byte damage
            body, ops = None, [f"mutator-error:{type(e).__name__}"]
            data, dmg = damage_bytes(rnd, encode(seed_body))
            ops.append("bytes:" + dmg)
        if rnd.random() < 0.15:
            data, dmg = damage_bytes(rnd, data)
            ops.append("bytes:" + dmg)
        if rnd.random() < 0.02:
            data = data + b" " * rnd.choice([0, 1024])
        stream = isinstance(body, dict) and body.get("stream") is True
        cases.append(FuzzCase(i, f"mut:{sname}:{'+'.join(ops)}", path, data, {}, stream=stream or b'"stream":true' in data))
        i += 1
    return cases


# --------------------------------------------------------------------------- chat completions (the OpenAI front door)

CHAT_PATH = "/v1/chat/completions"
CHAT_PREFIX_PATH = "/openai/v1/chat/completions"
CHAT_OAI_MODEL = "gpt-4o-mini"          # routed to the OpenAI-kind provider: passthrough (spec §7.1)
CHAT_NATIVE_MODEL = "claude-native-1"   # routed to the Anthropic-kind provider: translated (spec §7)
NATIVE_PREFIX = "claude-native"         # NATIVE_ROUTES matches claude-native*
PDF_B64 = base64.b64encode(b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n").decode()

CHAT_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
                                                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                                "required": ["city"]}}},
              {"type": "function", "function": {"name": "now"}}]
CHAT_KEYS = ["model", "messages", "stream", "stream_options", "include_usage", "max_tokens", "max_completion_tokens",
             "temperature", "top_p", "n", "stop", "tools", "tool_choice", "parallel_tool_calls", "reasoning_effort",
             "response_format", "json_schema", "schema", "user", "safety_identifier", "role", "content", "type", "text",
             "image_url", "url", "detail", "file", "file_data", "file_id", "input_audio", "tool_calls", "tool_call_id",
             "function", "name", "arguments", "parameters", "refusal", "id"]
CHAT_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
CHAT_MUTATION_ROLES = ["assistant", "user", "system", "developer", "tool", "function", "", None, "wizard"]
CHAT_TEXT_KEYS = {"text", "content", "description", "user", "safety_identifier", "url", "arguments", "name",
                  "file_data", "refusal", "detail"}
USER_PART_TYPES = {"text", "image_url", "file"}   # what the Anthropic translation accepts in user messages


def chat_seeds() -> list[tuple[str, str, dict]]:
    """(name, path, body) of valid Chat Completions requests, each for both kinds of target."""
    tool_history = [
        {"role": "user", "content": "weather in Paris and Rome?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "rainy"}]},
        {"role": "user", "content": "thanks, summarise"}]
    media = [{"role": "user", "content": [
        {"type": "text", "text": "describe these"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG_1PX, "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64," + PDF_B64}}]}]
    multi = [{"role": "system", "content": "be brief"},
             {"role": "developer", "content": [{"type": "text", "text": "rule one"}, {"type": "text", "text": "rule two"}]},
             {"role": "user", "content": "hi", "name": "ann"},
             {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
             {"role": "user", "content": [{"type": "text", "text": "again"}]}]
    legacy = [{"role": "assistant", "content": "I speak first."},
              {"role": "user", "content": "ok"},
              {"role": "assistant", "content": None, "tool_calls": [
                  {"id": "call_9", "type": "function", "function": {"name": "now", "arguments": "{}"}}]},
              {"role": "function", "name": "call_9", "content": "12:00"}]
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}
    hello = [{"role": "user", "content": "hello"}]
    out = []
    for model, tag in ((CHAT_OAI_MODEL, "oai"), (CHAT_NATIVE_MODEL, "native")):
        out += [
            (f"chat-{tag}-simple", CHAT_PATH, {"model": model, "messages": hello}),
            (f"chat-{tag}-stream", CHAT_PATH, {"model": model, "stream": True, "messages": [{"role": "user", "content": "hello there"}]}),
            (f"chat-{tag}-stream-usage", CHAT_PREFIX_PATH, {"model": model, "stream": True, "stream_options": {"include_usage": True},
                                                            "max_completion_tokens": 64, "messages": hello}),
            (f"chat-{tag}-multi", CHAT_PATH, {"model": model, "max_tokens": 100, "messages": multi}),
            (f"chat-{tag}-tools", CHAT_PATH, {"model": model, "max_completion_tokens": 200, "tools": CHAT_TOOLS,
                                              "tool_choice": "auto", "parallel_tool_calls": False, "messages": tool_history}),
            (f"chat-{tag}-tools-stream", CHAT_PATH, {"model": model, "stream": True, "tools": CHAT_TOOLS,
                                                     "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                                                     "messages": [{"role": "user", "content": "weather?"}]}),
            (f"chat-{tag}-sampling", CHAT_PATH, {"model": model, "temperature": 0.7, "top_p": 0.9, "stop": ["END", "\n\nUser:"],
                                                 "n": 1, "seed": 3, "presence_penalty": 0.1, "frequency_penalty": 0.1,
                                                 "user": "u-1", "safety_identifier": "s-1", "metadata": {"k": "v"},
                                                 "messages": hello}),
            (f"chat-{tag}-reasoning", CHAT_PATH, {"model": model, "reasoning_effort": "medium", "max_completion_tokens": 1500,
                                                  "messages": hello}),
            (f"chat-{tag}-json-schema", CHAT_PATH, {"model": model, "response_format": {
                "type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}}, "messages": hello}),
            (f"chat-{tag}-json-object", CHAT_PREFIX_PATH, {"model": model, "response_format": {"type": "json_object"},
                                                           "stop": "END", "messages": hello}),
            (f"chat-{tag}-media", CHAT_PATH, {"model": model, "max_tokens": 50, "messages": media}),
            (f"chat-{tag}-legacy", CHAT_PATH, {"model": model, "max_tokens": 0, "messages": legacy}),
        ]
    return out


def chat_fixed_cases() -> list[tuple[str, str, bytes, dict]]:
    """(name, path, body bytes, extra headers) of hostile Chat Completions requests."""
    msgs = b'"messages":[{"role":"user","content":"hi"}]'

    def body(*parts: bytes) -> bytes:
        return b"{" + b",".join(parts) + b"}"

    oai = b'"model":"' + CHAT_OAI_MODEL.encode() + b'"'
    cases = [
        ("empty body", b""), ("whitespace body", b"  \n "), ("null", b"null"), ("true", b"true"), ("number", b"7"),
        ("string", b'"hello"'), ("array", b"[]"), ("array of object", b"[" + body(oai, msgs) + b"]"), ("empty object", b"{}"),
        ("deep array 10000", nested(10000).b), ("deep object 10000", nested(10000, "object").b),
        ("deep unclosed", b"[" * 10000),
        ("deep messages", body(oai, b'"messages":' + nested(10000).b)),
        ("deep content", body(oai, b'"messages":[{"role":"user","content":' + nested(10000, "mixed").b + b"}]")),
        ("deep schema", body(oai, msgs, b'"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":'
                             + nested(10000, "object").b + b"}}")),
        ("deep parameters", body(oai, msgs, b'"tools":[{"type":"function","function":{"name":"f","parameters":'
                                 + nested(10000, "object").b + b"}}]")),
        ("deep nesting 129", body(oai, msgs, b'"metadata":' + nested(129, "object").b)),
        ("invalid utf8 in model", body(b'"model":"gpt-\xff\xfe"', msgs)),
        ("invalid utf8 in content", body(oai, b'"messages":[{"role":"user","content":"a\xc3\x28b"}]')),
        ("lone surrogate escape", body(oai, b'"messages":[{"role":"user","content":"\\ud800"}]')),
        ("NUL escape in key", body(oai, msgs, b'"mo\\u0000del":"x"')),
        ("raw NUL in string", body(oai, b'"messages":[{"role":"user","content":"a\x00b"}]')),
        ("bom prefix", b"\xef\xbb\xbf" + body(oai, msgs)),
        ("utf16 body", body(oai, msgs).decode().encode("utf-16")),
        ("trailing garbage", body(oai, msgs) + b" xyz"), ("two objects", body(oai, msgs) + body(oai, msgs)),
        ("trailing comma", body(oai, msgs + b",")), ("single quotes", b"{'model':'gpt'}"),
        ("truncated", body(oai, msgs)[:-1]), ("truncated half", body(oai, msgs)[:25]),
        ("NaN", body(oai, msgs, b'"temperature":NaN')), ("Infinity", body(oai, msgs, b'"max_tokens":Infinity')),
        ("duplicate model", body(oai, b'"model":1', msgs)), ("duplicate stream", body(oai, msgs, b'"stream":true,"stream":false')),
    ]
    out = [(f"chat-fixed:{n}", CHAT_PATH, b, {}) for n, b in cases]
    for tag, model in (("oai", CHAT_OAI_MODEL), ("native", CHAT_NATIVE_MODEL)):
        m = b'"model":"' + model.encode() + b'"'

        def user(content: bytes) -> bytes:
            return b'"messages":[{"role":"user","content":' + content + b"}]"

        per_target = [
            ("model empty", body(b'"model":""', msgs)), ("model number", body(b'"model":5', msgs)),
            ("model null", body(b'"model":null', msgs)), ("model array", body(b'"model":["' + model.encode() + b'"]', msgs)),
            ("model missing", body(msgs)), ("model 100KiB", body(b'"model":"' + model.encode() + b"m" * 100_000 + b'"', msgs)),
            ("messages missing", body(m)), ("messages empty", body(m, b'"messages":[]')),
            ("messages null", body(m, b'"messages":null')), ("messages string", body(m, b'"messages":"hi"')),
            ("messages object", body(m, b'"messages":{"role":"user","content":"hi"}')),
            ("message not object", body(m, b'"messages":["hi",1,null]')),
            ("role missing", body(m, b'"messages":[{"content":"hi"}]')),
            ("role bogus", body(m, b'"messages":[{"role":"wizard","content":"hi"}]')),
            ("role number", body(m, b'"messages":[{"role":3,"content":"hi"}]')),
            ("content null", body(m, user(b"null"))), ("content number", body(m, user(b"5"))),
            ("content empty array", body(m, user(b"[]"))), ("content empty string", body(m, user(b'""'))),
            ("system only", body(m, b'"messages":[{"role":"system","content":"s"}]')),
            ("assistant only", body(m, b'"messages":[{"role":"assistant","content":"a"}]')),
            ("stream string", body(m, msgs, b'"stream":"true"')), ("stream number", body(m, msgs, b'"stream":1')),
            ("stream null", body(m, msgs, b'"stream":null')),
            ("max_tokens -1", body(m, msgs, b'"max_tokens":-1')), ("max_tokens 1.5", body(m, msgs, b'"max_tokens":1.5')),
            ("max_tokens 1.0", body(m, msgs, b'"max_tokens":1.0')), ("max_tokens 1e2", body(m, msgs, b'"max_tokens":1e2')),
            ("max_tokens string", body(m, msgs, b'"max_tokens":"16"')), ("max_tokens 1e400", body(m, msgs, b'"max_tokens":1e400')),
            ("max_tokens 2^63", body(m, msgs, b'"max_tokens":9223372036854775808')),
            ("max_tokens huge int", body(m, msgs, b'"max_tokens":' + b"9" * 400)),
            ("max_completion_tokens -5", body(m, msgs, b'"max_completion_tokens":-5')),
            ("max_completion_tokens true", body(m, msgs, b'"max_completion_tokens":true')),
            ("max_completion_tokens 0", body(m, msgs, b'"max_completion_tokens":0')),
            ("temperature string", body(m, msgs, b'"temperature":"hot"')), ("temperature 5", body(m, msgs, b'"temperature":5')),
            ("temperature -1", body(m, msgs, b'"temperature":-1')), ("top_p string", body(m, msgs, b'"top_p":"x"')),
            ("n 2", body(m, msgs, b'"n":2')), ("n 0", body(m, msgs, b'"n":0')), ("n string", body(m, msgs, b'"n":"1"')),
            ("n null", body(m, msgs, b'"n":null')),
            ("tools object", body(m, msgs, b'"tools":{"type":"function"}')), ("tools string", body(m, msgs, b'"tools":"x"')),
            ("tools number item", body(m, msgs, b'"tools":[5]')),
            ("tool no function", body(m, msgs, b'"tools":[{"type":"function"}]')),
            ("tool name empty", body(m, msgs, b'"tools":[{"type":"function","function":{"name":""}}]')),
            ("tool_choice number", body(m, msgs, b'"tool_choice":5')), ("tool_choice any", body(m, msgs, b'"tool_choice":"any"')),
            ("tool_choice no name", body(m, msgs, b'"tool_choice":{"type":"function"}')),
            ("tool_choice unknown tool", body(m, msgs, b'"tool_choice":{"type":"function","function":{"name":"nope"}}')),
            ("stop number", body(m, msgs, b'"stop":5')), ("stop numbers", body(m, msgs, b'"stop":[1,2]')),
            ("stop blank", body(m, msgs, b'"stop":["  ","\\n"]')),
            ("stop 10000", body(m, msgs, b'"stop":[' + b",".join([b'"s"'] * 10000) + b"]")),
            ("input_audio part", body(m, user(b'[{"type":"text","text":"x"},{"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}}]'))),
            ("file_id part", body(m, user(b'[{"type":"file","file":{"file_id":"file-abc"}}]'))),
            ("unknown part", body(m, user(b'[{"type":"video_url","video_url":{"url":"https://x/v.mp4"}}]'))),
            ("part type number", body(m, user(b'[{"type":7}]'))), ("part no type", body(m, user(b'[{"text":"a"}]'))),
            ("image bad data url", body(m, user(b'[{"type":"image_url","image_url":{"url":"data:image/png;base64,%%%"}}]'))),
            ("image data url no comma", body(m, user(b'[{"type":"image_url","image_url":{"url":"data:image/png;base64"}}]'))),
            ("image url number", body(m, user(b'[{"type":"image_url","image_url":{"url":5}}]'))),
            ("image_url string", body(m, user(b'[{"type":"image_url","image_url":"https://x/a.png"}]'))),
            ("file bad data", body(m, user(b'[{"type":"file","file":{"file_data":"data:application/pdf;base64"}}]'))),
            ("reasoning_effort bogus", body(m, msgs, b'"reasoning_effort":"ultra"')),
            ("reasoning_effort number", body(m, msgs, b'"reasoning_effort":5')),
            ("reasoning_effort max", body(m, msgs, b'"reasoning_effort":"max","max_tokens":100')),
            ("response_format string", body(m, msgs, b'"response_format":"json"')),
            ("response_format bogus", body(m, msgs, b'"response_format":{"type":"bogus"}')),
            ("response_format no schema", body(m, msgs, b'"response_format":{"type":"json_schema"}')),
            ("stream_options string", body(m, msgs, b'"stream":true,"stream_options":"x"')),
            ("stream_options odd", body(m, msgs, b'"stream":true,"stream_options":{"include_usage":"yes"}')),
            ("parallel_tool_calls string", body(m, msgs, b'"parallel_tool_calls":"no"')),
            ("tool message no id", body(m, b'"messages":[{"role":"user","content":"a"},{"role":"tool","content":"r"}]')),
            ("tool_calls not array", body(m, b'"messages":[{"role":"user","content":"a"},{"role":"assistant","tool_calls":{"id":"x"}}]')),
            ("tool_call arguments object", body(m, b'"messages":[{"role":"user","content":"a"},{"role":"assistant","tool_calls":'
                                                   b'[{"id":"c1","type":"function","function":{"name":"f","arguments":{"a":1}}}]}]')),
            ("tool_call no function", body(m, b'"messages":[{"role":"user","content":"a"},{"role":"assistant","tool_calls":[{"id":"c1"}]}]')),
            ("100k messages", body(m, b'"messages":[' + b",".join([b'{"role":"user","content":"a"}'] * 100_000) + b"]")),
            ("100k keys", body(m, msgs, b'"metadata":{' + b",".join(b'"k%d":1' % i for i in range(100_000)) + b"}")),
            ("string escapes storm", body(m, user(b'"' + b"\\u00e9\\n\\\"" * 20000 + b'"'))),
        ]
        out += [(f"chat-fixed:{tag}:{n}", CHAT_PATH, b, {}) for n, b in per_target]
        simple = body(m, msgs)
        out += [
            (f"chat-fixed:{tag}:prefix path", CHAT_PREFIX_PATH, simple, {}),
            (f"chat-fixed:{tag}:prefix path n 2", CHAT_PREFIX_PATH, body(m, msgs, b'"n":2'), {}),
            (f"chat-fixed:{tag}:query string junk", CHAT_PATH + "?%%%&&==&x=" + "a" * 2000, simple, {}),
            (f"chat-fixed:{tag}:content-type text/plain", CHAT_PATH, simple, {"Content-Type": "text/plain"}),
            (f"chat-fixed:{tag}:content-type missing", CHAT_PATH, simple, {"Content-Type": None}),
            (f"chat-fixed:{tag}:content-type garbage", CHAT_PATH, simple, {"Content-Type": "\x01\x02;;;=="}),
            (f"chat-fixed:{tag}:anthropic headers", CHAT_PATH, simple, {"anthropic-version": "2023-06-01", "x-api-key": "k"}),
        ]
    return out


# ---- the validation oracle: which requests the front door must refuse (docs/openai-front-door.md, Validation)

class _FloatLiteral(float):
    """A JSON number written with a fraction or an exponent (so never a "JSON integer")."""


_AMBIGUOUS = object()      # the gateway may accept or refuse it: no rule applies
_NOT_JSON = object()


def _chat_json(data: bytes):
    """The body parsed strictly enough to tell "not JSON" apart, or _AMBIGUOUS where JSON readers
    legitimately differ (invalid UTF-8, a BOM, duplicate keys, nesting deeper than Python reads)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _AMBIGUOUS
    if text.startswith("\ufeff"):
        return _AMBIGUOUS
    duplicate = []

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            duplicate.append(True)
        return dict(items)

    def constant(name):
        raise ValueError(f"{name} is not JSON")

    def integer(s: str):
        digits = s.lstrip("-")
        return int(s) if len(digits) <= 4000 else (10 ** 4000) * (-1 if s.startswith("-") else 1)

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_float=_FloatLiteral, parse_int=integer,
                           parse_constant=constant, strict=False)
    except RecursionError:
        return _AMBIGUOUS
    except ValueError:
        return _NOT_JSON
    if duplicate:
        return _AMBIGUOUS
    return value


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def chat_invalid_reason(data: bytes) -> str | None:
    """Why the front door must refuse this body (400), or None when it may accept it. Conservative:
    only the rules the front-door doc's validation list gives (they hold for both kinds of target),
    `null` counts as absent, and only user-message content parts are judged. A `file` part by
    `file_id` is refused only for a translated request (model claude-native*: no Anthropic form)."""
    v = _chat_json(data)
    if v is _AMBIGUOUS:
        return None
    if v is _NOT_JSON:
        return "body is not JSON"
    if not isinstance(v, dict):
        return "body is not a JSON object"
    model = v.get("model")
    if not isinstance(model, str) or not model:
        return "model is not a non-empty string"
    msgs = v.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages is not a non-empty array"
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or m["role"] not in CHAT_ROLES:
            return f"messages[{i}] has no known role"
    if v.get("stream") is not None and not isinstance(v["stream"], bool):
        return "stream is not a boolean"
    for key in ("max_tokens", "max_completion_tokens"):
        x = v.get(key)
        if x is not None and (isinstance(x, bool) or not isinstance(x, int) or x < 0):
            return f"{key} is not a non-negative integer"
    for key in ("temperature", "top_p"):
        if v.get(key) is not None and not _is_number(v[key]):
            return f"{key} is not a number"
    n = v.get("n")
    if n is not None and not (_is_number(n) and n == 1):
        return "n is not 1"
    tools = v.get("tools")
    if tools is not None and (not isinstance(tools, list) or any(not isinstance(t, dict) for t in tools)):
        return "tools is not an array of objects"
    choice = v.get("tool_choice")
    if choice is not None and not isinstance(choice, (str, dict)):
        return "tool_choice is neither a string nor an object"
    stop = v.get("stop")
    if stop is not None and not isinstance(stop, str) and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        return "stop is neither a string nor an array of strings"
    for i, m in enumerate(msgs):
        content = m.get("content")
        if m["role"] != "user" or not isinstance(content, list):
            continue
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                continue
            kind = part["type"]
            if kind not in USER_PART_TYPES:
                return f"messages[{i}].content[{j}].type {kind!r} is not supported"
            f = part.get("file")
            if kind == "file" and model.startswith(NATIVE_PREFIX) and isinstance(f, dict) \
                    and f.get("file_id") is not None and f.get("file_data") is None:
                return f"messages[{i}].content[{j}] is a file by id"
    return None


# ---- chat-specific mutations

DATA_URLS = ["data:image/png;base64," + PNG_1PX, "data:image/png;base64,%%%", "data:image/png;base64", "data:;base64,",
             "data:image/svg+xml;utf8,<svg/>", "data:image/png;base64," + "A" * 200_000, "https://example.com/x.png",
             "http://[::1]/a.png", "ftp://example.com/a.png", "", "not a url", "file:///etc/passwd", "data:image/jpeg;base64,!!"]
ODD_PARTS = [{"type": "video_url", "video_url": {"url": "https://x/v.mp4"}}, {"type": 7}, {"text": "no type"},
             {"type": "text"}, {"type": "text", "text": 5}, {"type": "text", "text": ""}, {"type": "image_url"},
             {"type": "image_url", "image_url": "https://x/a.png"}, {"type": "refusal", "refusal": "no"},
             {"type": "file", "file": {}}, {"type": "file", "file": {"file_data": "data:text/plain;base64,aGk="}},
             "bare string", 42, None, []]


def _add_part(rnd: random.Random, body: dict, part) -> None:
    msgs = body.get("messages")
    if not isinstance(msgs, list):
        return
    users = [m for m in msgs if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        msgs.append({"role": "user", "content": [part]})
        return
    m = rnd.choice(users)
    if isinstance(m.get("content"), str):
        m["content"] = [{"type": "text", "text": m["content"]}]
    if not isinstance(m.get("content"), list):
        m["content"] = []
    m["content"].insert(rnd.randint(0, len(m["content"])), part)


def mutate_chat(rnd: random.Random, body: dict) -> tuple[object, list[str]]:
    """1-3 edits aimed at the front door's translation and validation rules."""
    body = copy.deepcopy(body)
    ops = []
    for _ in range(rnd.choice([1, 1, 2, 3])):
        op = rnd.choice(["n", "audio", "file_id", "odd_part", "image", "pdf", "effort", "format", "tool_choice",
                         "parallel", "stop", "stream_options", "max", "tool_message", "assistant_first", "system_only",
                         "tool_calls", "temperature", "model", "dropped_field"])
        ops.append("chat:" + op)
        msgs = body.setdefault("messages", [])
        if op == "n":
            body["n"] = rnd.choice([0, 1, 2, 5, -1, "1", 1.5, None, True])
        elif op == "audio":
            _add_part(rnd, body, {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": rnd.choice(["wav", "mp3", 5])}})
        elif op == "file_id":
            _add_part(rnd, body, {"type": "file", "file": {"file_id": "file-" + "x" * rnd.choice([1, 40, 500])}})
        elif op == "odd_part":
            _add_part(rnd, body, copy.deepcopy(rnd.choice(ODD_PARTS)))
        elif op == "image":
            _add_part(rnd, body, {"type": "image_url", "image_url": {"url": rnd.choice(DATA_URLS),
                                                                     "detail": rnd.choice(["low", "high", "auto", "x"])}})
        elif op == "pdf":
            _add_part(rnd, body, {"type": "file", "file": rnd.choice([
                {"filename": "a.pdf", "file_data": "data:application/pdf;base64," + PDF_B64},
                {"file_data": "data:application/pdf;base64,%%%"}, {"file_data": "data:application/pdf;base64"},
                {"file_data": "data:image/png;base64," + PNG_1PX}, {"file_data": 5}, {"filename": "x.pdf"}])})
        elif op == "effort":
            body["reasoning_effort"] = rnd.choice(["low", "medium", "high", "xhigh", "max", "none", "minimal", "ultra", "", 5, None])
        elif op == "format":
            body["response_format"] = rnd.choice([
                {"type": "json_object"}, {"type": "text"}, {"type": "json_schema"}, {"type": "json_schema", "json_schema": {}},
                {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
                {"type": "json_schema", "json_schema": {"name": "x", "schema": "not a schema"}}, {"type": "bogus"}, "json", 5, None])
        elif op == "tool_choice":
            body["tools"] = rnd.choice([CHAT_TOOLS, body.get("tools"), [], None])
            body["tool_choice"] = rnd.choice(["auto", "required", "none", "any", "", {"type": "function"},
                                              {"type": "function", "function": {"name": "get_weather"}},
                                              {"type": "function", "function": {"name": "nope"}}, {"type": "auto"}, 5, [], None])
        elif op == "parallel":
            body["parallel_tool_calls"] = rnd.choice([True, False, "no", 0, None])
        elif op == "stop":
            body["stop"] = rnd.choice(["", " ", "\n", "END", ["  "], ["END"] * 10, ["a"] * 5000, [1], 5, None, "x" * 5000, []])
        elif op == "stream_options":
            body["stream"] = rnd.random() < 0.8
            body["stream_options"] = rnd.choice([{"include_usage": True}, {"include_usage": False}, {"include_usage": "yes"},
                                                 {"include_obfuscation": False}, {}, "x", None, []])
        elif op == "max":
            for key in ("max_tokens", "max_completion_tokens"):
                if rnd.random() < 0.6:
                    body[key] = rnd.choice([0, 1, 4096, 2 ** 31, 2 ** 53 + 1, 2 ** 63 - 1, 10 ** 30, None, Raw(b"64")])
        elif op == "tool_message":
            msgs.insert(rnd.randint(0, len(msgs)), rnd.choice([
                {"role": "tool", "tool_call_id": "call_nope", "content": "orphan"},
                {"role": "tool", "content": "no id"}, {"role": "tool", "tool_call_id": 5, "content": None},
                {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]},
                {"role": "function", "name": "f", "content": "legacy"}, {"role": "function", "content": "no name"}]))
        elif op == "assistant_first":
            msgs.insert(0, {"role": "assistant", "content": rnd.choice(["prefill", "", None, [], [{"type": "refusal", "refusal": "no"}]])})
        elif op == "system_only":
            body["messages"] = [{"role": rnd.choice(["system", "developer"]), "content": rnd.choice(["only", "", []])}]
        elif op == "tool_calls":
            calls = rnd.choice([
                [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "not json"}}],
                [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}],
                [{"id": "c1", "type": "function", "function": {"name": "f"}}], [{"id": "c1"}], [{}], [],
                [{"id": f"c{k}", "type": "function", "function": {"name": "f", "arguments": "{}"}} for k in range(100)],
                [{"id": "bad id/é", "type": "function", "function": {"name": "bad name!", "arguments": "[1]"}}]])
            msgs.insert(rnd.randint(0, len(msgs)), {"role": "assistant", "content": rnd.choice([None, "", "x"]), "tool_calls": calls})
        elif op == "temperature":
            body[rnd.choice(["temperature", "top_p"])] = rnd.choice([-1, 0, 0.5, 1, 2, 2.5, 1e308, "0.5", None, [1]])
        elif op == "model":
            body["model"] = rnd.choice([CHAT_OAI_MODEL, CHAT_NATIVE_MODEL, NATIVE_PREFIX + "-x", "o3", "claude-native-1 "])
        else:
            body[rnd.choice(["logit_bias", "logprobs", "top_logprobs", "seed", "presence_penalty", "store", "service_tier",
                             "modalities", "prediction", "audio", "metadata", "user", "safety_identifier", "functions",
                             "function_call", "web_search_options"])] = random_value(rnd, keys=CHAT_KEYS)
    return body, ops


def generate_chat(n: int, seed: int, start: int = 0) -> list[FuzzCase]:
    """The chat front door's fixed hostile list, then random mutations of the chat seeds, `n` in all.
    Every case carries the oracle's verdict (`invalid`)."""
    cases = []
    for name, path, body, headers in chat_fixed_cases():
        cases.append(FuzzCase(start + len(cases), name, path, body, headers, stream=b'"stream":true' in body,
                              invalid=chat_invalid_reason(body)))
    base = chat_seeds()
    i = len(cases)
    while i < n:
        rnd = random.Random(seed * 1_000_003 + i + 500_000_017)   # a stream of its own, apart from the Messages run
        sname, path, seed_body = rnd.choice(base)
        try:
            r = rnd.random()
            if r < 0.2:
                body, ops = mutate_text(rnd, seed_body, CHAT_TEXT_KEYS)
            elif r < 0.55:
                body, ops = mutate_chat(rnd, seed_body)
            else:
                body, ops = mutate_tree(rnd, seed_body, CHAT_KEYS, CHAT_MUTATION_ROLES)
            data = encode(body, ascii_only=rnd.random() < 0.3)
        except Exception as e:  # a mutator bug must not stop the run: fall back to byte damage
            body, ops = None, [f"mutator-error:{type(e).__name__}"]
            data, dmg = damage_bytes(rnd, encode(seed_body))
            ops.append("bytes:" + dmg)
        if rnd.random() < 0.12:
            data, dmg = damage_bytes(rnd, data)
            ops.append("bytes:" + dmg)
        if rnd.random() < 0.02:
            data = data + b" " * rnd.choice([0, 1024])
        stream = isinstance(body, dict) and body.get("stream") is True
        cases.append(FuzzCase(start + i, f"chat-mut:{sname}:{'+'.join(ops)}", path, data, {},
                              stream=stream or b'"stream":true' in data, invalid=chat_invalid_reason(data)))
        i += 1
    return cases


# ---- judging chat answers

OPENAI_ERROR_TYPES = {"invalid_request_error", "authentication_error", "insufficient_quota", "permission_error",
                      "not_found_error", "rate_limit_error", "timeout_error", "server_error"}


def is_chat_path(path: str) -> bool:
    return path.split("?")[0].endswith("/chat/completions")


def malformed_head(case: FuzzCase) -> bool:
    """The request's head is not valid HTTP (a header value with control characters)."""
    return any(isinstance(v, str) and any(ord(ch) < 32 and ch != "\t" or ord(ch) == 127 for ch in v)
               for v in case.headers.values())


def chat_envelope_problems(resp: rk.RawResponse) -> list[str]:
    """Problems with an error answer of the chat endpoint: status, content type, the OpenAI envelope."""
    p = []
    if resp.status is None:
        return [f"no HTTP status ({resp.short()})"]
    if resp.status < 400:
        p.append(f"status {resp.status} is not an error status")
    if not resp.content_type.lower().startswith("application/json"):
        p.append(f"content-type {resp.content_type!r} is not application/json")
    try:
        body = json.loads(resp.body)
    except ValueError:
        return p + [f"body is not JSON: {resp.body[:200]!r}"]
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return p + [f"body is not an OpenAI error envelope: {resp.body[:200]!r}"]
    if body.get("type") == "error":
        p.append("the Anthropic envelope on the chat endpoint")
    err = body["error"]
    if not isinstance(err.get("message"), str) or not err["message"]:
        p.append(f"error.message missing: {err!r}"[:300])
    if err.get("type") not in OPENAI_ERROR_TYPES:
        p.append(f"error.type {err.get('type')!r} is not an OpenAI error type")
    if "param" not in err or "code" not in err:
        p.append(f"error.param / error.code missing: {err!r}"[:300])
    elif err["code"] is not None and not isinstance(err["code"], str):
        p.append(f"error.code {err['code']!r} is neither null nor a string")
    return p


def classify_chat(resp: rk.RawResponse) -> str | None:
    """None when a 2xx of the chat endpoint is a complete answer, else what is wrong with it:
    a `chat.completion` with a finish_reason, or an SSE stream of `chat.completion.chunk`s that ends
    with one `[DONE]` after a finish_reason, or ends with one well-formed `{"error":…}` data event."""
    ct = resp.content_type.lower()
    if not resp.complete:
        return f"2xx body incomplete: {resp.short()}"
    if ct.startswith("text/event-stream"):
        events = []
        for block in resp.body.replace(b"\r\n", b"\n").split(b"\n\n"):
            data = [line[5:].lstrip(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
            if not data:
                continue
            text = b"\n".join(data)
            if text == b"[DONE]":
                events.append("[DONE]")
                continue
            try:
                events.append(json.loads(text))
            except ValueError:
                return f"data event is not JSON: {text[:200]!r}"
        if not events:
            return "empty stream"
        for i, e in enumerate(events):
            if isinstance(e, dict) and "error" in e:
                err = e["error"]
                if not isinstance(err, dict) or not isinstance(err.get("message"), str) or not isinstance(err.get("type"), str):
                    return f"malformed error event: {e!r}"[:300]
                if i != len(events) - 1:
                    return f"events after the error event: {events[i + 1:i + 3]!r}"[:300]
                return None
        if events[-1] != "[DONE]" or events.count("[DONE]") != 1:
            return f"stream does not end with one [DONE] (truncated success?): last {events[-2:]!r}"[:300]
        finished = False
        for c in events[:-1]:
            if not isinstance(c, dict) or c.get("object") != "chat.completion.chunk" or not isinstance(c.get("choices"), list):
                return f"not a chat.completion.chunk: {c!r}"[:300]
            if any(isinstance(ch, dict) and ch.get("finish_reason") for ch in c["choices"]):
                finished = True
        return None if finished else "stream ended with [DONE] but no finish_reason"
    if not ct.startswith("application/json"):
        return f"2xx with content-type {ct!r}"
    try:
        obj = json.loads(resp.body)
    except ValueError:
        return f"2xx body not JSON: {resp.body[:200]!r}"
    if not isinstance(obj, dict) or "error" in obj or obj.get("object") != "chat.completion":
        return f"2xx body is not a chat.completion (an error inside a 200?): {resp.body[:300]!r}"
    choices = obj.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
            or not isinstance(choices[0].get("message"), dict):
        return f"chat.completion without a message: {resp.body[:300]!r}"
    if choices[0].get("finish_reason") is None:
        return "chat.completion without finish_reason"
    return None


# --------------------------------------------------------------------------- running

class Conn:
    """A keep-alive connection to the gateway, reopened when the gateway closes it."""

    def __init__(self, port: int):
        self.port = port
        self.sock: socket.socket | None = None
        self.uses = 0
        self.stale_retries = 0

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def exchange(self, case: FuzzCase, timeout: float) -> rk.RawResponse:
        for attempt in range(2):
            fresh = self.sock is None
            if fresh:
                try:
                    self.sock = rk.connect(self.port, timeout=5)
                except OSError as e:
                    return rk.RawResponse(error=f"connect: {e}")
                self.uses = 0
            headers = {"Content-Type": "application/json"}
            for k, v in case.headers.items():
                if v is None:
                    headers.pop(k, None)
                    headers.pop(k.title(), None)
                else:
                    headers[k] = v
            raw = rk.build_request("POST", case.path, case.body, headers)
            start = time.monotonic()
            send_error = None
            try:
                self.sock.settimeout(timeout)
                self.sock.sendall(raw)
            except OSError as e:
                send_error = e
            resp = rk.read_response(self.sock, timeout, "POST", start)
            self.uses += 1
            if resp.status is None and not resp.timed_out and not fresh and not resp.body:
                # The gateway closed a kept-alive connection before reading this request (it may close
                # an idle connection at any time): count it and retry once on a fresh connection.
                self.stale_retries += 1
                self.close()
                continue
            if send_error is not None and resp.error is None and resp.status is None:
                resp.error = f"send: {send_error}"
            if (resp.closed or resp.timed_out or resp.error or not resp.complete
                    or resp.headers.get("connection", "").lower() == "close"):
                self.close()
            return resp
        return resp


@dataclass
class Summary:
    requests: int = 0
    ok2xx: int = 0
    c4xx: int = 0
    c5xx: int = 0
    non_envelope: int = 0
    bad_2xx: int = 0
    hangs: int = 0
    dropped: int = 0
    crashes: int = 0
    other_status: int = 0
    accepted_invalid: int = 0   # chat endpoint: a 2xx for a request the validation rules refuse
    statuses: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)  # category -> [descriptions]
    elapsed: float = 0.0
    max_latency: float = 0.0
    seed: int = 0
    stale_keepalive: int = 0  # kept-alive connections the gateway had closed under us (retried)

    def fail(self, cat: str, text: str):
        self.failures.setdefault(cat, [])
        if len(self.failures[cat]) < 8:
            self.failures[cat].append(text)

    @property
    def problems(self) -> int:
        return (self.c5xx + self.non_envelope + self.bad_2xx + self.hangs + self.dropped + self.crashes + self.other_status
                + self.accepted_invalid)

    def line(self) -> str:
        return (f"fuzz summary: requests={self.requests} 2xx={self.ok2xx} 4xx={self.c4xx} 5xx={self.c5xx} "
                f"non_envelope={self.non_envelope} hangs={self.hangs} crashes={self.crashes} dropped={self.dropped} "
                f"bad_2xx={self.bad_2xx} accepted_invalid={self.accepted_invalid} other={self.other_status} "
                f"stale_keepalive={self.stale_keepalive} seed={self.seed} "
                f"max_latency={self.max_latency:.2f}s elapsed={self.elapsed:.1f}s")

    def report(self) -> str:
        out = [f"statuses: {dict(sorted(self.statuses.items(), key=lambda kv: str(kv[0])))}"]
        for cat, items in self.failures.items():
            out.append(f"{cat}:")
            out += [f"  {t}" for t in items]
        out.append(self.line())
        return "\n".join(out)


def check_2xx(case: FuzzCase, resp: rk.RawResponse) -> str | None:
    if is_chat_path(case.path):
        return classify_chat(resp)
    if case.path.startswith("/v1/messages/count_tokens"):
        try:
            body = json.loads(resp.body)
        except ValueError:
            return "count_tokens 2xx is not JSON"
        if not isinstance(body, dict) or not isinstance(body.get("input_tokens"), int):
            return f"count_tokens 2xx without input_tokens: {resp.body[:200]!r}"
        return None
    stream = resp.content_type.lower().startswith("text/event-stream")
    out = rk.classify(resp, stream)
    if out.kind == "success":
        return None
    return f"{out.kind}: {out.detail}"


def run_fuzz(port: int, n: int, seed: int, alive=None, workers: int = 4, timeout: float = 15.0,
             log=print, dump_dir: str | None = None, endpoint: str = "messages") -> Summary:
    """Send `n` requests (fixed list + mutations) to the gateway on `port` and judge every answer.
    `alive()` tells whether the gateway process still runs (crash detection). `endpoint` as for `generate`."""
    cases = generate(n, seed, endpoint)
    summary = Summary(seed=seed)
    lock = threading.Lock()
    next_index = [0]
    stop = threading.Event()
    started = time.monotonic()

    def record(case: FuzzCase, resp: rk.RawResponse):
        with lock:
            summary.requests += 1
            summary.max_latency = max(summary.max_latency, resp.elapsed)
            key = resp.status if resp.status is not None else ("timeout" if resp.timed_out else "no-status")
            summary.statuses[key] = summary.statuses.get(key, 0) + 1
        desc = f"{case.describe()} -> {resp.short(240)}"
        if resp.timed_out:
            with lock:
                summary.hangs += 1
                summary.fail("hang", desc)
            return
        if resp.status is None:
            if alive is not None and not alive():
                with lock:
                    summary.crashes += 1
                    summary.fail("crash", desc)
                stop.set()
                return
            with lock:
                summary.dropped += 1
                summary.fail("dropped (no answer, connection closed)", desc)
            return
        if 200 <= resp.status < 300:
            problem = check_2xx(case, resp)
            with lock:
                summary.ok2xx += 1
                if problem:
                    summary.bad_2xx += 1
                    summary.fail("bad 2xx", f"{desc} :: {problem}")
                if case.invalid:
                    summary.accepted_invalid += 1
                    summary.fail("accepted invalid request", f"{desc} :: {case.invalid}")
            return
        probs = chat_envelope_problems(resp) if is_chat_path(case.path) else rk.envelope_problems(resp)
        if probs and is_chat_path(case.path) and malformed_head(case) and not rk.envelope_problems(resp):
            probs = []   # rejected as malformed HTTP before any endpoint saw it: the generic envelope is fine
        with lock:
            if 400 <= resp.status < 500:
                summary.c4xx += 1
            elif resp.status >= 500:
                summary.c5xx += 1
                summary.fail("5xx", desc)
            else:
                summary.other_status += 1
                summary.fail("other status", desc)
            if probs:
                summary.non_envelope += 1
                summary.fail("non-envelope", f"{desc} :: {'; '.join(probs)}")

    def worker():
        conn = Conn(port)
        while not stop.is_set():
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(cases):
                break
            case = cases[i]
            resp = conn.exchange(case, timeout)
            record(case, resp)
            if dump_dir and (resp.status is None or resp.timed_out or (resp.status or 0) >= 500
                             or (case.invalid and 200 <= (resp.status or 0) < 300)):
                pathlib.Path(dump_dir).mkdir(parents=True, exist_ok=True)
                (pathlib.Path(dump_dir) / f"case-{case.index}.bin").write_bytes(case.body)
            if i % 200 == 0 and alive is not None and not alive():
                with lock:
                    summary.crashes += 1
                    summary.fail("crash", f"gateway not alive after request #{i}")
                stop.set()
        conn.close()
        with lock:
            summary.stale_keepalive += conn.stale_retries

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if alive is not None and not alive() and not summary.crashes:
        summary.crashes += 1
        summary.fail("crash", "gateway not alive at the end of the run")
    summary.elapsed = time.monotonic() - started
    return summary


# --------------------------------------------------------------------------- standalone

NATIVE_ROUTES = [
    {"name": "native", "match": {"models": ["claude-native*"]}, "targets": [{"provider": "mock-anthropic", "model": "claude-upstream"}]},
    {"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/model-a"}]},
]


def fuzz_config(mock_url: str, max_body: str = "4MiB") -> dict:
    return {
        "server": {"max_body_bytes": max_body},
        "providers": {"mock": {"kind": "openai", "dialect": "openrouter", "base_url": mock_url + "/api/v1",
                               "api_key": "sk-fuzz-upstream-key",
                               "timeouts": {"connect": "2s", "first_byte": "10s", "idle": "5s"}},
                      "mock-anthropic": {"kind": "anthropic", "base_url": mock_url, "api_key": "sk-ant-fuzz-upstream-key",
                                         "timeouts": {"connect": "2s", "first_byte": "10s", "idle": "5s"}}},
        "routes": NATIVE_ROUTES,
        "fallback": {"cooldown": "0s"},
        "auth": {"mode": "open"},
        "logging": {"level": "warning"},
    }


def start_gateway(binary: str, config: dict, workdir: pathlib.Path):
    cfg = workdir / "fuzz.yaml"
    cfg.write_text(json.dumps(config, indent=2))
    port_file = workdir / "fuzz.port"
    proc = subprocess.Popen([binary, "serve", "--config", str(cfg), "--listen", "127.0.0.1:0", "--port-file", str(port_file)],
                            stdout=open(workdir / "fuzz.stdout", "wb"), stderr=open(workdir / "fuzz.stderr", "wb"), cwd=str(workdir))
    deadline = time.time() + 20
    while time.time() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return proc, int(port_file.read_text().strip())
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited {proc.returncode}: {(workdir / 'fuzz.stderr').read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("gateway did not start")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds allowed per answer")
    ap.add_argument("--url", help="an already running gateway (http://127.0.0.1:PORT); default: start one")
    ap.add_argument("--pid", type=int, help="pid of the gateway given by --url (crash detection)")
    ap.add_argument("--bin", default=os.environ.get("SWITCHYARD_BIN", str(HERE.parent.parent / ".build/debug/switchyard")))
    ap.add_argument("--dump", help="write the bodies of 5xx/dropped/hung/accepted-invalid requests to this directory")
    ap.add_argument("--endpoint", choices=ENDPOINTS, default="messages",
                    help="messages: /v1/messages and count_tokens (default); chat: the OpenAI front door "
                         "(/v1/chat/completions, /openai/v1/chat/completions); all: both, half each")
    args = ap.parse_args(argv)

    mock = proc = None
    tmp = None
    try:
        if args.url:
            port = int(args.url.rstrip("/").rsplit(":", 1)[1])
            alive = (lambda: os.path.exists(f"/proc/{args.pid}")) if args.pid else None
            pid = args.pid
        else:
            from testkit.mock_client import MockUpstream
            mock = MockUpstream()
            tmp = tempfile.TemporaryDirectory(prefix="switchyard-fuzz-")
            proc, port = start_gateway(args.bin, fuzz_config(mock.base_url), pathlib.Path(tmp.name))
            alive = lambda: proc.poll() is None  # noqa: E731
            pid = proc.pid
        rss0 = rk.rss_kib(pid) if pid else None
        summary = run_fuzz(port, args.requests, args.seed, alive=alive, workers=args.workers, timeout=args.timeout,
                           dump_dir=args.dump, endpoint=args.endpoint)
        if pid and os.path.exists(f"/proc/{pid}"):
            print(f"gateway RSS: {rss0} KiB before, {rk.rss_kib(pid)} KiB after")
        if proc is not None and proc.poll() is not None:
            print(f"gateway exited with {proc.returncode}; stderr tail:\n{(pathlib.Path(tmp.name) / 'fuzz.stderr').read_text()[-3000:]}")
        print(summary.report())
        return 0 if summary.problems == 0 else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if mock is not None:
            mock.stop()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
