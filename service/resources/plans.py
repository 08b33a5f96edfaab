"""`POST /v1/plans/check`: a Terraform plan judged resource by resource (SPEC section 14)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError

from engine.errors import Problem, RequestInvalid
from engine.request_errors import pydantic_problems
from service import body, params, plans
from service.access import requires
from service.errors import ProblemError
from service.openapi import describe
from service.sarif import sarif
from service.schemas import PlanCheckRequest, PlanReport
from service.state import current
from service.terraform import PlanError

blueprint = Blueprint("plans", __name__)


@blueprint.post("/v1/plans/check")
@requires("decide")
@describe(
    "Judge a Terraform plan",
    {200: PlanReport},
    body=PlanCheckRequest,
    errors=("malformed_json", "body_too_large", "unsupported_media_type", "invalid_request"),
)
def check() -> Response:
    """Every planned resource with a place judged as a location of its cloud provider acting as
    the exporter's processor (a signed agreement, no transfer tool yet); a place the plan does
    not state is the condition `plan.region_unknown`; resources that hold no data are skipped by
    a listed rule or a `personal-data = "false"` tag. `format: "sarif"` answers SARIF 2.1.0.
    Nothing is logged."""
    params.check_args(())
    ask = _ask(body.read_json(request, current().config.max_body))
    try:
        report = plans.check(
            current().engine, ask.plan, ask.exporter, ask.policy, ask.data, ask.as_of, ask.lang
        )
    except PlanError as exc:
        problem = Problem("plan", str(exc), "send the output of terraform show -json PLANFILE")
        raise ProblemError("invalid_request", str(exc), [problem]) from None
    except RequestInvalid as exc:
        raise ProblemError.from_invalid(exc) from None
    return jsonify(sarif(report, "plan.json") if ask.format == "sarif" else report)


def _ask(payload: Any) -> PlanCheckRequest:
    try:
        return PlanCheckRequest.model_validate(payload)
    except ValidationError as exc:
        raise ProblemError.from_invalid(RequestInvalid(pydantic_problems(exc))) from None
