"""Claude Code end to end: model aliases routed by the config, and gateway model discovery."""
import json

import pytest

from claude_runner import (CLIENT_TOKEN, chat_requests, claude, cli_gateway, message_posts,  # noqa: F401
                           requires_claude, tap)

pytestmark = requires_claude

FAMILY_ROUTES = [
    {"name": "sonnet", "match": {"models": ["claude-sonnet-*"]}, "targets": [{"provider": "mock", "model": "mock/sonnet-target"}]},
    {"name": "opus", "match": {"models": ["claude-opus-*"]}, "targets": [{"provider": "mock", "model": "mock/opus-target"}]},
    {"name": "haiku", "match": {"models": ["claude-haiku-*"]}, "targets": [{"provider": "mock", "model": "mock/haiku-target"}]},
    {"name": "other", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/catch-all"}]},
]


@pytest.mark.parametrize("alias", ["sonnet", "opus", "haiku"])
def test_alias_is_routed_by_family(alias, claude, cli_gateway, mock, tap):
    """`--model sonnet|opus|haiku`: the CLI sends a claude-<family>-… name (2.1.327: claude-<family>-5-5,
    adaptive thinking, output_config.effort, a role:system message inside messages); the family glob
    route picks the upstream model."""
    gw = cli_gateway(routes=FAMILY_ROUTES)
    proxy = tap(gw.base_url)
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": f"answered as {alias}"}})

    run = claude.run(proxy.base_url, "Which model are you?", model=alias)

    assert not run.is_error and run.result_text == f"answered as {alias}", run.describe()
    (post,) = message_posts(proxy)
    sent_model = post["body"]["model"]
    assert sent_model.startswith(f"claude-{alias}-"), sent_model
    (req,) = chat_requests(mock.requests())
    assert req["body"]["model"] == f"mock/{alias}-target"
    (entry,) = [e for e in gw.access_log() if e["endpoint"] == "messages"]
    assert (entry["model"], entry["route"], entry["target"]) == (sent_model, alias, f"mock:mock/{alias}-target")

    # adaptive thinking with an effort becomes OpenRouter reasoning.effort (spec §2.10)
    thinking, effort = post["body"].get("thinking"), post["body"].get("output_config", {}).get("effort")
    if thinking and thinking.get("type") == "adaptive" and effort:
        assert req["body"].get("reasoning") == {"effort": "xhigh" if effort == "max" else effort}
    # a role:"system" message inside `messages` stays a system message at its position (spec §2.2)
    cli_systems = [m for m in post["body"]["messages"] if m["role"] == "system"]
    up_roles = [m["role"] for m in req["body"]["messages"]]
    assert set(up_roles) <= {"system", "user", "assistant", "tool"}
    if cli_systems:
        up_systems = [m for m in req["body"]["messages"] if m["role"] == "system"]
        assert len(up_systems) == 1 + len(cli_systems), up_roles
        first_text = cli_systems[0]["content"] if isinstance(cli_systems[0]["content"], str) else \
            "\n".join(b.get("text", "") for b in cli_systems[0]["content"])
        assert any(first_text.strip()[:200] in (m["content"] if isinstance(m["content"], str) else json.dumps(m["content"]))
                   for m in up_systems[1:])


def test_default_sonnet_model_pin_is_what_the_alias_sends(claude, cli_gateway, mock, tap):
    """The README's optional pin: ANTHROPIC_DEFAULT_SONNET_MODEL decides what `--model sonnet`
    sends, and the routes decide where that name goes."""
    routes = [{"name": "pinned", "match": {"models": ["claude-sonnet-4-5-20250929"]},
               "targets": [{"provider": "mock", "model": "mock/pinned-target"}]}] + FAMILY_ROUTES
    gw = cli_gateway(routes=routes)
    proxy = tap(gw.base_url)
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": "pinned answer"}})

    run = claude.run(proxy.base_url, "hi", model="sonnet",
                     extra_env={"ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-sonnet-4-5-20250929"})

    assert not run.is_error and run.result_text == "pinned answer", run.describe()
    (post,) = message_posts(proxy)
    assert post["body"]["model"] == "claude-sonnet-4-5-20250929"
    (req,) = chat_requests(mock.requests())
    assert req["body"]["model"] == "mock/pinned-target"


def test_model_discovery_fills_the_cli_cache(claude, cli_gateway, mock, tap):
    """CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1: the CLI calls GET /v1/models?limit=1000 with its
    credential and caches the claude-* ids (only) in ~/.claude/cache/gateway-models.json."""
    routes = [
        {"name": "sonnet", "match": {"models": ["claude-sonnet-4-5-20250929", "claude-sonnet-*"]},
         "targets": [{"provider": "mock", "model": "mock/sonnet-target"}]},
        {"name": "opus", "match": {"models": ["claude-opus-4-1-20250805"]}, "targets": [{"provider": "mock", "model": "mock/opus-target"}]},
        {"name": "local", "match": {"models": ["gpt-local-model"]}, "targets": [{"provider": "mock", "model": "mock/local"}]},
        {"name": "other", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/catch-all"}]},
    ]
    gw = cli_gateway(routes=routes, token_auth=True)
    proxy = tap(gw.base_url)
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": "discovered"}})

    run = claude.run(proxy.base_url, "hi", extra_env={"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"})

    assert not run.is_error and run.result_text == "discovered", run.describe()
    gets = [e for e in proxy.exchanges if e["method"] == "GET" and e["path"].split("?")[0] == "/v1/models"]
    assert len(gets) == 1, [(e["method"], e["path"]) for e in proxy.exchanges]
    listing = gets[0]
    assert listing["path"] == "/v1/models?limit=1000"
    assert listing["headers"].get("authorization") == f"Bearer {CLIENT_TOKEN}"
    assert listing["status"] == 200, listing
    ids = [m["id"] for m in listing["response_body"]["data"]]
    assert {"claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"} <= set(ids), ids
    assert all(m["type"] == "model" and m.get("display_name") and m.get("created_at")
               for m in listing["response_body"]["data"])

    cache = claude.home / ".claude" / "cache" / "gateway-models.json"
    assert cache.exists(), "the CLI wrote no gateway-models.json"
    cached = json.loads(cache.read_text())
    assert cached["baseUrl"] == proxy.base_url
    cached_ids = [m["id"] for m in cached["models"]]
    assert set(cached_ids) == {i for i in ids if i.startswith(("claude", "anthropic"))}, cached
    assert "gpt-local-model" not in cached_ids


@pytest.mark.parametrize("token_auth", [False, True])
def test_model_discovery_with_glob_only_routes_offers_catalogue_ids(claude, cli_gateway, mock, tap, token_auth):
    """Routes that match by glob only (claude-haiku-*, claude-sonnet-*, *) name no model literally;
    discovery still fills the CLI's picker with current claude-* ids from the gateway's catalogue
    (each once, with human display names), and a discovered id is usable."""
    routes = [
        {"name": "haiku", "match": {"models": ["claude-haiku-*"]}, "targets": [{"provider": "mock", "model": "mock/haiku-target"}]},
        {"name": "sonnet", "match": {"models": ["claude-sonnet-*"]}, "targets": [{"provider": "mock", "model": "mock/sonnet-target"}]},
        {"name": "rest", "match": {"models": ["*"]}, "targets": [{"provider": "mock", "model": "mock/rest-target"}]},
    ]
    gw = cli_gateway(routes=routes, token_auth=token_auth)
    proxy = tap(gw.base_url)
    mock.script({"match": {"stream": True}, "times": -1, "reply": {"type": "chat", "content": "globbed"}})

    run = claude.run(proxy.base_url, "hi", model="claude-haiku-4-5-20251001",
                     extra_env={"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"})

    assert not run.is_error and run.result_text == "globbed", run.describe()
    gets = [e for e in proxy.exchanges if e["method"] == "GET" and e["path"].split("?")[0] == "/v1/models"]
    assert len(gets) == 1, [(e["method"], e["path"]) for e in proxy.exchanges]
    listing = gets[0]
    assert listing["path"] == "/v1/models?limit=1000"
    assert listing["headers"].get("anthropic-version") == "2023-06-01"
    assert listing["status"] == 200, listing
    data = listing["response_body"]["data"]
    ids = [m["id"] for m in data]
    assert {"claude-haiku-4-5-20251001", "claude-haiku-5-5", "claude-sonnet-4-5-20250929", "claude-sonnet-5-5",
            "claude-opus-5-5"} <= set(ids), ids
    assert all(i.startswith("claude-") and "*" not in i for i in ids), ids
    assert len(ids) == len(set(ids)), ids
    assert listing["response_body"]["has_more"] is False
    names = {m["id"]: m["display_name"] for m in data}
    assert names["claude-sonnet-4-5-20250929"] == "Claude Sonnet 4.5"
    assert names["claude-haiku-4-5-20251001"] == "Claude Haiku 4.5"

    cache = claude.home / ".claude" / "cache" / "gateway-models.json"
    assert cache.exists(), "the CLI wrote no gateway-models.json"
    cached = json.loads(cache.read_text())
    assert cached["baseUrl"] == proxy.base_url
    cached_ids = [m["id"] for m in cached["models"]]
    assert set(cached_ids) == set(ids), cached
    assert {"claude-sonnet-5-5", "claude-haiku-4-5-20251001"} <= set(cached_ids), cached_ids

    # the discovered id the CLI ran with went to its family's route
    (post,) = message_posts(proxy)
    assert post["body"]["model"] == "claude-haiku-4-5-20251001"
    (req,) = chat_requests(mock.requests())
    assert req["body"]["model"] == "mock/haiku-target"


def test_model_no_route_serves_gets_404(claude, cli_gateway, mock, tap):
    """A model no route serves: 404 not_found_error, which the CLI shows as an issue with the
    selected model (and resends once non-streamed); the upstream is never called."""
    gw = cli_gateway(routes=FAMILY_ROUTES[:1])           # sonnet only, no catch-all
    proxy = tap(gw.base_url)
    mock.script({"times": -1, "reply": {"type": "chat", "content": "must not be reached"}})

    run = claude.run(proxy.base_url, "hi", model="opus", extra_env={"CLAUDE_CODE_MAX_RETRIES": "0"})

    assert run.is_error and run.returncode != 0, run.describe()
    assert run.result["api_error_status"] == 404
    assert "issue with the selected model" in run.result_text, run.result_text
    posts = message_posts(proxy)
    assert posts and all(p["status"] == 404 for p in posts), [(p["status"], p["body"].get("stream")) for p in posts]
    assert all(p["response_body"]["error"]["type"] == "not_found_error" for p in posts)
    assert posts[0]["body"]["model"] in posts[0]["response_body"]["error"]["message"]
    assert mock.requests() == []
