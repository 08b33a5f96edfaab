"""SPEC section 13 over the Flask app, on a real SQLite file and (marked `postgres`) a real
PostgreSQL server: `GET /v1/decisions` (filters, order, keyset pages), `GET /v1/register`
(latest decision per vendor or reference, `as_of`, `policy`, CSV), and an older log file
gaining the summary columns.

Every expectation is computed from the decisions as they were answered, never from the
listing under test.
"""

from __future__ import annotations

import base64
import copy
import csv
import dataclasses
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from service.decision_log import COLUMNS, DecisionLog, LogEntry, LogQuery, PostgresLog, SqliteLog
from service.register import FIELDS
from service.schemas import LogPage, TransferRegister
from tests.e2e.support import postgres_server
from tests.service.support import FLOWS, assert_problem, in_two_threads

ACME = json.loads(
    json.dumps(yaml.safe_load((Path(__file__).parent / "data" / "vendor-acme.yaml").read_text()), default=str)
)
CUSTOMER = {"name": "Gemeente Utrecht", "country": "NL", "public_body": True}
GB = {
    "as_of": "2025-03-15",
    "horizon": True,
    "exporter": {"name": "Stadtwerke Beispiel GmbH", "country": "DE"},
    "recipient": {
        "name": "London Payroll Ltd",
        "role": "processor",
        "country": "GB",
        "agreement": {"dpa": {"signed": True}},
    },
}


# ---------------------------------------------------------------- both back ends


postgres = pytest.fixture(scope="module", name="postgres")(postgres_server)


