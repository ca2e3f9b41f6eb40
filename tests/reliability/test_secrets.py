"""Reliability rule 4: secrets.

* the client's x-api-key / Authorization / Cookie (and similar) are never forwarded upstream — the
  upstream only ever sees the configured provider key;
* a user token sent in odd places (as the model name, in a malformed auth header, in the path, in
  other headers) never appears in any response or in gateway output. Every such token is registered
  with `register_secret`, so the session-end scan also checks all gateway output files; each test
  checks its own gateway's output too, so the failing case is named;
* the upstream key never leaks into responses, even when the upstream echoes it in an error.
"""
import hashlib
import json
import time

import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY, base_config, register_secret
import relkit as rk

ALICE = register_secret("sk-sy-alice-" + "4f1e9a7c2b8d3e6f0a5c")
BOB = register_secret("sk-sy-bob-" + "9c2d7e1f4a6b8c3d5e0f")
CLIENT_KEY = register_secret("sk-ant-client-" + "api-key-77aa31")
CLIENT_BEARER = register_secret("client-bearer-" + "token-0c9d2e")
CLIENT_COOKIE = register_secret("client-cookie-" + "sess-5b7f11")
CLIENT_PROXY = register_secret("client-proxy-" + "auth-93ee40")


def sha(t: str) -> str:
    return hashlib.sha256(t.encode()).hexdigest()


