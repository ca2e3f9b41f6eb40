"""Tests of the mock upstream itself, using only http.client / socket on the client side."""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import re
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

from testkit.mock_client import MOCK_SCRIPT, MockError, MockUpstream, raw_chunk

CHAT = "/api/v1/chat/completions"
MESSAGES = "/v1/messages"


# --------------------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def mock():
    with MockUpstream() as m:
        yield m


@pytest.fixture(autouse=True)
def fresh(request):
    if "mock" in request.fixturenames:
        request.getfixturevalue("mock").reset()


def post(mock, body, path=CHAT, headers=None, timeout=10):
    """POST JSON with http.client; returns (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=timeout)
    try:
        headers = {"content-type": "application/json", **(headers or {})}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def sse_data(raw: bytes) -> list:
    """``data:`` payloads of an SSE body, JSON-decoded ('[DONE]' kept as a string)."""
    out = []
    for line in raw.decode().split("\n"):
        if line.startswith("data: "):
            payload = line[6:]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def anthropic_events(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for block in raw.decode().split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def raw_send(mock, body, path=CHAT, timeout=3.0, extra=b"") -> socket.socket:
    """Send a request on a fresh socket and return the socket."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", mock.port), timeout=timeout)
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n%s"
                 b"Content-Length: %d\r\n\r\n%s" % (path.encode(), extra, len(payload), payload))
    return sock


def read_all(sock) -> tuple[bytes, str]:
    """Read until the peer ends: returns (bytes, 'eof' | 'reset' | 'timeout')."""
    parts = []
    try:
        while True:
            piece = sock.recv(65536)
            if not piece:
                return b"".join(parts), "eof"
            parts.append(piece)
    except ConnectionResetError:
        return b"".join(parts), "reset"
    except socket.timeout:
        return b"".join(parts), "timeout"
    finally:
        sock.close()


def split_response(raw: bytes) -> tuple[int, dict, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def dechunk(body: bytes) -> tuple[list[bytes], bool]:
    """Chunk payloads and whether the terminating zero-length chunk was seen."""
    chunks, pos = [], 0
    while pos < len(body):
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            break
        size = int(body[pos:eol], 16)
        if size == 0:
            return chunks, True
        start = eol + 2
        chunks.append(body[start:start + size])
        if len(body) < start + size + 2:
            break
        pos = start + size + 2
    return chunks, False


def chat_stream(mock, reply, body=None) -> list:
    mock.script([{"reply": {"type": "chat", **reply}}])
    status, headers, raw = post(mock, {"model": "m/x", "stream": True, **(body or {})})
    assert status == 200 and headers["content-type"] == "text/event-stream"
    return sse_data(raw)


# --------------------------------------------------------------------------- process & control API

def test_startup_line_and_sigterm_exit():
    proc = subprocess.Popen([sys.executable, MOCK_SCRIPT, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert select.select([proc.stdout], [], [], 10)[0]
        line = proc.stdout.readline()
        assert re.fullmatch(r"MOCK_PORT=\d+\n", line)
        port = int(line.strip().split("=")[1])
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert proc.stdout.read() == ""
    finally:
        proc.kill()


def test_sigint_exits_cleanly_with_open_stalled_connection():
    mock = MockUpstream()
    mock.script([{"reply": {"type": "fault", "mode": "stall_after_headers"}}])
    sock = raw_send(mock, {"stream": True})
    time.sleep(0.2)
    mock.proc.send_signal(signal.SIGINT)
    assert mock.proc.wait(5) == 0
    sock.close()
    mock.stop()


def test_control_api_log_and_reset(mock):
    assert mock.health()
    assert mock.script([{"reply": {"type": "chat", "content": "a"}}]) == {"ok": True}
    post(mock, {"model": "m", "messages": []}, path="/x/chat/completions", headers={"X-Test": "Yes"})
    post(mock, b"not json".decode(), path=CHAT)  # body is the JSON string "not json"
    conn = http.client.HTTPConnection("127.0.0.1", mock.port)
    conn.request("POST", CHAT, body=b"plain text body")
    conn.getresponse().read()
    log = mock.requests()
    assert [r["path"] for r in log] == ["/x/chat/completions", CHAT, CHAT]
    assert log[0]["method"] == "POST" and log[0]["headers"]["x-test"] == "Yes"
    assert log[0]["body"] == {"model": "m", "messages": []} and log[0]["rule"] == 0
    assert log[2]["body"] == "plain text body" and log[2]["rule"] is None
    assert log[0]["time"] <= log[1]["time"] <= log[2]["time"]
    assert mock.rules()[0]["times"] == 0
    mock.reset()
    assert mock.requests() == [] and mock.rules() == []


def test_invalid_rules_are_rejected(mock):
    for bad in ({"reply": {"type": "nope"}}, {"match": {"modle": "x"}, "reply": {"type": "chat"}},
                {"reply": {"type": "fault", "mode": "nope"}}, {"match": {}},
                {"reply": {"type": "chat", "tool_calls": [{"id": "x"}]}},
                {"reply": {"type": "chat", "tool_calls": [{"name": "f", "arguments": {"a": 1}}]}}):
        with pytest.raises(MockError):
            mock.script([bad])
    assert mock.rules() == []


def test_unusable_reply_gives_500_and_mock_survives(mock):
    mock.script([{"reply": {"type": "chat", "content": "x", "chunk_size": "big"}}])
    status, headers, raw = post(mock, {"stream": True})
    assert status == 500 and headers["x-mock-internal-error"] == "1" and b"mock internal error" in raw
    assert mock.health()


def test_keep_alive_many_requests_one_connection(mock):
    mock.script([{"times": -1, "reply": {"type": "chat", "content": "k"}}])
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=5)
    conn.connect()
    first_sock = conn.sock
    for i in range(20):
        conn.request("POST", CHAT, body=json.dumps({"model": "m", "stream": i % 2 == 0}))
        resp = conn.getresponse()
        assert resp.status == 200 and b"k" in resp.read()
    assert conn.sock is first_sock
    conn.close()
    assert len(mock.requests()) == 20


def test_chunked_request_body(mock):
    mock.script([{"match": {"model": "chunky"}, "reply": {"type": "json", "body": {"got": "it"}}}])
    payload = json.dumps({"model": "chunky", "messages": []}).encode()
    sock = socket.create_connection(("127.0.0.1", mock.port), timeout=5)
    parts = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (payload[:7], payload[7:]))
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n"
                 b"Connection: close\r\n\r\n" + parts + b"0\r\n\r\n")
    status, _, body = split_response(read_all(sock)[0])
    assert status == 200 and json.loads(body) == {"got": "it"}
    assert mock.requests()[0]["body"]["model"] == "chunky"


