"""`/v1/decisions`: decide one flow or a batch, read a logged decision back, and list the log."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from engine.decision import Decision
from engine.errors import Problem
from engine.flow import FlowRequest
from service import body, log_params, params
from service.access import principal_name, requires
from service.decision_log import LogQuery, LogUnavailable
from service.errors import ProblemError, answer_language, in_language, invalid_field
from service.openapi import describe
from service.schemas import BatchRequest, BatchResponse, LoggedDecision, LogPage
from service.state import current

blueprint = Blueprint("decisions", __name__)


class DecisionIdConverter(BaseConverter):
    """Any path segment but `batch`: `GET /v1/decisions/batch` is a wrong method (405, `Allow: POST`),
    as OpenAPI matches the concrete path first, not a lookup of a decision called "batch"."""

    regex = r"(?!batch(?:/|$))[^/]+"


@blueprint.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    """Runs before the rules below are added, which compile with the converter."""
    state.app.url_map.converters["decision_id"] = DecisionIdConverter


POST_ERRORS = (
    "malformed_json",
    "body_too_large",
    "unsupported_media_type",
    "invalid_request",
    "decision_log_unavailable",
    "evaluation_timeout",
)


@blueprint.post("/v1/decisions")
@requires("decide")
@describe("Decide one flow", {200: Decision}, body=FlowRequest, errors=(*POST_ERRORS, "chain_too_large"))
def decide() -> Response:
    """Decide whether the flow may proceed: allow, conditions or deny, with every finding and
    its legal basis. The decision is written to the decision log before it is answered; if it
    cannot be written, the answer is 503 and no decision is given."""
    service = current()
    params.check_args(())
    payload = body.read_json(request, service.config.max_body)
    if isinstance(payload, dict) and payload.get("lang") in ("en", "nl"):
        g.lang = payload["lang"]
    decision, text = service.decider.decide(payload, g.request_id, token_name=principal_name())
    g.decision_ids = [decision.decision_id]
    response = Response(text, mimetype="application/json")
    response.headers["Content-Location"] = f"/v1/decisions/{decision.decision_id}"
    return response


@blueprint.post("/v1/decisions/batch")
@requires("decide")
@describe("Decide many flows", {200: BatchResponse}, body=BatchRequest, errors=POST_ERRORS)
def decide_batch() -> Response:
    """Decide up to DOORGIFTE_MAX_BATCH flows (default 1,000), each on its own: a flow that
    breaks the contract gets its own problem and does not fail the others. Every decided flow
    is logged, all in one transaction, before the answer; `summary` counts the outcomes."""
    service = current()
    params.check_args(())
    payload = body.read_json(request, service.config.max_body)
    flows = _flows(payload, service.config.max_batch)
    if payload.get("scenario") is not None:
        service.decider.check_scenario(payload["scenario"])
    answers = service.decider.decide_batch(flows, g.request_id, principal_name())
    for answer in answers:
        if answer.error is not None:
            answer.error = in_language(answer.error, answer_language(flows[answer.index]))
    g.decision_ids = [a.decision.decision_id for a in answers if a.decision is not None]
    counts = Counter(a.decision.decision if a.decision is not None else "error" for a in answers)
    summary = {key: counts.get(key, 0) for key in ("allow", "conditions", "deny", "error")}
    results = ",".join(a.as_result_json() for a in answers)
    text = f'{{"results":[{results}],"summary":{json.dumps(summary)}}}'
    return Response(text, mimetype="application/json")


LIST_QUERY = (
    "vendor",
    "reference",
    "label",
    "policy_filter",
    "decision",
    "recipient",
    "since",
    "until",
    "limit",
    "cursor",
)


@blueprint.get("/v1/decisions")
@requires("read")
@describe(
    "Logged decisions",
    {200: LogPage},
    query=LIST_QUERY,
    errors=("invalid_request", "decision_log_unavailable"),
)
def index() -> Response:
    """Logged decisions, newest first (by `decided_at`), as summaries, filtered by every
    parameter given. Pages are keyset pages: pass `next_cursor` as `cursor` until it is null;
    decisions logged meanwhile never appear twice nor move the pages (they come before the
    first). Summaries come from the log's columns; see docs/log.md."""
    service = current()
    params.check_args(["policy" if name == "policy_filter" else name for name in LIST_QUERY])
    query = LogQuery(
        vendor=log_params.vendor(),
        reference=log_params.text("reference"),
        labels=log_params.labels(),
        policy=log_params.policy(service.engine),
        decision=log_params.decision(),
        recipient=log_params.text("recipient"),
        since=log_params.log_time("since"),
        until=log_params.log_time("until", end_of_day=True),
        after=log_params.cursor(),
        limit=log_params.limit(),
    )
    try:
        rows = service.log.summaries(query)
    except LogUnavailable as exc:
        raise service.decider.unavailable(exc) from None
    page = rows[: query.limit]
    more = len(rows) > query.limit
    cursor = log_params.next_cursor(page[-1]["decided_at"], int(page[-1]["seq"])) if more else None
    return jsonify({"decisions": [summary(row) for row in page], "next_cursor": cursor})


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """A LogSummary from a row of `DecisionLog.summaries`. A row logged before the summary
    columns existed carries its response instead, and is summarised from that."""
    facts = _from_response(row["response"]) if "response" in row else _from_columns(row)
    list_version = facts.pop("list_version")
    vendor = None
    if row["vendor_id"] is not None:
        revision = str(row["vendor_revision"])
        vendor = {
            "id": row["vendor_id"],
            "revision": int(revision) if revision.isascii() and revision.isdigit() else None,
            "list_version": list_version,
        }
    return {
        "decision_id": row["decision_id"],
        "decided_at": row["decided_at"],
        "reference": row["reference"],
        "labels": json.loads(row["labels"]) if row["labels"] else {},
        "vendor": vendor,
        "policy": {"id": row["policy_id"], "version": row["policy_version"]},
        "decision": row["decision"],
        **facts,
    }


