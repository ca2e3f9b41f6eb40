"""The usage page `GET /ui` in a real headless browser (accounting.md "Reports": "tested in a real
headless browser (Debian's chromium), not only by fetching HTML").

Debian's `chromium` renders the page (`--dump-dom` gives the DOM after parsing, `--screenshot` a
PNG); the DOM must hold the spend chart (one bar per day of the last 30 days, each day's cost equal
to the ledger's), the users table with every user and a budget bar whose `data-ratio` is spent ÷
budget, the targets and routes tables and the routes' health with fallback counts.

Where the page is served: on `server.admin_listen` when set (then `/metrics` is there too, and the
main listener serves neither), else on the main listener. On a loopback listener the page is open;
off loopback it needs an admin token. These tests keep every listener on 127.0.0.1 (the gateway
treats 127.* as loopback), so the admin-token path off loopback is not exercised here.

The screenshot goes to the test's temp dir; with SWITCHYARD_UPDATE_SCREENSHOT=1 it is also written to
docs/usage-page.png (1280 px wide) for the README.
"""
import datetime
import json
import os
import pathlib
import shutil
import signal
import sqlite3
import struct
import subprocess
import time
import uuid
from html.parser import HTMLParser

import pytest

from acctkit import (ALICE, BOB, DB_NAME, ROOT_ADMIN, Price, acct_config, basic, bearer, db_rows, free_port, get, messages_body,
                     metric, metrics, openai_usage, post, request, route, target, users_block, wait_rows)

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SCREENSHOT = ROOT / "docs" / "usage-page.png"
PRICE = Price("0", "100")          # 100 output tokens = $0.01
INSTALL = ["apt-get", "install", "-y", "-q", "chromium"]


