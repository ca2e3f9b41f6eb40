"""GET /v1/models for model pickers (Claude Code's gateway model discovery calls
`GET /v1/models?limit=1000` with `anthropic-version: 2023-06-01`) when routes match by glob only:
the list holds the current Claude model ids the globs match, with human display names, each once;
`advertise:` replaces a route's derived ids; paging, the OpenAI shape and per-user route
allow-lists all agree with it (Claude Code conformance)."""
import re

import pytest

from conftest import base_config, register_secret
from helpers import client, error_of, messages_body, raw, route, sha256_hex, target, upstream_calls

ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01"}
HAIKU_USER = register_secret("sk-sw-haiku-only-" + "9e1b7c3a5d20")
FULL_USER = register_secret("sk-sw-everything-" + "4a6c8e0b2d19")
REST_USER = register_secret("sk-sw-rest-only-" + "7f3b1d9c5e02")
CUSTOM_USER = register_secret("sk-sw-custom-only-" + "2b8d4f6a0c13")

GLOB_ROUTES = [
    route("haiku", ["claude-haiku-*"], [target("mock/haiku-target")]),
    route("sonnet", ["claude-sonnet-*"], [target("mock/sonnet-target")]),
    route("rest", ["*"], [target("mock/rest-target")]),
]
ROUTE_TARGETS = {"haiku": "mock/haiku-target", "sonnet": "mock/sonnet-target", "rest": "mock/rest-target",
                 "custom": "mock/custom-target"}
# Current ids each glob must bring into the list (claude-opus-5-5 only through the catch-all `*`).
EXPECTED = {"claude-haiku-4-5-20251001", "claude-haiku-5-5", "claude-sonnet-4-5-20250929", "claude-sonnet-5-5",
            "claude-opus-5-5"}
DISPLAY_NAMES = {"claude-sonnet-4-5-20250929": "Claude Sonnet 4.5", "claude-haiku-4-5-20251001": "Claude Haiku 4.5",
                 "claude-sonnet-5-5": "Claude Sonnet 5.5", "claude-haiku-5-5": "Claude Haiku 5.5",
                 "claude-opus-5-5": "Claude Opus 5.5"}
HUMAN_NAME = re.compile(r"^Claude (Opus|Sonnet|Haiku) \d+(\.\d+)?$")


def _users():
    return [{"name": "full", "token_sha256": sha256_hex(FULL_USER)},
            {"name": "haiku-only", "token_sha256": sha256_hex(HAIKU_USER), "routes": ["haiku"]},
            {"name": "rest-only", "token_sha256": sha256_hex(REST_USER), "routes": ["rest"]}]


def list_models(gw, token: str | None = None, query: str = "?limit=1000") -> dict:
    headers = dict(ANTHROPIC_HEADERS)
    if token:
        headers["x-api-key"] = token
    resp = raw(gw, "GET", "/v1/models" + query, headers=headers)
    assert resp.status == 200, resp
    return resp.json()


def ids_of(listing: dict) -> list[str]:
    return [m["id"] for m in listing["data"]]


def route_of(mock, gw, model: str, token: str | None = None) -> tuple[int, str | None]:
    """POST a message for `model`; the status and the upstream model it reached (None if none)."""
    mock.reset()
    mock.script({"match": {"api": "openai"}, "times": -1, "reply": {"type": "chat", "content": "ok"}})
    headers = {"x-api-key": token} if token else {}
    resp = raw(gw, "POST", "/v1/messages", messages_body(model=model), headers=headers)
    calls = upstream_calls(mock, "openai")
    return resp.status, (calls[-1]["body"]["model"] if calls else None)


@pytest.fixture
def glob_gw(gateway_factory, mock):
    return gateway_factory(base_config(mock, routes=GLOB_ROUTES))


@pytest.fixture
def team_glob_gw(gateway_factory, mock):
    return gateway_factory(base_config(mock, routes=GLOB_ROUTES, auth={"mode": "tokens"}, users=_users()))


# ---------------------------------------------------------------- glob-only routes

def test_glob_routes_list_current_claude_ids(glob_gw, mock):
    listing = list_models(glob_gw)
    ids = ids_of(listing)
    assert EXPECTED <= set(ids), sorted(ids)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert all(i.startswith("claude-") for i in ids), ids
    assert not any("*" in i or "?" in i for i in ids), ids
    assert listing["has_more"] is False
    assert listing["first_id"] == ids[0] and listing["last_id"] == ids[-1]
    by_id = {m["id"]: m for m in listing["data"]}
    for model_id, name in DISPLAY_NAMES.items():
        assert by_id[model_id]["display_name"] == name, by_id[model_id]
    for m in listing["data"]:
        assert m["type"] == "model"
        assert HUMAN_NAME.match(m["display_name"]), m
        assert isinstance(m["created_at"], str) and m["created_at"].endswith("Z"), m
    assert mock.requests() == []


