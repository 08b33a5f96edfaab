"""Vendors over a real server: store a revision, decide by vendor id, review a change."""

from __future__ import annotations

import json
from pathlib import Path

import requests
import yaml

from tests.e2e.support import logged_ids

ACME = json.loads(
    json.dumps(
        yaml.safe_load(
            (Path(__file__).resolve().parents[1] / "service" / "data" / "vendor-acme.yaml").read_text()
        ),
        default=str,
    )
)
CUSTOMER = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}


def test_a_vendor_over_http(server):
    url = server.url + "/v1/vendors/acme-e2e"
    doc = {**ACME, "id": "acme-e2e"}
    assert requests.put(url, json=doc, timeout=10).status_code == 201
    changed = json.loads(json.dumps(doc))
    changed["recipient"]["sub_processors"].append({"name": "Analytics Co", "country": "CN"})
    assert requests.put(url, json=changed, timeout=10).json() == {
        "id": "acme-e2e",
        "revision": 2,
        "stored": True,
    }
    ask = {"exporter": CUSTOMER, "policy": "gdpr", "as_of": "2026-11-22", "products": ["crm"]}
    decision = requests.post(url + "/decisions", json=ask, timeout=10).json()
    assert decision["vendor"]["revision"] == 2 and decision["decision_id"] in logged_ids(server.db)
    review = requests.post(
        url + "/review", json={**ask, "policy": "eu-residency", "notified_on": "2026-11-20"}, timeout=10
    ).json()
    assert review["verdict"] == "object" and review["object_by"] == "2026-12-20"