def _fresh_postgres(url: str) -> PostgresLog:
    """An empty log on the module's server: the tables dropped, so each test creates them anew."""
    log = PostgresLog(url)
    with log._open() as conn:
        conn.execute(
            "DROP TABLE IF EXISTS decisions, decision_labels, vendor_revisions, register_heads, decision_days"
        )
    return log


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_log(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Callable[[], DecisionLog]:
    """Opens the test's log (created on first use); on PostgreSQL the tables start empty."""
    url = request.getfixturevalue("postgres").url if backend == "postgres" else None
    if url is not None:
        _fresh_postgres(url).close()
    return lambda: PostgresLog(url) if url is not None else SqliteLog(db_path)


@pytest.fixture
def app(make_app: Callable[..., Flask], new_log: Callable[[], DecisionLog]) -> Flask:
    return make_app(decision_log=new_log())


@pytest.fixture
def log(app: Flask) -> DecisionLog:
    return app.extensions["doorgifte"].log  # type: ignore[no-any-return]


# ---------------------------------------------------------------- helpers


def batch(client: FlaskClient, flows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decide and log the flows in one request; their decisions as answered, in log order."""
    response = client.post("/v1/decisions/batch", json={"flows": flows})
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert all(r["status"] == 200 for r in results), results
    return list(results)


def decide(client: FlaskClient, flow: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/decisions", json=flow)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def by_vendor(client: FlaskClient, **ask: Any) -> dict[str, Any]:
    body = {"exporter": CUSTOMER, "policy": "gdpr", **ask}
    response = client.post("/v1/vendors/acme-crm/decisions", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def flow(name: str, **context: Any) -> dict[str, Any]:
    return {**copy.deepcopy(FLOWS[name]), **context}


def listing(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get("/v1/decisions" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    LogPage.model_validate(body)
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [d["decision_id"] for d in page["decisions"]]


def walk(
    client: FlaskClient, query: str, between: Callable[[], object] = list, pages: int = 100
) -> list[str]:
    """The ids of every page, following next_cursor (`between` runs after each page); a
    cursor that never ends fails the test instead of looping."""
    walked: list[str] = []
    cursor = None
    for _ in range(pages):
        page = listing(client, query + (f"&cursor={cursor}" if cursor else ""))
        walked += ids(page)
        between()
        cursor = page["next_cursor"]
        if cursor is None:
            return walked
    raise AssertionError(f"still a next_cursor after {pages} pages")


def newest_first(answers: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    """The ids of the answers `keep` accepts, newest first (answers are in log order)."""
    return [a["decision_id"] for a in reversed(answers) if keep(a)]


def logged_entry(app: Flask, payload: dict[str, Any], decided_at: str, **context: Any) -> LogEntry:
    """A log row made by the service's own Decider for this flow, as if logged at `decided_at`."""
    service = app.extensions["doorgifte"]
    decision = service.engine.evaluate(payload)
    for name, value in context.items():
        setattr(decision, name, value)
    row = service.decider._entry(payload, decision, decision.model_dump_json(), "test")
    return dataclasses.replace(row, decided_at=decided_at)


# ---------------------------------------------------------------- GET /v1/decisions


def test_summaries_come_newest_first_from_the_columns(client, log):
    answers = batch(
        client,
        [
            flow("allow", reference="PO-1", labels={"team": "ib"}),
            flow("conditions"),
            flow("deny", reference="PO-3"),
            flow("chain", labels={"team": "ib", "system": "zaken"}),
        ],
    )
    page = listing(client)
    assert ids(page) == newest_first(answers, lambda a: True) and page["next_cursor"] is None
    for summary, answer in zip(page["decisions"], reversed(answers), strict=True):
        assert summary == {
            "decision_id": answer["decision_id"],
            "decided_at": summary["decided_at"],
            "reference": answer["reference"],
            "labels": answer["labels"],
            "vendor": None,
            "policy": {"id": answer["policy"]["id"], "version": answer["policy"]["version"]},
            "decision": answer["decision"],
            "recipient": answer["hops"][0]["recipient"],
            "conditions": len(answer["conditions"]),
            "denials": len(answer["denials"]),
            "changes_on": None,
        }
    times = [d["decided_at"] for d in page["decisions"]]
    assert times == sorted(times, reverse=True)
    # the counts are columns of the row, not read from the response
    row = log.get(answers[1]["decision_id"])
    assert (row.recipient, row.conditions_count, row.denials_count) == ("Merlion Cloud Pte Ltd", 2, 0)


@pytest.fixture
def seeded(client: FlaskClient) -> list[dict[str, Any]]:
    """14 decisions: four outcomes and recipients, two policies, three references, labels on
    most, and two decisions by vendor id; each answer with its `vendor_id`."""
    flows = []
    for i in range(12):
        labels = {} if i % 5 == 0 else {"team": "ab"[i % 2], "system": f"s{i % 3}"}
        policy = "nl-gov" if i % 3 == 0 else "gdpr"
        flows.append(
            flow(
                ["allow", "conditions", "deny", "chain"][i % 4],
                reference=f"ref-{i % 3}",
                labels=labels,
                policy=policy,
            )
        )
    answers = batch(client, flows[:6])
    assert client.put("/v1/vendors/acme-crm", json=ACME).status_code == 201
    answers.append(by_vendor(client, reference="ref-1", labels={"team": "a"}))
    answers += batch(client, flows[6:])
    answers.append(by_vendor(client, products=["mail"], labels={"team": "b", "system": "s1"}))
    for answer in answers:
        answer["vendor_id"] = (answer.get("vendor") or {}).get("id")
    return answers


def _has(labels: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    return lambda a: all(a["labels"].get(k) == v for k, v in labels.items())


FILTERS: list[tuple[str, Callable[[dict[str, Any]], bool]]] = [
    ("vendor=acme-crm", lambda a: a["vendor_id"] == "acme-crm"),
    ("reference=ref-1", lambda a: a["reference"] == "ref-1"),
    ("label=team:a", _has({"team": "a"})),
    ("label=team:a&label=system:s1", _has({"team": "a", "system": "s1"})),
    ("label=system:s1&label=team:b", _has({"team": "b", "system": "s1"})),
    ("policy=nl-gov", lambda a: a["policy"]["id"] == "nl-gov"),
    ("decision=conditions", lambda a: a["decision"] == "conditions"),
    ("recipient=Lakeside+SaaS+Inc", lambda a: a["hops"][0]["recipient"] == "Lakeside SaaS Inc"),
    (
        "vendor=acme-crm&decision=conditions",
        lambda a: a["vendor_id"] == "acme-crm" and a["decision"] == "conditions",
    ),
    ("reference=ref-1&label=team:a", lambda a: a["reference"] == "ref-1" and _has({"team": "a"})(a)),
    (
        "policy=gdpr&decision=deny&label=team:a",
        lambda a: a["policy"]["id"] == "gdpr" and a["decision"] == "deny" and _has({"team": "a"})(a),
    ),
    ("decision=allow&label=system:s1", lambda a: a["decision"] == "allow" and _has({"system": "s1"})(a)),
    (
        "recipient=Acme+CRM+B.V.&label=team:b",
        lambda a: a["hops"][0]["recipient"] == "Acme CRM B.V." and _has({"team": "b"})(a),
    ),
    (
        "reference=ref-0&policy=nl-gov&decision=deny",
        lambda a: a["reference"] == "ref-0" and a["policy"]["id"] == "nl-gov" and a["decision"] == "deny",
    ),
    ("label=team:nobody", lambda a: False),
    ("vendor=other-crm", lambda a: False),
]


@pytest.mark.parametrize(("query", "keep"), FILTERS, ids=[q for q, _ in FILTERS])
def test_each_filter_alone_and_combined(client, seeded, query, keep):
    expected = newest_first(seeded, keep)
    assert ids(listing(client, query)) == expected
    if len(expected) > 1:  # and the same over pages of one
        assert walk(client, f"{query}&limit=1") == expected


def test_the_filters_select_something_each(seeded):
    """The seed is rich enough that no filter above passes by matching nothing or everything."""
    for query, keep in FILTERS:
        matched = sum(keep(a) for a in seeded)
        assert "nobody" in query or "other" in query or 0 < matched < len(seeded), query


def test_a_vendor_summary_names_the_revision_and_list(client, seeded):
    page = listing(client, "vendor=acme-crm&limit=1")
    assert page["decisions"][0]["vendor"] == {"id": "acme-crm", "revision": 1, "list_version": "2026-10-01"}
    assert page["decisions"][0]["labels"] == {"team": "b", "system": "s1"}


def test_since_and_until_bound_the_time_inclusively(app, client, log):
    times = [
        "2026-01-09T23:59:59.999999Z",
        "2026-01-10T00:00:00.000000Z",
        "2026-01-10T12:00:00.000000Z",
        "2026-01-11T00:00:00.000000Z",
        "2026-01-12T08:00:00.000000Z",
    ]
    entries = [logged_entry(app, FLOWS["conditions"], t) for t in times]
    log.write(entries)
    by_time = {e.decided_at: e.decision_id for e in entries}

    def between(since: str | None, until: str | None) -> list[str]:
        return [
            by_time[t]
            for t in reversed(times)
            if (since is None or t >= since) and (until is None or t <= until)
        ]

    assert ids(listing(client, "since=2026-01-10")) == between("2026-01-10T00:00:00.000000Z", None)
    assert ids(listing(client, "until=2026-01-10")) == between(None, "2026-01-10T23:59:59.999999Z")
    assert ids(listing(client, "since=2026-01-10T12:00:00Z&until=2026-01-11T00:00:00Z")) == between(
        "2026-01-10T12:00:00.000000Z", "2026-01-11T00:00:00.000000Z"
    )
    # a time with an offset is read in UTC: 01:00+01:00 is midnight UTC
    assert ids(listing(client, "since=2026-01-11T01:00:00%2B01:00")) == between(
        "2026-01-11T00:00:00.000000Z", None
    )
    assert ids(listing(client, "since=2026-01-12&until=2026-01-11")) == []


def test_every_entry_once_across_pages_while_new_ones_are_logged(client):
    first = batch(
        client, [flow(["allow", "conditions", "deny", "chain"][i % 4], reference=f"r{i}") for i in range(250)]
    )
    expected = newest_first(first, lambda a: True)
    added: list[str] = []
    walked = walk(client, "limit=7", lambda: added.append(decide(client, flow("conditions"))["decision_id"]))
    assert walked == expected  # each once, in order, and none of those logged meanwhile
    assert len(walked) == len(set(walked)) == 250
    assert ids(listing(client, f"limit={len(added)}")) == added[::-1]  # they are the newest


def test_entries_logged_in_the_same_microsecond_are_paged_by_seq(app, client, log):
    entries = [logged_entry(app, FLOWS["allow"], "2026-02-01T10:00:00.000000Z") for _ in range(10)]
    log.write(entries)
    assert walk(client, "limit=3") == [e.decision_id for e in reversed(entries)]


def test_a_full_last_page_has_no_next_cursor(app, client, log):
    entries = [logged_entry(app, FLOWS["allow"], f"2026-02-02T10:00:0{i}.000000Z") for i in range(6)]
    log.write(entries)
    first = listing(client, "limit=3")
    last = listing(client, f"limit=3&cursor={first['next_cursor']}")
    assert ids(first) + ids(last) == [e.decision_id for e in reversed(entries)]
    assert last["next_cursor"] is None and listing(client, "limit=6")["next_cursor"] is None


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("decision=maybe", "decision"),
        ("since=yesterday", "since"),
        ("until=2026-02-30", "until"),
        ("since=2026-01-01T25:00", "since"),
        ("cursor=garbage!", "cursor"),
        ("cursor=" + _cursor("1|2026-01-01T00:00:00.000000Z|x"), "cursor"),
        ("cursor=" + _cursor("2|2026-01-01T00:00:00.000000Z|5"), "cursor"),
        ("cursor=" + _cursor("1|2026-01-01|5"), "cursor"),
        ("cursor=" + _cursor("1|2026-01-01T00:00:00.000000Z|5|6"), "cursor"),
        ("cursor=%C3%A9", "cursor"),
        ("label=team", "label"),
        ("label=:x", "label"),
        ("label=" + "k" * 65 + ":v", "label"),
        ("vendor=Not_An_Id", "vendor"),
        ("reference=", "reference"),
        ("recipient=a%00b", "recipient"),
        ("policy=no-such-policy", "policy"),
        ("decision=allow&decision=deny", "decision"),
        ("limit=5&limit=6", "limit"),
        ("vendors=acme-crm", "vendors"),
    ],
)
def test_bad_parameters_are_422_naming_them(client, query, loc):
    problem = assert_problem(client.get(f"/v1/decisions?{query}"), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == loc


def test_a_bad_cursor_is_refused_even_on_an_empty_log(client):
    problem = assert_problem(client.get("/v1/decisions?cursor=AAAA"), 422, "invalid_request")
    assert problem["errors"] == [
        {
            "loc": "cursor",
            "msg": "cursor is not a next_cursor of this API",
            "hint": "use next_cursor as answered",
        }
    ]


def test_the_query_reads_only_the_page_it_answers(log, app):
    """Keyset pages: the log is asked for limit + 1 entries after the cursor, never an offset."""
    log.write([logged_entry(app, FLOWS["allow"], f"2026-03-01T00:00:{s:02d}.000000Z") for s in range(20)])
    rows = log.summaries(LogQuery(limit=4, after=("2026-03-01T00:00:10.000000Z", 0)))
    assert [r["decided_at"][17:19] for r in rows] == ["09", "08", "07", "06", "05"]
    sql, _ = log._summary_sql(LogQuery(limit=4))
    assert "OFFSET" not in sql.upper()


# ---------------------------------------------------------------- GET /v1/register


def register(client: FlaskClient, query: str = "") -> dict[str, Any]:
    response = client.get("/v1/register" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    TransferRegister.model_validate(body)
    return body


def test_the_register_takes_the_latest_decision_per_reference_and_vendor(client):
    assert client.put("/v1/vendors/acme-crm", json=ACME).status_code == 201
    older = decide(client, flow("deny", reference="X"))
    newer = decide(client, flow("conditions", reference="X"))
    by_vendor(client, reference="first-ask")
    latest_vendor = by_vendor(client, reference="second-ask", products=["mail"])
    decide(client, flow("chain"))  # neither vendor nor reference: not in the register
    decide(client, flow("allow", reference="Y"))  # no transfer: no row
    rows = register(client)["rows"]
    assert {(r["vendor"], r["reference"], r["decision_id"]) for r in rows} == {
        ("acme-crm", "second-ask", latest_vendor["decision_id"]),
        (None, "X", newer["decision_id"]),
    }
    assert older["decision_id"] not in {r["decision_id"] for r in rows}
    assert [r["vendor"] for r in rows][0] == "acme-crm"  # vendors first
    mailer = [r for r in rows if r["vendor"]]
    assert [(r["recipient"], r["country"], r["mechanism"]) for r in mailer] == [("Mailer Ltd", "IN", "none")]
    assert mailer[0]["exporter"] == "Acme CRM B.V." and mailer[0]["path"][-1] == "Mailer Ltd"
    singapore = [r for r in rows if r["reference"] == "X"]
    assert [(r["country"], r["zone"], r["decision"], r["assessment"]) for r in singapore] == [
        ("SG", "third_country", "conditions", "needed")
    ]
    assert singapore[0]["open_actions"] == ["transfer.sign_scc", "transfer.assess_impact"]


def test_the_register_as_of_uses_only_decisions_decided_by_that_date(app, client, log):
    log.write(
        [
            logged_entry(app, FLOWS["conditions"], "2026-01-10T08:00:00.000000Z", reference="Z"),
            logged_entry(app, FLOWS["deny"], "2026-02-10T23:59:59.000000Z", reference="Z"),
        ]
    )
    assert register(client, "as_of=2026-01-09")["rows"] == []
    assert [r["country"] for r in register(client, "as_of=2026-01-10")["rows"]] == ["SG"]
    assert [r["country"] for r in register(client, "as_of=2026-02-09")["rows"]] == ["SG"]
    latest = register(client, "as_of=2026-02-10")
    assert latest["as_of"] == "2026-02-10" and [r["country"] for r in latest["rows"]] == ["CN"]
    assert [r["country"] for r in register(client)["rows"]] == ["CN"]  # default: today


def test_the_register_of_one_policy(client):
    gdpr = decide(client, flow("conditions", reference="P"))
    nl = decide(client, flow("deny", reference="P", policy="nl-gov"))
    assert {r["decision_id"] for r in register(client)["rows"]} == {nl["decision_id"]}
    assert {r["decision_id"] for r in register(client, "policy=gdpr")["rows"]} == {gdpr["decision_id"]}
    only = register(client, "policy=nl-gov")
    assert only["policy"] == "nl-gov" and {r["decision_id"] for r in only["rows"]} == {nl["decision_id"]}


def test_the_register_carries_the_horizon_date(client, log):
    answer = decide(client, {**GB, "reference": "payroll"})
    assert answer["horizon"]["changes_on"] == "2025-12-28"
    assert log.get(answer["decision_id"]).changes_on == "2025-12-28"
    (row,) = register(client)["rows"]
    assert (row["country"], row["mechanism"], row["changes_on"]) == ("GB", "adequacy", "2025-12-28")
    assert listing(client)["decisions"][0]["changes_on"] == "2025-12-28"


def test_the_register_finds_the_horizon_of_a_decision_logged_without_one(client, log, app, monkeypatch):
    unasked = {k: v for k, v in GB.items() if k != "horizon"}
    answer = decide(client, {**unasked, "reference": "payroll"})
    assert answer["horizon"] is None and log.get(answer["decision_id"]).changes_on is None
    (row,) = register(client)["rows"]
    assert row["changes_on"] == "2025-12-28"  # decided again, unlogged, at its logged date
    assert [e.decision_id for e in log.entries()] == [answer["decision_id"]]  # nothing logged


def test_a_horizon_asked_for_and_not_found_is_not_sought_again(client, app, monkeypatch):
    eea = {**flow("allow", reference="hosting"), "horizon": True}
    assert decide(client, eea)["horizon"] is None
    decider = app.extensions["doorgifte"].decider
    monkeypatch.setattr(decider, "_locked", lambda *args: pytest.fail("decided again"))
    (row,) = register(client)["rows"] or [{"changes_on": None}]
    assert row["changes_on"] is None


def test_the_register_as_csv_cannot_run_formulas(client):
    evil = flow("conditions", reference='=HYPERLINK("http://evil.example")')
    evil["recipient"]["name"] = "+Merlion Cloud"
    evil["exporter"]["name"] = "@Stadtwerke"
    decide(client, evil)
    decide(client, flow("deny", reference="-1+1"))
    today = dt.datetime.now(dt.UTC).date().isoformat()
    response = client.get("/v1/register?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f"attachment; filename=register-{today}.csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == list(FIELDS)
    cells = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert [c["reference"] for c in cells] == ["'-1+1", '\'=HYPERLINK("http://evil.example")']
    escaped = cells[1]
    assert escaped["recipient"] == "'+Merlion Cloud" and escaped["exporter"] == "'@Stadtwerke"
    assert escaped["path"] == "'@Stadtwerke > +Merlion Cloud"
    assert escaped["open_actions"] == "transfer.sign_scc transfer.assess_impact"
    assert cells[0]["mechanism_detail"] == "module 2, 2021/914" and cells[0]["changes_on"] == ""
    as_json = register(client)["rows"]
    assert as_json[1]["reference"] == '=HYPERLINK("http://evil.example")'  # JSON is data, unchanged
    dated = client.get("/v1/register?format=csv&as_of=2026-06-30")
    assert dated.headers["Content-Disposition"] == "attachment; filename=register-2026-06-30.csv"


def test_the_rows_of_a_logged_decision_are_built_once(client, log, monkeypatch):
    """A logged decision never changes: the register reads the responses of new ones only."""
    read: list[list[int]] = []
    responses = log.responses
    monkeypatch.setattr(log, "responses", lambda seqs: read.append(list(seqs)) or responses(seqs))
    first = decide(client, flow("conditions", reference="A"))
    decide(client, flow("deny", reference="B"))
    before = register(client)
    assert len(read[-1]) == 2 and register(client) == before and read[-1] == []
    newer = decide(client, flow("chain", reference="A"))
    after = register(client)
    assert len(read[-1]) == 1 and first["decision_id"] not in {r["decision_id"] for r in after["rows"]}
    assert {r["decision_id"] for r in after["rows"]} >= {newer["decision_id"]}


def test_pages_read_the_same_rows_as_the_endpoint(app, client, log):
    from service.resources.register import rows

    decide(client, flow("chain", reference="C"))
    decide(client, flow("conditions", reference="D", policy="nl-gov"))
    with app.app_context():
        assert rows(log, dt.date(2099, 1, 1)) == register(client, "as_of=2099-01-01")["rows"]
        assert (
            rows(log, dt.date(2099, 1, 1), "nl-gov")
            == register(client, "as_of=2099-01-01&policy=nl-gov")["rows"]
        )


def test_the_row_cache_keeps_the_most_recently_used(app, log):
    from service.resources.register import RowCache

    log.write(
        [logged_entry(app, FLOWS["conditions"], "2026-01-01T00:00:00.000000Z", reference=r) for r in "abc"]
    )
    sources = log.latest("2026-12-31T23:59:59.999999Z")
    cache = RowCache(2)
    built = cache.built(log, sources)
    assert [b.rows[0]["reference"] for b in built] == ["a", "b", "c"]
    assert list(cache._built) == [s["decision_id"] for s in register_order(sources)][1:]
    assert cache.built(log, sources) == built  # rebuilt where evicted, the same rows


def register_order(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(sources, key=lambda s: s["reference"])


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("as_of=2026-02-30", "as_of"),
        ("as_of=2017-01-01", "as_of"),
        ("format=xml", "format"),
        ("policy=no-such-policy", "policy"),
        ("as_of=2026-01-01&as_of=2026-01-02", "as_of"),
        ("label=a:b", "label"),
    ],
)
def test_bad_register_parameters_are_422_naming_them(client, query, loc):
    problem = assert_problem(client.get(f"/v1/register?{query}"), 422, "invalid_request")
    assert problem["errors"][0]["loc"] == loc


# ---------------------------------------------------------------- an older log


OLD_LABELS = (
    "CREATE TABLE decision_labels (decision_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (decision_id, key))"
)


def _old_tables(serial: str) -> list[str]:
    """The tables as the release before the summary columns created them."""
    old = COLUMNS[: COLUMNS.index("vendor_revision") + 1]
    columns = ", ".join(f"{c} TEXT" + ("" if c in old[9:] else " NOT NULL") for c in old)
    return [f"CREATE TABLE decisions (seq {serial}, {columns}, UNIQUE (decision_id))", OLD_LABELS]


def test_an_older_log_gains_the_summary_columns_and_answers_queries(app, backend, new_log, engine):
    """Rows written before the summary columns: summaries read their responses, their labels
    are found (the label rows get their decision's place), the register reads them."""
    service = app.extensions["doorgifte"]
    service.log.close()
    old = COLUMNS[: COLUMNS.index("vendor_revision") + 1]
    answers = [engine.evaluate(flow(name)) for name in ("conditions", "chain")]
    rows = [(f"2026-01-0{i + 1}T00:00:00.000000Z", d, {"team": "old"}) for i, d in enumerate(answers)]
    if backend == "sqlite":
        service.log.path.parent.mkdir(parents=True, exist_ok=True)
        conn: Any = sqlite3.connect(service.log.path, isolation_level=None)
        serial, mark = "INTEGER PRIMARY KEY", "?"
    else:
        import psycopg

        conn = psycopg.connect(service.log.url, autocommit=True)
        serial, mark = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "%s"
    for table in ("decisions", "decision_labels", "register_heads", "decision_days"):  # an old log has none
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    for statement in _old_tables(serial):
        conn.execute(statement)
    for decided_at, decision, labels in rows:
        values = (
            decision.decision_id,
            decided_at,
            "r",
            "gdpr",
            "1",
            "2",
            decision.decision,
            "{}",
            decision.model_dump_json(),
            f"old-{decision.decision_id[:4]}",
            json.dumps(labels),
            None,
            None,
        )
        conn.execute(
            f"INSERT INTO decisions ({', '.join(old)}) VALUES ({', '.join([mark] * len(old))})", values
        )
        conn.execute(
            f"INSERT INTO decision_labels VALUES ({mark}, {mark}, {mark})",
            (decision.decision_id, "team", "old"),
        )
    conn.close()

    client = app.test_client()  # its log opens the old tables now and brings them up to date
    page = listing(client, "label=team:old")
    assert ids(page) == [answers[1].decision_id, answers[0].decision_id]
    summaries = {d["decision_id"]: d for d in page["decisions"]}
    assert summaries[answers[0].decision_id]["recipient"] == "Merlion Cloud Pte Ltd"
    assert (
        summaries[answers[0].decision_id]["conditions"],
        summaries[answers[0].decision_id]["denials"],
    ) == (2, 0)
    assert summaries[answers[1].decision_id]["recipient"] == "Lakeside SaaS Inc"
    assert {r["reference"] for r in register(client)["rows"]} == {f"old-{d.decision_id[:4]}" for d in answers}
    new = decide(client, flow("deny", labels={"team": "old"}))
    assert ids(listing(client, "label=team:old"))[0] == new["decision_id"]
    assert ids(listing(client, "recipient=Shenzhen+Compute+Co+Ltd")) == [new["decision_id"]]
    # the old rows keep NULL in the new columns: a recipient filter finds only rows logged since
    assert ids(listing(client, "recipient=Merlion+Cloud+Pte+Ltd")) == []


def test_the_register_heads_answer_as_seeking_the_log_does(app, log, new_log):
    """The heads kept on write (and filled once for an older log) give the same latest decision
    per vendor or reference and policy as seeking through the log, whatever the order of writing."""
    import random

    rng = random.Random(7)
    base = logged_entry(app, FLOWS["conditions"], "2026-01-01T00:00:00.000000Z")
    entries = []
    for i in range(120):
        vendor = rng.choice([None, None, "acme", "globex"])
        entries.append(
            dataclasses.replace(
                base,
                decision_id=f"00000000-0000-4000-8000-{i:012d}",
                decided_at=f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:00.000000Z",
                vendor_id=vendor,
                reference=rng.choice([None, "a", "b", "c"]),
                policy_id=rng.choice(["gdpr", "nl-gov"]),
            )
        )
    for start in range(0, len(entries), 7):  # batches, their times out of order
        log.write(entries[start : start + 7])
    end = "2026-12-31T23:59:59.999999Z"

    def picked(found: list[dict[str, Any]]) -> set[str]:
        return {row["decision_id"] for row in found}

    for policy in (None, "gdpr", "nl-gov"):
        assert picked(log.latest(end, policy)) == picked(log._latest_by_seeking(end, policy))
    assert picked(log.latest(end)), "the log holds register sources"
    # an earlier day is before the newest head: sought in the log
    assert picked(log.latest("2026-03-31T23:59:59.999999Z")) == picked(
        log._latest_by_seeking("2026-03-31T23:59:59.999999Z")
    )
    # an older log without the heads gets them filled once, with the same answer
    conn = log._conn()
    with log._transaction(conn) as cur:
        cur.execute("DROP TABLE register_heads")
    log.close()
    again = type(log)(log.path if isinstance(log, SqliteLog) else log.url)  # type: ignore[attr-defined]
    assert picked(again.latest(end)) == picked(again._latest_by_seeking(end))
    again.close()


def test_writers_moving_the_same_heads_in_opposite_orders_never_deadlock(app, log):
    """Each batch moves two heads; one writer lists them one way, the other the other way. The
    log takes the heads in their own order, so neither waits on the other (PostgreSQL would
    otherwise abort one transaction as a deadlock)."""
    base = logged_entry(app, FLOWS["conditions"], "2026-01-01T00:00:00.000000Z")

    def writer(n: int) -> None:
        for i in range(40):
            pair = [
                dataclasses.replace(
                    base,
                    decision_id=f"00000000-0000-4000-8{n:03d}-{i:06d}{k:06d}",
                    decided_at=f"2026-02-01T00:00:{i:02d}.{n:06d}Z",
                    vendor_id=v,
                )
                for k, v in enumerate(["acme", "globex"] if n == 0 else ["globex", "acme"])
            ]
            log.write(pair)

    in_two_threads(writer)
    latest = log.latest("2026-12-31T23:59:59.999999Z")
    assert {row["vendor_id"] for row in latest} == {"acme", "globex"}
    assert {row["decided_at"] for row in latest} == {"2026-02-01T00:00:39.000001Z"}
