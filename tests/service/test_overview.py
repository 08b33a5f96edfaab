"""The data layer of the dashboard's overview (SPEC section 13), on a real SQLite file and
(marked `postgres`) a real PostgreSQL server: the `open_actions` column filled by the service's
own Decider, the `decision_days` counts kept on write (and filled once for an older log),
`DecisionLog.heads()` and `days()`, and `service.overview.build` over them.

Expectations come from the decisions as the engine answered them and from the entries the
test wrote, never from the tables under test.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.decision import Decision
from service import overview
from service.decision_log import DecisionLog, LogEntry, PostgresLog, SqliteLog
from tests.e2e.support import postgres_server
from tests.service.support import FLOWS, in_two_threads

TABLES = "decisions, decision_labels, vendor_revisions, register_heads, decision_days"
VENDOR_CHAIN = Path(__file__).resolve().parents[2] / "docs" / "examples" / "vendor-chain.json"
GB = {
    "as_of": "2025-03-15",
    "horizon": True,
    "reference": "PO-GB",
    "exporter": {"name": "Stadtwerke Beispiel GmbH", "country": "DE"},
    "recipient": {
        "name": "London Payroll Ltd",
        "role": "processor",
        "country": "GB",
        "agreement": {"dpa": {"signed": True}},
    },
}


def processor_chain() -> dict[str, Any]:
    """The docs' vendor chain asked by a processor: its controller is not named, so the
    location consent's actor is null (SPEC section 10)."""
    payload = json.loads(VENDOR_CHAIN.read_text())
    payload["exporter"] = {"name": "Inkoop Centrum BV", "country": "NL", "role": "processor"}
    return dict(payload)


# ---------------------------------------------------------------- both back ends


postgres = pytest.fixture(scope="module", name="postgres")(postgres_server)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_log(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Callable[[], DecisionLog]:
    """Opens the test's log; on PostgreSQL every table starts anew (dropped, day counts too)."""
    if backend == "sqlite":
        return lambda: SqliteLog(db_path)
    url = request.getfixturevalue("postgres").url
    cleaner = PostgresLog(url)
    with cleaner._open() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLES}")
    return lambda: PostgresLog(url)


@pytest.fixture
def app(make_app: Callable[..., Flask], new_log: Callable[[], DecisionLog]) -> Flask:
    return make_app(decision_log=new_log())


@pytest.fixture
def log(app: Flask) -> DecisionLog:
    return app.extensions["doorgifte"].log  # type: ignore[no-any-return]


def reopened(log: DecisionLog) -> DecisionLog:
    """The same log opened anew, as a restarted service opens it (nothing dropped)."""
    log.close()
    return SqliteLog(log.path) if isinstance(log, SqliteLog) else PostgresLog(log.url)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- entries


@dataclasses.dataclass
class Made:
    """A real decision of the engine and its log row as the service's Decider makes it."""

    decision: Decision
    entry: LogEntry

    def copy(self, decided_at: str, **columns: Any) -> LogEntry:
        """The row again under a fresh decision id (also in its response), at another time."""
        fresh = str(uuid.uuid4())
        response = self.entry.response.replace(self.entry.decision_id, fresh, 1)
        return dataclasses.replace(
            self.entry, decision_id=fresh, response=response, decided_at=decided_at, **columns
        )

    def actions(self) -> list[list[Any]]:
        return [[a.actor, a.actor_role, a.code] for a in self.decision.actions]


def made(app: Flask, payload: dict[str, Any]) -> Made:
    service = app.extensions["doorgifte"]
    decision = service.engine.evaluate(copy.deepcopy(payload))
    return Made(decision, service.decider._entry(payload, decision, decision.model_dump_json(), "test"))


def at(day: dt.date | str, second: int = 0) -> str:
    return f"{day}T10:00:{second:02d}.000000Z"


def day_table(log: DecisionLog) -> Counter[tuple[str, str, str]]:
    """The kept counts, summed over their slots."""
    rows = log._rows(
        "SELECT day, policy_id, decision, sum(count) FROM decision_days GROUP BY day, policy_id, decision", ()
    )
    return Counter({(day, policy, decision): int(count) for day, policy, decision, count in rows})


def grouped_log(log: DecisionLog) -> Counter[tuple[str, str, str]]:
    """The day counts as a GROUP BY over the decisions themselves."""
    rows = log._rows(
        "SELECT substr(decided_at, 1, 10), policy_id, decision, count(*) FROM decisions"
        " GROUP BY substr(decided_at, 1, 10), policy_id, decision",
        (),
    )
    return Counter({(day, policy, decision): int(count) for day, policy, decision, count in rows})


