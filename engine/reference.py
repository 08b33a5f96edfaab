"""Reference data: dated, sourced facts about the world, queried "as of" a date.

The files in `adequacy_data/` are parsed into these models (unknown keys refused),
validated across files, and answered through `Reference`: which zone a country is
in on a date, which adequacy decision applies, which clause sets count. No
outcome is decided here; the rules in `policies/` do that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from engine import vocabulary as v
from engine.errors import LoadError, LoadProblem
from engine.yamlfile import LoadProblems, YamlDoc, read


def _iso_alpha2(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
    return code


Alpha2 = Annotated[str, AfterValidator(_iso_alpha2)]
Url = Annotated[HttpUrl, AfterValidator(str)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------- EEA


class Member(Record):
    country: Alpha2
    name: str
    part_of: Alpha2 | None = None
    from_: dt.date = Field(alias="from")
    until: dt.date | None
    basis: str
    source: str


class Bridge(Record):
    country: Alpha2
    from_: dt.date = Field(alias="from")
    until: dt.date
    act: str
    source: str


class Outside(Record):
    country: Alpha2
    name: str
    basis: str
    source: str


class EeaFile(Record):
    version: dt.date
    last_reviewed: dt.date
    sources: dict[str, Url]
    members: list[Member]
    bridges: list[Bridge]
    outside: list[Outside]


# ----------------------------------------------------------------- adequacy


class Scope(Record):
    kind: Literal["full", "certified_organisations", "sectors"]
    certifications: dict[Literal["default", "employees"], str] | None = None
    #: the kind of framework the listings belong to (certified_organisations only)
    framework: Literal[v.CERTIFICATION_FRAMEWORKS] | None = None  # type: ignore[valid-type]
    sectors: list[Literal[v.SECTORS]] | None = None  # type: ignore[valid-type]
    #: employee data are covered only for a processor or a federally regulated recipient
    #: (Canada: PIPEDA s. 4(1)(b)); the rule that reads it is in policies/
    employees_limited: bool = False
    employees_basis: str | None = None


class Trigger(Record):
    """What in a flow request shows that an exclusion applies: any one stated item."""

    purposes: list[Literal[v.PURPOSES]] = Field(default_factory=list)  # type: ignore[valid-type]
    categories: list[Literal[v.CATEGORIES]] = Field(default_factory=list)  # type: ignore[valid-type]
    sectors: list[Literal[v.SECTORS]] = Field(default_factory=list)  # type: ignore[valid-type]


class Exclusion(Record):
    """A part of an adequacy act's scope that it does not cover.

    With a trigger, a flow that states it is outside the decision. What no request field
    can show (no trigger) is taken on the caller's word: the answer echoes an assumption."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$")]
    text: str
    basis: str
    trigger: Trigger | None = None
    from_: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.from_ is None or self.from_ <= on) and (self.until is None or on <= self.until)

    def triggered_by(self, purposes: set[str], categories: set[str], sector: str) -> bool:
        t = self.trigger
        if t is None:
            return False
        return bool(purposes.intersection(t.purposes) or categories.intersection(t.categories)) or (
            sector in t.sectors
        )


class AdequacyDecision(Record):
    id: str
    country: Alpha2 | None = None
    organisation: str | None = None
    act: str
    adopted: dt.date
    applies_from: dt.date
    expires: dt.date | None = None
    invalidated: dt.date | None = None
    scope: Scope
    exclusions: list[Exclusion] = Field(default_factory=list)
    note: str | None = None
    source: Url
    confidence: Literal["high", "medium", "low"]
    last_reviewed: dt.date

    def in_force(self, on: dt.date) -> bool:
        if on < self.applies_from:
            return False
        if self.expires is not None and on > self.expires:
            return False
        return self.invalidated is None or on < self.invalidated

    @property
    def place(self) -> str:
        return self.country or f"organisation:{self.organisation}"


class AdequacyFile(Record):
    version: dt.date
    last_reviewed: dt.date
    decisions: list[AdequacyDecision]


# ----------------------------------------------------------------- instruments


