"""Property: no flow is ever judged on another regime's rules (SPEC section 4a).

Over generated flows with exporters in the EEA, the UK, Switzerland and elsewhere (with and
without Art. 3(2) status), chains of sub-processors and every safeguard: a rule fires on a hop
only when the hop is judged under a regime the rule names, so nothing decides a UK hop on EU
rules (or the reverse); an exporter under no modelled law never gets `allow`; and an exporter
elsewhere that does not state its status is refused, never guessed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import regime
from engine.errors import RequestInvalid
from tests.conftest import TODAY, UK_VIA_DUTCH_PROCESSOR
from tests.engine.test_fuzz import DATES, recipients

EXPORTER_COUNTRIES = ["NL", "DE", "GB", "CH", "CA", "SG", "US", "GI", "JE", "IN"]
UK_DATES = [*DATES, "2022-03-21", "2022-09-21", "2023-10-12", "2024-03-20", "2024-03-21", "2026-02-05"]

uk_tools = st.fixed_dictionaries(
    {},
    optional={
        "idta": st.fixed_dictionaries({}, optional={"concluded_on": st.sampled_from(UK_DATES)}),
        "uk_addendum": st.fixed_dictionaries({}, optional={"concluded_on": st.sampled_from(UK_DATES)}),
    },
)

exporters = st.fixed_dictionaries(
    {"name": st.just("Exporter"), "country": st.sampled_from(EXPORTER_COUNTRIES)},
    optional={
        "subject_to_gdpr": st.booleans(),
        "role": st.sampled_from(["controller", "processor"]),
        "public_body": st.booleans(),
    },
)


def _with_uk_tools(recipient: dict[str, Any], tools: dict[str, Any]) -> dict[str, Any]:
    if tools:
        agreement = recipient.setdefault("agreement", {})
        agreement.setdefault("safeguards", {}).update(tools)
    return recipient


flows = st.builds(
    lambda as_of, policy, exporter, recipient, tools, categories: {
        "as_of": as_of,
        "policy": policy,
        "data": {"subjects": ["customers"], "categories": categories},
        "exporter": exporter,
        "recipient": _with_uk_tools(recipient, tools),
    },
    st.sampled_from(UK_DATES),
    st.sampled_from(["gdpr", "nl-gov", "eu-residency"]),
    exporters,
    recipients(2),
    uk_tools,
    st.lists(st.sampled_from(["identification", "biometric", "health", "credit_information"]), max_size=2),
)


def _elsewhere(engine, country: str, on: str) -> bool:
    """Outside the EEA and every modelled regime's own area on the date."""
    day = dt.date.fromisoformat(on)
    ref = engine.reference
    return regime.of_country(country, day, ref.in_eea, ref.regime_areas(day)) is None


def _regimes(rule_when: dict[str, Any]) -> set[str] | None:
    """The regimes a compiled rule names; None for a rule of every regime (a profile's own)."""
    named = rule_when.get("regime")
    if named is None:
        return None
    return set(named["in"]) if isinstance(named, dict) else {named}


@pytest.fixture(scope="module")
def rule_regimes(engine) -> dict[str, dict[str, set[str] | None]]:
    out = {}
    for policy in ("gdpr", "nl-gov", "eu-residency"):
        profile, _ = engine.profile(policy)
        out[policy] = {rule.id: _regimes(rule.when) for rule in profile.rules}
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows)
def test_no_hop_is_judged_on_another_regimes_rules(engine, rule_regimes, payload):
    try:
        decision = engine.evaluate(payload, TODAY)
    except RequestInvalid as exc:
        locs = {p.loc for p in exc.problems}
        elsewhere = _elsewhere(engine, payload["exporter"]["country"], payload["as_of"])
        if "exporter.subject_to_gdpr" in locs:
            assert elsewhere and "subject_to_gdpr" not in payload["exporter"]
        return
    exporter = payload["exporter"]
    if (
        _elsewhere(engine, exporter["country"], payload["as_of"])
        and exporter.get("subject_to_gdpr") is not None
    ):
        assert decision.regime == ("gdpr" if exporter["subject_to_gdpr"] else "none")
    if decision.regime == "none":
        assert decision.decision != "allow"
        assert "scope.assess_local_export_rules" in {c.code for c in decision.conditions}
    regimes_of = rule_regimes[payload["policy"]]
    for hop in decision.hops:
        under = set(hop.regime.split("+"))
        findings = [*hop.findings, *(f for loc in hop.locations for f in loc.findings)]
        for finding in findings:
            named = regimes_of[finding.rule]
            assert named is None or named & under, (finding.rule, hop.regime)
        if len(under) == 1 and under <= {"uk_gdpr", "ch_fadp"}:
            (only,) = under
            assert not [f for f in findings if _eu_only(f, only)], hop.regime
        if under == {"none"}:
            assert all(f.effect != "allow" for f in findings)


#: what only the GDPR's Chapter V says: no place is "inside the EEA" for a UK or Swiss exporter,
#: no EU bridge carries its data, the EU's own transition notes are not its law
EU_ONLY_CODES = {
    "transfer.not_a_transfer.eea",
    "transfer.not_a_transfer.bridge",
    "transfer.importer_subject_to_gdpr",
    "transfer.scc_transitional",
    "transfer.scc_not_counting",
    "transfer.no_local_law_assessment_needed",
}
#: each regime's own records and tools: adequacy ids carry its prefix; the UK never accepts the
#: 2021 EU clauses bare, and its assessment is the transfer risk assessment
OWN = {"uk_gdpr": "uk-", "ch_fadp": "ch-"}


def _eu_only(finding: Any, regime: str) -> bool:
    """A finding that applies EU transfer law to a hop under `regime`."""
    if finding.code in EU_ONLY_CODES:
        return True
    if finding.code == "transfer.adequacy":
        return not str(finding.params.get("decision", "")).startswith(OWN[regime])
    if regime == "uk_gdpr" and finding.code == "transfer.assess_impact":
        return True
    if regime == "uk_gdpr" and finding.code in ("transfer.safeguard_scc", "transfer.sign_scc"):
        return finding.params.get("decision") == "2021/914"
    return False


def test_the_answer_names_every_hops_regime(engine):
    """A UK exporter's Dutch processor sends the data on to India: the root hop is under the UK
    GDPR, the onward hop under the GDPR (the parent is established in the EEA)."""
    decision = engine.evaluate(UK_VIA_DUTCH_PROCESSOR, TODAY)
    assert decision.regime == "uk_gdpr"
    assert [h.regime for h in decision.hops] == ["uk_gdpr", "gdpr"]
    assert {c.code for c in decision.conditions} == {"transfer.sign_scc", "transfer.assess_impact"}
