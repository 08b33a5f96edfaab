"""The dashboard's read-only pages (SPEC section 13): overview, vendors, one vendor, the
transfer register and one logged decision. Each reads the decision log through the same
functions as the API, so a page never shows other data than `/v1/...` answers."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, redirect, request

from engine.errors import Problem
from service import overview as overview_data
from service.access import OPEN, requires
from service.dashboard.chart import stacked
from service.dashboard.render import blueprint, link, page_lang, render
from service.dashboard.text import Words
from service.dashboard.vendor_view import decided_tree, documented_tree, latest_per_policy, reviews
from service.decision_log import LogUnavailable
from service.errors import ProblemError, invalid_field
from service.lookup import today_utc
from service.resources.register import rows as register_rows
from service.resources.register import transfer_register
from service.state import current

#: register rows shown on the page; the CSV has them all
REGISTER_ROWS = 500
CHART_DAYS = 30


def _log_call(action: Any) -> Any:
    try:
        return action()
    except LogUnavailable as exc:
        raise current().decider.unavailable(exc) from None


def _policy_arg() -> str | None:
    """`?policy=`: a known policy id, or none for all."""
    policy = request.args.get("policy") or None
    if policy is not None and policy not in current().engine.policies.profiles:
        raise invalid_field("policy", f"unknown policy {policy!r}", "one of " + ", ".join(_policies()))
    return policy


def _policies() -> list[str]:
    return sorted(current().engine.policies.profiles)


def _date_arg(name: str) -> dt.date:
    raw = request.args.get(name) or None
    if raw is None:
        return today_utc()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise invalid_field(name, f"{name} {raw!r} is not a date", "e.g. 2026-12-01") from None


@blueprint.get("")
@requires("read", session=True)
def overview() -> tuple[str, int]:
    """Vendors by decision, open actions by actor, decisions over time, coming changes."""
    policy = _policy_arg()
    today = today_utc()
    built = _log_call(lambda: overview_data.build(current().log, today, policy, days=CHART_DAYS))
    drawn = stacked([(day.isoformat(), counts) for day, counts in built.timeline])
    words = Words(page_lang())
    return render(
        "overview.html",
        words.overview,
        "overview",
        overview=built,
        chart=drawn,
        chart_days=CHART_DAYS,
        policy=policy,
        policies=_policies(),
    )


@blueprint.get("/")
@requires(OPEN, session=True)
def overview_slash() -> Response:
    return redirect(link("dashboard.overview"), 308)  # type: ignore[return-value]


@blueprint.get("/vendors")
@requires("read", session=True)
def vendors_page() -> tuple[str, int]:
    """Every stored vendor with its latest decision per policy: one read of the register heads
    (the latest decision per vendor and policy, kept on write), not a query per vendor."""
    log = current().log
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    heads = _log_call(log.heads)
    for head in sorted(heads, key=lambda h: (h["decided_at"], h["seq"]), reverse=True):
        if head["kind"] == "vendor":
            latest.setdefault(head["key"], {})[head["policy_id"]] = head
    rows = [
        {
            "id": vendor_id,
            "name": name,
            "revision": revision,
            "list_version": list_version,
            "updated": updated,
            "latest": latest.get(vendor_id, {}),
        }
        for vendor_id, name, revision, list_version, updated in _log_call(log.vendors)
    ]
    return render("vendors.html", Words(page_lang()).vendors, "vendors", vendors=rows)


@blueprint.get("/vendors/<vendor_id>")
@requires("read", session=True)
def vendor_page(vendor_id: str) -> tuple[str, int]:
    """The chain as a tree with a verdict per party, the revisions with reviews and deadlines."""
    service, lang = current(), page_lang()
    log = service.log
    found = _log_call(lambda: log.vendor(vendor_id))
    if found is None:
        what = f"no vendor {vendor_id!r}"
        raise ProblemError("not_found", what, [Problem("vendor_id", what, "see the list of vendors")])
    document = json.loads(found[2])
    latest = _log_call(lambda: latest_per_policy(log, vendor_id))
    policy = request.args.get("policy") or next(iter(latest), None)
    chosen = latest.get(policy) if policy else None
    if chosen is not None:
        entry = _log_call(lambda: log.get(chosen["decision_id"]))
        tree = decided_tree(json.loads(entry.response))
        asked = json.loads(entry.request)
    else:
        tree, asked = documented_tree(document["recipient"]), None
    revisions = _log_call(
        lambda: reviews(log, vendor_id, log.vendor_revisions(vendor_id), asked, service.decider.what_if, lang)
    )
    return render(
        "vendor.html",
        document["name"],
        "vendors",
        vendor_id=vendor_id,
        document=document,
        latest=latest,
        policy=policy,
        chosen=chosen,
        tree=tree,
        revisions=revisions,
    )


@blueprint.get("/register")
@requires("read", session=True)
def register_page() -> tuple[str, int]:
    """The transfer register as a table, with the CSV download of `/v1/register`."""
    policy, as_of = _policy_arg(), _date_arg("as_of")
    rows = _log_call(lambda: register_rows(current().log, as_of, policy))
    return render(
        "register.html",
        Words(page_lang()).register,
        "register",
        rows=rows[:REGISTER_ROWS],
        more=max(0, len(rows) - REGISTER_ROWS),
        policy=policy,
        policies=_policies(),
        as_of=as_of,
    )


@blueprint.get("/register.csv")
@requires("read", session=True)
def register_csv() -> Response:
    """The register's CSV: exactly what `GET /v1/register?format=csv` answers (same view)."""
    return transfer_register()


@blueprint.get("/decisions/<decision_id:decision_id>")
@requires("read", session=True)
def decision_page(decision_id: str) -> tuple[str, int]:
    """One logged decision with its hops, findings and the law each one cites."""
    entry = _log_call(lambda: current().log.get(decision_id))
    if entry is None:
        what = f"no logged decision {decision_id!r}"
        raise ProblemError(
            "not_found", what, [Problem("decision_id", what, "see the register or the overview")]
        )
    response = json.loads(entry.response)
    request_text = json.dumps(json.loads(entry.request), ensure_ascii=False, indent=2)
    words = Words(page_lang())
    return render(
        "decision.html",
        f"{words.decision} {decision_id[:8]}",
        "decision",
        entry=entry,
        response=response,
        request_text=request_text,
    )
