"""Liveness, readiness, metrics, the OpenAPI document and the docs page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.decision import Decision
from engine.flow import FlowRequest
from service.schemas import Health, Ready
from tests.service.support import assert_problem


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    Health.model_validate(response.get_json())


def test_readyz_is_200_when_rules_data_and_log_are_usable(client, engine):
    body = Ready.model_validate(client.get("/readyz").get_json())
    assert body.decision_log == "sqlite"
    assert body.reference_data.version == engine.reference.version
    assert set(body.policies) == set(engine.policies.profiles)


def test_readyz_is_503_when_the_log_cannot_be_created(make_app, tmp_path, flows):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    client = make_app(db=str(blocker / "var" / "decisions.sqlite3")).test_client()
    body = assert_problem(client.get("/readyz"), 503, "not_ready")
    assert body["errors"][0]["loc"] == "decision_log"
    assert str(tmp_path) not in body["detail"]  # the cause is logged, not shown
    assert client.get("/healthz").status_code == 200
    assert_problem(client.post("/v1/decisions", json=flows["allow"]), 503, "decision_log_unavailable")


# ---------------------------------------------------------------- metrics


def samples(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_decisions_findings_latency_and_log_writes(client, flows):
    for name in ("allow", "conditions", "conditions", "deny"):
        assert client.post("/v1/decisions", json=flows[name]).status_code == 200
    decision_id = client.post("/v1/decisions", json=flows["allow"]).get_json()["decision_id"]
    client.get(f"/v1/decisions/{decision_id}")
    client.get("/no/such/path")
    got = samples(client)
    assert got[("doorgifte_decisions_total", (("decision", "allow"), ("policy", "gdpr")))] == 2
    assert got[("doorgifte_decisions_total", (("decision", "conditions"), ("policy", "gdpr")))] == 2
    assert got[("doorgifte_decisions_total", (("decision", "deny"), ("policy", "gdpr")))] == 1
    assert got[("doorgifte_findings_total", (("code", "transfer.sign_scc"), ("effect", "condition")))] == 2
    assert got[("doorgifte_decision_log_write_seconds_count", (("backend", "sqlite"),))] == 5
    route = (("endpoint", "/v1/decisions/<decision_id>"), ("method", "GET"), ("status", "200"))
    assert got[("doorgifte_http_request_duration_seconds_count", route)] == 1
    unmatched = (("endpoint", "(unmatched)"), ("method", "GET"), ("status", "404"))
    assert got[("doorgifte_http_request_duration_seconds_count", unmatched)] == 1
    assert not any(decision_id in str(labels) for _, labels in got)  # route templates, not raw paths


def test_metrics_count_log_failures(make_app, tmp_path, flows):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    client = make_app(db=str(blocker / "decisions.sqlite3")).test_client()
    client.post("/v1/decisions", json=flows["allow"])
    got = samples(client)
    assert got[("doorgifte_decision_log_failures_total", (("backend", "sqlite"),))] == 1
    assert ("doorgifte_decisions_total", (("decision", "allow"), ("policy", "gdpr"))) not in got


# ---------------------------------------------------------------- OpenAPI and docs


@pytest.fixture
def spec(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.get_json()
    return doc


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_is_3_1_and_every_ref_resolves(spec):
    assert spec["openapi"] == "3.1.0"
    schemas = spec["components"]["schemas"]
    refs = _refs(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_openapi_lists_every_route_of_the_app(app, spec):
    routes = {
        re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith("dashboard.")  # HTML pages (docs/dashboard.md), not the API
    }
    assert routes == set(spec["paths"])
    for path in (
        "/v1/decisions",
        "/v1/decisions/batch",
        "/v1/decisions/{decision_id}",
        "/v1/countries/{ref}",
        "/v1/regions/{provider}/{region}",
        "/v1/policies/{policy_id}",
        "/v1/vocabulary",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
    ):
        assert path in spec["paths"], path


def test_openapi_schemas_are_the_pydantic_models(spec):
    schemas = spec["components"]["schemas"]
    request_body = spec["paths"]["/v1/decisions"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert request_body == {"$ref": "#/components/schemas/FlowRequest"}
    assert set(schemas["FlowRequest"]["properties"]) == set(FlowRequest.model_json_schema()["properties"])
    assert set(schemas["Decision"]["properties"]) == set(Decision.model_fields)
    ok = spec["paths"]["/v1/decisions"]["post"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Decision"}
    assert ok["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")
    assert {"400", "413", "415", "422", "503", "default"} <= set(ok)


def test_openapi_query_parameters_are_documented(spec):
    params = spec["paths"]["/v1/regions/{provider}/{region}"]["get"]["parameters"]
    assert {(p["name"], p["in"]) for p in params} == {
        ("provider", "path"),
        ("region", "path"),
        ("as_of", "query"),
        ("policy", "query"),
        ("regime", "query"),
    }


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
            if name == "id" and value:
                self.ids.add(value)


def test_docs_page_is_self_contained_and_covers_the_api(client, spec):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    links = _Links()
    links.feed(html)
    assert not [u for u in links.urls if re.match(r"^(https?:)?//", u)], (
        "the page must load nothing from elsewhere"
    )
    for url in links.urls:
        if url.startswith("#"):
            assert url[1:] in links.ids, f"broken anchor {url}"
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in html
    assert 'id="schema-FlowRequest"' in html and "sub_processors" in html