class ModulePair(Record):
    module: int = Field(ge=1, le=4)
    exporter: Literal["controller", "processor"]
    importer: Literal["controller", "processor"]
    #: a controller importer that is (true) or is not (false) the exporting processor's own
    #: controller; absent where it does not matter
    own_controller: bool | None = None


class SccSet(Record):
    id: Literal[v.SCC_DECISIONS]  # type: ignore[valid-type]
    act: str
    adopted: dt.date
    applies_from: dt.date
    new_contracts_until: dt.date | None
    concluded_contracts_until: dt.date | None
    modules: list[int]
    source: Url
    last_reviewed: dt.date

    def open_for_new_contracts(self, on: dt.date) -> bool:
        return self.applies_from <= on and (
            self.new_contracts_until is None or on <= self.new_contracts_until
        )

    def counts(self, on: dt.date, concluded_on: dt.date | None) -> tuple[bool, bool]:
        """(counts on `on`, counts only through the transition for old contracts)."""
        if concluded_on is not None and concluded_on > on:
            return False, False
        if self.open_for_new_contracts(on):
            return True, False
        if (
            self.new_contracts_until is not None
            and self.concluded_contracts_until is not None
            and concluded_on is not None
            and concluded_on <= self.new_contracts_until
            and self.applies_from <= on <= self.concluded_contracts_until
        ):
            return True, True
        return False, False


class ImpactAssessment(Record):
    required_from: dt.date
    basis: list[str]
    source: Url
    guidance: Url
    last_reviewed: dt.date


class BcrKind(Record):
    kind: Literal[v.BCR_KINDS]  # type: ignore[valid-type]
    exporter: list[Literal["controller", "processor"]]
    importer: list[Literal["controller", "processor"]]
    basis: list[str]
    guidance: str
    source: Url
    last_reviewed: dt.date


class DerogationRecord(Record):
    id: Literal[v.DEROGATIONS]  # type: ignore[valid-type]
    basis: str
    #: Art. 49(3): not for public authorities in the exercise of their public powers
    public_body_excluded: bool
    #: usable only for an occasional, non-repetitive transfer (recital 111, Art. 49(1)
    #: second subparagraph, or the EDPB's reading in Guidelines 2/2018)
    occasional_required: bool
    occasional_basis: str | None = None
    #: the exporter informs the supervisory authority of such transfers when it asks (FADP
    #: Art. 17(2): the FDPIC, for Art. 17(1)(b)(2), (c) and (d))
    authority_informed_on_request: bool = False
    #: a regime's ground may differ between its laws (the old FADP Art. 6(2), FADP Art. 17): the
    #: period the record is the law in; absent, always
    from_: dt.date | None = Field(None, alias="from")
    until: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.from_ is None or self.from_ <= on) and (self.until is None or on <= self.until)


class MeasureRecord(Record):
    """A supplementary measure and when the EDPB found it effective (Recommendations 01/2020)."""

    id: Literal[v.SUPPLEMENTARY_MEASURES]  # type: ignore[valid-type]
    #: always: whatever the recipient's access; without_clear_text: only when the recipient
    #: does not need the data in the clear; never: never enough on its own
    effective: Literal["always", "without_clear_text", "never"]
    basis: str


class InstrumentsFile(Record):
    version: dt.date
    last_reviewed: dt.date
    modules: list[ModulePair]
    modules_source: Url
    scc_sets: list[SccSet]
    impact_assessment: ImpactAssessment
    bcr_kinds: list[BcrKind]
    derogations: list[DerogationRecord]
    derogations_source: Url
    supplementary_measures: list[MeasureRecord]
    supplementary_measures_source: Url


# ----------------------------------------------------------------- aliases


class Organisation(Record):
    name: str
    aliases: list[str]


class LocationWord(Record):
    zone: Literal[v.ZONES]  # type: ignore[valid-type]


class AliasesFile(Record):
    version: dt.date
    last_reviewed: dt.date
    countries: dict[str, Alpha2]
    aliases_source: Url
    organisations: dict[str, Organisation]
    location_words: dict[str, LocationWord]


# ----------------------------------------------------------------- regions


class RegionSource(Record):
    title: str
    url: Url
    read_on: dt.date