# --------------------------------------------------------------------------- matching

def test_first_matching_rule_wins_and_times(mock):
    mock.script([{"match": {"model": "a"}, "times": 2, "reply": {"type": "chat", "content": "first"}},
                 {"times": -1, "reply": {"type": "chat", "content": "second"}},
                 {"reply": {"type": "chat", "content": "never"}}])
    contents = [json.loads(post(mock, {"model": "a"})[2])["choices"][0]["message"]["content"] for _ in range(4)]
    assert contents == ["first", "first", "second", "second"]
    assert [r["times"] for r in mock.rules()] == [0, -1, 1]


def test_no_rule_default_replies(mock):
    body = json.loads(post(mock, {"model": "m"})[2])
    assert body["choices"][0]["message"]["content"] == "mock: no rule matched"
    body = json.loads(post(mock, {"model": "m"}, path=MESSAGES)[2])
    assert body["type"] == "message" and body["content"][0]["text"] == "mock: no rule matched"
    assert post(mock, {}, path="/v1/models")[0] == 404


OPENAI_TOOLS = {"model": "gpt", "stream": True, "reasoning": {"effort": "high"},
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "messages": [{"role": "user", "content": "first question"},
                             {"role": "assistant", "content": None, "tool_calls": []},
                             {"role": "tool", "tool_call_id": "c", "content": "result"},
                             {"role": "user", "content": [{"type": "text", "text": "second NEEDLE"}]}]}
ANTHROPIC_BODY = {"model": "claude", "messages": [
    {"role": "user", "content": "hello"},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "r"},
                                 {"type": "text", "text": "after tool"}]}]}


@pytest.mark.parametrize("match,body,path,expected", [
    ({"stream": True}, OPENAI_TOOLS, CHAT, True),
    ({"stream": False}, OPENAI_TOOLS, CHAT, False),
    ({"has_tools": True}, OPENAI_TOOLS, CHAT, True),
    ({"has_tools": True}, {"tools": []}, CHAT, False),
    ({"has_tool_messages": True}, OPENAI_TOOLS, CHAT, True),
    ({"has_tool_messages": True}, ANTHROPIC_BODY, MESSAGES, True),
    ({"has_tool_messages": True}, {"messages": [{"role": "user", "content": "x"}]}, CHAT, False),
    ({"model": "gpt"}, OPENAI_TOOLS, CHAT, True),
    ({"model": "gp"}, OPENAI_TOOLS, CHAT, False),
    ({"path_suffix": "/api/v1/chat/completions"}, {}, CHAT, True),
    ({"path_suffix": "/other"}, {}, CHAT, False),
    ({"api": "openai"}, {}, CHAT, True),
    ({"api": "anthropic"}, {}, CHAT, False),
    ({"api": "anthropic"}, {}, MESSAGES, True),
    ({"contains": "\"tool_call_id\""}, OPENAI_TOOLS, CHAT, True),
    ({"last_user_contains": "NEEDLE"}, OPENAI_TOOLS, CHAT, True),
    ({"last_user_contains": "first"}, OPENAI_TOOLS, CHAT, False),
    ({"last_user_contains": "after tool"}, ANTHROPIC_BODY, MESSAGES, True),
    ({"has_reasoning": True}, OPENAI_TOOLS, CHAT, True),
    ({"has_reasoning": True}, {"reasoning_effort": "low"}, CHAT, True),
    ({"has_reasoning": False}, {"model": "x"}, CHAT, True),
    ({"stream": True, "model": "other"}, OPENAI_TOOLS, CHAT, False),
])
def test_match_keys(mock, match, body, path, expected):
    mock.script([{"match": match, "reply": {"type": "error", "status": 418}}])
    assert (post(mock, body, path=path)[0] == 418) is expected


