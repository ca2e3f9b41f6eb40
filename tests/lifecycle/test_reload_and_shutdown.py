"""Live operations against the real binary: SIGHUP reload, bad reloads, SIGTERM drain,
systemd notify messages, /metrics after traffic."""
import json
import os
import signal
import socket
import threading
import time
import urllib.request

import pytest

from conftest import Gateway, base_config


def post(gw: Gateway, body: dict, headers: dict | None = None, timeout: float = 10):
    req = urllib.request.Request(gw.url("/v1/messages"), data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def body(stream=False, text="hi"):
    return {"model": "claude-sonnet-4-5", "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": text}]}


def with_target(config: dict, model: str) -> dict:
    config = json.loads(json.dumps(config))
    config["routes"][0]["targets"][0]["model"] = model
    return config


def upstream_models(mock) -> list[str]:
    return [r["body"]["model"] for r in mock.requests() if isinstance(r["body"], dict) and "model" in r["body"]]


def test_sighup_applies_a_new_mapping_and_an_open_stream_completes(gateway_factory, mock):
    config = base_config(mock)
    gw = gateway_factory(config)
    assert gw.health()["config_generation"] == 1
    first_hash = gw.health()["config_hash"]
    mock.script([{"match": {"stream": True}, "reply": {"type": "chat", "content": "0123456789" * 3, "chunk_size": 2, "delay_ms": 60}},
                 {"times": -1, "reply": {"type": "chat", "content": "after"}}])
    result = {}

    def stream():
        result["status"], _, result["body"] = post(gw, body(stream=True), timeout=30)

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.3)  # the stream is open
    gw.reload(with_target(config, "mock/model-b"))
    status, headers, _ = post(gw, body())
    assert status == 200
    t.join(30)
    # the new mapping applies to new requests; the open stream finished on the old one, whole
    assert upstream_models(mock) == ["mock/model-a", "mock/model-b"]
    assert result["status"] == 200
    events = [line for line in result["body"].decode().splitlines() if line.startswith("data: ")]
    text = "".join(json.loads(e[6:])["delta"].get("text", "") for e in events if '"text_delta"' in e)
    assert text == "0123456789" * 3
    assert '"message_stop"' in result["body"].decode()
    health = gw.health()
    assert health["config_generation"] == 2
    assert health["config_hash"] != first_hash
    assert headers["switchyard-config"] == health["config_hash"]
    assert "config reloaded" in gw.stderr()


def test_a_broken_file_keeps_the_old_config_serving(gateway_factory, mock):
    config = base_config(mock)
    gw = gateway_factory(config)
    broken = json.dumps(config).replace('"routes"', '"routez"')
    gw.reload(broken)
    assert gw.alive()
    assert gw.health()["config_generation"] == 1
    status, _, _ = post(gw, body())
    assert status == 200
    err = gw.stderr()
    assert "config reload failed" in err and "routez: unknown key" in err
    with urllib.request.urlopen(gw.url("/metrics"), timeout=5) as r:
        metrics = r.read().decode()
    assert 'switchyard_config_reloads_total{result="failure"} 1' in metrics


def test_an_unchanged_file_is_a_no_op(gateway_factory, mock):
    gw = gateway_factory(base_config(mock))
    gw.reload()
    assert gw.health()["config_generation"] == 1
    assert "config unchanged" in gw.stderr()


def test_limiter_state_survives_a_reload(gateway_factory, mock):
    token = "sy-reload-user-token"
    import hashlib
    config = base_config(mock, auth={"mode": "tokens"},
                         users=[{"name": "u", "token_sha256": hashlib.sha256(token.encode()).hexdigest(), "limits": {"rpm": 2}}])
    gw = gateway_factory(config)
    assert post(gw, body(), {"x-api-key": token})[0] == 200
    assert post(gw, body(), {"x-api-key": token})[0] == 200
    gw.reload(with_target(config, "mock/model-b"))
    assert gw.health()["config_generation"] == 2
    status, headers, _ = post(gw, body(), {"x-api-key": token})
    assert status == 429 and int(headers["retry-after"]) > 0


