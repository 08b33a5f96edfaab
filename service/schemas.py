"""Pydantic models of what the service answers besides a decision.

They exist for the OpenAPI document (`GET /openapi.json` is generated from them
and from the engine's `FlowRequest` and `Decision`), and the service tests check
every answer against them, so the document cannot drift from what is served.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, Strict

from engine.decision import DataVersion, Decision, DecisionValue, Finding
from engine.flow import FlowRequest
from engine.scenario import Scenario
from service.config import DEFAULT_MAX_BATCH

Zone = Literal["eea", "adequate", "adequate_partial", "third_country"]
#: `?regime=` of the country and region listings, echoed (SPEC section 4a)
PointOfView = Annotated[
    str,
    Field(
        description="the point of view (SPEC section 4a): gdpr, or uk_gdpr / ch_fadp for an exporter "
        "under that regime"
    ),
]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----------------------------------------------------------------- problems


class ProblemItem(Out):
    loc: str = Field(description="the field as the request spells it, e.g. recipient.locations[0]")
    msg: str
    hint: str | None = None


class ProblemDetails(Out):
    """RFC 9457 problem details, the body of every error answer."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="stable error code, e.g. invalid_request")
    errors: list[ProblemItem]
    error_id: str | None = Field(
        None, description="500 only: quote it to the operator; the log has the cause"
    )
    instance: str | None = None


# ----------------------------------------------------------------- decisions


class BatchRequest(Out):
    # Any item is accepted (answered 200): each flow is validated on its own, and one that breaks
    # the contract gets its own problem in `results`, so the items are not constrained here.
    flows: list[FlowRequest | Any] = Field(
        max_length=DEFAULT_MAX_BATCH,
        description="flow requests, DOORGIFTE_MAX_BATCH at most; each is validated on its own, and one "
        "that is not a valid FlowRequest gets its problem in results instead of failing the batch",
    )
    scenario: Scenario | None = Field(
        None, description="a scenario for every flow that names none of its own (SPEC section 12)"
    )


class BatchDecision(Decision):
    """A flow that was decided: every field of its decision, after its index and status."""

    index: int
    status: Literal[200]


class BatchError(Out):
    """A flow that could not be decided, with the problem it alone would have got."""

    index: int
    status: int
    reference: str | None = Field(None, description="the flow's own reference, when it gave a valid one")
    error: ProblemDetails


class BatchSummary(Out):
    allow: int
    conditions: int
    deny: int
    error: int


class BatchResponse(Out):
    results: list[BatchDecision | BatchError]
    summary: BatchSummary


class LogRecord(Out):
    decided_at: str = Field(description="UTC time the decision was logged, YYYY-MM-DDTHH:MM:SS.ffffffZ")
    request_id: str = Field(description="the X-Request-Id of the HTTP request that asked for it")
    request: dict[str, Any] = Field(description="the flow request as received")
    token_name: str | None = Field(
        default=None,
        description="the name of the bearer token it was asked with; null without access control",
    )


class LoggedDecision(Decision):
    """A decision as answered, read back from the decision log, with when and what was asked."""

    log: LogRecord


# ----------------------------------------------------------------- reference data


class ExclusionOut(Out):
    id: str
    text: str
    basis: str
    trigger: dict[str, list[str]] | None = Field(
        description="the purposes, data categories or recipient sectors that show the exclusion applies; "
        "null: no request field can show it, so a covered flow echoes it as an assumption"
    )


class AdequacyOut(Out):
    id: str
    act: str
    adopted: dt.date
    applies_from: dt.date
    expires: dt.date | None
    invalidated: dt.date | None
    scope: dict[str, Any]
    exclusions: list[ExclusionOut]
    source: str


