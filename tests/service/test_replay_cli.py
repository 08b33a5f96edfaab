"""`doorgifte replay`, `replay-worker` and the replay gate, run in process on real SQLite logs.

Most tests hand the CLI the session's engine (loading one takes a second or two); the gate
tests load the engine from the directories they name, and one test starts two real
worker processes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from engine.errors import RequestInvalid
from service import replay_cli
from service.cli import main
from service.decision_log import SqliteLog
from service.replay import Params
from service.replay_store import ReplayStore
from tests.service.test_replay_store import flow, log_dump, log_flows

REPO = Path(__file__).resolve().parents[2]
DPF_ANNULLED = {
    "title": "DPF annulled",
    "adequacy_end": [{"decision": "us-dpf-2023-1795", "on": "2027-03-01"}],
}
SCC_2021 = {"scc": {"module": 2}, "tia": {"outcome": "no_problematic_law"}}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "decisions.sqlite3"


@pytest.fixture
def session_engine(engine, monkeypatch):
    """The CLI builds the job's engine through `build_engine`: give it the session's."""
    monkeypatch.setattr(replay_cli, "build_engine", lambda params, config: engine)
    return engine


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def shield_log(db: Path, engine: Any) -> list[str]:
    """Two Privacy Shield flows (tighten after 2020-07-16), a bare US flow (gains a code), EEA."""
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    flows = [flow("2020-07-01", "DE"), shield, flow("2020-07-01"), {**shield, "reference": "po-9"}]
    return log_flows(db, engine, flows)


def scenarios_supported(engine: Any) -> bool:
    try:
        engine.evaluate({**flow("2026-11-01", "DE"), "scenario": DPF_ANNULLED})
    except RequestInvalid as exc:
        if any(p.loc == "scenario" for p in exc.problems):
            return False
        raise
    return True


# ---------------------------------------------------------------- scenario


def test_the_dpf_annulled_tightens_exactly_the_decisions_that_relied_on_it(
    session_engine, db, tmp_path, capsys
):
    if not scenarios_supported(session_engine):
        pytest.skip("the engine does not take a scenario yet")
    on = "2026-11-23"
    dpf = {**flow(on, certifications=["eu-us-dpf"]), "reference": "crm"}
    flows = [
        dpf,  # relies on the DPF
        flow(on, agreement={"dpa": {"signed": True}, "safeguards": SCC_2021}),  # clauses, no listing
        flow(on, "DE"),
        {**flow(on, name="Mailer Inc", certifications=["eu-us-dpf"]), "labels": {"team": "mail"}},
        flow(on),  # neither: conditions before and after
        flow(on, "FR"),
        flow(on, "JP", agreement={"dpa": {"signed": True}, "safeguards": SCC_2021}),
    ]
    ids = log_flows(db, session_engine, flows)
    scenario = tmp_path / "dpf.json"
    scenario.write_text(json.dumps(DPF_ANNULLED))
    before = log_dump(db)

    code, out, _ = run(capsys, "replay", "--db", str(db), "--as-of", "2027-03-01", "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["unchanged"] == 7  # the date alone changes nothing
    argv = [
        "replay",
        "--db",
        str(db),
        "--as-of",
        "2027-03-01",
        "--scenario",
        str(scenario),
        "--format",
        "json",
    ]
    code, out, _ = run(capsys, *argv, "--fail-on", "tightened")

    assert code == 10
    report = json.loads(out)
    assert report["summary"] == {
        "total": 7,
        "unchanged": 5,
        "tightened": 2,
        "loosened": 0,
        "reasons_changed": 0,
        "errors": 0,
    }
    assert [c["decision_id"] for c in report["changes"]] == [ids[0], ids[3]]
    first, second = report["changes"]
    assert first["reference"] == "crm" and second["labels"] == {"team": "mail"}
    assert first["before"]["decision"] == "allow" and first["after"]["decision"] == "conditions"
    assert (
        "transfer.sign_scc" in first["codes_added"] and "assume.dpf_certification" in first["codes_removed"]
    )
    assert log_dump(db) == before


def test_a_scenario_the_data_does_not_know_is_a_usage_error(session_engine, db, tmp_path, capsys):
    if not scenarios_supported(session_engine):
        pytest.skip("the engine does not take a scenario yet")
    log_flows(db, session_engine, [flow("2026-11-01")])
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"adequacy_end": [{"decision": "us-dpf-2099", "on": "2027-03-01"}]}))
    code, out, err = run(capsys, "replay", "--db", str(db), "--scenario", str(scenario))
    assert code == 2 and out == ""
    assert "scenario.adequacy_end[0].decision" in err and "us-dpf-2099" in err
    with sqlite3.connect(db) as conn:  # refused before any job was created
        assert (
            conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'replay_jobs'").fetchone()[0] == 0
        )


# ---------------------------------------------------------------- exit codes and formats


def test_fail_on_and_the_text_report(session_engine, db, capsys):
    ids = shield_log(db, session_engine)
    code, out, _ = run(capsys, "replay", "--db", str(db), "--fail-on", "changed")
    assert code == 0 and out.strip().endswith(
        "4 decisions: 4 unchanged, 0 tightened, 0 loosened, 0 with other reasons, 0 errors"
    )

    code, out, err = run(capsys, "replay", "--db", str(db), "--as-of", "2020-08-01")
    assert code == 0  # without --fail-on a change is reported, not failed
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["tightened", ids[1]],
        ["reasons_changed", ids[2]],
        ["tightened", ids[3]],
    ]
    assert "po-9 allow -> conditions" in lines[2] and "+transfer.sign_scc" in lines[2]
    assert lines[-1].endswith(
        "4 decisions: 1 unchanged, 2 tightened, 0 loosened, 1 with other reasons, 0 errors"
    )
    assert "replay: 4/4 decisions" in err  # plain progress lines: stderr is not a terminal here

    assert run(capsys, "replay", "--db", str(db), "--as-of", "2020-08-01", "--fail-on", "tightened")[0] == 10
    assert run(capsys, "replay", "--db", str(db), "--as-of", "2020-08-01", "--fail-on", "changed")[0] == 10


def test_since_and_until_and_usage_errors(session_engine, db, tmp_path, capsys):
    shield = flow("2020-07-01", certifications=["eu-us-privacy-shield"])
    for day in ("01", "02", "03"):
        log_flows(db, session_engine, [shield], at=f"2026-11-{day}T08:00:00.000000Z")
    window = ("--since", "2026-11-02", "--until", "2026-11-03T00:00:00Z", "--as-of", "2020-08-01")
    code, out, _ = run(capsys, "replay", "--db", str(db), *window, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["total"] == 1
    code, out, _ = run(capsys, "replay", "--db", str(db), "--until", "2026-11-02", "--format", "json")
    assert json.loads(out)["summary"]["total"] == 2  # a date: up to the end of that day
    _, out, _ = run(capsys, "replay", "--db", str(db), "--until", "2026-11-03T08:00:00Z")
    assert ": 3 decisions:" in out  # a time: inclusive

    assert run(capsys, "replay", "--db", str(tmp_path / "none.sqlite3"))[0] == 2
    assert run(capsys, "replay", "--db", str(db), "--policy-path", str(tmp_path / "missing"))[0] == 2
    (tmp_path / "s.json").write_text("[1, 2]")
    assert run(capsys, "replay", "--db", str(db), "--scenario", str(tmp_path / "s.json"))[0] == 2
    with pytest.raises(SystemExit) as exited:  # argparse: the two dates exclude each other
        main(["replay", "--db", str(db), "--as-of", "2026-01-01", "--as-logged"])
    assert exited.value.code == 2


# ---------------------------------------------------------------- resume


def test_a_killed_replay_runs_again_with_resume(session_engine, db, capsys):
    shield_log(db, session_engine)
    shield_log(db, session_engine)
    log = SqliteLog(db)
    store = ReplayStore(log)
    job = store.plan(store.create(Params(as_of="2020-08-01", batch_size=3)).job_id)
    assert store.claim(job.job_id, "killed-worker") is not None  # claimed, never finished
    log.close()

    code, out, _ = run(capsys, "replay", "--db", str(db), "--resume", job.job_id, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["state"] == "done" and report["job"] == job.job_id
    assert report["summary"] == {
        "total": 8,
        "unchanged": 2,
        "tightened": 4,
        "loosened": 0,
        "reasons_changed": 2,
        "errors": 0,
    }
    assert len(report["changes"]) == 6 == len({c["decision_id"] for c in report["changes"]})
    code, again, _ = run(capsys, "replay", "--db", str(db), "--resume", job.job_id, "--format", "json")
    assert json.loads(again) == report  # a finished job is reported, never redone

    assert run(capsys, "replay", "--db", str(db), "--resume", job.job_id, "--since", "2026-01-01")[0] == 2
    assert run(capsys, "replay", "--db", str(db), "--resume", "no-such-job")[0] == 2
    assert run(capsys, "replay-worker", "no-such-job", "--db", str(db))[0] == 2


def test_two_worker_processes_share_the_job(engine, db, capsys):
    """The one test that starts worker processes (each loads its own engine)."""
    shield_log(db, engine)
    ids = shield_log(db, engine) + shield_log(db, engine)
    argv = ["replay", "--db", str(db), "--as-of", "2020-08-01", "--jobs", "2", "--format", "json"]
    code, out, _ = run(capsys, *argv, "--fail-on", "changed")
    report = json.loads(out)
    assert code == 10 and report["state"] == "done"
    assert report["summary"] == {
        "total": 12,
        "unchanged": 3,
        "tightened": 6,
        "loosened": 0,
        "reasons_changed": 3,
        "errors": 0,
    }
    changed = [c["decision_id"] for c in report["changes"]]
    assert changed[-3:] == [ids[-3], ids[-2], ids[-1]] and len(set(changed)) == 9  # log order, once each


# ---------------------------------------------------------------- the gate


def japan_cells() -> int:
    """The committed golden answers for Japan: every exporter's, on every regime axis."""
    matrix = json.loads((REPO / "policies" / "golden_matrix.json").read_text(encoding="utf-8"))["matrix"]
    return sum(len(cells) for key, cells in matrix.items() if key.startswith("JP "))


