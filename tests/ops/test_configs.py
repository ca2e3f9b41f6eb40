"""Operations files: every shipped config against the JSON schema and `switchyard check`, the schema
against the loader's own key list, `check`'s error reports, the embedded default, the systemd unit,
the container and nginx files, and the `token` subcommands.

Run: source scripts/venv.sh && SWITCHYARD_BIN=... "$VENV/bin/python" -m pytest tests/ops -q
"""
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SWITCHYARD_BIN", str(ROOT / ".build" / "debug" / "switchyard"))
SCHEMA_PATH = ROOT / "config" / "switchyard.schema.json"
DEPLOY = ROOT / "deploy"
UNIT_PATH = DEPLOY / "switchyard.service"
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\s*$")
COMPOSE_NAMES = {"docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"}
# Dummy secret values: they must never show up in `check` output.
DUMMY_PREFIX = "dummy-secret-value-"
FILE_SECRET = "file-secret-value-3f9a1c"


# --- YAML as the loader reads it ------------------------------------------------------------------

class ConfigYAMLLoader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where on/off/yes/no are booleans, so `fallback.on` would become the
    key True. Switchyard's loader keeps `on` a string key; this loader resolves only true/false."""


ConfigYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigYAMLLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(text: str):
    return yaml.load(text, Loader=ConfigYAMLLoader)


# --- shipped files --------------------------------------------------------------------------------

def shipped_yaml() -> list[Path]:
    files = []
    for folder in ("config", "examples", "deploy"):
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()]
    return sorted(files)


CONFIGS = [p for p in shipped_yaml() if p.name not in COMPOSE_NAMES]
CONFIG_IDS = [str(p.relative_to(ROOT)) for p in CONFIGS]


@pytest.fixture(scope="session")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@pytest.fixture(scope="session")
def validator(schema):
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="session", autouse=True)
def _binary():
    assert Path(BIN).is_file() and os.access(BIN, os.X_OK), f"switchyard binary not found at {BIN} (set SWITCHYARD_BIN)"


def run(args: list[str], env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROXY_")}
    base.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, input=stdin, env=base, timeout=60)


