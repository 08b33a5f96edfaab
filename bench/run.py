"""`make bench`: every benchmark in one run on one machine, side by side, with targets.

Parts: (a) in-process latency of doorgifte's three benchmark flows and (b) the peer engines
on the one-hop third-country flow, timed together in rotated rounds; (c) HTTP throughput
with 1 and 2 gunicorn workers next to a trivial endpoint; (d) a batch of 1,000 flows in
process and over HTTP; (e) RSS growth over many decisions; (f) replay of a logged decision
log on 1 and 2 worker processes next to deciding the same flows fresh, and a replay worker's
RSS over 200,000 logged decisions; (g) log queries and the transfer register on a generated
log of a million decisions, SQLite and PostgreSQL. Writes bench/results.json and
prints a short table with ratios and PASS/FAIL per target.

Modes: full (default), `--quick` or BENCH_QUICK=1 (fewer rounds, 20,000 memory decisions,
a log of 100,000 to query), `--smoke` (tiny sizes, a few seconds per part, a log of 5,000,
results to a temporary file: `bench.smoke`). BENCH_MEMORY_DECISIONS and BENCH_LOGQUERY_ROWS
override the memory count and the queried log's size of any mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import actions, batch, http, inprocess, logquery, memory, peers, replay, report

RESULTS = Path(__file__).with_name("results.json")


@dataclasses.dataclass(frozen=True)
class Settings:
    rounds: int = 7
    calls: int = 2_000
    warmup: int = 500
    http_rounds: int = 3
    http_seconds: float = 2.0
    http_max_requests: int = 4_000
    batch_size: int = 1_000
    batch_repeats: int = 5
    memory_decisions: int = memory.DEFAULT_DECISIONS
    replay_decisions: int = 20_000
    replay_memory_decisions: int = 200_000
    logquery_rows: int = logquery.DEFAULT_ROWS
    logquery_calls: int = 50


MODES = {
    "full": Settings(),
    "quick": Settings(
        rounds=3,
        calls=500,
        warmup=200,
        http_rounds=1,
        http_seconds=1.0,
        batch_repeats=2,
        memory_decisions=20_000,
        replay_decisions=5_000,
        replay_memory_decisions=20_000,
        logquery_rows=100_000,
        logquery_calls=30,
    ),
    "smoke": Settings(
        rounds=1,
        calls=30,
        warmup=10,
        http_rounds=1,
        http_seconds=0.2,
        http_max_requests=50,
        batch_size=30,
        batch_repeats=1,
        memory_decisions=300,
        replay_decisions=600,
        replay_memory_decisions=1_500,
        logquery_rows=5_000,
        logquery_calls=10,
    ),
}


def settings_for(mode: str) -> Settings:
    base = MODES[mode]
    return dataclasses.replace(
        base,
        memory_decisions=memory.configured_count(base.memory_decisions),
        logquery_rows=logquery.configured_rows(base.logquery_rows),
    )


# ---------------------------------------------------------------- the parts


def part_latency(engine: Any, settings: Settings) -> dict[str, Any]:
    """(a) and (b) in one timing loop, after asserting that the peers answer like doorgifte."""
    loaded = peers.load(engine)
    checked = peers.verify(engine, loaded)
    candidates = inprocess.doorgifte_candidates(engine) | peers.candidates(loaded)
    stats = inprocess.measure(candidates, settings.rounds, settings.calls, settings.warmup)
    latency = {name.split("/", 1)[1]: s for name, s in stats.items() if name.startswith("doorgifte/")}
    latency["varied"] = inprocess.varied_latency(engine, settings.calls, settings.calls)
    peer_info = {
        p.name: {"version": p.version, "status": "ok" if p.decide else "missing", "error": p.error}
        | ({"stats": stats[f"peer/{p.name}"]} if p.decide else {})
        for p in loaded
    }
    return {"latency": latency, "peers": {"variants_agreeing": checked, "engines": peer_info}}


def part_memory(settings: Settings) -> dict[str, Any]:
    """(e) in a process of its own, so the other parts do not move its RSS."""
    command = [sys.executable, "-m", "bench.memory", str(settings.memory_decisions)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def guarded(name: str, part: Callable[[], Any]) -> Any:
    """Run one part; a failure becomes its result (with the reason), the others still run."""
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        result = part()
    except AssertionError:
        raise  # a peer that disagrees, or a wrong answer: the numbers would mean nothing
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return result


# ---------------------------------------------------------------- about the run


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
    }


def versions() -> dict[str, str | None]:
    names = ["durable-rules", "pydantic", "flask", "gunicorn", "cedarpy", "regopy"]
    return {name: peers.version_of(name) for name in names}


def git_revision() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """This process and its finished children (the servers, the memory run)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# ---------------------------------------------------------------- main


def run(mode: str, out: Path) -> dict[str, Any]:
    from engine.api import Engine

    settings = settings_for(mode)
    busy0, own0, started = machine_busy_s(), own_cpu_s(), time.time()
    load0 = os.getloadavg()
    engine = Engine.load()
    results: dict[str, Any] = {"mode": mode, "settings": dataclasses.asdict(settings)}
    results["flows"] = inprocess.describe(engine)
    with tempfile.TemporaryDirectory(prefix="doorgifte-bench-") as tmp:
        workdir = Path(tmp)
        both = guarded("in-process latency and peers", lambda: part_latency(engine, settings))
        results["latency"], results["peers"] = both.get("latency", both), both.get("peers", both)
        results["http"] = guarded("HTTP", lambda: http.run(settings, workdir))
        results["batch"] = guarded("batch", lambda: batch.run(engine, settings, workdir))
        results["action_plan"] = guarded(
            "action plan", lambda: actions.run(engine, max(3, settings.rounds), settings.calls // 4 or 1)
        )
        results["log_queries"] = guarded(
            "log queries",
            lambda: logquery.run(engine, settings.logquery_rows, workdir, settings.logquery_calls),
        )
        results["replay"] = guarded("replay", lambda: replay.run(engine, settings, workdir))
    results["memory"] = guarded("memory", lambda: part_memory(settings))
    results["meta"] = about_run(started, busy0, own0, load0)
    results["targets"] = report.targets(results) + logquery.targets(results)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def about_run(started: float, busy0: float, own0: float, load0: tuple[float, float, float]) -> dict[str, Any]:
    elapsed = time.time() - started
    return {
        "started": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "git": git_revision(),
        "machine": machine(),
        "versions": versions(),
        "load_average_start_end": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
        # CPU the rest of the machine used meanwhile (other people's tests make numbers noisy)
        "other_processes_cpu_share": round(
            max(0.0, (machine_busy_s() - busy0) - (own_cpu_s() - own0)) / (elapsed * (os.cpu_count() or 1)), 3
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 20,000 memory decisions")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; checks that every part runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    mode = "smoke" if args.smoke else "quick" if quick else "full"
    results = run(mode, args.out)
    print(report.table(results))
    print("\n" + "\n".join(logquery.lines(results)))
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