class Region(Record):
    id: str
    name: str
    city: str | None
    country: Alpha2
    partition: Literal["commercial", "government", "china", "sovereign", "restricted", "dedicated"]
    launched: dt.date | None
    retired: dt.date | None
    country_inferred: bool
    note: str | None
    sources: list[str] = Field(min_length=1)


class UnconfirmedRegion(Record):
    id: str
    name: str | None = None
    reason: str
    sources: list[str] = Field(default_factory=list)


class ProviderFile(Record):
    provider: Literal[v.CLOUD_PROVIDERS]  # type: ignore[valid-type]
    name: str
    last_reviewed: dt.date
    sources: dict[str, RegionSource]
    regions: list[Region]
    unconfirmed: list[UnconfirmedRegion] = Field(default_factory=list)


# ----------------------------------------------------------------- regimes
# The transfer law of a regime other than the GDPR (SPEC section 4a), one file per regime in
# `adequacy_data/regimes/`: its own area, its adequacy records, the clauses that count on a
# date, its derogations, from when an assessment is due, and which articles say so on the
# date. The rules in `policies/gdpr/<regime>/` decide what follows, exactly as
# `policies/gdpr/*.yaml` do from `adequacy.yaml` and `instruments.yaml`.

#: the places an adequacy record of a regime may name besides one country: every EEA state on the date
AREA_EEA = "EEA"


class LawPeriod(Record):
    """The provisions that govern each question in a period: `topic -> citations`."""

    from_: dt.date = Field(alias="from")
    until: dt.date | None = None
    citations: dict[str, list[Annotated[str, Field(min_length=2)]]]
    source: str

    def in_force(self, on: dt.date) -> bool:
        return self.from_ <= on and (self.until is None or on <= self.until)


class Tool(Record):
    """A transfer instrument of the regime (the IDTA, the UK Addendum; the adapted EU clauses)."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    act: str
    applies_from: dt.date
    #: the request field that states it: `safeguards.idta`, `safeguards.uk_addendum`, or the
    #: EU clauses themselves (`scc`) when the regime adopts them with its own adaptations
    stated_by: Literal["idta", "uk_addendum", "scc"]
    #: the EU clause set the instrument amends or adapts, when it does not stand alone
    with_clauses: Literal[v.SCC_DECISIONS] | None = None  # type: ignore[valid-type]
    source: str
    last_reviewed: dt.date


class LegacyClauses(Record):
    """The old EU clause sets under the regime's own transition."""

    sets: list[Literal[v.SCC_DECISIONS]]  # type: ignore[valid-type]
    new_contracts_until: dt.date
    concluded_contracts_until: dt.date
    source: str
    confidence: Literal["high", "medium", "low"]
    last_reviewed: dt.date


class RegimeAdequacy(AdequacyDecision):
    """An adequacy record of the regime: one country, or every EEA state (`area: EEA`)."""

    area: Literal["EEA"] | None = None
    #: a list that binds no one: the exporter still answers for the adequacy it relies on (the
    #: FDPIC's list of states under the old FADP, old DPO Art. 7); the rules echo an assumption
    indicative: bool = False

    @property
    def place(self) -> str:
        return self.area or super().place


