"""Prometheus metrics: request latency, decisions, findings, decision-log writes.

Each app gets its own registry, so several apps in one process (tests) do not
collide. Under several gunicorn workers each worker is a process with its own
counters; `doorgifte serve --workers N` sets `PROMETHEUS_MULTIPROC_DIR` before
anything imports prometheus_client, the client then keeps values in files there,
and `GET /metrics` sums every worker's files (prometheus_client multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine.decision import Decision
from service.config import MULTIPROC_ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WRITE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0)
GROUP_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32, 64)


def multiprocess_mode() -> bool:
    """True when prometheus_client was imported with a multiprocess directory set."""
    return values.ValueClass is not values.MutexValue


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = multiprocess_mode()
        if self.multiprocess and not os.environ.get(MULTIPROC_ENV):
            raise RuntimeError(f"prometheus_client is in multiprocess mode but {MULTIPROC_ENV} is unset")
        reg = self.registry
        self.requests = Histogram(
            "doorgifte_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ["endpoint", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=reg,
        )
        self.decisions = Counter(
            "doorgifte_decisions",
            "Decisions answered (and logged), by outcome and policy.",
            ["decision", "policy"],
            registry=reg,
        )
        self.findings = Counter(
            "doorgifte_findings",
            "Findings in answered decisions, by code and effect.",
            ["code", "effect"],
            registry=reg,
        )
        self.log_writes = Histogram(
            "doorgifte_decision_log_write_seconds",
            "Time to write one request's decisions to the decision log (one transaction).",
            ["backend"],
            buckets=WRITE_BUCKETS,
            registry=reg,
        )
        self.log_groups = Histogram(
            "doorgifte_decision_log_commit_requests",
            "Requests whose decisions one decision-log commit wrote (group commit): its count is"
            " the number of commits (fsyncs), its sum the requests they released.",
            ["backend"],
            buckets=GROUP_BUCKETS,
            registry=reg,
        )
        self.log_failures = Counter(
            "doorgifte_decision_log_failures",
            "Requests answered 503 because the decision log could not be written.",
            ["backend"],
            registry=reg,
        )

    def commit_hook(self, backend: str) -> Callable[[int, int, float], None]:
        """The decision log's `on_commit`: counts each group commit and its requests."""
        observe = self.log_groups.labels(backend).observe

        def committed(requests: int, entries: int, seconds: float) -> None:
            observe(requests)

        return committed

    def answered(self, decision: Decision) -> None:
        self.decisions.labels(decision.decision, decision.policy.id).inc()
        for hop in decision.hops:
            for finding in hop.findings:
                self.findings.labels(finding.code, finding.effect).inc()
            for location in hop.locations:
                for finding in location.findings:
                    self.findings.labels(finding.code, finding.effect).inc()

    def exposition(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