def _find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium; installed with apt-get when missing (scripts/test installs it up front).
    Skips, saying why, only when it cannot be installed."""
    path = _find_chromium()
    if path is None and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            if subprocess.run(INSTALL, capture_output=True, env=env, timeout=600).returncode != 0:
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, timeout=600)
                subprocess.run(INSTALL, capture_output=True, env=env, timeout=900)
        except (OSError, subprocess.TimeoutExpired):
            pass
        path = _find_chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed and `apt-get install -y chromium` failed "
                    "(no apt-get, not root, or no network); the usage page needs a real browser")
    return path


def _browser(chromium, tmp_path, *args, timeout=90):
    profile = tmp_path / f"chromium-profile-{uuid.uuid4().hex[:8]}"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=dict(os.environ, HOME=str(tmp_path)))
    return proc


# --------------------------------------------------------------------------- a small DOM

class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.text_parts = tag, dict(attrs), parent, [], []

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag=None, **attrs):
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if all((n.attrs.get(k.replace("_", "-")) == v if v is not True else k.replace("_", "-") in n.attrs)
                   for k, v in attrs.items()):
                out.append(n)
        return out

    def find(self, tag=None, **attrs):
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def text(self):
        return "".join(self.text_parts) + "".join(c.text() for c in self.children)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class DOM(HTMLParser):
    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text_parts.append(data)


def render(chromium, tmp_path, url) -> Node:
    proc = _browser(chromium, tmp_path, "--virtual-time-budget=3000", "--dump-dom", url)
    html = proc.stdout.decode("utf-8", errors="replace")
    assert proc.returncode == 0 and "<html" in html, (proc.returncode, proc.stderr[-2000:])
    return DOM(html).root


# --------------------------------------------------------------------------- traffic

def _insert_history(db: pathlib.Path, days_costs: dict[str, list[tuple[str, int]]]):
    """Rows of earlier days (as an older gateway would have written them): {day: [(user, micro), …]}."""
    con = sqlite3.connect(str(db), timeout=10)
    try:
        for day, entries in days_costs.items():
            base = int(datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            for i, (user, micro) in enumerate(entries):
                con.execute(
                    "INSERT INTO usage_records (request_id, ts_ms, instance, user_name, route, endpoint, model, target, attempts, "
                    "stream, status, error_type, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated, "
                    "cost_micro_usd, cost_source, latency_ms, ttfb_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (f"req_hist_{day}_{i}", base + 3_600_000 * (i + 1), "history", user, "default", "messages", "claude-acct-sonnet",
                     "mock:mock/main", "mock:mock/main 200", 1, 200, None, 1000, micro // 100, 0, 0, 0, micro, "prices", 900.0, 300.0))
        con.commit()
    finally:
        con.close()


def _days(n=30):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return [(today - datetime.timedelta(days=n - 1 - i)).strftime("%Y-%m-%d") for i in range(n)]


@pytest.fixture
def page_gateway(gateway_factory, mock, tmp_path):
    """A team gateway with an admin listener, five requests by alice ($0.05 of her $0.10 budget),
    bob's traffic with a fallback, and 20 earlier days of history (bob, carol) in the ledger."""
    admin_port = free_port()
    users = users_block(alice_limits={"budget": {"usd": 0.10, "period": "month"}})
    routes = [route("backup", ["claude-backup"], [target("mock/flaky"), target("mock/steady")]),
              route("default", ["*"], [target("mock/main")])]
    cfg = acct_config(mock, tmp_path, prices={"*": PRICE}, routes=routes, users=users,
                      server={"admin_listen": f"127.0.0.1:{admin_port}", "instance": "acct-page-test"})
    cfg["fallback"] = {"cooldown": "60s"}
    gw = gateway_factory(cfg)
    gw.admin_url = f"http://127.0.0.1:{admin_port}"
    gw.cfg = cfg
    mock.script([
        {"match": {"model": "mock/flaky"}, "times": -1, "reply": {"type": "error", "status": 500}},
        {"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(12, 100)}},
    ])
    for _ in range(5):
        assert post(gw, messages_body(max_tokens=100), ALICE).status == 200
    assert post(gw, messages_body(max_tokens=100, model="claude-backup"), BOB).status == 200
    assert post(gw, messages_body(max_tokens=100), BOB).status == 200
    wait_rows(tmp_path / DB_NAME, 7)
    days = _days()
    history = {}
    for i, day in enumerate(days[:-1]):
        if i % 3 == 1:
            continue
        history[day] = [("bob", 1000 * (i + 1))] + ([("carol", 2500 * (i % 5 + 1))] if i % 2 else [])
    _insert_history(tmp_path / DB_NAME, history)
    gw.history = history
    gw.days = days
    return gw


def _wait_admin(url):
    for _ in range(100):
        try:
            if request(url, "GET", "/metrics").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the admin listener {url} did not answer")


def test_page_in_headless_chromium(page_gateway, chromium, tmp_path):
    gw = page_gateway
    _wait_admin(gw.admin_url)
    dom = render(chromium, tmp_path, gw.admin_url + "/ui")

    # the chart: one bar per day of the last 30 days, each day's data-cost the ledger's sum
    chart = dom.find("svg", id="spend-chart")
    assert chart is not None, "no <svg id=spend-chart>"
    assert len(chart.find_all("rect")) == 30
    bars = {g.attrs["data-day"]: int(g.attrs["data-cost"]) for g in chart.find_all("g", data_day=True)}
    assert list(bars) == gw.days
    rows = db_rows(pathlib.Path(tmp_path / DB_NAME))
    per_day = {}
    for r in rows:
        day = datetime.datetime.fromtimestamp(r["ts_ms"] / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")
        per_day[day] = per_day.get(day, 0) + (r["cost_micro_usd"] or 0)
    assert bars == {d: per_day.get(d, 0) for d in gw.days}
    assert bars[gw.days[-1]] == 5 * 10_000 + 2 * 10_000
    zero_days = [g for g in chart.find_all("g", data_day=True) if g.attrs["data-cost"] == "0"]
    assert all("zero" in g.find("rect").classes() for g in zero_days)

    # users: every configured user and every user in the ledger; alice's budget bar at 50 %
    users = dom.find("table", id="users")
    assert users is not None
    listed = {tr.attrs["data-user"]: tr for tr in users.find_all("tr", data_user=True)}
    assert set(listed) == {"alice", "bob", "root", "carol"}
    bar = [d for d in listed["alice"].find_all("div") if "budget-bar" in d.classes()]
    assert len(bar) == 1, listed["alice"].text()
    assert bar[0].attrs["data-ratio"] == "0.50"
    assert "$0.05 of $0.10" in listed["alice"].text()
    assert not [d for d in listed["bob"].find_all("div") if "budget-bar" in d.classes()]
    assert "no budget" in listed["bob"].text()

    # targets and routes tables; the health table lists every route's targets with the fallback
    targets = dom.find("table", id="targets")
    routes = dom.find("table", id="routes")
    assert targets is not None and routes is not None
    assert {tr.attrs["data-key"] for tr in targets.find_all("tr", data_key=True)} >= {"mock:mock/main", "mock:mock/steady"}
    assert {tr.attrs["data-key"] for tr in routes.find_all("tr", data_key=True)} >= {"default", "backup"}
    health = dom.find("table", id="health")
    assert health is not None
    hrows = {(tr.attrs["data-route"], tr.attrs["data-target"]): tr for tr in health.find_all("tr", data_route=True)}
    assert set(hrows) == {("backup", "mock:mock/flaky"), ("backup", "mock:mock/steady"), ("default", "mock:mock/main")}
    assert "cooling" in hrows[("backup", "mock:mock/flaky")].classes()       # failed, 60s cooldown
    assert "healthy" in hrows[("default", "mock:mock/main")].classes()
    assert hrows[("backup", "mock:mock/flaky")].find_all("td")[-1].text().strip() == "1"

    # no external assets: the page works without network or script
    for node in dom.iter():
        for attr in ("src", "href"):
            value = node.attrs.get(attr) or ""
            assert not value.startswith(("http:", "https:", "//")), (node.tag, value)
        assert node.tag != "script"
    assert "acct-page-test" in dom.text()

    # a screenshot, 1280 px wide
    shot = tmp_path / "usage-page.png"
    proc = _browser(chromium, tmp_path, "--window-size=1280,1500", f"--screenshot={shot}", gw.admin_url + "/ui")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280, (width, height)
    if os.environ.get("SWITCHYARD_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_admin_listener_serves_page_and_metrics(page_gateway):
    """With server.admin_listen the page and /metrics are there (open on loopback), not on the main
    listener; the accounting metrics carry the spend and the budget ratio."""
    gw = page_gateway
    _wait_admin(gw.admin_url)
    page = get(gw.admin_url, "/ui")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html"), page
    assert get(gw.admin_url, "/ui", None, basic(ROOT_ADMIN)).status == 200
    for path in ("/ui", "/metrics"):
        assert get(gw, path, ROOT_ADMIN).status in (404, 405), path
    samples = metrics(gw.admin_url)
    assert metric(samples, "switchyard_spend_usd_total", user="alice", route="default") == pytest.approx(0.05)
    assert metric(samples, "switchyard_budget_used_ratio", user="alice") == pytest.approx(0.5)
    assert metric(samples, "switchyard_ledger_records_total", result="written") >= 7
    assert metric(samples, "switchyard_ledger_backlog") is not None


def test_page_on_main_loopback_listener_without_token(gateway_factory, mock, tmp_path, chromium):
    """Without admin_listen the page is on the main listener; on 127.0.0.1 it needs no token, even
    in tokens mode, and renders in the browser."""
    cfg = acct_config(mock, tmp_path, prices={"*": PRICE}, users=users_block(bob_limits={"budget": {"usd": 1, "period": "day"}}))
    gw = gateway_factory(cfg)
    mock.script({"times": -1, "reply": {"type": "chat", "content": "x", "usage": openai_usage(3, 100)}})
    for _ in range(25):
        assert post(gw, messages_body(max_tokens=100), BOB).status == 200
    plain = get(gw, "/ui")
    assert plain.status == 200 and "<svg" in plain.text, plain
    assert get(gw, "/ui", None, bearer(ROOT_ADMIN)).status == 200
    dom = render(chromium, tmp_path, gw.url("/ui"))
    assert len(dom.find("svg", id="spend-chart").find_all("rect")) == 30
    bob = dom.find("tr", data_user="bob")
    bars = [d for d in bob.find_all("div") if "budget-bar" in d.classes()]
    assert [b.attrs["data-ratio"] for b in bars] == ["0.25"]
    assert dom.find("table", id="health") is not None


def test_page_budget_bar_after_restart(page_gateway, gateway_factory):
    """A restarted gateway reads the spend back from the ledger: the page shows alice's budget bar
    at 50 % before she sends anything."""
    gw = page_gateway
    cfg = gw.cfg
    gw.stop(signal.SIGTERM)
    admin_port = free_port()
    cfg = json.loads(json.dumps(cfg))
    cfg["server"]["admin_listen"] = f"127.0.0.1:{admin_port}"
    gw2 = gateway_factory(cfg, name="gw2")
    url = f"http://127.0.0.1:{admin_port}"
    _wait_admin(url)
    html = get(url, "/ui").text
    dom = DOM(html).root
    alice = dom.find("tr", data_user="alice")
    bars = [d for d in alice.find_all("div") if "budget-bar" in d.classes()]
    assert [b.attrs["data-ratio"] for b in bars] == ["0.50"], alice.text()
    # /v1/usage/budget agrees
    assert get(gw2, "/v1/usage/budget", ALICE).json()["budgets"][0]["spent_usd"] == pytest.approx(0.05)


def test_page_off_loopback_needs_an_admin_token(gateway_factory, mock, tmp_path):
    """An admin listener bound to all interfaces (not loopback) serves the page only to an admin
    token, as HTTP Basic (the token as password) or Bearer; a user token or none gets 401 with a
    Basic challenge. The test's own traffic still goes to 127.0.0.1."""
    admin_port = free_port()
    cfg = acct_config(mock, tmp_path, prices={"*": PRICE}, users=users_block(),
                      server={"admin_listen": f"0.0.0.0:{admin_port}"})
    gateway_factory(cfg)
    url = f"http://127.0.0.1:{admin_port}"
    _wait_admin(url)
    refused = get(url, "/ui")
    assert refused.status == 401 and "basic" in refused.headers.get("www-authenticate", "").lower()
    assert get(url, "/ui", headers=basic(ALICE)).status == 401  # a user, not an admin
    assert get(url, "/ui", headers=bearer("sy-not-a-token")).status == 401
    for headers in (basic(ROOT_ADMIN), bearer(ROOT_ADMIN)):
        page = get(url, "/ui", headers=headers)
        assert page.status == 200 and 'id="spend-chart"' in page.text
