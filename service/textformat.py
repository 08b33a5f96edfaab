"""Plain-text output of the command line: a decision to read, and aligned tables.

The text form of a decision is for a person at a terminal: the decision first,
then what is to be done (the action plan: who does what), then each hop (its path,
the recipient's role and the hop's decision) with every finding as
`effect code: message [basis]`, each location under it, and finally the
assumptions the answer rests on. Its own words follow the decision's language.
JSON (`--format json`) stays the form for programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.decision import Decision, Finding, LocationResult

WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "decision": "decision",
        "allow": "allow",
        "conditions": "conditions",
        "deny": "deny",
        "as_of": "as of",
        "policy": "policy",
        "data": "reference data",
        "id": "decision id",
        "reference": "reference",
        "todo": "to do",
        "hop": "hop",
        "role": "role",
        "assumptions": "assumptions",
        "none": "none",
        "at": "at",
        "zone": "zone",
        "transfer": "transfer",
        "no_transfer": "no transfer",
        "effects": {"allow": "allow", "condition": "condition", "deny": "deny", "note": "note"},
        "roles": {},
        "law": "law",
        "regimes": {
            "gdpr": "GDPR",
            "uk_gdpr": "UK GDPR",
            "ch_fadp": "Swiss FADP",
            "none": "none of the modelled laws",
        },
    },
    "nl": {
        "decision": "besluit",
        "allow": "toegestaan",
        "conditions": "onder voorwaarden",
        "deny": "niet toegestaan",
        "as_of": "per",
        "policy": "beleid",
        "data": "referentiegegevens",
        "id": "besluit-id",
        "reference": "kenmerk",
        "todo": "te doen",
        "hop": "schakel",
        "role": "rol",
        "assumptions": "aannames",
        "none": "geen",
        "at": "in",
        "zone": "zone",
        "transfer": "doorgifte",
        "no_transfer": "geen doorgifte",
        "effects": {
            "allow": "toegestaan",
            "condition": "voorwaarde",
            "deny": "weigering",
            "note": "opmerking",
        },
        "roles": {
            "processor": "verwerker",
            "controller": "verwerkingsverantwoordelijke",
            "joint_controller": "gezamenlijke verwerkingsverantwoordelijke",
            "same_entity": "eigen organisatie",
        },
        "law": "recht",
        # nl-terms.md 1b
        "regimes": {
            "gdpr": "AVG",
            "uk_gdpr": "UK GDPR",
            "ch_fadp": "Zwitserse DSG (nFADP)",
            "none": "AVG niet van toepassing",
        },
    },
}


def decision_text(decision: Decision, lang: str = "en") -> str:
    w = WORDS[lang]
    lines = [
        f"{w['decision']}: {w[decision.decision]}",
        f"{w['as_of']} {decision.as_of.isoformat()}; {w['law']} {law_text(decision.regime, w)}; "
        f"{w['policy']} {decision.policy.id} {decision.policy.version}; "
        f"{w['data']} {decision.reference_data.version}",
        f"{w['id']}: {decision.decision_id}",
    ]
    if decision.reference:
        lines.append(f"{w['reference']}: {decision.reference}")
    if decision.actions:
        lines.append("")
        lines.append(f"{w['todo']}:")
        lines.extend(f"  {n}. {action.message}" for n, action in enumerate(decision.actions, start=1))
    for number, hop in enumerate(decision.hops, start=1):
        lines.append("")
        lines.append(f"{w['hop']} {number}: {' -> '.join(hop.path)}")
        role = w["roles"].get(hop.role, hop.role)
        law = f"; {w['law']}: {law_text(hop.regime, w)}" if hop.regime != decision.regime else ""
        lines.append(f"  {w['role']}: {role}{law}; {w['decision']}: {w[hop.decision]}")
        lines.extend("  " + finding_text(f, w) for f in hop.findings)
        for location in hop.locations:
            lines.append("  " + location_text(location, w))
            lines.extend("    " + finding_text(f, w) for f in location.findings)
    lines.append("")
    if decision.assumptions:
        lines.append(f"{w['assumptions']}:")
        for item in decision.assumptions:
            where = f", {item.location}" if item.location else ""
            lines.append(f"  {item.code} ({item.party}{where}): {item.message}")
    else:
        lines.append(f"{w['assumptions']}: {w['none']}")
    return "\n".join(lines) + "\n"


def law_text(regime: str, w: dict[str, Any]) -> str:
    """A regime in words (`uk_gdpr+gdpr`: both, joined by +)."""
    return " + ".join(w["regimes"].get(r, r) for r in regime.split("+"))


def finding_text(finding: Finding, w: dict[str, Any] = WORDS["en"]) -> str:
    basis = f" [{'; '.join(finding.basis)}]" if finding.basis else ""
    return f"{w['effects'][finding.effect]} {finding.code}: {finding.message}{basis}"


def location_text(location: LocationResult, w: dict[str, Any] = WORDS["en"]) -> str:
    place = location.location
    parts = [place.country or place.organisation or place.word or "?"]
    if place.cloud:
        parts.append(f"({place.cloud} {place.region})")
    transfer = w["transfer"] if location.transfer else w["no_transfer"]
    return (
        f"{w['at']} {' '.join(parts)}: {w['zone']} {location.zone}, {transfer}; "
        f"{w['decision']}: {w[location.decision]}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell; None shows as '-'."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    out = [_line(headers, widths), _line(["-" * w for w in widths], widths)]
    out.extend(_line(row, widths) for row in cells)
    return "\n".join(out) + "\n"


def _cell(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _line(values: Sequence[str], widths: list[int]) -> str:
    return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()