# --------------------------------------------------------------------------- chat

def test_chat_non_stream_shape(mock):
    mock.script([{"reply": {"type": "chat", "content": "hi", "reasoning": "because", "reasoning_signature": "SIG",
                            "tool_calls": [{"id": "call_1", "name": "Read", "arguments": "{\"p\":1}"}],
                            "headers": {"x-extra": "1"}}}])
    status, headers, raw = post(mock, {"model": "m/x"})
    body = json.loads(raw)
    assert status == 200 and headers["x-extra"] == "1" and headers["content-length"] == str(len(raw))
    assert body["object"] == "chat.completion" and body["model"] == "m/x" and body["id"].startswith("gen-")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    msg = choice["message"]
    assert msg["role"] == "assistant" and msg["content"] == "hi" and msg["reasoning"] == "because"
    assert msg["reasoning_details"] == [{"type": "reasoning.text", "text": "because", "signature": "SIG",
                                         "format": "anthropic-claude-v1", "index": 0}]
    assert msg["tool_calls"] == [{"id": "call_1", "type": "function",
                                  "function": {"name": "Read", "arguments": "{\"p\":1}"}}]
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def test_chat_non_stream_overrides(mock):
    mock.script([{"reply": {"type": "chat", "content": None, "finish_reason": "length", "model": "up/slug",
                            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, "status": 201}}])
    status, _, raw = post(mock, {"model": "m"})
    body = json.loads(raw)
    assert status == 201 and body["model"] == "up/slug" and body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] is None and body["usage"]["total_tokens"] == 3


def test_chat_stream_text_reasoning_tools(mock):
    args0, args1 = "{\"file_path\": \"/a/b.txt\", \"limit\": 10}", "{\"a\": 2, \"b\": 3}"
    events = chat_stream(mock, {"content": "Hello world", "reasoning": "Let me think", "reasoning_signature": "EqSIG",
                                "tool_calls": [{"id": "t0", "name": "Read", "arguments": args0},
                                               {"id": "t1", "name": "mul", "arguments": args1}]})
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m/x" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("gen-")
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "Hello world"
    assert [d["content"] for d in deltas if d.get("content")] == ["Hell", "o wo", "rld"]
    assert "".join(d.get("reasoning", "") for d in deltas) == "Let me think"
    details = [x for d in deltas for x in d.get("reasoning_details", [])]
    assert "".join(x.get("text", "") for x in details) == "Let me think"
    assert all(x["format"] == "anthropic-claude-v1" and x["index"] == 0 for x in details)
    assert details[-1] == {"type": "reasoning.text", "signature": "EqSIG", "format": "anthropic-claude-v1", "index": 0}
    frags = [tc for d in deltas for tc in d.get("tool_calls", [])]
    firsts = [f for f in frags if "id" in f]
    assert firsts == [{"index": 0, "id": "t0", "type": "function", "function": {"name": "Read", "arguments": ""}},
                      {"index": 1, "id": "t1", "type": "function", "function": {"name": "mul", "arguments": ""}}]
    for k, args in enumerate((args0, args1)):
        later = [f for f in frags if f["index"] == k and "id" not in f]
        assert len(later) == 3 and all(set(f) == {"index", "function"} for f in later)
        assert "".join(f["function"]["arguments"] for f in later) == args
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "tool_calls" and finishes.count("tool_calls") == 1


