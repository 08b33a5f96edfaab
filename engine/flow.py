"""The flow request of SPEC section 2 as pydantic models.

Every model forbids unknown fields, and booleans and module numbers are strict:
durable-rules compares loosely (`1` matches `True` and `"1"`), so nothing but a
real JSON boolean may reach the rules. Country references stay strings here;
`resolve.py` turns them into places once the reference data is at hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag

from engine import vocabulary as v
from engine.scenario import Scenario

StrictBool = Annotated[bool, Strict()]
Name = Annotated[str, Field(min_length=1, max_length=200)]
CountryRef = Annotated[str, Field(min_length=1, max_length=100)]

Category = Literal[v.CATEGORIES]  # type: ignore[valid-type]
Subject = Literal[v.SUBJECTS]  # type: ignore[valid-type]
Clause = Literal[v.CLAUSES]  # type: ignore[valid-type]
Derogation = Literal[v.DEROGATIONS]  # type: ignore[valid-type]
Certification = Literal[v.CERTIFICATIONS]  # type: ignore[valid-type]
Sector = Literal[v.SECTORS]  # type: ignore[valid-type]
Role = Literal[v.ROLES]  # type: ignore[valid-type]
ExporterRole = Literal[v.EXPORTER_ROLES]  # type: ignore[valid-type]
Provider = Annotated[str, Field(min_length=1, max_length=40)]
SccDecision = Literal[v.SCC_DECISIONS]  # type: ignore[valid-type]
TiaOutcome = Literal[v.TIA_OUTCOMES]  # type: ignore[valid-type]
Purpose = Literal[v.PURPOSES]  # type: ignore[valid-type]
Measure = Literal[v.SUPPLEMENTARY_MEASURES]  # type: ignore[valid-type]
Access = Literal[v.ACCESS]  # type: ignore[valid-type]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountryLocation(Model):
    country: CountryRef
    #: full: stored, processed or accessible there; own_staff: only the recipient's own
    #: employees or branch reach the data from there; transit: it only passes through
    access: Access = "full"


class CloudLocation(Model):
    cloud: Provider
    region: Annotated[str, Field(min_length=1, max_length=100)]
    access: Access = "full"


class OrganisationLocation(Model):
    organisation: Annotated[str, Field(min_length=1, max_length=200)]


def _location_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "ref"
    if isinstance(value, dict):
        for key in ("cloud", "region", "organisation", "country"):
            if key in value:
                return {"region": "cloud"}.get(key, key)
        return "country"
    if isinstance(value, BaseModel):
        return {
            CountryLocation: "country",
            CloudLocation: "cloud",
            OrganisationLocation: "organisation",
        }.get(type(value))
    return None


Location = Annotated[
    Annotated[CountryRef, Tag("ref")]
    | Annotated[CountryLocation, Tag("country")]
    | Annotated[CloudLocation, Tag("cloud")]
    | Annotated[OrganisationLocation, Tag("organisation")],
    Discriminator(
        _location_kind,
        custom_error_type="location",
        custom_error_message=(
            "a location is a country reference string, {country}, {cloud, region} or {organisation}"
        ),
    ),
]


class Dpa(Model):
    signed: StrictBool = False
    clauses: list[Clause] | None = None


class Authorisation(Model):
    kind: Literal["specific", "general", "none"] = "none"
    written: StrictBool = True
    granted: StrictBool | None = None
    #: asked, and the agreed time to answer ran out without a grant (EDPB 07/2020 para 156)
    answer_period_elapsed: StrictBool = False
    notified: StrictBool = False
    objection_period_elapsed: StrictBool = False
    objected: StrictBool = False


class Scc(Model):
    module: Annotated[int, Strict(), Field(ge=1, le=4)]
    decision: SccDecision = "2021/914"
    concluded_on: dt.date | None = None


class Bcr(Model):
    kind: Literal[v.BCR_KINDS]  # type: ignore[valid-type]
    approved: StrictBool = False


class DerogationClaim(Model):
    ground: Derogation
    occasional: StrictBool = False


class Tia(Model):
    outcome: TiaOutcome


class AdministrativeArrangement(Model):
    #: authorised by the competent supervisory authority (Art. 46(3)(b))
    authorised: StrictBool = False


class UkInstrument(Model):
    """The IDTA or the UK Addendum (SPEC section 4a), with the day it was concluded."""

    concluded_on: dt.date | None = None


class Safeguards(Model):
    scc: Scc | None = None
    #: the UK regime's own instruments (DPA 2018 s. 119A); no tool under the GDPR
    idta: UkInstrument | None = None
    uk_addendum: UkInstrument | None = None
    bcr: Bcr | None = None
    ad_hoc_clauses: StrictBool = False
    code_of_conduct: StrictBool = False
    certification: StrictBool = False
    public_authority_instrument: StrictBool = False
    administrative_arrangement: AdministrativeArrangement | None = None
    derogation: DerogationClaim | None = None
    tia: Tia | None = None
    supplementary_measures: list[Measure] = Field(default_factory=list, max_length=20)


class Agreement(Model):
    dpa: Dpa = Field(default_factory=Dpa)
    joint_arrangement: StrictBool = False
    authorisation: Authorisation = Field(default_factory=Authorisation)
    flow_down: StrictBool = False
    instructed: StrictBool = False
    location_consent: StrictBool = False
    safeguards: Safeguards = Field(default_factory=Safeguards)


class Recipient(Model):
    name: Name
    role: Role = "processor"
    country: CountryRef | None = None
    locations: list[Location] = Field(default_factory=list, max_length=100)
    subject_to_gdpr: StrictBool = False
    sector: Sector = "commercial"
    federally_regulated: StrictBool = False
    #: None: true for the root recipient of a processor exporter, else false (SPEC section 2)
    controller_of_exporter: StrictBool | None = None
    combines_eu_data: StrictBool = True
    needs_clear_text_access: StrictBool = True
    purpose: Annotated[str, Field(max_length=500)] | None = None
    affiliate: StrictBool = False
    certifications: list[Certification] = Field(default_factory=list, max_length=10)
    agreement: Agreement = Field(default_factory=Agreement)
    sub_processors: list[Recipient] = Field(default_factory=list)


class Exporter(Model):
    name: Name
    country: CountryRef
    role: ExporterRole = "controller"
    public_body: StrictBool = False
    #: Art. 3(2): required for an exporter outside the EEA, the UK and Switzerland; for a UK or
    #: Swiss exporter, true adds the GDPR to its own regime (SPEC sections 2 and 4a)
    subject_to_gdpr: StrictBool | None = None


class Data(Model):
    purposes: list[Purpose] = Field(default_factory=list, max_length=len(v.PURPOSES) * 2)
    categories: list[Category] = Field(default_factory=list, max_length=len(v.CATEGORIES) * 2)
    subjects: list[Subject] = Field(default_factory=list, max_length=len(v.SUBJECTS) * 2)


LabelKey = Annotated[str, Field(min_length=1, max_length=64)]
LabelValue = Annotated[str, Field(max_length=200)]


class FlowRequest(Model):
    as_of: dt.date | None = None
    #: the caller's own id for this question; echoed, logged, queryable
    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    labels: Annotated[dict[LabelKey, LabelValue], Field(max_length=20)] = Field(default_factory=dict)
    #: a what-if: answered, never written to the decision log
    dry_run: StrictBool = False
    #: judge the flow in a hypothetical legal world (SPEC section 12); always a dry run
    scenario: Scenario | None = None
    #: also report the next date on which the decision changes (SPEC section 12)
    horizon: StrictBool = False
    #: one profile id, or up to four applied together (SPEC section 6)
    policy: (
        Annotated[str, Field(min_length=1, max_length=100)]
        | Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1, max_length=4)
        ]
    ) = "gdpr"
    lang: Literal[v.LANGUAGES] = "en"  # type: ignore[valid-type]
    data: Data = Field(default_factory=Data)
    exporter: Exporter
    recipient: Recipient
