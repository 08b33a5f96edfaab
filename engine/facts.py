"""What the world says about each hop of a flow on its date: flat fact records.

For every recipient node (a hop from its parent) and every place it handles the
data, this module derives the facts the rules match on: the zone, the adequacy
decision and whether its scope reaches this recipient, the SCC module the roles
need and whether the stated clauses count on that date, and so on. It decides
nothing: it only reads the request and the reference data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine import regime as regimes
from engine import vocabulary as v
from engine.flow import FlowRequest, Recipient
from engine.policy_schema import Settings
from engine.reference import AdequacyDecision, Reference, RegimeFile, Zone
from engine.regime_facts import NO_REGIME, RegimeTools, citations, sensitive
from engine.resolve import Place

SENSITIVE = frozenset(v.SPECIAL_CATEGORIES + v.CRIMINAL_CATEGORIES)


@dataclass
class LocationFacts:
    place: Place
    zone: str
    transfer: bool
    facts: dict[str, Any]
    #: the same place's facts under the hop's further regimes (a dual regime: SPEC section 4a)
    variants: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HopFacts:
    path: list[str]
    exporter: str
    recipient: str
    role: str
    facts: dict[str, Any]
    locations: list[LocationFacts] = field(default_factory=list)
    purpose: str | None = None
    affiliate: bool = False
    exporter_role: str = "controller"
    controller: str | None = None
    #: the regimes this hop is judged under; `facts` are under the first, `variants` the others
    regimes: regimes.Regimes = (regimes.GDPR,)
    variants: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Parent:
    """What a hop needs to know about the node it receives the data from."""

    name: str
    role: str  # effective role: controller or processor
    public_body: bool
    third_party_disclosure: str  # yes | no | unknown
    path: tuple[str, ...]
    #: the controller on whose behalf the data flow here, when the flow names it
    controller: str | None = None


def effective_role(role: str, parent_role: str) -> str:
    """Joint controllers act as controllers; an own branch takes its parent's role."""
    if role == "same_entity":
        return parent_role
    return "processor" if role == "processor" else "controller"


def public_body(node: Recipient, parent: _Parent) -> bool:
    """Whether `node`, as the exporter of the hops below it, is a public body.

    A processor acts on its controller's behalf (Art. 28(3)(a), 29) and an own branch is
    its parent, so both keep their exporter's status, down the whole processor chain;
    only a controller (or joint controller) starts afresh, from its own sector."""
    if node.role in ("processor", "same_entity"):
        return parent.public_body
    return node.sector == "public"


def variant_ref(ref: str, k: int) -> str:
    """The fact record id of a hop or place under the hop's k-th regime (the first keeps `ref`)."""
    return ref if k == 0 else f"{ref}~{k}"


def node_loc(node_id: str) -> str:
    """Where a node is in the request: `r.0.1` -> `recipient.sub_processors[0].sub_processors[1]`."""
    return "recipient" + "".join(f".sub_processors[{p}]" for p in node_id.split(".")[1:])