@pytest.mark.parametrize("style", ["openai", "openrouter", "inline", "none"])
def test_chat_stream_usage_styles(mock, style):
    events = chat_stream(mock, {"content": "abc", "usage_style": style})[:-1]
    with_usage = [c for c in events if "usage" in c]
    finish = [c for c in events if c["choices"] and c["choices"][0]["finish_reason"]]
    if style == "openai":
        assert len(finish) == 1 and "usage" not in finish[0]
        assert len(with_usage) == 1 and with_usage[0]["choices"] == [] and with_usage[0] is events[-1]
    elif style == "openrouter":
        assert len(finish) == 2 and "usage" not in finish[0] and "usage" in finish[1]
        assert finish[1]["choices"][0]["finish_reason"] == "stop" and with_usage == [finish[1]]
    elif style == "inline":
        assert len(finish) == 1 and with_usage == finish
    else:
        assert len(finish) == 1 and with_usage == []
    if with_usage:
        assert with_usage[0]["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def test_chat_stream_chunk_size_and_arg_fragments(mock):
    events = chat_stream(mock, {"content": "abcdefg", "chunk_size": 2, "arg_fragments": 5,
                                "tool_calls": [{"id": "x", "name": "f", "arguments": "0123456789"}]})
    deltas = [c["choices"][0]["delta"] for c in events[:-1] if c["choices"]]
    assert [d["content"] for d in deltas if d.get("content")] == ["ab", "cd", "ef", "g"]
    args = [tc["function"]["arguments"] for d in deltas for tc in d.get("tool_calls", []) if "id" not in tc]
    assert args == ["01", "23", "45", "67", "89"]
    assert [c["choices"][0]["finish_reason"] for c in events[:-1] if c["choices"]][-1] == "tool_calls"


def test_chat_stream_wire_framing_comments_and_delay(mock):
    mock.script([{"reply": {"type": "chat", "content": "abcdefgh", "comments": True, "delay_ms": 50}}])
    sock = raw_send(mock, {"model": "m", "stream": True}, extra=b"Connection: close\r\n")
    start = time.monotonic()
    raw, outcome = read_all(sock)
    elapsed = time.monotonic() - start
    status, headers, body = split_response(raw)
    assert status == 200 and outcome == "eof"
    assert headers["transfer-encoding"] == "chunked" and headers["content-type"] == "text/event-stream"
    assert "content-length" not in headers
    chunks, complete = dechunk(body)
    assert complete
    # every chunk is exactly one SSE event
    assert all(c.endswith(b"\n\n") and c.count(b"\n\n") == 1 for c in chunks)
    assert chunks[0] == b": OPENROUTER PROCESSING\n\n"
    assert chunks.count(b": OPENROUTER PROCESSING\n\n") >= 2
    assert chunks[-1] == b"data: [DONE]\n\n"
    assert elapsed >= 0.05 * (len(chunks) - 1) * 0.9


def test_chat_stream_events_are_flushed_as_produced(mock):
    mock.script([{"reply": {"type": "chat", "content": "abcdefgh", "delay_ms": 300}}])
    sock = raw_send(mock, {"model": "m", "stream": True}, timeout=5)
    start, got = time.monotonic(), b""
    while b"\"role\"" not in got:
        got += sock.recv(65536)
    assert time.monotonic() - start < 0.25 and b"[DONE]" not in got and b"abcd" not in got
    sock.settimeout(2.0)
    rest, outcome = read_all(sock)  # keep-alive: ends by our socket timeout
    assert b"data: [DONE]" in rest and outcome == "timeout"


# --------------------------------------------------------------------------- error / json / sse

def test_error_reply_default_body_and_headers(mock):
    mock.script([{"times": 2, "reply": {"type": "error", "status": 429, "headers": {"retry-after": "7"}}}])
    for stream in (False, True):
        status, headers, raw = post(mock, {"model": "m", "stream": stream})
        assert status == 429 and headers["retry-after"] == "7"
        assert headers["content-type"] == "application/json"
        assert json.loads(raw) == {"error": {"code": 429, "message": "mock error"}}


def test_error_reply_custom_body_and_anthropic_default(mock):
    custom = {"error": {"message": "too long", "type": "invalid_request_error", "code": "context_length_exceeded"}}
    mock.script([{"match": {"api": "openai"}, "reply": {"type": "error", "status": 400, "body": custom}},
                 {"match": {"api": "anthropic"}, "reply": {"type": "error", "status": 529}}])
    assert json.loads(post(mock, {"stream": True})[2]) == custom
    status, _, raw = post(mock, {"stream": True}, path=MESSAGES)
    assert status == 529 and json.loads(raw)["error"]["type"] == "overloaded_error"


def test_json_reply(mock):
    mock.script([{"reply": {"type": "json", "status": 202, "headers": {"x-a": "b"}, "body": [1, {"two": None}]}}])
    status, headers, raw = post(mock, {})
    assert status == 202 and headers["x-a"] == "b" and headers["content-type"] == "application/json"
    assert json.loads(raw) == [1, {"two": None}]


def test_sse_reply_close_and_raw(mock):
    mock.script([{"reply": {"type": "sse", "events": ["data: {\"a\":1}", ": c"], "headers": {"x-s": "1"}}},
                 {"reply": {"type": "sse", "raw": True, "events": ["data: x\n", "\n", "data: y\r\n\r\n"]}}])
    status, headers, raw = post(mock, {"stream": True})
    assert status == 200 and headers["x-s"] == "1" and raw == b"data: {\"a\":1}\n\n: c\n\n"
    sock = raw_send(mock, {}, extra=b"Connection: close\r\n")
    chunks, complete = dechunk(split_response(read_all(sock)[0])[2])
    assert chunks == [b"data: x\n", b"\n", b"data: y\r\n\r\n"] and complete


@pytest.mark.parametrize("end,outcome,complete", [("close", "timeout", True), ("reset", "reset", False),
                                                  ("eof", "eof", False), ("stall", "timeout", False)])
def test_sse_reply_endings(mock, end, outcome, complete):
    mock.script([{"reply": {"type": "sse", "events": ["data: 1", "data: 2"], "end": end}}])
    sock = raw_send(mock, {"stream": True}, timeout=1.0)
    raw, got = read_all(sock)
    status, _, body = split_response(raw)
    chunks, done = dechunk(body)
    assert status == 200 and got == outcome and done is complete
    assert chunks == [b"data: 1\n\n", b"data: 2\n\n"]


def test_sse_stall_releases_after_client_close(mock):
    mock.script([{"reply": {"type": "sse", "events": ["data: 1"], "end": "stall"}}])
    sock = raw_send(mock, {"stream": True}, timeout=0.5)
    assert read_all(sock)[1] == "timeout"  # read_all closes the socket
    assert mock.health()


# --------------------------------------------------------------------------- anthropic

def test_anthropic_non_stream(mock):
    mock.script([{"reply": {"type": "anthropic", "content": "hello",
                            "tool_calls": [{"id": "toolu_1", "name": "Read", "arguments": "{\"p\": 1}"}],
                            "usage": {"input_tokens": 3, "output_tokens": 4}}}])
    status, _, raw = post(mock, {"model": "claude-x"}, path=MESSAGES)
    msg = json.loads(raw)
    assert status == 200 and msg["type"] == "message" and msg["model"] == "claude-x"
    assert msg["content"] == [{"type": "text", "text": "hello"},
                              {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"p": 1}}]
    assert msg["stop_reason"] == "tool_use" and msg["usage"] == {"input_tokens": 3, "output_tokens": 4}