class CountryOut(Out):
    country: str = Field(description="ISO 3166-1 alpha-2")
    name: str
    zone: Zone
    eea: bool
    transfer: bool = Field(
        description="whether sending data there is a transfer under Chapter V, or under `regime`'s law"
    )
    bridge: str | None = Field(description="the act of a transition bridge in force, if any")
    adequacy: AdequacyOut | None = Field(
        description="the adequacy decision in force, or with `regime` that regime's adequacy record"
    )
    regime: str | None = Field(
        None, description="the regime whose point of view `transfer` and `adequacy` give"
    )
    as_of: dt.date


class CountryList(Out):
    as_of: dt.date
    regime: PointOfView = "gdpr"
    reference_data: DataVersion
    countries: list[CountryOut]


class SccTermsOut(Out):
    structure: Literal["with_customer", "onward"] = Field(
        description="with_customer: clauses between the customer and the provider; onward: the "
        "provider's EEA entity passes the data on under its own clauses, the customer not a party"
    )
    decision: str
    module: int
    exporter: str = Field(description="`customer`, or the provider's EEA entity")
    importer: str | None
    customer_party: bool


class TermsSourceOut(Out):
    id: str
    title: str
    url: str
    read_on: dt.date
    kind: Literal["primary", "secondary"]


class DpfTermsOut(Out):
    entity: str
    frameworks: list[str]


class ProviderTermsOut(Out):
    """A provider's terms as processor (adequacy_data/providers): what each fact says, whether it was
    verified in the provider's own words, and which facts the verdict took into account."""

    entity: str
    country: str
    dpa: str
    dpa_applies: Literal["incorporated", "signed"]
    scc: SccTermsOut
    dpf: DpfTermsOut
    sub_processor_notice_days: int
    verified: dict[str, bool]
    credited: list[str] = Field(description="facts the verdict is built from (verified ones)")
    not_credited: list[str] = Field(description="facts stated but not taken into account (not verified)")
    verified_on: dt.date
    sources: list[TermsSourceOut]


class PlanProviderOut(Out):
    assumption: str
    terms: ProviderTermsOut | None


class RegionOut(Out):
    provider: str
    region: str
    name: str
    city: str | None
    country: str
    partition: str
    zone: Zone
    eea: bool
    retired: dt.date | None
    policy: str
    regime: str = Field(
        "gdpr", description="the regime of the controller the verdict is for: gdpr, uk_gdpr, ch_fadp"
    )
    processor_may_hold_personal_data: Literal["yes", "with_conditions", "no"]
    decision: DecisionValue
    reasons: list[Finding] = Field(description="the findings for the region's location (notes left out)")
    conditions: list[str]
    denials: list[str]
    assumption: str = Field(
        description="the set-up the verdict assumes: the provider as it contracts (its entity, DPA and "
        "transfer clauses, and what was not taken into account) where its terms are sourced, else a "
        "processor with a signed agreement and no transfer tool, only in this region"
    )
    terms: ProviderTermsOut | None = Field(
        None, description="the provider's terms the verdict is built from; null: the standard set-up"
    )
    as_of: dt.date


class RegionList(Out):
    provider: str
    as_of: dt.date
    policy: str
    regime: PointOfView = "gdpr"
    reference_data: DataVersion
    regions: list[RegionOut]


class ProviderList(Out):
    """The cloud providers, and one allow-list of regions across them (SPEC section 14)."""

    providers: list[str] = Field(description="every provider the reference data lists, whatever the filters")
    as_of: dt.date
    policy: str
    regime: PointOfView = "gdpr"
    reference_data: DataVersion
    regions: list[RegionOut] = Field(
        description="every region of every provider (or of `provider`) with its verdict, kept by "
        "`usable` and `partition`; each row as in GET /v1/regions/{provider}"
    )


# ----------------------------------------------------------------- policies and vocabulary


class RuleOut(Out):
    id: str
    title: str
    scope: Literal["hop", "location"]
    basis: list[str]
    effect: Literal["allow", "condition", "deny", "note"] | None
    code: str | None
    assume: list[str]
    actor: Literal["exporter", "controller", "engaging_processor"] | None = None
    note: str | None


