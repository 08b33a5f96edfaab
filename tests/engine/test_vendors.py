"""Vendor documents as data: validation, the flow they become, and what a change means."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from engine import vendors
from engine.errors import RequestInvalid

ACME = Path(__file__).resolve().parents[1] / "service" / "data" / "vendor-acme.yaml"


def acme() -> dict:
    return json.loads(json.dumps(yaml.safe_load(ACME.read_text()), default=str))


def test_a_vendor_document_parses_with_products_on_its_nodes():
    doc = vendors.parse(acme())
    assert doc.id == "acme-crm" and doc.notice_days == 30 and doc.products == ["crm", "mail"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda d: d.update(id="Acme CRM"), "id"),
        (lambda d: d.update(sources=[]), "sources"),
        (lambda d: d.update(surprise=1), "surprise"),
        (
            lambda d: d["recipient"]["sub_processors"][0].update(country="Atlantis"),
            "recipient.sub_processors[0].country",
        ),
        (
            lambda d: d["recipient"]["sub_processors"][0].update(locations=["Narnia"]),
            "recipient.sub_processors[0].locations[0]",
        ),
        (
            lambda d: d["residency"]["eu"]["locations"].update({"Acme Inc.": ["Mordor"]}),
            "residency.eu.locations",
        ),
        (
            lambda d: d["recipient"]["sub_processors"][1].update(products=["erp"]),
            "recipient.sub_processors[1].products",
        ),
        (
            lambda d: d["recipient"]["sub_processors"][2].update(colour="red"),
            "recipient.sub_processors[2].colour",
        ),
        (lambda d: d["residency"]["eu"]["locations"].update({"Nobody": ["IE"]}), "residency.eu.locations"),
    ],
)
def test_a_broken_document_names_the_field(engine, change, loc):
    doc = acme()
    change(doc)
    with pytest.raises(RequestInvalid) as info:
        vendors.parse(doc, engine.resolver)
    assert any(p.loc.startswith(loc) for p in info.value.problems), info.value.problems


def test_products_cut_the_chain_and_residency_moves_places():
    doc = vendors.parse(acme())
    names = lambda root: [n["name"] for n in root["sub_processors"]]  # noqa: E731
    assert names(vendors.recipient(doc)) == ["Amazon Web Services EMEA SARL", "Acme Inc.", "Mailer Ltd"]
    assert names(vendors.recipient(doc, ["crm"])) == ["Amazon Web Services EMEA SARL", "Acme Inc."]
    moved = vendors.recipient(doc, residency="eu")
    assert moved["sub_processors"][1]["locations"] == ["IE"]
    assert "products" not in json.dumps(moved)


def test_the_customers_agreement_goes_over_the_standard_terms():
    doc = vendors.parse(acme())
    root = vendors.recipient(
        doc, agreement={"location_consent": True, "dpa": {"clauses": ["confidentiality"]}}
    )
    assert root["agreement"] == {
        "dpa": {"signed": True, "clauses": ["confidentiality"]},
        "location_consent": True,
    }
    assert "location_consent" not in doc.recipient["agreement"]  # the stored document is untouched


@pytest.mark.parametrize(
    ("kw", "loc"), [({"products": ["erp"]}, "products"), ({"residency": "us"}, "residency")]
)
def test_unknown_products_and_residency_options_are_refused(kw, loc):
    with pytest.raises(RequestInvalid) as info:
        vendors.recipient(vendors.parse(acme()), **kw)
    assert info.value.problems[0].loc == loc


def test_changes_between_revisions():
    before = vendors.parse(acme())
    after_doc = copy.deepcopy(acme())
    subs = after_doc["recipient"]["sub_processors"]
    subs[1]["locations"] = ["US", "IE"]
    subs[2]["purpose"] = "bulk e-mail"
    subs.pop(0)
    subs.append({"name": "New Co", "country": "CN"})
    after = vendors.parse(after_doc)
    found = {(c["party"], c["change"]) for c in vendors.changes(before, after)}
    assert found == {
        ("Acme Inc.", "locations_changed"),
        ("Mailer Ltd", "terms_changed"),
        ("Amazon Web Services EMEA SARL", "removed"),
        ("New Co", "added"),
    }
    assert vendors.digest(before) != vendors.digest(after)
    assert vendors.digest(before) == vendors.digest(vendors.parse(acme()))


def _decision(conditions=(), denials=()) -> dict:
    item = lambda code, party: {"code": code, "party": party, "location": None, "message": f"{code} {party}"}  # noqa: E731
    return {"conditions": [item(*c) for c in conditions], "denials": [item(*d) for d in denials]}


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (_decision(), _decision(), "accept"),
        (_decision([("dpa.conclude", "A")]), _decision([("dpa.conclude", "A")]), "accept_with_conditions"),
        (_decision(), _decision(denials=[("policy.location_outside_eea", "New Co")]), "object"),
    ],
)
def test_the_verdict_and_the_objection_deadline(before, after, verdict):
    judged = vendors.review(before, after, dt.date(2026, 11, 20), 30)
    assert judged["verdict"] == verdict and judged["object_by"] == "2026-12-20"
    assert vendors.review(before, after, dt.date(2026, 11, 20), None)["object_by"] is None
    if verdict == "object":
        assert judged["reasons"] == ["policy.location_outside_eea New Co"]


def test_resolved_findings_are_listed():
    judged = vendors.review(_decision([("dpa.conclude", "Old")]), _decision(), dt.date(2026, 1, 1), None)
    assert [r["party"] for r in judged["resolved"]] == ["Old"] and judged["verdict"] == "accept"
