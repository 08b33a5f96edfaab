"""A Terraform plan judged resource by resource (SPEC section 14): `doorgifte check-plan` and
`POST /v1/plans/check`.

`service.terraform` says where each planned resource puts its data; here each resource with a
place is judged as a location of its cloud provider acting as the exporter's processor, by the
same standard flow as a region's verdict (`engine.catalogue.standard_flow`: a processor with a
signed agreement and no transfer tool yet), under the caller's exporter, policy and data. A
place the plan does not state is the condition `plan.region_unknown` (fail closed: never a
pass). Resources that hold no data are counted and listed with the rule that skipped them.

Resources in the same places share one decision: a plan of a hundred buckets in two regions
costs two evaluations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.api import Engine
from engine.decision import Decision
from service.terraform import MULTI_PREFIX, PlannedResource, multi_region_countries, planned_resources

UNKNOWN_CODE = "plan.region_unknown"
UNKNOWN_TEXT = {
    "en": "Where {address} keeps its data cannot be read from the plan ({why}): state the region, "
    "or judge the place before applying.",
    "nl": "Waar {address} de gegevens bewaart, blijkt niet uit het plan ({why}): geef de regio op, "
    "of beoordeel de plek voordat het plan wordt toegepast.",
}
UNKNOWN_BASIS = ["GDPR Art. 44", "GDPR Art. 28(1)"]
RANK = {"allow": 0, "conditions": 1, "deny": 2}
DECISION_EXIT = {"allow": 0, "conditions": 10, "deny": 20}


@dataclass
class Judged:
    """One resource: its places, the decision on them (or why none), its findings."""

    resource: PlannedResource
    decision: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        r = self.resource
        out: dict[str, Any] = {
            "address": r.address,
            "provider": r.provider,
            "type": r.type,
            "places": list(r.places),
            "place_source": r.place_source,
        }
        if r.skipped:
            return {**out, "skipped": r.skipped}
        return {**out, "decision": self.decision, "findings": self.findings}


def locations(resource: PlannedResource) -> list[dict[str, Any]]:
    """The flow locations of a resource's places: catalogue regions, or a multi-region's countries."""
    out: list[dict[str, Any]] = []
    for place in resource.places:
        if place.startswith(MULTI_PREFIX):
            out += [{"country": c} for c in sorted(multi_region_countries(place) or ())]
        else:
            out.append({"cloud": resource.provider, "region": place})
    return out


def flow(
    engine: Engine,
    resource: PlannedResource,
    exporter: dict[str, Any],
    policy: Any,
    data: dict[str, Any],
    lang: str,
    as_of: dt.date | None,
) -> dict[str, Any]:
    """The provider as the exporter's processor with a signed agreement, at the resource's places."""
    provider = engine.reference.providers.get(resource.provider)
    payload: dict[str, Any] = {
        "policy": policy,
        "lang": lang,
        "exporter": exporter,
        "data": data,
        "recipient": {
            "name": provider.name if provider else resource.provider,
            "role": "processor",
            "locations": locations(resource),
            "agreement": {"dpa": {"signed": True}},
        },
    }
    if as_of is not None:
        payload["as_of"] = as_of.isoformat()
    return payload


def findings_of(decision: Decision) -> list[dict[str, Any]]:
    """The conditions and denials of a decision, as a resource's findings."""
    out = []
    for effect, items in (("deny", decision.denials), ("condition", decision.conditions)):
        for item in items:
            out.append(
                {
                    "effect": effect,
                    "code": item.code,
                    "location": item.location,
                    "message": item.message,
                    "basis": list(item.basis),
                }
            )
    return out


def check(
    engine: Engine,
    plan: dict[str, Any],
    exporter: dict[str, Any],
    policy: Any = "gdpr",
    data: dict[str, Any] | None = None,
    as_of: dt.date | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The report: `decision` (the worst of the judged resources), counts, and every resource.
    Raises RequestInvalid (from the engine) for an exporter, policy or data the contract refuses."""
    cache: dict[tuple[str, tuple[str, ...]], tuple[str, list[dict[str, Any]]]] = {}
    judged = []
    for resource in planned_resources(plan, engine.reference):
        one = Judged(resource)
        if resource.skipped:
            judged.append(one)
            continue
        if resource.unknown or not resource.places:
            why = resource.unknown or "no place found"
            one.decision = "conditions"
            one.findings = [unknown_finding(resource.address, why, lang)]
        else:
            key = (resource.provider, resource.places)
            if key not in cache:
                decision = engine.evaluate(flow(engine, resource, exporter, policy, data or {}, lang, as_of))
                cache[key] = (decision.decision, findings_of(decision))
            one.decision, one.findings = cache[key]
        judged.append(one)
    return report(judged, policy)


def unknown_finding(address: str, why: str, lang: str) -> dict[str, Any]:
    return {
        "effect": "condition",
        "code": UNKNOWN_CODE,
        "location": None,
        "message": UNKNOWN_TEXT[lang].format(address=address, why=why),
        "basis": UNKNOWN_BASIS,
    }


def report(judged: list[Judged], policy: Any) -> dict[str, Any]:
    decided = [j for j in judged if j.decision is not None]
    worst = max((j.decision for j in decided if j.decision), key=RANK.__getitem__, default="allow")
    counts = {d: sum(1 for j in decided if j.decision == d) for d in RANK}
    return {
        "decision": worst,
        "policy": policy,
        "resources": len(judged),
        "judged": len(decided),
        "skipped": len(judged) - len(decided),
        "unknown": sum(1 for j in decided if any(f["code"] == UNKNOWN_CODE for f in j.findings)),
        "by_decision": counts,
        "results": [j.as_json() for j in judged],
    }
