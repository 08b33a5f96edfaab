"""Every limit set through its environment variable, against a real `doorgifte serve`:
DOORGIFTE_MAX_BODY, DOORGIFTE_MAX_BATCH, DOORGIFTE_MAX_DEPTH, DOORGIFTE_MAX_NODES and
DOORGIFTE_EVAL_TIMEOUT. At the limit is answered, past it is refused, and nothing refused is logged."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.support import FLOWS, Server, assert_problem, logged_ids

MAX_BODY = 4000
LIMITS = {
    "DOORGIFTE_MAX_BODY": str(MAX_BODY),
    "DOORGIFTE_MAX_BATCH": "3",
    "DOORGIFTE_MAX_DEPTH": "2",
    "DOORGIFTE_MAX_NODES": "3",
}
JSON = {"Content-Type": "application/json"}


def with_subs(*names: str, nested: bool = False) -> dict[str, Any]:
    """The allow flow with sub-processors under its recipient: side by side, or each under the last."""
    flow = copy.deepcopy(FLOWS["allow"])
    node = flow["recipient"]
    for name in names:
        sub = {"name": name, "country": "DE", "agreement": {"dpa": {"signed": True}}}
        node.setdefault("sub_processors", []).append(sub)
        if nested:
            node = sub
    return flow


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    db = str(tmp_path_factory.mktemp("limits") / "decisions.sqlite3")
    server = Server(db, env=LIMITS).start()
    yield server, db
    server.close()


def test_max_body_from_the_environment(limited):
    server, db = limited
    before = len(logged_ids(db))
    text = json.dumps(FLOWS["allow"])
    at_limit = text[:-1] + " " * (MAX_BODY - len(text)) + "}"
    assert len(at_limit.encode()) == MAX_BODY
    url = server.url + "/v1/decisions"
    assert requests.post(url, data=at_limit, headers=JSON, timeout=10).status_code == 200
    over = at_limit[:-1] + " }"
    body = assert_problem(requests.post(url, data=over, headers=JSON, timeout=10), 413, "body_too_large")
    assert f"{MAX_BODY} bytes" in body["detail"]
    # without Content-Length (chunked), it is cut at the limit too
    chunked = requests.post(
        url, data=iter([over[:2000].encode(), over[2000:].encode()]), headers=JSON, timeout=10
    )
    assert_problem(chunked, 413, "body_too_large")
    assert len(logged_ids(db)) == before + 1  # only the body at the limit


def test_max_batch_from_the_environment(limited):
    server, db = limited
    before = len(logged_ids(db))
    url = server.url + "/v1/decisions/batch"
    ok = requests.post(url, json={"flows": [FLOWS["allow"]] * 3}, timeout=10)
    assert ok.status_code == 200 and ok.json()["summary"]["allow"] == 3
    body = assert_problem(
        requests.post(url, json={"flows": [FLOWS["allow"]] * 4}, timeout=10), 422, "invalid_request"
    )
    assert "4 flows exceed the limit of 3" in body["detail"] and body["errors"][0]["loc"] == "flows"
    assert len(logged_ids(db)) == before + 3  # the batch at the limit, nothing of the one over it


def test_max_depth_and_max_nodes_from_the_environment(limited):
    server, db = limited
    before = len(logged_ids(db))
    url = server.url + "/v1/decisions"
    assert requests.post(url, json=with_subs("A"), timeout=10).status_code == 200  # depth 2, 2 nodes
    assert requests.post(url, json=with_subs("A", "B"), timeout=10).status_code == 200  # 3 nodes
    deep = assert_problem(
        requests.post(url, json=with_subs("A", "B", nested=True), timeout=10), 422, "chain_too_large"
    )
    assert "depth 2" in deep["detail"] or "depth 2" in deep["errors"][0]["msg"]
    wide = assert_problem(
        requests.post(url, json=with_subs("A", "B", "C"), timeout=10), 422, "chain_too_large"
    )
    assert "3 recipient nodes" in wide["errors"][0]["msg"]
    # in a batch, only the flow over the limit is refused
    batch = {"flows": [with_subs("A"), with_subs("A", "B", nested=True), FLOWS["deny"]]}
    results = requests.post(server.url + "/v1/decisions/batch", json=batch, timeout=10).json()["results"]
    assert [r["status"] for r in results] == [200, 422, 200]
    assert results[1]["error"]["code"] == "chain_too_large"
    assert len(logged_ids(db)) == before + 4  # two flows at the limits, two flows of the batch


def test_eval_timeout_from_the_environment_stops_a_large_batch_and_logs_nothing(db):
    server = Server(db, env={"DOORGIFTE_EVAL_TIMEOUT": "0.001"}).start()
    try:
        started = time.monotonic()
        batch = {"flows": [FLOWS["chain"]] * 1000}
        response = requests.post(server.url + "/v1/decisions/batch", json=batch, timeout=60)
        elapsed = time.monotonic() - started
        body = assert_problem(response, 503, "evaluation_timeout")
        assert response.headers["Retry-After"] == "1"
        evaluated = int(re.search(r"(\d+) of 1000 flows were evaluated", body["detail"]).group(1))  # type: ignore[union-attr]
        assert evaluated < 1000, body["detail"]  # it stopped early instead of working on to the end
        assert "results" not in body and "decision" not in json.dumps(body["errors"])
        assert logged_ids(db) == []  # nothing decided, nothing logged
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        assert server.stop() == 0
        lines = [line for line in server.log_lines() if line.get("error_code") == "evaluation_timeout"]
        assert len(lines) == 1 and lines[0]["status"] == 503, f"answered in {elapsed:.2f} s"
    finally:
        server.close()


def test_an_oversized_body_gets_its_413_every_time(limited):
    """The server reads and drops the rest of a body over the limit before answering, so the
    client gets the problem and not a connection reset (bounded: 12 tries, declared and chunked)."""
    server, _ = limited
    url = server.url + "/v1/decisions"
    big = b" " * (2 * 1024 * 1024)
    for attempt in range(12):
        data = big if attempt % 2 == 0 else iter([big[:1_000_000], big[1_000_000:]])
        response = requests.post(url, data=data, headers=JSON, timeout=20)
        assert_problem(response, 413, "body_too_large")
