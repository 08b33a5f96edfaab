"""A Terraform plan judged resource by resource (SPEC section 14): `doorgifte check-plan` and
`POST /v1/plans/check`.

`service.terraform` says where each planned resource puts its data; here each resource with a
place is judged as a location of its cloud provider acting as the exporter's processor, set up
as for a region's verdict (`engine.contracting.processor`: the provider as it contracts where its
terms are sourced data, else a processor with a signed agreement and no transfer tool yet),
under the caller's exporter, policy and data. The report states that set-up per provider
(`providers`: assumption and terms). A place the plan does not state is the condition
`plan.region_unknown` (fail closed: never a pass). Resources that hold no data are counted and
listed with the rule that skipped them.

Resources in the same places share one decision: a plan of a hundred buckets in two regions
costs two evaluations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine import catalogue, contracting
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
    """The provider as the exporter's processor at the resource's places, as it contracts."""
    payload: dict[str, Any] = {
        "policy": policy,
        "lang": lang,
        "exporter": exporter,
        "data": data,
        "recipient": processor(engine, resource.provider, exporter, as_of, locations(resource)).recipient,
    }
    if as_of is not None:
        payload["as_of"] = as_of.isoformat()
    return payload


def processor(
    engine: Engine,
    provider: str,
    exporter: dict[str, Any],
    as_of: dt.date | None,
    places: list[dict[str, Any]],
) -> contracting.SetUp:
    """The provider's node for this exporter (its country and role as the request states them)."""
    country = exporter.get("country")
    code = engine.resolver.country(country) if isinstance(country, str) else None
    role: contracting.Role = "processor" if exporter.get("role") == "processor" else "controller"
    listed = engine.reference.providers.get(provider)
    on = as_of or dt.datetime.now(dt.UTC).date()
    name = listed.name if listed else provider
    return contracting.processor(engine.reference, provider, places, (code, role), on, name)


def set_ups(
    engine: Engine, providers: list[str], exporter: dict[str, Any], as_of: dt.date | None, lang: str
) -> dict[str, dict[str, Any]]:
    """Per judged provider, the set-up its resources were judged by: `assumption` and `terms`."""
    country = exporter.get("country")
    home = (engine.resolver.country(country) if isinstance(country, str) else None) or str(country)
    out = {}
    for provider in sorted(set(providers)):
        set_up = processor(engine, provider, exporter, as_of, [])
        standard = catalogue.ASSUMPTION.get(lang, catalogue.ASSUMPTION["en"]).format(home=home)
        out[provider] = {
            "assumption": contracting.assumption(set_up, home, lang) or standard,
            "terms": contracting.terms_json(set_up),
        }
    return out


def findings_of(decision: Decision) -> list[dict[str, Any]]:
    """The conditions and denials of a decision, as a resource's findings."""
    out = []
    for effect, items in (("deny", decision.denials), ("condition", decision.conditions)):
        for item in items:
            out.append(
                {
                    "effect": effect,
                    "code": item.code,
                    "party": item.party,
                    "path": list(item.path),
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
    evaluated = [provider for provider, _ in cache]
    return {**report(judged, policy), "providers": set_ups(engine, evaluated, exporter, as_of, lang)}


def unknown_finding(address: str, why: str, lang: str) -> dict[str, Any]:
    return {
        "effect": "condition",
        "code": UNKNOWN_CODE,
        "party": None,
        "path": [],
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
