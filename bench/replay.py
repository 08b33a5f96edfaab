"""(f) Replay: throughput on 1 and 2 worker processes next to deciding the same flows fresh, and
a worker's memory over a long replay.

The log is built the way a real one grows: a few hundred varied flows (every country,
mechanism, policy and date of the golden matrix, sampled, and the benchmark's chain) are
decided and logged, then copied with fresh decision ids in bulk up to the size asked for.

- Replay, 1 job: `replay_worker.work` in this process on a SQLite log (reading batches,
  parsing the logged request and answer, comparing, storing the counters), and after each
  batch of 500, fresh: `engine.evaluate` on 500 of the same requests, prepared as replay
  prepares them (the engine's own cost, the baseline). Interleaved, so that a machine whose
  load changes meanwhile moves both numbers alike.
- Replay, 2 jobs: two spawned worker processes, next to two processes deciding the same
  requests fresh. Rates are taken over the batches' own window (first claim to last
  finish), so process start-up and engine loading, which do not grow with the log, are
  left out; per core is the rate over 2. On a machine with 2 cores that also runs other
  work, the 2-process numbers measure the machine as much as replay: compare them with
  the fresh 2-process baseline, not with the 1-process rate.
- Memory: one worker process (`python -m bench.replay memory DB JOB`) samples its RSS after
  every batch; the growth is from after the first 5,000 decisions to the end.

Target: replay per core >= 80% of fresh; RSS growth under 5 MB.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.flows import chain
from bench.memory import rss_mb

SAMPLE_EVERY = 20  # one golden flow in 20: about 300 varied flows
WARMUP_DECISIONS = 5_000
COPY_CHUNK = 10_000


# ---------------------------------------------------------------- the log


def varied_flows() -> list[dict[str, Any]]:
    from engine import golden

    sampled = itertools.islice(golden.committed_flows(golden.committed()), 0, None, SAMPLE_EVERY)
    return [flow for _, flow, _, _ in sampled] + [chain()]


def build_log(engine: Any, path: Path, count: int) -> None:
    """A SQLite decision log of `count` decisions: the varied flows decided, then copied."""
    from service.decision_log import open_log

    originals = [_entry(engine, flow) for flow in varied_flows()]
    log = open_log(str(path))
    try:
        for chunk in _chunks(_copies(originals, count), COPY_CHUNK):
            log.write(chunk)
    finally:
        log.close()


def _entry(engine: Any, flow: dict[str, Any]) -> Any:
    from service.decision_log import LogEntry, now, open_actions_of

    decision = engine.evaluate(flow)
    return LogEntry(
        decision_id=decision.decision_id,
        decided_at=now(),
        request_id="bench",
        policy_id=decision.policy.id,
        policy_version=decision.policy.version,
        reference_version=decision.reference_data.version,
        decision=decision.decision,
        request=json.dumps(flow),
        response=decision.model_dump_json(),
        open_actions=open_actions_of(decision.actions),
    )


def _copies(originals: list[Any], count: int) -> Iterator[Any]:
    from dataclasses import replace

    for original in itertools.islice(itertools.cycle(originals), count):
        fresh = str(uuid.uuid4())
        response = original.response.replace(original.decision_id, fresh, 1)
        yield replace(original, decision_id=fresh, response=response)


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


# ---------------------------------------------------------------- throughput


def prepared(path: Path, count: int) -> list[dict[str, Any]]:
    """The log's first `count` requests as replay decides them (at their logged dates)."""
    from service.decision_log import open_log
    from service.replay import Params, payload

    log = open_log(str(path))
    try:
        return [
            payload(json.loads(e.request), json.loads(e.response)["as_of"], Params())
            for e in itertools.islice(log.entries(), count)
        ]
    finally:
        log.close()


def in_process(engine: Any, path: Path, count: int) -> dict[str, Any]:
    """Replay with one worker in this process, batch by batch, each batch followed by deciding
    as many of the same requests fresh: the two rates come from interleaved rounds, so a
    machine that gets busier half-way (other people's tests) moves both alike."""
    from service.decision_log import open_log
    from service.replay import Params
    from service.replay_store import ReplayStore
    from service.replay_worker import work

    flows = prepared(path, count)
    for flow in flows[:200]:  # warm-up
        engine.evaluate(flow)
    log = open_log(str(path))
    store = ReplayStore(log)
    job = store.plan(store.create(Params()).job_id)
    size = job.params.batch_size
    clock = {"replay": 0.0, "fresh": 0.0, "fresh_decisions": 0, "mark": time.perf_counter()}

    def fresh_round() -> None:
        now = time.perf_counter()
        clock["replay"] += now - clock["mark"]
        start = int(clock["fresh_decisions"]) % len(flows)
        for flow in itertools.islice(itertools.cycle(flows), start, start + size):
            engine.evaluate(flow)
        clock["fresh_decisions"] += size
        clock["mark"] = time.perf_counter()
        clock["fresh"] += clock["mark"] - now

    work(store, job.job_id, engine, on_batch=fresh_round)
    done = store.job(job.job_id)
    log.close()
    assert done is not None and done.summary is not None, done
    assert done.summary["unchanged"] == done.summary["total"], done.summary  # same engine, same answers
    fresh = clock["fresh_decisions"] / clock["fresh"]
    replay = done.summary["total"] / clock["replay"]
    return {
        "fresh_per_s": round(fresh, 1),
        "replay_1_job": {
            "jobs": 1,
            "decisions": done.summary["total"],
            "seconds": round(clock["replay"], 2),
            "per_s": round(replay, 1),
            "per_s_per_core": round(replay, 1),
        },
        "ratio_1_job": round(replay / fresh, 3),
    }