def _from_columns(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "recipient": row["recipient"],
        "conditions": row["conditions_count"],
        "denials": row["denials_count"],
        "changes_on": row["changes_on"],
        "list_version": row["vendor_list_version"],
    }


def _from_response(text: str) -> dict[str, Any]:
    """The summary fields as a stored response states them (rows older than the columns)."""
    try:
        response = json.loads(text)
    except ValueError:
        response = None
    response = response if isinstance(response, dict) else {}
    hops = response.get("hops") or [{}]
    conditions, denials = response.get("conditions"), response.get("denials")
    return {
        "recipient": hops[0].get("recipient"),
        "conditions": len(conditions) if isinstance(conditions, list) else None,
        "denials": len(denials) if isinstance(denials, list) else None,
        "changes_on": (response.get("horizon") or {}).get("changes_on"),
        "list_version": (response.get("vendor") or {}).get("list_version"),
    }


@blueprint.get("/v1/decisions/<decision_id:decision_id>")
@requires("read")
@describe("A logged decision", {200: LoggedDecision}, errors=("decision_log_unavailable",))
def logged(decision_id: str) -> Response:
    """The decision as it was answered, read from the decision log (it survives restarts),
    with the request that asked for it and when (`log`). Unknown or malformed ids are 404;
    a dry run was never logged, so its id is unknown here too."""
    service = current()
    params.check_args(())
    canonical = _canonical_uuid(decision_id)
    entry = service.decider.read(canonical) if canonical else None
    if entry is None:
        problem = Problem(
            "decision_id", f"no logged decision {decision_id!r}", "use the decision_id of an answer"
        )
        raise ProblemError("not_found", problem.msg, [problem])
    answer: dict[str, Any] = json.loads(entry.response)
    answer["log"] = {
        "decided_at": entry.decided_at,
        "request_id": entry.request_id,
        "request": json.loads(entry.request),
        "token_name": entry.token_name,
    }
    return jsonify(answer)


def _flows(payload: Any, limit: int) -> list[Any]:
    if not isinstance(payload, dict):
        raise invalid_field("(body)", "the request body is a JSON object", 'send {"flows": [...]}')
    unknown = sorted(set(payload) - {"flows", "scenario"})
    if unknown:
        hint = "a batch has the fields flows and scenario"
        raise invalid_field(unknown[0], f"unknown field {unknown[0]!r}", hint)
    flows = payload.get("flows")
    if not isinstance(flows, list):
        raise invalid_field(
            "flows", "flows is required and is a JSON array of flow requests", 'send {"flows": [...]}'
        )
    if len(flows) > limit:
        raise invalid_field(
            "flows",
            f"{len(flows)} flows exceed the limit of {limit} flows per batch",
            f"send at most {limit} flows per request",
        )
    return _with_scenario(flows, payload.get("scenario"))


def _with_scenario(flows: list[Any], scenario: Any) -> list[Any]:
    """A batch's `scenario` applies to each flow that names none of its own (each is then a dry
    run); the engine validates it with each flow, so a bad one is each flow's 422."""
    if scenario is None:
        return flows
    return [{**f, "scenario": f.get("scenario", scenario)} if isinstance(f, dict) else f for f in flows]


def _canonical_uuid(text: str) -> str | None:
    """The id in the log's spelling, or None for anything but a hyphenated UUID."""
    try:
        value = str(uuid.UUID(text))
    except ValueError:
        return None
    return value if value == text.lower() else None