@pytest.fixture
def golden_log(tmp_path: Path, capsys) -> Path:
    """The committed golden answers for Japan, as a throwaway log."""
    path = tmp_path / "golden.sqlite3"
    assert main(["golden", "--log", str(path), "--only", "JP"]) == 0
    assert f"wrote {japan_cells()} golden decisions" in capsys.readouterr().out
    assert main(["golden", "--log", str(path)]) == 2  # never appends to an existing log
    return path


def test_the_gate_passes_on_the_tree_and_fails_on_a_changed_data_file(golden_log, tmp_path, capsys):
    code, out, _ = run(capsys, "replay", "--db", str(golden_log), "--fail-on", "changed")
    assert code == 0, out
    n = japan_cells()
    assert out.strip().endswith(
        f"{n} decisions: {n} unchanged, 0 tightened, 0 loosened, 0 with other reasons, 0 errors"
    )

    data = tmp_path / "adequacy_data"
    shutil.copytree(REPO / "adequacy_data", data)
    text = (data / "adequacy.yaml").read_text(encoding="utf-8")
    marker = "  - id: jp-2019-419\n"
    assert marker in text
    head, tail = text.split(marker)
    ended = tail.replace(
        "    applies_from: 2019-01-23\n", "    applies_from: 2019-01-23\n    invalidated: 2022-01-01\n", 1
    )
    (data / "adequacy.yaml").write_text(head + marker + ended, encoding="utf-8")

    argv = ["replay", "--db", str(golden_log), "--data-path", str(data), "--fail-on", "changed"]
    code, out, _ = run(capsys, *argv)
    assert code == 10
    lines = out.splitlines()
    assert lines and all(" JP " in line for line in lines[:-1])
    assert all(("2023-08-01" in line or "2026-" in line) for line in lines[:-1])  # only after the end
    assert "tightened" in out and "allow -> conditions" in out
