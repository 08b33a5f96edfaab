"""The example vendor documents in vendors/, built from published sub-processor lists: each
validates with every place resolved, and answers what a municipality would be told."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from engine import vendors
from tests.conftest import TODAY

VENDORS = Path(__file__).resolve().parents[2] / "vendors"
MUNICIPALITY = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}


def _doc(engine, name: str) -> vendors.VendorDocument:
    data = json.loads(json.dumps(yaml.safe_load((VENDORS / f"{name}.yaml").read_text()), default=str))
    return vendors.parse(data, engine.resolver)


def _decide(engine, name: str, policy: str = "gdpr"):
    flow = {
        "as_of": "2026-11-22",
        "policy": policy,
        "exporter": MUNICIPALITY,
        "recipient": vendors.recipient(_doc(engine, name)),
    }
    return engine.evaluate(flow, TODAY)


def test_every_example_cites_its_source_and_date(engine):
    for path in sorted(VENDORS.glob("*.yaml")):
        doc = _doc(engine, path.stem)
        assert doc.id == path.stem and doc.sources and all(s.url.startswith("https://") for s in doc.sources)
        assert len(vendors.parties(doc)) >= 4


def test_github_a_us_contracting_party_with_us_sub_processors(engine):
    d = _decide(engine, "github")
    assert d.decision == "conditions"
    codes = {c.code for c in d.conditions}
    assert {"transfer.sign_scc", "transfer.assess_impact", "dpa.conclude"} <= codes
    # the municipality's own work first: SCC module 2 with GitHub, Inc. itself
    first = d.actions[0]
    assert first.actor == "Gemeente Utrecht" and first.counterparty == "GitHub, Inc."


def test_openproject_legacy_clauses_no_longer_count(engine):
    d = _decide(engine, "openproject")
    scc = [c for c in d.conditions if c.code == "transfer.sign_scc"]
    assert scc and all(c.params["decision"] == "2021/914" for c in scc)  # 2010/87/EU ended 2022-12-27
    assert "Wildbit LLC – Postmark" in {c.party for c in scc}


def test_plausible_stays_in_the_eea(engine):
    """No transfer and nothing eu-residency denies: only the customer's own contract state
    (it was not yet informed of the sub-processors) is left to settle."""
    d = _decide(engine, "plausible", "eu-residency")
    assert d.decision == "conditions" and d.denials == []
    assert {c.code for c in d.conditions} == {"subprocessor.inform_controller"}
    assert {loc.zone for h in d.hops for loc in h.locations} == {"eea"}