def routes():
    return [
        {"name": "native", "match": {"models": ["claude-native*"]}, "targets": [{"provider": "mock-anthropic", "model": "claude-upstream"}]},
        {"name": "default", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/model-a"}]},
    ]


def tokens_config(mock, verbose=False):
    return base_config(mock, routes=routes(), auth={"mode": "tokens"},
                       users=[{"name": "alice", "token_sha256": sha(ALICE)}, {"name": "bob", "token_sha256": sha(BOB)}],
                       logging={"level": "debug", "verbose": verbose})


def output_text(gw) -> str:
    time.sleep(0.3)  # let the access log line land
    return gw.stdout_path.read_text(errors="replace") + gw.stderr_path.read_text(errors="replace")


def leaks(secret: str, label: str, *, resp: rk.RawResponse | None = None, gw=None, mock=None) -> list[str]:
    """Where `secret` shows up: in the response, in the gateway's output files, upstream."""
    found = []
    if resp is not None:
        raw = resp.raw_head + resp.body
        if secret.encode() in raw:
            i = raw.index(secret.encode())
            found.append(f"{label}: in the response (status {resp.status}): …{raw[max(0, i - 120):i + 60]!r}…")
    if gw is not None:
        text = output_text(gw)
        for line in text.splitlines():
            if secret in line:
                found.append(f"{label}: in gateway output: {line[:300]}")
                break
    if mock is not None:
        for r in mock.requests():
            if secret in json.dumps(r):
                found.append(f"{label}: reached the upstream: {json.dumps(r)[:300]}")
                break
    return found


def assert_absent(secret: str, label: str, **where):
    found = leaks(secret, label, **where)
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- client credentials

@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-native-1"], ids=["openai-upstream", "anthropic-upstream"])
def test_client_credentials_not_forwarded_open_mode(model, stream, mock, gateway_factory):
    gw = gateway_factory(base_config(mock, routes=routes()))
    headers = {"x-api-key": CLIENT_KEY, "Authorization": f"Bearer {CLIENT_BEARER}", "Cookie": f"session={CLIENT_COOKIE}",
               "Proxy-Authorization": f"Basic {CLIENT_PROXY}", "anthropic-beta": "claude-code-20250219"}
    resp = rk.post_messages(gw.port, "creds", stream=stream, model=model, headers=headers, timeout=10)
    assert rk.classify(resp, stream).kind == "success", resp.short()
    reqs = mock.requests()
    assert len(reqs) == 1
    up = reqs[0]["headers"]
    for secret in (CLIENT_KEY, CLIENT_BEARER, CLIENT_COOKIE, CLIENT_PROXY):
        assert_absent(secret, f"{model} stream={stream}", resp=resp, gw=gw, mock=mock)
    assert "cookie" not in up and "proxy-authorization" not in up, up
    if model == "claude-native-1":
        assert up.get("x-api-key") == ANTHROPIC_UPSTREAM_KEY, up
        assert "authorization" not in up or ANTHROPIC_UPSTREAM_KEY in up["authorization"], up
    else:
        assert up.get("authorization") == f"Bearer {UPSTREAM_KEY}", up
        assert "x-api-key" not in up, up
    for secret in (UPSTREAM_KEY, ANTHROPIC_UPSTREAM_KEY):
        assert secret.encode() not in resp.raw_head + resp.body


@pytest.mark.parametrize("how", ["x-api-key", "bearer"])
def test_user_token_not_forwarded_tokens_mode(how, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    headers = {"x-api-key": ALICE} if how == "x-api-key" else {"Authorization": f"Bearer {ALICE}"}
    for model in ("claude-sonnet-4-5", "claude-native-1"):
        for stream in (False, True):
            resp = rk.post_messages(gw.port, "tok", stream=stream, model=model, headers=headers, timeout=10)
            assert rk.classify(resp, stream).kind == "success", resp.short()
            assert_absent(ALICE, f"{how} {model}", resp=resp)
    assert_absent(ALICE, how, gw=gw, mock=mock)


# --------------------------------------------------------------------------- tokens in odd places

def test_token_as_model_without_credentials(mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    found = []
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        for stream in (False, True):
            resp = rk.request(gw.port, "POST", path, rk.messages_body("x", stream=stream, model=ALICE), timeout=10)
            assert resp.status == 401, resp.short()
            assert not rk.envelope_problems(resp, (401,))
            found += leaks(ALICE, f"model=<token> without credentials on {path} stream={stream}", resp=resp)
    found += leaks(ALICE, "model=<token> without credentials", gw=gw, mock=mock)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("verbose", [False, True], ids=["plain-log", "verbose-log"])
def test_token_as_model_with_valid_credentials(verbose, mock, gateway_factory):
    """Bob authenticates properly but sends Alice's token as the model name (a pasted-in-the-wrong-
    field mistake). Alice's token must not be echoed, logged, or sent upstream."""
    gw = gateway_factory(tokens_config(mock, verbose=verbose))
    found = []
    for path in ("/v1/messages", "/v1/messages/count_tokens"):
        for stream in (False, True):
            resp = rk.request(gw.port, "POST", path, rk.messages_body("x", stream=stream, model=ALICE),
                              headers={"x-api-key": BOB}, timeout=10)
            assert resp.status is not None and resp.status < 500, resp.short()
            found += leaks(ALICE, f"model=<alice's token> as bob on {path} stream={stream}", resp=resp)
    found += leaks(ALICE, "model=<alice's token> as bob", gw=gw, mock=mock)
    assert not found, "\n".join(found)


BAD_AUTH = [
    ("Authorization", "Token {t}"),
    ("Authorization", "Basic {t}"),
    ("Authorization", "Bearer {t} trailing-garbage"),
    ("Authorization", "Bearer{t}"),
    ("Authorization", "bearer  {t}\t"),
    ("x-api-key", "{t} {t}"),
    ("x-api-key", "{t}\x01"),
    ("x-api-key", "{t}\x7f"),
    ("x-api-key", "\"{t}\""),
    ("X-Api-Key", "{t}" + "z" * 9000),
    ("anthropic-version", "{t}"),
    ("anthropic-beta", "{t}"),
    ("X-Claude-Code-Session-Id", "{t}"),
    ("Cookie", "token={t}"),
    ("{t}", "header-named-like-the-token"),
]


@pytest.mark.parametrize("name,value", BAD_AUTH, ids=[f"{n}:{v}"[:40] for n, v in BAD_AUTH])
def test_token_in_bad_header(name, value, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    name_b = name.format(t=ALICE).encode("latin-1")
    value_b = value.format(t=ALICE).encode("latin-1")
    body = json.dumps(rk.messages_body("odd header", model="claude-sonnet-4-5")).encode()
    raw = rk.build_request("POST", "/v1/messages", body, [("Content-Type", "application/json"), (name_b, value_b)])
    sock = rk.connect(gw.port)
    try:
        sock.sendall(raw)
        resp = rk.read_response(sock, 10)
    finally:
        sock.close()
    assert not resp.timed_out, resp.short()
    assert resp.status is None or resp.status < 500, resp.short()
    label = f"token in header {name!r}: {value!r}"
    assert_absent(ALICE, label, resp=resp, gw=gw)
    # the token must not travel upstream in a header either (anthropic-beta may be forwarded only to
    # an Anthropic upstream; this route is an OpenAI one)
    for r in mock.requests():
        assert ALICE not in json.dumps(r["headers"]), f"{label}: reached upstream headers {r['headers']}"


@pytest.mark.parametrize("path", ["/v1/{t}", "/{t}", "/v1/models/{t}", "/v1/messages/{t}", "/v1/messages?key={t}",
                                  "/anthropic/{t}/v1/messages"])
@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_token_in_path(path, method, mock, gateway_factory):
    gw = gateway_factory(tokens_config(mock))
    p = path.format(t=ALICE)
    body = rk.messages_body("path") if method == "POST" else None
    found = []
    for headers in ({}, {"x-api-key": BOB}):
        resp = rk.request(gw.port, method, p, body=body, headers=headers, timeout=10)
        assert resp.status is not None and resp.status < 500, resp.short()
        found += leaks(ALICE, f"{method} {path} with {list(headers) or 'no'} credentials", resp=resp)
    found += leaks(ALICE, f"{method} {path}", gw=gw, mock=mock)
    assert not found, "\n".join(found)


def test_token_in_body_fields_of_rejected_request(mock, gateway_factory):
    """Validation errors name paths and types; they must not quote arbitrary values back."""
    gw = gateway_factory(tokens_config(mock))
    bodies = [
        {"model": "claude-sonnet-4-5", "max_tokens": ALICE, "messages": [{"role": "user", "content": "x"}]},
        {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": ALICE, "content": "x"}]},
        {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": ALICE}]}]},
        {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [], ALICE: 1},
        {"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
         "tool_choice": {"type": ALICE}},
    ]
    found = []
    for b in bodies:
        resp = rk.request(gw.port, "POST", "/v1/messages", b, headers={"x-api-key": BOB}, timeout=10)
        assert resp.status == 400, resp.short()
        found += leaks(ALICE, f"rejected body {json.dumps(b)[:90]}", resp=resp)
    raw_bad = b'{"model":"' + ALICE.encode() + b'","max_tokens":1,"messages":[}'
    resp = rk.request(gw.port, "POST", "/v1/messages", raw_bad, headers={"x-api-key": BOB}, timeout=10)
    assert resp.status == 400, resp.short()
    found += leaks(ALICE, "malformed JSON around the token", resp=resp)
    found += leaks(ALICE, "rejected bodies", gw=gw)
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- upstream key

@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_upstream_key_echoed_by_upstream_error_is_not_relayed(status, stream, mock, gateway_factory):
    gw = gateway_factory(base_config(mock, routes=routes()))
    msg = f"Incorrect API key provided: {UPSTREAM_KEY}. You can find your API key at https://x"
    mock.script([{"match": {"last_user_contains": "ECHO"}, "times": 1,
                  "reply": {"type": "error", "status": status, "body": {"error": {"code": status, "message": msg,
                                                                                   "metadata": {"raw": msg}}}}}])
    resp = rk.post_messages(gw.port, "ECHO", stream=stream, timeout=10)
    assert rk.classify(resp, stream).kind in ("http_error", "error_event"), resp.short()
    found = leaks(UPSTREAM_KEY, f"upstream {status} echoing the key", resp=resp, gw=gw)
    assert not found, "\n".join(found)


def test_upstream_key_in_mid_stream_error_is_not_relayed(mock, gateway_factory):
    gw = gateway_factory(base_config(mock, routes=routes()))
    msg = f"upstream auth {UPSTREAM_KEY} rejected"
    chunk = {"id": "gen-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]}
    err = {"id": "gen-1", "object": "chat.completion.chunk", "error": {"code": 401, "message": msg},
           "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}
    mock.script([{"match": {"last_user_contains": "ECHO"}, "times": 1,
                  "reply": {"type": "sse", "events": ["data: " + json.dumps(chunk), "data: " + json.dumps(err), "data: [DONE]"]}}])
    resp = rk.post_messages(gw.port, "ECHO", stream=True, timeout=10)
    assert rk.classify(resp, True).kind == "error_event", resp.short()
    found = leaks(UPSTREAM_KEY, "mid-stream error echoing the key", resp=resp, gw=gw)
    assert not found, "\n".join(found)


def test_anthropic_upstream_key_echoed_is_not_relayed(mock, gateway_factory):
    gw = gateway_factory(base_config(mock, routes=routes()))
    msg = f"invalid x-api-key {ANTHROPIC_UPSTREAM_KEY}"
    found = []
    for stream in (False, True):
        mock.script([{"match": {"last_user_contains": "ECHO"}, "times": 1,
                      "reply": {"type": "error", "status": 401,
                                "body": {"type": "error", "error": {"type": "authentication_error", "message": msg}}}}])
        resp = rk.post_messages(gw.port, "ECHO", stream=stream, model="claude-native-1", timeout=10)
        assert resp.status is not None and resp.status >= 400, resp.short()
        found += leaks(ANTHROPIC_UPSTREAM_KEY, f"anthropic upstream 401 echoing the key (stream={stream})", resp=resp)
    found += leaks(ANTHROPIC_UPSTREAM_KEY, "anthropic upstream 401 echoing the key", gw=gw)
    assert not found, "\n".join(found)