class RegimeFile(Record):
    regime: Literal["uk_gdpr", "ch_fadp"]
    name: str
    #: the regime's own area: no transfer inside it
    area: list[Alpha2]
    applies_from: dt.date
    version: dt.date
    last_reviewed: dt.date
    sources: dict[str, Url]
    law: list[LawPeriod]
    adequacy: list[RegimeAdequacy]
    tools: list[Tool]
    legacy_clauses: LegacyClauses
    #: from when a transfer on a safeguard needs an assessment of the destination
    assessment_required_from: dt.date
    bcr_kinds: list[BcrKind]
    #: the Art. 49 (or FADP Art. 17) grounds the regime knows, with their limits
    derogations: list[DerogationRecord]
    #: how the regime cites the GDPR's articles it keeps with their numbers ("UK GDPR" for Art. 28:
    #: a rule shared with the GDPR cites `GDPR Art. 28(2)` as `UK GDPR Art. 28(2)` for this regime)
    cites_gdpr_as: str | None = None
    #: whether a processor's transfer back to its own controller is a transfer under the regime
    #: (the ICO: it is not a restricted transfer)
    processor_return_restricted: bool = True
    #: data categories a US recipient must be told to treat as sensitive (UK Extension)
    identify_as_sensitive: list[Literal[v.CATEGORIES]] = Field(default_factory=list)  # type: ignore[valid-type]
    #: from when a processor needs its controller's prior approval to engage another processor
    #: (FADP Art. 9(3) from 2023-09-01; the old FADP Art. 10a had no such rule); absent, always
    subprocessor_approval_from: dt.date | None = None
    #: up to when the authority must be informed of contractual safeguards and group rules
    #: before a transfer relies on them (old FADP Art. 6(3)); absent, never
    safeguards_notified_until: dt.date | None = None

    def citations(self, topic: str, on: dt.date) -> list[str]:
        """The provisions on `topic` in force on `on` (the first period's before the regime began)."""
        period = next((p for p in self.law if p.in_force(on)), self.law[0])
        return list(period.citations.get(topic, []))

    def in_area(self, country: str | None) -> bool:
        return country in self.area

    def adequacy_for(self, country: str | None, in_eea: bool, on: dt.date) -> RegimeAdequacy | None:
        """The regime's adequacy record in force for a country on a date."""
        places = {country, AREA_EEA if in_eea else None} - {None}
        return next((d for d in self.adequacy if d.place in places and d.in_force(on)), None)

    def tool(self, tool_id: str) -> Tool:
        return next(t for t in self.tools if t.id == tool_id)

    def derogation(self, ground: str, on: dt.date) -> DerogationRecord | None:
        """The regime's record of a ground in force on `on`; None when its law knows no such ground."""
        return next((d for d in self.derogations if d.id == ground and d.in_force(on)), None)

    def subprocessor_approval_required(self, on: dt.date) -> bool:
        return self.subprocessor_approval_from is None or on >= self.subprocessor_approval_from

    def safeguards_notified(self, on: dt.date) -> bool:
        return self.safeguards_notified_until is not None and on <= self.safeguards_notified_until


# ----------------------------------------------------------------- providers as processors


class TermsSource(RegionSource):
    """A source of a provider's terms: its own page (`primary`) or a third party's copy or report."""

    kind: Literal["primary", "secondary"]
    document_date: str | None = None


class TermsFact(Record):
    """One fact of a provider's terms, with where it was read and whether it was verified.

    `verified`: read in the provider's own words (its page, or a copy of its own contract text);
    false: a third party's report or an inference. Only verified facts shape a verdict
    (engine.contracting); the others are stated as not taken into account."""

    verified: bool
    confidence: Literal["high", "medium", "low"]
    sources: list[str] = Field(min_length=1)
    quote: str | None = None
    note: str | None = None


class ContractingEntity(TermsFact):
    name: str
    country: Alpha2


class ProcessingTerms(TermsFact):
    """The provider's Art. 28 terms: `incorporated` into its service terms (no signature needed)."""

    title: str
    applies: Literal["incorporated", "signed"]
    version: str | None = None


class TransferTerms(TermsFact):
    """How the provider's terms cover a transfer outside the EEA.

    `with_customer`: the DPA puts clauses between the customer (exporter) and the provider
    (importer), `modules` by the customer's role. `onward`: the provider's EEA entity is the
    exporter to `importer`, its sub-processor, under its own module 3 clauses; the customer is
    not a party."""

    structure: Literal["with_customer", "onward"]
    decision: Literal[v.SCC_DECISIONS]  # type: ignore[valid-type]
    modules: dict[Literal["controller", "processor"], int]
    importer: str | None = None
    importer_country: Alpha2 | None = None

    @model_validator(mode="after")
    def _complete(self) -> TransferTerms:
        if set(self.modules) != {"controller", "processor"}:
            raise ValueError("modules needs the module for a controller and for a processor customer")
        if self.structure == "onward" and (self.importer is None or set(self.modules.values()) != {3}):
            raise ValueError("onward clauses need an importer and module 3 (processor to processor)")
        return self


