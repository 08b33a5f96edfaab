"""Cross-file checks run at load time (service start-up and `doorgifte check`).

A rule may only name facts that exist for its scope, compare them with values of
the right type, refer to params that facts provide, and produce codes the contract
knows (custom codes start with `policy.`) with a message in every language.
Reference data must have ordered dates, sources, and no two decisions in force for
one place on one day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import vocabulary as v
from engine.errors import LoadProblem, did_you_mean
from engine.messages import Catalogue, placeholders, variant
from engine.policy_schema import BOOL, FACTS, INT, PARAM_FACTS, Conclusion, Rule
from engine.yamlfile import YamlDoc

if TYPE_CHECKING:
    from engine.loader import Profile
    from engine.reference import AdequacyDecision, Reference, RegimeFile

#: what every finding's message may name besides its params (assemble.py, localise.py)
CONTEXT = {"party", "location", "controller", "controller_cap"}


def _value_problem(name: str, spec: Any, value: Any) -> str | None:
    if spec == BOOL:
        return None if isinstance(value, bool) else f"fact {name!r} is a boolean, not {value!r}"
    if spec == INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"fact {name!r} is a number, not {value!r}"
    if isinstance(value, str) and value in spec:
        return None
    return f"fact {name!r} is one of {list(spec)}, not {value!r}"


Found = list[tuple[tuple[str | int, ...], str]]


def _when_problems(scope: str, when: dict[str, Any], facts: dict[str, Any], depth: int | None) -> Found:
    """Problems of a condition over `facts`; `depth`: how many levels of any/all may nest
    (None: any number, for conclusions; durable-rules takes one `any` level in a rule)."""
    out: Found = []
    for name, value in when.items():
        if name in ("any", "all"):
            if depth == 0 or (depth is not None and name == "all"):
                out.append(
                    ((name,), f"a rule takes one level of 'any'; name a conclusion instead of {name!r}")
                )
                continue
            if not isinstance(value, list) or not value or not all(isinstance(a, dict) for a in value):
                out.append(((name,), f"{name!r} is a non-empty list of conditions"))
                continue
            inner = None if depth is None else depth - 1
            for i, alternative in enumerate(value):
                found = _when_problems(scope, alternative, facts, inner)
                out.extend(((name, i, *loc), msg) for loc, msg in found)
            continue
        if name not in facts:
            hint = did_you_mean(name, list(facts))
            out.append(((name,), f"unknown {scope} fact {name!r}" + (f"; {hint}" if hint else "")))
            continue
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in ("not", "in", "not_in"):
                out.append(((name,), f"an operator on {name!r} is one of not, in, not_in"))
                continue
            op, operand = next(iter(value.items()))
            values = operand if op in ("in", "not_in") else [operand]
            if op in ("in", "not_in") and (not isinstance(operand, list) or not operand):
                out.append(((name, op), f"{op} takes a non-empty list"))
                continue
        else:
            values = [value]
        for item in values:
            why = _value_problem(name, facts[name], item)
            if why:
                out.append(((name,), why))
    return out


def _code_problem(rule: Rule) -> str | None:
    code, effect = rule.then.code, rule.then.effect
    custom = code is not None and code.startswith(v.CUSTOM_CODE_PREFIX)
    if effect == "condition" and code not in v.CONDITION_CODES and not custom:
        return f"condition code {code!r} is not in the contract; custom codes start with 'policy.'"
    if effect == "deny" and code not in v.DENIAL_CODES and not custom:
        return f"denial code {code!r} is not in the contract; custom codes start with 'policy.'"
    bad = [a for a in rule.then.assume if not a.startswith("assume.")]
    return f"assumption codes start with 'assume.': {bad}" if bad else None


def scope_facts(scope: str, conclusions: list[Conclusion]) -> dict[str, Any]:
    """The facts of a scope and the conclusions drawn over them, by type."""
    return {**FACTS[scope], **{c.id: BOOL for c in conclusions if c.scope == scope}}


def check_rule(
    rule: Rule, catalogue: Catalogue, conclusions: list[Conclusion] | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of one rule, each with its path inside the rule."""
    facts = scope_facts(rule.scope, conclusions or [])
    out = [(("when", *loc), msg) for loc, msg in _when_problems(rule.scope, rule.when, facts, 1)]
    known = set(facts) | PARAM_FACTS[rule.scope]
    for ref in rule.named_facts:
        if ref not in known:
            hint = did_you_mean(ref, sorted(known))
            out.append((("then", "params"), f"unknown fact ${ref}" + (f"; {hint}" if hint else "")))
    why = _code_problem(rule)
    if why:
        out.append((("then", "code"), why))
    names = set(rule.then.params) | CONTEXT
    names |= {derived for derived, source in v.DERIVED_PARAMS.items() if source in rule.then.params}
    out.extend(_action_template_problems(rule, catalogue))
    for code in [c for c in (rule.then.code, *rule.then.assume) if c]:
        # the code's own template, and its wording under each regime the rule judges under
        keys = [code, *(k for k in _variants(code, rule) if k in catalogue.templates)]
        for key in keys:
            by_lang = catalogue.templates.get(key, {})
            for lang in v.LANGUAGES:
                if lang not in by_lang:
                    out.append((("then",), f"no {lang!r} message for code {key!r}"))
                elif code == rule.then.code and not placeholders(by_lang[lang]) <= names:
                    extra = sorted(placeholders(by_lang[lang]) - names)
                    out.append(
                        (
                            ("then",),
                            f"the {lang!r} message of {key!r} uses {extra}, which this rule does not give",
                        )
                    )
    return out