def test_anthropic_stream(mock):
    args = "{\"command\": \"ls -la\"}"
    mock.script([{"reply": {"type": "anthropic", "content": "hi there", "stop_reason": "end_turn",
                            "tool_calls": [{"id": "toolu_2", "name": "Bash", "arguments": args}]}}])
    status, headers, raw = post(mock, {"model": "claude-x", "stream": True}, path=MESSAGES)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = anthropic_events(raw)
    assert all(name == data["type"] for name, data in events)
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == 2 == names.count("content_block_stop")
    deltas = [d["delta"] for n, d in events if n == "content_block_delta"]
    assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == "hi there"
    assert "".join(d["partial_json"] for d in deltas if d["type"] == "input_json_delta") == args
    starts = [d for n, d in events if n == "content_block_start"]
    assert [s["index"] for s in starts] == [0, 1]
    assert starts[1]["content_block"] == {"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {}}
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert b"[DONE]" not in raw


# --------------------------------------------------------------------------- faults

def fault(mock, mode, stream, timeout=2.0, **extra):
    """Run one fault request on a raw socket: returns (raw bytes, outcome)."""
    mock.script([{"reply": {"type": "fault", "mode": mode, **extra}}])
    return read_all(raw_send(mock, {"model": "m", "stream": stream}, timeout=timeout))


@pytest.mark.parametrize("stream", [False, True])
def test_fault_reset_before_status(mock, stream):
    assert fault(mock, "reset_before_status", stream) == (b"", "reset")


@pytest.mark.parametrize("stream", [False, True])
def test_fault_close_before_status(mock, stream):
    assert fault(mock, "close_before_status", stream) == (b"", "eof")


@pytest.mark.parametrize("stream", [False, True])
def test_fault_reset_after_headers(mock, stream):
    raw, outcome = fault(mock, "reset_after_headers", stream)
    status, headers, body = split_response(raw)
    assert outcome == "reset" and status == 200 and body == b""
    assert headers["content-type"] == ("text/event-stream" if stream else "application/json")


def test_fault_reset_mid_stream(mock):
    raw, outcome = fault(mock, "reset_mid_stream", True)
    chunks, complete = dechunk(split_response(raw)[2])
    assert outcome == "reset" and not complete
    events = sse_data(b"".join(chunks))
    assert len(events) == 3 and events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(e["choices"][0]["finish_reason"] is None for e in events)


def test_fault_reset_mid_stream_via_http_client(mock):
    mock.script([{"reply": {"type": "fault", "mode": "reset_mid_stream"}}])
    with pytest.raises((ConnectionResetError, http.client.IncompleteRead)):
        post(mock, {"stream": True})


def test_fault_mid_body_non_stream(mock):
    for mode, expected in (("reset_mid_stream", "reset"), ("eof_mid_stream", "eof"), ("stall_mid_stream", "timeout")):
        raw, outcome = fault(mock, mode, False, timeout=1.0)
        _, headers, body = split_response(raw)
        assert outcome == expected and 0 < len(body) < int(headers["content-length"]), mode
        assert body.startswith(b"{\"id\":\"gen-")


def test_fault_eof_mid_stream(mock):
    mock.script([{"reply": {"type": "fault", "mode": "eof_mid_stream", "content": "partial words"}}])
    status, _, raw = post(mock, {"stream": True})  # http.client accepts the clean chunked end
    events = sse_data(raw)
    assert status == 200 and "[DONE]" not in events and len(events) == 3
    assert all(e["choices"][0]["finish_reason"] is None for e in events)
    assert "".join(e["choices"][0]["delta"]["content"] for e in events) == "partial wo"  # chunk_size 5, two text chunks


@pytest.mark.parametrize("stream", [False, True])
def test_fault_stall_after_headers(mock, stream):
    raw, outcome = fault(mock, "stall_after_headers", stream, timeout=0.7)
    status, _, body = split_response(raw)
    assert outcome == "timeout" and status == 200 and body == b""
    assert mock.health()


def test_fault_stall_mid_stream(mock):
    raw, outcome = fault(mock, "stall_mid_stream", True, timeout=0.7)
    chunks, complete = dechunk(split_response(raw)[2])
    assert outcome == "timeout" and not complete and len(sse_data(b"".join(chunks))) == 3


@pytest.mark.parametrize("stream", [False, True])
def test_fault_html_200(mock, stream):
    mock.script([{"reply": {"type": "fault", "mode": "html_200"}}])
    status, headers, raw = post(mock, {"stream": stream})
    assert status == 200 and headers["content-type"].startswith("text/html") and raw.startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize("stream", [False, True])
def test_fault_wrong_content_type(mock, stream):
    mock.script([{"reply": {"type": "fault", "mode": "wrong_content_type"}}])
    status, headers, raw = post(mock, {"stream": stream})
    assert status == 200 and headers["content-type"] == "text/plain"
    if stream:
        assert sse_data(raw)[-1] == "[DONE]"
    else:
        assert json.loads(raw)["choices"][0]["message"]["content"] == "wrong content type"


@pytest.mark.parametrize("stream", [False, True])
def test_fault_truncated_json(mock, stream):
    mock.script([{"reply": {"type": "fault", "mode": "truncated_json"}}])
    status, headers, raw = post(mock, {"stream": stream})
    assert status == 200 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(raw) > 10 and raw.startswith(b"{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


@pytest.mark.parametrize("stream", [False, True])
def test_fault_binary(mock, stream):
    mock.script([{"reply": {"type": "fault", "mode": "binary"}}])
    status, headers, raw = post(mock, {"stream": stream})
    assert status == 200 and len(raw) == 4096
    assert headers["content-type"] == ("text/event-stream" if stream else "application/octet-stream")


def test_fault_huge_delta(mock):
    mock.script([{"times": 2, "reply": {"type": "fault", "mode": "huge_delta"}}])
    events = sse_data(post(mock, {"stream": True}, timeout=30)[2])
    contents = [e["choices"][0]["delta"].get("content") for e in events[:-1] if e["choices"]]
    assert [len(c) for c in contents if c] == [4 * 1024 * 1024]
    with_choices = [e for e in events[:-1] if e["choices"]]
    assert events[-1] == "[DONE]" and with_choices[-1]["choices"][0]["finish_reason"] == "stop"
    body = json.loads(post(mock, {"stream": False}, timeout=30)[2])
    assert len(body["choices"][0]["message"]["content"]) == 4 * 1024 * 1024


def test_fault_error_chunk(mock):
    mock.script([{"times": 2, "reply": {"type": "fault", "mode": "error_chunk"}}])
    events = sse_data(post(mock, {"stream": True})[2])
    texts = [e["choices"][0]["delta"].get("content") for e in events[:-2]]
    assert [t for t in texts if t] == ["Hel", "lo"]
    assert events[-2] == {"id": "gen-x", "object": "chat.completion.chunk",
                          "error": {"code": 502, "message": "Provider disconnected"},
                          "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}
    assert events[-1] == "[DONE]"
    status, _, raw = post(mock, {"stream": False})
    assert status == 200 and json.loads(raw)["error"]["code"] == 502


def test_fault_garbage_lines(mock):
    mock.script([{"times": 2, "reply": {"type": "fault", "mode": "garbage_lines"}}])
    raw = post(mock, {"stream": True})[2].decode()
    assert "data: {not json\n" in raw and "\nnonsense\n" in raw and raw.endswith("data: [DONE]\n\n")
    good = []
    for line in raw.split("\n"):
        if line.startswith("data: {") and line != "data: {not json":
            good.append(json.loads(line[6:]))
    text = "".join(g["choices"][0]["delta"].get("content") or "" for g in good if g["choices"])
    assert text == "Hello through the garbage"
    assert any(g["choices"] and g["choices"][0]["finish_reason"] == "stop" for g in good)
    raw = post(mock, {"stream": False})[2]
    assert raw.startswith(b"\n") and json.loads(raw)["object"] == "chat.completion"


def test_fault_oversize_body_default_80mib(mock):
    mock.script([{"reply": {"type": "fault", "mode": "oversize_body"}}])
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=30)
    conn.request("POST", CHAT, body=json.dumps({"stream": False}))
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.getheader("content-length")) == 80 * 1024 * 1024
    total, head = 0, b""
    while piece := resp.read(1 << 20):
        head = head or piece[:20]
        total += len(piece)
    conn.close()
    assert total == 80 * 1024 * 1024 and head.startswith(b"{\"id\":\"gen-")


def test_fault_oversize_body_small_valid(mock):
    mock.script([{"times": 2, "reply": {"type": "fault", "mode": "oversize_body", "size": 300_000}}])
    status, _, raw = post(mock, {"stream": False})
    assert status == 200 and len(raw) == 300_000
    assert set(json.loads(raw)["choices"][0]["message"]["content"]) == {"x"}
    events = sse_data(post(mock, {"stream": True})[2])
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"])
    assert len(text) >= 262_144 and events[-1] == "[DONE]"


@pytest.mark.parametrize("stream", [False, True])
def test_fault_slow_body(mock, stream):
    mock.script([{"reply": {"type": "fault", "mode": "slow_body", "delay_ms": 2}}])
    sock = raw_send(mock, {"model": "m", "stream": stream}, timeout=10, extra=b"Connection: close\r\n")
    reads, raw, start = 0, b"", time.monotonic()
    while piece := sock.recv(65536):
        reads += 1
        raw += piece
    sock.close()
    _, headers, body = split_response(raw)
    assert reads > 50 and time.monotonic() - start > 0.2
    if stream:
        chunks, complete = dechunk(body)
        assert complete and all(len(c) == 1 for c in chunks) and sse_data(b"".join(chunks))[-1] == "[DONE]"
    else:
        assert json.loads(body)["choices"][0]["message"]["content"] == "slow"


def test_delay_before_ms(mock):
    mock.script([{"reply": {"type": "error", "status": 500, "delay_before_ms": 300}}])
    start = time.monotonic()
    assert post(mock, {})[0] == 500
    assert time.monotonic() - start >= 0.3


# --------------------------------------------------------------------------- hostile replies

def head_pairs(raw: bytes) -> list[tuple[str, str]]:
    """The response headers in order, repeats kept."""
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    return [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in head)]


