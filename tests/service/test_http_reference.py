"""Countries, regions, policies and vocabulary endpoints, checked against their schemas."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import vocabulary
from service.schemas import (
    CountryList,
    CountryOut,
    PolicyList,
    PolicyOut,
    ProviderList,
    RegionList,
    RegionOut,
)
from tests.service.support import assert_problem

# ---------------------------------------------------------------- countries


def test_countries_lists_every_country_with_zone_and_adequacy(client):
    response = client.get("/v1/countries?as_of=2025-03-15")
    assert response.status_code == 200
    body = CountryList.model_validate(response.get_json())
    by_code = {c.country: c for c in body.countries}
    assert len(by_code) > 240
    assert by_code["NL"].zone == "eea" and by_code["NL"].eea and by_code["NL"].adequacy is None
    assert by_code["CH"].zone == "adequate" and by_code["CH"].adequacy is not None
    assert by_code["US"].zone == "adequate_partial"
    assert by_code["CN"].zone == "third_country"
    assert body.as_of == dt.date(2025, 3, 15)


@pytest.mark.parametrize(
    ("as_of", "zone", "eea"),
    [("2020-06-01", "eea", True), ("2021-03-01", "adequate", False), ("2022-01-01", "adequate", False)],
)
def test_country_answers_as_of_a_date(client, as_of, zone, eea):
    body = CountryOut.model_validate(client.get(f"/v1/countries/GB?as_of={as_of}").get_json())
    assert (body.zone, body.eea) == (zone, eea)


@pytest.mark.parametrize("ref", ["NL", "nld", "Netherlands", "the netherlands", "nl"])
def test_country_accepts_the_flow_request_spellings(client, ref):
    assert client.get(f"/v1/countries/{ref}").get_json()["country"] == "NL"


def test_country_defaults_to_today(client):
    body = client.get("/v1/countries/DE").get_json()
    assert body["as_of"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_unknown_country_is_404_with_a_hint(client):
    body = assert_problem(client.get("/v1/countries/Netherland"), 404, "not_found")
    assert "Netherlands" in body["errors"][0]["hint"]


@pytest.mark.parametrize(
    "as_of", ["2025-3-15", "15-03-2025", "2025-02-30", "today", "2018-05-24", "20250315"]
)
def test_bad_as_of_is_422(client, as_of):
    body = assert_problem(client.get(f"/v1/countries?as_of={as_of}"), 422, "invalid_request")
    assert body["errors"][0]["loc"] == "as_of"


def test_misspelt_query_parameter_is_422_with_a_hint(client):
    body = assert_problem(client.get("/v1/countries?asof=2025-01-01"), 422, "invalid_request")
    assert "as_of" in body["errors"][0]["hint"]


# ---------------------------------------------------------------- regions


def test_region_answers_place_zone_and_verdict(client):
    response = client.get("/v1/regions/gcp/europe-west1?as_of=2025-03-15")
    body = RegionOut.model_validate(response.get_json())
    assert (body.country, body.zone, body.processor_may_hold_personal_data) == ("BE", "eea", "yes")
    assert body.city


def test_region_verdict_follows_the_policy(client):
    gdpr = client.get("/v1/regions/aws/us-east-1?as_of=2025-03-15").get_json()
    residency = client.get("/v1/regions/aws/us-east-1?as_of=2025-03-15&policy=eu-residency").get_json()
    assert gdpr["processor_may_hold_personal_data"] == "with_conditions"
    assert residency["processor_may_hold_personal_data"] == "no"
    assert "policy.location_outside_eea" in residency["denials"]


def test_regions_of_a_provider_list_every_region(client, engine):
    body = RegionList.model_validate(client.get("/v1/regions/azure?as_of=2025-03-15").get_json())
    assert [r.region for r in body.regions] == engine.reference.region_ids("azure")
    assert {r.processor_may_hold_personal_data for r in body.regions} <= {"yes", "with_conditions", "no"}


def test_providers_are_listed(client, engine):
    body = ProviderList.model_validate(client.get("/v1/regions").get_json())
    assert body.providers == sorted(engine.reference.providers)


@pytest.mark.parametrize(
    ("path", "loc", "hint"),
    [
        ("/v1/regions/awz/eu-west-1", "provider", "aws"),
        ("/v1/regions/awz", "provider", "aws"),
        ("/v1/regions/aws/eu-west-9", "region", "eu-west-"),
        ("/v1/regions/gcp/europe-wst1", "region", "europe-west1"),
    ],
)
def test_unknown_provider_or_region_is_404_with_a_hint(client, path, loc, hint):
    body = assert_problem(client.get(path), 404, "not_found")
    assert body["errors"][0]["loc"] == loc
    assert hint in body["errors"][0]["hint"]


def test_unknown_policy_on_a_region_is_422(client):
    body = assert_problem(client.get("/v1/regions/aws/eu-west-1?policy=nl-gv"), 422, "invalid_request")
    assert body["errors"][0]["loc"] == "policy" and "nl-gov" in body["errors"][0]["hint"]


# ---------------------------------------------------------------- policies, vocabulary


def test_policies_list_profiles_with_versions_and_rules(client, engine):
    body = PolicyList.model_validate(client.get("/v1/policies").get_json())
    by_id = {p.id: p for p in body.policies}
    assert set(by_id) == set(engine.policies.profiles)
    nl_gov = by_id["nl-gov"]
    assert nl_gov.extends == "gdpr"
    assert nl_gov.version == engine.policies.profiles["nl-gov"].version
    assert "location_consent" in nl_gov.settings["dpa_required_clauses"]
    rule = next(r for r in by_id["gdpr"].rules if r.code == "transfer.sign_scc")
    assert rule.effect == "condition" and rule.basis and rule.title


def test_policy_by_id_and_unknown_policy(client):
    body = PolicyOut.model_validate(client.get("/v1/policies/eu-residency").get_json())
    assert any(r.code == "policy.location_outside_eea" for r in body.rules)
    problem = assert_problem(client.get("/v1/policies/eu-residence"), 404, "not_found")
    assert "eu-residency" in problem["errors"][0]["hint"]


def test_vocabulary_is_every_id_list(client):
    body = client.get("/v1/vocabulary").get_json()
    assert body == vocabulary.as_dict()
    assert "health" in body["special_categories"]
    assert "transfer.sign_scc" in body["condition_codes"]


def test_region_under_combined_profiles_in_every_query_form(client):
    forms = ["policy=nl-gov&policy=eu-residency", "policy=nl-gov,eu-residency", "policy=eu-residency,nl-gov"]
    answers = [client.get(f"/v1/regions/aws/us-east-1?as_of=2026-11-22&{q}").get_json() for q in forms]
    assert {a["policy"] for a in answers} == {"eu-residency+nl-gov"}
    assert {a["decision"] for a in answers} == {"deny"}


def test_a_repeated_single_value_parameter_is_refused(client):
    response = client.get("/v1/regions/aws/us-east-1?as_of=2026-11-22&as_of=2020-01-01")
    problem = assert_problem(response, 422, "invalid_request")
    assert problem["errors"][0]["loc"] == "as_of"


def test_a_policy_lists_its_conclusions_and_actors(client):
    body = client.get("/v1/policies/gdpr").get_json()
    conclusions = {c["id"]: c for c in body["conclusions"]}
    assert "safeguard_counts" in conclusions and conclusions["safeguard_counts"]["when"]["any"]
    sign = next(r for r in body["rules"] if r["id"] == "transfer.safeguard.missing")
    assert sign["actor"] == "exporter"


def test_a_combined_policy_is_served_too(client):
    body = client.get("/v1/policies/nl-gov,eu-residency").get_json()
    assert body["id"] == "eu-residency+nl-gov"
    ids = [r["id"] for r in body["rules"]]
    assert "eu_residency.location.outside_eea" in ids and "nl_gov.location.consent_missing" in ids
