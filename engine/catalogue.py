"""Answers about places rather than flows: countries and cloud regions as of a date.

A region's verdict for architects ("may a processor hold personal data here under
this policy?") is not a second rule base: it is the decision for a flow in which a
controller established in the policy's home country (the Netherlands when the policy
has none) engages the provider as processor, holding the data only in that region.
The provider is taken as it contracts where its terms are sourced data
(`engine.contracting`: its entity, DPA and the transfer tool the DPA supplies), else as
a processor with a signed agreement and no transfer tool yet (the standard set-up).
Either way the row states the set-up in `assumption`, and the terms in `terms`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from engine import contracting
from engine.api import Engine
from engine.decision import Decision, LocationResult
from engine.reference import AdequacyDecision, Region
from engine.regime import GDPR

DEFAULT_HOME = "NL"
#: the standard set-up, stated with the verdict of a provider without sourced terms (SPEC section
#: 14); a provider with terms states its own (`engine.contracting.assumption`)
ASSUMPTION = {
    "en": "The provider is judged as a processor of a controller established in {home}, with a signed "
    "processing agreement and no transfer tool yet, holding the data only in this region; its own "
    "contracting entity, clauses and certifications are not taken into account.",
    "nl": "De aanbieder is beoordeeld als verwerker van een verwerkingsverantwoordelijke in {home}, met "
    "een getekende verwerkersovereenkomst en nog geen doorgifte-instrument, die de gegevens alleen in "
    "deze regio bewaart; de eigen contractpartij, clausules en certificeringen van de aanbieder zijn "
    "niet meegewogen.",
}


class UnknownRegion(KeyError):
    """A provider or region the catalogue does not list."""


def adequacy_json(decision: AdequacyDecision | None, on: dt.date) -> dict[str, Any] | None:
    """The decision in force, with the exclusions in force on `on` and their triggers."""
    if decision is None:
        return None
    return {
        "id": decision.id,
        "act": decision.act,
        "adopted": decision.adopted.isoformat(),
        "applies_from": decision.applies_from.isoformat(),
        "expires": decision.expires.isoformat() if decision.expires else None,
        "invalidated": decision.invalidated.isoformat() if decision.invalidated else None,
        "scope": decision.scope.model_dump(exclude_none=True),
        "exclusions": [
            {
                "id": e.id,
                "text": e.text,
                "basis": e.basis,
                "trigger": e.trigger.model_dump() if e.trigger else None,
            }
            for e in decision.exclusions
            if e.in_force(on)
        ],
        "source": decision.source,
    }


def regimes(engine: Engine) -> list[str]:
    """The points of view a place can be judged from: the GDPR's and each modelled regime's."""
    return [GDPR, *sorted(engine.reference.regimes)]


def country(engine: Engine, code: str, as_of: dt.date, regime: str = GDPR) -> dict[str, Any]:
    """Zone, EEA membership and adequacy decision of one alpha-2 country on a date. `zone` and
    `eea` are its standing in EU law; `transfer` and `adequacy` are the regime's point of view
    (SPEC section 4a): under the UK GDPR an EEA state receives a restricted transfer that the
    UK's own adequacy regulations cover."""
    import pycountry

    ref = engine.reference
    zone = ref.zone(code, as_of)
    record = pycountry.countries.get(alpha_2=code)
    out = {
        "country": code,
        "name": (getattr(record, "common_name", None) or record.name) if record else code,
        "zone": zone.zone,
        "eea": ref.in_eea(code, as_of),
        "transfer": zone.transfer,
        "bridge": zone.bridge,
        "adequacy": adequacy_json(zone.adequacy, as_of),
    }
    law = ref.regimes.get(regime)
    if law is None:
        return out
    decision = law.adequacy_for(code, ref.in_eea(code, as_of), as_of)
    return {
        **out,
        "regime": regime,
        "transfer": not law.in_area(code),
        "bridge": None,
        "adequacy": adequacy_json(decision, as_of),
    }


def countries(engine: Engine, as_of: dt.date, regime: str = GDPR) -> list[dict[str, Any]]:
    return [country(engine, code, as_of, regime) for code in engine.reference.countries()]


def _home(engine: Engine, policy: str, regime: str = GDPR) -> str:
    """The exporter a place is judged for: in the policy's home country under the GDPR, else in
    the regime's own area (the UK for `uk_gdpr`)."""
    law = engine.reference.regimes.get(regime)
    if law is not None:
        return law.area[0]
    profile, _ = engine.profile(policy)
    return (profile.settings.home_country if profile else None) or DEFAULT_HOME