def processes(path: Path, jobs: int) -> dict[str, Any]:
    """One replay job over the whole log with `jobs` worker processes."""
    from service.decision_log import open_log
    from service.replay import Params
    from service.replay_store import ReplayStore
    from service.replay_worker import start_processes

    log = open_log(str(path))
    store = ReplayStore(log)
    job = store.plan(store.create(Params()).job_id)
    started = time.perf_counter()
    for process, _ in start_processes(str(path), job.job_id, jobs):
        process.join()
    wall = time.perf_counter() - started
    done = store.job(job.job_id)
    window = store.window(job)
    log.close()
    assert done is not None and done.state == "done" and done.summary, done
    assert done.summary["unchanged"] == done.summary["total"], done.summary
    seconds = _seconds(window["first_claimed"], window["last_done"])
    rate = done.summary["total"] / seconds
    return {
        "jobs": jobs,
        "decisions": done.summary["total"],
        "seconds": round(seconds, 2),
        "wall_seconds": round(wall, 2),
        "per_s": round(rate, 1),
        "per_s_per_core": round(rate / jobs, 1),
    }


def fresh_processes(path: Path, jobs: int, count: int) -> dict[str, Any]:
    """The baseline for `jobs` workers: as many processes deciding the log's requests fresh,
    each its share; the rate over the slowest one."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    share = count // jobs
    started = [
        context.Process(target=_fresh_worker, args=(str(path), i * share, share, results))
        for i in range(jobs)
    ]
    for process in started:
        process.start()
    timings = [results.get(timeout=600) for _ in started]
    for process in started:
        process.join()
    rate = sum(n for n, _ in timings) / max(seconds for _, seconds in timings)
    return {"jobs": jobs, "per_s": round(rate, 1), "per_s_per_core": round(rate / jobs, 1)}


def _fresh_worker(path: str, start: int, count: int, results: Any) -> None:
    from service.config import Config
    from service.replay import Params
    from service.replay_worker import build_engine

    engine = build_engine(Params(), Config())
    flows = prepared(Path(path), start + count)[start:]
    for flow in flows[:200]:
        engine.evaluate(flow)
    began = time.perf_counter()
    for flow in flows:
        engine.evaluate(flow)
    results.put((len(flows), time.perf_counter() - began))


def _seconds(first: str | None, last: str | None) -> float:
    from service.decision_log import TIME_FORMAT

    assert first and last
    start, end = (dt.datetime.strptime(t, TIME_FORMAT) for t in (first, last))
    return max((end - start).total_seconds(), 1e-6)


# ---------------------------------------------------------------- memory


def memory_run(db: str, job_id: str) -> dict[str, Any]:
    """In a worker process of its own: RSS after every batch of one job."""
    from service.config import Config
    from service.decision_log import open_log
    from service.replay_store import ReplayStore
    from service.replay_worker import build_engine, work

    at_start = rss_mb()
    log = open_log(db)
    store = ReplayStore(log)
    job = store.job(job_id)
    assert job is not None
    engine = build_engine(job.params, Config())
    samples: list[list[float]] = []

    def sample() -> None:
        done = len(samples) + 1
        samples.append([done * job.params.batch_size, round(rss_mb(), 2)])

    started = time.perf_counter()
    work(store, job_id, engine, on_batch=sample)
    seconds = time.perf_counter() - started
    finished = store.job(job_id)
    log.close()
    assert finished is not None and finished.summary, finished
    warm = next((s for s in samples if s[0] >= WARMUP_DECISIONS), samples[0])
    return {
        "decisions": finished.summary["total"],
        "rss_at_start_mb": round(at_start, 2),
        "rss_after_warmup_mb": warm[1],
        "rss_end_mb": samples[-1][1],
        "rss_max_mb": max(s[1] for s in samples),
        "growth_mb": round(samples[-1][1] - warm[1], 2),
        "samples": samples[:: max(len(samples) // 20, 1)],
        "seconds": round(seconds, 1),
    }


def memory(engine: Any, workdir: Path, count: int) -> dict[str, Any]:
    from service.decision_log import open_log
    from service.replay import Params
    from service.replay_store import ReplayStore

    path = workdir / "replay-memory.sqlite3"
    started = time.perf_counter()
    build_log(engine, path, count)
    built = time.perf_counter() - started
    log = open_log(str(path))
    job = ReplayStore(log).create(Params())
    log.close()
    command = [sys.executable, "-m", "bench.replay", "memory", str(path), job.job_id]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    result["log_build_seconds"] = round(built, 1)
    result["log_mb"] = round(path.stat().st_size / 2**20, 1)
    path.unlink()
    return result


# ---------------------------------------------------------------- the part


def run(engine: Any, settings: Any, workdir: Path) -> dict[str, Any]:
    path = workdir / "replay.sqlite3"
    build_log(engine, path, settings.replay_decisions)
    out: dict[str, Any] = {"decisions": settings.replay_decisions, "varied_flows": len(varied_flows())}
    out.update(in_process(engine, path, settings.replay_decisions))
    out["fresh_2_processes"] = fresh_processes(path, 2, settings.replay_decisions)
    out["replay_2_jobs"] = processes(path, 2)
    two, fresh_two = out["replay_2_jobs"]["per_s"], out["fresh_2_processes"]["per_s"]
    out["ratio_2_jobs"] = round(two / fresh_two, 3)
    out["ratio_2_jobs_per_core"] = round(out["replay_2_jobs"]["per_s_per_core"] / out["fresh_per_s"], 3)
    out["memory"] = memory(engine, workdir, settings.replay_memory_decisions)
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["memory"]:
    print(json.dumps(memory_run(sys.argv[2], sys.argv[3])))