def counted(entries: list[LogEntry]) -> Counter[tuple[str, str, str]]:
    return Counter((e.decided_at[:10], e.policy_id, e.decision) for e in entries)


# ---------------------------------------------------------------- open_actions


def test_each_logged_decision_stores_its_planned_actions(app, log):
    """Through the HTTP service: every decision of a batch and a single one carry their actions
    as [actor, actor_role, code], a null actor kept null; a decision without actions stores []."""
    client = app.test_client()
    flows = [FLOWS["conditions"], FLOWS["chain"], FLOWS["allow"]]
    response = client.post("/v1/decisions/batch", json={"flows": flows})
    assert response.status_code == 200, response.get_data(as_text=True)
    answers = response.get_json()["results"]
    single = client.post("/v1/decisions", json=processor_chain())
    assert single.status_code == 200, single.get_data(as_text=True)
    answers.append(single.get_json())
    for answer in answers:
        stored = log.get(answer["decision_id"]).open_actions
        assert json.loads(stored) == [[a["actor"], a["actor_role"], a["code"]] for a in answer["actions"]]
    assert json.loads(log.get(answers[2]["decision_id"]).open_actions) == []
    assert [None, "controller", "location.obtain_written_consent"] in json.loads(
        log.get(answers[3]["decision_id"]).open_actions
    )


# ---------------------------------------------------------------- decision_days


def test_the_day_counts_equal_a_group_by_over_the_log_after_many_writes(app, log):
    """Batches of every size, their times out of order, several entries of one day, policy and
    outcome in one batch: the counts kept on write are the log's own counts."""
    rng = random.Random(11)
    templates = [made(app, FLOWS[name]) for name in ("allow", "conditions", "deny")]
    written: list[LogEntry] = []
    for _ in range(40):
        batch = [
            rng.choice(templates).copy(
                at(dt.date(2026, 3, 1) + dt.timedelta(days=rng.randrange(6)), rng.randrange(60)),
                policy_id=rng.choice(["gdpr", "nl-gov", "eu-residency"]),
            )
            for _ in range(rng.randint(1, 9))
        ]
        log.write(batch)
        written += batch
    assert max(counted(written).values()) > 1, "the test writes several decisions per day row"
    assert day_table(log) == counted(written) == grouped_log(log)
    slots = log._rows("SELECT count(DISTINCT slot) FROM decision_days", ())[0][0]
    assert slots > 1  # the counts spread over several rows per day, which reads sum
    # days(): summed over the policies, from a day on; one policy alone
    since = "2026-03-03"
    summed: Counter[tuple[str, str]] = Counter()
    for (day, _, outcome), n in counted(written).items():
        if day >= since:
            summed[(day, outcome)] += n
    assert log.days(since) == sorted((d, o, n) for (d, o), n in summed.items())
    nl = sorted((d, o, n) for (d, p, o), n in counted(written).items() if p == "nl-gov" and d >= since)
    assert log.days(since, "nl-gov") == nl
    assert log.days("2027-01-01") == []


def test_writers_counting_the_same_days_in_opposite_orders_never_deadlock(app, log):
    """Each batch adds to two day rows; one writer lists them one way, the other the other way.
    The log takes the day rows in key order, so neither waits on the other (PostgreSQL would
    otherwise abort one transaction as a deadlock)."""
    template = made(app, FLOWS["conditions"])

    def writer(n: int) -> None:
        days = ["2026-04-01", "2026-04-02"] if n == 0 else ["2026-04-02", "2026-04-01"]
        for i in range(40):
            log.write([template.copy(at(day, i % 60)) for day in days])

    in_two_threads(writer)
    assert log.days("2026-04-01") == [("2026-04-01", "conditions", 80), ("2026-04-02", "conditions", 80)]