def required_vars(text: str) -> set[str]:
    """${NAME} references without a default (a missing one is a config error)."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))


def file_secrets(node) -> list[str]:
    """Paths of every `{ file: PATH }` secret in a parsed config."""
    found = []
    if isinstance(node, dict):
        if set(node) == {"file"} and isinstance(node["file"], str):
            found.append(node["file"])
        for value in node.values():
            found += file_secrets(value)
    elif isinstance(node, list):
        for value in node:
            found += file_secrets(value)
    return found


def checkable_copy(path: Path, tmp_path: Path) -> tuple[Path, dict]:
    """The config path to give `check` and the environment it needs: dummy values for every
    ${VAR} without a default and, when the file reads `{file:}` secrets that do not exist here
    (e.g. systemd credentials), a temp copy pointing them at a temp key file."""
    text = path.read_text()
    env = {name: DUMMY_PREFIX + name.lower() for name in required_vars(text)}
    missing = [f for f in file_secrets(load_yaml(text)) if not Path(f).is_file()]
    if not missing:
        return path, env
    key = tmp_path / "secret.key"
    key.write_text(FILE_SECRET + "\n")
    for secret_path in missing:
        text = text.replace(secret_path, str(key))
    copy = tmp_path / path.name
    copy.write_text(text)
    return copy, env


def schema_errors(validator, data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]


# --- the YAML loader used here --------------------------------------------------------------------

def test_yaml_loader_keeps_on_and_yes_as_strings():
    data = load_yaml("fallback:\n  on: [timeout]\nx: yes\ny: off\nz: true\n")
    assert data["fallback"] == {"on": ["timeout"]}
    assert data["x"] == "yes" and data["y"] == "off" and data["z"] is True
    # the plain SafeLoader is what this guards against
    assert True in yaml.safe_load("fallback:\n  on: [timeout]\n")["fallback"]


# --- the schema -----------------------------------------------------------------------------------

def test_schema_is_valid_draft_2020_12(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_all_expected_configs_are_shipped():
    expected = {"config/switchyard.yaml", "deploy/switchyard.yaml", "examples/team.yaml",
                "examples/local.yaml", "examples/anthropic-passthrough.yaml"}
    assert expected <= set(CONFIG_IDS), f"missing: {expected - set(CONFIG_IDS)}"


@pytest.mark.parametrize("path", CONFIGS, ids=CONFIG_IDS)
def test_config_names_the_schema_on_its_first_line(path):
    first = path.read_text().splitlines()[0]
    m = SCHEMA_LINE.match(first)
    assert m, f"{path.name}: first line must be '# yaml-language-server: $schema=<relative path>', got {first!r}"
    assert (path.parent / m.group(1)).resolve() == SCHEMA_PATH.resolve(), f"{path.name}: {m.group(1)} is not the schema"


@pytest.mark.parametrize("path", CONFIGS, ids=CONFIG_IDS)
def test_config_validates_against_schema(path, validator):
    data = load_yaml(path.read_text())
    errors = schema_errors(validator, data)
    assert not errors, f"{path.name}:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("path", CONFIGS, ids=CONFIG_IDS)
def test_config_passes_check(path, tmp_path):
    target, env = checkable_copy(path, tmp_path)
    r = run(["check", str(target)], env=env)
    output = r.stdout + r.stderr
    assert r.returncode == 0, f"switchyard check {path.name} exited {r.returncode}:\n{output}"
    assert "OK" in r.stdout, output
    for value in list(env.values()) + [FILE_SECRET]:
        assert value not in output, f"check printed a secret value ({value[:20]}...)"


# --- schema and loader accept the same keys -------------------------------------------------------

def _deref(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = schema
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def schema_sections(schema: dict) -> dict[str, dict]:
    """Section path (as --list-keys spells it) -> object schema, for every object with properties."""
    sections: dict[str, dict] = {}

    def visit(node: dict, path: str) -> None:
        node = _deref(schema, node)
        if node.get("type") == "object" and "properties" in node:
            sections[path] = node
            for key, sub in node["properties"].items():
                visit(sub, f"{path}.{key}" if path else key)
        elif node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            visit(node["additionalProperties"], f"{path}.*")
        elif node.get("type") == "array" and isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[]")

    visit(schema, "")
    return sections


@pytest.fixture(scope="session")
def loader_keys() -> dict[str, list[str]]:
    r = run(["check", "--list-keys"])
    assert r.returncode == 0, r.stderr
    keys = json.loads(r.stdout)
    assert "" in keys and "providers" in keys[""], keys
    return keys


def test_schema_and_loader_have_the_same_sections(schema, loader_keys):
    in_schema = set(schema_sections(schema))
    in_loader = set(loader_keys)
    assert in_schema == in_loader, (f"sections only in the schema: {sorted(in_schema - in_loader)}; "
                                    f"only in the loader: {sorted(in_loader - in_schema)}")


def test_schema_and_loader_accept_the_same_keys(schema, loader_keys):
    sections = schema_sections(schema)
    problems = []
    for path, keys in sorted(loader_keys.items()):
        if path not in sections:
            continue  # reported by the sections test
        props = set(sections[path]["properties"])
        if props - set(keys):
            problems.append(f"{path or '<root>'}: schema allows keys the loader rejects: {sorted(props - set(keys))}")
        if set(keys) - props:
            problems.append(f"{path or '<root>'}: loader accepts keys the schema lacks: {sorted(set(keys) - props)}")
    assert not problems, "\n".join(problems)


def test_schema_rejects_unknown_keys_in_every_section(schema):
    open_sections = [path or "<root>" for path, node in schema_sections(schema).items()
                     if node.get("additionalProperties") is not False]
    assert not open_sections, f"additionalProperties must be false in: {open_sections}"


# --- bad files -------------------------------------------------------------------------------------

BASE = """\
server:
  listen: 127.0.0.1:8000
providers:
  openrouter:
    kind: openai
    base_url: https://openrouter.ai/api/v1
    api_key: ${OPENROUTER_API_KEY}
routes:
  - name: default
    match: { models: ["*"] }
    targets:
      - provider: openrouter
        model: openai/gpt-oss-120b:free
