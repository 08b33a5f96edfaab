"""What the world says about each hop of a flow on its date: flat fact records.

For every recipient node (a hop from its parent) and every place it handles the
data, this module derives the facts the rules match on: the zone, the adequacy
decision and whether its scope reaches this recipient, the SCC module the roles
need and whether the stated clauses count on that date, and so on. It decides
nothing: it only reads the request and the reference data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine import vocabulary as v
from engine.flow import FlowRequest, Recipient
from engine.policy_schema import Settings
from engine.reference import AdequacyDecision, Reference, Zone
from engine.resolve import Place

SENSITIVE = frozenset(v.SPECIAL_CATEGORIES + v.CRIMINAL_CATEGORIES)


@dataclass
class LocationFacts:
    place: Place
    zone: str
    transfer: bool
    facts: dict[str, Any]


@dataclass
class HopFacts:
    path: list[str]
    exporter: str
    recipient: str
    role: str
    facts: dict[str, Any]
    locations: list[LocationFacts] = field(default_factory=list)


@dataclass(frozen=True)
class _Parent:
    """What a hop needs to know about the node it receives the data from."""

    name: str
    role: str  # effective role: controller or processor
    public_body: bool
    third_party_disclosure: str  # yes | no | unknown
    path: tuple[str, ...]


def effective_role(role: str, parent_role: str) -> str:
    """Joint controllers act as controllers; an own branch takes its parent's role."""
    if role == "same_entity":
        return parent_role
    return "processor" if role == "processor" else "controller"


def walk(flow: FlowRequest) -> Iterator[tuple[Recipient, _Parent, str]]:
    """Every node in pre-order with its parent and its id (`r`, `r.0`, `r.0.1`...)."""
    exporter = flow.exporter
    root_parent = _Parent(exporter.name, exporter.role, exporter.public_body, "unknown", (exporter.name,))
    stack: list[tuple[Recipient, _Parent, str]] = [(flow.recipient, root_parent, "r")]
    while stack:
        node, parent, node_id = stack.pop()
        yield node, parent, node_id
        me = _Parent(
            node.name,
            effective_role(node.role, parent.role),
            node.sector == "public",
            _third_party_disclosure(node),
            (*parent.path, node.name),
        )
        stack.extend(
            (child, me, f"{node_id}.{i}") for i, child in reversed(list(enumerate(node.sub_processors)))
        )


def _third_party_disclosure(node: Recipient) -> str:
    clauses = node.agreement.dpa.clauses
    if clauses is None:
        return "unknown"
    return "yes" if "third_party_disclosure" in clauses else "no"


