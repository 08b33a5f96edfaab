"""What the action plan (SPEC section 10) costs: the 3-hop chain with and without it, same run.

The plan is built by `engine.actions.plan` inside every evaluation. To see its share, the
same engine evaluates the chain (and a vendor chain of the docs, whose conditions do group)
alternately with the plan on and with `plan` replaced by a function that returns nothing,
round after round, so that machine drift falls on both. Target (issue 10): at most 10 %
on top of the chain without it.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.flows import TODAY, chain

VENDOR_CHAIN = Path(__file__).resolve().parent.parent / "docs" / "examples" / "vendor-chain.json"
TARGET = 1.10


def _p50(engine: Any, payload: dict[str, Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        engine.evaluate(payload, today=TODAY).model_dump(mode="json")
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1000


def run(engine: Any, rounds: int, calls: int) -> dict[str, Any]:
    from engine import actions

    flows = {"chain_3hop_6loc": chain(), "vendor_chain": json.loads(VENDOR_CHAIN.read_text())}
    original = actions.plan
    out: dict[str, Any] = {}
    for name, payload in flows.items():
        with_plan, without = [], []
        for _ in range(rounds):
            with_plan.append(_p50(engine, payload, calls))
            actions.plan = lambda *args, **kwargs: []  # type: ignore[assignment]
            try:
                without.append(_p50(engine, payload, calls))
            finally:
                actions.plan = original
        a, b = statistics.median(with_plan), statistics.median(without)
        out[name] = {
            "p50_us_with_plan": round(a, 1),
            "p50_us_without_plan": round(b, 1),
            "ratio": round(a / b, 3),
            "target_ratio": TARGET,
            "met": a / b <= TARGET,
            "actions": len(engine.evaluate(payload, today=TODAY).actions),
        }
    return out
