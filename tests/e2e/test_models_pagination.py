"""GET /v1/models paging in the Anthropic shape: default page of 20, `limit`, `after_id`, `before_id`."""
import json
import urllib.request

from conftest import base_config


def get_models(gw, query: str = "") -> dict:
    req = urllib.request.Request(gw.url("/v1/models" + query), headers={"anthropic-version": "2023-06-01"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def test_pages_follow_the_anthropic_list_contract(gateway_factory, mock):
    names = [f"claude-model-{i:02d}" for i in range(25)]
    routes = [{"name": "many", "match": {"models": names}, "targets": [{"provider": "mock", "model": "mock/model-a"}]}]
    gw = gateway_factory(base_config(mock, routes=routes))

    first = get_models(gw)
    assert [m["id"] for m in first["data"]] == names[:20]
    assert first["has_more"] is True and first["first_id"] == names[0] and first["last_id"] == names[19]

    rest = get_models(gw, f"?after_id={first['last_id']}")
    assert [m["id"] for m in rest["data"]] == names[20:] and rest["has_more"] is False

    everything = get_models(gw, "?limit=1000")
    assert [m["id"] for m in everything["data"]] == names and everything["has_more"] is False

    before = get_models(gw, f"?before_id={names[5]}&limit=2")
    assert [m["id"] for m in before["data"]] == names[3:5] and before["has_more"] is True
