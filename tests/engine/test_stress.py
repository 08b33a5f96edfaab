"""The engine under threads: many concurrent evaluations give exactly the single-threaded answers.

One Engine (one durable-rules host) is shared by every thread, as the service shares one per
worker process. Each thread walks the mixed flows in its own order, so that different flows
are evaluated side by side.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.conftest import TODAY
from tests.mixed_flows import DATES, PROFILES, comparable, expected_answer, mixed_flows

THREADS = 8
PER_THREAD = 600
TIME_LIMIT = 240.0


def _depth(node: dict[str, Any]) -> int:
    return 1 + max((_depth(child) for child in node.get("sub_processors", [])), default=0)


@pytest.mark.slow
def test_eight_threads_give_the_single_thread_answers(engine):
    """8 threads x 1,000 mixed evaluations: every answer equals the single-threaded one, no error."""
    flows = mixed_flows(engine)
    expected = [expected_answer(engine, flow) for flow in flows]
    # the mix covers every outcome, profile and date, and chains up to depth 3
    assert {e["decision"] for e in expected} == {"allow", "conditions", "deny"}
    assert {f["policy"] for f in flows} == set(PROFILES)
    assert {f["as_of"] for f in flows} == set(DATES)
    assert max(_depth(f["recipient"]) for f in flows) == 3

    errors: list[BaseException] = []
    mismatches: list[tuple[int, int]] = []
    done = [0] * THREADS
    start = threading.Barrier(THREADS, timeout=30)
    deadline = time.monotonic() + TIME_LIMIT

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                if time.monotonic() > deadline:
                    return
                k = (i * 7 + t * 23) % len(flows)  # each thread in its own order
                answer = comparable(engine.evaluate(flows[k], TODAY).model_dump(mode="json"))
                if answer != expected[k]:
                    mismatches.append((t, k))
                done[t] += 1
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0) + 5)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert mismatches == []
    assert sum(done) == THREADS * PER_THREAD == 4_800
