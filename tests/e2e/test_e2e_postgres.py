"""The PostgreSQL decision log against a real server started from Debian's binaries.

Skipped, with the reason, when PostgreSQL or psycopg is not available here;
`make test-postgres` installs what is missing and sets DOORGIFTE_REQUIRE_POSTGRES=1
so that these tests fail instead of skipping.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service.app import create_app
from service.config import Config
from service.decision_log import COLUMNS, LogUnavailable, PostgresLog
from tests.e2e.support import DOORGIFTE, FLOWS, Postgres, Server, free_port, postgres_server
from tests.service.test_decision_log import entry

pytestmark = pytest.mark.postgres


postgres = pytest.fixture(scope="module", name="postgres")(postgres_server)


@pytest.fixture
def pg_log(postgres: Postgres) -> Iterator[PostgresLog]:
    log = PostgresLog(postgres.url)
    log.check()  # creates the table
    conn = log._conn()
    conn.execute("TRUNCATE decisions, decision_labels, vendor_revisions, register_heads, decision_days")
    yield log
    log.close()


def test_entries_round_trip_in_order_and_since_a_time(pg_log):
    pg_log.write([entry(1, "2026-01-01T10:00:00.000000Z"), entry(2, "2026-01-02T10:00:00.000000Z")])
    pg_log.write([entry(3, "2026-01-03T10:00:00.000000Z")])
    assert [e.request for e in pg_log.entries()] == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    assert [e.request for e in pg_log.entries("2026-01-02T00:00:00.000000Z")] == ['{"n": 2}', '{"n": 3}']
    assert pg_log.get(entry(3).decision_id) == entry(3, "2026-01-03T10:00:00.000000Z")
    assert pg_log.get("00000000-0000-4000-8000-999999999999") is None


def test_a_write_is_all_or_nothing_and_the_log_recovers(pg_log):
    pg_log.write([entry(1)])
    with pytest.raises(LogUnavailable):
        pg_log.write([entry(2), entry(1)])
    assert [e.request for e in pg_log.entries()] == ['{"n": 1}']
    pg_log.write([entry(3)])
    assert len(list(pg_log.entries())) == 2


def test_the_table_has_the_sqlite_columns(pg_log):
    query = (
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position"
    )
    rows = pg_log._conn().execute(query, ("decisions",))
    assert [r[0] for r in rows] == ["seq", *COLUMNS]


def test_an_unreachable_server_makes_the_service_unready_and_refuse_decisions(engine):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    app = create_app(Config(db=url), engine=engine)
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    response = client.post("/v1/decisions", json=FLOWS["allow"])
    assert response.status_code == 503 and response.get_json()["code"] == "decision_log_unavailable"
    assert url not in response.get_data(as_text=True)


def test_two_workers_share_the_postgres_log_across_a_restart(postgres, pg_log):
    first = Server(postgres.url, workers=2).start()
    try:
        answers: list[dict[str, Any]] = [
            requests.post(first.url + "/v1/decisions", json=FLOWS[name], timeout=10).json()
            for name in ("allow", "conditions", "deny", "chain")
        ]
        batch = requests.post(
            first.url + "/v1/decisions/batch", json={"flows": [FLOWS["allow"]] * 3}, timeout=10
        )
        assert batch.status_code == 200
        assert requests.get(first.url + "/readyz", timeout=10).json()["decision_log"] == "postgresql"
        assert first.stop() == 0
    finally:
        first.close()
    second = Server(postgres.url).start()
    try:
        for answer in answers:
            back = requests.get(second.url + f"/v1/decisions/{answer['decision_id']}", timeout=10).json()
            back.pop("log")
            assert back == answer
    finally:
        second.close()
    export = subprocess.run(
        [str(DOORGIFTE), "log", "export", "--db", postgres.url], capture_output=True, text=True, timeout=60
    )
    assert export.returncode == 0, export.stderr
    lines = [json.loads(line) for line in export.stdout.splitlines()]
    assert [line["decision_id"] for line in lines[:4]] == [a["decision_id"] for a in answers]
    assert len(lines) == 7
    assert {line["request_id"] for line in lines[4:]} == {batch.headers["X-Request-Id"]}


def test_vendor_revisions_on_postgres_are_appended_by_concurrent_writers(pg_log, postgres):
    """Two writers storing different documents of one vendor at once get revisions 1 and 2
    (the per-vendor advisory lock), and an unchanged document stores nothing."""
    from concurrent.futures import ThreadPoolExecutor

    other = PostgresLog(postgres.url)
    try:
        with ThreadPoolExecutor(2) as pool:
            done = list(
                pool.map(
                    lambda a: a[0].put_vendor("acme", "Acme", a[1], a[1], "{}"),
                    [(pg_log, "v1"), (other, "v2")],
                )
            )
        assert sorted(r for r, _ in done) == [1, 2] and all(stored for _, stored in done)
        latest = pg_log.vendor("acme")
        assert latest is not None and latest[0] == 2
        assert pg_log.put_vendor("acme", "Acme", "x", pg_log.vendor_revisions("acme")[-1][2], "{}") == (
            2,
            False,
        )
        assert [v[0] for v in pg_log.vendors()] == ["acme"]
    finally:
        other.close()
