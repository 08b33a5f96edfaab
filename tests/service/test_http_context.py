"""SPEC section 10 over HTTP: reference, labels, dry runs, `logged`, X-Request-Id, and
what the decision log keeps of them."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.decision_log import COLUMNS, SqliteLog
from tests.service.support import assert_problem, logged_ids


def post(client: FlaskClient, body: Any, path: str = "/v1/decisions", **headers: str) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def test_reference_and_labels_are_echoed_and_logged_as_columns(client, flows, db_path):
    flow = {**flows["conditions"], "reference": "PO-2026-0142", "labels": {"team": "ib", "system": "zaken"}}
    body = post(client, flow).get_json()
    assert (body["reference"], body["labels"], body["logged"]) == ("PO-2026-0142", flow["labels"], True)
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT reference, labels FROM decisions WHERE decision_id = ?", (body["decision_id"],)
        )
        assert row.fetchone() == ("PO-2026-0142", json.dumps(flow["labels"], sort_keys=True))
        labels = conn.execute(
            "SELECT key, value FROM decision_labels WHERE decision_id = ?", (body["decision_id"],)
        )
        assert sorted(labels.fetchall()) == [("system", "zaken"), ("team", "ib")]
        indexes = {r[1] for r in conn.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    assert {"decisions_reference", "decision_labels_key_value"} <= indexes


def test_a_dry_run_is_answered_and_never_logged(client, flows, db_path):
    body = post(client, {**flows["conditions"], "dry_run": True}).get_json()
    assert body["decision"] == "conditions" and body["logged"] is False
    assert logged_ids(db_path) == []
    back = client.get(f"/v1/decisions/{body['decision_id']}")
    assert_problem(back, 404, "not_found")
    logged = post(client, flows["conditions"]).get_json()
    assert logged["logged"] is True and logged_ids(db_path) == [logged["decision_id"]]


def test_batch_logs_only_real_decisions_and_echoes_every_reference(client, flows, db_path):
    what_if = {**flows["allow"], "reference": "vendor-a", "dry_run": True}
    real = {**flows["conditions"], "reference": "vendor-b"}
    broken = {**flows["invalid"], "reference": "vendor-c"}
    body = post(client, {"flows": [what_if, real, broken]}, "/v1/decisions/batch").get_json()
    results = body["results"]
    assert [r["reference"] for r in results] == ["vendor-a", "vendor-b", "vendor-c"]
    assert [r.get("logged") for r in results] == [False, True, None]
    assert results[2]["status"] == 422 and "error" in results[2]
    assert logged_ids(db_path) == [results[1]["decision_id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "x" * 201),
        ("reference", ""),
        ("labels", {f"k{i}": "v" for i in range(21)}),
        ("labels", {"k" * 65: "v"}),
        ("labels", {"team": "v" * 201}),
        ("labels", {"team": 3}),
        ("dry_run", "yes"),
    ],
)
def test_context_fields_are_checked(client, flows, db_path, field, value):
    response = post(client, {**flows["allow"], field: value})
    problem = assert_problem(response, 422, "invalid_request")
    assert any(e["loc"].startswith(field) for e in problem["errors"])
    assert logged_ids(db_path) == []


def test_a_valid_request_id_is_kept_and_logged(client, flows, db_path):
    response = post(client, flows["allow"], **{"X-Request-Id": "crm:order-17.v2_a"})
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "crm:order-17.v2_a"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT request_id FROM decisions").fetchall() == [("crm:order-17.v2_a",)]


@pytest.mark.parametrize("value", ["has space", "x" * 129, "semi;colon", "ü"])
def test_a_malformed_request_id_is_a_400_naming_the_header(client, flows, db_path, value):
    response = post(client, flows["allow"], **{"X-Request-Id": value})
    problem = assert_problem(response, 400, "bad_request")
    assert problem["errors"][0]["loc"] == "header X-Request-Id"
    uuid.UUID(response.headers["X-Request-Id"])  # the answer carries a fresh id of its own
    assert logged_ids(db_path) == []


def test_an_older_log_file_gains_the_new_columns(tmp_path):
    """A log written before reference and labels existed opens, keeps its rows and takes new ones."""
    db = tmp_path / "old.sqlite3"
    old_columns = ", ".join(COLUMNS[:9])  # the columns of the first release
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE decisions (seq INTEGER PRIMARY KEY, "
            + ", ".join(f"{c.strip()} TEXT NOT NULL" for c in old_columns.split(","))
            + ", UNIQUE (decision_id))"
        )
        conn.execute(
            f"INSERT INTO decisions ({old_columns})"
            " VALUES ('a', 't', 'r', 'p', 'v', 'd', 'allow', '{}', '{}')"
        )
    log = SqliteLog(db)
    old = log.get("a")
    assert old is not None and old.reference is None and old.as_json()["labels"] == {}
    log.write(
        [old.__class__(**{**old.__dict__, "decision_id": "b", "reference": "R", "labels": '{"k": "v"}'})]
    )
    assert [e.reference for e in log.entries()] == [None, "R"]
    log.close()


def test_problems_in_dutch_with_lang_or_accept_language(client, flows):
    flow = {**flows["invalid"], "lang": "nl"}
    problem = assert_problem(post(client, flow), 422, "invalid_request")
    assert problem["title"] == "Het verzoek voldoet niet aan het contract"
    assert problem["detail"].endswith("in het verzoek")
    assert any(e["msg"].startswith("onbekend land") for e in problem["errors"])
    by_header = client.get(
        "/v1/regions/aws/nowhere-1", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
    )
    problem = assert_problem(by_header, 404, "not_found")
    assert problem["title"] == "Niet gevonden" and problem["errors"][0]["msg"].startswith("onbekende regio")
    english = assert_problem(post(client, flows["invalid"]), 422, "invalid_request")
    assert english["title"] == "The request breaks the contract"


def test_a_batch_flow_problem_follows_that_flows_language(client, flows):
    body = post(
        client, {"flows": [{**flows["invalid"], "lang": "nl"}, flows["invalid"]]}, "/v1/decisions/batch"
    )
    first, second = body.get_json()["results"]
    assert first["error"]["title"] == "Het verzoek voldoet niet aan het contract"
    assert second["error"]["title"] == "The request breaks the contract"