class ConclusionOut(Out):
    """A named legal reading the rules match on, in the rules' own condition grammar."""

    id: str
    title: str
    scope: Literal["hop", "location"]
    basis: list[str]
    when: dict[str, Any]
    note: str | None


class PolicyOut(Out):
    id: str
    version: str
    title: str
    description: str | None
    extends: str | None
    settings: dict[str, Any]
    rules: list[RuleOut]
    conclusions: list[ConclusionOut] = []


class PolicyList(Out):
    policies: list[PolicyOut]


class Vocabulary(RootModel[dict[str, list[str]]]):
    """Every id list of SPEC section 5 and the enumerations of section 2, by name."""


# ----------------------------------------------------------------- operations


class Health(Out):
    status: Literal["ok"]


class Ready(Out):
    status: Literal["ready"]
    policies: list[str]
    reference_data: DataVersion
    decision_log: str = Field(description="the log's back end: sqlite or postgresql")


# ----------------------------------------------------------------- vendors (SPEC section 11)


#: a vendor revision number (SQLite and PostgreSQL store it as a 64-bit integer)
Revision = Annotated[int, Field(ge=1, le=2**31 - 1)]


class JsonSchema(RootModel[dict[str, Any]]):
    """A JSON Schema document."""


class VendorStored(Out):
    id: str
    revision: int
    stored: bool = Field(description="false: the content equals the latest revision, nothing new was stored")


class VendorSummary(Out):
    id: str
    name: str
    revision: int = Field(description="the latest revision")
    list_version: str
    updated: str


class VendorList(Out):
    vendors: list[VendorSummary]


class VendorRevision(Out):
    revision: int
    list_version: str
    digest: str
    created_at: str
    token_name: str | None = Field(
        default=None,
        description="the name of the bearer token that stored it; null without access control",
    )


class VendorRevisions(Out):
    id: str
    revisions: list[VendorRevision]


class VendorOut(Out):
    id: str
    revision: int
    created_at: str
    document: dict[str, Any]


class VendorDecisionRequest(Out):
    """A decision by vendor id: the vendor's chain, cut and set up as the customer uses it."""

    exporter: dict[str, Any]
    policy: str | list[str] = "gdpr"
    data: dict[str, Any] = Field(default_factory=dict)
    as_of: dt.date | None = None
    lang: Literal["en", "nl"] = "en"
    revision: Revision | None = None
    products: list[str] | None = None
    residency: str | None = None
    agreement: dict[str, Any] | None = None
    reference: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    dry_run: bool = False
    #: judge the vendor in a hypothetical legal world; such a decision is never logged
    scenario: Scenario | None = None


class VendorReviewRequest(Out):
    from_revision: Revision | None = None
    to_revision: Revision | None = None
    notified_on: dt.date
    exporter: dict[str, Any]
    policy: str | list[str] = "gdpr"
    data: dict[str, Any] = Field(default_factory=dict)
    as_of: dt.date | None = None
    lang: Literal["en", "nl"] = "en"
    products: list[str] | None = None
    residency: str | None = None
    agreement: dict[str, Any] | None = None


class DecisionSummary(Out):
    revision: int
    decision: Literal["allow", "conditions", "deny"]
    conditions: int
    denials: int


class VendorReview(Out):
    vendor: str
    from_revision: int
    to_revision: int
    changes: list[dict[str, Any]]
    before: DecisionSummary
    after: DecisionSummary
    new_conditions: list[dict[str, Any]]
    new_denials: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    verdict: Literal["accept", "accept_with_conditions", "object"]
    reasons: list[str]
    object_by: dt.date | None


# ----------------------------------------------------------------- log queries and register (SPEC 13)


class LoggedPolicy(Out):
    id: str
    version: str


class LoggedVendor(Out):
    """The vendor revision a decision by vendor id was made on (null fields: not logged)."""

    id: str
    revision: int | None
    list_version: str | None


