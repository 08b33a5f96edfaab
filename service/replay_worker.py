"""Replay workers: claim a batch, decide its rows again, store the outcome; until none is left.

A worker is one process with its own engine: durable-rules must never be used from two
threads of a process at once (notes/durable-rules.md), and only processes add
throughput. So `doorgifte replay --jobs N` starts N processes with the `spawn` start
method (nothing of the parent's engine or connections is inherited), the HTTP service
starts detached `doorgifte replay-worker JOB` processes, and on PostgreSQL a worker on
another machine can join the same job. Each builds its engine from the job's stored
parameters, so all of them decide alike.

Fail closed: an exception other than a request the engine refuses (which counts under
`errors`) fails the job with the error; it is never counted as unchanged. A worker
that is killed leaves its batch claimed; the lease, `--resume` or the parent that saw
it die gives the batch to another worker, and its late result, if any, is refused.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from engine.errors import LoadError, Problem, RequestInvalid
from service.config import Config
from service.decision_log import LogUnavailable, open_log
from service.replay import Logged, Params, Tally, redecide
from service.replay_store import ReplayStore, claim_token


class ScenarioInvalid(Exception):
    """The job's scenario names what the reference data does not know."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("the scenario is invalid: " + "; ".join(f"{p.loc}: {p.msg}" for p in problems))


def build_engine(params: Params, config: Config) -> Any:
    """The engine a job asks for: the shipped policies plus its directories, its reference data."""
    from engine.api import Engine

    dirs = [Path(d) for d in params.policy_dirs]
    return Engine.load(dirs or None, Path(params.data_dir) if params.data_dir else None, config.limits)


def check_scenario(engine: Any, params: Params) -> None:
    """Unknown ids in the job's scenario raise ScenarioInvalid, so a bad scenario stops the job
    before it turns every decision into an error."""
    if params.scenario is None:
        return
    try:
        engine.check_scenario(params.scenario)
    except RequestInvalid as exc:
        raise ScenarioInvalid(list(exc.problems)) from None


def decide_batch(engine: Any, rows: list[Logged], params: Params) -> tuple[Tally, list[tuple[int, str, str]]]:
    """Every row decided again: the batch's counters and its changes as (seq, kind, JSON)."""
    tally, changes = Tally(), []
    for row in rows:
        result = redecide(engine, row, params)
        tally.count(result.kind)
        if result.change is not None:
            changes.append((row.seq, result.kind, json.dumps(result.change, ensure_ascii=False)))
    return tally, changes


def work(
    store: ReplayStore,
    job_id: str,
    engine: Any,
    claim: str | None = None,
    on_batch: Callable[[], object] | None = None,
) -> None:
    """Plan the job if nobody has, then take batches until none is left for this worker. Any
    error but a refused request fails the job (and is raised again)."""
    claim = claim or claim_token()
    try:
        job = store.plan(job_id)
        check_scenario(engine, job.params)
        store.start(job_id)
        while (batch := store.claim(job_id, claim)) is not None:
            tally, changes = decide_batch(engine, store.rows(batch, job.params), job.params)
            store.finish(batch, tally, changes)
            if on_batch is not None:
                on_batch()
    except Exception as exc:
        with contextlib.suppress(LogUnavailable):  # the log may be what failed
            store.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise


def run_worker(store: ReplayStore, job_id: str, config: Config, claim: str | None = None) -> None:
    """A worker that builds its own engine from the job's parameters (policies or data that no
    longer load fail the job with their problems)."""
    job = store.job(job_id)
    if job is None:
        raise LookupError(f"no replay job {job_id!r}")
    try:
        engine = build_engine(job.params, config)
    except LoadError as exc:
        store.fail(job_id, f"the policies or reference data cannot be loaded: {exc}")
        raise
    work(store, job_id, engine, claim)


# ---------------------------------------------------------------- processes


def process_main(db: str, job_id: str, claim: str) -> None:
    """The target of a worker process started by `doorgifte replay --jobs N`."""
    log = open_log(db)
    try:
        run_worker(ReplayStore(log), job_id, Config.from_env(), claim)
    finally:
        log.close()


def start_processes(db: str, job_id: str, count: int) -> list[tuple[BaseProcess, str]]:
    """`count` worker processes (spawn: each imports afresh and builds its own engine), each
    with the claim token its parent can release should it die."""
    context = multiprocessing.get_context("spawn")
    started: list[tuple[BaseProcess, str]] = []
    for i in range(count):
        claim = f"{claim_token()}.{i}"
        process = context.Process(target=process_main, args=(db, job_id, claim), name=f"replay-worker-{i}")
        process.start()
        started.append((process, claim))
    return started


def start_detached(job_id: str, count: int, env: Mapping[str, str]) -> list[int]:
    """`count` `doorgifte replay-worker JOB` processes in their own session, for the HTTP
    service: they outlive a request and a restart of the service, and never share its
    engine. A thread per process only reaps it when it ends. Returns their pids."""
    argv = [sys.executable, "-m", "service.cli", "replay-worker", job_id]
    pids = []
    for _ in range(count):
        process = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=os.getcwd(),
        )
        threading.Thread(target=process.wait, name=f"reap-replay-{process.pid}", daemon=True).start()
        pids.append(process.pid)
    return pids
