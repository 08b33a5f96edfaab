"""Hostile bodies against a real `doorgifte serve` (gunicorn), as raw bytes on the wire: each is
answered with its documented 4xx problem (or a decision), never a 5xx or a dropped connection,
and afterwards the server is healthy and answers a reference flow exactly as before.
(The property-based version over the Flask app: tests/service/test_hostile_input.py.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.e2e.support import FLOWS
from tests.mixed_flows import comparable, expected_answer

ALLOW = json.dumps(FLOWS["allow"])
CONDITIONS = json.dumps(FLOWS["conditions"])
MIB = 1024 * 1024
JSON = "application/json"
DECIDE = "/v1/decisions"
BATCH = "/v1/decisions/batch"


def allow_with(old: str, new: str) -> bytes:
    """The allow flow's JSON text with one piece replaced (the result need not be valid)."""
    assert old in ALLOW
    return ALLOW.replace(old, new, 1).encode("utf-8", "surrogatepass")


def case(name: str, body: Any, status: int, code: str, path: str = DECIDE, content_type: str = JSON) -> Any:
    return pytest.param(path, body, content_type, status, code, id=name)


SUBS = json.dumps([{"name": "s", "country": "DE"}] * 201)
CASES = [
    case("nested arrays", b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
    case("nested objects", b'{"a":' * 100_000 + b"0" + b"}" * 100_000, 400, "malformed_json"),
    case("lone surrogate", allow_with("Lisboa Dados Lda", "\\ud800"), 422, "invalid_request"),
    case("surrogate key", b'{"flows": [], "\\udfff": 1}', 422, "invalid_request", BATCH),
    case("overlong UTF-8", ALLOW.encode().replace(b"Lisboa", b"\xc0\x80"), 400, "malformed_json"),
    case("CESU-8 surrogate", ALLOW.encode().replace(b"Lisboa", b"\xed\xa0\x80"), 400, "malformed_json"),
    case("raw NUL", ALLOW.encode().replace(b"Lisboa", b"Lis\x00boa"), 400, "malformed_json"),
    case("1e400", allow_with("true", "1e400"), 422, "invalid_request"),
    case("10**5000", allow_with("true", "1" * 5001), 400, "malformed_json"),
    case("NaN", allow_with("true", "NaN"), 400, "malformed_json"),
    case("Infinity", allow_with('"2025-03-15"', "-Infinity"), 400, "malformed_json"),
    case("truncated", CONDITIONS[: len(CONDITIONS) // 2].encode(), 400, "malformed_json"),
    case("empty", b"", 400, "malformed_json"),
    case("UTF-16", ALLOW.encode("utf-16"), 400, "malformed_json"),
    case("text/plain", ALLOW.encode(), 415, "unsupported_media_type", content_type="text/plain"),
    case("latin-1", ALLOW.encode(), 415, "unsupported_media_type", content_type=JSON + "; charset=latin-1"),
    case("2 MiB", b" " * (2 * MIB) + ALLOW.encode(), 413, "body_too_large"),
    # a generator: sent chunked, without Content-Length (made afresh for each run)
    case("2 MiB chunked", lambda: iter([b" " * MIB, b" " * MIB, ALLOW.encode()]), 413, "body_too_large"),
    case(
        "10,000 locations",
        allow_with('"country": "PT"', f'"locations": {json.dumps(["PT"] * 10_000)}'),
        422,
        "chain_too_large",  # the cap on locations per flow (1,000) comes before the schema
    ),
    case(
        "1,500 flows", json.dumps({"flows": [FLOWS["allow"]] * 1500}).encode(), 422, "invalid_request", BATCH
    ),
    case("10,000 flows", json.dumps({"flows": [0] * 10_000}).encode(), 422, "invalid_request", BATCH),
    case(
        "201 recipients",
        allow_with('"agreement"', f'"sub_processors": {SUBS}, "agreement"'),
        422,
        "chain_too_large",
    ),
]


@pytest.mark.parametrize(("path", "body", "content_type", "status", "code"), CASES)
def test_hostile_body_over_http(server, path, body, content_type, status, code):
    data = body() if callable(body) else body
    response = requests.post(server.url + path, data=data, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(response.content.decode("utf-8"))  # valid UTF-8, even when it echoes a surrogate
    assert problem["status"] == status and problem["code"] == code, problem
    if path == BATCH and status == 422 and b"Lisboa" in body:  # the 1,500 flows
        assert "1500 flows exceed the limit of 1000" in problem["detail"]


def test_the_server_is_healthy_and_unchanged_after_hostile_bodies(server, engine):
    """Runs after the cases above in this module; also on its own, where it checks less."""
    for path in ("/healthz", "/readyz"):
        assert requests.get(server.url + path, timeout=10).status_code == 200
    answer = requests.post(server.url + "/v1/decisions", json=FLOWS["chain"], timeout=10)
    assert answer.status_code == 200
    assert comparable(answer.json()) == expected_answer(engine, FLOWS["chain"])
    lines = server.log_lines()
    assert not [line for line in lines if line.get("status", 0) >= 500]
    assert not [line for line in lines if "Traceback" in json.dumps(line) or line.get("level") == "critical"]
    assert not [line for line in lines if "Booting worker" in line.get("msg", "")][1:]  # no worker died
