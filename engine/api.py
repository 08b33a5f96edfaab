"""The engine's entry point: load once, then `evaluate(request) -> Decision`.

Pure: paths and the date come in as arguments; nothing here reads the
environment, prints or touches the network. The pipeline is
request -> FlowRequest (pydantic) -> places (resolve) -> fact records (facts)
-> fired rules (durable adapter) -> findings -> Decision (combine).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine import horizon
from engine import regime as regimes
from engine import scenario as scenarios
from engine.assemble import RENDER_MEMO_SIZE, Assembler, Rendered
from engine.decision import Decision, Horizon
from engine.durable_adapter import RuleEngine
from engine.errors import Problem, RequestInvalid, did_you_mean
from engine.facts import FactBuilder, HopFacts, node_loc, variant_ref, walk
from engine.firing import FiringMemo, Record
from engine.flow import FlowRequest
from engine.loader import DATA_DIR, POLICIES_DIR, CombineError, PolicySet, Profile, combine, load_policies
from engine.localise import Localiser
from engine.memo import Bounded
from engine.reference import Reference, load_reference
from engine.request_errors import check_chain_size, pydantic_problems
from engine.resolve import Place, Resolver
from engine.scenario import Scenario

GDPR_APPLIES_FROM = dt.date(2018, 5, 25)
MAX_DEPTH = 10
MAX_NODES = 200
#: places per flow, over every recipient: bounds the work of one evaluation (and its answer)
MAX_LOCATIONS = 1000
#: distinct combinations of profiles compiled per process: each holds rule-engine memory for good
MAX_COMBINED = 64
#: scenarios applied and kept per process (each a copy of the adequacy and instrument records)
MAX_SCENARIOS = 16


@dataclass(frozen=True)
class Limits:
    max_depth: int = MAX_DEPTH
    max_nodes: int = MAX_NODES
    max_locations: int = MAX_LOCATIONS


class Engine:
    """Policies, reference data and the rule engine, loaded and validated together."""

    def __init__(self, policies: PolicySet, reference: Reference, limits: Limits | None = None):
        self.policies = policies
        self.reference = reference
        self.limits = limits or Limits()
        self.resolver = Resolver(reference)
        self.words = Localiser(reference)
        self.rules = FiringMemo(RuleEngine(policies.rulesets()))
        self._catalogues = {
            pid: policies.catalogue.merged(p.messages) for pid, p in policies.profiles.items()
        }
        self._combined: dict[tuple[str, ...], Profile] = {}
        #: findings rendered once per rule, facts, party, place and language (assemble.py)
        self.renderings: Bounded[tuple[Any, ...], Rendered] = Bounded(RENDER_MEMO_SIZE)
        self._scenarios: dict[str, Reference] = {}
        self._combining = threading.Lock()

    @classmethod
    def load(
        cls,
        policy_dirs: list[Path] | None = None,
        data_dir: Path | None = None,
        limits: Limits | None = None,
    ) -> Engine:
        return cls(*load_checked(policy_dirs, data_dir), limits)

    # ------------------------------------------------------------ parsing

    def parse(self, payload: Any) -> FlowRequest:
        """Validate a request body; raise RequestInvalid listing every problem."""
        check_chain_size(payload, self.limits)
        try:
            return FlowRequest.model_validate(payload)
        except ValidationError as exc:
            raise RequestInvalid(pydantic_problems(exc)) from None

    def _places(self, flow: FlowRequest) -> tuple[dict[str, list[Place]], list[Problem]]:
        places: dict[str, list[Place]] = {}
        problems: list[Problem] = []
        if self.resolver.country(flow.exporter.country) is None:
            problems.append(self.resolver.country_problem("exporter.country", flow.exporter.country))
        for node, _parent, node_id in walk(flow):
            loc = node_loc(node_id)
            refs = list(node.locations)
            if not refs:
                if node.country is None:
                    problems.append(
                        Problem(f"{loc}.country", "a recipient needs a country or locations", None)
                    )
                    continue
                refs = [node.country]
                where = [f"{loc}.country"]
            else:
                where = [f"{loc}.locations[{i}]" for i in range(len(refs))]
                if node.country is not None and self.resolver.country(node.country) is None:
                    problems.append(self.resolver.country_problem(f"{loc}.country", node.country))
            resolved = []
            for field_loc, ref in zip(where, refs, strict=True):
                place, problem = self.resolver.location(field_loc, ref)
                if problem:
                    problems.append(problem)
                elif place:
                    resolved.append(place)
            places[node_id] = resolved
        return places, problems

    def _check(self, flow: FlowRequest, today: dt.date) -> tuple[dt.date, Profile, dict[str, list[Place]]]:
        problems: list[Problem] = []
        as_of = flow.as_of or today
        if as_of < GDPR_APPLIES_FROM:
            problems.append(
                Problem(
                    "as_of",
                    f"as_of {as_of.isoformat()} is before 2018-05-25, when the GDPR began to apply",
                    "use a date from 2018-05-25",
                )
            )
        profile, policy_problems = self.profile(flow.policy)
        problems.extend(policy_problems)
        if "role" not in flow.recipient.model_fields_set:
            problems.append(
                Problem(
                    "recipient.role",
                    "the root recipient needs a role",
                    "processor, controller, joint_controller or same_entity",
                )
            )
        places, place_problems = self._places(flow)
        problems.extend(place_problems)
        problems.extend(self._exporter_status(flow, as_of))
        if flow.scenario is not None:
            problems.extend(scenarios.problems(flow.scenario, self.reference, self.resolver.country))
        if problems:
            raise RequestInvalid(problems)
        assert profile is not None
        return as_of, profile, places

    def _exporter_status(self, flow: FlowRequest, as_of: dt.date) -> list[Problem]:
        """An exporter outside the EEA, the UK and Switzerland must say whether the GDPR applies
        to it (Art. 3(2)): the contract never guesses which law governs a transfer."""
        country = self.resolver.country(flow.exporter.country)
        if country is None or flow.exporter.subject_to_gdpr is not None:
            return []
        if not regimes.needs_status(
            regimes.of_country(country, as_of, self.reference.in_eea, self.reference.regime_areas(as_of))
        ):
            return []
        return [
            Problem(
                "exporter.subject_to_gdpr",
                f"an exporter established in {country} on {as_of.isoformat()} is outside the EEA, the "
                "United Kingdom and Switzerland: say whether the GDPR applies to its processing",
                "true when GDPR Art. 3(2) brings its processing under the GDPR, else false",
            )
        ]

    # ------------------------------------------------------------ evaluation

    def evaluate(self, payload: Any, today: dt.date | None = None) -> Decision:
        """Decide one flow request (a dict or a FlowRequest), under its scenario if it has one,
        with its horizon if it asks for one."""
        flow = payload if isinstance(payload, FlowRequest) else self.parse(payload)
        as_of, profile, places = self._check(flow, today or dt.datetime.now(dt.UTC).date())
        reference = self.scenario_reference(flow.scenario)

        def decide_on(day: dt.date) -> Decision:
            return self._decide(flow, day, profile, places, reference)

        decision = decide_on(as_of)
        if flow.horizon:
            named = self._named_places(flow, places)
            decision.horizon = horizon.find(as_of, flow, reference, decide_on, named, decision)
        return decision

    def next_change(self, payload: Any, today: dt.date | None = None) -> Horizon | None:
        """Only the horizon of a flow request: no decision at all when no record of its places
        dates a change in the ten years ahead (the register asks this of logged decisions)."""
        flow = payload if isinstance(payload, FlowRequest) else self.parse(payload)
        as_of, profile, places = self._check(flow, today or dt.datetime.now(dt.UTC).date())
        reference = self.scenario_reference(flow.scenario)

        def decide_on(day: dt.date) -> Decision:
            return self._decide(flow, day, profile, places, reference)

        return horizon.find(as_of, flow, reference, decide_on, self._named_places(flow, places))

    def _named_places(self, flow: FlowRequest, places: dict[str, list[Place]]) -> set[str]:
        """The countries and organisations whose reference records a flow's facts read: the
        exporter's and each recipient's establishment, and every location."""
        named = {p.key for found in places.values() for p in found}
        named.add(self.resolver.country(flow.exporter.country))
        named.update(self.resolver.country(node.country) for node, _, _ in walk(flow) if node.country)
        return {n for n in named if n}

    def _decide(
        self,
        flow: FlowRequest,
        as_of: dt.date,
        profile: Profile,
        places: dict[str, list[Place]],
        reference: Reference,
    ) -> Decision:
        builder = FactBuilder(reference, profile.settings, flow, as_of, self.resolver.country)
        hops = builder.hops(places)
        _conclude(hops, profile)
        fired = self.rules.fire(profile.ruleset, profile.fields, _engine_facts(hops, profile))
        catalogue = self._catalogues[profile.id]
        assembler = Assembler(profile, catalogue, flow.lang, reference.version, self.words, self.renderings)
        decision = assembler.decision(flow, hops, fired, as_of)
        decision.reference_data.scenario = flow.scenario
        return decision

    # ------------------------------------------------------------ scenarios

    def scenario_reference(self, scenario: Scenario | None) -> Reference:
        """The reference data under a scenario (the real data without one); unknown ids raise
        RequestInvalid. Applied scenarios are kept by content, a few at a time."""
        if scenario is None:
            return self.reference
        with self._combining:
            found = self._scenarios.get(scenario.digest)
        if found is not None:
            return found
        problems = scenarios.problems(scenario, self.reference, self.resolver.country)
        if problems:
            raise RequestInvalid(problems)
        found = scenarios.apply(scenario, self.reference, self.resolver.country)
        with self._combining:
            if len(self._scenarios) >= MAX_SCENARIOS:
                self._scenarios.pop(next(iter(self._scenarios)))
            self._scenarios[scenario.digest] = found
        return found

    def check_scenario(self, payload: Any) -> Scenario:
        """A scenario file's content validated against the reference data, or RequestInvalid."""
        try:
            scenario = _ScenarioFile.model_validate({"scenario": payload}).scenario
        except ValidationError as exc:
            raise RequestInvalid(pydantic_problems(exc)) from None
        self.scenario_reference(scenario)
        return scenario

    # ------------------------------------------------------------ profiles

    def profile(self, policy: str | list[str]) -> tuple[Profile | None, list[Problem]]:
        """The profile a request names: one id, or a list applied together (SPEC section 6),
        also written as the combined profile's own id (`eu-residency+nl-gov`)."""
        if isinstance(policy, str) and "+" in policy:
            policy = policy.split("+")
        ids = [policy] if isinstance(policy, str) else list(dict.fromkeys(policy))
        known = self.policies.profiles
        problems = []
        for i, pid in enumerate(ids):
            if pid not in known:
                hint = did_you_mean(pid, list(known)) or "known policies: " + ", ".join(sorted(known))
                loc = "policy" if isinstance(policy, str) else f"policy[{i}]"
                problems.append(Problem(loc, f"unknown policy {pid!r}", hint))
        if problems:
            return None, problems
        if len(ids) == 1:
            return known[ids[0]], []
        try:
            return self._combination(tuple(sorted(ids))), []
        except CombineError as exc:
            return None, [Problem("policy", f"these profiles cannot apply together: {exc}", None)]

    def _combination(self, ids: tuple[str, ...]) -> Profile:
        with self._combining:
            found = self._combined.get(ids)
            if found is None:
                if len(self._combined) >= MAX_COMBINED:
                    raise CombineError(f"more than {MAX_COMBINED} combinations of profiles are in use")
                found = combine([self.policies.profiles[pid] for pid in ids])
                self.rules.add(found.ruleset, found.body)
                self._catalogues[found.id] = self.policies.catalogue.merged(found.messages)
                self._combined[ids] = found
        return found


