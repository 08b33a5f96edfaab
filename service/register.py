"""The transfer register (SPEC section 13; GDPR Art. 30(1)(e) and 30(2)(c)) from logged decisions.

Pure functions: a logged decision (its stored response and a few log columns) in, register
rows out, one per transfer, i.e. per party and location where the decision found a transfer
to a third country or international organisation. Nothing is decided again here: every value
is read from the findings the engine gave when the decision was logged, so the register shows
what was answered, and `changes_on` says when that answer would change (SPEC section 12).

- mechanism: the transfer tool a location's allow findings name, the first of MECHANISMS
  (adequacy before an Art. 46 safeguard before an Art. 49 derogation); `none` when no tool
  carries the transfer yet (then the open actions say what to do, e.g. `transfer.sign_scc`).
- assessment: the transfer impact assessment an Art. 46 tool needs (Schrems II), from the
  assessment findings; `not_needed` when the engine asked for none (adequacy, derogations,
  module 4 without EU data, transfers before the assessment era).
- open_actions: codes of the decision's actions with a condition about this hop, at this
  location or at no particular location (a DPA, flow-down, authorisation).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

#: the register's columns, in the order of the CSV
FIELDS = (
    "vendor",
    "reference",
    "exporter",
    "path",
    "recipient",
    "role",
    "country",
    "location",
    "zone",
    "mechanism",
    "mechanism_detail",
    "assessment",
    "decision",
    "open_actions",
    "decision_id",
    "decided_at",
    "changes_on",
    "regime",
)

#: allow codes that carry a transfer, in the order of the law's hierarchy (Art. 45, 46, 49)
MECHANISMS = {
    "transfer.adequacy": "adequacy",
    "transfer.safeguard_scc": "scc",
    "transfer.safeguard_instrument": "instrument",
    "transfer.safeguard_bcr": "bcr",
    "transfer.safeguard_ad_hoc_clauses": "ad_hoc_clauses",
    "transfer.safeguard_code_of_conduct": "code_of_conduct",
    "transfer.safeguard_certification": "certification",
    "transfer.safeguard_public_instrument": "public_instrument",
    "transfer.safeguard_administrative_arrangement": "administrative_arrangement",
    "transfer.derogation": "derogation",
}

#: assessment findings, the first present wins: a refusal before an open step before a done one
ASSESSMENT = (
    ("transfer.no_effective_measures", "no_effective_measures"),
    ("transfer.assess_impact", "needed"),
    ("transfer.assess_risk", "risk_assessment_needed"),
    ("transfer.apply_supplementary_measures", "measures_needed"),
    ("transfer.assessment_no_problematic_law", "done"),
    ("transfer.supplementary_measures_in_place", "done"),
    ("transfer.no_local_law_assessment_needed", "not_needed"),
)

CSV_HEADER = ",".join(FIELDS) + "\r\n"
#: a CSV cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(logged: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Register rows of logged decisions (dicts with the stored `response`, JSON text or parsed,
    and the log's `decision_id`, `decided_at`, `vendor_id`, `reference`, `changes_on`), in
    `ordered` order; within a decision in hop and location order."""
    return [row for entry in ordered(logged) for row in decision_rows(entry)]