class LogSummary(Out):
    """One logged decision, summarised from the log's own columns."""

    decision_id: str
    decided_at: str = Field(description="UTC time the decision was logged, YYYY-MM-DDTHH:MM:SS.ffffffZ")
    reference: str | None
    labels: dict[str, str]
    vendor: LoggedVendor | None = Field(description="the vendor revision a decision by vendor id was made on")
    policy: LoggedPolicy
    decision: DecisionValue
    recipient: str | None = Field(description="the root recipient's name")
    conditions: int | None = Field(description="how many conditions the decision has")
    denials: int | None = Field(description="how many denials the decision has")
    changes_on: dt.date | None = Field(description="the decision's horizon date, when it was asked for one")


class LogPage(Out):
    """Logged decisions, newest first, one page of them."""

    decisions: list[LogSummary]
    next_cursor: str | None = Field(
        description="give it as `cursor` for the next page; null on the last page"
    )


class RegisterRow(Out):
    """One transfer: a party at a location where a logged decision found a transfer."""

    vendor: str | None = Field(description="the vendor id of a decision by vendor id")
    reference: str | None
    exporter: str = Field(description="the hop's exporter, who transfers")
    path: list[str] = Field(description="the chain from the root exporter to the recipient")
    recipient: str
    role: str
    country: str | None = Field(description="ISO 3166-1 alpha-2; null for an international organisation")
    location: str
    zone: Zone
    mechanism: Literal[
        "adequacy",
        "scc",
        "instrument",
        "bcr",
        "ad_hoc_clauses",
        "code_of_conduct",
        "certification",
        "public_instrument",
        "administrative_arrangement",
        "derogation",
        "none",
    ] = Field(
        description="the transfer tool the decision found: Art. 45, 46 or 49; instrument: the regime's "
        "own clauses (the IDTA, the UK Addendum); none: no tool yet"
    )
    mechanism_detail: str | None = Field(
        description="adequacy: the act; scc: module and set (`module 2, 2021/914`); instrument: its id "
        "(`idta`, `uk_addendum`); bcr: its kind; derogation: its ground"
    )
    assessment: Literal[
        "done", "needed", "risk_assessment_needed", "measures_needed", "no_effective_measures", "not_needed"
    ] = Field(
        description="the assessment an Art. 46 tool needs: the transfer impact assessment, or under the "
        "UK GDPR the transfer risk assessment (`risk_assessment_needed`)"
    )
    decision: DecisionValue = Field(description="the decision at this location")
    open_actions: list[str] = Field(
        description="codes of the decision's actions that concern this party here"
    )
    decision_id: str
    decided_at: str
    changes_on: dt.date | None = Field(description="the logged decision's horizon date, if it had one")
    regime: str = Field(
        description="the law the transfer is judged under (SPEC section 4a): gdpr, uk_gdpr, ch_fadp, none, "
        "or two joined by + for an exporter under both"
    )


class TransferRegister(Out):
    """The transfer register (GDPR Art. 30(1)(e), 30(2)(c)) from the latest logged decisions."""

    as_of: dt.date
    policy: str | None
    rows: list[RegisterRow]


# ----------------------------------------------------------------- replays (SPEC section 12)

#: most worker processes one replay job may ask for over HTTP
MAX_REPLAY_JOBS = 4


class ReplayRequest(Out):
    """A replay: which logged decisions to decide again, at which date, under what."""

    since: str | None = Field(
        None, max_length=40, description="only decisions logged at or after this ISO 8601 time (naive: UTC)"
    )
    until: str | None = Field(
        None,
        max_length=40,
        description="only decisions logged at or before this ISO 8601 time (a date: that day)",
    )
    as_of: dt.date | None = Field(
        None, description="decide every request at this date; default: each at the as_of of its logged answer"
    )
    as_logged: Annotated[bool, Strict()] | None = Field(
        None, description="true: each request at its logged date (the default)"
    )
    scenario: Scenario | None = None
    jobs: Annotated[int, Strict()] = Field(1, ge=1, le=MAX_REPLAY_JOBS, description="worker processes")
    policy_path: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list,
        max_length=8,
        description="candidate policy directories, each below a directory of DOORGIFTE_REPLAY_PATHS",
    )
    data_path: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="a candidate reference-data directory below a directory of DOORGIFTE_REPLAY_PATHS",
    )


