"""(e) Resident memory before and after many in-process decisions of the one-hop third-country flow.

A leak per decision of even a few hundred bytes (a state not deleted in durable-rules, a
cache keyed by something unique) shows as tens of MB over a million decisions. Run as its
own process (`python -m bench.memory N`, JSON on stdout, progress on stderr) so the other
parts of the benchmark do not move its RSS. The baseline is taken after a warm-up, so that
caches filled by the first calls are not counted as growth; RSS is sampled along the way
to tell a steady climb from a one-off step.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.flows import TODAY, one_hop_third_country

DEFAULT_DECISIONS = 1_000_000
WARMUP = 5_000
SAMPLES = 20


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def configured_count(default: int = DEFAULT_DECISIONS) -> int:
    return int(os.environ.get("BENCH_MEMORY_DECISIONS", default))


def run(count: int) -> dict[str, Any]:
    from engine.api import Engine

    at_start = rss_mb()
    engine = Engine.load()
    payload = one_hop_third_country()

    def decide() -> None:
        engine.evaluate(payload, today=TODAY).model_dump(mode="json")

    for _ in range(WARMUP):
        decide()
    gc.collect()
    before = rss_mb()
    step = max(count // SAMPLES, 1)
    samples = []
    started = time.perf_counter()
    for i in range(1, count + 1):
        decide()
        if i % step == 0:
            samples.append([i, round(rss_mb(), 2)])
            progress(i, count, started, samples[-1][1] - before)
    seconds = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    return {
        "decisions": count,
        "warmup": WARMUP,
        "rss_at_start_mb": round(at_start, 2),
        "rss_before_mb": round(before, 2),
        "rss_after_mb": round(after, 2),
        "growth_mb": round(after - before, 2),
        "samples": samples,
        "seconds": round(seconds, 1),
        "mean_us_per_decision": round(seconds / max(count, 1) * 1e6, 1),
    }


def progress(done: int, count: int, started: float, growth: float) -> None:
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (count - done)
    print(
        f"  memory: {done:>9,}/{count:,} decisions, RSS {growth:+.1f} MB, "
        f"{elapsed:.0f} s elapsed, ~{eta:.0f} s left",
        file=sys.stderr,
        flush=True,
    )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else configured_count()
    print(json.dumps(run(n)))
