"""Load policy profiles once, resolve `extends`, validate, and compile them.

Shipped profiles live in `policies/`; an organisation adds its own directories
(DOORGIFTE_POLICY_PATH). In a directory, a profile is a `<id>.yaml` file or a
`<id>/profile.yaml` with `include`d rule files; `*.cases.yaml` are test cases and
`messages/<lang>.yaml` the message catalogue. Any problem stops the load with
file and line, so a service never starts on a broken rule base.
"""

from __future__ import annotations

import functools
import graphlib
import hashlib
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import compiler
from engine.conclusions import Conclusions, ordered
from engine.errors import LoadError, LoadProblem
from engine.messages import Catalogue
from engine.paths import DATA_DIR, POLICIES_DIR  # noqa: E402,F401 - where the shipped data is
from engine.policy_schema import Conclusion, ProfileFile, Rule, RuleFile, Settings
from engine.yamlfile import LoadProblems, YamlDoc, read


@dataclass
class RuleSource:
    """Where a rule was written, for problems and for `GET /v1/policies`."""

    doc: YamlDoc
    loc: tuple[str | int, ...]

    @property
    def file(self) -> str:
        return str(self.doc.path)

    @property
    def line(self) -> int | None:
        return self.doc.line(self.loc)


@dataclass
class Profile:
    id: str
    version: str
    title: str
    description: str | None
    extends: str | None
    settings: Settings
    rules: list[Rule]
    messages: dict[str, dict[str, str]]
    doc: YamlDoc
    conclusions: list[Conclusion] = field(default_factory=list)
    sources: dict[str, RuleSource] = field(default_factory=dict)
    own_rules: list[str] = field(default_factory=list)
    ruleset: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)
    reasoner: Conclusions | None = None
    #: for a combined profile: the (id, version) of each profile it combines
    parts: list[tuple[str, str]] = field(default_factory=list)

    @functools.cached_property
    def rule_index(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    @functools.cached_property
    def pickers(self) -> dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]]:
        """Per scope, the values of the facts the rules match on (`fields`), in their order."""
        return {scope: _picker(names) for scope, names in self.fields.items()}

    @functools.cached_property
    def rule_order(self) -> dict[str, int]:
        """Findings are listed in the order the rules are written."""
        return {r.id: i for i, r in enumerate(self.rules)}


