"""One vendor as the dashboard shows it: its chain as a tree with a verdict per party, and its
revisions with their reviews and objection deadlines.

The verdicts are read from the latest logged decision on the vendor (per policy), so the page
shows what was answered and logged; a vendor never decided shows its documented chain without
verdicts. A revision after the first is a change of sub-processors (GDPR Art. 28(2)): it is
reviewed as `POST /v1/vendors/{id}/review` would, for the exporter, policy and data of that
latest decision, notified on the revision's date, and the objection deadline is that date plus
the document's `notice_days`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine import vendors
from engine.decision import Decision
from service.decision_log import DecisionLog, LogQuery
from service.errors import ProblemError
from service.resources.vendors import run_review
from service.schemas import VendorReviewRequest

#: revisions reviewed on the page, newest first (each review decides two flows)
REVIEWED = 5


@dataclass
class Node:
    """A party in the chain: its verdict (None when not decided) and the places it holds data."""

    name: str
    role: str | None = None
    decision: str | None = None
    locations: list[tuple[str, str]] = field(default_factory=list)  # (place, decision)
    children: list[Node] = field(default_factory=list)


def latest_per_policy(log: DecisionLog, vendor_id: str) -> dict[str, dict[str, Any]]:
    """The newest logged decision summary per policy for this vendor (newest policy first)."""
    latest: dict[str, dict[str, Any]] = {}
    for row in log.summaries(LogQuery(vendor=vendor_id, limit=200)):
        latest.setdefault(row["policy_id"], row)
    return latest


def decided_tree(response: dict[str, Any]) -> list[Node]:
    """The chain of a logged decision: a node per hop, below the hop that engaged it."""
    nodes: dict[tuple[str, ...], Node] = {}
    roots: list[Node] = []
    for hop in response.get("hops", []):
        path = tuple(hop["path"])
        node = Node(hop["recipient"], hop.get("role"), hop.get("decision"))
        node.locations = [
            (_place(loc.get("location") or {}), loc["decision"]) for loc in hop.get("locations", [])
        ]
        nodes[path] = node
        parent = nodes.get(path[:-1])
        (parent.children if parent is not None else roots).append(node)
    return roots


def documented_tree(recipient: dict[str, Any]) -> list[Node]:
    """The chain as the vendor document states it, without verdicts."""

    def node(party: dict[str, Any]) -> Node:
        places = [
            (str(p) if not isinstance(p, dict) else _place(p), "") for p in party.get("locations") or []
        ]
        if not places and party.get("country"):
            places = [(str(party["country"]), "")]
        children = [node(sub) for sub in party.get("sub_processors") or []]
        return Node(party["name"], party.get("role"), None, places, children)

    return [node(recipient)]


def _place(place: dict[str, Any]) -> str:
    parts = [place.get(k) for k in ("cloud", "region", "city", "organisation", "word")]
    named = " ".join(str(p) for p in parts if p)
    country = place.get("country") or ""
    return f"{named} ({country})" if named and country else named or str(country)


def reviews(
    log: DecisionLog,
    vendor_id: str,
    revisions: list[tuple[int, str, str, str, str | None]],
    request: dict[str, Any] | None,
    what_if: Callable[[Any], Decision],
    lang: str,
) -> list[dict[str, Any]]:
    """Each revision, newest first, with its changes, review (for the newest REVIEWED, when a
    decision gives the exporter, policy and data) and objection deadline."""
    out: list[dict[str, Any]] = []
    documents: dict[int, vendors.VendorDocument] = {}

    def document(revision: int) -> vendors.VendorDocument:
        if revision not in documents:
            found = log.vendor(vendor_id, revision)
            assert found is not None  # listed by vendor_revisions a moment ago; revisions are never removed
            documents[revision] = vendors.VendorDocument.model_validate_json(found[2])
        return documents[revision]

    for index, (revision, list_version, _, created_at, token_name) in enumerate(reversed(revisions)):
        row: dict[str, Any] = {
            "revision": revision,
            "list_version": list_version,
            "created_at": created_at,
            "token_name": token_name,
            "changes": [],
            "review": None,
            "object_by": None,
        }
        if revision > 1:
            notified = dt.date.fromisoformat(created_at[:10])
            after = document(revision)
            row["changes"] = vendors.changes(document(revision - 1), after)
            if after.notice_days is not None:
                row["object_by"] = notified + dt.timedelta(days=after.notice_days)
            if request is not None and index < REVIEWED:
                row["review"] = _review(log, vendor_id, revision, notified, request, what_if, lang)
        out.append(row)
    return out


def _review(
    log: DecisionLog,
    vendor_id: str,
    revision: int,
    notified: dt.date,
    request: dict[str, Any],
    what_if: Callable[[Any], Decision],
    lang: str,
) -> dict[str, Any]:
    """The review as the API gives it; a logged request that cannot be decided again (a policy
    since removed) shows why instead of failing the page."""
    ask = VendorReviewRequest(
        from_revision=revision - 1,
        to_revision=revision,
        notified_on=notified,
        exporter=request["exporter"],
        policy=request.get("policy", "gdpr"),
        data=request.get("data") or {},
        lang=lang,  # type: ignore[arg-type]
    )
    try:
        return run_review(vendor_id, ask, log, what_if)
    except ProblemError as exc:
        return {"error": exc.detail}


def logged_request(log: DecisionLog, decision_id: str) -> dict[str, Any] | None:
    entry = log.get(decision_id)
    return json.loads(entry.request) if entry is not None else None
