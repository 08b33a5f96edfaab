"""Access control (SPEC section 15): bearer tokens, scopes, the tokens file, the serve guard.

Every route of the app is walked from its URL map: without a token, with a forged one,
with a token lacking the scope and with one that has it. A route added without an
access declaration fails `test_every_route_declares_what_it_needs`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import access, cli, tokens
from service.config import Config, ConfigError
from service.decision_log import SqliteLog
from service.jsonlog import JsonFormatter
from tests.service.support import FLOWS, assert_problem
from tests.service.test_http_vendors import ACME

#: token -> (name, scopes); the file holds only their digests
TOKENS = {
    "reader-secret-3b1f": ("reader", ["read"]),
    "writer-secret-9c2e": ("writer", ["decide", "vendors"]),
    "root-secret-77aa": ("root", ["admin"]),
}
READER, WRITER, ROOT = TOKENS
#: what each endpoint needs, as SPEC section 15 and docs/service.md say
EXPECTED = {
    "decisions.decide": "decide",
    "decisions.decide_batch": "decide",
    "decisions.index": "read",
    "decisions.logged": "read",
    "register.transfer_register": "read",
    "replays.start": "replay",
    "replays.get": "read",
    "vendors.index": "read",
    "vendors.get": "read",
    "vendors.revisions": "read",
    "vendors.put_revision": "vendors",
    "vendors.decide": "decide",
    "vendors.review": "decide",
    "plans.check": "decide",
    "vendors.schema": access.ANY_TOKEN,
    "countries.countries": access.ANY_TOKEN,
    "countries.country": access.ANY_TOKEN,
    "regions.providers": access.ANY_TOKEN,
    "regions.regions": access.ANY_TOKEN,
    "regions.region": access.ANY_TOKEN,
    "policies.policies": access.ANY_TOKEN,
    "policies.policy": access.ANY_TOKEN,
    "vocabulary.ids": access.ANY_TOKEN,
    "docs.openapi_json": access.ANY_TOKEN,
    "docs.docs": access.ANY_TOKEN,
    "health.healthz": access.OPEN,
    "health.readyz": access.OPEN,
    "health.metrics": access.OPEN,
    # the dashboard (HTML pages; their sessions and forms are walked in test_dashboard_access.py)
    "dashboard.overview": "read",
    "dashboard.overview_slash": access.OPEN,
    "dashboard.vendors_page": "read",
    "dashboard.vendor_page": "read",
    "dashboard.register_page": "read",
    "dashboard.register_csv": "read",
    "dashboard.decision_page": "read",
    "dashboard.scenarios_page": "read",
    "dashboard.run_scenario": "replay",
    "dashboard.replay_page": "read",
    "dashboard.sign_in": access.OPEN,
    "dashboard.sign_in_post": access.OPEN,
    "dashboard.sign_out": access.OPEN,
    "dashboard.static": access.OPEN,
}


def write_tokens(path: Path, entries: Any) -> Path:
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def entries() -> list[dict[str, Any]]:
    return [
        {"name": name, "sha256": hashlib.sha256(token.encode()).hexdigest(), "scopes": scopes}
        for token, (name, scopes) in TOKENS.items()
    ]


@pytest.fixture
def tokens_file(tmp_path: Path) -> Path:
    return write_tokens(tmp_path / "tokens.json", entries())


@pytest.fixture
def guarded(make_app: Callable[..., Flask], tokens_file: Path) -> Flask:
    return make_app(tokens_file=tokens_file, tokens=tokens.load(tokens_file))


@pytest.fixture
def gclient(guarded: Flask) -> FlaskClient:
    return guarded.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def requests_of(app: Flask, api_only: bool = False) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every route and method, with sample path arguments;
    `api_only`: without the dashboard's HTML pages."""
    out = []
    for rule in app.url_map.iter_rules():
        if api_only and rule.endpoint.startswith("dashboard."):
            continue
        path = re.sub(r"<decision_id:decision_id>", str(uuid.uuid4()), rule.rule)
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"sample-{m.group(1)}", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule.endpoint, method, path))
    return out


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
    body = {} if method in ("POST", "PUT") else None  # the contract's 422 is fine: only 401/403 count
    return client.open(path, method=method, json=body, headers=headers or {})


def lacking(need: str) -> str | None:
    """A token of the fixture without `need`, or None when every one has it."""
    for token, (_, scopes) in TOKENS.items():
        if need not in (access.ANY_TOKEN, access.OPEN) and need not in scopes and "admin" not in scopes:
            return token
    return None