def walk(flow: FlowRequest) -> Iterator[tuple[Recipient, _Parent, str]]:
    """Every node in pre-order with its parent and its id (`r`, `r.0`, `r.0.1`...)."""
    exporter = flow.exporter
    own = exporter.name if exporter.role == "controller" else None
    root_parent = _Parent(
        exporter.name, exporter.role, exporter.public_body, "unknown", (exporter.name,), own
    )
    stack: list[tuple[Recipient, _Parent, str]] = [(flow.recipient, root_parent, "r")]
    while stack:
        node, parent, node_id = stack.pop()
        yield node, parent, node_id
        me = _Parent(
            node.name,
            effective_role(node.role, parent.role),
            public_body(node, parent),
            _third_party_disclosure(node),
            (*parent.path, node.name),
            node.name if node.role in ("controller", "joint_controller") else parent.controller,
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
        country: Callable[[str], str | None],
    ):
        """`country`: resolves a country reference of the request (`Resolver.country`)."""
        self.ref = reference
        self.settings = settings
        self.flow = flow
        self.as_of = as_of
        self.country = country
        exporter_country = country(flow.exporter.country)
        self.areas = reference.regime_areas(as_of)
        self._per_regime: dict[str, dict[str, Any]] = {}
        #: a recipient's tools per hop and regime (`_tools`), keyed by node: nodes outlive this builder
        self._per_hop: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.exporter_outside_eea = not reference.in_eea(exporter_country or "", as_of)
        self.root_regimes = regimes.at_root(self.regime_of(exporter_country), flow.exporter.subject_to_gdpr)
        self.special = bool(SENSITIVE.intersection(flow.data.categories))
        self.required_clauses = sorted(settings.dpa_required_clauses or v.ART_28_3_CLAUSES)
        subjects = set(flow.data.subjects)
        self.employee_data = "employees" in subjects
        self.other_subject_data = not subjects or bool(subjects - {"employees"})
        self.purposes = set(flow.data.purposes)
        self.categories = set(flow.data.categories)

    def hops(self, places: dict[str, list[Place]]) -> list[HopFacts]:
        """Every hop's facts, under the regimes of its own exporter (SPEC section 4a)."""
        out = []
        established: dict[str, str | None] = {}
        judged: dict[str, regimes.Regimes] = {}
        for node, parent, node_id in walk(self.flow):
            established[node_id] = self._established(node, places[node_id])
            if node_id == "r":
                under = self.root_regimes
            else:
                parent_id = node_id.rsplit(".", 1)[0]
                under = regimes.below(self.regime_of(established[parent_id]), judged[parent_id])
            judged[node_id] = under
            out.append(self.hop(node, parent, places[node_id], under, established[node_id]))
        return out

    def regime_of(self, country: str | None) -> str | None:
        return regimes.of_country(country, self.as_of, self.ref.in_eea, self.areas)

    def _established(self, node: Recipient, places: list[Place]) -> str | None:
        """Where the node is established: its `country`, else its first place's."""
        return self.country(node.country) if node.country else next((p.country for p in places), None)

    def hop(
        self,
        node: Recipient,
        parent: _Parent,
        places: list[Place],
        under: regimes.Regimes = (regimes.GDPR,),
        established: str | None = None,
    ) -> HopFacts:
        """The hop's facts under its first regime, and under each further one as variants."""
        first, *rest = [self._hop(node, parent, places, regime, established, under) for regime in under]
        first.regimes = under
        first.variants = [other.facts for other in rest]
        for i, location in enumerate(first.locations):
            location.variants = [other.locations[i].facts for other in rest]
        return first

    def _hop(
        self,
        node: Recipient,
        parent: _Parent,
        places: list[Place],
        regime: str,
        established: str | None,
        under: regimes.Regimes,
    ) -> HopFacts:
        # `also_gdpr`: the hop needs the GDPR's clauses too, so the UK instrument is the Addendum
        also_gdpr = regime != regimes.GDPR and regimes.GDPR in under
        law = self.ref.regimes.get(regime)
        common = {
            **self._common(node, parent),
            "regime": regime,
            "also_gdpr": also_gdpr,
            "cite_gdpr_as": law.cites_gdpr_as if law else None,
        }
        # the law in force may not yet ask the controller's approval of a sub-processor (the old FADP)
        approval = law.subprocessor_approval_required(self.as_of) if law else True
        hop = HopFacts(
            path=[*parent.path, node.name],
            exporter=parent.name,
            recipient=node.name,
            role=node.role,
            facts={
                **common,
                **self._agreement(node, parent),
                "subprocessor_approval_required": approval,
                # the provisions in force on the date, which a regime's hop rules cite (`$law_*`)
                **(citations(law, self.as_of) if law else _NO_LAW),
            },
            purpose=node.purpose,
            affiliate=node.affiliate,
            exporter_role=parent.role,
            controller=parent.controller,
        )
        in_eea = established is not None and self.ref.in_eea(established, self.as_of)
        inside = law.in_area(established) if law else in_eea
        hop.locations = [self.location(node, parent, place, common, in_eea, inside) for place in places]
        return hop

    def _common(self, node: Recipient, parent: _Parent) -> dict[str, Any]:
        is_root = len(parent.path) == 1
        # only a controller can be the exporting processor's own controller (SPEC section 2)
        own_controller = node.controller_of_exporter
        if own_controller is None:
            own_controller = is_root and parent.role == "processor"
        own_controller = own_controller and node.role in ("controller", "joint_controller")
        return {
            "party": node.name,
            "role": node.role,
            "exporter_role": parent.role,
            "exporter_public_body": parent.public_body,
            "sub_processor": node.role == "processor" and parent.role == "processor",
            "under_processor": parent.role == "processor" and node.role in ("controller", "joint_controller"),
            "controller_of_exporter": own_controller,
            "is_root": is_root,
            "exporter_outside_eea": is_root and self.exporter_outside_eea,
            "recipient_sector": node.sector,
            "federally_regulated": node.federally_regulated,
            "special_data": self.special,
            "employee_data": self.employee_data,
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
            "answer_period_elapsed": auth.answer_period_elapsed,
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
        self,
        node: Recipient,
        parent: _Parent,
        place: Place,
        common: dict[str, Any],
        recipient_in_eea: bool = False,
        recipient_in_area: bool | None = None,
    ) -> LocationFacts:
        """The place's facts under the hop's regime: the GDPR's from `adequacy.yaml` and
        `instruments.yaml`, another regime's from its own file (`regime_facts.py`)."""
        regime = common.get("regime", regimes.GDPR)
        law = self.ref.regimes.get(regime)
        zone = self._zone(place)
        inside = recipient_in_eea if recipient_in_area is None else recipient_in_area
        same_entity = node.role == "same_entity"
        in_area = law.in_area(place.country) if law else zone.zone == "eea"
        # a processor's return to its own controller, where the regime does not restrict it
        returned = (
            law is not None and not law.processor_return_restricted and common["controller_of_exporter"]
        )
        # EDPB Guidelines 05/2021 criteria 2 and 3 (the ICO's three steps alike): no transfer
        # without another party receiving the data; an importer established in the regime's
        # area stays inside it even when its own staff reach the data from abroad; data in
        # transit reach nobody
        own_staff_inside = place.access == "own_staff" and inside
        outside = not in_area if law else zone.transfer
        transfer = (
            outside
            and not same_entity
            and place.access != "transit"
            and not own_staff_inside
            and not returned
        )
        importer = effective_role(node.role, parent.role)
        module = self.ref.module(parent.role, importer, common["controller_of_exporter"])
        adequacy = law.adequacy_for(place.country, zone.zone == "eea", self.as_of) if law else zone.adequacy
        facts: dict[str, Any] = {
            **common,
            "country": place.country,
            "city": place.city,
            "place": place.label,
            "zone": zone.zone,
            "transfer": transfer,
            "in_area": in_area,
            "access": place.access,
            "recipient_in_eea": recipient_in_eea,
            "recipient_in_area": inside,
            "bridge": zone.bridge is not None and not same_entity and law is None,
            "bridge_act": zone.bridge,
            "location_word": place.word,
            "is_organisation": place.organisation is not None,
            "home_country": self.settings.home_country,
            "outside_home_country": self.settings.home_country is not None
            and place.country != self.settings.home_country,
            "location_consent": node.agreement.location_consent,
            "required_module": module,
            "combines_eu_data": node.combines_eu_data,
            **self._adequacy(node, adequacy),
            **self._tools(node, parent.role, importer, module, law, common.get("also_gdpr", False)),
        }
        return LocationFacts(place, zone.zone, transfer, facts)

    def _tools(
        self,
        node: Recipient,
        exporter: str,
        importer: str,
        module: int,
        law: RegimeFile | None,
        also_gdpr: bool,
    ) -> dict[str, Any]:
        """The safeguards, derogation and assessment the recipient states, as its hop's regime
        reads them: the same at each of its places, so worked out once per hop and regime."""
        key = (id(node), exporter, importer, module, law.regime if law else None, also_gdpr)
        found = self._per_hop.get(key)
        if found is None:
            found = {
                **self._scc(node, module),
                **self._bcr(node, exporter, importer, law),
                **self._other_safeguards(node),
                **self._derogation(node, law),
                **self._assessment(node, law),
                **self._regime(node, module, law, also_gdpr),
            }
            self._per_hop[key] = found
        return found

    def _regime(
        self, node: Recipient, module: int, law: RegimeFile | None, also_gdpr: bool
    ) -> dict[str, Any]:
        if law is None:
            return dict(NO_REGIME)
        tools = RegimeTools(law, self.ref.scc_set, self.as_of, also_gdpr)
        return {**self._regime_common(law), **tools.facts(node, module)}

    def _regime_common(self, law: RegimeFile) -> dict[str, Any]:
        """What a regime says the same of every place of the flow (the provisions in force, the
        categories to identify): worked out once per regime and evaluation."""
        found = self._per_regime.get(law.regime)
        if found is None:
            found = {**NO_REGIME, **citations(law, self.as_of), **sensitive(law, self.categories)}
            self._per_regime[law.regime] = found
        return found

    def _zone(self, place: Place) -> Zone:
        if place.word:
            word = self.ref.aliases.location_words[place.word]
            return Zone(word.zone, word.zone != "eea")
        return self.ref.zone(place.key, self.as_of)

    def _adequacy(self, node: Recipient, decision: AdequacyDecision | None) -> dict[str, Any]:
        """What the decision in force says, and what the flow states that its scope reads."""
        if decision is None:
            return dict(_NO_ADEQUACY)
        scope = decision.scope
        listings = scope.certifications or {}
        default = listings.get("default")
        hr = listings.get("employees", default)
        exclusions = [e for e in decision.exclusions if e.in_force(self.as_of)]
        triggered = [e.id for e in exclusions if e.triggered_by(self.purposes, self.categories, node.sector)]
        return {
            "adequacy": True,
            "adequacy_scope": scope.kind,
            "certification_framework": scope.framework or "",
            "sector_in_scope": node.sector in (scope.sectors or []),
            "employees_limited": scope.employees_limited,
            "other_subject_data": self.other_subject_data,
            "holds_listing": bool(set(listings.values()).intersection(node.certifications)),
            "holds_default_listing": default in node.certifications,
            "holds_hr_listing": hr in node.certifications,
            "exclusion_triggered": bool(triggered),
            "exclusion_assumed": bool(exclusions) and not triggered,
            "adequacy_indicative": getattr(decision, "indicative", False),
            "adequacy_id": decision.id,
            "adequacy_act": decision.act,
            "adequacy_sectors": scope.sectors,
            "employees_basis": scope.employees_basis,
            "exclusions_triggered": triggered,
            "exclusions_assumed": [e.id for e in exclusions] if not triggered else [],
            "exclusion_texts": " ".join(e.text for e in exclusions if not triggered or e.id in triggered),
            "exclusion_basis": sorted({e.basis for e in exclusions}),
            "certifications_required": self._listings_needed(default, hr),
        }

    def _listings_needed(self, default: str | None, hr: str | None) -> list[str] | None:
        """For the message only: the listings the stated subjects call for (the rule that
        decides coverage is `listing_covers` in policies/gdpr/transfers.yaml)."""
        if default is None:
            return None
        needed = {hr} if self.employee_data else set()
        if self.other_subject_data:
            needed.add(default)
        return sorted(x for x in needed if x)

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
            "scc_new_contracts_until": None,
            "scc_concluded_contracts_until": None,
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
            scc_new_contracts_until=_iso(clause_set.new_contracts_until),
            scc_concluded_contracts_until=_iso(clause_set.concluded_contracts_until),
        )
        return out

    def _bcr(
        self, node: Recipient, exporter: str, importer: str, law: RegimeFile | None = None
    ) -> dict[str, Any]:
        bcr = node.agreement.safeguards.bcr
        if bcr is None:
            return {"bcr_stated": False, "bcr_counts": False, "bcr_kind": None, "bcr_problem": None}
        kinds = {k.kind: k for k in law.bcr_kinds} if law else None
        kind = kinds[bcr.kind] if kinds else self.ref.bcr_kind(bcr.kind)
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

    def _other_safeguards(self, node: Recipient) -> dict[str, Any]:
        s = node.agreement.safeguards
        arrangement = s.administrative_arrangement
        return {
            "ad_hoc_clauses": s.ad_hoc_clauses,
            "code_of_conduct": s.code_of_conduct,
            "certification_scheme": s.certification,
            "public_instrument_stated": s.public_authority_instrument,
            "arrangement_stated": arrangement is not None,
            "arrangement_authorised": arrangement is not None and arrangement.authorised,
        }

    def _derogation(self, node: Recipient, law: RegimeFile | None = None) -> dict[str, Any]:
        claim = node.agreement.safeguards.derogation
        if claim is None:
            return dict(_NO_DEROGATION)
        record = law.derogation(claim.ground, self.as_of) if law else self.ref.derogation(claim.ground)
        if record is None:  # a ground this regime's law does not know on the date: it carries nothing
            return {**_NO_DEROGATION, "derogation_ground": claim.ground, "derogation_unknown": True}
        return {
            "derogation_stated": True,
            "derogation_unknown": False,
            "derogation_ground": claim.ground,
            "derogation_occasional": claim.occasional,
            "derogation_occasional_required": record.occasional_required,
            "derogation_public_body_excluded": record.public_body_excluded,
            "derogation_basis": record.basis,
            "derogation_occasional_basis": record.occasional_basis,
            "derogation_inform_on_request": record.authority_informed_on_request,
        }

    def _assessment(self, node: Recipient, law: RegimeFile | None = None) -> dict[str, Any]:
        s = node.agreement.safeguards
        effective = {self.ref.measure(m).effective for m in s.supplementary_measures}
        outcome = s.tia.outcome if s.tia else "none"
        era = self.as_of >= law.assessment_required_from if law else self.ref.assessment_required(self.as_of)
        return {
            "assessment_era": era,
            "tia": outcome,
            "tia_outcome": outcome,
            "supplementary_measures": bool(s.supplementary_measures),
            "measure_effective_always": "always" in effective,
            "measure_effective_without_clear_text": "without_clear_text" in effective,
            "needs_clear_text_access": node.needs_clear_text_access,
            "measures": list(s.supplementary_measures),
        }


_NO_LAW: dict[str, Any] = {f"law_{topic}": [] for topic in regimes.LAW_TOPICS}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


_NO_ADEQUACY: dict[str, Any] = {
    "adequacy": False,
    "adequacy_scope": "",
    "certification_framework": "",
    "sector_in_scope": False,
    "employees_limited": False,
    "other_subject_data": False,
    "holds_listing": False,
    "holds_default_listing": False,
    "holds_hr_listing": False,
    "exclusion_triggered": False,
    "exclusion_assumed": False,
    "adequacy_indicative": False,
    "adequacy_id": None,
    "adequacy_act": None,
    "adequacy_sectors": None,
    "employees_basis": None,
    "exclusions_triggered": [],
    "exclusions_assumed": [],
    "exclusion_texts": "",
    "exclusion_basis": [],
    "certifications_required": None,
}

_NO_DEROGATION: dict[str, Any] = {
    "derogation_stated": False,
    "derogation_unknown": False,
    "derogation_ground": "",
    "derogation_occasional": False,
    "derogation_occasional_required": False,
    "derogation_public_body_excluded": False,
    "derogation_basis": None,
    "derogation_occasional_basis": None,
    "derogation_inform_on_request": False,
}
