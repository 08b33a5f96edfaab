"""(d) A batch of 1,000 mixed flows (EEA, third country, chain in turn), in process and over HTTP.

In process, three ways, each adding one layer: a plain loop over `engine.evaluate` (the
engine's own cost), the service's batch function `Decider.decide_batch` with a SQLite
decision log (adds the one-transaction log write and metrics), and the Flask app's
`POST /v1/decisions/batch` through its test client (adds JSON in and out, no socket). Over
HTTP it is the real server with 1 worker. Each is run `batch_repeats` times after one
warm-up; the median is the result, the minimum is shown for the noise.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.flows import TODAY, mixed
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


def service_batch(engine: Any, flows: list[dict[str, Any]], workdir: Path) -> Callable[[], object]:
    """`Decider.decide_batch` as the endpoint calls it, answers turned into result dicts."""
    from service.deciding import Decider
    from service.decision_log import open_log
    from service.metrics import Metrics

    decider = Decider(engine, open_log(str(workdir / "batch-inprocess.sqlite3")), Metrics(), timeout=600)

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
    client = app.test_client()
    body = json.dumps({"flows": flows})

    def call() -> object:
        response = client.post("/v1/decisions/batch", data=body, content_type="application/json")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_data()

    return call


def over_http(flows: list[dict[str, Any]], repeats: int, workdir: Path) -> dict[str, Any]:
    """POST /v1/decisions/batch to `doorgifte serve --workers 1`: client send to last byte read."""
    body = json.dumps({"flows": flows}).encode()
    with running_server(1, workdir) as server:
        client = Client(server.port)

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


def run(engine: Any, settings: Any, workdir: Path) -> dict[str, Any]:
    flows = mixed(settings.batch_size)
    repeats = settings.batch_repeats
    out: dict[str, Any] = {"flows": len(flows), "mix": "one_hop_eea, one_hop_third_country, chain in turn"}
    out["in_process_engine_loop"] = timed(engine_loop(engine, flows), repeats)
    out["in_process_service_batch"] = timed(service_batch(engine, flows, workdir), repeats)
    out["in_process_flask_test_client"] = timed(flask_batch(engine, flows, workdir), repeats)
    try:
        out["http_1_worker"] = over_http(flows, repeats, workdir)
    except Exception as exc:  # the service may not run yet: say so, keep the other numbers
        out["http_1_worker"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
