"""Countries and regions as of a date, and the architect's verdict per region and policy."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import catalogue

ON = dt.date(2026, 11, 22)


def test_region_verdict_follows_the_policy(engine):
    frankfurt = catalogue.region(engine, "aws", "eu-central-1", ON, "nl-gov")
    assert (frankfurt["country"], frankfurt["zone"], frankfurt["processor_may_hold_personal_data"]) == (
        "DE",
        "eea",
        "with_conditions",  # nl-gov: outside the Netherlands needs the controller's written consent
    )
    assert frankfurt["conditions"] == ["location.obtain_written_consent"]
    assert (
        catalogue.region(engine, "aws", "eu-central-1", ON, "gdpr")["processor_may_hold_personal_data"]
        == "yes"
    )
    virginia = catalogue.region(engine, "aws", "us-east-1", ON, "gdpr")
    assert virginia["processor_may_hold_personal_data"] == "with_conditions"
    # AWS's DPA supplies the clauses (adequacy_data/providers/aws.yaml): only the assessment remains
    assert virginia["conditions"] == ["transfer.assess_impact"]


def test_unknown_region_and_policy_are_told_apart(engine):
    with pytest.raises(catalogue.UnknownRegion):
        catalogue.region(engine, "aws", "mars-1", ON, "gdpr")
    with pytest.raises(ValueError, match="unknown policy"):
        catalogue.region(engine, "aws", "eu-central-1", ON, "gdrp")
    with pytest.raises(catalogue.UnknownRegion):
        catalogue.regions(engine, "ibm", ON, "gdpr")


def test_a_provider_listing_is_computed_once_per_date_and_policy(engine):
    first = catalogue.regions(engine, "hetzner", ON, "eu-residency")
    hits = catalogue._regions.cache_info().hits
    again = catalogue.regions(engine, "hetzner", ON, "eu-residency")
    assert again == first and catalogue._regions.cache_info().hits == hits + 1
    usable = {r["region"]: r["processor_may_hold_personal_data"] for r in first}
    assert usable["fsn1"] == "yes" and usable["ash"] == "no"


def test_country_answers(engine):
    uk = catalogue.country(engine, "GB", dt.date(2021, 3, 1))
    assert (uk["zone"], uk["eea"], uk["transfer"], uk["adequacy"]) == ("adequate", False, False, None)
    us = catalogue.country(engine, "US", ON)
    assert us["zone"] == "adequate_partial" and us["adequacy"]["id"] == "us-dpf-2023-1795"
    assert len(catalogue.countries(engine, ON)) == 249


def test_every_verdict_states_the_set_up_it_assumes(engine):
    """A provider without sourced terms is judged by the standard flow; the answer says so, in the
    request's language, with the policy's home country (SPEC section 14)."""
    on = dt.date(2026, 11, 1)
    english = catalogue.region(engine, "hetzner", "ash", on, "gdpr")
    assert "signed processing agreement and no transfer tool" in english["assumption"]
    assert "established in NL" in english["assumption"] and english["terms"] is None
    dutch = catalogue.region(engine, "hetzner", "ash", on, "gdpr", "nl")
    assert "getekende verwerkersovereenkomst" in dutch["assumption"]
