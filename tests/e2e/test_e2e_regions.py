"""The architect's questions over HTTP: may this region, or which regions of a provider,
hold personal data under a policy?"""

from __future__ import annotations

import requests

from tests.e2e.support import Server


def _get(server: Server, path: str) -> requests.Response:
    return requests.get(server.url + path, timeout=30)


def test_one_region_under_two_policies(server):
    frankfurt = _get(server, "/v1/regions/aws/eu-central-1?as_of=2026-11-22").json()
    assert (frankfurt["country"], frankfurt["city"], frankfurt["zone"]) == ("DE", "Frankfurt", "eea")
    assert frankfurt["processor_may_hold_personal_data"] == "yes"
    virginia = _get(server, "/v1/regions/aws/us-east-1?as_of=2026-11-22&policy=eu-residency").json()
    assert virginia["country"] == "US" and virginia["processor_may_hold_personal_data"] == "no"
    assert "policy.location_outside_eea" in virginia["denials"]
    assert any(r["code"] == "policy.location_outside_eea" for r in virginia["reasons"])


def test_every_region_of_a_provider_under_eu_residency(server):
    answer = _get(server, "/v1/regions/azure?as_of=2026-11-22&policy=eu-residency")
    assert answer.status_code == 200
    regions = answer.json()["regions"]
    assert len(regions) > 50
    for region in regions:
        usable = region["processor_may_hold_personal_data"]
        assert (usable == "yes") == (region["zone"] == "eea"), region["region"]
        assert usable in ("yes", "no")
    by_id = {r["region"]: r for r in regions}
    assert (
        by_id["westeurope"]["country"] == "NL"
        and by_id["westeurope"]["processor_may_hold_personal_data"] == "yes"
    )
    assert by_id["uksouth"]["processor_may_hold_personal_data"] == "no"


def test_unknown_region_is_a_problem_with_close_ids(server):
    answer = _get(server, "/v1/regions/gcp/europe-west99")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "europe-west" in answer.json()["errors"][0]["hint"]