def _variants(code: str, rule: Rule) -> list[str]:
    """The catalogue keys of `code`'s wording under the regimes the rule names (messages.variant)."""
    named = rule.when.get("regime")
    regimes = named.get("in", []) if isinstance(named, dict) else [named] if named else []
    return [variant(code, r) for r in regimes if isinstance(r, str)]


def check_conclusion(conclusion: Conclusion, conclusions: list[Conclusion]) -> Found:
    out: Found = []
    if conclusion.id in FACTS[conclusion.scope] or conclusion.id in PARAM_FACTS[conclusion.scope]:
        out.append((("id",), f"{conclusion.id!r} is already a fact"))
    facts = scope_facts(conclusion.scope, [c for c in conclusions if c.id != conclusion.id])
    out.extend(
        (("when", *loc), msg) for loc, msg in _when_problems(conclusion.scope, conclusion.when, facts, None)
    )
    return out


#: what an action message may name besides its first condition's params (engine/actions.py)
ACTION_CONTEXT = {
    "actor",
    "as_controller",
    "controller",
    "counterparty",
    "parties",
    "party_count",
    "locations",
    "location_count",
    "count",
    "code",
}


def _action_template_problems(rule: Rule, catalogue: Catalogue) -> Found:
    """An action text of a condition code may use only what every action of that code gives."""
    if rule.then.effect != "condition":
        return []
    out: Found = []
    code = f"action.{rule.then.code}"
    for key in [code, *(k for k in _variants(code, rule) if k in catalogue.templates)]:
        for lang, template in catalogue.templates.get(key, {}).items():
            given = set(rule.then.params) | {
                d for d, source in v.DERIVED_PARAMS.items() if source in rule.then.params
            }
            extra = sorted(placeholders(template) - given - ACTION_CONTEXT)
            if extra:
                out.append(
                    (
                        ("then",),
                        f"the {lang!r} action text of {key!r} uses {extra}, which this rule does not give",
                    )
                )
    return out


def check_profile(profile: Profile, catalogue: Catalogue) -> list[LoadProblem]:
    problems = []
    for conclusion in profile.conclusions:
        source = profile.sources[conclusion.id]
        for loc, msg in check_conclusion(conclusion, profile.conclusions):
            problems.append(source.doc.problem((*source.loc, *loc), f"conclusion {conclusion.id}: {msg}"))
    for rule in profile.rules:
        source = profile.sources[rule.id]
        for loc, msg in check_rule(rule, catalogue, profile.conclusions):
            problems.append(source.doc.problem((*source.loc, *loc), f"rule {rule.id}: {msg}"))
    return problems


# ----------------------------------------------------------------- reference data


def _dated(
    problems: list[LoadProblem], doc: YamlDoc, loc: tuple[str | int, ...], *dates: dt.date | None
) -> None:
    present = [d for d in dates if d is not None]
    if present != sorted(present):
        problems.append(doc.problem(loc, f"dates out of order: {[d.isoformat() for d in present]}"))