class DpfListing(TermsFact):
    """The provider group's Data Privacy Framework listing; `frameworks` only from the DPF List."""

    entity: str
    frameworks: list[Literal[v.CERTIFICATIONS]] = Field(default_factory=list)  # type: ignore[valid-type]


class SubProcessorTerms(TermsFact):
    list_url: Url | None = None
    notice_days: int = Field(ge=0)
    objection: str | None = None


class ProviderTerms(Record):
    """A provider as processor of a customer in `customers` (exporter countries): `providers/<id>.yaml`."""

    provider: Literal[v.CLOUD_PROVIDERS]  # type: ignore[valid-type]
    name: str
    last_reviewed: dt.date
    customers: list[Alpha2] = Field(min_length=1)
    sources: dict[str, TermsSource] = Field(min_length=1)
    entity: ContractingEntity
    dpa: ProcessingTerms
    transfers: TransferTerms
    dpf: DpfListing
    sub_processors: SubProcessorTerms

    def facts(self) -> dict[str, TermsFact]:
        """Every sourced fact by its key in the file."""
        return {
            "entity": self.entity,
            "dpa": self.dpa,
            "transfers": self.transfers,
            "dpf": self.dpf,
            "sub_processors": self.sub_processors,
        }


# ----------------------------------------------------------------- queries


@dataclass(frozen=True)
class Zone:
    """Where a place stands on a date, before any recipient is considered."""

    zone: str  # eea | adequate | adequate_partial | third_country
    transfer: bool
    bridge: str | None = None  # the act of a transition bridge, when one applies
    adequacy: AdequacyDecision | None = None


#: reference facts not reviewed within this many days are named by `doorgifte check`
REVIEW_MAX_DAYS = 365


