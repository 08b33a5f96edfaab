"""The decision response of SPEC section 3 as pydantic models (also the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.scenario import Scenario

DecisionValue = Literal["allow", "conditions", "deny"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(Out):
    rule: str
    effect: Literal["allow", "condition", "deny", "note"]
    code: str
    message: str
    basis: list[str]
    params: dict[str, Any] = Field(default_factory=dict)


class Action(Out):
    """A condition or a denial, lifted out of its hop with the party it concerns."""

    code: str
    party: str
    path: list[str]
    location: str | None = None
    rule: str
    params: dict[str, Any] = Field(default_factory=dict)
    message: str
    basis: list[str]
    #: conditions only: the party that must act (null: a controller the flow does not name)
    actor: str | None = None
    actor_role: str | None = None


class PlannedAction(Out):
    """Conditions with the same code, actor and counterparty, as one thing to do (SPEC 10)."""

    actor: str | None = Field(
        description="the party that must act; null: a controller the flow does not name"
    )
    actor_role: str
    code: str
    counterparty: str | None
    parties: list[str]
    locations: list[str]
    conditions: list[int] = Field(description="indexes into `conditions`")
    message: str
    basis: list[str]


class Assumption(Out):
    code: str
    party: str
    rule: str
    message: str
    location: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class PlaceOut(Out):
    country: str | None
    cloud: str | None = None
    region: str | None = None
    organisation: str | None = None
    city: str | None = None
    word: str | None = None
    access: Literal["own_staff", "transit"] | None = None


class LocationResult(Out):
    location: PlaceOut
    zone: Literal["eea", "adequate", "adequate_partial", "third_country"]
    transfer: bool
    decision: DecisionValue
    findings: list[Finding]


class Hop(Out):
    path: list[str]
    exporter: str
    recipient: str
    role: str
    purpose: str | None = None
    affiliate: bool = False
    #: the law of this hop's exporter (SPEC section 4a): `gdpr`, `uk_gdpr`, `ch_fadp`, `none`,
    #: or two joined by `+` when the exporter is under both
    regime: str = "gdpr"
    decision: DecisionValue
    findings: list[Finding]
    locations: list[LocationResult]


class Version(Out):
    id: str
    version: str


class PolicyVersion(Version):
    #: every profile that applied, with its version (one, or each of a combination)
    profiles: list[Version] = Field(default_factory=list)


class DataVersion(Out):
    version: str
    #: the hypothetical change the decision was taken under (SPEC section 12); its hash is in `version`
    scenario: Scenario | None = None


class VendorRef(Out):
    id: str
    revision: int
    list_version: str


class Cause(Out):
    """A dated record whose date falls on a horizon's day."""

    record: str = Field(
        description="`adequacy:<id>`, `adequacy:<id>/exclusion:<id>`, `scc:<set>`, "
        "`eea:<country>`, `bridge:<country>`, `instruments:impact_assessment`, or a "
        "`request.` field"
    )
    field: str
    value: dt.date
    source: str | None = None


class Horizon(Out):
    """The first later date on which the same flow is decided otherwise (SPEC section 12)."""

    changes_on: dt.date
    decision: DecisionValue
    codes_added: list[str]
    codes_removed: list[str]
    because: list[Cause]


class Decision(Out):
    decision_id: str
    decision: DecisionValue
    as_of: dt.date
    reference: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    logged: bool = Field(False, description="whether the decision was written to the decision log")
    #: the root exporter's regime (SPEC section 4a)
    regime: str = "gdpr"
    policy: PolicyVersion
    reference_data: DataVersion
    conditions: list[Action]
    actions: list[PlannedAction] = Field(default_factory=list)
    denials: list[Action]
    assumptions: list[Assumption]
    hops: list[Hop]
    #: the vendor revision a decision by vendor id was made on (SPEC section 11)
    vendor: VendorRef | None = None
    #: with `"horizon": true`: the next date the decision changes, or null when none within ten years
    horizon: Horizon | None = None