class FactBuilder:
    """Derives hop and location facts for one flow on one date under one profile's settings."""

    def __init__(
        self,
        reference: Reference,
        settings: Settings,
        flow: FlowRequest,
        as_of: dt.date,
        exporter_country: str,
    ):
        self.ref = reference
        self.settings = settings
        self.flow = flow
        self.as_of = as_of
        self.exporter_outside_eea = not reference.in_eea(exporter_country, as_of)
        self.special = bool(SENSITIVE.intersection(flow.data.categories))
        self.required_clauses = sorted(settings.dpa_required_clauses or v.ART_28_3_CLAUSES)

    def hops(self, places: dict[str, list[Place]]) -> list[HopFacts]:
        return [self.hop(node, parent, places[node_id]) for node, parent, node_id in walk(self.flow)]

    def hop(self, node: Recipient, parent: _Parent, places: list[Place]) -> HopFacts:
        common = self._common(node, parent)
        hop = HopFacts(
            path=[*parent.path, node.name],
            exporter=parent.name,
            recipient=node.name,
            role=node.role,
            facts={**common, **self._agreement(node, parent)},
        )
        hop.locations = [self.location(node, parent, place, common) for place in places]
        return hop

    def _common(self, node: Recipient, parent: _Parent) -> dict[str, Any]:
        return {
            "party": node.name,
            "role": node.role,
            "exporter_role": parent.role,
            "exporter_public_body": parent.public_body,
            "sub_processor": node.role == "processor" and parent.role == "processor",
            "under_processor": parent.role == "processor" and node.role in ("controller", "joint_controller"),
            "is_root": len(parent.path) == 1,
            "exporter_outside_eea": len(parent.path) == 1 and self.exporter_outside_eea,
            "recipient_sector": node.sector,
            "special_data": self.special,
            "subject_to_gdpr": node.subject_to_gdpr,
        }

    def _agreement(self, node: Recipient, parent: _Parent) -> dict[str, Any]:
        agreement = node.agreement
        clauses = agreement.dpa.clauses
        missing = sorted(set(self.required_clauses) - set(clauses)) if clauses is not None else []
        auth = agreement.authorisation
        granted = {True: "yes", False: "no", None: "unknown"}[auth.granted]
        return {
            "dpa_signed": agreement.dpa.signed,
            "dpa_clauses_stated": clauses is not None,
            "dpa_clauses_missing": bool(missing),
            "missing_clauses": missing,
            "authorisation_kind": auth.kind,
            "authorisation_written": auth.written,
            "authorisation_granted": granted,
            "notified": auth.notified,
            "objection_period_elapsed": auth.objection_period_elapsed,
            "objected": auth.objected,
            "flow_down": agreement.flow_down,
            "instructed": agreement.instructed,
            "joint_arrangement": agreement.joint_arrangement,
            "parent_third_party_disclosure": parent.third_party_disclosure,
        }

    # ------------------------------------------------------------ locations

    def location(
        self, node: Recipient, parent: _Parent, place: Place, common: dict[str, Any]
    ) -> LocationFacts:
        zone = self._zone(place)
        transfer = zone.transfer and node.role != "same_entity"
        importer = effective_role(node.role, parent.role)
        module = self.ref.module(parent.role, importer)
        facts: dict[str, Any] = {
            **common,
            "country": place.country,
            "city": place.city,
            "place": place.label,
            "zone": zone.zone,
            "transfer": transfer,
            "bridge": zone.bridge is not None and node.role != "same_entity",
            "bridge_act": zone.bridge,
            "location_word": place.word,
            "is_organisation": place.organisation is not None,
            "home_country": self.settings.home_country,
            "outside_home_country": self.settings.home_country is not None
            and place.country != self.settings.home_country,
            "location_consent": node.agreement.location_consent,
            "required_module": module,
            **self._adequacy(node, zone.adequacy),
            **self._scc(node, module),
            **self._bcr(node, parent.role, importer),
            **self._other_safeguards(node, parent),
        }
        facts["safeguard_counts"] = any(
            facts[k]
            for k in (
                "scc_counts",
                "bcr_counts",
                "ad_hoc_clauses",
                "code_of_conduct",
                "certification_scheme",
                "public_instrument_counts",
            )
        )
        facts.update(self._derogation(node, parent))
        facts.update(self._assessment(node, facts))
        return LocationFacts(place, zone.zone, transfer, facts)

    def _zone(self, place: Place) -> Zone:
        if place.word:
            word = self.ref.aliases.location_words[place.word]
            return Zone(word.zone, word.zone != "eea")
        return self.ref.zone(place.key, self.as_of)

    def _adequacy(self, node: Recipient, decision: AdequacyDecision | None) -> dict[str, Any]:
        if decision is None:
            return {
                "adequacy": False,
                "adequacy_covers": False,
                "adequacy_scope": "",
                "adequacy_exclusions": False,
                "adequacy_id": None,
                "adequacy_act": None,
                "adequacy_exclusion_text": None,
                "adequacy_sectors": None,
                "certifications_required": None,
                "certification_framework": "",
            }
        scope = decision.scope
        required: list[str] | None = None
        framework = ""
        if scope.kind == "full":
            covers = True
        elif scope.kind == "certified_organisations":
            required = self._certifications_required(
                {str(k): c for k, c in (scope.certifications or {}).items()}
            )
            covers = all(c in node.certifications for c in required)
            default = (scope.certifications or {}).get("default", "")
            framework = default if default in ("eu-us-dpf", "eu-us-privacy-shield") else "other"
        else:
            covers = node.sector in (scope.sectors or [])
        return {
            "adequacy": True,
            "adequacy_covers": covers,
            "adequacy_scope": scope.kind,
            "adequacy_exclusions": decision.exclusions is not None,
            "adequacy_id": decision.id,
            "adequacy_act": decision.act,
            "adequacy_exclusion_text": decision.exclusions,
            "adequacy_sectors": scope.sectors,
            "certifications_required": required,
            "certification_framework": framework,
        }

    def _certifications_required(self, certifications: dict[str, str]) -> list[str]:
        """HR data needs the HR listing; any other subject (or none stated) the default one."""
        subjects = set(self.flow.data.subjects)
        needed = set()
        if "employees" in subjects:
            needed.add(certifications.get("employees", certifications["default"]))
        if not subjects or subjects - {"employees"}:
            needed.add(certifications["default"])
        return sorted(needed)

    def _scc(self, node: Recipient, module: int) -> dict[str, Any]:
        to_sign = self.ref.scc_to_sign(module, self.as_of)
        out: dict[str, Any] = {
            "scc_to_sign": to_sign.id if to_sign else None,
            "scc_to_sign_act": to_sign.act if to_sign else None,
            "scc_stated": False,
            "scc_counts": False,
            "scc_transitional": False,
            "scc_module": None,
            "scc_decision": None,
            "scc_act": None,
            "scc_problem": None,
        }
        scc = node.agreement.safeguards.scc
        if scc is None:
            return out
        clause_set = self.ref.scc_set(scc.decision)
        valid, transitional = clause_set.counts(self.as_of, scc.concluded_on)
        problem = None
        if scc.module not in clause_set.modules:
            problem = "module_not_in_set"
        elif scc.module != module:
            problem = "module_mismatch"
        elif self.as_of < clause_set.applies_from:
            problem = "not_yet_applicable"
        elif scc.concluded_on is not None and scc.concluded_on > self.as_of:
            problem = "not_yet_concluded"
        elif not valid:
            problem = "expired"
        out.update(
            scc_stated=True,
            scc_counts=problem is None,
            scc_transitional=problem is None and transitional,
            scc_module=scc.module,
            scc_decision=scc.decision,
            scc_act=clause_set.act,
            scc_problem=problem,
        )
        return out

    def _bcr(self, node: Recipient, exporter: str, importer: str) -> dict[str, Any]:
        bcr = node.agreement.safeguards.bcr
        if bcr is None:
            return {"bcr_stated": False, "bcr_counts": False, "bcr_kind": None, "bcr_problem": None}
        kind = self.ref.bcr_kind(bcr.kind)
        problem = None
        if not bcr.approved:
            problem = "not_approved"
        elif exporter not in kind.exporter or importer not in kind.importer:
            problem = "kind_mismatch"
        return {
            "bcr_stated": True,
            "bcr_counts": problem is None,
            "bcr_kind": bcr.kind,
            "bcr_problem": problem,
        }

    def _other_safeguards(self, node: Recipient, parent: _Parent) -> dict[str, Any]:
        s = node.agreement.safeguards
        return {
            "ad_hoc_clauses": s.ad_hoc_clauses,
            "code_of_conduct": s.code_of_conduct,
            "certification_scheme": s.certification,
            "public_instrument_stated": s.public_authority_instrument,
            "public_instrument_counts": s.public_authority_instrument
            and parent.public_body
            and node.sector == "public",
        }

    def _derogation(self, node: Recipient, parent: _Parent) -> dict[str, Any]:
        claim = node.agreement.safeguards.derogation
        if claim is None:
            return {
                "derogation_stated": False,
                "derogation_ground": "",
                "derogation_occasional": False,
                "derogation_public_body_excluded": False,
                "derogation_counts": False,
                "derogation_basis": None,
            }
        record = self.ref.derogation(claim.ground)
        excluded = record.public_body_excluded and parent.public_body
        return {
            "derogation_stated": True,
            "derogation_ground": claim.ground,
            "derogation_occasional": claim.occasional,
            "derogation_public_body_excluded": excluded,
            "derogation_counts": claim.occasional and not excluded,
            "derogation_basis": record.basis,
        }

    def _assessment(self, node: Recipient, facts: dict[str, Any]) -> dict[str, Any]:
        s = node.agreement.safeguards
        relies_on_art46 = facts["transfer"] and not facts["adequacy_covers"]
        relies_on_art46 = relies_on_art46 and (facts["safeguard_counts"] or not facts["derogation_counts"])
        outcome = s.tia.outcome if s.tia else "none"
        return {
            "art46_route": relies_on_art46,
            "assessment_era": self.ref.assessment_required(self.as_of),
            "tia": outcome,
            "tia_outcome": outcome,
            "supplementary_measures": bool(s.supplementary_measures),
            "measures": list(s.supplementary_measures),
        }
