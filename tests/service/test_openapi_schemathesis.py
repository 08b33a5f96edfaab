"""schemathesis against the served OpenAPI document (`GET /openapi.json`), through the WSGI app:
every operation with generated (mostly schema-breaking) requests, and every answer checked by
schemathesis: no 5xx, status codes, content types, headers and bodies as the document says,
schema-violating requests refused, wrong methods answered 405 with `Allow`.

Left out: `positive_data_acceptance` (a schema-valid request must be accepted). The contract
refuses, with 422, much that a JSON Schema cannot say: unknown countries, regions and policies,
dates before 2018-05-25, a root recipient without a role, chains over their limits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from service import tokens

#: the coverage phase (every schema boundary of every field, thousands of cases) for the two
#: rich request bodies, a flow and a vendor; the other operations, the batch among them (the
#: same flow schema, at 9 s), run the examples and fuzzing phases, which halves the run
OPEN_RUN = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}},
        "operations": [
            {"include-name": name, "phases": {"coverage": {"enabled": True}}}
            for name in ("POST /v1/decisions", "PUT /v1/vendors/{vendor_id}")
        ],
    }
)


@pytest.fixture
def api_schema(app: Flask, request: pytest.FixtureRequest) -> schemathesis.schemas.BaseSchema:
    # schemathesis 4.32's fixture mode renames the test node through `node._nodeid`, which
    # pytest 9 no longer has (it is `_id` now); give it the attribute it reads, for its reports
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=OPEN_RUN)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_the_openapi_document_says(case):
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500


# ------------------------------------------------------------ with access control (SPEC section 15)

ADMIN_TOKEN = "schemathesis-admin-2f9d"


@pytest.fixture
def guarded_schema(
    make_app: Callable[..., Flask], tmp_path: Path, request: pytest.FixtureRequest
) -> schemathesis.schemas.BaseSchema:
    """The same document served with a tokens file: it then declares the bearer scheme and the
    401 and 403 answers, which the checks hold every answer to."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    path = tmp_path / "tokens.json"
    digest = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
    path.write_text(json.dumps([{"name": "fuzz", "sha256": digest, "scopes": ["admin"]}]))
    app = make_app(tokens_file=path, tokens=tokens.load(path))
    # the examples and fuzzing phases only: the open variant above runs the coverage phase's
    # thousands of boundary cases already, and a token does not change what they test
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # the document itself needs a token
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=config, headers=token)


guarded = schemathesis.pytest.from_fixture("guarded_schema")


@pytest.mark.slow
@guarded.parametrize()
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_with_a_token_answers_as_the_document_says(case):
    # the document declares the bearer scheme, so schemathesis generates Authorization values of
    # its own (the real token replaces them) and cases without one (which must be refused)
    sends_token = "Authorization" in (case.headers or {})
    if sends_token:
        case.headers = {**case.headers, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
    if sends_token:
        assert response.status_code not in (401, 403)  # the admin token opens every operation
    elif case.operation.definition.raw.get("security") != []:  # refused, unless the operation is open
        assert response.status_code in (401, 405)  # 405: a method no route has, on an open path
