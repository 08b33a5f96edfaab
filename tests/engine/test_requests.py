"""Invalid requests: every problem is listed with its field, and nothing is ever allowed."""

from __future__ import annotations

import copy

import pytest

from engine.errors import RequestInvalid
from tests.conftest import TODAY, flow


def problems(engine, payload):
    with pytest.raises(RequestInvalid) as info:
        engine.evaluate(payload, TODAY)
    return info.value, {p.loc: p for p in info.value.problems}


def with_(payload, path, value):
    out = copy.deepcopy(payload)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "loc", "msg"),
    [
        (
            ("recipient", "agreement", "dpa", "clauses"),
            ["processing_details", "pinky_promise"],
            "recipient.agreement.dpa.clauses[1]",
            "'pinky_promise' is not allowed",
        ),
        (("recipient", "country"), "Narnia", "recipient.country", "unknown country 'Narnia'"),
        (("exporter", "country"), "Germny", "exporter.country", "unknown country 'Germny'"),
        (("as_of",), "2025-13-01", "as_of", "as_of"),
        (("as_of",), "2018-05-24", "as_of", "before 2018-05-25"),
        (("recipient", "agreement", "dpa", "signed"), "true", "recipient.agreement.dpa.signed", "boolean"),
        (("recipient", "agreement", "dpa", "signed"), 1, "recipient.agreement.dpa.signed", "boolean"),
        (("recipient", "surprise"), 1, "recipient.surprise", "unknown field"),
        (("recipient", "role"), "owner", "recipient.role", "'owner' is not allowed"),
        (("policy",), "gdrp", "policy", "unknown policy 'gdrp'"),
        (("lang",), "de", "lang", "'de' is not allowed"),
        (
            ("recipient", "locations"),
            [{"cloud": "aws", "region": "eu-central-9"}],
            "recipient.locations[0].region",
            "unknown aws region",
        ),
        (
            ("recipient", "locations"),
            [{"cloud": "aws2", "region": "x"}],
            "recipient.locations[0].cloud",
            "unknown cloud provider",
        ),
        (("recipient", "locations"), [42], "recipient.locations[0]", "a location is"),
        (
            ("recipient", "locations"),
            ["NL", {"country": 5}],
            "recipient.locations[1].country",
            "valid string",
        ),
        (("recipient", "locations"), [{"cloud": "aws"}], "recipient.locations[0].region", "is required"),
        (("data",), {"categories": ["helth"]}, "data.categories[0]", "'helth' is not allowed"),
        (
            ("recipient", "agreement"),
            {"safeguards": {"scc": {"module": 5}}},
            "recipient.agreement.safeguards.scc.module",
            "less than or equal to 4",
        ),
        (
            ("recipient", "agreement"),
            {"safeguards": {"scc": {"module": "2"}}},
            "recipient.agreement.safeguards.scc.module",
            "integer",
        ),
    ],
)
def test_bad_field_is_named(engine, path, value, loc, msg):
    exc, by_loc = problems(engine, with_(flow(), path, value))
    assert exc.status == 422
    assert loc in by_loc, list(by_loc)
    assert msg in by_loc[loc].msg


@pytest.mark.parametrize(
    ("value", "hint"),
    [("Germny", "did you mean 'Germany'"), ("eu-central-9", "'eu-central-1'")],
)
def test_hints(engine, value, hint):
    if value.startswith("eu-"):
        payload = flow(locations=[{"cloud": "aws", "region": value}])
        loc = "recipient.locations[0].region"
    else:
        payload = with_(flow(), ("exporter", "country"), value)
        loc = "exporter.country"
    _, by_loc = problems(engine, payload)
    assert hint in by_loc[loc].hint


def test_every_problem_is_listed(engine):
    payload = flow(country="Narnia", surprise=True)
    payload["exporter"]["country"] = "Atlantis"
    exc, by_loc = problems(engine, payload)
    assert {"recipient.surprise"} <= set(by_loc)
    # schema problems come first; a valid schema then lists every unresolvable place
    payload.pop("recipient")["surprise"]
    payload["recipient"] = {"name": "R", "role": "processor", "country": "Narnia"}
    exc, by_loc = problems(engine, payload)
    assert {"exporter.country", "recipient.country"} <= set(by_loc)


def test_root_role_is_required(engine):
    payload = flow()
    del payload["recipient"]["role"]
    _, by_loc = problems(engine, payload)
    assert "recipient.role" in by_loc