@dataclass
class Reference:
    eea: EeaFile
    adequacy: AdequacyFile
    instruments: InstrumentsFile
    aliases: AliasesFile
    providers: dict[str, ProviderFile]
    version: str
    #: the UK's and Switzerland's transfer law, by regime id
    regimes: dict[str, RegimeFile] = field(default_factory=dict)
    #: each provider's terms as processor (`providers/<id>.yaml`), for the providers that have them
    terms: dict[str, ProviderTerms] = field(default_factory=dict)

    def unreviewed(self, on: dt.date, max_age_days: int = REVIEW_MAX_DAYS) -> list[str]:
        """Every file and dated record whose `last_reviewed` is more than `max_age_days` before `on`
        or after it, as "name: last reviewed D": reference facts go stale, so `doorgifte check`
        names them (on today's date) while the tests pass a fixed date and stay green."""
        dated: list[tuple[str, dt.date]] = [
            (name, getattr(self, name).last_reviewed)
            for name in ("eea", "adequacy", "instruments", "aliases")
        ]
        dated += [(f"adequacy decision {d.id}", d.last_reviewed) for d in self.adequacy.decisions]
        dated += [(f"clauses {s.id}", s.last_reviewed) for s in self.instruments.scc_sets]
        dated += [(f"regions of {p}", f.last_reviewed) for p, f in sorted(self.providers.items())]
        for rid, regime in sorted(self.regimes.items()):
            dated.append((f"regime {rid}", regime.last_reviewed))
            dated += [(f"{rid} adequacy {d.id}", d.last_reviewed) for d in regime.adequacy]
            dated += [(f"{rid} tool {t.id}", t.last_reviewed) for t in regime.tools]
            dated.append((f"{rid} legacy clauses", regime.legacy_clauses.last_reviewed))
        dated += [(f"terms of {p}", t.last_reviewed) for p, t in sorted(self.terms.items())]
        return [
            f"{name}: last reviewed {day.isoformat()}"
            + (
                " (after the date checked)"
                if day > on
                else f" ({(on - day).days} days before {on.isoformat()})"
            )
            for name, day in dated
            if day > on or (on - day).days > max_age_days
        ]

    def __post_init__(self) -> None:
        self._members: dict[str, list[Member]] = {}
        for m in self.eea.members:
            self._members.setdefault(m.country, []).append(m)
        self._decisions: dict[str, list[AdequacyDecision]] = {}
        for d in self.adequacy.decisions:
            self._decisions.setdefault(d.place, []).append(d)
        self._regions = {p: {r.id: r for r in f.regions} for p, f in self.providers.items()}
        self._regions_folded = {p: {r.id.casefold(): r for r in f.regions} for p, f in self.providers.items()}
        # display names as consoles and Terraform plans spell them ("West Europe", "westeurope")
        # Azure takes a location by its display name too ("West Europe" for westeurope), in its
        # portal, CLI and Terraform plans; other providers' names are descriptions, not ids
        self._regions_named = {
            p: {_squash(r.name): r for r in f.regions}
            for p, f in self.providers.items()
            if p in NAMED_LOCATIONS
        }
        self._unconfirmed = {
            p: {u.id.casefold(): u for u in f.unconfirmed} for p, f in self.providers.items()
        }
        self._modules: dict[tuple[str, str, bool | None], int] = {
            (m.exporter, m.importer, m.own_controller): m.module for m in self.instruments.modules
        }
        self._scc = {s.id: s for s in self.instruments.scc_sets}
        self._bcr = {b.kind: b for b in self.instruments.bcr_kinds}
        self._derogations = {d.id: d for d in self.instruments.derogations}
        self._measures = {m.id: m for m in self.instruments.supplementary_measures}

    # places
    def in_eea(self, country: str, on: dt.date) -> bool:
        return any(
            m.from_ <= on and (m.until is None or on <= m.until) for m in self._members.get(country, [])
        )

    def bridge(self, country: str, on: dt.date) -> Bridge | None:
        return next((b for b in self.eea.bridges if b.country == country and b.from_ <= on <= b.until), None)

    def adequacy_for(self, place: str, on: dt.date) -> AdequacyDecision | None:
        """The decision in force for a country code or `organisation:<id>` on a date."""
        return next((d for d in self._decisions.get(place, []) if d.in_force(on)), None)

    def zone(self, place: str | None, on: dt.date) -> Zone:
        """The zone of a country code (or `organisation:<id>`); None is 'somewhere unknown'."""
        if place is None:
            return Zone("third_country", True)
        if self.in_eea(place, on):
            return Zone("eea", False)
        bridge = self.bridge(place, on)
        if bridge is not None:
            return Zone("adequate", False, bridge=bridge.act)
        decision = self.adequacy_for(place, on)
        if decision is None:
            return Zone("third_country", True)
        partial = decision.scope.kind != "full"
        return Zone("adequate_partial" if partial else "adequate", True, adequacy=decision)

    def regime_areas(self, on: dt.date) -> dict[str, str]:
        """country -> the regime whose own area it is on `on` (SPEC section 4a)."""
        return {c: r.regime for r in self.regimes.values() if r.applies_from <= on for c in r.area}

    def region(self, provider: str, region: str) -> Region | None:
        """A region by its id as the provider spells it, in another letter case, or by its
        display name (`West Europe` for Azure's `westeurope`)."""
        found = self._regions.get(provider, {}).get(region)
        found = found or self._regions_folded.get(provider, {}).get(region.casefold())
        return found or self._regions_named.get(provider, {}).get(_squash(region))

    def unconfirmed_region(self, provider: str, region: str) -> UnconfirmedRegion | None:
        """A region the provider lists but whose country no source states."""
        return self._unconfirmed.get(provider, {}).get(region.casefold())

    def providers_of(self, region: str) -> list[str]:
        """Every provider that has a region of this id (to name a region given under the wrong one)."""
        return sorted(p for p in self.providers if region.casefold() in self._regions_folded.get(p, {}))

    def regions_in_city(self, provider: str, words: list[str]) -> list[Region]:
        """The provider's regions in a city one of `words` names (a hint for an id written after
        another provider's pattern, such as `eu-frankfurt-1` under aws)."""
        wanted = {w.casefold() for w in words if len(w) > 3} - _NOT_A_CITY
        return [
            r for r in self.providers[provider].regions if wanted & set((r.city or "").casefold().split())
        ]

    def region_ids(self, provider: str) -> list[str]:
        return list(self._regions.get(provider, {}))

    # instruments
    def module(self, exporter: str, importer: str, own_controller: bool) -> int:
        """The SCC module of a role pair; a controller importer of a processor exporter
        depends on whether it is that processor's own controller."""
        found = self._modules.get((exporter, importer, own_controller))
        return found if found is not None else self._modules[(exporter, importer, None)]

    def scc_set(self, decision: str) -> SccSet:
        return self._scc[decision]

    def scc_to_sign(self, module: int, on: dt.date) -> SccSet | None:
        """The newest clause set for `module` that can be newly concluded on `on`."""
        open_sets = [s for s in self._scc.values() if module in s.modules and s.open_for_new_contracts(on)]
        return max(open_sets, key=lambda s: s.adopted, default=None)

    def bcr_kind(self, kind: str) -> BcrKind:
        return self._bcr[kind]

    def derogation(self, ground: str) -> DerogationRecord | None:
        """The GDPR's record of a ground; None for a ground only another regime knows."""
        return self._derogations.get(ground)

    def measure(self, measure: str) -> MeasureRecord:
        return self._measures[measure]

    def assessment_required(self, on: dt.date) -> bool:
        return on >= self.instruments.impact_assessment.required_from

    def countries(self) -> list[str]:
        """Every ISO country, for listings and the golden matrix."""
        return sorted(c.alpha_2 for c in pycountry.countries)


