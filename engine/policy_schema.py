"""The shape of a policy profile, its rules, and the facts rules may match on.

A rule matches one fact record: a hop (what is agreed between a node and its
parent) or a location (one place where that node handles the data). The fact
names and their types are declared here once; `facts.py` produces exactly these
and `validate.py` refuses a rule that names anything else or compares a fact with
a value of the wrong type (durable-rules would compare loosely and silently).

A conclusion is a named legal reading over facts ("a safeguard counts", "the
adequacy decision covers this recipient"), written in YAML like a rule's `when`.
Rules match on it as a boolean fact of its scope (see `conclusions.py`).
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import vocabulary as v
from engine.regime import LAW_TOPICS, REGIMES, TOOL_PROBLEMS

BOOL = "bool"
INT = "int"

_ROLES = v.ROLES
_EXPORTER = v.EXPORTER_ROLES
_TIA = ("none", *v.TIA_OUTCOMES)

#: facts shared by hop and location records
COMMON_FACTS: dict[str, Any] = {
    "role": _ROLES,
    "exporter_role": _EXPORTER,
    "exporter_public_body": BOOL,
    "sub_processor": BOOL,
    "under_processor": BOOL,
    "controller_of_exporter": BOOL,
    "is_root": BOOL,
    "exporter_outside_eea": BOOL,
    "recipient_sector": v.SECTORS,
    "federally_regulated": BOOL,
    "special_data": BOOL,
    "employee_data": BOOL,
    "subject_to_gdpr": BOOL,
    #: the law the hop is judged under (SPEC section 4a); a rule file's `regime` adds it
    "regime": REGIMES,
}

HOP_FACTS: dict[str, Any] = {
    **COMMON_FACTS,
    "dpa_signed": BOOL,
    "dpa_clauses_stated": BOOL,
    "dpa_clauses_missing": BOOL,
    "authorisation_kind": ("specific", "general", "none"),
    "authorisation_written": BOOL,
    "authorisation_granted": ("yes", "no", "unknown"),
    "answer_period_elapsed": BOOL,
    "notified": BOOL,
    "objection_period_elapsed": BOOL,
    "objected": BOOL,
    "flow_down": BOOL,
    "instructed": BOOL,
    "joint_arrangement": BOOL,
    "parent_third_party_disclosure": ("yes", "no", "unknown"),
    #: the hop's law asks the controller's prior approval of a sub-processor on the date (the
    #: GDPR always; the Swiss FADP from 2023-09-01)
    "subprocessor_approval_required": BOOL,
}

LOCATION_FACTS: dict[str, Any] = {
    **COMMON_FACTS,
    "zone": v.ZONES,
    "transfer": BOOL,
    # the hop's regime (SPEC section 4a): inside its own area (the EEA under the GDPR), and
    # its own tools: which count on the date, and whether they exist yet
    "in_area": BOOL,
    "recipient_in_area": BOOL,
    "tools_era": BOOL,
    "tool_stated": BOOL,
    "tool_counts": BOOL,
    "tool_transitional": BOOL,
    "tool_problem": TOOL_PROBLEMS,
    "tool_in_transition": BOOL,
    "safeguards_notified": BOOL,
    "sensitive_to_identify": BOOL,
    "access": v.ACCESS,
    "recipient_in_eea": BOOL,
    "bridge": BOOL,
    "location_word": ("", "EEA", "worldwide"),
    "is_organisation": BOOL,
    "outside_home_country": BOOL,
    "location_consent": BOOL,
    # adequacy (Art. 45): the decision in force and what its scope reads
    "adequacy": BOOL,
    "adequacy_scope": ("", "full", "certified_organisations", "sectors"),
    "certification_framework": ("", *v.CERTIFICATION_FRAMEWORKS),
    "sector_in_scope": BOOL,
    "employees_limited": BOOL,
    "other_subject_data": BOOL,
    "holds_listing": BOOL,
    "holds_default_listing": BOOL,
    "holds_hr_listing": BOOL,
    "exclusion_triggered": BOOL,
    "exclusion_assumed": BOOL,
    "adequacy_indicative": BOOL,
    # Art. 46 safeguards as stated, and whether each instrument is valid on the date
    "required_module": INT,
    "combines_eu_data": BOOL,
    "scc_stated": BOOL,
    "scc_counts": BOOL,
    "scc_transitional": BOOL,
    "bcr_stated": BOOL,
    "bcr_counts": BOOL,
    "ad_hoc_clauses": BOOL,
    "code_of_conduct": BOOL,
    "certification_scheme": BOOL,
    "public_instrument_stated": BOOL,
    "arrangement_stated": BOOL,
    "arrangement_authorised": BOOL,
    # Art. 49 derogations as stated, with what the reference data say of the ground
    "derogation_stated": BOOL,
    "derogation_unknown": BOOL,
    "derogation_ground": ("", *v.DEROGATIONS),
    "derogation_occasional": BOOL,
    "derogation_occasional_required": BOOL,
    "derogation_public_body_excluded": BOOL,
    "derogation_inform_on_request": BOOL,
    # the transfer impact assessment and supplementary measures
    "assessment_era": BOOL,
    "tia": _TIA,
    "supplementary_measures": BOOL,
    "measure_effective_always": BOOL,
    "measure_effective_without_clear_text": BOOL,
    "needs_clear_text_access": BOOL,
}

FACTS = {"hop": HOP_FACTS, "location": LOCATION_FACTS}

#: values only for params, basis and messages (lists, dates, nullable text): never matched
PARAM_FACTS: dict[str, set[str]] = {
    "hop": {"party", "missing_clauses", *(f"law_{topic}" for topic in LAW_TOPICS)},
    "location": {
        "party",
        "country",
        "city",
        "place",
        "adequacy_id",
        "adequacy_act",
        "adequacy_sectors",
        "employees_basis",
        "exclusions_triggered",
        "exclusions_assumed",
        "exclusion_texts",
        "exclusion_basis",
        "certifications_required",
        "scc_module",
        "scc_decision",
        "scc_act",
        "scc_problem",
        "scc_to_sign",
        "scc_to_sign_act",
        "scc_new_contracts_until",
        "scc_concluded_contracts_until",
        "bcr_kind",
        "bcr_problem",
        "derogation_basis",
        "derogation_occasional_basis",
        "tia_outcome",
        "measures",
        "bridge_act",
        "home_country",
        "tool_counted",
        "tool_act",
        "tool_to_sign",
        "tool_to_sign_act",
        "tool_to_sign_clauses",
        "legacy_new_contracts_until",
        "legacy_concluded_contracts_until",
        "sensitive_categories",
        *(f"law_{topic}" for topic in LAW_TOPICS),
    },
}

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: who must act on a condition (SPEC section 10): the hop's exporter, the controller on
#: whose behalf the chain processes, or the processor that engages the hop's recipient
Actor = Literal["exporter", "controller", "engaging_processor"]


class Then(Strict):
    effect: Literal[v.EFFECTS] | None = None  # type: ignore[valid-type]
    code: Annotated[str, Field(pattern=CODE.pattern)] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    assume: list[Annotated[str, Field(pattern=CODE.pattern)]] = Field(default_factory=list)
    actor: Actor | None = None

    @model_validator(mode="after")
    def _effect_or_assumption(self) -> Then:
        if self.effect is None and not self.assume:
            raise ValueError("a rule needs an effect with a code, or an assumption (assume)")
        if self.effect is not None and self.code is None:
            raise ValueError(f"effect {self.effect!r} needs a code")
        if (self.effect == "condition") != (self.actor is not None):
            raise ValueError(
                "a condition names its actor (exporter, controller or engaging_processor); "
                "no other effect does"
            )
        return self


class Rule(Strict):
    id: Annotated[str, Field(pattern=RULE_ID.pattern)]
    title: Annotated[str, Field(min_length=3)]
    scope: Literal["hop", "location"]
    basis: list[Annotated[str, Field(min_length=2)]] = Field(min_length=1)
    when: dict[str, Any]
    then: Then
    note: str | None = None

    @cached_property
    def named_facts(self) -> tuple[str, ...]:
        """The facts its params and basis name (`$fact`): with the place, party, language and
        law, all that its rendered finding depends on (assemble.py remembers it by them)."""
        values = (*self.then.params.values(), *self.basis)
        return tuple(v[1:] for v in values if isinstance(v, str) and v.startswith("$"))


class Conclusion(Strict):
    """A named legal reading over the facts of one scope, used by rules as a boolean fact."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: Annotated[str, Field(min_length=3)]
    scope: Literal["hop", "location"]
    basis: list[Annotated[str, Field(min_length=2)]] = Field(min_length=1)
    when: dict[str, Any]
    note: str | None = None


