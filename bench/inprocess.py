"""(a) In-process decision latency: the whole pipeline, `engine.evaluate(...)` then `model_dump`.

Method of shared/notes/performance.md: every candidate (doorgifte's flows and the peer
engines of `bench.peers`) gets a warm-up, then several rounds in the same process with the
order rotated each round, so that drift of the machine (frequency, other load) spreads over
all of them instead of favouring whoever ran first. Each call is timed on its own with
`perf_counter_ns` (about 0.1 us of overhead), which gives percentiles and not only a mean.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.flows import BENCHMARK_FLOWS, TODAY

Call = Callable[[], object]


def doorgifte_candidates(engine: Any) -> dict[str, Call]:
    """One zero-argument call per benchmark flow; the payload dicts are built once."""

    def candidate(payload: dict[str, Any]) -> Call:
        return lambda: engine.evaluate(payload, today=TODAY).model_dump(mode="json")

    return {f"doorgifte/{name}": candidate(make()) for name, make in BENCHMARK_FLOWS.items()}


def describe(engine: Any) -> dict[str, dict[str, Any]]:
    """What each benchmark flow decides, so the numbers can be read with the work they include."""
    out = {}
    for name, make in BENCHMARK_FLOWS.items():
        decision = engine.evaluate(make(), today=TODAY)
        out[name] = {
            "decision": decision.decision,
            "hops": len(decision.hops),
            "locations": sum(len(h.locations) for h in decision.hops),
            "conditions": [c.code for c in decision.conditions],
            "response_bytes": len(decision.model_dump_json()),
        }
    return out


def timed_calls(call: Call, count: int) -> list[int]:
    """Nanoseconds of each of `count` calls."""
    clock = time.perf_counter_ns
    out = [0] * count
    for i in range(count):
        start = clock()
        call()
        out[i] = clock() - start
    return out


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary_us(samples_ns: list[int], round_means_ns: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    us = 1000.0
    return {
        "calls": len(ordered),
        "p50_us": percentile(ordered, 50) / us,
        "p95_us": percentile(ordered, 95) / us,
        "p99_us": percentile(ordered, 99) / us,
        "mean_us": statistics.fmean(ordered) / us,
        "median_round_mean_us": statistics.median(round_means_ns) / us,
        "min_us": ordered[0] / us,
    }


def measure(candidates: dict[str, Call], rounds: int, calls: int, warmup: int) -> dict[str, dict[str, float]]:
    """Warm every candidate up, then `rounds` rounds of `calls` timed calls each, order rotated."""
    for call in candidates.values():
        for _ in range(warmup):
            call()
    names = list(candidates)
    samples: dict[str, list[int]] = {name: [] for name in names}
    means: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times = timed_calls(candidates[name], calls)
            samples[name].extend(times)
            means[name].append(statistics.fmean(times))
    return {name: summary_us(samples[name], means[name]) for name in names}


# ---------------------------------------------------------------- flows that differ


def varied_latency(engine: Any, warm: int, count: int) -> dict[str, Any]:
    """p50 per chain length over `count` seeded flows that all differ from the `warm` flows
    decided first (same population, another seed): a server's steady state, where the
    engine's memo tables (engine/firing.py, engine/assemble.py) hold what earlier traffic
    taught them, but no flow is answered from a repeat of itself. Each flow is timed once."""
    from bench.flows import varied

    for flow in varied(warm, seed=1):
        engine.evaluate(flow, today=TODAY).model_dump(mode="json")
    by_hops: dict[str, list[int]] = {}
    clock = time.perf_counter_ns
    for flow in varied(count, seed=2):
        start = clock()
        decision = engine.evaluate(flow, today=TODAY)
        decision.model_dump(mode="json")
        took = clock() - start
        key = f"{min(len(decision.hops), 3)}_hop"
        by_hops.setdefault(key, []).append(took)
        if len(decision.hops) == 1 and decision.hops[0].locations[0].transfer:
            by_hops.setdefault("1_hop_third_country", []).append(took)
    every = [t for key, times in by_hops.items() if key != "1_hop_third_country" for t in times]
    out = {key: summary_us(times, [statistics.fmean(times)]) for key, times in sorted(by_hops.items())}
    return {"warm_flows": warm, "all": summary_us(every, [statistics.fmean(every)]), **out}