#: words of region ids that name a direction or continent, not a city
_NOT_A_CITY = {"north", "south", "east", "west", "central", "europe", "asia", "america", "pacific"}

#: providers whose locations may be given by display name
NAMED_LOCATIONS = ("azure",)


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


# ----------------------------------------------------------------- loading

FILES: dict[str, type[BaseModel]] = {
    "eea.yaml": EeaFile,
    "adequacy.yaml": AdequacyFile,
    "instruments.yaml": InstrumentsFile,
    "aliases.yaml": AliasesFile,
}


#: folders of one file per provider, and the model of their files
_FOLDERS: dict[str, type[BaseModel]] = {
    "regions": ProviderFile,
    "regimes": RegimeFile,
    "providers": ProviderTerms,
}


def load_reference(data_dir: Path) -> Reference:
    """Load and cross-check every reference file; raise LoadError naming file and line."""
    problems: list[LoadProblem] = []
    parsed: dict[str, object] = {}
    docs: dict[str, YamlDoc] = {}
    hasher = hashlib.sha256()
    names = list(FILES)
    region_files = sorted((data_dir / "regions").glob("*.yaml"))
    regime_files = sorted((data_dir / "regimes").glob("*.yaml"))
    terms_files = sorted((data_dir / "providers").glob("*.yaml"))
    for path in [*(data_dir / n for n in names), *region_files, *regime_files, *terms_files]:
        try:
            doc = read(path)
            model = _FOLDERS[path.parent.name] if path.parent != data_dir else FILES[path.name]
            parsed[str(path)] = doc.validate(model)
            docs[str(path)] = doc
            hasher.update(path.read_bytes())
        except LoadProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise LoadError(problems)
    get = lambda name: parsed[str(data_dir / name)]  # noqa: E731
    providers = {p.provider: p for p in (parsed[str(f)] for f in region_files)}  # type: ignore[attr-defined]
    reviewed = max(
        f.last_reviewed  # type: ignore[attr-defined]
        for f in parsed.values()
    )
    ref = Reference(
        eea=get("eea.yaml"),  # type: ignore[arg-type]
        adequacy=get("adequacy.yaml"),  # type: ignore[arg-type]
        instruments=get("instruments.yaml"),  # type: ignore[arg-type]
        aliases=get("aliases.yaml"),  # type: ignore[arg-type]
        providers=providers,  # type: ignore[arg-type]
        version=f"{reviewed.isoformat()}.{hasher.hexdigest()[:10]}",
        regimes={r.regime: r for r in (parsed[str(f)] for f in regime_files)},  # type: ignore[attr-defined,misc]
        terms={t.provider: t for t in (parsed[str(f)] for f in terms_files)},  # type: ignore[attr-defined,misc]
    )
    from engine.validate import check_reference

    problems = check_reference(ref, data_dir, docs)
    if problems:
        raise LoadError(problems)
    return ref