def test_an_older_log_gets_its_day_counts_and_its_old_heads_keep_their_actions(app, log):
    """A log of the release before (no `open_actions` column, no `decision_days` table) opened by
    this one: the column is added (old rows NULL), the days are counted once from the log, and
    `heads()` reads an old head's actions from its stored response. Writes then keep counting."""
    chain, conditions, deny = (made(app, p) for p in (processor_chain(), FLOWS["conditions"], FLOWS["deny"]))
    old = [
        chain.copy(at("2026-02-01"), vendor_id="zaakwerk", reference=None, policy_id="nl-gov"),
        conditions.copy(at("2026-02-01", 1), reference="PO-1"),
        deny.copy(at("2026-02-02"), reference="PO-2"),
        conditions.copy(at("2026-02-02", 1), reference=None),  # no head: neither vendor nor reference
    ]
    log.write(old)
    with log._transaction(log._conn()) as cur:  # as the release before left it
        cur.execute("ALTER TABLE decisions DROP COLUMN open_actions")
        cur.execute("DROP TABLE decision_days")
    again = reopened(log)
    try:
        assert all(again.get(e.decision_id).open_actions is None for e in old)  # type: ignore[union-attr]
        assert day_table(again) == counted(old) == grouped_log(again)
        heads = {(h["kind"], h["key"]): h for h in again.heads()}
        assert set(heads) == {("vendor", "zaakwerk"), ("reference", "PO-1"), ("reference", "PO-2")}
        assert chain.actions() and conditions.actions(), "the old decisions have actions to show"
        assert heads[("vendor", "zaakwerk")]["open_actions"] == chain.actions()
        assert heads[("reference", "PO-1")]["open_actions"] == conditions.actions()
        assert heads[("reference", "PO-2")]["open_actions"] == []
        new = [
            conditions.copy(at("2026-02-02", 2), vendor_id="zaakwerk", policy_id="nl-gov"),
            deny.copy(at("2026-02-03")),
        ]
        again.write(new)
        assert day_table(again) == counted(old + new) == grouped_log(again)
        assert again.get(new[0].decision_id).open_actions is not None  # type: ignore[union-attr]
        assert {(h["kind"], h["key"]): h for h in again.heads()}[("vendor", "zaakwerk")][
            "open_actions"
        ] == conditions.actions()
    finally:
        again.close()


# ---------------------------------------------------------------- heads()


def test_heads_are_each_latest_decision_with_its_summary(app, log):
    """One head per vendor (else reference) and policy: its latest decision, whatever the order
    of writing, with the decision's summary columns; `policy` keeps one policy's heads."""
    conditions, allow = made(app, FLOWS["conditions"]), made(app, FLOWS["allow"])
    entries = [
        conditions.copy(at("2026-05-02"), vendor_id="acme", reference="PO-9"),
        allow.copy(at("2026-05-01"), vendor_id="acme"),  # older, written later: not the head
        allow.copy(at("2026-05-01"), vendor_id="acme", policy_id="nl-gov"),
        allow.copy(at("2026-05-01"), reference="PO-9"),
        conditions.copy(at("2026-05-03"), reference="PO-9", changes_on="2026-09-01"),
    ]
    for entry in entries:
        log.write([entry])
    heads = sorted(log.heads(), key=lambda h: (h["kind"], h["key"], h["policy_id"]))
    assert [(h["kind"], h["key"], h["policy_id"], h["decision_id"]) for h in heads] == [
        ("reference", "PO-9", "gdpr", entries[4].decision_id),
        ("vendor", "acme", "gdpr", entries[0].decision_id),
        ("vendor", "acme", "nl-gov", entries[2].decision_id),
    ]
    for head in heads:
        row = log.get(head["decision_id"])
        assert row is not None
        assert head == {
            "kind": head["kind"],
            "key": head["key"],
            "policy_id": row.policy_id,
            "seq": head["seq"],
            "decision_id": row.decision_id,
            "decided_at": row.decided_at,
            "decision": row.decision,
            "recipient": row.recipient,
            "conditions_count": row.conditions_count,
            "denials_count": row.denials_count,
            "changes_on": row.changes_on,
            "vendor_revision": row.vendor_revision,
            "open_actions": json.loads(row.open_actions or "null"),
        }
    assert heads[0]["changes_on"] == "2026-09-01" and heads[0]["open_actions"] == conditions.actions()
    assert [h["decision_id"] for h in log.heads("nl-gov")] == [entries[2].decision_id]
    assert log.heads("eu-residency") == []


# ---------------------------------------------------------------- overview.build


