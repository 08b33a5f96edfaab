"""`doorgifte serve --workers 2`: gunicorn sync workers, metrics summed over them, graceful SIGTERM."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.support import FLOWS, Server


def decisions_total(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "doorgifte_decisions_total"
    )


def test_two_workers_answer_count_together_and_stop_gracefully(db):
    server = Server(db, workers=2).start()
    try:
        lines = server.log_lines()
        workers = {
            int(m.group(1))
            for line in lines
            if (m := re.search(r"Booting worker with pid: (\d+)", line["msg"]))
        }
        assert len(workers) == 2
        metrics_dir = Path(next(line["metrics_dir"] for line in lines if line.get("msg") == "starting"))
        assert metrics_dir.is_dir()

        def decide(i: int) -> int:
            flow = FLOWS[("allow", "conditions", "deny")[i % 3]]
            return requests.post(server.url + "/v1/decisions", json=flow, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(decide, range(30)))
        assert statuses == [200] * 30

        # two slow batches at once: while one worker is busy with the first, the other takes the second
        barrier = threading.Barrier(2)

        def slow_batch(_: int) -> int:
            barrier.wait(timeout=10)
            body = {"flows": [FLOWS["chain"]] * 300}
            return requests.post(server.url + "/v1/decisions/batch", json=body, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(slow_batch, range(2))) == [200, 200]
        writers = {int(m.group(1)) for f in metrics_dir.iterdir() if (m := re.search(r"_(\d+)\.db$", f.name))}
        assert writers == workers  # both workers answered and wrote their own counters
        # whichever worker answers /metrics, it reports the sum over both
        assert [decisions_total(server.url) for _ in range(4)] == [630.0] * 4

        # a batch in flight when SIGTERM arrives is still answered in full
        result: dict[str, object] = {}

        def big_batch() -> None:
            response = requests.post(
                server.url + "/v1/decisions/batch", json={"flows": [FLOWS["chain"]] * 1000}, timeout=60
            )
            result["done"] = time.monotonic()
            result["status"] = response.status_code
            result["summary"] = response.json()["summary"]

        thread = threading.Thread(target=big_batch)
        thread.start()
        time.sleep(0.3)
        signalled = time.monotonic()
        exit_code = server.stop()
        thread.join(timeout=60)
        assert result["status"] == 200
        assert result["summary"] == {"allow": 0, "conditions": 1000, "deny": 0, "error": 0}
        assert signalled < result["done"]  # the answer came after the signal: it was in flight
        assert exit_code == 0
        assert not metrics_dir.exists()  # serve cleans up its multiprocess directory
    finally:
        server.close()
