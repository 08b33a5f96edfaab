"""Every error is RFC 9457 problem+json: 400, 404, 405, 413 (before parsing), 415, 422."""

from __future__ import annotations

import io
import json

import pytest

from tests.service.support import assert_problem, logged_ids

DECIDE = "/v1/decisions"


class UnreadableStream(io.BytesIO):
    """A request body whose reading fails, as when the client is gone (seeking is allowed)."""

    def read(self, size: int | None = -1) -> bytes:
        raise OSError("the client went away")

    readline = read  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{", "malformed JSON"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'{"as_of": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"name": "\xff\xfe"}', "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": 1} trailing', "malformed JSON"),
    ],
)
def test_malformed_json_is_400(client, raw, fragment):
    body = assert_problem(
        client.post(DECIDE, data=raw, content_type="application/json"), 400, "malformed_json"
    )
    assert fragment in body["detail"]
    assert body["errors"][0]["loc"] == "(body)"


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "text/json",
    ],
)
def test_wrong_media_type_is_415(client, flows, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(DECIDE, data=json.dumps(flows["allow"]), headers=headers)
    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"]
)
def test_json_media_type_with_utf8_charset_is_accepted(client, flows, content_type):
    response = client.post(DECIDE, data=json.dumps(flows["allow"]), headers={"Content-Type": content_type})
    assert response.status_code == 200


def test_a_utf8_byte_order_mark_is_ignored(client, flows):
    raw = b"\xef\xbb\xbf" + json.dumps(flows["allow"]).encode()
    assert client.post(DECIDE, data=raw, content_type="application/json").status_code == 200


def test_body_over_the_limit_is_413_and_dropped_unparsed(client, monkeypatch):
    """A declared length over the limit is refused without parsing; the rest of the body is read
    and dropped (so that the client gets the 413 instead of a connection reset), and a body
    that cannot be read at all still gets its 413."""
    from service import body as body_module

    def never(raw: bytes) -> None:
        raise AssertionError("an oversized body was parsed")

    monkeypatch.setattr(body_module, "parse", never)
    stream = io.BytesIO(b" " * 1_048_577)
    response = client.post(
        DECIDE,
        input_stream=stream,
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(1_048_577)},
    )
    body = assert_problem(response, 413, "body_too_large")
    assert "1048576 bytes" in body["detail"]
    assert stream.tell() == 1_048_577  # read to the end and dropped
    response = client.post(
        DECIDE,
        input_stream=UnreadableStream(),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(1_048_577)},
    )
    assert_problem(response, 413, "body_too_large")


def test_body_at_the_limit_is_parsed(make_app, flows):
    client = make_app(max_body=600).test_client()
    text = json.dumps(flows["allow"])
    padded = text[:-1] + " " * (600 - len(text)) + "}"
    assert len(padded) == 600
    assert client.post(DECIDE, data=padded, content_type="application/json").status_code == 200
    over = text[:-1] + " " * (601 - len(text)) + "}"
    assert_problem(client.post(DECIDE, data=over, content_type="application/json"), 413, "body_too_large")


@pytest.mark.parametrize("declared", [True, False])
def test_body_at_the_limit_is_parsed_when_the_server_terminates_the_input(make_app, flows, declared):
    """gunicorn sets wsgi.input_terminated, and werkzeug then refuses reads past its own limit:
    a body of exactly DOORGIFTE_MAX_BODY bytes, with or without Content-Length, is still answered."""
    client = make_app(max_body=600).test_client()
    text = json.dumps(flows["allow"])
    for size, status in ((600, 200), (601, 413)):
        padded = (text[:-1] + " " * (size - len(text)) + "}").encode()
        environ: dict[str, object] = {"wsgi.input_terminated": True}
        if declared:
            environ["CONTENT_LENGTH"] = str(size)
        response = client.post(
            DECIDE,
            input_stream=io.BytesIO(padded),
            content_type="application/json",
            environ_overrides=environ,
        )
        assert response.status_code == status, response.get_data(as_text=True)
    body = assert_problem(response, 413, "body_too_large")
    assert "600 bytes" in body["detail"]


def test_chunked_body_without_length_is_cut_at_the_limit(make_app, db_path):
    client = make_app(max_body=1000).test_client()
    stream = io.BytesIO(b'{"flows": [' + b'{"a": 1},' * 500 + b"{}]}")
    response = client.post(
        "/v1/decisions/batch",
        input_stream=stream,
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413, "body_too_large")
    assert stream.tell() <= 1001 + 65536  # read to the limit, not to the end
    assert not db_path.exists() or logged_ids(db_path) == []


def test_valid_json_that_is_not_an_object_is_422(client):
    body = assert_problem(
        client.post(DECIDE, data="[1, 2]", content_type="application/json"), 422, "invalid_request"
    )
    assert body["errors"][0]["loc"] == "(body)"


def test_unknown_field_is_422_with_a_hint(client, flows):
    flow = flows["allow"]
    flow["recipent"] = flow.pop("recipient")
    body = assert_problem(client.post(DECIDE, json=flow), 422, "invalid_request")
    locs = {e["loc"]: e for e in body["errors"]}
    assert "recipent" in locs and "recipient" in locs["recipent"]["hint"]


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/v1/decision", "/v1/decisions/", "/v2/decisions", "/v1/countries/NL/extra"]
)
def test_unknown_path_is_404_problem(client, path):
    body = assert_problem(client.get(path), 404, "not_found")
    assert body["errors"][0]["loc"] == "(path)"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", DECIDE, "POST"),
        ("delete", "/v1/decisions/batch", "POST"),
        ("get", "/v1/decisions/batch", "POST"),  # not a lookup of a decision called "batch"
        ("post", "/v1/countries", "GET"),
        ("patch", "/healthz", "GET"),
        ("post", "/v1/decisions/0b5e0000-0000-4000-8000-000000000000", "GET"),
    ],
)
def test_wrong_method_is_405_problem_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)
    body = assert_problem(response, 405, "method_not_allowed")
    assert allowed in response.headers["Allow"]
    assert allowed in body["detail"]


def test_problem_titles_and_types_come_from_the_engine_error_table(client):
    from engine.errors import ERRORS

    body = assert_problem(client.get("/nope"), 404, "not_found")
    assert body["title"] == ERRORS["not_found"][1]
    assert body["type"] == "https://doorgifte.nl/problems/not_found"
