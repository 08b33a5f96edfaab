"""/v1/vendors over the Flask app: the store, decisions by vendor id, and review."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from service.schemas import VendorList, VendorOut, VendorReview, VendorRevisions, VendorStored
from tests.service.support import assert_problem, logged_ids

ACME = json.loads(
    json.dumps(yaml.safe_load((Path(__file__).parent / "data" / "vendor-acme.yaml").read_text()), default=str)
)
CUSTOMER = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}


def _changed() -> dict:
    doc = json.loads(json.dumps(ACME))
    doc["list_version"] = "2026-11-15"
    doc["recipient"]["sub_processors"].append(
        {
            "name": "Analytics Co",
            "country": "CN",
            "purpose": "analytics",
            "agreement": {"dpa": {"signed": True}},
        }
    )
    return doc


def test_revisions_are_appended_never_overwritten(client):
    first = client.put("/v1/vendors/acme-crm", json=ACME)
    assert first.status_code == 201 and VendorStored.model_validate(first.get_json()).revision == 1
    same = client.put("/v1/vendors/acme-crm", json=ACME)
    assert same.status_code == 200 and same.get_json() == {"id": "acme-crm", "revision": 1, "stored": False}
    assert client.put("/v1/vendors/acme-crm", json=_changed()).get_json()["revision"] == 2
    listed = VendorList.model_validate(client.get("/v1/vendors").get_json())
    assert [(v.id, v.revision, v.list_version) for v in listed.vendors] == [("acme-crm", 2, "2026-11-15")]
    old = VendorOut.model_validate(client.get("/v1/vendors/acme-crm?revision=1").get_json())
    assert old.document["list_version"] == "2026-10-01"
    history = VendorRevisions.model_validate(client.get("/v1/vendors/acme-crm/revisions").get_json())
    assert [r.revision for r in history.revisions] == [1, 2]


def test_a_bad_document_is_a_422_naming_the_field(client):
    doc = json.loads(json.dumps(ACME))
    doc["recipient"]["sub_processors"][0]["country"] = "Atlantis"
    problem = assert_problem(client.put("/v1/vendors/acme-crm", json=doc), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == "recipient.sub_processors[0].country"
    mismatch = assert_problem(client.put("/v1/vendors/other-crm", json=ACME), 422, "invalid_request")
    assert mismatch["errors"][0]["loc"] == "id"
    assert_problem(client.get("/v1/vendors/acme-crm"), 404, "not_found")


def test_a_decision_by_vendor_id_is_logged_with_the_revision(client, db_path):
    client.put("/v1/vendors/acme-crm", json=ACME)
    ask = {
        "exporter": CUSTOMER,
        "policy": "nl-gov",
        "as_of": "2026-11-22",
        "products": ["crm"],
        "residency": "eu",
        "agreement": {"location_consent": True},
        "reference": "po-17",
    }
    body = client.post("/v1/vendors/acme-crm/decisions", json=ask).get_json()
    assert body["vendor"] == {"id": "acme-crm", "revision": 1, "list_version": "2026-10-01"}
    assert [h["recipient"] for h in body["hops"]] == [
        "Acme CRM B.V.",
        "Amazon Web Services EMEA SARL",
        "Acme Inc.",
    ]
    acme_inc = body["hops"][2]
    assert [loc["location"]["country"] for loc in acme_inc["locations"]] == ["IE"]  # the EU residency option
    assert body["reference"] == "po-17" and body["logged"] is True
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT vendor_id, vendor_revision FROM decisions").fetchone()
    assert row == ("acme-crm", "1") and logged_ids(db_path) == [body["decision_id"]]
    unknown = client.post("/v1/vendors/acme-crm/decisions", json={**ask, "products": ["erp"]})
    assert assert_problem(unknown, 422, "invalid_request")["errors"][0]["loc"] == "products"


def test_a_review_says_whether_to_object_and_by_when(client, db_path):
    client.put("/v1/vendors/acme-crm", json=ACME)
    client.put("/v1/vendors/acme-crm", json=_changed())
    ask = {"exporter": CUSTOMER, "policy": "eu-residency", "notified_on": "2026-11-20", "as_of": "2026-11-22"}
    review = VendorReview.model_validate(client.post("/v1/vendors/acme-crm/review", json=ask).get_json())
    assert review.verdict == "object" and str(review.object_by) == "2026-12-20"
    assert [c["party"] for c in review.changes] == ["Analytics Co"]
    assert {d["code"] for d in review.new_denials} == {"policy.location_outside_eea"}
    assert review.reasons and (review.from_revision, review.to_revision) == (1, 2)
    assert logged_ids(db_path) == []  # reviews are dry runs
    gdpr = client.post("/v1/vendors/acme-crm/review", json={**ask, "policy": "gdpr"}).get_json()
    assert gdpr["verdict"] == "accept_with_conditions"
    assert {c["code"] for c in gdpr["new_conditions"]} >= {"transfer.sign_scc", "transfer.assess_impact"}


def test_the_schema_is_published(client):
    schema = client.get("/v1/schemas/vendor").get_json()
    assert schema["title"] == "VendorDocument" and "recipient" in schema["properties"]


def test_revision_numbers_out_of_range_are_422_not_500(client):
    client.put("/v1/vendors/acme-crm", json=ACME)
    huge = {"exporter": CUSTOMER, "revision": -57917043183731433537536}
    assert_problem(client.post("/v1/vendors/acme-crm/decisions", json=huge), 422, "invalid_request")
    assert_problem(
        client.post("/v1/vendors/acme-crm/decisions", json={**huge, "revision": 0}), 422, "invalid_request"
    )
    too_big = client.get("/v1/vendors/acme-crm?revision=99999999999999999999999")
    assert_problem(too_big, 422, "invalid_request")
    review = {"exporter": CUSTOMER, "notified_on": "2026-11-20", "to_revision": 10**25}
    assert_problem(client.post("/v1/vendors/acme-crm/review", json=review), 422, "invalid_request")