@pytest.mark.parametrize("reply", [
    {"type": "chat", "content": "x"}, {"type": "anthropic", "content": "x"}, {"type": "json", "body": {}},
    {"type": "error", "status": 429}, {"type": "sse", "events": ["data: 1"]},
    {"type": "fault", "mode": "html_200"}, {"type": "fault", "mode": "truncated_json"},
    {"type": "fault", "mode": "eof_mid_stream"}], ids=lambda r: r.get("mode", r["type"]))
@pytest.mark.parametrize("stream", [False, True])
def test_headers_on_every_reply_type(mock, reply, stream):
    mock.script([{"reply": {**reply, "headers": {"Retry-After": "1e30", "x-hostile": "nan"}}}])
    raw, _ = read_all(raw_send(mock, {"model": "m", "stream": stream}, extra=b"Connection: close\r\n"))
    pairs = head_pairs(raw)
    assert ("retry-after", "1e30") in pairs and ("x-hostile", "nan") in pairs, pairs


def test_headers_list_form_repeats_and_replaces_defaults(mock):
    headers = [["retry-after", "abc"], ["retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"], ["content-type", "text/html"]]
    mock.script([{"reply": {"type": "error", "status": 503, "headers": headers}}])
    raw, _ = read_all(raw_send(mock, {"model": "m"}, extra=b"Connection: close\r\n"))
    pairs = head_pairs(raw)
    assert [v for k, v in pairs if k == "retry-after"] == ["abc", "Wed, 21 Oct 2015 07:28:00 GMT"]
    assert [v for k, v in pairs if k == "content-type"] == ["text/html"]  # the default is replaced
    assert split_response(raw)[0] == 503


