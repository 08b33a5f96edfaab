"""The transfer register's rows (`service.register`) from real decisions of the engine: one row
per transfer, the mechanism and assessment read from the findings, open actions per party and
place, and CSV cells a spreadsheet cannot evaluate."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from service import register
from tests.conftest import flow
from tests.service.support import FLOWS

VENDOR_CHAIN = Path(__file__).resolve().parents[2] / "docs" / "examples" / "vendor-chain.json"


def logged(engine: Any, payload: dict[str, Any], **columns: Any) -> dict[str, Any]:
    """A decision as the log returns it for the register: the response as stored (JSON text)."""
    decision = engine.evaluate(payload)
    return {
        "decision_id": decision.decision_id,
        "decided_at": "2026-11-22T10:00:00.000000Z",
        "vendor_id": None,
        "reference": payload.get("reference", "ref"),
        "changes_on": None,
        "response": decision.model_dump_json(),
        **columns,
    }


def rows_of(engine: Any, payload: dict[str, Any]) -> list[dict[str, Any]]:
    return register.rows([logged(engine, payload)])


def safeguards(**given: Any) -> dict[str, Any]:
    return {"agreement": {"dpa": {"signed": True}, "safeguards": given}}


# ---------------------------------------------------------------- which transfers


def test_a_flow_inside_the_eea_has_no_row(engine):
    assert rows_of(engine, FLOWS["allow"]) == []


def test_one_row_per_transfer_with_every_field(engine):
    entry = logged(engine, FLOWS["conditions"], reference="PO-7", changes_on="2027-01-01")
    (row,) = register.rows([entry])
    assert row == {
        "vendor": None,
        "reference": "PO-7",
        "exporter": "Stadtwerke Beispiel GmbH",
        "path": ["Stadtwerke Beispiel GmbH", "Merlion Cloud Pte Ltd"],
        "recipient": "Merlion Cloud Pte Ltd",
        "role": "processor",
        "country": "SG",
        "location": "SG",
        "zone": "third_country",
        "mechanism": "none",
        "mechanism_detail": None,
        "assessment": "needed",
        "decision": "conditions",
        "open_actions": ["transfer.sign_scc", "transfer.assess_impact"],
        "decision_id": entry["decision_id"],
        "decided_at": "2026-11-22T10:00:00.000000Z",
        "changes_on": "2027-01-01",
        "regime": "gdpr",
    }
    assert list(row) == list(register.FIELDS)


def test_a_uk_exporters_transfer_names_its_regime_tool_and_risk_assessment(engine):
    """A UK exporter's rows say `uk_gdpr`, the IDTA as the tool, and the UK's transfer risk
    assessment where the EU one would be (SPEC section 4a)."""
    uk = {"name": "Example Retail Ltd", "country": "GB"}
    base = {"as_of": "2026-11-22", "exporter": uk}
    signed = {
        **base,
        "recipient": {"name": "Cloud CRM Inc", "role": "processor", "country": "IN", **safeguards(idta={})},
    }
    missing = {
        **base,
        "recipient": {"name": "Cloud CRM Inc", "role": "processor", "country": "IN", **safeguards()},
    }
    (row,) = rows_of(engine, signed)
    assert (row["regime"], row["mechanism"], row["mechanism_detail"]) == ("uk_gdpr", "instrument", "idta")
    assert row["assessment"] == "risk_assessment_needed"
    (row,) = rows_of(engine, missing)
    assert (row["mechanism"], row["assessment"]) == ("none", "risk_assessment_needed")
    assert row["open_actions"] == ["transfer.sign_idta", "transfer.assess_risk"]


def test_a_chain_gives_a_row_per_hop_that_transfers(engine):
    rows = rows_of(engine, FLOWS["chain"])
    assert [(r["exporter"], r["recipient"], r["country"], r["zone"]) for r in rows] == [
        ("Stadtwerke Beispiel GmbH", "Lakeside SaaS Inc", "US", "adequate_partial"),
        ("Lakeside SaaS Inc", "Monterrey Soporte SA", "MX", "third_country"),
    ]
    us, mx = rows
    assert (us["mechanism"], us["mechanism_detail"]) == (
        "adequacy",
        "Commission Implementing Decision (EU) 2023/1795",
    )
    assert (us["assessment"], us["decision"], us["open_actions"]) == ("not_needed", "allow", [])
    assert (mx["mechanism"], mx["assessment"], mx["decision"]) == ("none", "needed", "conditions")
    assert mx["path"] == ["Stadtwerke Beispiel GmbH", "Lakeside SaaS Inc", "Monterrey Soporte SA"]


def test_places_in_the_eea_of_a_vendor_chain_are_left_out_and_clouds_named(engine):
    payload = json.loads(VENDOR_CHAIN.read_text())
    rows = rows_of(engine, payload)
    decision = engine.evaluate(payload)
    transfers = [
        (hop.recipient, loc.location.country)
        for hop in decision.hops
        for loc in hop.locations
        if loc.transfer
    ]
    assert [(r["recipient"], r["country"]) for r in rows] == transfers
    assert "IE" not in {r["country"] for r in rows} and "LU" not in {r["country"] for r in rows}
    assert {r["country"] for r in rows} >= {"US", "BR", "PH"}


def test_a_cloud_region_is_named_with_its_provider():
    place = {"country": "US", "cloud": "aws", "region": "us-east-1"}
    assert register.place_text(place) == "US (aws us-east-1)"
    assert register.place_text({"country": None, "organisation": "UN"}) == "UN"


# ---------------------------------------------------------------- mechanism and assessment


@pytest.mark.parametrize(
    ("recipient", "mechanism", "detail", "assessment"),
    [
        (
            {"country": "SG", **safeguards(scc={"module": 2}, tia={"outcome": "no_problematic_law"})},
            "scc",
            "module 2, 2021/914",
            "done",
        ),
        (
            {"country": "SG", **safeguards(scc={"module": 2}, tia={"outcome": "measures_required"})},
            "scc",
            "module 2, 2021/914",
            "measures_needed",
        ),
        (
            {"country": "SG", **safeguards(scc={"module": 2}, tia={"outcome": "not_disclosed"})},
            "scc",
            "module 2, 2021/914",
            "needed",
        ),
        (
            {"country": "CN", **safeguards(scc={"module": 2}, tia={"outcome": "no_effective_measures"})},
            "scc",
            "module 2, 2021/914",
            "no_effective_measures",
        ),
        (
            {
                "country": "IN",
                **safeguards(
                    bcr={"kind": "controller", "approved": True}, tia={"outcome": "no_problematic_law"}
                ),
            },
            "bcr",
            "controller",
            "done",
        ),
        ({"country": "JP"}, "adequacy", "Commission Implementing Decision (EU) 2019/419", "not_needed"),
        (
            {"country": "SG", **safeguards(scc={"module": 1}, tia={"outcome": "no_problematic_law"})},
            "none",
            None,
            "done",
        ),
    ],
)
def test_the_mechanism_and_assessment_come_from_the_findings(
    engine, recipient, mechanism, detail, assessment
):
    payload = flow(**recipient)
    (row,) = rows_of(engine, payload)
    assert (row["mechanism"], row["mechanism_detail"], row["assessment"]) == (mechanism, detail, assessment)


def test_a_derogation_names_its_ground(engine):
    payload = {
        "as_of": "2025-03-15",
        "exporter": {"name": "Advocatenkantoor", "country": "NL"},
        "recipient": {
            "name": "Istanbul Hukuk",
            "role": "controller",
            "country": "TR",
            "agreement": {"safeguards": {"derogation": {"ground": "legal_claims", "occasional": True}}},
        },
    }
    (row,) = rows_of(engine, payload)
    assert (row["mechanism"], row["mechanism_detail"], row["assessment"], row["decision"]) == (
        "derogation",
        "legal_claims",
        "not_needed",
        "allow",
    )


def test_adequacy_comes_before_clauses_and_clauses_before_a_derogation():
    found = [
        {"effect": "allow", "code": "transfer.derogation", "params": {"ground": "legal_claims"}},
        {
            "effect": "allow",
            "code": "transfer.safeguard_scc",
            "params": {"module": 1, "decision": "2021/914"},
        },
    ]
    assert register.mechanism(found) == ("scc", "module 1, 2021/914")
    found.append({"effect": "allow", "code": "transfer.adequacy", "params": {"act": "Decision 2019/419"}})
    assert register.mechanism(found) == ("adequacy", "Decision 2019/419")
    notes = [{"effect": "note", "code": "transfer.scc_not_counting", "params": {"module": 1}}]
    assert register.mechanism(notes) == ("none", None)


# ---------------------------------------------------------------- open actions


def test_open_actions_are_those_about_this_party_at_this_place(engine):
    payload = copy.deepcopy(FLOWS["chain"])
    payload["recipient"]["agreement"] = {}  # no DPA with the root recipient: a hop condition
    payload["recipient"]["locations"] = ["US", "SG"]
    rows = rows_of(engine, payload)
    by_place = {(r["recipient"], r["country"]): r["open_actions"] for r in rows}
    assert by_place[("Lakeside SaaS Inc", "US")] == ["dpa.conclude"]
    assert sorted(by_place[("Lakeside SaaS Inc", "SG")]) == [
        "dpa.conclude",
        "transfer.assess_impact",
        "transfer.sign_scc",
    ]
    assert by_place[("Monterrey Soporte SA", "MX")] == ["transfer.sign_scc", "transfer.assess_impact"]


def test_open_actions_tolerate_indexes_outside_the_conditions():
    response = {"conditions": [], "actions": [{"code": "x", "conditions": [3]}]}
    assert register.open_actions(register.actions_by_place(response), ("a", "b"), "US") == []


def test_open_actions_keep_the_order_of_the_actions_and_name_each_code_once():
    here, there = {"path": ["a", "b"], "location": "US"}, {"path": ["a", "b"], "location": "SG"}
    hop = {"path": ["a", "b"], "location": None}
    response = {
        "conditions": [here, there, hop, here],
        "actions": [
            {"code": "transfer.sign_scc", "conditions": [1]},
            {"code": "dpa.conclude", "conditions": [2]},
            {"code": "transfer.assess_impact", "conditions": [0, 3]},
            {"code": "transfer.sign_scc", "conditions": [0]},
        ],
    }
    index = register.actions_by_place(response)
    assert register.open_actions(index, ("a", "b"), "US") == [
        "dpa.conclude",
        "transfer.assess_impact",
        "transfer.sign_scc",
    ]
    assert register.open_actions(index, ("a", "b"), "SG") == ["transfer.sign_scc", "dpa.conclude"]
    assert register.open_actions(index, ("a", "c"), "US") == []


# ---------------------------------------------------------------- order and CSV


def test_vendors_come_first_then_references(engine):
    a = logged(engine, FLOWS["conditions"], reference="b-ref")
    b = logged(engine, FLOWS["deny"], reference="a-ref")
    c = logged(engine, FLOWS["conditions"], vendor_id="zeta", reference=None)
    assert [(r["vendor"], r["reference"]) for r in register.rows([a, b, c])] == [
        ("zeta", None),
        (None, "a-ref"),
        (None, "b-ref"),
    ]


def test_the_horizon_of_the_response_is_used_when_the_column_is_empty(engine):
    entry = logged(engine, FLOWS["conditions"])
    response = json.loads(entry["response"])
    response["horizon"] = {"changes_on": "2030-01-01"}
    (row,) = register.rows([{**entry, "response": json.dumps(response)}])
    assert row["changes_on"] == "2030-01-01"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+31 20", "'+31 20"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Acme = good", "Acme = good"),
        ("", ""),
        (None, ""),
    ],
)
def test_csv_cells_that_would_be_formulas_start_with_an_apostrophe(value, cell):
    assert register.csv_cell("recipient", value) == cell


def test_csv_has_a_header_and_joins_lists(engine):
    rows = rows_of(engine, FLOWS["chain"])
    text = register.to_csv(rows)
    assert text.endswith("\r\n")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == list(register.FIELDS) and len(table) == 1 + len(rows)
    mx = dict(zip(table[0], table[2], strict=True))
    assert mx["path"] == "Stadtwerke Beispiel GmbH > Lakeside SaaS Inc > Monterrey Soporte SA"
    assert mx["open_actions"] == "transfer.sign_scc transfer.assess_impact" and mx["vendor"] == ""
    assert register.csv_cell("path", ["=a", "b"]) == "'=a > b"