@pytest.fixture
def scene(app: Flask, log: DecisionLog) -> dict[str, Any]:
    """Vendors and references under two policies, some decided twice (the later one counts)."""
    allow, conditions, deny = (made(app, FLOWS[name]) for name in ("allow", "conditions", "deny"))
    chain = made(app, processor_chain())
    entries = {
        "acme_old": conditions.copy(at("2026-06-01"), vendor_id="acme"),
        "acme": deny.copy(at("2026-06-02"), vendor_id="acme"),
        "acme_nl": allow.copy(at("2026-06-02", 1), vendor_id="acme", policy_id="nl-gov"),
        "globex": chain.copy(at("2026-06-03"), vendor_id="globex", policy_id="gdpr"),
        "initech": deny.copy(at("2026-06-03", 1), vendor_id="initech", reference="PO-3"),
        "po1": conditions.copy(at("2026-06-01", 2), reference="PO-1"),
        "po1_nl": conditions.copy(at("2026-06-01", 3), reference="PO-1", policy_id="nl-gov"),
        "po2": allow.copy(at("2026-06-02", 2), reference="PO-2"),
        "loose": allow.copy(at("2026-06-02", 3)),
    }
    log.write(list(entries.values()))
    return {"entries": entries, "chain": chain, "conditions": conditions}


def test_build_counts_the_latest_decision_per_vendor_and_per_transfer(log, scene):
    built = overview.build(log, dt.date(2026, 6, 3))
    assert built.vendors_by_decision == {
        "gdpr": overview.Outcomes(
            counts={"allow": 0, "conditions": 1, "deny": 2},
            keys={"allow": (), "conditions": ("globex",), "deny": ("acme", "initech")},
        ),
        "nl-gov": overview.Outcomes(
            counts={"allow": 1, "conditions": 0, "deny": 0},
            keys={"allow": ("acme",), "conditions": (), "deny": ()},
        ),
    }
    assert built.transfers_by_decision == {
        "gdpr": overview.Outcomes(
            counts={"allow": 1, "conditions": 1, "deny": 0},
            keys={"allow": ("PO-2",), "conditions": ("PO-1",), "deny": ()},
        ),
        "nl-gov": overview.Outcomes(
            counts={"allow": 0, "conditions": 1, "deny": 0},
            keys={"allow": (), "conditions": ("PO-1",), "deny": ()},
        ),
    }
    one = overview.build(log, dt.date(2026, 6, 3), policy="nl-gov")
    assert set(one.vendors_by_decision) == set(one.transfers_by_decision) == {"nl-gov"}


def test_build_groups_open_actions_by_actor_with_what_they_concern(log, scene):
    """The latest decisions' actions only (acme's earlier conditions are settled by its deny);
    PO-1 under two policies counts twice but is listed once; a null actor is the controller."""
    chain, conditions = scene["chain"], scene["conditions"]
    expected: Counter[tuple[str | None, str]] = Counter()
    for actor, role, _ in chain.actions() + 2 * conditions.actions():
        expected[(actor, role if actor is not None else "controller")] += 1
    built = overview.build(log, dt.date(2026, 6, 3))
    groups = {(g.actor, g.actor_role): g for g in built.actions_by_actor}
    assert {group: g.count for group, g in groups.items()} == dict(expected)
    counts = [g.count for g in built.actions_by_actor]
    assert counts == sorted(counts, reverse=True)
    unnamed = groups[(None, "controller")]
    assert unnamed.codes == {"location.obtain_written_consent": (("vendor", "globex"),)}
    controller = groups[("Stadtwerke Beispiel GmbH", "controller")]
    assert controller.count == 4
    assert controller.codes == {
        "transfer.assess_impact": (("reference", "PO-1"),),
        "transfer.sign_scc": (("reference", "PO-1"),),
    }
    only_nl = overview.build(log, dt.date(2026, 6, 3), policy="nl-gov").actions_by_actor
    assert [(g.actor, g.count) for g in only_nl] == [("Stadtwerke Beispiel GmbH", 2)]


def test_build_draws_every_day_of_the_window_zero_filled(app, log):
    """Days without decisions are present with zeros; days before the window and after today
    are left out; a policy counts only its own decisions."""
    allow, deny = made(app, FLOWS["allow"]), made(app, FLOWS["deny"])
    today = dt.date(2026, 7, 10)
    log.write(
        [
            allow.copy(at("2026-07-03")),  # the day before the window of 7 days
            allow.copy(at("2026-07-04")),
            allow.copy(at("2026-07-04", 1)),
            deny.copy(at("2026-07-04", 2), policy_id="nl-gov"),
            deny.copy(at("2026-07-07")),
            allow.copy(at("2026-07-10"), policy_id="nl-gov"),
            deny.copy(at("2026-07-11")),  # after today
        ]
    )
    zero = {"allow": 0, "conditions": 0, "deny": 0}
    built = overview.build(log, today, days=7)
    assert list(built.timeline) == [
        (dt.date(2026, 7, 4), {**zero, "allow": 2, "deny": 1}),
        (dt.date(2026, 7, 5), zero),
        (dt.date(2026, 7, 6), zero),
        (dt.date(2026, 7, 7), {**zero, "deny": 1}),
        (dt.date(2026, 7, 8), zero),
        (dt.date(2026, 7, 9), zero),
        (dt.date(2026, 7, 10), {**zero, "allow": 1}),
    ]
    assert built.timeline[0].day == dt.date(2026, 7, 4) and built.timeline[-1].counts["allow"] == 1
    nl = overview.build(log, today, policy="nl-gov", days=7).timeline
    assert [(d.day.day, d.counts) for d in nl if d.counts != zero] == [
        (4, {**zero, "deny": 1}),
        (10, {**zero, "allow": 1}),
    ]