class ReplaySummary(Out):
    total: int
    unchanged: int
    tightened: int = Field(description="allow to conditions or deny, conditions to deny")
    loosened: int
    reasons_changed: int = Field(description="the same decision for other codes or another legal basis")
    errors: int = Field(description="requests the engine now refuses (each listed with its problem)")


class ReplayProgress(Out):
    done: int
    total: int


class ReplayOutcome(Out):
    decision: DecisionValue
    codes: list[str]


class ReplayError(Out):
    detail: str
    errors: list[ProblemItem]


class ReplayChange(Out):
    """A logged decision that would come out otherwise."""

    decision_id: str
    change: Literal["tightened", "loosened", "reasons_changed", "error"]
    reference: str | None
    labels: dict[str, str]
    vendor: dict[str, Any] | None
    before: ReplayOutcome | None
    after: ReplayOutcome | None
    codes_added: list[str]
    codes_removed: list[str]
    basis_changed: list[str] = Field(default_factory=list, description="codes kept with another legal basis")
    error: ReplayError | None = None


class ReplayParameters(Out):
    since: str | None
    until: str | None
    as_of: dt.date | None
    as_logged: bool
    scenario: dict[str, Any] | None
    candidate: bool = Field(description="decided with candidate policy or reference-data directories")


class ReplayJob(Out):
    """A replay job: its state, progress, summary once done, and a page of its changed decisions."""

    id: str
    state: Literal["queued", "running", "done", "failed"]
    created_at: str
    updated_at: str
    parameters: ReplayParameters
    progress: ReplayProgress
    summary: ReplaySummary | None
    error: str | None
    results: list[ReplayChange] = Field(description="changed decisions in log order; complete once done")
    next_cursor: str | None = Field(description="`?cursor=` for the next page of results, null at the end")


class PlanCheckRequest(Out):
    """A Terraform plan to judge (SPEC section 14): `plan` is the JSON of `terraform show -json`."""

    plan: dict[str, Any]
    exporter: dict[str, Any]
    policy: str | list[str] = "gdpr"
    data: dict[str, Any] = Field(default_factory=dict)
    as_of: dt.date | None = None
    lang: Literal["en", "nl"] = "en"
    format: Literal["json", "sarif"] = "json"


class PlanFinding(Out):
    effect: Literal["condition", "deny"]
    code: str
    party: str | None = Field(
        None, description="the recipient the finding concerns (null: plan.region_unknown)"
    )
    path: list[str] = Field(
        default_factory=list,
        description="exporter to party: the one before the party is who exports on that hop (e.g. the "
        "provider's EEA entity passing the data on to its group)",
    )
    location: str | None
    message: str
    basis: list[str]


class PlanResource(Out):
    address: str
    provider: str
    type: str
    places: list[str]
    place_source: str
    decision: DecisionValue | None = None
    findings: list[PlanFinding] = Field(default_factory=list)
    skipped: str | None = Field(None, description="why the resource holds no data (the rule that matched)")


class PlanReport(Out):
    decision: DecisionValue
    policy: str | list[str]
    resources: int
    judged: int
    skipped: int
    unknown: int = Field(
        description="judged resources whose place the plan does not state (plan.region_unknown)"
    )
    by_decision: dict[str, int]
    results: list[PlanResource]
    providers: dict[str, PlanProviderOut] = Field(
        default_factory=dict,
        description="per provider judged: the set-up its resources were judged by (as in a region's verdict)",
    )