def test_sigterm_lets_an_open_stream_finish_and_exits_zero(gateway_factory, mock):
    gw = gateway_factory(base_config(mock))
    mock.script([{"match": {"stream": True}, "reply": {"type": "chat", "content": "abcdefghij" * 2, "chunk_size": 2, "delay_ms": 80}}])
    result = {}
    t = threading.Thread(target=lambda: result.update(zip(("status", "headers", "body"), post(gw, body(stream=True), timeout=30))))
    t.start()
    time.sleep(0.3)
    code = gw.stop(signal.SIGTERM, timeout=30)
    t.join(30)
    assert code == 0
    assert result["status"] == 200
    assert '"message_stop"' in result["body"].decode()


def test_sigterm_ends_a_stream_past_the_grace_with_an_error_event(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, server={"shutdown_grace": "1s"}))
    mock.script([{"match": {"stream": True}, "reply": {"type": "fault", "mode": "stall_mid_stream"}}])
    result = {}
    t = threading.Thread(target=lambda: result.update(zip(("status", "headers", "body"), post(gw, body(stream=True), timeout=30))))
    t.start()
    time.sleep(0.4)
    started = time.time()
    code = gw.stop(signal.SIGTERM, timeout=30)
    t.join(30)
    assert code == 0
    assert time.time() - started < 10
    text = result["body"].decode()
    assert "event: error" in text and "overloaded_error" in text
    assert '"message_stop"' not in text


def test_systemd_notify_messages(tmp_path, mock):
    sock_path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(sock_path)
    server.settimeout(10)
    gw = Gateway(base_config(mock), tmp_path, env={"NOTIFY_SOCKET": sock_path})
    try:
        ready = server.recv(4096).decode()
        assert ready.startswith("READY=1")
        gw.reload(with_target(base_config(mock), "mock/model-c"), wait=0)
        reloading = server.recv(4096).decode()
        assert reloading.startswith("RELOADING=1") and "MONOTONIC_USEC=" in reloading
        assert server.recv(4096).decode().startswith("READY=1")
        gw.proc.send_signal(signal.SIGTERM)
        assert server.recv(4096).decode().startswith("STOPPING=1")
        assert gw.proc.wait(15) == 0
    finally:
        gw.stop()
        server.close()


def test_metrics_after_traffic(gateway_factory, mock):
    gw = gateway_factory(base_config(mock))
    for _ in range(3):
        assert post(gw, body())[0] == 200
    assert post(gw, body(stream=True))[0] == 200
    with urllib.request.urlopen(gw.url("/metrics"), timeout=5) as r:
        assert r.headers["content-type"].startswith("text/plain")
        text = r.read().decode()
    assert 'switchyard_requests_total{route="default",target="mock:mock/model-a",status="200",endpoint="messages"} 4' in text
    assert 'switchyard_tokens_total{user="anonymous",route="default",direction="output"}' in text
    assert "switchyard_request_duration_seconds_bucket" in text
    assert "switchyard_config_generation 1" in text
    assert "switchyard_open_streams 0" in text


def test_metrics_on_a_separate_listener(gateway_factory, mock):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    gw = gateway_factory(base_config(mock, server={"metrics_listen": f"127.0.0.1:{port}"}))
    assert post(gw, body())[0] == 200
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                assert "switchyard_requests_total" in r.read().decode()
                break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail("metrics listener did not answer")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(gw.url("/metrics"), timeout=2)
    assert e.value.code in (404, 405)


def test_metrics_show_fallbacks_and_targets_in_cooldown(gateway_factory, mock):
    config = base_config(mock, fallback={"cooldown": "30s"})
    config["routes"][0]["targets"] = [{"provider": "mock", "model": "mock/first"}, {"provider": "mock", "model": "mock/second"}]
    gw = gateway_factory(config)
    mock.script([{"match": {"model": "mock/first"}, "reply": {"type": "error", "status": 500}},
                 {"times": -1, "reply": {"type": "chat", "content": "from the second"}}])
    status, _, reply = post(gw, body())
    assert status == 200 and b"from the second" in reply
    with urllib.request.urlopen(gw.url("/metrics"), timeout=5) as r:
        text = r.read().decode()
    assert "switchyard_targets_in_cooldown 1" in text
    assert 'switchyard_fallback_attempts_total{route="default",target="mock:mock/first",reason="server_error"} 1' in text
    assert 'switchyard_requests_total{route="default",target="mock:mock/second",status="200",endpoint="messages"} 1' in text
