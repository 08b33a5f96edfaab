"""Policy tests as data: run `*.cases.yaml` files and report failures and rule coverage.

A case file sits beside the profile it tests (`nl-gov.cases.yaml` beside
`nl-gov.yaml`, or inside a profile directory) and lists cases: a note, a flow (with
its `as_of`), and the expected decision and codes. A case runs under the flow's
`policy`, else under the profile the file belongs to. Coverage: every rule a tested
profile defines must be produced (as a finding or an assumption) by at least one case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.api import Engine
from engine.decision import Decision
from engine.errors import EngineError, LoadProblem, RequestInvalid
from engine.policy_schema import Case, CaseExpect, CaseFile
from engine.yamlfile import LoadProblems, read


@dataclass
class CaseResult:
    file: str
    id: str
    ok: bool
    failures: list[str] = field(default_factory=list)


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)
    uncovered: dict[str, list[str]] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)

    @property
    def ok(self) -> bool:
        return not self.problems and self.failed == 0 and not any(self.uncovered.values())


def default_policy(path: Path) -> str:
    """`nl-gov.cases.yaml` -> nl-gov; a file inside a profile directory, or a folder of it
    (`gdpr/uk/`), -> that directory."""
    for folder in (path.parent, path.parent.parent):
        if (folder / "profile.yaml").exists():
            return folder.name
    return path.name.removesuffix(".cases.yaml").split(".")[0]


def _codes(items: list[Any]) -> set[str]:
    return {item.code for item in items}


def compare(expect: CaseExpect, decision: Decision) -> list[str]:
    """Every way `decision` differs from `expect`, as readable lines."""
    out = []
    if decision.decision != expect.decision:
        out.append(f"decision: expected {expect.decision}, got {decision.decision}")
    for name, actual in (("conditions", _codes(decision.conditions)), ("denials", _codes(decision.denials))):
        wanted = getattr(expect, name)
        if wanted is not None and set(wanted) != actual:
            out.append(f"{name}: expected {sorted(wanted)}, got {sorted(actual)}")
        missing = set(getattr(expect, f"{name}_include")) - actual
        if missing:
            out.append(f"{name}: missing {sorted(missing)} (got {sorted(actual)})")
    missing = set(expect.assumptions_include) - _codes(decision.assumptions)
    if missing:
        out.append(f"assumptions: missing {sorted(missing)} (got {sorted(_codes(decision.assumptions))})")
    missing = set(expect.rules_include) - fired_rules(decision)
    if missing:
        out.append(f"rules: missing {sorted(missing)} (got {sorted(fired_rules(decision))})")
    for code, params in expect.condition_params.items():
        candidates = [c.params for c in decision.conditions if c.code == code]
        if not any(all(p.get(k) == val for k, val in params.items()) for p in candidates):
            out.append(f"condition_params: no {code} with {params} (got {candidates})")
    if expect.zones is not None:
        zones = [loc.zone for hop in decision.hops for loc in hop.locations]
        if Counter(zones) != Counter(expect.zones):
            out.append(f"zones: expected {sorted(expect.zones)}, got {sorted(zones)}")
    return out


def fired_rules(decision: Decision) -> set[str]:
    rules = {a.rule for a in decision.assumptions}
    for hop in decision.hops:
        rules.update(f.rule for f in hop.findings)
        for loc in hop.locations:
            rules.update(f.rule for f in loc.findings)
    return rules


def run_case(engine: Engine, case: Case, policy: str) -> tuple[list[str], set[str]]:
    flow = {"policy": policy, **case.flow}
    if "as_of" not in flow:
        return ["the case's flow states no as_of"], set()
    try:
        decision = engine.evaluate(flow)
    except RequestInvalid as exc:
        return [f"invalid request: {[p.as_dict() for p in exc.problems]}"], set()
    except EngineError as exc:
        return [f"engine error: {exc}"], set()
    return compare(case.expect, decision), fired_rules(decision)


def run_case_files(engine: Engine, paths: list[Path]) -> Report:
    report = Report()
    produced: set[str] = set()
    tested: set[str] = set()
    for path in paths:
        try:
            cases: CaseFile = read(path).validate(CaseFile)
        except LoadProblems as exc:
            report.problems.extend(exc.problems)
            continue
        policy = default_policy(path)
        seen: set[str] = set()
        for case in cases.cases:
            case_policy = case.flow.get("policy", policy)
            tested.add(str(case_policy))
            failures, rules = run_case(engine, case, case_policy)
            if case.id in seen:
                failures.append(f"duplicate case id {case.id!r} in {path}")
            seen.add(case.id)
            produced |= rules
            report.results.append(CaseResult(str(path), case.id, not failures, failures))
    for profile in engine.policies.profiles.values():
        if profile.id in tested:
            report.uncovered[profile.id] = sorted(rule for rule in profile.own_rules if rule not in produced)
    return report