def _picker(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """`operator.itemgetter`, always answering a tuple (it answers a bare value for one name)."""
    if len(names) < 2:
        return lambda facts: tuple(facts[name] for name in names)
    return operator.itemgetter(*names)  # type: ignore[return-value]


@dataclass
class PolicySet:
    profiles: dict[str, Profile]
    catalogue: Catalogue
    case_files: list[Path]

    def rulesets(self) -> dict[str, dict[str, Any]]:
        return {p.ruleset: p.body for p in self.profiles.values()}


def _profile_paths(directory: Path) -> list[Path]:
    files = [p for p in sorted(directory.glob("*.yaml")) if not p.name.endswith(".cases.yaml")]
    return files + sorted(directory.glob("*/profile.yaml"))


def _read_profile(path: Path) -> tuple[ProfileFile, YamlDoc, dict[str, RuleSource]]:
    doc = read(path)
    profile: ProfileFile = doc.validate(ProfileFile)
    sources = {rule.id: RuleSource(doc, ("rules", i)) for i, rule in enumerate(profile.rules)}
    sources.update({c.id: RuleSource(doc, ("conclusions", i)) for i, c in enumerate(profile.conclusions)})
    rules = list(profile.rules)
    conclusions = list(profile.conclusions)
    problems: list[LoadProblem] = []
    for name in profile.include:
        try:
            included = read(path.parent / name)
            rule_file: RuleFile = included.validate(RuleFile)
        except LoadProblems as exc:
            problems.extend(exc.problems)
            continue
        for i, rule in enumerate(rule_file.rules):
            if rule.id in sources:
                first = sources[rule.id]
                problems.append(
                    included.problem(
                        ("rules", i), f"duplicate rule id {rule.id!r} (first at {first.file}:{first.line})"
                    )
                )
            sources[rule.id] = RuleSource(included, ("rules", i))
            if not _narrows(rule, rule_file.regime):
                problems.append(
                    included.problem(("rules", i, "when", "regime"), "outside the file's regimes")
                )
            rules.append(_under(rule, rule_file.regime))
        for i, conclusion in enumerate(rule_file.conclusions):
            if conclusion.id in sources:
                first = sources[conclusion.id]
                problems.append(
                    included.problem(
                        ("conclusions", i),
                        f"duplicate conclusion id {conclusion.id!r} (first at {first.file}:{first.line})",
                    )
                )
            sources[conclusion.id] = RuleSource(included, ("conclusions", i))
            conclusions.append(conclusion)
    if problems:
        raise LoadProblems(problems)
    return profile.model_copy(update={"rules": rules, "conclusions": conclusions}), doc, sources


def _narrows(rule: Rule, regimes: list[str] | None) -> bool:
    """A rule's own `regime` may only narrow its file's."""
    own = rule.when.get("regime")
    if not regimes or own is None:
        return True
    named = own.get("in", []) if isinstance(own, dict) else [own]
    return isinstance(named, list) and bool(named) and set(named) <= set(regimes)


def _under(rule: Rule, regimes: list[str] | None) -> Rule:
    """A rule of a law's file matches only hops judged under that law (SPEC section 4a)."""
    if not regimes or "regime" in rule.when:
        return rule  # a rule may narrow its file's regimes itself (`validate.py` checks the subset)
    condition: Any = regimes[0] if len(regimes) == 1 else {"in": list(regimes)}
    return rule.model_copy(update={"when": {**rule.when, "regime": condition}})


def _read_catalogue(directory: Path, problems: list[LoadProblem]) -> dict[str, dict[str, str]]:
    templates: dict[str, dict[str, str]] = {}
    for path in sorted((directory / "messages").glob("*.yaml")):
        lang = path.stem
        try:
            doc = read(path)
        except LoadProblems as exc:
            problems.extend(exc.problems)
            continue
        if not isinstance(doc.data, dict) or not all(isinstance(t, str) for t in doc.data.values()):
            problems.append(doc.problem((), "a message file maps codes to template strings"))
            continue
        for code, template in doc.data.items():
            templates.setdefault(code, {})[lang] = template
    return templates


def load_policies(directories: list[Path]) -> PolicySet:
    """Read, resolve, validate and compile every profile in `directories`."""
    problems: list[LoadProblem] = []
    raw: dict[str, tuple[ProfileFile, YamlDoc, dict[str, RuleSource]]] = {}
    templates: dict[str, dict[str, str]] = {}
    case_files: list[Path] = []
    for directory in directories:
        if not directory.is_dir():
            problems.append(LoadProblem(str(directory), None, "policy directory does not exist"))
            continue
        for code, by_lang in _read_catalogue(directory, problems).items():
            templates.setdefault(code, {}).update(by_lang)
        case_files.extend(sorted(directory.rglob("*.cases.yaml")))
        for path in _profile_paths(directory):
            try:
                profile, doc, sources = _read_profile(path)
            except LoadProblems as exc:
                problems.extend(exc.problems)
                continue
            if profile.id in raw:
                problems.append(
                    doc.problem(
                        ("id",), f"profile {profile.id!r} is defined twice ({raw[profile.id][1].path})"
                    )
                )
                continue
            raw[profile.id] = (profile, doc, sources)
    if problems:
        raise LoadError(problems)
    catalogue = Catalogue(templates)
    profiles: dict[str, Profile] = {}
    for profile_id in raw:
        try:
            profiles[profile_id] = _resolve(profile_id, raw, [])
        except LoadProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise LoadError(problems)
    from engine.validate import check_profile

    for resolved in profiles.values():
        problems.extend(check_profile(resolved, catalogue.merged(resolved.messages)))
    if problems:
        raise LoadError(list({str(p): p for p in problems}.values()))
    for resolved in profiles.values():
        _compile(resolved)
    return PolicySet(profiles, catalogue, case_files)


class CombineError(ValueError):
    """Profiles that cannot apply together: a setting or rule they define differently."""


def combine(profiles: list[Profile]) -> Profile:
    """One profile applying every rule of `profiles` at once (SPEC section 6).

    A rule or conclusion shared through `extends` counts once; list settings are united,
    a scalar setting on which two profiles disagree is refused. Compiled like any profile."""
    rules: dict[str, Rule] = {}
    conclusions: dict[str, Conclusion] = {}
    for p in profiles:
        for kind, found, items in (("rule", rules, p.rules), ("conclusion", conclusions, p.conclusions)):
            for item in items:
                if found.setdefault(item.id, item) != item:  # type: ignore[arg-type]
                    raise CombineError(f"the profiles define {kind} {item.id!r} differently")
    homes = {p.settings.home_country for p in profiles} - {None}
    if len(homes) > 1:
        raise CombineError(f"the profiles set different home countries: {sorted(homes)}")  # type: ignore[type-var]
    clauses = [c for p in profiles for c in (p.settings.dpa_required_clauses or [])]
    settings = Settings(
        home_country=next(iter(homes), None),
        dpa_required_clauses=list(dict.fromkeys(clauses)) or None,
    )
    combined = Profile(
        id="+".join(p.id for p in profiles),
        version="combined",
        title=" + ".join(p.title for p in profiles),
        description=None,
        extends=None,
        settings=settings,
        rules=list(rules.values()),
        messages={k: v for p in profiles for k, v in p.messages.items()},
        doc=profiles[0].doc,
        conclusions=ordered(conclusions.values()),
        sources={k: v for p in profiles for k, v in p.sources.items()},
        own_rules=[],
        parts=[(p.id, p.version) for p in profiles],
    )
    _compile(combined)
    return combined


def _compile(profile: Profile) -> None:
    """Compile the rules and stamp the version with a digest of what decides."""
    profile.reasoner = Conclusions(profile.conclusions)
    profile.body = compiler.compile_rules(profile.rules)
    profile.ruleset = compiler.ruleset_name(profile.id, profile.body)
    profile.fields = compiler.referenced_facts(profile.rules)
    conclusions = [c.model_dump() for c in profile.conclusions]
    content = [profile.body, conclusions, profile.settings.model_dump(), profile.messages]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:8]
    profile.version = f"{profile.version}+{digest}"