def check_reference(ref: Reference, data_dir: Path, docs: dict[str, YamlDoc]) -> list[LoadProblem]:
    problems: list[LoadProblem] = []
    eea = docs[str(data_dir / "eea.yaml")]
    for i, m in enumerate(ref.eea.members):
        _dated(problems, eea, ("members", i), m.from_, m.until)
        if m.source not in ref.eea.sources:
            problems.append(eea.problem(("members", i, "source"), f"unknown source key {m.source!r}"))
    for i, b in enumerate(ref.eea.bridges):
        _dated(problems, eea, ("bridges", i), b.from_, b.until)
    adequacy = docs[str(data_dir / "adequacy.yaml")]
    seen_ids: set[str] = set()
    for i, d in enumerate(ref.adequacy.decisions):
        if (d.country is None) == (d.organisation is None):
            problems.append(
                adequacy.problem(("decisions", i), "a decision names a country or an organisation")
            )
        if d.id in seen_ids:
            problems.append(adequacy.problem(("decisions", i, "id"), f"duplicate id {d.id!r}"))
        seen_ids.add(d.id)
        _dated(problems, adequacy, ("decisions", i), d.adopted, d.expires)
        _dated(problems, adequacy, ("decisions", i), d.applies_from, d.expires)
        _dated(problems, adequacy, ("decisions", i), d.applies_from, d.invalidated)
        if d.scope.kind == "certified_organisations" and not (d.scope.certifications or {}).get("default"):
            problems.append(
                adequacy.problem(("decisions", i, "scope"), "certified scope needs a default certification")
            )
        if d.scope.kind == "sectors" and not d.scope.sectors:
            problems.append(adequacy.problem(("decisions", i, "scope"), "sector scope needs sectors"))
        for j, exclusion in enumerate(d.exclusions):
            _dated(problems, adequacy, ("decisions", i, "exclusions", j), exclusion.from_, exclusion.until)
        if d.organisation and d.organisation not in ref.aliases.organisations:
            problems.append(
                adequacy.problem(("decisions", i, "organisation"), f"unknown organisation {d.organisation!r}")
            )
    problems.extend(_overlaps(ref, adequacy))
    instruments = docs[str(data_dir / "instruments.yaml")]
    problems.extend(_module_problems(ref, instruments))
    for i, s in enumerate(ref.instruments.scc_sets):
        _dated(problems, instruments, ("scc_sets", i), s.adopted, s.applies_from, s.new_contracts_until)
        _dated(problems, instruments, ("scc_sets", i), s.new_contracts_until, s.concluded_contracts_until)
    missing = set(v.SCC_DECISIONS) - {s.id for s in ref.instruments.scc_sets}
    missing |= set(v.GDPR_DEROGATIONS) - {d.id for d in ref.instruments.derogations}
    missing |= set(v.BCR_KINDS) - {b.kind for b in ref.instruments.bcr_kinds}
    missing |= set(v.SUPPLEMENTARY_MEASURES) - {m.id for m in ref.instruments.supplementary_measures}
    if missing:
        problems.append(instruments.problem((), f"instruments missing for {sorted(missing)}"))
    for path, provider in ((data_dir / "regions" / f"{p}.yaml", f) for p, f in ref.providers.items()):
        doc = docs.get(str(path))
        if doc is None:
            problems.append(
                LoadProblem(str(path), None, f"provider {provider.provider!r} is not in a file of its name")
            )
            continue
        ids: set[str] = set()
        for i, r in enumerate(provider.regions):
            if r.id in ids:
                problems.append(doc.problem(("regions", i, "id"), f"duplicate region id {r.id!r}"))
            ids.add(r.id)
            unknown = set(r.sources) - set(provider.sources)
            if unknown:
                problems.append(
                    doc.problem(("regions", i, "sources"), f"unknown source keys {sorted(unknown)}")
                )
    for rid, regime in ref.regimes.items():
        problems.extend(_regime_problems(ref, regime, docs[str(data_dir / "regimes" / f"{rid}.yaml")]))
    problems.extend(_terms_problems(ref, data_dir, docs))
    return problems


