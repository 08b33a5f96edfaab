"""POST /v1/decisions, POST /v1/decisions/batch and GET /v1/decisions/{id} over the Flask app."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.decision import Decision
from engine.errors import EngineError
from service.schemas import BatchResponse, LoggedDecision
from tests.service.support import assert_problem, logged_ids


def post(client: FlaskClient, body: Any, path: str = "/v1/decisions") -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


# ---------------------------------------------------------------- one flow


@pytest.mark.parametrize(
    ("name", "decision", "codes"),
    [
        ("allow", "allow", set()),
        ("conditions", "conditions", {"transfer.sign_scc", "transfer.assess_impact"}),
        ("deny", "deny", {"transfer.no_effective_measures"}),
    ],
)
def test_decision_answers_the_engine_verdict_with_codes(client, flows, name, decision, codes):
    response = post(client, flows[name])
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = Decision.model_validate(response.get_json())
    assert body.decision == decision
    assert {c.code for c in body.conditions} | {d.code for d in body.denials} == codes
    assert (body.decision == "deny") == bool(body.denials)
    assert response.headers["Content-Location"] == f"/v1/decisions/{body.decision_id}"
    uuid.UUID(response.headers["X-Request-Id"])


def test_decision_ids_are_random_uuid4(client, flows):
    ids = [post(client, flows["allow"]).get_json()["decision_id"] for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(uuid.UUID(i).version == 4 for i in ids)


def test_as_of_defaults_to_today_in_utc(client, flows):
    flow = flows["allow"]
    del flow["as_of"]
    body = post(client, flow).get_json()
    assert body["as_of"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_contract_violation_is_422_with_located_problems_and_not_logged(client, flows, db_path):
    body = assert_problem(post(client, flows["invalid"]), 422, "invalid_request")
    assert body["errors"][0]["loc"] == "recipient.country"
    assert "Atlantis" in body["errors"][0]["msg"]
    assert logged_ids(db_path) == []


def test_chain_deeper_than_ten_is_422_chain_too_large(client, flows):
    flow = flows["allow"]
    node = flow["recipient"]
    for depth in range(11):
        child = {"name": f"Sub {depth}", "country": "NL", "agreement": {"dpa": {"signed": True}}}
        node["sub_processors"] = [child]
        node = child
    body = assert_problem(post(client, flow), 422, "chain_too_large")
    assert "depth 10" in body["errors"][0]["msg"]


def test_unknown_query_parameter_is_422(client, flows):
    response = client.post("/v1/decisions?dry_run=1", json=flows["allow"])
    assert_problem(response, 422, "invalid_request")


def test_engine_failure_is_500_without_internals_and_logged_with_an_error_id(
    client, flows, engine, monkeypatch, caplog
):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise EngineError("secret internal state 0xdeadbeef")

    monkeypatch.setattr(engine.rules, "fire", broken)
    with caplog.at_level(logging.ERROR):
        response = post(client, flows["allow"])
    body = assert_problem(response, 500, "internal_error")
    text = response.get_data(as_text=True)
    assert "deadbeef" not in text and "Traceback" not in text and "EngineError" not in text
    assert body["instance"] == f"urn:uuid:{body['error_id']}"
    logged = [r for r in caplog.records if getattr(r, "fields", {}).get("error_id") == body["error_id"]]
    assert logged and logged[0].exc_info is not None


# ---------------------------------------------------------------- read back


def test_logged_decision_is_read_back_by_id(client, flows, db_path):
    answer = post(client, flows["chain"])
    decision = answer.get_json()
    back = client.get(f"/v1/decisions/{decision['decision_id']}")
    assert back.status_code == 200
    body = back.get_json()
    LoggedDecision.model_validate(body)
    logged = body.pop("log")
    assert body == decision and decision["logged"] is True
    assert logged["request"] == flows["chain"]
    assert logged["request_id"] == answer.headers["X-Request-Id"]
    assert logged["decided_at"].endswith("Z")
    assert logged_ids(db_path) == [decision["decision_id"]]


def test_logged_decision_survives_a_new_app_on_the_same_log(make_app, flows):
    first = make_app().test_client()
    decision_id = post(first, flows["deny"]).get_json()["decision_id"]
    second = make_app().test_client()
    body = second.get(f"/v1/decisions/{decision_id}").get_json()
    assert body["decision"] == "deny"


def test_uppercase_id_finds_the_same_decision(client, flows):
    decision_id = post(client, flows["allow"]).get_json()["decision_id"]
    assert client.get(f"/v1/decisions/{decision_id.upper()}").status_code == 200


@pytest.mark.parametrize(
    "decision_id",
    ["9b2f6c3e-5d1a-4e8b-a0c4-7f3e2d1b6a58", "not-a-uuid", "1", "0b5e" * 8, "'; DROP TABLE decisions; --"],
)
def test_unknown_or_malformed_decision_id_is_404(client, decision_id):
    body = assert_problem(client.get(f"/v1/decisions/{decision_id}"), 404, "not_found")
    assert body["errors"][0]["loc"] == "decision_id"


# ---------------------------------------------------------------- batch


def test_batch_answers_each_flow_on_its_own(client, flows, db_path):
    batch = [flows["allow"], flows["invalid"], flows["deny"], "not an object", flows["conditions"]]
    response = post(client, {"flows": batch}, "/v1/decisions/batch")
    assert response.status_code == 200
    body = response.get_json()
    BatchResponse.model_validate(body)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [200, 422, 200, 422, 200]
    assert [r.get("decision") for r in results] == ["allow", None, "deny", None, "conditions"]
    assert results[1]["error"]["code"] == "invalid_request"
    assert results[1]["error"]["errors"][0]["loc"] == "recipient.country"
    assert {"type", "title", "status", "detail", "errors"} <= set(results[3]["error"])
    assert body["summary"] == {"allow": 1, "conditions": 1, "deny": 1, "error": 2}
    decided = [r["decision_id"] for r in results if r["status"] == 200]
    assert logged_ids(db_path) == decided


def test_batch_flow_carries_every_decision_field(client, flows):
    single = Decision.model_fields.keys()
    result = post(client, {"flows": [flows["chain"]]}, "/v1/decisions/batch").get_json()["results"][0]
    assert set(result) == {"index", "status", *single}


def test_batch_engine_failure_fails_only_that_flow(client, flows, engine, monkeypatch):
    original = engine.evaluate

    def fails_for_boom(payload: Any, today: dt.date | None = None, **options: Any) -> Decision:
        if payload.recipient.name == "Boom":
            raise EngineError("boom")
        return original(payload, today=today, **options)

    monkeypatch.setattr(engine, "evaluate", fails_for_boom)
    boom = flows["allow"]
    boom["recipient"]["name"] = "Boom"
    body = post(client, {"flows": [boom, flows["conditions"]]}, "/v1/decisions/batch").get_json()
    assert [r["status"] for r in body["results"]] == [500, 200]
    assert body["results"][0]["error"]["code"] == "internal_error"
    assert "boom" not in json.dumps(body["results"][0])
    assert body["summary"] == {"allow": 0, "conditions": 1, "deny": 0, "error": 1}


def test_batch_over_the_default_limit_is_422_naming_it(client, db_path):
    body = assert_problem(post(client, {"flows": [{}] * 1001}, "/v1/decisions/batch"), 422, "invalid_request")
    assert "1000" in body["detail"] and body["errors"][0]["loc"] == "flows"
    assert not db_path.exists() or logged_ids(db_path) == []


def test_batch_at_a_configured_limit(make_app, flows):
    client = make_app(max_batch=2).test_client()
    assert post(client, {"flows": [flows["allow"]] * 2}, "/v1/decisions/batch").status_code == 200
    body = assert_problem(
        post(client, {"flows": [flows["allow"]] * 3}, "/v1/decisions/batch"), 422, "invalid_request"
    )
    assert "limit of 2" in body["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [([], "(body)"), ({}, "flows"), ({"flows": {}}, "flows"), ({"flows": [], "extra": 1}, "extra")],
)
def test_batch_shape_errors_are_422(client, body, loc):
    problem = assert_problem(post(client, body, "/v1/decisions/batch"), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == loc


def test_empty_batch_answers_empty_results(client):
    body = post(client, {"flows": []}, "/v1/decisions/batch").get_json()
    assert body == {"results": [], "summary": {"allow": 0, "conditions": 0, "deny": 0, "error": 0}}


# ---------------------------------------------------------------- time limit


def test_evaluation_over_the_time_limit_is_503_and_nothing_is_logged(
    make_app, flows, engine, monkeypatch, db_path
):
    client = make_app(eval_timeout=0.05).test_client()
    original = engine.evaluate
    calls: list[int] = []

    def slow(payload: Any, today: dt.date | None = None, **options: Any) -> Decision:
        calls.append(1)
        time.sleep(0.03)
        return original(payload, today=today, **options)

    monkeypatch.setattr(engine, "evaluate", slow)
    response = post(client, {"flows": [flows["allow"]] * 10}, "/v1/decisions/batch")
    body = assert_problem(response, 503, "evaluation_timeout")
    assert response.headers["Retry-After"] == "1"
    assert "of 10 flows" in body["detail"]
    assert len(calls) < 10  # stopped at a flow boundary, not after evaluating everything
    assert logged_ids(db_path) == []


def test_evaluation_waits_for_the_engine_no_longer_than_the_limit(make_app, flows):
    app = make_app(eval_timeout=0.2)
    decider = app.extensions["doorgifte"].decider
    assert decider._lock.acquire()  # another request holds the engine
    try:
        response = post(app.test_client(), flows["allow"])
    finally:
        decider._lock.release()
    body = assert_problem(response, 503, "evaluation_timeout")
    assert "busy" in body["detail"]
