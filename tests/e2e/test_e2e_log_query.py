"""Log queries and the transfer register (SPEC section 13) over a real `doorgifte serve` with
two workers: decisions are answered, listed page by page and turned into the register, JSON
and CSV, by whichever worker takes each request."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.support import FLOWS, Server, assert_problem

ACME = json.loads(
    json.dumps(
        yaml.safe_load(
            (Path(__file__).resolve().parents[1] / "service" / "data" / "vendor-acme.yaml").read_text()
        ),
        default=str,
    )
)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(str(tmp_path_factory.mktemp("logquery") / "decisions.sqlite3"), workers=2).start()
    yield running
    running.close()


def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(url, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_pages_and_register_over_http(two_workers):
    base = two_workers.url
    answers = []
    for i in range(9):
        name = ["conditions", "deny", "chain"][i % 3]
        labels = {"team": "e2e", "n": str(i % 2)}
        answers.append(
            post(base + "/v1/decisions", {**FLOWS[name], "reference": f"e2e-{i % 3}", "labels": labels})
        )
    assert requests.put(base + "/v1/vendors/acme-crm", json=ACME, timeout=10).status_code == 201
    vendor = post(
        base + "/v1/vendors/acme-crm/decisions",
        {
            "exporter": {"name": "Gemeente Utrecht", "country": "NL"},
            "products": ["mail"],
            "labels": {"team": "e2e"},
        },
    )
    answers.append(vendor)

    walked, query = [], "label=team:e2e&limit=4"
    for _ in range(10):
        page = requests.get(base + "/v1/decisions?" + query, timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"] == "application/json"
        body = page.json()
        walked += [d["decision_id"] for d in body["decisions"]]
        if body["next_cursor"] is None:
            break
        query = f"label=team:e2e&limit=4&cursor={body['next_cursor']}"
    else:
        raise AssertionError("more pages than decisions")
    assert walked == [a["decision_id"] for a in reversed(answers)]

    odd = requests.get(base + "/v1/decisions?label=team:e2e&label=n:1&decision=deny", timeout=10).json()
    assert [d["decision_id"] for d in odd["decisions"]] == [
        a["decision_id"] for a in reversed(answers) if a["labels"].get("n") == "1" and a["decision"] == "deny"
    ]
    first = requests.get(base + "/v1/decisions?vendor=acme-crm", timeout=10).json()["decisions"][0]
    assert first["vendor"] == {"id": "acme-crm", "revision": 1, "list_version": "2026-10-01"}
    assert_problem(requests.get(base + "/v1/decisions?cursor=nope", timeout=10), 422, "invalid_request")

    rows = requests.get(base + "/v1/register", timeout=10).json()["rows"]
    latest = {
        f"e2e-{k}": next(a for a in reversed(answers) if a["reference"] == f"e2e-{k}") for k in range(3)
    }
    assert {r["decision_id"] for r in rows} == {vendor["decision_id"]} | {
        a["decision_id"] for a in latest.values()
    }
    assert [r["country"] for r in rows if r["vendor"] == "acme-crm"] == ["IN"]

    as_csv = requests.get(base + "/v1/register?format=csv", timeout=10)
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["Content-Disposition"].startswith("attachment; filename=register-")
    table = list(csv.reader(io.StringIO(as_csv.text)))
    assert len(table) == 1 + len(rows) and table[0][:3] == ["vendor", "reference", "exporter"]