def having(need: str) -> str:
    """The first token of the fixture with `need` (the admin token for `replay`)."""
    return next(
        t
        for t, (_, s) in TOKENS.items()
        if need in s or "admin" in s or need in (access.ANY_TOKEN, access.OPEN)
    )


# ---------------------------------------------------------------- declarations


def test_every_route_declares_what_it_needs(app):
    undeclared = [
        r.endpoint
        for r in app.url_map.iter_rules()
        if access.requirement(app.view_functions[r.endpoint]) is None
    ]
    assert undeclared == []
    declared = {
        r.endpoint: access.requirement(app.view_functions[r.endpoint]) for r in app.url_map.iter_rules()
    }
    assert declared == EXPECTED


def test_an_undeclared_view_needs_admin(guarded, gclient):
    guarded.add_url_rule("/v1/forgotten", "forgotten", lambda: "ok")
    assert_problem(gclient.get("/v1/forgotten", headers=bearer(WRITER)), 403, "forbidden")
    assert gclient.get("/v1/forgotten", headers=bearer(ROOT)).status_code == 200


# ---------------------------------------------------------------- every route


def test_every_route_without_a_valid_token_is_401(guarded, gclient, started):
    for endpoint, method, path in requests_of(guarded, api_only=True):
        if EXPECTED[endpoint] == access.OPEN:
            continue
        for headers in ({}, bearer("forged-token"), {"Authorization": f"Basic {ROOT}"}, bearer("")):
            response = call(gclient, method, path, headers)
            body = assert_problem(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), endpoint
            assert "header Authorization" in [e["loc"] for e in body["errors"]]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replay jobs a request would start; no worker process is started in these tests."""
    from service.resources import replays

    jobs: list[str] = []
    monkeypatch.setattr(replays, "start_detached", lambda job, count, env: jobs.append(job) or [])
    return jobs


def test_every_route_checks_the_scope(guarded, gclient, started):
    for endpoint, method, path in requests_of(guarded, api_only=True):
        need = EXPECTED[endpoint]
        token = lacking(need)
        if token is not None:
            body = assert_problem(call(gclient, method, path, bearer(token)), 403, "forbidden")
            assert need in body["detail"] and TOKENS[token][0] in body["detail"], endpoint
        for token in (having(need), ROOT):
            status = call(gclient, method, path, bearer(token)).status_code
            assert status not in (401, 403), (endpoint, method, token)


def test_replay_workers_get_no_secret_on_their_command_line(monkeypatch):
    from service import replay_worker

    argvs: list[list[str]] = []

    class Recorded:
        pid = 1

        def __init__(self, argv: list[str], **kwargs: Any):
            argvs.append(argv)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(replay_worker.subprocess, "Popen", Recorded)
    replay_worker.start_detached("job-1", 1, {"DOORGIFTE_TOKENS_FILE": "/etc/doorgifte/tokens.json"})
    assert argvs[0][-2:] == ["replay-worker", "job-1"] and len(argvs[0]) == 5


def test_open_endpoints_stay_open(gclient):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert gclient.get(path).status_code == 200, path
        assert gclient.get(path, headers=bearer("forged-token")).status_code == 200, path


def test_unknown_paths_need_a_token_then_keep_404_and_405(gclient):
    assert_problem(gclient.get("/v1/nothing-here"), 401, "unauthorized")
    assert_problem(gclient.get("/v1/nothing-here", headers=bearer(READER)), 404, "not_found")
    assert_problem(gclient.delete("/v1/decisions", headers=bearer(READER)), 405, "method_not_allowed")
    assert_problem(gclient.delete("/v1/decisions"), 401, "unauthorized")
    # a wrong method on an open path tells nothing its GET does not: 405 without a token
    assert_problem(gclient.open("/healthz", method="TRACE"), 405, "method_not_allowed")
    assert_problem(gclient.delete("/metrics"), 405, "method_not_allowed")


def test_without_a_tokens_file_everything_is_open(client):
    assert client.get("/v1/countries").status_code == 200
    assert client.post("/v1/decisions", json=FLOWS["allow"]).status_code == 200


def test_problems_in_dutch(gclient):
    body = assert_problem(
        gclient.get("/v1/countries", headers={"Accept-Language": "nl"}), 401, "unauthorized"
    )
    assert body["title"] == "Een geldig bearer-token is vereist"
    assert body["errors"][0]["msg"] == "er is geen bearer-token meegestuurd"
    headers = {**bearer(READER), "Accept-Language": "nl"}
    body = assert_problem(
        gclient.post("/v1/decisions", json=FLOWS["allow"], headers=headers), 403, "forbidden"
    )
    assert body["detail"] == "het token 'reader' mist de scope decide"


# ---------------------------------------------------------------- who did it


def test_the_token_name_is_logged_with_a_decision(gclient, db_path):
    answer = gclient.post("/v1/decisions", json=FLOWS["allow"], headers=bearer(WRITER))
    assert answer.status_code == 200
    decision_id = answer.get_json()["decision_id"]
    batch = gclient.post("/v1/decisions/batch", json={"flows": [FLOWS["deny"]]}, headers=bearer(ROOT))
    assert batch.status_code == 200
    with sqlite3.connect(db_path) as conn:
        names = [row[0] for row in conn.execute("SELECT token_name FROM decisions ORDER BY seq")]
    assert names == ["writer", "root"]
    logged = gclient.get(f"/v1/decisions/{decision_id}", headers=bearer(READER)).get_json()
    assert logged["log"]["token_name"] == "writer"


def test_the_token_name_is_stored_with_a_vendor_revision(gclient, db_path):
    assert gclient.put("/v1/vendors/acme-crm", json=ACME, headers=bearer(WRITER)).status_code == 201
    listing = gclient.get("/v1/vendors/acme-crm/revisions", headers=bearer(READER)).get_json()
    assert listing["revisions"][0]["token_name"] == "writer"
    ask = {"exporter": {"name": "Gemeente Utrecht", "country": "NL"}}
    decided = gclient.post("/v1/vendors/acme-crm/decisions", json=ask, headers=bearer(ROOT))
    assert decided.status_code == 200, decided.get_json()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT token_name FROM vendor_revisions").fetchall() == [("writer",)]
        assert conn.execute("SELECT token_name FROM decisions").fetchall() == [("root",)]


def test_without_tokens_the_name_stays_null(client):
    decision_id = client.post("/v1/decisions", json=FLOWS["allow"]).get_json()["decision_id"]
    assert client.get(f"/v1/decisions/{decision_id}").get_json()["log"]["token_name"] is None
    client.put("/v1/vendors/acme-crm", json=ACME)
    assert client.get("/v1/vendors/acme-crm/revisions").get_json()["revisions"][0]["token_name"] is None


def test_an_older_vendor_table_gains_the_token_column(tmp_path):
    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE vendor_revisions (vendor_id TEXT NOT NULL, revision INTEGER NOT NULL,"
            " name TEXT NOT NULL, list_version TEXT NOT NULL, digest TEXT NOT NULL, created_at TEXT NOT NULL,"
            " document TEXT NOT NULL, PRIMARY KEY (vendor_id, revision))"
        )
        conn.execute("INSERT INTO vendor_revisions VALUES ('a', 1, 'A', 'v1', 'd1', 't', '{}')")
    log = SqliteLog(db)
    try:
        log.put_vendor("a", "A", "v2", "d2", "{}", "writer")
        assert [r[4] for r in log.vendor_revisions("a")] == [None, "writer"]
    finally:
        log.close()


def test_tokens_never_reach_the_logs(gclient, caplog):
    caplog.set_level(logging.DEBUG)
    gclient.post("/v1/decisions", json=FLOWS["allow"], headers=bearer(WRITER))
    gclient.get("/v1/decisions", headers=bearer(READER))
    gclient.get("/v1/countries", headers=bearer("forged-but-secret-5d0c"))
    gclient.post("/v1/decisions", json=FLOWS["allow"], headers=bearer(READER))
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert '"token": "writer"' in text and '"token": "reader"' in text
    for secret in (*TOKENS, "forged-but-secret-5d0c"):
        assert secret not in text
        assert hashlib.sha256(secret.encode()).hexdigest() not in text


# ---------------------------------------------------------------- the tokens file


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", ["not valid JSON"]),
        ('{"name": "x"}', ["JSON list"]),
        ("[]", ["no tokens"]),
        (
            json.dumps([{"name": "ops", "sha256": digest("a"), "scopes": ["root"]}]),
            ["entry 0", "'ops'", "'root'"],
        ),
        (json.dumps([{"name": "ops", "sha256": "xyz", "scopes": ["read"]}]), ["entry 0", "sha256", "hex"]),
        (json.dumps([{"name": "ops", "sha256": digest("a")[:-1], "scopes": ["read"]}]), ["entry 0", "hex"]),
        (json.dumps([{"name": "", "sha256": digest("a"), "scopes": ["read"]}]), ["entry 0", "name"]),
        (json.dumps([{"name": "ops", "sha256": digest("a"), "scopes": []}]), ["entry 0", "scopes"]),
        (
            json.dumps([{"name": "ops", "sha256": digest("a"), "scopes": ["read"], "x": 1}]),
            ["unknown field 'x'"],
        ),
        (
            json.dumps(
                [
                    {"name": "ops", "sha256": digest("a"), "scopes": ["read"]},
                    {"name": "ops", "sha256": digest("b"), "scopes": ["read"]},
                ]
            ),
            ["entry 1", "same name", "entry 0"],
        ),
        (
            json.dumps(
                [
                    {"name": "ops", "sha256": digest("a"), "scopes": ["read"]},
                    {"name": "dev", "sha256": digest("a").upper(), "scopes": ["read"]},
                ]
            ),
            ["entry 1 ('dev')", "same sha256 digest"],
        ),
    ],
)
def test_a_bad_tokens_file_is_refused_at_start(tmp_path, content, words):
    path = tmp_path / "tokens.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"DOORGIFTE_TOKENS_FILE": str(path)})
    message = str(caught.value)
    assert "DOORGIFTE_TOKENS_FILE" in message and str(path) in message
    for word in words:
        assert word in message


def test_a_missing_tokens_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="DOORGIFTE_TOKENS_FILE"):
        Config.from_env({"DOORGIFTE_TOKENS_FILE": str(tmp_path / "absent.json")})


def test_a_good_tokens_file_is_read(tokens_file):
    config = Config.from_env({"DOORGIFTE_TOKENS_FILE": str(tokens_file)})
    assert config.access_control and [t.name for t in config.tokens] == ["reader", "writer", "root"]
    assert tokens.identify(config.tokens, ROOT).name == "root"  # type: ignore[union-attr]
    assert tokens.identify(config.tokens, ROOT + "x") is None
    assert not Config.from_env({}).access_control


def test_every_entry_is_compared(monkeypatch, tokens_file):
    """No early exit: the number of comparisons is the same for the first token as for none."""
    compared: list[int] = []
    real = tokens.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", counting)
    configured = tokens.load(tokens_file)
    for presented in (READER, "nothing"):
        compared.clear()
        tokens.identify(configured, presented)
        assert len(compared) == len(configured)


# ---------------------------------------------------------------- serve on a public address


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
        ("", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert cli.is_loopback(host) is loopback


def test_serve_guard(tokens_file):
    open_config = Config()
    with_tokens = Config(tokens_file=tokens_file, tokens=tokens.load(tokens_file))
    refusal = cli.anonymous_bind_refusal("0.0.0.0", open_config, allow_anonymous=False)
    assert refusal is not None and "DOORGIFTE_TOKENS_FILE" in refusal and "--allow-anonymous" in refusal
    assert cli.anonymous_bind_refusal("0.0.0.0", open_config, allow_anonymous=True) is None
    assert cli.anonymous_bind_refusal("0.0.0.0", with_tokens, allow_anonymous=False) is None
    assert cli.anonymous_bind_refusal("127.0.0.1", open_config, allow_anonymous=False) is None


def test_serve_on_a_public_address_without_tokens_exits_2(capsys, monkeypatch):
    from service import server

    started: list[str] = []
    monkeypatch.delenv("DOORGIFTE_TOKENS_FILE", raising=False)
    monkeypatch.setattr(
        server, "serve", lambda config, host, port, workers, threads: started.append(host) or 0
    )
    monkeypatch.setattr(cli, "_validate_rule_base", lambda config: None)
    monkeypatch.setattr("service.jsonlog.configure", lambda level: None)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "--allow-anonymous" in capsys.readouterr().err and started == []
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "1", "--allow-anonymous"]) == 0
    assert started == ["0.0.0.0"]


def test_the_openapi_document_describes_the_bearer_scheme(gclient, client):
    doc = gclient.get("/openapi.json", headers=bearer(READER)).get_json()
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    decide = doc["paths"]["/v1/decisions"]["post"]
    assert decide["security"] == [{"bearer": ["decide"]}]
    assert {"401", "403"} <= set(decide["responses"]) and "forbidden" in decide["responses"]["403"][
        "description"
    ]
    countries = doc["paths"]["/v1/countries"]["get"]
    assert (
        countries["security"] == [{"bearer": []}]
        and "401" in countries["responses"]
        and "403" not in countries["responses"]
    )
    assert (
        doc["paths"]["/healthz"]["get"]["security"] == []
        and "401" not in doc["paths"]["/healthz"]["get"]["responses"]
    )
    # without a tokens file the service answers without a token, and its document says so
    open_doc = client.get("/openapi.json").get_json()
    assert "bearer" in open_doc["components"]["securitySchemes"]
    assert all(
        "security" not in op and "401" not in op["responses"]
        for ops in open_doc["paths"].values()
        for op in ops.values()
    )
