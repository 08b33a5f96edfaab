"""SPEC section 10 over a real server: actions, reference, labels, dry runs, request ids,
combined profiles in a query, and problems in Dutch."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.e2e.support import assert_problem, logged_ids

VENDOR_CHAIN = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "examples" / "vendor-chain.json").read_text()
)


def test_a_vendor_chain_answers_a_plan_logged_with_its_context(server):
    headers = {"X-Request-Id": "inkoop:2026-0142.v1"}
    answer = requests.post(server.url + "/v1/decisions", json=VENDOR_CHAIN, headers=headers, timeout=10)
    assert answer.status_code == 200 and answer.headers["X-Request-Id"] == "inkoop:2026-0142.v1"
    body = answer.json()
    assert body["logged"] is True and body["reference"] == "inkoop-2026-0142"
    assert body["labels"] == VENDOR_CHAIN["labels"]
    assert body["actions"][0]["actor"] == "Gemeente Utrecht"
    assert len(body["actions"]) < len(body["conditions"])
    back = requests.get(server.url + f"/v1/decisions/{body['decision_id']}", timeout=10).json()
    assert back["log"]["request_id"] == "inkoop:2026-0142.v1" and back["reference"] == "inkoop-2026-0142"
    assert body["decision_id"] in logged_ids(server.db)


def test_a_dry_run_over_http_is_not_logged(server):
    what_if = {**VENDOR_CHAIN, "dry_run": True, "reference": "what-if"}
    body = requests.post(server.url + "/v1/decisions", json=what_if, timeout=10).json()
    assert body["logged"] is False
    assert body["decision_id"] not in logged_ids(server.db)
    missing = requests.get(server.url + f"/v1/decisions/{body['decision_id']}", timeout=10)
    assert_problem(missing, 404, "not_found")


def test_a_bad_request_id_and_dutch_problems(server):
    bad = requests.post(
        server.url + "/v1/decisions", json=VENDOR_CHAIN, headers={"X-Request-Id": "a b"}, timeout=10
    )
    assert_problem(bad, 400, "bad_request")
    dutch = requests.get(
        server.url + "/v1/regions/aws/eu-frankfurt-1", headers={"Accept-Language": "nl"}, timeout=10
    )
    problem = assert_problem(dutch, 404, "not_found")
    assert problem["title"] == "Niet gevonden"


def test_combined_profiles_in_a_query(server):
    url = server.url + "/v1/regions/aws/eu-central-1?as_of=2026-11-22&policy=nl-gov&policy=eu-residency"
    body = requests.get(url, timeout=10).json()
    assert body["policy"] == "eu-residency+nl-gov" and body["decision"] == "conditions"
