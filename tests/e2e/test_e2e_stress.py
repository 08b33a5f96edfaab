"""`doorgifte serve --workers 2` under concurrent load: over 4,000 decisions from several clients,
every answer the same as the single-threaded in-process one, no 5xx, every decision logged once."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.support import Server, log_export
from tests.mixed_flows import comparable, expected_answer, mixed_flows

CLIENTS = 4
BATCHES_PER_CLIENT = 5  # 20 batches
BATCH_SIZE = 100
SINGLES_PER_CLIENT = 100  # and 400 single POSTs
TOTAL = CLIENTS * (BATCHES_PER_CLIENT * BATCH_SIZE + SINGLES_PER_CLIENT)
TIME_LIMIT = 180.0
SAMPLE = 300


@pytest.mark.slow
def test_two_workers_answer_2400_concurrent_decisions_like_one_thread_and_log_each(db, engine):
    flows = mixed_flows(engine)
    expected = [expected_answer(engine, flow) for flow in flows]
    assert {e["decision"] for e in expected} == {"allow", "conditions", "deny"}

    statuses: Counter[int] = Counter()
    mismatches: list[tuple[int, str]] = []
    answered: dict[str, int] = {}  # decision id -> index of its flow
    errors: list[BaseException] = []
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_LIMIT

    def record(status: int, k: int, answer: dict[str, Any]) -> None:
        with lock:
            statuses[status] += 1
            if status != 200:
                mismatches.append((k, f"status {status}"))
                return
            if comparable(answer) != expected[k]:
                mismatches.append((k, answer["decision_id"]))
            if answer["decision_id"] in answered:
                mismatches.append((k, "duplicate decision id " + answer["decision_id"]))
            answered[answer["decision_id"]] = k

    def client(c: int) -> None:
        rng = random.Random(c)
        try:
            with requests.Session() as session:
                for _ in range(BATCHES_PER_CLIENT):
                    if time.monotonic() > deadline:
                        return
                    picks = [rng.randrange(len(flows)) for _ in range(BATCH_SIZE)]
                    response = session.post(
                        server.url + "/v1/decisions/batch",
                        json={"flows": [flows[k] for k in picks]},
                        timeout=60,
                    )
                    with lock:
                        statuses[response.status_code] += 1
                    assert response.status_code == 200, response.text[:500]
                    body = response.json()
                    assert [r["index"] for r in body["results"]] == list(range(BATCH_SIZE))
                    for result, k in zip(body["results"], picks, strict=True):
                        record(result["status"], k, result)
                    for _ in range(SINGLES_PER_CLIENT // BATCHES_PER_CLIENT):
                        k = rng.randrange(len(flows))
                        single = session.post(server.url + "/v1/decisions", json=flows[k], timeout=30)
                        record(single.status_code, k, single.json())
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    server = Server(db, workers=2).start()
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
        elapsed = time.monotonic() - started
        assert errors == []
        assert mismatches == []
        assert not [s for s in statuses if s >= 500]
        assert len(answered) == TOTAL == 2_400, f"{len(answered)} answered in {elapsed:.1f} s"

        # every answered decision can be read back, as answered and with its request
        with requests.Session() as session:
            for decision_id in random.Random(0).sample(sorted(answered), SAMPLE):
                back = session.get(server.url + f"/v1/decisions/{decision_id}", timeout=10)
                assert back.status_code == 200, back.text
                body = back.json()
                k = answered[decision_id]
                assert body["decision_id"] == decision_id
                assert body["log"]["request"] == flows[k]
                assert comparable(body) == expected[k]
        assert server.stop() == 0
    finally:
        server.close()

    exported = log_export(db)
    assert len(exported) == TOTAL
    assert {line["decision_id"] for line in exported} == set(answered)