@pytest.mark.parametrize("headers", [{"x-a": "1\r\nx-b: 2"}, {"bad name": "1"}, [["only-name"]], "retry-after: 1",
                                     {"x-a": "\u2603"}])
def test_bad_headers_are_rejected(mock, headers):
    with pytest.raises(MockError):
        mock.script([{"reply": {"type": "chat", "headers": headers}}])
    assert mock.rules() == []


@pytest.mark.parametrize("kind", ["error", "json"])
def test_verbatim_body_text_and_b64(mock, kind):
    html = "<html><body>upstream \u00e9rror</body></html>"
    mock.script([{"reply": {"type": kind, "status": 502, "body_text": html, "headers": {"content-type": "text/html"}}},
                 {"reply": {"type": kind, "status": 500, "body_b64": "/wA="}}])
    status, headers, raw = post(mock, {"model": "m"})
    assert status == 502 and headers["content-type"] == "text/html" and raw == html.encode()
    status, headers, raw = post(mock, {"model": "m"})
    assert status == 500 and headers["content-type"] == "application/json" and raw == b"\xff\x00"
    with pytest.raises(MockError):
        mock.script([{"reply": {"type": kind, "body_b64": "not base64!"}}])


def test_utf8_flag_writes_raw_utf8(mock):
    text = "\u00e9\u20ac\U0001F600"
    mock.script([{"reply": {"type": "chat", "content": text}}, {"reply": {"type": "chat", "content": text, "utf8": True}},
                 {"reply": {"type": "chat", "content": text, "utf8": True, "chunk_size": 100}}])
    escaped = post(mock, {"model": "m"})[2]
    assert b"\\ud83d\\ude00" in escaped and json.loads(escaped)["choices"][0]["message"]["content"] == text
    raw = post(mock, {"model": "m"})[2]
    assert text.encode() in raw and json.loads(raw)["choices"][0]["message"]["content"] == text
    streamed = post(mock, {"model": "m", "stream": True})[2]
    assert text.encode() in streamed
    escaped_again = post(mock, {"model": "m"})[2]  # the flag does not stick to the next reply
    assert escaped_again.isascii()