def _chain(depth):
    node = {"name": f"n{depth}", "country": "NL"}
    for level in range(depth - 1, 0, -1):
        node = {"name": f"n{level}", "country": "NL", "sub_processors": [node]}
    return node


def test_chain_depth_limit(engine):
    ok = {**flow(), "recipient": {**_chain(10), "role": "processor"}}
    assert engine.evaluate(ok, TODAY).decision in ("allow", "conditions")
    exc, by_loc = problems(engine, {**flow(), "recipient": {**_chain(11), "role": "processor"}})
    assert exc.code == "chain_too_large" and exc.status == 422
    assert "depth 10" in by_loc["recipient.sub_processors"].msg


def test_node_count_limit(engine):
    subs = [{"name": f"s{i}", "country": "NL"} for i in range(199)]
    assert len(engine.evaluate(flow(sub_processors=subs), TODAY).hops) == 200
    exc, by_loc = problems(engine, flow(sub_processors=[*subs, {"name": "one too many", "country": "NL"}]))
    assert "200 recipient nodes" in by_loc["recipient.sub_processors"].msg


@pytest.mark.parametrize("body", [[], "flow", 3, None])
def test_body_must_be_an_object(engine, body):
    exc, by_loc = problems(engine, body)
    assert "(body)" in by_loc


def test_recipient_without_country_or_locations(engine):
    payload = flow()
    del payload["recipient"]["country"]
    _, by_loc = problems(engine, payload)
    assert "recipient.country" in by_loc


def test_location_limit(engine):
    subs = [{"name": f"s{i}", "locations": ["NL"] * 9} for i in range(110)]
    assert (
        len(engine.evaluate(flow(sub_processors=subs[:110], locations=["NL"]), TODAY).hops) == 111
    )  # 991 places
    exc, by_loc = problems(engine, flow(sub_processors=[*subs, {"name": "more", "locations": ["NL"] * 10}]))
    assert exc.code == "chain_too_large"
    assert "more than 1000 locations" in by_loc["recipient"].msg


def test_unknown_measure_names_the_valid_ones(engine):
    measures = ["transport_encryption", "encryption"]
    payload = flow(country="US", agreement={"safeguards": {"supplementary_measures": measures}})
    _, found = problems(engine, payload)
    (problem,) = found.values()
    assert problem.loc == "recipient.agreement.safeguards.supplementary_measures[1]"
    assert "'encryption' is not allowed" in problem.msg
    for measure in ("encryption_keys_in_eea", "split_processing", "protected_recipient", "organisational"):
        assert measure in (problem.hint or "")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("recipient", "locations"), [{"country": "IN", "access": "remote"}]),
        (("data", "purposes"), ["marketing"]),
        (("recipient", "controller_of_exporter"), "yes"),
        (("recipient", "agreement", "safeguards", "administrative_arrangement"), {"authorised": 1}),
        (("recipient", "agreement", "authorisation", "answer_period_elapsed"), "true"),
    ],
)
def test_revision_2_fields_are_strict(engine, path, value):
    payload = flow(country="US", agreement={"dpa": {"signed": True}, "authorisation": {}, "safeguards": {}})
    payload["data"] = {}
    _, found = problems(engine, with_(payload, path, value))
    assert any(loc.startswith(".".join(path)) for loc in found)


@pytest.mark.parametrize(
    ("cloud", "region", "msg", "hint"),
    [
        (
            "aws",
            "eu-frankfurt-1",
            "'eu-frankfurt-1' is a region of oci, not of aws",
            "'eu-central-1' (Frankfurt)",
        ),
        ("azure", "frankfurt", "unknown azure region 'frankfurt'", "'germanywestcentral' (Frankfurt)"),
        ("aws", "eu-isoe-west-1", "is known, but no source states its country", "state the country instead"),
    ],
)
def test_region_problems_say_what_is_wrong(engine, cloud, region, msg, hint):
    _, found = problems(engine, flow(locations=[{"cloud": cloud, "region": region}]))
    problem = found["recipient.locations[0].region"]
    assert msg in problem.msg and hint in (problem.hint or "")


def test_azure_locations_by_display_name(engine):
    d = engine.evaluate(flow(locations=[{"cloud": "azure", "region": "West Europe"}]), TODAY)
    assert d.hops[0].locations[0].location.region == "westeurope"
    _, found = problems(engine, flow(locations=[{"cloud": "aws", "region": "Europe (Frankfurt)"}]))
    assert "recipient.locations[0].region" in found  # only Azure addresses a location by its name