fallback:
  cooldown: 30s
auth:
  mode: open
"""

BAD_CASES = {
    # name: (replace this, with this, key path expected, marker on the offending line, phrase)
    "unknown-key": ("  listen: 127.0.0.1:8000\n", "  listen: 127.0.0.1:8000\n  listen_backlog: 64\n",
                    "server.listen_backlog", "listen_backlog", "unknown key"),
    "unknown-provider": ("      - provider: openrouter\n", "      - provider: openroutr\n",
                         "routes[0].targets[0].provider", "openroutr", 'unknown provider "openroutr"'),
    "bad-duration": ("  cooldown: 30s\n", "  cooldown: 30 seconds\n",
                     "fallback.cooldown", "30 seconds", "duration"),
}


def line_of(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def write_bad(tmp_path: Path, name: str, replacements: list[tuple[str, str]]) -> tuple[Path, str]:
    text = BASE
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path, text


def test_base_of_bad_cases_is_valid(tmp_path, validator):
    path, text = write_bad(tmp_path, "base", [])
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert not schema_errors(validator, load_yaml(text))


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_fails_check_with_key_path_and_line(case, tmp_path):
    old, new, key_path, marker, phrase = BAD_CASES[case]
    path, text = write_bad(tmp_path, case, [(old, new)])
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    output = r.stdout + r.stderr
    assert r.returncode == 1, f"exit {r.returncode}:\n{output}"
    line = line_of(text, marker)
    problem = [l for l in output.splitlines() if l.strip().startswith(key_path + ":")]
    assert problem, f"no problem reported for {key_path}:\n{output}"
    assert f"(line {line})" in problem[0], f"expected line {line}: {problem[0]}"
    assert phrase in problem[0], problem[0]


def test_check_reports_every_problem_not_just_the_first(tmp_path):
    path, text = write_bad(tmp_path, "all", [(old, new) for old, new, *_ in BAD_CASES.values()])
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    output = r.stdout + r.stderr
    assert r.returncode == 1, output
    for old, new, key_path, marker, phrase in BAD_CASES.values():
        assert f"{key_path}:" in output and f"(line {line_of(text, marker)})" in output, f"{key_path} missing:\n{output}"


SCHEMA_BAD_CASES = {
    "unknown-key": [("  listen: 127.0.0.1:8000\n", "  listen: 127.0.0.1:8000\n  listen_backlog: 64\n")],
    "bad-duration": [("  cooldown: 30s\n", "  cooldown: 30 seconds\n")],
    "bad-kind": [("    kind: openai\n", "    kind: bedrock\n")],
    "bad-listen": [("  listen: 127.0.0.1:8000\n", "  listen: 127.0.0.1\n")],
    "bad-fallback-kind": [("  cooldown: 30s\n", "  cooldown: 30s\n  on: [rate_limited, overloaded]\n")],
    "transport-not-last": [("auth:\n", "pipeline: [logger, auth, transport, mapper, translator]\nauth:\n")],
    "literal-user-token": [("  mode: open\n", "  mode: tokens\nusers:\n  - name: bob\n    token: literal-token\n")],
    "bad-token-hash": [("  mode: open\n", "  mode: tokens\nusers:\n  - name: bob\n    token_sha256: abc123\n")],
    "zero-limit": [("auth:\n", "limits:\n  per_user: { rpm: 0 }\nauth:\n")],
}


@pytest.mark.parametrize("case", sorted(SCHEMA_BAD_CASES))
def test_schema_and_check_both_reject(case, tmp_path, validator):
    path, text = write_bad(tmp_path, case, SCHEMA_BAD_CASES[case])
    assert schema_errors(validator, load_yaml(text)), f"the schema accepted {case}:\n{text}"
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    assert r.returncode == 1, f"check accepted {case}:\n{r.stdout}{r.stderr}"


def test_schema_accepts_env_references_for_every_scalar(tmp_path, validator):
    text = BASE.replace("  listen: 127.0.0.1:8000\n",
                        '  listen: "127.0.0.1:${PORT:-8000}"\n  max_connections: "${MAXC:-100}"\n'
                        '  max_body_bytes: "${BODY:-32MiB}"\n')
    text = text.replace("  cooldown: 30s\n", '  cooldown: "${COOLDOWN:-30s}"\n  retries_per_target: "${RETRIES:-1}"\n')
    text += 'translation:\n  strip_billing_header: "${STRIP:-true}"\n'
    assert not schema_errors(validator, load_yaml(text))
    path = tmp_path / "vars.yaml"
    path.write_text(text)
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    assert r.returncode == 0, r.stdout + r.stderr


# --- the embedded default -------------------------------------------------------------------------

def test_print_default_is_a_valid_config(tmp_path, validator):
    r = run(["check", "--print-default"])
    assert r.returncode == 0, r.stderr
    data = load_yaml(r.stdout)
    assert data["providers"] and data["routes"], r.stdout
    errors = schema_errors(validator, data)
    assert not errors, "\n".join(errors)
    path = tmp_path / "default.yaml"
    path.write_text(r.stdout)
    env = {name: DUMMY_PREFIX + name.lower() for name in required_vars(r.stdout)}
    checked = run(["check", str(path)], env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- systemd --------------------------------------------------------------------------------------

def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        assert current is not None, f"setting outside a section: {raw}"
        current.append((key.strip(), value.strip()))
    return sections


@pytest.fixture(scope="module")
def unit() -> dict[str, list[tuple[str, str]]]:
    return parse_unit(UNIT_PATH.read_text())


def values(unit, key, section="Service") -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit, key, section="Service") -> str:
    found = values(unit, key, section)
    assert len(found) == 1, f"{key}= expected once in [{section}], found {found}"
    return found[0]


def seconds(duration: str) -> float:
    m = re.fullmatch(r"([0-9.]+)\s*(ms|s|m|h|min)?", duration.strip())
    assert m, duration
    return float(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]


def test_unit_is_notify_with_reload_by_sighup(unit):
    assert one(unit, "Type") == "notify"
    assert one(unit, "ExecStart") == "/usr/local/bin/switchyard serve --config /etc/switchyard/switchyard.yaml"
    reloads = values(unit, "ExecReload")
    assert reloads and reloads[-1] == "/bin/kill -HUP $MAINPID", reloads
    assert one(unit, "Restart") == "on-failure"
    assert seconds(one(unit, "RestartSec")) > 0
    assert "multi-user.target" in one(unit, "WantedBy", "Install")


def test_unit_sandbox(unit):
    assert one(unit, "DynamicUser") == "yes" or values(unit, "User")
    for key, expected in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                          "PrivateTmp": "yes", "LockPersonality": "yes", "SystemCallArchitectures": "native",
                          "CapabilityBoundingSet": ""}.items():
        assert one(unit, key) == expected, f"{key}={one(unit, key)!r}, expected {expected!r}"
    assert "/etc/switchyard" in one(unit, "ReadOnlyPaths").split()
    assert set(one(unit, "RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert not values(unit, "MemoryDenyWriteExecute"), "MemoryDenyWriteExecute must stay out (see the unit's comment)"
    assert "MemoryDenyWriteExecute" in UNIT_PATH.read_text(), "say in a comment why MemoryDenyWriteExecute is left out"


def test_unit_stop_timeout_is_a_little_above_shutdown_grace(unit):
    grace = seconds(load_yaml((DEPLOY / "switchyard.yaml").read_text())["server"]["shutdown_grace"])
    stop = seconds(one(unit, "TimeoutStopSec"))
    assert grace < stop <= grace + 30, f"TimeoutStopSec {stop}s vs shutdown_grace {grace}s"


def test_unit_credential_is_what_the_deploy_config_reads(unit):
    creds = dict(v.split(":", 1) for v in values(unit, "LoadCredential"))
    assert creds.get("openrouter") == "/etc/switchyard/openrouter.key", creds
    config = load_yaml((DEPLOY / "switchyard.yaml").read_text())
    api_key = config["providers"]["openrouter"]["api_key"]
    # systemd's $CREDENTIALS_DIRECTORY is /run/credentials/<unit name>, ".service" included
    assert api_key == {"file": f"/run/credentials/{UNIT_PATH.name}/openrouter"}, api_key
    for path in file_secrets(config):
        assert path.startswith(f"/run/credentials/{UNIT_PATH.name}/"), path
        assert path.rsplit("/", 1)[1] in creds, f"{path}: no LoadCredential= for it"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify insists that ExecStart's binary exists: point it at the built one in a copy
    text = UNIT_PATH.read_text().replace("/usr/local/bin/switchyard", BIN)
    (tmp_path / UNIT_PATH.name).write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", UNIT_PATH.name], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "switchyard.service" not in r.stderr, r.stderr


# --- container and nginx --------------------------------------------------------------------------

def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(froms) >= 2 and froms[0].startswith("swift:"), froms
    assert froms[-1].startswith("ubuntu:"), froms
    assert "--static-swift-stdlib" in text and "-c release" in text
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", text, re.M), "runtime must not run as root"
    assert re.search(r"^EXPOSE\s+8000\b", text, re.M)
    assert re.search(r"^STOPSIGNAL\s+SIGTERM\b", text, re.M)
    assert re.search(r"^HEALTHCHECK\b.*(\n\s+.*)*?/health", text, re.M)
    assert "ca-certificates" in text
    assert '"--listen", "0.0.0.0:8000"' in text and "/etc/switchyard/switchyard.yaml" in text


def test_compose_mounts_config_read_only_and_the_key_where_the_config_reads_it():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    service = compose["services"]["switchyard"]
    assert service["restart"] in ("unless-stopped", "always", "on-failure")
    mounts = [v for v in service["volumes"] if isinstance(v, dict) and v.get("target") == "/etc/switchyard"]
    assert mounts and mounts[0]["read_only"] is True, service["volumes"]
    config = load_yaml((DEPLOY / "switchyard.yaml").read_text())
    targets = {s["target"] for s in service["secrets"] if isinstance(s, dict)}
    for path in file_secrets(config):
        assert path in targets, f"config reads {path}, compose mounts {targets}"
    assert seconds(service["stop_grace_period"]) > seconds(config["server"]["shutdown_grace"])
    assert all(str(p).startswith("127.0.0.1:") for p in service.get("ports", [])), service.get("ports")


def nginx_directives(text: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def test_nginx_config_streams_and_forwards_credentials():
    lines = nginx_directives((DEPLOY / "nginx-tls.conf").read_text())
    assert "proxy_buffering off;" in lines
    assert "proxy_http_version 1.1;" in lines
    read_timeout = next(l for l in lines if l.startswith("proxy_read_timeout"))
    assert seconds(read_timeout.split()[1].rstrip(";")) >= 300, read_timeout
    assert "proxy_set_header Authorization $http_authorization;" in lines
    assert "proxy_set_header x-api-key $http_x_api_key;" in lines
    assert any(l.startswith("listen 443 ssl") for l in lines)
    assert any(l.startswith("proxy_pass http://") for l in lines)


@pytest.mark.skipif(not (shutil.which("nginx") and shutil.which("openssl")), reason="nginx or openssl not installed")
def test_nginx_config_passes_nginx_t(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    conf = (DEPLOY / "nginx-tls.conf").read_text()
    conf = re.sub(r"/etc/letsencrypt/live/[^/]+", str(tmp_path), conf)
    version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version)
    if m and tuple(map(int, m.groups())) < (1, 25, 1):
        conf = conf.replace("http2 on;", "")  # older nginx: the file says to drop it
    (tmp_path / "switchyard.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  include {tmp_path}/switchyard.conf;\n}}\n")
    r = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(tmp_path / "nginx.conf")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# --- what the examples promise --------------------------------------------------------------------

def example(name: str) -> dict:
    return load_yaml((ROOT / "examples" / name).read_text())


def test_team_example_covers_its_routes_and_users():
    team = example("team.yaml")
    assert team["auth"]["mode"] == "tokens"
    hashed = [u for u in team["users"] if "token_sha256" in u]
    assert len(hashed) >= 3 and all(re.fullmatch(r"[0-9a-f]{64}", u["token_sha256"]) for u in hashed)
    assert any("limits" in u for u in hashed)
    routes = team["routes"]
    assert any(r["match"].get("min_input_tokens", 0) > 0 for r in routes), "no long-context route"
    assert any(r["match"].get("thinking") is True for r in routes), "no thinking route"
    assert any(t.get("api_key") == "${PAID_ROUTE_KEY}" for r in routes for t in r["targets"]), "no paid-route key"
    assert any(len(r["targets"]) >= 2 and all(t["model"].endswith(":free") for t in r["targets"]) for r in routes)
    assert any(any("haiku" in m for m in r["match"]["models"]) for r in routes), "no haiku-class route"


def test_local_example_is_open_on_loopback():
    local = example("local.yaml")
    assert local["auth"]["mode"] == "open"
    assert re.match(r"^(127\.0\.0\.1|\[::1\]|localhost):", local["server"]["listen"]), local["server"]["listen"]
    assert not local.get("users")


def test_anthropic_passthrough_example():
    conf = example("anthropic-passthrough.yaml")
    anthropic = {name: p for name, p in conf["providers"].items() if p.get("kind") == "anthropic"}
    assert any(p["base_url"] == "https://openrouter.ai/api" for p in anthropic.values())
    assert any(p["base_url"] == "https://api.anthropic.com" for p in anthropic.values())
    claude = [r for r in conf["routes"] if "claude-*" in r["match"]["models"]]
    assert claude and claude[0]["targets"][0]["model"] == "anthropic/claude-sonnet-4.5"
    assert claude[0]["targets"][0]["provider"] in anthropic


# --- tokens ---------------------------------------------------------------------------------------

TOKEN_RE = re.compile(r"(?<![\w-])(sy-[A-Za-z0-9_-]+)")
HASH_RE = re.compile(r"token_sha256:\s*([0-9a-fA-F]{64})\b")


def new_token(name: str) -> tuple[str, str, str]:
    r = run(["token", "new", name])
    assert r.returncode == 0, r.stderr
    tokens = TOKEN_RE.findall(r.stdout)
    hashes = HASH_RE.findall(r.stdout)
    assert len(tokens) == 1 and len(hashes) == 1, r.stdout
    return tokens[0], hashes[0], r.stdout


def test_token_new_prints_token_and_matching_hash():
    token, digest, output = new_token("alice")
    assert digest.lower() == hashlib.sha256(token.encode()).hexdigest(), output
    assert re.search(r"^\s*- name: alice\s*$", output, re.M), output


def test_token_new_has_at_least_128_bits():
    tokens = [new_token(f"user{i}")[0] for i in range(40)]
    assert len(set(tokens)) == len(tokens), "token new repeated a token"
    bodies = [t[len("sy-"):] for t in tokens]
    alphabet = set("".join(bodies))
    bits = min(len(b) for b in bodies) * math.log2(len(alphabet))
    assert bits >= 128, f"{min(len(b) for b in bodies)} characters from a {len(alphabet)}-symbol alphabet = {bits:.0f} bits"


def test_token_new_entry_pastes_into_a_valid_config(tmp_path):
    """The printed users entry, pasted under `users:`, is accepted by check."""
    _, _, output = new_token("alice")
    entry = [l.strip() for l in output.splitlines() if l.strip().startswith(("- name:", "token_sha256:"))]
    assert len(entry) == 2, output
    text = (BASE.replace("  mode: open\n", "  mode: tokens\n")
            + "users:\n" + f"  {entry[0]}\n" + f"    {entry[1]}\n")
    path = tmp_path / "with-user.yaml"
    path.write_text(text)
    r = run(["check", str(path)], env={"OPENROUTER_API_KEY": DUMMY_PREFIX + "k"})
    assert r.returncode == 0, text + r.stdout + r.stderr
    assert "alice" in r.stdout


@pytest.mark.parametrize("stdin_suffix", ["", "\n"], ids=["no-newline", "trailing-newline"])
def test_token_hash_reads_stdin(stdin_suffix):
    token, digest, _ = new_token("bob")
    r = run(["token", "hash"], stdin=token + stdin_suffix)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == digest.lower() == hashlib.sha256(token.encode()).hexdigest()