class Settings(Strict):
    #: clause ids a processing agreement must contain (Art. 28(3), or a profile's checklist)
    dpa_required_clauses: list[Literal[v.CLAUSES]] | None = None  # type: ignore[valid-type]
    #: processing outside this country needs the controller's prior written consent
    home_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None


Messages = dict[str, dict[Literal[v.LANGUAGES], str]]  # type: ignore[valid-type]


class ProfileFile(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    version: Annotated[str, Field(min_length=1)]
    title: str
    description: str | None = None
    extends: str | None = None
    include: list[str] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)
    conclusions: list[Conclusion] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    messages: Messages = Field(default_factory=dict)


class RuleFile(Strict):
    #: the regimes the file's rules judge under (SPEC section 4a): the loader adds the condition
    #: to each rule, so a law's rules never fire for a hop under another law; absent, the rules
    #: apply under every regime (a profile's own rules, such as EU residency)
    regime: list[Literal[REGIMES]] | None = None  # type: ignore[valid-type]
    conclusions: list[Conclusion] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)


class CaseExpect(Strict):
    decision: Literal["allow", "conditions", "deny"]
    conditions: list[str] | None = None
    denials: list[str] | None = None
    conditions_include: list[str] = Field(default_factory=list)
    denials_include: list[str] = Field(default_factory=list)
    assumptions_include: list[str] = Field(default_factory=list)
    rules_include: list[str] = Field(default_factory=list)
    condition_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    zones: list[str] | None = None


class Case(Strict):
    id: Annotated[str, Field(min_length=1)]
    note: Annotated[str, Field(min_length=3)]
    flow: dict[str, Any]
    expect: CaseExpect


class CaseFile(Strict):
    cases: list[Case]