class _ScenarioFile(BaseModel):
    """A scenario on its own, so that its problems are located as in a request (`scenario.…`)."""

    scenario: Scenario


def _conclude(hops: list[HopFacts], profile: Profile) -> None:
    """Add the profile's conclusions to every fact record (see conclusions.py)."""
    reasoner = profile.reasoner
    assert reasoner is not None
    for hop in hops:
        for facts in (hop.facts, *hop.variants):
            reasoner.apply("hop", facts)
        for location in hop.locations:
            for facts in (location.facts, *location.variants):
                reasoner.apply("location", facts)


def load_checked(
    policy_dirs: list[Path] | None = None, data_dir: Path | None = None
) -> tuple[PolicySet, Reference]:
    """Load and validate the shipped and extra policies and the reference data (no rule engine)."""
    return load_policies([POLICIES_DIR, *(policy_dirs or [])]), load_reference(data_dir or DATA_DIR)


def _engine_facts(hops: list[HopFacts], profile: Profile) -> list[Record]:
    """Only the typed facts the rules match on go to durable-rules; params stay in Python.
    A hop under two regimes sends each record once per regime: `h0~1` is `h0` under its second."""
    hop_values, location_values = profile.pickers["hop"], profile.pickers["location"]
    out: list[Record] = []
    for h, hop in enumerate(hops):
        for k, facts in enumerate((hop.facts, *hop.variants)):
            out.append(("hop", variant_ref(f"h{h}", k), hop_values(facts)))
        for i, location in enumerate(hop.locations):
            for k, facts in enumerate((location.facts, *location.variants)):
                out.append(("location", variant_ref(f"h{h}.l{i}", k), location_values(facts)))
    return out