def test_coming_changes_are_the_latest_horizons_ahead_soonest_first(app, log):
    """Horizons of latest decisions from today on, soonest first, ties by kind, key and policy,
    at most `coming`; a past horizon and a superseded decision's horizon are not listed. A real
    horizon decision (the UK's) logged over HTTP shows its own date."""
    allow = made(app, FLOWS["allow"])
    today = dt.date(2026, 8, 1)
    entries = [
        allow.copy(at("2026-07-01"), vendor_id="b", changes_on="2026-09-01"),
        allow.copy(at("2026-07-01", 1), vendor_id="a", changes_on="2026-09-01"),
        allow.copy(at("2026-07-01", 2), reference="PO-1", changes_on="2026-10-01"),
        allow.copy(at("2026-07-01", 3), reference="PO-2", changes_on="2026-07-31"),  # past
        allow.copy(at("2026-07-01", 4), vendor_id="c", changes_on="2026-08-15"),
        allow.copy(at("2026-07-02"), vendor_id="c", changes_on="2027-01-01"),  # c's latest
        allow.copy(at("2026-07-01", 5), vendor_id="a", policy_id="nl-gov", changes_on="2026-09-01"),
        allow.copy(at("2026-07-01", 6), vendor_id="d"),  # no horizon
        allow.copy(at("2026-07-01", 7), vendor_id="z", changes_on="2026-08-01"),  # today: ahead
    ]
    log.write(entries)
    built = overview.build(log, today, coming=5)
    assert [(c.changes_on.isoformat(), c.kind, c.key, c.policy) for c in built.coming_changes] == [
        ("2026-08-01", "vendor", "z", "gdpr"),
        ("2026-09-01", "vendor", "a", "gdpr"),
        ("2026-09-01", "vendor", "a", "nl-gov"),
        ("2026-09-01", "vendor", "b", "gdpr"),
        ("2026-10-01", "reference", "PO-1", "gdpr"),
    ]
    first = built.coming_changes[0]
    assert (first.decision_id, first.decision) == (entries[-1].decision_id, "allow")
    assert [c.key for c in overview.build(log, today, coming=2).coming_changes] == ["z", "a"]
    later = overview.build(log, dt.date(2026, 12, 1)).coming_changes
    assert [(c.key, c.changes_on) for c in later] == [("c", dt.date(2027, 1, 1))]
    response = app.test_client().post("/v1/decisions", json=GB)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    changes_on = dt.date.fromisoformat(answer["horizon"]["changes_on"])
    ahead = overview.build(log, changes_on, coming=50).coming_changes
    assert ("PO-GB", changes_on, answer["decision_id"]) in [
        (c.key, c.changes_on, c.decision_id) for c in ahead
    ]


def test_an_action_without_a_named_actor_is_the_controller_whatever_role_it_kept():
    """Grouping alone: actions whose actor is null form one group, role `controller`, even when
    a stored role says otherwise (or nothing); a named actor keeps its role."""
    heads = [
        {"kind": "vendor", "key": "v", "open_actions": [[None, "controller", "x.a"], [None, None, "x.b"]]},
        {
            "kind": "reference",
            "key": "r",
            "open_actions": [[None, "processor", "x.a"], ["P", "processor", "x.a"]],
        },
    ]
    groups = overview.actions_by_actor(heads)
    assert groups == (
        overview.ActorActions(
            actor=None,
            actor_role="controller",
            count=3,
            codes={"x.a": (("reference", "r"), ("vendor", "v")), "x.b": (("vendor", "v"),)},
        ),
        overview.ActorActions(
            actor="P", actor_role="processor", count=1, codes={"x.a": (("reference", "r"),)}
        ),
    )