def test_every_listed_id_is_served_by_the_route_whose_glob_matches(glob_gw, mock):
    """What the picker offers must work: each listed id routes (first match wins) to the route
    its family glob names, and claude-opus-* ids to the catch-all."""
    for model_id in ids_of(list_models(glob_gw)):
        expected = "haiku" if model_id.startswith("claude-haiku-") else \
            "sonnet" if model_id.startswith("claude-sonnet-") else "rest"
        status, upstream_model = route_of(mock, glob_gw, model_id)
        assert (status, upstream_model) == (200, ROUTE_TARGETS[expected]), model_id


def test_single_model_lookup_for_glob_ids(glob_gw, mock):
    for model_id, name in DISPLAY_NAMES.items():
        resp = raw(glob_gw, "GET", f"/v1/models/{model_id}", headers=ANTHROPIC_HEADERS)
        assert resp.status == 200, (model_id, resp)
        assert resp.json() == {"type": "model", "id": model_id, "display_name": name,
                               "created_at": resp.json()["created_at"]}


def test_sdk_lists_glob_ids(glob_gw, mock):
    ids = [m.id for m in client(glob_gw).models.list(limit=1000)]
    assert EXPECTED <= set(ids)
    assert ids == ids_of(list_models(glob_gw))


def test_no_catch_all_lists_only_family_ids(gateway_factory, mock):
    gw = gateway_factory(base_config(mock, routes=GLOB_ROUTES[:2]))
    ids = ids_of(list_models(gw))
    assert {"claude-haiku-4-5-20251001", "claude-haiku-5-5", "claude-sonnet-4-5-20250929", "claude-sonnet-5-5"} <= set(ids)
    assert all(i.startswith(("claude-haiku-", "claude-sonnet-")) for i in ids), ids
    assert "claude-opus-5-5" not in ids
    assert raw(gw, "GET", "/v1/models/claude-opus-5-5", headers=ANTHROPIC_HEADERS).status == 404


# ---------------------------------------------------------------- advertise

def test_advertise_lists_exactly_the_given_ids_for_its_route(gateway_factory, mock):
    routes = [route("custom", ["claude-custom-*", "claude-opus-*"], [target(ROUTE_TARGETS["custom"])],
                    advertise=["claude-custom-1", "claude-custom-2"])] + GLOB_ROUTES
    users = _users() + [{"name": "custom-only", "token_sha256": sha256_hex(CUSTOM_USER), "routes": ["custom"]}]
    gw = gateway_factory(base_config(mock, routes=routes, auth={"mode": "tokens"}, users=users))

    ids = ids_of(list_models(gw, FULL_USER))
    assert {"claude-custom-1", "claude-custom-2"} <= set(ids)
    assert {"claude-haiku-5-5", "claude-sonnet-5-5"} <= set(ids)
    assert len(ids) == len(set(ids)), ids
    # the route's own list is exactly what it advertises, not the claude-opus-* ids its glob matches
    assert ids_of(list_models(gw, CUSTOM_USER)) == ["claude-custom-1", "claude-custom-2"]
    status, upstream_model = route_of(mock, gw, "claude-custom-2", CUSTOM_USER)
    assert (status, upstream_model) == (200, ROUTE_TARGETS["custom"])


def test_advertised_route_ids_are_not_offered_to_users_who_cannot_use_them(gateway_factory, mock):
    """A user whose allow-list lacks the advertising route must not be offered ids that route
    would serve: every id a user sees is one they can send (no 403 for a listed model)."""
    routes = [route("custom", ["claude-custom-*", "claude-opus-*"], [target(ROUTE_TARGETS["custom"])],
                    advertise=["claude-custom-1", "claude-custom-2"])] + GLOB_ROUTES
    gw = gateway_factory(base_config(mock, routes=routes, auth={"mode": "tokens"}, users=_users()))
    for token in (REST_USER, HAIKU_USER):
        for model_id in ids_of(list_models(gw, token)):
            status, _ = route_of(mock, gw, model_id, token)
            assert status == 200, f"{model_id} is listed for this user but answers {status}"


def test_shadowed_literal_is_not_offered_to_users_of_the_shadowed_route(gateway_factory, mock):
    """A literal name an earlier route's glob already claims is served by that earlier route, so a
    user allowed only the later route must not see it (same rule: listed means usable)."""
    routes = [route("sonnet", ["claude-sonnet-*"], [target(ROUTE_TARGETS["sonnet"])]),
              route("pinned", ["claude-sonnet-5-5", "claude-pinned-1"], [target("mock/pinned-target")])]
    users = [{"name": "pinned-only", "token_sha256": sha256_hex(CUSTOM_USER), "routes": ["pinned"]}]
    gw = gateway_factory(base_config(mock, routes=routes, auth={"mode": "tokens"}, users=users))
    listed = ids_of(list_models(gw, CUSTOM_USER))
    assert "claude-pinned-1" in listed
    for model_id in listed:
        status, _ = route_of(mock, gw, model_id, CUSTOM_USER)
        assert status == 200, f"{model_id} is listed for this user but answers {status}"


