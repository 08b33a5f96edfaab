"""Hostile input over the HTTP layer (the Flask app through its test client): random and mutated
flows, wrong types, odd unicode as raw bytes, huge numbers, deep nesting, long arrays, wrong
media types, broken JSON text. Every answer is a valid decision (or batch) or a documented 4xx
problem+json, never a 5xx; afterwards the service is healthy and still answers a reference flow
exactly as before. (The same against a real server: tests/e2e/test_e2e_hostile.py.)"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.decision import Decision
from service.schemas import BatchResponse, LogPage
from tests.engine.test_fuzz import flows as generated_flows
from tests.engine.test_fuzz import json_values
from tests.mixed_flows import comparable, expected_answer
from tests.service.support import FLOWS, assert_problem

DECIDE = "/v1/decisions"
BATCH = "/v1/decisions/batch"
#: the problem codes a request can earn by itself, by status (SPEC section 7, docs/service.md)
CALLER_ERRORS = {
    400: {"malformed_json", "bad_request"},
    405: {"method_not_allowed"},
    413: {"body_too_large"},
    415: {"unsupported_media_type"},
    422: {"invalid_request", "chain_too_large"},
}
HOSTILE = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def strict_json(data: bytes) -> Any:
    """The body as strict JSON: UTF-8, no NaN or Infinity."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"the answer contains {name}")

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def assert_answer(response: Any, path: str = DECIDE) -> dict[str, Any]:
    """A decision (or batch) that validates against its model, or a documented 4xx problem."""
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:2000]
    body = strict_json(response.get_data())
    if status == 200:
        assert response.mimetype == "application/json"
        if path == BATCH:
            batch = BatchResponse.model_validate(body)
            for result in batch.results:
                assert result.status in (200, 422), result  # one flow alone: decided, or the caller's mistake
            counts = {
                k: sum(1 for r in body["results"] if r.get("decision") == k)
                for k in ("allow", "conditions", "deny")
            }
            assert body["summary"] == {**counts, "error": sum(1 for r in body["results"] if "error" in r)}
        else:
            Decision.model_validate(body)
        return body
    assert status in CALLER_ERRORS, f"undocumented status {status}"
    assert_problem(response, status, body.get("code", ""))
    assert body["code"] in CALLER_ERRORS[status]
    return body


def post_raw(
    client: FlaskClient, raw: bytes, path: str = DECIDE, content_type: str = "application/json"
) -> Any:
    return client.post(path, data=raw, content_type=content_type)


@pytest.fixture
def hostile_client(app: Flask, engine: Any) -> Iterator[FlaskClient]:
    """A client whose service must still be healthy, and answer the reference flow as before, afterwards."""
    client = app.test_client()
    reference = FLOWS["chain"]
    expected = expected_answer(engine, reference)
    yield client
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    answer = client.post(DECIDE, json=reference)
    assert answer.status_code == 200
    assert comparable(answer.get_json()) == expected


# ---------------------------------------------------------------- strategies

