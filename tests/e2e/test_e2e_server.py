"""A real `doorgifte serve` (gunicorn, one sync worker) over HTTP on 127.0.0.1."""

from __future__ import annotations

import signal
import sqlite3
from typing import Any

import pytest
import requests

from tests.e2e.support import FLOWS, Server


def problem(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code and body["type"] and body["title"]
    return body


def test_decision_is_answered_logged_and_read_back(server):
    answer = requests.post(server.url + "/v1/decisions", json=FLOWS["chain"], timeout=10)
    assert answer.status_code == 200
    decision = answer.json()
    back = requests.get(server.url + f"/v1/decisions/{decision['decision_id']}", timeout=10).json()
    assert back.pop("logged")["request"] == FLOWS["chain"]
    assert back == decision


def test_one_json_log_line_per_request_with_decision_id_status_and_duration(server):
    answer = requests.post(server.url + "/v1/decisions", json=FLOWS["deny"], timeout=10)
    request_id = answer.headers["X-Request-Id"]
    lines = [line for line in server.log_lines() if line.get("request_id") == request_id]
    assert len(lines) == 1
    line = lines[0]
    assert line["msg"] == "request" and line["status"] == 200 and line["endpoint"] == "/v1/decisions"
    assert line["decision_id"] == answer.json()["decision_id"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0


def test_errors_over_http_are_problem_json(server):
    url = server.url
    big = b'{"flows": [' + b'{"a": 1},' * 150_000 + b"{}]}"
    problem(
        requests.post(
            url + "/v1/decisions/batch", data=big, headers={"Content-Type": "application/json"}, timeout=10
        ),
        413,
        "body_too_large",
    )
    problem(
        requests.post(url + "/v1/decisions", data="{}", headers={"Content-Type": "text/plain"}, timeout=10),
        415,
        "unsupported_media_type",
    )
    problem(
        requests.post(
            url + "/v1/decisions", data="{", headers={"Content-Type": "application/json"}, timeout=10
        ),
        400,
        "malformed_json",
    )
    problem(requests.get(url + "/v1/nothing", timeout=10), 404, "not_found")
    response = requests.put(url + "/v1/decisions", json={}, timeout=10)
    problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_a_decision_survives_kill_9_and_is_served_after_a_restart(db):
    first = Server(db).start()
    try:
        decision = requests.post(first.url + "/v1/decisions", json=FLOWS["conditions"], timeout=10).json()
        first.stop(signal.SIGKILL)  # no chance to flush anything after the answer
    finally:
        first.close()
    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT decision_id FROM decisions")]
    assert ids == [decision["decision_id"]]
    second = Server(db).start()
    try:
        back = requests.get(second.url + f"/v1/decisions/{decision['decision_id']}", timeout=10)
        assert back.status_code == 200 and back.json()["decision"] == "conditions"
        assert second.stop() == 0  # SIGTERM: a clean, graceful exit
    finally:
        second.close()


def test_serve_refuses_a_broken_rule_base_listing_the_problems(db, tmp_path):
    bad = tmp_path / "policies"
    bad.mkdir()
    (bad / "bad.yaml").write_text("id: bad\nversion: '1'\ntitle: Bad\nextends: gdpr\nrules: 7\n")
    server = Server(db, env={"DOORGIFTE_POLICY_PATH": str(bad)})
    with pytest.raises(AssertionError, match="exited with 1"):
        server.start()
    assert f"{bad / 'bad.yaml'}:5:" in (server.logdir / "stdout").read_text()
    server.close()
