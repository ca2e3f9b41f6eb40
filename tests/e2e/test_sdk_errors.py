"""Upstream errors as the SDK sees them, and request validation.
Spec: translation-spec.md §5.1-5.3 (envelope, status table, context-length rewrite), §1.4 (validation), T24, T32, T36."""
import json

import anthropic
import pytest

from helpers import MODEL, client, error_of, messages_body, raw


def _create(gw, **kw):
    kw.setdefault("model", MODEL)
    kw.setdefault("max_tokens", 50)
    kw.setdefault("messages", [{"role": "user", "content": "hello"}])
    return client(gw).messages.create(**kw)


def test_429_with_retry_after_is_rate_limit_error(gateway, mock):
    mock.script({"reply": {"type": "error", "status": 429, "headers": {"retry-after": "7"},
                           "body": {"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min"}}}})
    with pytest.raises(anthropic.RateLimitError) as e:
        _create(gateway)
    err = e.value
    assert err.status_code == 429
    assert err.response.headers.get("retry-after") == "7"
    assert err.body["type"] == "error"
    assert err.body["error"]["type"] == "rate_limit_error"
    assert "Rate limit exceeded: free-models-per-min" in err.body["error"]["message"]
    assert err.response.headers.get("request-id", "").startswith("req_")
    assert len(mock.requests()) == 1


def test_500_is_internal_server_error_with_envelope(gateway, mock):
    mock.script({"reply": {"type": "error", "status": 500, "body": {"error": {"code": 500, "message": "boom inside"}}}})
    with pytest.raises(anthropic.InternalServerError) as e:
        _create(gateway)
    assert e.value.status_code == 500
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "api_error"
    assert "boom inside" in e.value.body["error"]["message"]


@pytest.mark.parametrize("status", [502, 503])
def test_502_503_become_529_overloaded(gateway, mock, status):
    mock.script({"reply": {"type": "error", "status": status,
                           "body": {"error": {"code": status, "message": "no provider available"}}}})
    with pytest.raises(anthropic.OverloadedError) as e:
        _create(gateway)
    assert e.value.status_code == 529
    assert e.value.body["error"]["type"] == "overloaded_error"
    assert "no provider available" in e.value.body["error"]["message"]


def test_200_with_error_body_is_529(gateway, mock):
    mock.script({"reply": {"type": "json", "body": {"error": {"code": 502, "message": "Provider returned error"}}}})
    with pytest.raises(anthropic.OverloadedError) as e:
        _create(gateway)
    assert e.value.status_code == 529
    assert e.value.body["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("status,exc,etype", [
    (400, anthropic.BadRequestError, "invalid_request_error"),
    (402, anthropic.APIStatusError, "billing_error"),
    (403, anthropic.PermissionDeniedError, "permission_error"),
    (413, anthropic.APIStatusError, "request_too_large"),
])
def test_other_upstream_statuses(gateway, mock, status, exc, etype):
    mock.script({"reply": {"type": "error", "status": status, "body": {"error": {"code": status, "message": "upstream says no"}}}})
    with pytest.raises(exc) as e:
        _create(gateway)
    assert e.value.status_code == status
    assert e.value.body["error"]["type"] == etype


def test_upstream_404_becomes_502_with_the_upstream_message(gateway, mock):
    # Claude Code hides a 404's message, so 404 is kept for models no route serves (claude-code.md).
    mock.script({"reply": {"type": "error", "status": 404, "body": {"error": {"code": 404, "message": "No endpoints found for mock/model-a."}}}})
    with pytest.raises(anthropic.InternalServerError) as e:
        _create(gateway)
    assert e.value.status_code == 502
    assert e.value.body["error"]["type"] == "api_error"
    assert "No endpoints found for mock/model-a." in e.value.body["error"]["message"]


def test_408_becomes_504_timeout(gateway, mock):
    mock.script({"reply": {"type": "error", "status": 408}})
    with pytest.raises(anthropic.APIStatusError) as e:
        _create(gateway)
    assert e.value.status_code == 504
    assert e.value.body["error"]["type"] == "timeout_error"


def test_upstream_401_is_not_reported_as_client_auth_failure(gateway, mock):
    mock.script({"reply": {"type": "error", "status": 401, "body": {"error": {"code": 401, "message": "No auth credentials found"}}}})
    with pytest.raises(anthropic.InternalServerError) as e:
        _create(gateway)
    assert e.value.status_code == 500
    assert e.value.body["error"]["type"] == "api_error"


