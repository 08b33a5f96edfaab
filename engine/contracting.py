"""A cloud provider as processor, as it contracts (SPEC section 14, "providers as processors").

A region's verdict (`engine.catalogue`) and a planned resource (`service.plans`) are decisions on
a flow in which a cloud provider is the exporter's processor. Without sourced terms that
processor is an unknown party with a signed agreement and no transfer tool: outside the EEA the
customer is told to sign clauses with "aws us-east-1". With the provider's terms
(`adequacy_data/providers/<id>.yaml`) the flow is the one the provider actually offers:

- its contracting entity (name, country) as processor, under its DPA, which its service terms
  incorporate (taken as agreed: an assumption the answer states);
- outside the EEA, the transfer tool that DPA supplies: clauses between the customer and the
  provider (`with_customer`: the hop carries `safeguards.scc`, so only the transfer impact
  assessment stays with the customer), or the EEA entity's own module 3 clauses with its
  group (`onward`: the group is the entity's sub-processor at those places, generally
  authorised, so the findings name the entity as the one who must assess);
- a DPF listing only from the DPF List itself, and only on the node of the listed entity.

Fail closed: a fact counts only when `verified` (read in the provider's own words); every other
fact is named in the assumption as not taken into account. A provider without terms, or a
customer outside the countries the terms were read for, keeps the standard set-up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from engine.reference import ProviderTerms, Reference

Role = Literal["controller", "processor"]
#: the facts of a provider's terms, in the order the answer names them
FACTS = ("entity", "dpa", "transfers", "dpf", "sub_processors")


@dataclass(frozen=True)
class SetUp:
    """The provider's node of a flow, the terms it was built from, and which facts counted."""

    recipient: dict[str, Any]
    terms: ProviderTerms | None = None
    credited: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    module: int | None = None


def processor(
    ref: Reference,
    provider: str,
    locations: list[dict[str, Any]],
    customer: tuple[str | None, Role],
    on: dt.date,
    name: str,
) -> SetUp:
    """The provider as processor of a customer `(country alpha-2 or None, role)` at `locations`
    (flow locations, in order); `name` names it where its terms do not apply."""
    country, role = customer
    terms = ref.terms.get(provider)
    if terms is None or country not in terms.customers:
        return SetUp(_node(name, None, locations))
    credited = _credited(terms)
    entity = terms.entity if "entity" in credited else None
    node = _node(entity.name if entity else terms.name, entity.country if entity else None, locations)
    module = terms.transfers.modules[role]
    outside = [loc for loc in locations if _transfer_place(ref, loc, on)]
    if outside and "transfers" in credited:
        _add_transfer_tool(node, terms, outside, module, "sub_processors" in credited)
    if "dpf" in credited:
        _add_listing(node, terms)
    withheld = tuple(f for f in FACTS if f not in credited)
    return SetUp(node, terms, tuple(f for f in FACTS if f in credited), withheld, module)


def _credited(terms: ProviderTerms) -> set[str]:
    """The verified facts that can shape a flow: onward clauses only from a verified EEA entity
    (it is their exporter), a DPF listing only with the frameworks read on the DPF List."""
    facts = terms.facts()
    credited = {key for key, fact in facts.items() if fact.verified}
    if terms.transfers.structure == "onward" and "entity" not in credited:
        credited.discard("transfers")
    if not terms.dpf.frameworks:
        credited.discard("dpf")
    return credited


def _node(name: str, country: str | None, locations: list[dict[str, Any]]) -> dict[str, Any]:
    node: dict[str, Any] = {
        "name": name,
        "role": "processor",
        "locations": list(locations),
        "agreement": {"dpa": {"signed": True}},
    }
    if country is not None:
        node["country"] = country
    return node


def _transfer_place(ref: Reference, location: dict[str, Any], on: dt.date) -> bool:
    """Whether data at this place leaves the EEA on `on`; an unknown place does (fail closed)."""
    if "country" in location:
        country: str | None = location["country"]
    else:
        region = ref.region(str(location.get("cloud")), str(location.get("region")))
        country = region.country if region else None
    return ref.zone(country, on).transfer