def set_up(
    engine: Engine, provider: str, region: str, as_of: dt.date, policy: str, regime: str = GDPR
) -> contracting.SetUp:
    """The provider as processor of a controller in the policy's home country (or the regime's
    own area), in this region."""
    home = _home(engine, policy, regime)
    place = [{"cloud": provider, "region": region}]
    return contracting.processor(
        engine.reference, provider, place, (home, "controller"), as_of, f"{provider} {region}"
    )


def region_flow(
    engine: Engine,
    provider: str,
    region: str,
    as_of: dt.date,
    policy: str,
    lang: str = "en",
    processor: contracting.SetUp | None = None,
    regime: str = GDPR,
) -> dict[str, Any]:
    """The flow a region's verdict is the decision of; `lang` is the language of its messages."""
    if engine.profile(policy)[0] is None:
        raise ValueError(f"unknown policy {policy!r}")
    processor = processor or set_up(engine, provider, region, as_of, policy, regime)
    return {
        "as_of": as_of.isoformat(),
        "policy": policy,
        "exporter": {"name": "Controller", "country": _home(engine, policy, regime)},
        "recipient": processor.recipient,
        "lang": lang,
    }


def region(
    engine: Engine,
    provider: str,
    region_id: str,
    as_of: dt.date,
    policy: str,
    lang: str = "en",
    regime: str = GDPR,
) -> dict[str, Any]:
    """Where a region is and whether a processor may hold personal data there under `policy`,
    for a controller under `regime` (a UK architect asks with `uk_gdpr`); the reasons' messages
    in `lang` (en, nl), the codes the same in each.

    Raises UnknownRegion for a region the catalogue lacks, ValueError for an unknown policy."""
    if engine.profile(policy)[0] is None:
        raise ValueError(f"unknown policy {policy!r}")
    record: Region | None = engine.reference.region(provider, region_id)
    if record is None:
        raise UnknownRegion(region_id)
    zone = engine.reference.zone(record.country, as_of)
    processor = set_up(engine, provider, record.id, as_of, policy, regime)
    decision = engine.evaluate(
        region_flow(engine, provider, record.id, as_of, policy, lang, processor, regime), as_of
    )
    location = _place_of(decision, record.id)
    home = _home(engine, policy, regime)
    return {
        "provider": provider,
        "region": record.id,
        "name": record.name,
        "city": record.city,
        "country": record.country,
        "partition": record.partition,
        "zone": zone.zone,
        "eea": engine.reference.in_eea(record.country, as_of),
        "retired": record.retired.isoformat() if record.retired else None,
        "policy": policy,
        "regime": decision.regime,
        "processor_may_hold_personal_data": {"allow": "yes", "conditions": "with_conditions", "deny": "no"}[
            decision.decision
        ],
        "decision": decision.decision,
        "reasons": [f.model_dump(mode="json") for f in location.findings if f.effect != "note"],
        # each code once: an onward transfer can ask the same of the entity and of its group
        "conditions": list(dict.fromkeys(c.code for c in decision.conditions)),
        "denials": list(dict.fromkeys(d.code for d in decision.denials)),
        "assumption": contracting.assumption(processor, home, lang)
        or ASSUMPTION.get(lang, ASSUMPTION["en"]).format(home=home),
        "terms": contracting.terms_json(processor),
    }


def _place_of(decision: Decision, region_id: str) -> LocationResult:
    """The region's own location in the decision: on the provider's hop, or on its sub-processor's
    when the provider's EEA entity passes the data on (`onward` terms)."""
    places = [place for hop in decision.hops for place in hop.locations]
    return next((p for p in places if p.location.region == region_id), places[0])


def regions(
    engine: Engine, provider: str, as_of: dt.date, policy: str, lang: str = "en", regime: str = GDPR
) -> list[dict[str, Any]]:
    """Every region of a provider with its verdict; remembered per (provider, date, policy, lang,
    regime), since an engine's rules and data never change and a listing costs one evaluation
    per region."""
    return list(_regions(engine, provider, as_of, policy, lang, regime))


@functools.lru_cache(maxsize=256)
def _regions(
    engine: Engine, provider: str, as_of: dt.date, policy: str, lang: str = "en", regime: str = GDPR
) -> tuple[dict[str, Any], ...]:
    if provider not in engine.reference.providers:
        raise UnknownRegion(provider)
    return tuple(
        region(engine, provider, rid, as_of, policy, lang, regime)
        for rid in engine.reference.region_ids(provider)
    )