def _regime_problems(ref: Reference, regime: RegimeFile, doc: YamlDoc) -> list[LoadProblem]:
    """A regime file's cross-checks: source keys, dated periods that tile time from the
    regime's start, one adequacy record per place and day, and every ground and tool known."""
    out: list[LoadProblem] = []
    keyed: list[tuple[tuple[str | int, ...], str]] = [
        (("law", i), p.source) for i, p in enumerate(regime.law)
    ]
    keyed += [(("tools", i), t.source) for i, t in enumerate(regime.tools)]
    keyed.append((("legacy_clauses",), regime.legacy_clauses.source))
    out += [
        doc.problem((*loc, "source"), f"unknown source key {key!r}")
        for loc, key in keyed
        if key not in regime.sources
    ]
    if not regime.law or regime.law[0].from_ != regime.applies_from:
        out.append(
            doc.problem(("law",), f"the first period must start on applies_from {regime.applies_from}")
        )
    for i, (a, b) in enumerate(zip(regime.law, regime.law[1:], strict=False)):
        if a.until is None or a.until + dt.timedelta(days=1) != b.from_:
            out.append(doc.problem(("law", i + 1), "periods must follow each other without gap or overlap"))
    if regime.law and regime.law[-1].until is not None:
        out.append(doc.problem(("law",), "the last period must be open-ended (until: null)"))
    seen: set[str] = set()
    for i, d in enumerate(regime.adequacy):
        if sum(x is not None for x in (d.country, d.organisation, d.area)) != 1:
            out.append(doc.problem(("adequacy", i), "a record names one country, organisation or area"))
        if d.id in seen:
            out.append(doc.problem(("adequacy", i, "id"), f"duplicate id {d.id!r}"))
        seen.add(d.id)
        if d.country in regime.area:
            out.append(doc.problem(("adequacy", i, "country"), "the regime's own area needs no adequacy"))
        for other in regime.adequacy[i + 1 :]:
            if other.place == d.place and _both_in_force(d, other):
                out.append(doc.problem(("adequacy", i), f"{d.id} and {other.id} are both in force"))
    for j, ground in enumerate(regime.derogations):
        _dated(out, doc, ("derogations", j), ground.from_, ground.until)
        for later in regime.derogations[j + 1 :]:
            start = max(ground.from_ or dt.date.min, later.from_ or dt.date.min)
            if later.id == ground.id and ground.in_force(start) and later.in_force(start):
                out.append(
                    doc.problem(("derogations", j), f"{ground.id!r} has two records in force on {start}")
                )
    missing = {t.with_clauses for t in regime.tools if t.with_clauses} - {
        s.id for s in ref.instruments.scc_sets
    }
    out += [doc.problem(("tools",), f"unknown clause set {m!r}") for m in sorted(missing)]
    return out


def _both_in_force(a: AdequacyDecision, b: AdequacyDecision) -> bool:
    """Two records in force on one day: then on the later of their first days."""
    start = max(a.applies_from, b.applies_from)
    return a.in_force(start) and b.in_force(start)


def _terms_problems(ref: Reference, data_dir: Path, docs: dict[str, YamlDoc]) -> list[LoadProblem]:
    """A provider's terms sit in a file of its name, beside its regions, and cite only their sources."""
    out = []
    for provider, terms in ref.terms.items():
        path = data_dir / "providers" / f"{provider}.yaml"
        doc = docs.get(str(path))
        if doc is None:
            out.append(LoadProblem(str(path), None, f"terms of {provider!r} are not in a file of its name"))
            continue
        if provider not in ref.providers:
            out.append(doc.problem(("provider",), f"terms of {provider!r}, a provider without regions"))
        for key, fact in terms.facts().items():
            unknown = set(fact.sources) - set(terms.sources)
            if unknown:
                out.append(doc.problem((key, "sources"), f"unknown source keys {sorted(unknown)}"))
    return out


#: every role pair a hop can have (exporter, importer, importer is the exporter's own controller)
_ROLE_PAIRS = [
    ("controller", "controller", False),
    ("controller", "processor", False),
    ("processor", "processor", False),
    ("processor", "controller", True),
    ("processor", "controller", False),
]


def _module_problems(ref: Reference, doc: YamlDoc) -> list[LoadProblem]:
    """Every role pair must find exactly one module."""
    out = []
    for exporter, importer, own in _ROLE_PAIRS:
        found = [
            m.module
            for m in ref.instruments.modules
            if (m.exporter, m.importer) == (exporter, importer) and m.own_controller in (own, None)
        ]
        if len(found) != 1:
            what = f"{exporter} -> {importer}" + (" (own controller)" if own else "")
            out.append(doc.problem(("modules",), f"role pair {what} needs exactly one module, has {found}"))
    return out


def _overlaps(ref: Reference, doc: YamlDoc) -> list[LoadProblem]:
    """Two decisions in force for one place on one day would make the answer ambiguous."""
    out = []
    decisions = ref.adequacy.decisions
    for i, a in enumerate(decisions):
        for b in decisions[i + 1 :]:
            if a.place != b.place:
                continue
            if _both_in_force(a, b):
                start = max(a.applies_from, b.applies_from)
                out.append(
                    doc.problem(("decisions", i), f"decisions {a.id} and {b.id} are both in force on {start}")
                )
    return out
