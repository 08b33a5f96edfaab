"""Plain-text output of the command line: a decision to read, and aligned tables.

The text form of a decision is for a person at a terminal: the decision first,
then each hop (its path, the recipient's role and the hop's decision) with every
finding as `effect code: message [basis]`, each location under it, and finally
the assumptions the answer rests on. JSON (`--format json`) stays the form for
programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.decision import Decision, Finding, LocationResult


def decision_text(decision: Decision) -> str:
    lines = [
        f"decision: {decision.decision}",
        f"as of {decision.as_of.isoformat()}; policy {decision.policy.id} {decision.policy.version}; "
        f"reference data {decision.reference_data.version}",
        f"decision id: {decision.decision_id}",
    ]
    for number, hop in enumerate(decision.hops, start=1):
        lines.append("")
        lines.append(f"hop {number}: {' -> '.join(hop.path)}")
        lines.append(f"  role: {hop.role}; decision: {hop.decision}")
        lines.extend("  " + finding_text(f) for f in hop.findings)
        for location in hop.locations:
            lines.append("  " + location_text(location))
            lines.extend("    " + finding_text(f) for f in location.findings)
    lines.append("")
    if decision.assumptions:
        lines.append("assumptions:")
        for item in decision.assumptions:
            where = f" at {item.location}" if item.location else ""
            lines.append(f"  {item.code} ({item.party}{where}): {item.message}")
    else:
        lines.append("assumptions: none")
    return "\n".join(lines) + "\n"


def finding_text(finding: Finding) -> str:
    basis = f" [{'; '.join(finding.basis)}]" if finding.basis else ""
    return f"{finding.effect} {finding.code}: {finding.message}{basis}"


def location_text(location: LocationResult) -> str:
    place = location.location
    parts = [place.country or place.organisation or place.word or "?"]
    if place.cloud:
        parts.append(f"({place.cloud} {place.region})")
    transfer = "transfer" if location.transfer else "no transfer"
    return f"at {' '.join(parts)}: zone {location.zone}, {transfer}; decision: {location.decision}"


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