def test_sse_b64_events_set_exact_chunk_boundaries(mock):
    line = "data: {\"t\":\"\u00e9\"}\n\n".encode()
    cut = line.index(b"\xc3") + 1  # inside the two-byte character
    mock.script([{"reply": {"type": "sse", "events": [raw_chunk(line[:cut]), raw_chunk(line[cut:]), "data: [DONE]"]}}])
    chunks, complete = dechunk(split_response(read_all(raw_send(mock, {"stream": True}, extra=b"Connection: close\r\n"))[0])[2])
    assert chunks == [line[:cut], line[cut:], b"data: [DONE]\n\n"] and complete


def test_sse_repeat_sends_n_chunks(mock):
    mock.script([{"reply": {"type": "sse", "events": ["data: a", {"repeat": "data: b", "count": 1000}, "data: c"]}},
                 {"reply": {"type": "sse", "raw": True, "events": [{"repeat": "x", "count": 3}]}}])
    chunks, complete = dechunk(split_response(read_all(raw_send(mock, {"stream": True}, extra=b"Connection: close\r\n"))[0])[2])
    assert complete and chunks == [b"data: a\n\n"] + [b"data: b\n\n"] * 1000 + [b"data: c\n\n"]
    chunks, _ = dechunk(split_response(read_all(raw_send(mock, {"stream": True}, extra=b"Connection: close\r\n"))[0])[2])
    assert chunks == [b"x"] * 3


@pytest.mark.parametrize("fin_after", [None, 0, 3])
def test_sse_fin_mid_chunk(mock, fin_after):
    last = "data: {\"choices\":[{\"delta\":{\"content\":\"never finished\"}}]}"
    reply = {"type": "sse", "events": ["data: 1", last], "end": "fin_mid_chunk"}
    if fin_after is not None:
        reply["fin_after"] = fin_after
    mock.script([{"reply": reply}])
    raw, outcome = read_all(raw_send(mock, {"stream": True}, timeout=5))
    assert outcome == "eof"  # a FIN, not an RST and not our timeout
    body = split_response(raw)[2]
    full = (last + "\n\n").encode()
    sent = len(full) // 2 if fin_after is None else fin_after
    assert body == b"9\r\ndata: 1\n\n\r\n" + b"%x\r\n" % len(full) + full[:sent]
    chunks, complete = dechunk(body)
    assert not complete and chunks[0] == b"data: 1\n\n"
    assert mock.health() and len(mock.requests()) == 1


@pytest.mark.parametrize("reply", [
    {"type": "sse", "events": ["a"], "end": "explode"}, {"type": "sse", "events": [], "end": "fin_mid_chunk"},
    {"type": "sse", "events": [{"repeat": "a", "count": -1}]}, {"type": "sse", "events": [{"repeat": "a"}]},
    {"type": "sse", "events": [{"b64": ""}]}, {"type": "sse", "events": [7]},
    {"type": "sse", "events": ["a"], "end": "fin_mid_chunk", "fin_after": -1}, {"type": "json", "body_text": 5}])
def test_bad_hostile_fields_are_rejected(mock, reply):
    with pytest.raises(MockError):
        mock.script([{"reply": reply}])


def test_chunk_flood_with_chunk_size_one(mock):
    text = "".join(chr(0x61 + i % 26) for i in range(50_000))
    mock.script([{"reply": {"type": "chat", "content": text, "chunk_size": 1}}])
    raw, _ = read_all(raw_send(mock, {"model": "m", "stream": True}, timeout=30, extra=b"Connection: close\r\n"))
    chunks, complete = dechunk(split_response(raw)[2])
    assert complete and len(chunks) == 50_000 + 4  # role, 50,000 deltas, finish, usage, [DONE]
    events = sse_data(b"".join(chunks))
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"]) == text


# --------------------------------------------------------------------------- load

def test_200_concurrent_streams(mock):
    mock.script([{"times": -1, "reply": {"type": "chat", "content": "concurrent answer", "delay_ms": 20}}])
    n = 200

    def one(i):
        status, _, raw = post(mock, {"model": f"m{i}", "stream": True}, timeout=30)
        events = sse_data(raw)
        return status, events[-1], "".join(e["choices"][0]["delta"].get("content") or ""
                                           for e in events[:-1] if e["choices"])

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    elapsed = time.monotonic() - start
    assert results == [(200, "[DONE]", "concurrent answer")] * n
    assert len(mock.requests()) == n
    per_stream = 0.02 * 7  # 8 events, 7 pauses
    assert elapsed < n * per_stream / 4  # far faster than serial service