def _add_transfer_tool(
    node: dict[str, Any],
    terms: ProviderTerms,
    outside: list[dict[str, Any]],
    module: int,
    notice_verified: bool,
) -> None:
    """The clauses the provider's DPA supplies for the places outside the EEA."""
    scc = {"scc": {"module": module, "decision": terms.transfers.decision}}
    if terms.transfers.structure == "with_customer":
        node["agreement"]["safeguards"] = scc
        return
    inside = [loc for loc in node["locations"] if loc not in outside]
    node["locations"] = inside or [{"country": terms.entity.country}]
    authorisation: dict[str, Any] = {"kind": "general"}
    if notice_verified:  # a listed sub-processor whose notice period has run out
        authorisation.update(notified=True, objection_period_elapsed=True)
    importer: dict[str, Any] = {
        "name": terms.transfers.importer,
        "role": "processor",
        "affiliate": True,
        "locations": outside,
        "agreement": {
            "dpa": {"signed": True},
            "flow_down": True,
            "authorisation": authorisation,
            "safeguards": scc,
        },
    }
    if terms.transfers.importer_country:
        importer["country"] = terms.transfers.importer_country
    node["sub_processors"] = [importer]


def _add_listing(node: dict[str, Any], terms: ProviderTerms) -> None:
    """A DPF listing read on the DPF List, on the node of the listed entity only."""
    for each in [node, *node.get("sub_processors", [])]:
        if each["name"] == terms.dpf.entity:
            each["certifications"] = list(terms.dpf.frameworks)


# ----------------------------------------------------------------- what the answer states


def terms_json(setup: SetUp) -> dict[str, Any] | None:
    """The assumed set-up as data (`terms` of a region row or a plan report), or None when the
    provider's own terms were not used."""
    terms = setup.terms
    if terms is None:
        return None
    transfers = terms.transfers
    onward = transfers.structure == "onward"
    return {
        "entity": terms.entity.name,
        "country": terms.entity.country,
        "dpa": terms.dpa.title,
        "dpa_applies": terms.dpa.applies,
        "scc": {
            "structure": transfers.structure,
            "decision": transfers.decision,
            "module": setup.module,
            "exporter": terms.entity.name if onward else "customer",
            "importer": transfers.importer if onward else terms.entity.name,
            "customer_party": not onward,
        },
        "dpf": {"entity": terms.dpf.entity, "frameworks": list(terms.dpf.frameworks)},
        "sub_processor_notice_days": terms.sub_processors.notice_days,
        "verified": {key: fact.verified for key, fact in terms.facts().items()},
        "credited": list(setup.credited),
        "not_credited": list(setup.withheld),
        "verified_on": terms.last_reviewed.isoformat(),
        "sources": [
            {"id": key, "title": s.title, "url": s.url, "read_on": s.read_on.isoformat(), "kind": s.kind}
            for key, s in terms.sources.items()
        ],
    }


def assumption(setup: SetUp, home: str, lang: str) -> str | None:
    """The set-up the verdict assumes, in `lang`; None when the standard set-up applies."""
    terms = setup.terms
    if terms is None:
        return None
    words = _WORDS.get(lang, _WORDS["en"])
    entity = terms.entity
    who = f"{entity.name} ({entity.country})" if "entity" in setup.credited else words["provider"]
    text = words["as_contracted"].format(
        provider=terms.name, home=home, date=terms.last_reviewed.isoformat(), who=who, dpa=terms.dpa.title
    )
    text += " " + _transfer_sentence(setup, words)
    text += " " + words["in_region"]
    if setup.withheld:
        items = "; ".join(_withheld(terms, setup, words))
        text += " " + words["withheld"].format(items=items.rstrip("."))
    return text


def _transfer_sentence(setup: SetUp, words: dict[str, str]) -> str:
    terms = setup.terms
    assert terms is not None
    if "transfers" not in setup.credited:
        return words["no_tool"]
    if terms.transfers.structure == "with_customer":
        return words["with_customer"].format(decision=terms.transfers.decision, module=setup.module)
    notice = (
        words["notice"].format(days=terms.sub_processors.notice_days)
        if "sub_processors" in setup.credited
        else words["no_notice"]
    )
    return words["onward"].format(
        entity=terms.entity.name,
        importer=terms.transfers.importer,
        decision=terms.transfers.decision,
        notice=notice,
    )


