"""(d) A batch of 1,000 flows, in process and over HTTP: the `mixed` flows (EEA, third country,
chain in turn), and as a second row the seeded realistic `varied` mix.

In process, each adding one layer: a plain loop over `engine.evaluate` (the engine's own
cost, one core), the service's batch function `Decider.decide_batch` with a SQLite decision
log (adds the one-transaction log write and metrics) alone and with one batch helper process
deciding a share on the second core (service/batch_pool.py), and the Flask app's
`POST /v1/decisions/batch` through its test client (adds JSON in and out, no socket; the app
as configured by default, so with its helper). Over HTTP it is the real server with 1 worker,
with its helper (the default) and without (`DOORGIFTE_BATCH_PROCESSES=0`). A helper is
waited for until it is ready before the timing starts (a service starts it in the background
with the first large batch). Each is run `batch_repeats` times after one warm-up; the median
is the result, the minimum is shown for the noise.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.flows import TODAY, mixed, varied
from bench.http import Client, running_server


def timed(call: Callable[[], object], repeats: int) -> dict[str, Any]:
    """Milliseconds of `repeats` calls after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "runs_ms": [round(t, 1) for t in times],
    }


def engine_loop(engine: Any, flows: list[dict[str, Any]]) -> Callable[[], object]:
    return lambda: [engine.evaluate(f, today=TODAY).model_dump(mode="json") for f in flows]


#: the longest a helper process may take to load its engine before the benchmark gives up on it
HELPER_READY_S = 120
#: helper pools started by a row, stopped when the rows are done
_pools: list[Any] = []


def service_batch(
    engine: Any, flows: list[dict[str, Any]], workdir: Path, helpers: int = 0
) -> Callable[[], object]:
    """`Decider.decide_batch` as the endpoint calls it, answers turned into result dicts; with
    `helpers` batch helper processes (ready before it is timed)."""
    from service.batch_pool import BatchPool
    from service.config import Config
    from service.deciding import Decider
    from service.decision_log import open_log
    from service.metrics import Metrics

    db = str(workdir / f"batch-inprocess-{helpers}.sqlite3")
    decider = Decider(engine, open_log(db), Metrics(), timeout=600)
    if helpers:
        decider.pool = BatchPool.for_service(Config(db=db, batch_processes=helpers, eval_timeout=600), engine)
        _pools.append(decider.pool)
        if decider.pool is None or not decider.pool.wait_ready(HELPER_READY_S):
            raise RuntimeError("the batch helper process did not get ready")

    def call() -> object:
        answers = decider.decide_batch(flows, "bench")
        assert all(a.status == 200 for a in answers)
        return [a.as_result() for a in answers]

    return call


def flask_batch(engine: Any, flows: list[dict[str, Any]], workdir: Path) -> Callable[[], object]:
    """The whole app in process (Flask test client): JSON parsing and encoding included."""
    from service.app import create_app
    from service.config import Config

    app = create_app(Config(db=str(workdir / "batch-flask.sqlite3"), eval_timeout=600), engine=engine)
    pool = app.extensions["doorgifte"].decider.pool
    _pools.append(pool)
    if pool is not None and not pool.wait_ready(HELPER_READY_S):
        raise RuntimeError("the batch helper process did not get ready")
    client = app.test_client()
    body = json.dumps({"flows": flows})

    def call() -> object:
        response = client.post("/v1/decisions/batch", data=body, content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_data()

    return call


def over_http(
    flows: list[dict[str, Any]], repeats: int, workdir: Path, helpers: bool = True
) -> dict[str, Any]:
    """POST /v1/decisions/batch to `doorgifte serve --workers 1`: client send to last byte read;
    with the worker's batch helper (the default, waited for until ready) or without."""
    body = json.dumps({"flows": flows}).encode()
    env = None if helpers else {"DOORGIFTE_BATCH_PROCESSES": "0"}
    with running_server(1, workdir, env) as server:
        client = Client(server.port)
        if helpers:  # the first large batch starts the helper; a later one finds it ready
            deadline = time.monotonic() + HELPER_READY_S
            while "batch helper process ready" not in server.log.read_text(errors="replace"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the batch helper process was not ready within {HELPER_READY_S} s")
                client.call("POST", "/v1/decisions/batch", body)
                time.sleep(0.5)

        def call() -> object:
            status, data = client.call("POST", "/v1/decisions/batch", body)
            assert status == 200, data[:500]
            summary = json.loads(data)["summary"]
            assert summary["error"] == 0 and sum(summary.values()) == len(flows), summary
            return data

        result = timed(call, repeats)
        result["response_bytes"] = len(call())  # type: ignore[arg-type]
    result["request_bytes"] = len(body)
    return result


def guarded(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A row's numbers, or why it could not run (the others are kept)."""
    try:
        return call()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def rows(engine: Any, flows: list[dict[str, Any]], repeats: int, workdir: Path) -> dict[str, Any]:
    try:
        return _rows(engine, flows, repeats, workdir)
    finally:
        while _pools:
            pool = _pools.pop()
            if pool is not None:
                pool.close()


def _rows(engine: Any, flows: list[dict[str, Any]], repeats: int, workdir: Path) -> dict[str, Any]:
    return {
        "in_process_engine_loop": timed(engine_loop(engine, flows), repeats),
        "in_process_service_batch": timed(service_batch(engine, flows, workdir), repeats),
        "in_process_service_batch_helper": guarded(
            lambda: timed(service_batch(engine, flows, workdir, helpers=1), repeats)
        ),
        "in_process_flask_test_client": guarded(lambda: timed(flask_batch(engine, flows, workdir), repeats)),
        "http_1_worker": guarded(lambda: over_http(flows, repeats, workdir)),
        "http_1_worker_no_helper": guarded(lambda: over_http(flows, repeats, workdir, helpers=False)),
    }


def run(engine: Any, settings: Any, workdir: Path) -> dict[str, Any]:
    flows = mixed(settings.batch_size)
    repeats = settings.batch_repeats
    out: dict[str, Any] = {"flows": len(flows), "mix": "one_hop_eea, one_hop_third_country, chain in turn"}
    out.update(rows(engine, flows, repeats, workdir))
    out["varied"] = {
        "mix": "bench.flows.varied(seed=2026)",
        **rows(engine, varied(len(flows)), repeats, workdir),
    }
    return out
