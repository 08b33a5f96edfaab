"""A large batch shared with a helper process (service/batch_pool.py) answers exactly as one
decided in the service process alone: same bytes (decision ids aside), problems at their
indexes, the same `today`, every decision logged and counted in the service process; and it
still does when the helper is killed before or during the batch, or hangs past the deadline.

Each test starts its own helper process (spawn, about 2 s to load its engine)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bench.flows import varied
from service import batch_pool
from service.batch_pool import BatchPool, shares
from service.config import Config, ConfigError
from tests.engine.test_scenarios_and_horizon import DPF_FALLS, us_processor
from tests.service.support import assert_problem, logged_ids

SIZE = 300
TODAY = dt.date(2025, 1, 15)
UUID = re.compile(r'"decision_id":"[0-9a-f-]{36}"')
READY_S = 120


def batch() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """300 varied flows with, in the service process's share and in the helper's: a flow
    that breaks the contract, a flow without `as_of` (judged on the injected today); in the
    helper's: a dry run and a flow under a scenario (neither logged), a combination of
    profiles, and a flow that is not an object."""
    own, theirs = shares(SIZE, 1)
    flows = copy.deepcopy(varied(SIZE, seed=15))
    marks = {
        "bad_own": own.start + 3,
        "bad_theirs": theirs.start + 40,
        "today_own": own.start + 5,
        "today_theirs": theirs.stop - 2,
        "dry_theirs": theirs.start + 7,
        "scenario_theirs": theirs.start + 9,
        "wrong_type_theirs": theirs.stop - 1,
        "combined_theirs": theirs.start + 11,
    }
    for name in ("bad_own", "bad_theirs"):
        flows[marks[name]]["exporter"] = {"name": "Nowhere Ltd", "country": "Atlantis"}
    for name in ("today_own", "today_theirs"):
        del flows[marks[name]]["as_of"]
    flows[marks["dry_theirs"]]["dry_run"] = True
    flows[marks["scenario_theirs"]] = us_processor(scenario=DPF_FALLS)
    flows[marks["wrong_type_theirs"]] = ["not", "a", "flow"]  # type: ignore[assignment]
    flows[marks["combined_theirs"]]["policy"] = ["nl-gov", "eu-residency"]  # compiled on first use
    return flows, marks


def post(client: FlaskClient, flows: list[Any]) -> Any:
    return client.post("/v1/decisions/batch", json={"flows": flows})


def without_ids(response: Any) -> str:
    return UUID.sub('"decision_id":"-"', response.get_data(as_text=True))


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()` in a thread, failing the test instead of hanging it when it takes too long."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # killed and reaped already
        os.kill(pid, signal.SIGKILL)


def decisions_counted(app: Flask) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("doorgifte_decisions_total{")
    )


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.deciding.today_utc", lambda: TODAY)


@pytest.fixture
def pooled(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, BatchPool]]:
    app = make_app(batch_processes=1, batch_parallel_min=64)
    pool = app.extensions["doorgifte"].decider.pool
    assert pool is not None and pool.wait_ready(READY_S), pool and pool.disabled
    yield app, pool


@pytest.fixture
def reference(make_app: Callable[..., Flask], tmp_path: Path) -> Callable[[list[Any]], str]:
    """The answer of an app without helper processes, decision ids blanked."""
    app = make_app(db=str(tmp_path / "reference.sqlite3"), batch_processes=0)
    assert app.extensions["doorgifte"].decider.pool is None

    def answer(flows: list[Any]) -> str:
        response = post(app.test_client(), flows)
        assert response.status_code == 200
        return without_ids(response)

    return answer


def test_a_shared_batch_answers_byte_for_byte_as_one_decided_in_process(pooled, reference, db_path):
    app, pool = pooled
    flows, marks = batch()
    response = post(app.test_client(), flows)
    assert response.status_code == 200
    assert pool.helper_flows == len(shares(SIZE, 1)[1])  # the helper did decide its share
    assert without_ids(response) == reference(flows)

    results = json.loads(response.get_data(as_text=True))["results"]
    assert [r["index"] for r in results] == list(range(SIZE))
    refused = [r["index"] for r in results if r["status"] != 200]
    assert refused == sorted([marks["bad_own"], marks["bad_theirs"], marks["wrong_type_theirs"]])
    assert results[marks["bad_theirs"]]["error"]["errors"][0]["loc"] == "exporter.country"
    for name in ("today_own", "today_theirs"):
        assert results[marks[name]]["as_of"] == TODAY.isoformat()
    unlogged = {marks["dry_theirs"], marks["scenario_theirs"]}
    assert not any(results[i]["logged"] for i in unlogged)
    assert "+scenario." in results[marks["scenario_theirs"]]["reference_data"]["version"]
    assert results[marks["combined_theirs"]]["policy"]["id"] == "eu-residency+nl-gov"

    # logged together in the service process, and counted there
    logged = [r["decision_id"] for r in results if r["status"] == 200 and r["logged"]]
    assert logged_ids(db_path) == logged and len(logged) == SIZE - 3 - len(unlogged)
    assert decisions_counted(app) == SIZE - 3


def test_a_batch_below_the_minimum_stays_in_process(pooled, reference):
    app, pool = pooled
    flows = varied(63, seed=3)
    response = post(app.test_client(), flows)
    assert without_ids(response) == reference(flows)
    assert pool.helper_flows == 0


def test_a_helper_killed_before_a_batch_is_replaced_and_the_batch_answered_in_process(pooled, reference):
    app, pool = pooled
    flows, _ = batch()
    expected = reference(flows)
    [old] = pool.pids()
    os.kill(old, signal.SIGKILL)
    time.sleep(0.2)

    assert without_ids(within(60, lambda: post(app.test_client(), flows))) == expected
    assert pool.helper_flows == 0  # decided in process: the dead helper took no share

    assert pool.wait_ready(READY_S)  # that batch started a new helper
    [new] = pool.pids()
    assert new != old
    assert without_ids(post(app.test_client(), flows)) == expected
    assert pool.helper_flows == len(shares(SIZE, 1)[1])


def test_a_helper_killed_while_it_holds_its_share_leaves_it_to_the_service_process(
    pooled, reference, db_path
):
    app, pool = pooled
    flows, _ = batch()
    expected = reference(flows)
    [pid] = pool.pids()
    os.kill(pid, signal.SIGSTOP)  # it takes its share but cannot start on it
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    try:
        response = within(60, lambda: post(app.test_client(), flows))
    finally:
        killer.cancel()
        kill(pid)
    assert without_ids(response) == expected
    assert pool.helper_flows == 0
    assert len(logged_ids(db_path)) == SIZE - 5
    assert pool.wait_ready(READY_S) and pool.pids() != [pid]


def test_a_helper_killed_after_some_answers_keeps_them_and_the_rest_is_decided_here(
    pooled, reference, monkeypatch, caplog
):
    app, pool = pooled
    flows, _ = batch()
    expected = reference(flows)
    [pid] = pool.pids()
    read = batch_pool._answered

    def read_then_kill(index: int, item: tuple[Any, ...]) -> Any:
        if index == shares(SIZE, 1)[1].start:  # its first answer arrived: it is killed mid-share
            os.kill(pid, signal.SIGKILL)
        return read(index, item)

    monkeypatch.setattr(batch_pool, "_answered", read_then_kill)
    response = within(60, lambda: post(app.test_client(), flows))
    assert without_ids(response) == expected
    assert 0 < pool.helper_flows < len(shares(SIZE, 1)[1])
    assert "did not decide its share" in caplog.text


def test_a_hung_helper_is_a_503_at_the_deadline_and_nothing_is_logged(make_app, db_path):
    app = make_app(batch_processes=1, batch_parallel_min=64, eval_timeout=1.5)
    pool = app.extensions["doorgifte"].decider.pool
    assert pool is not None and pool.wait_ready(READY_S)
    [pid] = pool.pids()
    os.kill(pid, signal.SIGSTOP)
    flows, _ = batch()
    try:
        started = time.monotonic()
        response = within(30, lambda: post(app.test_client(), flows))
        elapsed = time.monotonic() - started
    finally:
        kill(pid)
    body = assert_problem(response, 503, "evaluation_timeout")
    assert response.headers["Retry-After"] == "1"
    assert re.search(r"\d+ of 300 flows were evaluated", body["detail"])
    assert 1.4 < elapsed < 5, elapsed
    assert logged_ids(db_path) == []
    assert pid not in pool.pids()  # the hung helper was killed, not waited for again
    assert within(60, lambda: post(app.test_client(), flows)).status_code == 200


def test_a_helper_with_another_rule_base_is_never_used(make_app, tmp_path, caplog):
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).parents[2] / "adequacy_data", data)
    with (data / "eea.yaml").open("a", encoding="utf-8") as f:
        f.write("# changed after the service process loaded its engine\n")
    app = make_app(
        batch_processes=1, batch_parallel_min=64, data_path=data
    )  # the engine is the shipped data's
    pool = app.extensions["doorgifte"].decider.pool
    assert pool is not None and not pool.wait_ready(READY_S)
    assert pool.disabled and "other policies or reference data" in caplog.text
    assert post(app.test_client(), varied(100)).status_code == 200
    assert pool.helper_flows == 0 and pool.pids() == []


def test_no_helper_with_batch_processes_0(make_app):
    app = make_app(batch_processes=0)
    assert app.extensions["doorgifte"].decider.pool is None
    assert post(app.test_client(), varied(100)).status_code == 200
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.name == "doorgifte-batch-helper"]


def test_the_settings_from_the_environment():
    assert Config.from_env({"DOORGIFTE_BATCH_PROCESSES": "0"}).batch_processes == 0
    assert Config.from_env({"DOORGIFTE_BATCH_PROCESSES": "3"}).batch_processes == 3
    assert Config.from_env({}).batch_processes == (1 if len(os.sched_getaffinity(0)) > 1 else 0)
    assert Config.from_env({"DOORGIFTE_BATCH_PARALLEL_MIN": "10"}).batch_parallel_min == 10
    assert Config.from_env({}).batch_parallel_min == 64
    for name, value in (("BATCH_PROCESSES", "-1"), ("BATCH_PROCESSES", "one"), ("BATCH_PARALLEL_MIN", "0")):
        with pytest.raises(ConfigError, match=f"DOORGIFTE_{name}"):
            Config.from_env({f"DOORGIFTE_{name}": value})


def test_the_shares_cover_the_batch_in_order():
    for total in (64, 100, 300, 1000):
        for helpers in (1, 2, 3):
            parts = shares(total, helpers)
            assert len(parts) == helpers + 1
            assert [i for part in parts for i in part] == list(range(total))
            assert all(len(p) > 0 for p in parts[1:])