def test_context_length_rewrite(gateway, mock):
    msg = ("This model's maximum context length is 128000 tokens. However, you requested 140512 tokens "
           "(140000 in the messages, 512 in the completion). Please reduce the length of the messages or completion.")
    mock.script({"reply": {"type": "error", "status": 400,
                           "body": {"error": {"message": msg, "type": "invalid_request_error", "param": "messages",
                                              "code": "context_length_exceeded"}}}})
    with pytest.raises(anthropic.BadRequestError) as e:
        _create(gateway)
    assert e.value.status_code == 400
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert e.value.body["error"]["message"] == "prompt is too long: 140512 tokens > 128000 maximum"


def test_context_length_rewrite_openrouter_wording_without_numbers(gateway, mock):
    mock.script({"reply": {"type": "error", "status": 400,
                           "body": {"error": {"code": 400, "message": "Input exceeds the context window of this model"}}}})
    with pytest.raises(anthropic.BadRequestError) as e:
        _create(gateway)
    assert e.value.body["error"]["message"].startswith("prompt is too long")
    assert "Input exceeds the context window of this model" in e.value.body["error"]["message"]


def test_connect_error_is_529(gateway, mock):
    mock.script({"reply": {"type": "fault", "mode": "reset_before_status"}})
    with pytest.raises(anthropic.APIStatusError) as e:
        _create(gateway)
    assert e.value.status_code == 529
    assert e.value.body["error"]["type"] == "overloaded_error"


# ---------------------------------------------------------------- request validation (answered locally, 400)

@pytest.mark.parametrize("body,path_fragment", [
    (messages_body(messages=[{"role": "user", "content": [{"type": "foo", "text": "x"}]}]), "messages.0.content.0.type"),
    (messages_body(messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "bogus"}]}]),
     "messages.1.content.0.type"),
    (messages_body(messages=[{"role": "robot", "content": "x"}]), "messages.0.role"),
    (messages_body(max_tokens=-1), "max_tokens"),
    (messages_body(max_tokens=1.5), "max_tokens"),
    (messages_body(max_tokens=True), "max_tokens"),
    (messages_body(max_tokens=None), "max_tokens"),
    (messages_body(model=""), "model"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": MODEL, "max_tokens": 10}, "messages"),
    (messages_body(messages="hello"), "messages"),
])
def test_validation_errors_name_the_field(gateway, mock, body, path_fragment):
    resp = raw(gateway, "POST", "/v1/messages", body)
    assert resp.status == 400, resp
    err = error_of(resp)
    assert err["type"] == "invalid_request_error"
    assert path_fragment in err["message"], err
    assert mock.requests() == []


def test_unknown_block_type_message(gateway, mock):
    resp = raw(gateway, "POST", "/v1/messages",
               messages_body(messages=[{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "foo"}]}]))
    assert resp.status == 400
    assert error_of(resp)["message"] == 'messages.0.content.1.type: unknown block type "foo"'


def test_validation_error_through_sdk(gateway, mock):
    with pytest.raises(anthropic.BadRequestError) as e:
        _create(gateway, messages=[{"role": "user", "content": [{"type": "foo"}]}])
    assert e.value.status_code == 400
    assert "messages.0.content.0.type" in e.value.body["error"]["message"]
    assert mock.requests() == []


def test_malformed_json_is_400(gateway, mock):
    resp = raw(gateway, "POST", "/v1/messages", '{"model": "x", "max_tokens": 5, "messages": [')
    assert resp.status == 400
    assert error_of(resp)["type"] == "invalid_request_error"
    assert mock.requests() == []


def test_known_but_unmappable_block_is_dropped_not_rejected(gateway, mock):
    mock.script({"reply": {"type": "chat", "content": "ok"}})
    msg = _create(gateway, messages=[{"role": "user", "content": [
        {"type": "text", "text": "hello"},
        {"type": "redacted_thinking", "data": "abc"}]}])
    assert msg.content[0].text == "ok"
    body = mock.requests()[-1]["body"]
    assert "redacted_thinking" not in json.dumps(body)
    assert "hello" in json.dumps(body["messages"])