# ---------------------------------------------------------------- paging and shapes

@pytest.mark.parametrize("page_size", [1, 2, 5])
def test_paging_walks_the_whole_list(glob_gw, mock, page_size):
    everything = ids_of(list_models(glob_gw))
    seen, after, pages = [], None, 0
    while True:
        query = f"?limit={page_size}" + (f"&after_id={after}" if after else "")
        page = list_models(glob_gw, query=query)
        page_ids = ids_of(page)
        assert 1 <= len(page_ids) <= page_size, page
        assert not set(page_ids) & set(seen), f"pages overlap: {page_ids} after {seen}"
        assert page["first_id"] == page_ids[0] and page["last_id"] == page_ids[-1]
        seen += page_ids
        pages += 1
        assert pages <= len(everything), "paging does not end"
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == everything
    assert pages == -(-len(everything) // page_size)


def test_limit_two_has_more(glob_gw, mock):
    everything = ids_of(list_models(glob_gw))
    first = list_models(glob_gw, query="?limit=2")
    assert ids_of(first) == everything[:2] and first["has_more"] is True
    second = list_models(glob_gw, query=f"?limit=2&after_id={first['last_id']}")
    assert ids_of(second) == everything[2:4]
    assert not set(ids_of(first)) & set(ids_of(second))


def test_openai_shape_has_the_same_ids(glob_gw, mock):
    anthropic_ids = ids_of(list_models(glob_gw))
    resp = raw(glob_gw, "GET", "/v1/models")
    assert resp.status == 200, resp
    body = resp.json()
    assert body["object"] == "list"
    openai_ids = [m["id"] for m in body["data"]]
    assert sorted(openai_ids) == sorted(anthropic_ids)
    assert len(openai_ids) == len(set(openai_ids))
    for m in body["data"]:
        assert m["object"] == "model" and isinstance(m["created"], int) and isinstance(m["owned_by"], str)


# ---------------------------------------------------------------- per-user allow-lists

def test_allow_listed_user_sees_only_their_routes_ids(team_glob_gw, mock):
    full = ids_of(list_models(team_glob_gw, FULL_USER))
    assert EXPECTED <= set(full)
    haiku = ids_of(list_models(team_glob_gw, HAIKU_USER))
    assert {"claude-haiku-4-5-20251001", "claude-haiku-5-5"} <= set(haiku)
    assert all(i.startswith("claude-haiku-") for i in haiku), haiku
    assert haiku == [i for i in full if i.startswith("claude-haiku-")]
    # the OpenAI shape (Bearer, no anthropic-version) follows the same allow-list
    resp = raw(team_glob_gw, "GET", "/v1/models", headers={"authorization": "Bearer " + HAIKU_USER})
    assert resp.status == 200, resp
    assert sorted(m["id"] for m in resp.json()["data"]) == sorted(haiku)
    # paging within the allow-list
    page = list_models(team_glob_gw, HAIKU_USER, query="?limit=1")
    assert ids_of(page) == haiku[:1] and page["has_more"] is (len(haiku) > 1)


def test_model_lookup_follows_the_allow_list(team_glob_gw, mock):
    denied = raw(team_glob_gw, "GET", "/v1/models/claude-sonnet-5-5", headers=dict(ANTHROPIC_HEADERS, **{"x-api-key": HAIKU_USER}))
    assert denied.status == 404, denied
    assert error_of(denied)["type"] == "not_found_error"
    allowed = raw(team_glob_gw, "GET", "/v1/models/claude-sonnet-5-5", headers=dict(ANTHROPIC_HEADERS, **{"x-api-key": FULL_USER}))
    assert allowed.status == 200, allowed
    assert allowed.json()["id"] == "claude-sonnet-5-5" and allowed.json()["display_name"] == "Claude Sonnet 5.5"
    own = raw(team_glob_gw, "GET", "/v1/models/claude-haiku-5-5", headers=dict(ANTHROPIC_HEADERS, **{"x-api-key": HAIKU_USER}))
    assert own.status == 200 and own.json()["id"] == "claude-haiku-5-5"


def test_models_need_a_token_in_tokens_mode(team_glob_gw, mock):
    resp = raw(team_glob_gw, "GET", "/v1/models?limit=1000", headers=ANTHROPIC_HEADERS)
    assert resp.status == 401, resp
    assert error_of(resp)["type"] == "authentication_error"


def test_every_id_a_user_sees_is_usable(team_glob_gw, mock):
    for token in (FULL_USER, HAIKU_USER, REST_USER):
        for model_id in ids_of(list_models(team_glob_gw, token)):
            status, _ = route_of(mock, team_glob_gw, model_id, token)
            assert status == 200, f"{model_id} is listed for this user but answers {status}"
