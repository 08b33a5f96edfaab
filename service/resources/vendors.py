"""`/v1/vendors`: versioned vendor documents, decisions by vendor id, and sub-processor review.

Vendor revisions live in the decision log's database, append-only. A decision by vendor id
is an ordinary decision (logged, with the vendor id and revision) on a flow built from the
vendor's chain (`engine.vendors.recipient`); a review compares two dry runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import ValidationError

from engine import vendors
from engine.decision import Decision
from engine.errors import Problem, RequestInvalid
from engine.request_errors import pydantic_problems
from service import body, params
from service.access import ANY_TOKEN, principal_name, requires
from service.decision_log import DecisionLog
from service.errors import ProblemError, invalid_field
from service.openapi import describe
from service.schemas import (
    JsonSchema,
    VendorDecisionRequest,
    VendorList,
    VendorOut,
    VendorReview,
    VendorReviewRequest,
    VendorRevisions,
    VendorStored,
)
from service.state import current

blueprint = Blueprint("vendors", __name__)
STORE_ERRORS = ("malformed_json", "body_too_large", "unsupported_media_type", "invalid_request")


@blueprint.get("/v1/schemas/vendor")
@requires(ANY_TOKEN)
@describe("The vendor document's JSON Schema", {200: JsonSchema})
def schema() -> Response:
    """The JSON Schema of a vendor document (its `recipient` is a flow's Recipient, whose nodes
    may also carry `products`)."""
    params.check_args(())
    return jsonify(vendors.VendorDocument.model_json_schema())


@blueprint.get("/v1/vendors")
@requires("read")
@describe("Vendors", {200: VendorList}, errors=("decision_log_unavailable",))
def index() -> Response:
    """Every stored vendor with its latest revision."""
    params.check_args(())
    rows = _store(lambda log: log.vendors())
    keys = ("id", "name", "revision", "list_version", "updated")
    return jsonify({"vendors": [dict(zip(keys, row, strict=True)) for row in rows]})


@blueprint.put("/v1/vendors/<vendor_id>")
@requires("vendors")
@describe(
    "Store a vendor revision",
    {200: VendorStored, 201: VendorStored},
    body=vendors.VendorDocument,
    errors=(*STORE_ERRORS, "decision_log_unavailable"),
)
def put_revision(vendor_id: str) -> tuple[Response, int]:
    """A new revision when the content changed (201), or `stored: false` when it equals the
    latest (200). Revisions are never changed or removed."""
    params.check_args(())
    doc = _parse(body.read_json(request, current().config.max_body))
    if doc.id != vendor_id:
        raise invalid_field(
            "id", f"the document's id {doc.id!r} is not the path's {vendor_id!r}", "make them equal"
        )
    revision, stored = store(doc)
    return jsonify({"id": doc.id, "revision": revision, "stored": stored}), 201 if stored else 200


@blueprint.get("/v1/vendors/<vendor_id>")
@requires("read")
@describe("A vendor revision", {200: VendorOut}, query=("revision",), errors=("not_found", "invalid_request"))
def get(vendor_id: str) -> Response:
    """The latest revision, or `?revision=N`."""
    params.check_args(("revision",))
    revision, created, document = _revision(vendor_id, _int_arg("revision"))
    return jsonify(
        {"id": vendor_id, "revision": revision, "created_at": created, "document": json.loads(document)}
    )


@blueprint.get("/v1/vendors/<vendor_id>/revisions")
@requires("read")
@describe("A vendor's revisions", {200: VendorRevisions}, errors=("not_found",))
def revisions(vendor_id: str) -> Response:
    params.check_args(())
    rows = _store(lambda log: log.vendor_revisions(vendor_id))
    if not rows:
        raise _unknown(vendor_id)
    keys = ("revision", "list_version", "digest", "created_at", "token_name")
    return jsonify({"id": vendor_id, "revisions": [dict(zip(keys, row, strict=True)) for row in rows]})


@blueprint.post("/v1/vendors/<vendor_id>/decisions")
@requires("decide")
@describe(
    "Decide by vendor id",
    {200: Decision},
    body=VendorDecisionRequest,
    errors=(*STORE_ERRORS, "not_found", "decision_log_unavailable", "evaluation_timeout"),
)
def decide(vendor_id: str) -> Response:
    """The decision on the vendor's chain (latest or `revision`) as this customer uses it:
    cut to `products`, with the `residency` option's places, under the customer's own
    `agreement`; logged with the vendor id and revision unless a dry run."""
    params.check_args(())
    ask = _request(VendorDecisionRequest)
    revision, _, document = _revision(vendor_id, ask.revision)
    doc = vendors.VendorDocument.model_validate_json(document)
    flow = flow_of(doc, ask)
    # a vendor decision always carries its horizon: the register and the dashboard read it
    flow.update(reference=ask.reference, labels=ask.labels, dry_run=ask.dry_run, horizon=True)
    if ask.scenario is not None:
        flow["scenario"] = ask.scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    decision, text = current().decider.decide(
        flow, g.request_id, vendors.vendor_ref(doc, revision), principal_name()
    )
    g.decision_ids = [decision.decision_id]
    return Response(text, mimetype="application/json")


@blueprint.post("/v1/vendors/<vendor_id>/review")
@requires("decide")
@describe(
    "Review a sub-processor change",
    {200: VendorReview},
    body=VendorReviewRequest,
    errors=(*STORE_ERRORS, "not_found"),
)
def review(vendor_id: str) -> Response:
    """What the change between two revisions (default: the last two) means under the
    customer's policy: `changes`, new and resolved findings, `verdict` and `object_by`
    (`notified_on` + the vendor's `notice_days`). Nothing is logged."""
    params.check_args(())
    ask = _request(VendorReviewRequest)
    decider = current().decider
    return jsonify(_store(lambda log: run_review(vendor_id, ask, log, decider.what_if)))


def run_review(
    vendor_id: str, ask: VendorReviewRequest, log: DecisionLog, what_if: Callable[[Any], Decision]
) -> dict[str, Any]:
    """The review, shared with `doorgifte vendor review`: `what_if` decides a flow unlogged."""
    all_revisions = [row[0] for row in log.vendor_revisions(vendor_id)]
    if not all_revisions:
        raise _unknown(vendor_id)
    to_rev = ask.to_revision or all_revisions[-1]
    from_rev = ask.from_revision or (to_rev - 1 if to_rev > 1 else to_rev)
    docs = {}
    for rev in (from_rev, to_rev):
        found = log.vendor(vendor_id, rev)
        if found is None:
            raise _unknown(vendor_id, rev)
        docs[rev] = vendors.VendorDocument.model_validate_json(found[2])
    before, after = (what_if(flow_of(docs[rev], ask)).model_dump(mode="json") for rev in (from_rev, to_rev))
    judged = vendors.review(before, after, ask.notified_on, docs[to_rev].notice_days)
    return {
        "vendor": vendor_id,
        "from_revision": from_rev,
        "to_revision": to_rev,
        "changes": vendors.changes(docs[from_rev], docs[to_rev]),
        "before": _summary(from_rev, before),
        "after": _summary(to_rev, after),
        **judged,
    }


# ----------------------------------------------------------------- helpers


def store(doc: vendors.VendorDocument) -> tuple[int, bool]:
    token_name = principal_name()
    return _store(lambda log: put(log, doc, token_name))


def put(log: DecisionLog, doc: vendors.VendorDocument, token_name: str | None = None) -> tuple[int, bool]:
    """Store `doc` as the vendor's next revision unless it is unchanged (also for the CLI);
    `token_name` names the bearer token that stored it."""
    text = json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return log.put_vendor(doc.id, doc.name, doc.list_version, vendors.digest(doc), text, token_name)


def flow_of(doc: vendors.VendorDocument, ask: VendorDecisionRequest | VendorReviewRequest) -> dict[str, Any]:
    """The flow a vendor decision or review decides: the vendor's chain as this customer uses it."""
    try:
        root = vendors.recipient(doc, ask.products, ask.residency, ask.agreement)
    except RequestInvalid as exc:
        raise ProblemError.from_invalid(exc) from None
    flow: dict[str, Any] = {
        "policy": ask.policy,
        "lang": ask.lang,
        "data": ask.data,
        "exporter": ask.exporter,
    }
    if ask.as_of is not None:
        flow["as_of"] = ask.as_of.isoformat()
    flow["recipient"] = {**root, "role": root.get("role", "processor")}
    return flow


def _summary(revision: int, decision: dict[str, Any]) -> dict[str, Any]:
    return {
        "revision": revision,
        "decision": decision["decision"],
        "conditions": len(decision["conditions"]),
        "denials": len(decision["denials"]),
    }


def _parse(payload: Any) -> vendors.VendorDocument:
    try:
        return vendors.parse(payload, current().engine.resolver)
    except RequestInvalid as exc:
        raise ProblemError.from_invalid(exc) from None


def _request(model: type[Any]) -> Any:
    payload = body.read_json(request, current().config.max_body)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ProblemError.from_invalid(RequestInvalid(pydantic_problems(exc))) from None


def _revision(vendor_id: str, revision: int | None) -> tuple[int, str, str]:
    found = _store(lambda log: log.vendor(vendor_id, revision))
    if found is None:
        raise _unknown(vendor_id, revision)
    return found


def _store(action: Any) -> Any:
    from service.decision_log import LogUnavailable

    decider = current().decider
    try:
        return action(decider.log)
    except LogUnavailable as exc:
        raise decider.unavailable(exc) from None


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) < 2**31:
        raise invalid_field(name, f"{name} {raw!r} is not a revision number", "a whole number from 1")
    return int(raw)


def _unknown(vendor_id: str, revision: int | None = None) -> ProblemError:
    what = f"no vendor {vendor_id!r}" + (f" with revision {revision}" if revision else "")
    return ProblemError("not_found", what, [Problem("vendor_id", what, "see GET /v1/vendors")])
