"""A real `doorgifte serve` (gunicorn, threaded workers) over HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import threading
import time

import pytest
import requests

from tests.e2e.support import FLOWS, Server, assert_problem, logged_ids


def test_decision_is_answered_logged_and_read_back(server):
    answer = requests.post(server.url + "/v1/decisions", json=FLOWS["chain"], timeout=10)
    assert answer.status_code == 200
    decision = answer.json()
    back = requests.get(server.url + f"/v1/decisions/{decision['decision_id']}", timeout=10).json()
    assert back.pop("log")["request"] == FLOWS["chain"]
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
    assert_problem(
        requests.post(
            url + "/v1/decisions/batch", data=big, headers={"Content-Type": "application/json"}, timeout=10
        ),
        413,
        "body_too_large",
    )
    assert_problem(
        requests.post(url + "/v1/decisions", data="{}", headers={"Content-Type": "text/plain"}, timeout=10),
        415,
        "unsupported_media_type",
    )
    assert_problem(
        requests.post(
            url + "/v1/decisions", data="{", headers={"Content-Type": "application/json"}, timeout=10
        ),
        400,
        "malformed_json",
    )
    assert_problem(requests.get(url + "/v1/nothing", timeout=10), 404, "not_found")
    response = requests.put(url + "/v1/decisions", json={}, timeout=10)
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


KILL_CLIENTS = 4
KILL_BATCH = 20
GROUP_CLIENTS = 8
LOAD_SECONDS = 60


class Load:
    """Client threads posting the four example flows (and, with `batches`, every fourth request
    a batch of KILL_BATCH) until stopped, the server dies or LOAD_SECONDS pass; `answered` maps
    each decision id answered with a 200 to its decision."""

    def __init__(self, url: str, clients: int, batches: bool):
        self.url, self.batches = url, batches
        self.answered: dict[str, str] = {}
        self.statuses: list[int] = []
        self.deadline = time.monotonic() + LOAD_SECONDS
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(c,), daemon=True) for c in range(clients)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in self._threads)

    def wait_for(self, count: int) -> None:
        """Until `count` decisions were answered, a request was refused, or time is up."""
        while len(self.answered) < count and time.monotonic() < self.deadline and self.refused == []:
            time.sleep(0.02)

    @property
    def refused(self) -> list[int]:
        return [status for status in self.statuses if status != 200]

    def _client(self, c: int) -> None:
        names = ("allow", "conditions", "deny", "chain")
        with requests.Session() as session:
            for i in range(5000):
                if self._stop.is_set() or time.monotonic() > self.deadline:
                    return
                batch = self.batches and i % 4 == 3
                try:
                    if batch:
                        flows = [FLOWS[names[(c + j) % 4]] for j in range(KILL_BATCH)]
                        response = session.post(
                            self.url + "/v1/decisions/batch", json={"flows": flows}, timeout=10
                        )
                    else:
                        flow = FLOWS[names[(c + i) % 4]]
                        response = session.post(self.url + "/v1/decisions", json=flow, timeout=10)
                    body = response.json() if response.status_code == 200 else None
                except requests.RequestException:
                    return  # the server is gone: this request was in flight, not answered
                with self._lock:
                    self.statuses.append(response.status_code)
                    for decision in body["results"] if batch and body else [body] if body else []:
                        self.answered[decision["decision_id"]] = decision["decision"]
                if response.status_code != 200:
                    return


def assert_answered_are_logged(db: str, answered: set[str], in_flight: int) -> set[str]:
    """Every answered decision is in the log file, with at most `in_flight` unanswered ones
    beside them, and the file is intact; the logged ids."""
    logged = set(logged_ids(db))
    assert answered <= logged, f"{len(answered - logged)} answered decisions were lost"
    assert len(logged - answered) <= in_flight  # only what was in flight
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return logged


@pytest.mark.slow
def test_decisions_answered_under_load_survive_kill_9_and_are_served_after_a_restart(db):
    """Two workers under load from several clients, the whole process group killed with SIGKILL:
    every decision that was answered is in the log after the crash and is served after a restart;
    decisions in flight (not answered) may or may not be there, at most one request per client."""
    first = Server(db, workers=2).start()
    try:
        quiet = requests.post(first.url + "/v1/decisions", json=FLOWS["conditions"], timeout=10).json()
        assert logged_ids(db) == [quiet["decision_id"]]  # committed before it was answered
        with Load(first.url, KILL_CLIENTS, batches=True) as load:
            load.wait_for(500)  # well into the load
            first.stop(signal.SIGKILL)  # master and both workers at once: no chance to flush anything
    finally:
        first.close()
    assert first.proc is not None and first.proc.returncode == -signal.SIGKILL
    answered = {quiet["decision_id"]: quiet["decision"], **load.answered}
    assert len(answered) >= 500
    assert set(load.statuses) == {200}
    logged = assert_answered_are_logged(db, set(answered), KILL_CLIENTS * KILL_BATCH)

    second = Server(db).start()
    try:
        with requests.Session() as session:
            sample = [quiet["decision_id"], *random.Random(1).sample(sorted(answered), 50)]
            for decision_id in sample:
                back = session.get(second.url + f"/v1/decisions/{decision_id}", timeout=10)
                assert back.status_code == 200, back.text
                assert back.json()["decision"] == answered[decision_id]
            after = session.post(second.url + "/v1/decisions", json=FLOWS["deny"], timeout=10)
            assert after.status_code == 200  # and the log takes new decisions
        assert second.stop() == 0  # SIGTERM: a clean, graceful exit
    finally:
        second.close()
    assert len(logged_ids(db)) == len(logged) + 1


def commit_metrics(url: str) -> tuple[float, float]:
    """(commits, requests they released) of the decision log so far, from GET /metrics."""
    text = requests.get(url + "/metrics", timeout=10).text
    values = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    name = 'doorgifte_decision_log_commit_requests_{}{{backend="sqlite"}}'
    return float(values[name.format("count")]), float(values[name.format("sum")])


@pytest.mark.slow
def test_group_committed_decisions_answered_under_load_survive_kill_9(db):
    """One worker with as many threads as clients, so that concurrent decisions share commits
    (checked in the service's own metrics: fewer commits than requests), killed with SIGKILL
    mid-load: every decision answered before the kill is in the log file after it; at most one
    request per client was in flight and may be there unanswered."""
    server = Server(db, workers=1, threads=GROUP_CLIENTS).start()
    try:
        with Load(server.url, GROUP_CLIENTS, batches=False) as load:
            load.wait_for(300)
            commits, released = commit_metrics(server.url)
            load.wait_for(600)
            server.stop(signal.SIGKILL)  # master and worker at once, in the middle of the load
    finally:
        server.close()
    assert server.proc is not None and server.proc.returncode == -signal.SIGKILL
    assert load.refused == []
    assert len(load.answered) >= 600
    assert 0 < commits < released, f"{commits:.0f} commits for {released:.0f} requests: no group commit"
    assert_answered_are_logged(db, set(load.answered), GROUP_CLIENTS)


def test_serve_refuses_a_broken_rule_base_listing_the_problems(db, tmp_path):
    bad = tmp_path / "policies"
    bad.mkdir()
    (bad / "bad.yaml").write_text("id: bad\nversion: '1'\ntitle: Bad\nextends: gdpr\nrules: 7\n")
    server = Server(db, env={"DOORGIFTE_POLICY_PATH": str(bad)})
    with pytest.raises(AssertionError, match="exited with 1"):
        server.start()
    assert f"{bad / 'bad.yaml'}:5:" in (server.logdir / "stdout").read_text()
    server.close()


def test_the_server_says_where_it_is_ready(server):
    out = (server.logdir / "stdout").read_text()
    assert f"ready: {server.url}/docs" in out