def ordered(logged: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decisions by vendor first, by vendor id, then the others by reference."""
    return sorted(logged, key=lambda e: (e["vendor_id"] is None, e["vendor_id"] or e["reference"] or ""))


def decision_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per location of a hop where the decision found a transfer."""
    stored = entry["response"]
    response: dict[str, Any] = json.loads(stored) if isinstance(stored, str) else stored
    common = {
        "vendor": entry["vendor_id"],
        "reference": entry["reference"],
        "decision_id": entry["decision_id"],
        "decided_at": entry["decided_at"],
        "changes_on": entry.get("changes_on") or (response.get("horizon") or {}).get("changes_on"),
    }
    actions = actions_by_place(response)
    out = []
    for hop in response.get("hops", []):
        for location in hop.get("locations", []):
            if location.get("transfer") is True:
                row = {**transfer_row(hop, location, actions), **common}
                out.append({name: row[name] for name in FIELDS})
    return out


def transfer_row(hop: dict[str, Any], location: dict[str, Any], actions: ActionIndex) -> dict[str, Any]:
    """The register's view of one transfer: who exports to whom, where, on what tool."""
    findings = location.get("findings", [])
    kind, detail = mechanism(findings)
    place = location.get("location") or {}
    path = tuple(hop["path"])
    return {
        "exporter": hop["exporter"],
        "path": list(path),
        "recipient": hop["recipient"],
        "role": hop["role"],
        "regime": hop.get("regime", "gdpr"),
        "country": place.get("country"),
        "location": place_text(place),
        "zone": location["zone"],
        "mechanism": kind,
        "mechanism_detail": detail,
        "assessment": assessment(findings),
        "decision": location["decision"],
        "open_actions": open_actions(actions, path, place.get("country")),
    }


def mechanism(findings: list[dict[str, Any]]) -> tuple[str, str | None]:
    """(kind, detail): the adequacy act, `module N, <set>` of the clauses, the BCR's kind, the
    derogation's ground; `none` when no allow finding names a tool."""
    named = {f["code"]: f.get("params") or {} for f in findings if f.get("effect") == "allow"}
    for code, kind in MECHANISMS.items():
        if code in named:
            return kind, _detail(kind, named[code])
    return "none", None


def _detail(kind: str, params: dict[str, Any]) -> str | None:
    if kind == "adequacy":
        return params.get("act") or params.get("decision")
    if kind == "scc":
        return f"module {params.get('module')}, {params.get('decision')}"
    if kind == "bcr":
        return params.get("kind")
    if kind == "instrument":
        return params.get("instrument")
    if kind == "derogation":
        return params.get("ground")
    return None


def assessment(findings: list[dict[str, Any]]) -> str:
    codes = {f["code"] for f in findings}
    return next((status for code, status in ASSESSMENT if code in codes), "not_needed")


#: (hop path, location or None) -> (action number, code) of the actions with a condition there
ActionIndex = dict[tuple[tuple[str, ...], str | None], list[tuple[int, str]]]


def actions_by_place(response: dict[str, Any]) -> ActionIndex:
    """Where each action (SPEC section 10) has its conditions: built once per decision, so that
    each of its rows looks its actions up instead of walking them all."""
    conditions = response.get("conditions", [])
    index: ActionIndex = {}
    for number, action in enumerate(response.get("actions", [])):
        for i in action.get("conditions", []):
            if 0 <= i < len(conditions):
                condition = conditions[i]
                key = (tuple(condition.get("path", ())), condition.get("location"))
                index.setdefault(key, []).append((number, action["code"]))
    return index


def open_actions(actions: ActionIndex, path: tuple[str, ...], country: str | None) -> list[str]:
    """Codes of the actions with a condition about this hop (same path), at this country or at
    no location; each code once, in the actions' order."""
    found = sorted({*actions.get((path, None), []), *actions.get((path, country), [])})
    return list(dict.fromkeys(code for _, code in found))


def place_text(place: dict[str, Any]) -> str:
    """The place as a person reads it: `US`, `DE (aws eu-central-1)`, an organisation, a word."""
    name = place.get("country") or place.get("organisation") or place.get("word") or "?"
    return f"{name} ({place['cloud']} {place.get('region')})" if place.get("cloud") else str(name)


# ---------------------------------------------------------------- CSV


def to_csv(register: list[dict[str, Any]]) -> str:
    """RFC 4180 text with a header row; lists joined (`path` by ` > `, actions by spaces)."""
    return CSV_HEADER + csv_lines(register)


def csv_lines(register: list[dict[str, Any]]) -> str:
    """The rows as CSV records, without the header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in register:
        writer.writerow([csv_cell(name, row[name]) for name in FIELDS])
    return out.getvalue()


def csv_cell(name: str, value: Any) -> str:
    """One cell, text a spreadsheet shows and never evaluates: a leading `'` before `=`, `+`,
    `-`, `@`, tab or carriage return (party names and references come from callers)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = (" > " if name == "path" else " ").join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