#: strings that are hard to encode, compare or store: surrogates, controls, private use, unassigned
odd_text = st.text(
    alphabet=st.characters(categories=["Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Mn", "So"]), max_size=12
) | st.sampled_from(["\ud800", "\udfff\ud800", "a\x00b", "\ufeff", "\u202e", "\U0010ffff", "İ", "ß" * 300])
#: values of every wrong type, huge and tiny numbers included
wrong_values = (
    json_values
    | odd_text
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.sampled_from(
        [10**300, -(10**300), 1e308, -1e308, 5e-324, 0.0, -0.0, "", " ", [], {}, [[[]]], None, True]
    )
    | st.lists(
        st.sampled_from(["NL", "US", {"cloud": "aws", "region": "us-east-1"}]), min_size=101, max_size=300
    )
)
#: literal JSON text spliced into a body: what json.dumps would never write
hostile_literals = st.sampled_from(
    [
        b"1e400",
        b"-1e400",
        b"1" * 5000,
        b"NaN",
        b"Infinity",
        b"-Infinity",
        b'"\\ud800"',
        b'"\\udfff\\ud800"',
        b'"\\u0000"',
        b'"\x00"',
        b'"\xc0\xaf"',  # overlong '/'
        b'"\xc0\x80"',  # overlong NUL
        b'"\xed\xa0\x80"',  # a surrogate encoded as UTF-8 (CESU-8)
        b'"\xf4\x90\x80\x80"',  # above U+10FFFF
        b'"\xff\xfe"',
        b"\xef\xbb\xbf",  # a byte order mark in the middle
        b"[" * 2000 + b"]" * 2000,
        b"{" * 50,
        b'"' + b"\\" * 101,
        b"-0",
        b"1E+999999999",
        b"0.0000000000000000000000000000000000000000000000000000000001",
        b"[" + b"0," * 10000 + b"0]",
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _replace(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `payload` with the value at `path` replaced."""
    if not path:
        return copy.deepcopy(value)
    out = copy.deepcopy(payload)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = copy.deepcopy(value)
    return out


@st.composite
def mutated_flows(draw: st.DrawFn) -> Any:
    """A generated valid flow with one to three values (or keys) replaced by hostile ones."""
    flow = copy.deepcopy(draw(generated_flows))  # never change a drawn value in place
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(flow))))
        if draw(st.booleans()) or not path or not isinstance(path[-1], str):
            flow = _replace(flow, path, draw(wrong_values))
        else:  # rename a key instead
            node = flow
            for key in path[:-1]:
                node = node[key]
            node[draw(odd_text | st.text(max_size=8))] = node.pop(path[-1])
    return flow


@st.composite
def mangled_text(draw: st.DrawFn) -> bytes:
    """The JSON text of a valid flow, cut, spliced with a hostile literal or with bytes flipped."""
    raw = json.dumps(draw(generated_flows)).encode()
    at = draw(st.integers(0, len(raw)))
    end = draw(st.integers(at, min(len(raw), at + 40)))
    kind = draw(st.sampled_from(["truncate", "splice", "replace", "bytes"]))
    if kind == "truncate":
        return raw[:at]
    if kind == "splice":
        return raw[:at] + draw(hostile_literals) + raw[at:]
    if kind == "replace":  # a value-sized piece replaced, so that the result is often still JSON
        return raw[:at] + draw(hostile_literals) + raw[end:]
    return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[end:]


# ---------------------------------------------------------------- properties


@HOSTILE
@given(payload=json_values)
def test_any_json_value_is_a_decision_or_a_problem(hostile_client, payload):
    assert_answer(hostile_client.post(DECIDE, json=payload))
    assert_answer(hostile_client.post(BATCH, json={"flows": [payload, payload]}), BATCH)
    assert_answer(hostile_client.post(BATCH, json=payload), BATCH)


@HOSTILE
@given(payload=mutated_flows())
def test_mutated_flows_are_decided_or_refused(hostile_client, payload):
    raw = json.dumps(payload, ensure_ascii=True).encode()  # surrogates travel as \\ud800 escapes
    assert_answer(post_raw(hostile_client, raw))
    assert_answer(post_raw(hostile_client, b'{"flows": [' + raw + b", " + raw + b"]}", BATCH), BATCH)


@HOSTILE
@given(raw=mangled_text())
def test_mangled_json_text_is_decided_or_refused(hostile_client, raw):
    assert_answer(post_raw(hostile_client, raw))
    assert_answer(post_raw(hostile_client, b'{"flows": [' + raw + b"]}", BATCH), BATCH)


@HOSTILE
@given(
    text=odd_text, where=st.sampled_from(["recipient.name", "exporter.name", "key", "policy", "batch_key"])
)
def test_odd_unicode_in_names_and_keys(hostile_client, text, where):
    flow = copy.deepcopy(FLOWS["conditions"])
    path = DECIDE
    text = text or "x"
    if where == "key":
        flow["recipient"][text] = 1
    elif where == "batch_key":
        flow, path = {"flows": [flow], text: 1}, BATCH
    elif where == "policy":
        flow["policy"] = text
    else:
        part, field = where.split(".")
        flow[part][field] = text
    for ensure_ascii in (True, False):
        raw = json.dumps(flow, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
        body = assert_answer(post_raw(hostile_client, raw, path), path)
        if where == "recipient.name" and "decision" in body and "\\ud" not in json.dumps(text):
            assert body["hops"][0]["recipient"] == text  # a name that is valid is echoed unchanged


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content_type=st.sampled_from(
        ["text/plain", "application/xml", "application/json; charset=latin-1", "application/jsonx", "", "*/*"]
    )
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    method=st.sampled_from(["post", "put", "patch", "delete", "get"]),
)
def test_wrong_media_types_and_methods(hostile_client, content_type, method):
    response = getattr(hostile_client, method)(
        DECIDE, data=json.dumps(FLOWS["allow"]), headers={"Content-Type": content_type}
    )
    if method == "get":  # the log query: the body is not read
        assert response.status_code == 200
        LogPage.model_validate(response.get_json())
        return
    body = assert_answer(response)
    if method != "post":
        assert response.status_code == 405
    elif response.status_code != 200:
        assert body["code"] == "unsupported_media_type"


# ---------------------------------------------------------------- fixed cases


def _flow_with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    return _replace(FLOWS["allow"], path, value)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, 400),  # deep objects
        (
            json.dumps(FLOWS["allow"])
            .replace('"signed": true', '"signed": ' + "[" * 50_000 + "]" * 50_000)
            .encode(),
            400,
        ),  # deep inside a valid flow
        (
            json.dumps(FLOWS["allow"])
            .replace('"signed": true', '"signed": ' + "[" * 900 + "]" * 900)
            .encode(),
            None,  # parsed or refused as too deep, depending on the stack left: never a 500
        ),
        (json.dumps(_flow_with(("recipient", "locations"), ["US"] * 10_000)).encode(), 422),
        (json.dumps(_flow_with(("recipient", "certifications"), ["eu-us-dpf"] * 10_000)).encode(), 422),
        (json.dumps(_flow_with(("data",), {"categories": ["health"] * 10_000})).encode(), 422),
        (
            json.dumps(
                _flow_with(("recipient", "sub_processors"), [{"name": "s", "country": "DE"}] * 10_000)
            ).encode(),
            422,
        ),
        (json.dumps(_flow_with(("recipient", "name"), "x" * 900_000)).encode(), 422),
        (json.dumps(FLOWS["allow"]).replace('"signed": true', '"signed": 1e400').encode(), 422),
        (json.dumps(FLOWS["allow"]).replace('"2025-03-15"', "1" * 5000).encode(), 400),
        (json.dumps(FLOWS["allow"]).replace('"2025-03-15"', "-Infinity").encode(), 400),
        (json.dumps(FLOWS["allow"])[:-7].encode(), 400),  # truncated
        (json.dumps(FLOWS["allow"]).encode() + b"\x00", 400),
        (b"\x00" * 100, 400),
        (json.dumps(FLOWS["allow"]).encode("utf-16"), 400),
        (b" " * 1_048_576 + json.dumps(FLOWS["allow"]).encode(), 413),  # padding over the 1 MiB limit
        (b"[" + b" " * 2 * 1024 * 1024 + b"]", 413),  # 2 MiB
    ],
)
def test_fixed_hostile_bodies(hostile_client, raw, status):
    response = post_raw(hostile_client, raw)
    assert_answer(response)
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)[:500]


def test_a_batch_of_1500_flows_is_422_naming_the_limit(hostile_client, db_path):
    response = hostile_client.post(BATCH, json={"flows": [FLOWS["allow"]] * 1500})
    body = assert_problem(response, 422, "invalid_request")
    assert "1500 flows exceed the limit of 1000" in body["detail"]
    assert body["errors"][0]["loc"] == "flows"


def test_a_batch_of_10000_bad_flows_is_refused_without_deciding_any(hostile_client):
    assert_problem(hostile_client.post(BATCH, json={"flows": [[]] * 10_000}), 422, "invalid_request")


def test_a_lone_surrogate_as_a_batch_key_is_a_problem_not_a_500(hostile_client):
    """Found by these tests: the problem echoed the key and could not be encoded (a 500)."""
    body = assert_problem(
        post_raw(hostile_client, b'{"flows": [], "\\ud800": 1}', BATCH), 422, "invalid_request"
    )
    assert body["errors"][0]["loc"] == "\ud800"  # escaped on the wire, the same string when parsed
