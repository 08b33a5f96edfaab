"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from engine.errors import Problem
from service.access import OPEN, requires
from service.decision_log import LogUnavailable
from service.errors import ProblemError
from service.metrics import CONTENT_TYPE
from service.openapi import describe
from service.schemas import Health, Ready
from service.state import current

blueprint = Blueprint("health", __name__)
log = logging.getLogger("doorgifte.health")


@blueprint.get("/healthz")
@requires(OPEN)
@describe("Liveness", {200: Health})
def healthz() -> Response:
    """200 while the process answers at all; says nothing about the decision log."""
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
@requires(OPEN)
@describe("Readiness", {200: Ready}, errors=("not_ready",))
def readyz() -> Response:
    """200 only when the rules and reference data are loaded and the decision log can take a
    write transaction right now; otherwise 503, because no decision could be answered."""
    service = current()
    try:
        service.log.check()
    except LogUnavailable as exc:
        log.error("not ready: decision log unavailable", extra={"fields": {"error": str(exc)}})
        msg = f"the decision log ({service.log.backend}) cannot be written"
        problem = Problem("decision_log", msg, "the service log names the cause")
        raise ProblemError("not_ready", msg, [problem], {"Retry-After": "5"}) from None
    engine = service.engine
    return jsonify(
        {
            "status": "ready",
            "policies": sorted(engine.policies.profiles),
            "reference_data": {"version": engine.reference.version},
            "decision_log": service.log.backend,
        }
    )


@blueprint.get("/metrics")
@requires(OPEN)
@describe("Prometheus metrics", {200: "text/plain"})
def metrics() -> Response:
    """Prometheus text format: request latency by route, decisions by outcome, findings by
    code, decision-log write latency and failures; summed over every gunicorn worker."""
    return Response(current().metrics.exposition(), content_type=CONTENT_TYPE)