def _resolve(
    profile_id: str, raw: dict[str, tuple[ProfileFile, YamlDoc, dict[str, RuleSource]]], seen: list[str]
) -> Profile:
    spec, doc, sources = raw[profile_id]
    if profile_id in seen:
        raise LoadProblems(
            [doc.problem(("extends",), f"profile {profile_id!r} extends itself via {' -> '.join(seen)}")]
        )
    parent: Profile | None = None
    if spec.extends is not None:
        if spec.extends not in raw:
            from engine.errors import did_you_mean

            hint = did_you_mean(spec.extends, list(raw)) or ""
            raise LoadProblems(
                [doc.problem(("extends",), f"extends unknown profile {spec.extends!r} {hint}".strip())]
            )
        parent = _resolve(spec.extends, raw, [*seen, profile_id])
    rules = [*(parent.rules if parent else []), *spec.rules]
    all_sources = {**(parent.sources if parent else {}), **sources}
    conclusions = _conclusions(parent, spec, sources, doc)
    problems = []
    seen_ids: set[str] = set()
    for rule in rules:
        if rule.id in seen_ids:
            src = sources.get(rule.id)
            where = src.doc.problem(src.loc, "") if src else doc.problem((), "")
            problems.append(
                LoadProblem(where.file, where.line, f"duplicate rule id {rule.id!r} (also in {spec.extends})")
            )
        seen_ids.add(rule.id)
    if problems:
        raise LoadProblems(problems)
    settings = parent.settings if parent else Settings()
    overrides = {k: val for k, val in spec.settings.model_dump().items() if val is not None}
    return Profile(
        id=spec.id,
        version=spec.version,
        title=spec.title,
        description=spec.description,
        extends=spec.extends,
        settings=settings.model_copy(update=overrides),
        rules=rules,
        conclusions=conclusions,
        messages={**(parent.messages if parent else {}), **spec.messages},
        doc=doc,
        sources=all_sources,
        own_rules=[rule.id for rule in spec.rules],
    )


def _conclusions(
    parent: Profile | None, spec: ProfileFile, sources: dict[str, RuleSource], doc: YamlDoc
) -> list[Conclusion]:
    """The parent's conclusions and this profile's, each read only after those it reads."""
    inherited = parent.conclusions if parent else []
    clash = {c.id for c in inherited} & {c.id for c in spec.conclusions}
    if clash:
        raise LoadProblems([doc.problem(("conclusions",), f"conclusions defined twice: {sorted(clash)}")])
    try:
        return ordered([*inherited, *spec.conclusions])
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        where = sources.get(exc.args[1][0])
        problem = where.doc.problem(where.loc, "") if where else doc.problem((), "")
        raise LoadProblems(
            [LoadProblem(problem.file, problem.line, f"conclusions read each other: {cycle}")]
        ) from None