def _withheld(terms: ProviderTerms, setup: SetUp, words: dict[str, str]) -> list[str]:
    """One phrase per fact not taken into account."""
    transfers = terms.transfers
    phrases = {
        "entity": words["w_entity"].format(name=terms.entity.name, country=terms.entity.country),
        "dpa": words["w_dpa"].format(dpa=terms.dpa.title),
        "transfers": (
            words["w_onward"].format(entity=terms.entity.name, importer=transfers.importer)
            if transfers.structure == "onward"
            else words["w_with_customer"]
        ),
        "dpf": words["w_dpf"].format(entity=terms.dpf.entity),
        "sub_processors": words["w_notice"].format(days=terms.sub_processors.notice_days),
    }
    return [phrases[key] for key in setup.withheld]


_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "provider": "the provider",
        "as_contracted": "{provider} is judged as it contracts with a customer established in {home} (its "
        "terms as read on {date}): {who} as processor under the {dpa}, which its service terms "
        "incorporate, taken as agreed.",
        "with_customer": "Outside the EEA, the standard contractual clauses in that agreement "
        "(Implementing Decision (EU) {decision}, module {module}) bind the customer as exporter and "
        "the provider as importer, so the transfer impact assessment remains the customer's.",
        "onward": "Outside the EEA, {entity} passes the data on to {importer} as its sub-processors "
        "under its own standard contractual clauses (Implementing Decision (EU) {decision}, module 3), "
        "to which the customer is not a party, with general authorisation {notice}.",
        "notice": "and {days} days' notice of new sub-processors, taken as given and run out",
        "no_notice": "whose notice is not verified",
        "no_tool": "Outside the EEA no transfer tool of the provider is taken into account.",
        "in_region": "The data is taken to stay in the places judged; access from elsewhere (support, "
        "the provider's group) is not judged.",
        "withheld": "Not taken into account, as not verified in the provider's own text: {items}.",
        "w_entity": "{name} ({country}) as the contracting entity",
        "w_dpa": "the {dpa}",
        "w_onward": "the module 3 clauses between {entity} and {importer}",
        "w_with_customer": "the standard contractual clauses in its agreement",
        "w_dpf": "a Data Privacy Framework listing of {entity}",
        "w_notice": "the {days} days' notice of new sub-processors",
    },
    "nl": {
        "provider": "de aanbieder",
        "as_contracted": "{provider} is beoordeeld zoals de aanbieder contracteert met een klant "
        "gevestigd in {home} (de voorwaarden zoals gelezen op {date}): {who} als verwerker onder de "
        "{dpa}, die deel is van de dienstvoorwaarden en als gesloten verwerkersovereenkomst geldt.",
        "with_customer": "Buiten de EER binden de standaardcontractbepalingen in die overeenkomst "
        "(Uitvoeringsbesluit (EU) {decision}, module {module}) de klant als gegevensexporteur en de "
        "aanbieder als gegevensimporteur; de doorgiftetoetsing (DTIA) blijft bij de klant.",
        "onward": "Buiten de EER geeft {entity} de gegevens door aan {importer} als subverwerkers, "
        "onder eigen standaardcontractbepalingen (Uitvoeringsbesluit (EU) {decision}, module 3) "
        "waarbij de klant geen partij is, met algemene toestemming {notice}.",
        "notice": "en {days} dagen aankondiging van nieuwe subverwerkers, als gegeven en verstreken "
        "aangenomen",
        "no_notice": "waarvan de aankondigingstermijn niet geverifieerd is",
        "no_tool": "Buiten de EER is geen doorgifte-instrument van de aanbieder meegewogen.",
        "in_region": "De gegevens blijven naar aanname op de beoordeelde plaatsen; toegang van elders "
        "(ondersteuning, het concern van de aanbieder) is niet beoordeeld.",
        "withheld": "Niet meegewogen, omdat niet geverifieerd in de eigen tekst van de aanbieder: {items}.",
        "w_entity": "{name} ({country}) als contractpartij",
        "w_dpa": "de {dpa}",
        "w_onward": "de standaardcontractbepalingen (module 3) tussen {entity} en {importer}",
        "w_with_customer": "de standaardcontractbepalingen in de verwerkersovereenkomst",
        "w_dpf": "een vermelding van {entity} op de Data Privacy Framework List",
        "w_notice": "de aankondiging van nieuwe subverwerkers {days} dagen vooraf",
    },
}
