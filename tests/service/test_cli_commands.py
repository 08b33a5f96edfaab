"""The `doorgifte` command: exit statuses and output of every subcommand.

Most tests call `main(argv)` in-process with the session's engine (loading it
again per command would only cost time); the installed entry point and the real
engine loading are exercised through subprocesses at the end.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import engine.golden
from engine.errors import EngineError
from service import cli, commands
from service.decision_log import COLUMNS, SqliteLog
from tests.conftest import REVIEWED_ON, TODAY, UK_VIA_DUTCH_PROCESSOR

DOORGIFTE = Path(sys.executable).parent / "doorgifte"
REAL_LOAD_ENGINE = commands.load_engine


@pytest.fixture(autouse=True)
def session_engine(engine, monkeypatch):
    monkeypatch.setattr(commands, "load_engine", lambda config: engine)
    monkeypatch.delenv("DOORGIFTE_POLICY_PATH", raising=False)
    monkeypatch.delenv("DOORGIFTE_DB", raising=False)


def run(capsys: Any, *argv: str, stdin: str | None = None, monkeypatch: Any = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def flow_file(tmp_path, flows):
    def write(name: str, flow: Any = None) -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(flows[name] if flow is None else flow))
        return str(path)

    return write


# ---------------------------------------------------------------- evaluate


@pytest.mark.parametrize(("name", "status"), [("allow", 0), ("conditions", 10), ("deny", 20), ("invalid", 2)])
def test_evaluate_exit_status_follows_the_decision(capsys, flow_file, name, status):
    code, out, err = run(capsys, "evaluate", flow_file(name))
    assert code == status
    if status == 2:
        assert out == "" and "recipient.country: unknown country 'Atlantis'" in err
    else:
        assert json.loads(out)["decision"] == name


def test_evaluate_reads_stdin(capsys, flows, monkeypatch):
    code, out, _ = run(capsys, "evaluate", "-", stdin=json.dumps(flows["deny"]), monkeypatch=monkeypatch)
    assert code == 20 and json.loads(out)["denials"][0]["code"] == "transfer.no_effective_measures"
    code, out, _ = run(capsys, "evaluate", stdin=json.dumps(flows["allow"]), monkeypatch=monkeypatch)
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["evaluate", "/no/such/file.json"], None, "cannot read"),
        (["evaluate", "-"], "{not json", "malformed JSON"),
        (["evaluate", "-"], "", "empty"),
        (["evaluate", "-"], "[1]", "invalid request"),
    ],
)
def test_evaluate_invalid_input_is_status_2(capsys, monkeypatch, argv, stdin, message):
    code, out, err = run(capsys, *argv, stdin=stdin, monkeypatch=monkeypatch)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize(
    "argv", [["evaluate", "--as-of", "2017-01-01"], ["evaluate", "--format", "xml"], ["nope"]]
)
def test_usage_errors_are_status_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2


def test_evaluate_internal_error_is_status_1(capsys, flow_file, engine, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise EngineError("no rule decided")

    monkeypatch.setattr(engine.rules, "fire", broken)
    code, out, err = run(capsys, "evaluate", flow_file("allow"))
    assert code == 1 and out == "" and "internal error" in err


def test_evaluate_options_override_the_request(capsys, flow_file):
    code, out, _ = run(capsys, "evaluate", flow_file("allow"), "--as-of", "2020-01-01", "--lang", "nl")
    body = json.loads(out)
    assert code == 0 and body["as_of"] == "2020-01-01"
    code, out, _ = run(capsys, "evaluate", flow_file("conditions"), "--policy", "eu-residency")
    assert code == 20 and json.loads(out)["policy"]["id"] == "eu-residency"


def test_evaluate_text_format_reads_as_hops_findings_and_assumptions(capsys, flow_file):
    code, out, _ = run(capsys, "evaluate", flow_file("chain"), "--format", "text")
    assert code == 10
    lines = out.splitlines()
    assert lines[0] == "decision: conditions"
    assert "hop 1: Stadtwerke Beispiel GmbH -> Lakeside SaaS Inc" in lines
    assert "hop 2: Stadtwerke Beispiel GmbH -> Lakeside SaaS Inc -> Monterrey Soporte SA" in lines
    assert "  role: processor; decision: conditions" in lines
    scc = next(line for line in lines if "condition transfer.sign_scc:" in line)
    assert (
        scc.startswith("    condition transfer.sign_scc: ")
        and scc.endswith("]")
        and "GDPR Art. 46(2)(c)" in scc
    )
    assert "assumptions:" in lines
    assert any(line.startswith("  assume.dpf_certification (Lakeside SaaS Inc") for line in lines)


# ---------------------------------------------------------------- check, test-policy, golden


def test_check_summarises_a_valid_rule_base(capsys):
    code, out, _ = run(capsys, "check", "--as-of", REVIEWED_ON.isoformat())
    assert code == 0
    assert out.startswith("ok: 4 policy profiles") and "reference data" in out


def test_check_names_facts_not_reviewed_within_a_year(capsys):
    later = TODAY + dt.timedelta(days=500)
    code, out, err = run(capsys, "check", "--as-of", later.isoformat())
    assert code == 1 and "problem(s)" in err
    assert "not reviewed within 365 days: eea: last reviewed" in out
    assert "adequacy decision " in out and "regions of aws" in out


def test_check_lists_every_problem_with_file_and_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(commands, "load_engine", REAL_LOAD_ENGINE)
    bad = tmp_path / "mine"
    bad.mkdir()
    (bad / "broken.yaml").write_text(
        "id: broken\nversion: '1'\ntitle: Broken\nextends: gdpr\nrules:\n  - id: x\n"
    )
    monkeypatch.setenv("DOORGIFTE_POLICY_PATH", str(bad))
    code, out, err = run(capsys, "check", "--as-of", TODAY.isoformat())
    assert code == 1
    assert f"{bad / 'broken.yaml'}:6: " in out
    assert "problem(s)" in err


def test_test_policy_runs_the_shipped_cases(capsys):
    code, out, _ = run(capsys, "test-policy")
    assert out.rstrip().splitlines()[-1].endswith(" 0 failed")
    assert code == 0


def test_test_policy_reports_failures_with_expected_and_actual(capsys, tmp_path):
    cases = tmp_path / "eu-residency.cases.yaml"
    cases.write_text(
        "cases:\n"
        "  - id: wrongly-expected\n"
        "    note: a case that expects allow where the policy denies\n"
        "    flow: {as_of: 2026-11-22, exporter: {name: A, country: DE},"
        " recipient: {name: B, role: processor, country: US, agreement: {dpa: {signed: true}}}}\n"
        "    expect: {decision: allow}\n"
    )
    code, out, _ = run(capsys, "test-policy", str(tmp_path))
    assert code == 1
    assert f"FAIL {cases} wrongly-expected" in out
    assert "decision: expected allow, got deny" in out
    assert "uncovered rules in gdpr" not in out  # coverage only for the profiles the cases ran under
    nl_gov = tmp_path / "nl-gov.cases.yaml"
    nl_gov.write_text(
        cases.read_text().replace("wrongly-expected", "other").replace("country: US", "country: BE")
    )
    code, out, _ = run(capsys, "test-policy", str(nl_gov))
    assert code == 1 and "uncovered rules in nl-gov" in out and "nl_gov.disclosure.not_agreed" in out


def test_golden_write_then_check_then_a_difference(capsys, tmp_path, monkeypatch):
    golden = tmp_path / "golden.json"
    monkeypatch.setattr(engine.golden, "GOLDEN_PATH", golden)
    # the commands over three countries (the whole matrix is checked by test_golden_matrix_is_current)
    monkeypatch.setattr(engine.golden, "countries", lambda engine: ["NL", "JP", "US"])
    assert run(capsys, "golden", "--check")[0] == 1  # nothing committed yet
    assert run(capsys, "golden", "--write")[0] == 0
    code, out, _ = run(capsys, "golden", "--check")
    assert code == 0 and "unchanged" in out
    golden.write_text(golden.read_text().replace('"allow"', '"deny"', 1).replace("allow", "deny", 1))
    code, out, _ = run(capsys, "golden", "--check")
    assert code == 1 and out.startswith("---") and "\n-" in out and "\n+" in out


# ---------------------------------------------------------------- reference tables


def test_countries_table(capsys):
    code, out, _ = run(capsys, "countries", "--as-of", "2025-03-15")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "countries as of 2025-03-15"
    assert lines[1].split() == ["country", "name", "zone", "eea", "transfer", "adequacy", "decision"]
    nl = next(line for line in lines if line.startswith("NL "))
    assert nl.split()[-4:] == ["eea", "yes", "no", "-"]
    columns = lines[1].index("zone")
    assert all(line[columns - 2 : columns] == "  " for line in lines[3:])  # aligned


def test_region_table_for_one_region(capsys):
    code, out, _ = run(capsys, "region", "gcp", "europe-west1", "--as-of", "2025-03-15")
    rows = dict(line.split(None, 1) for line in out.splitlines()[2:])
    assert code == 0
    assert rows["country"] == "BE" and rows["zone"] == "eea" and rows["usable"] == "yes"


def test_region_table_for_a_provider_lists_usability_and_reasons(capsys, engine):
    code, out, _ = run(capsys, "region", "aws", "--as-of", "2025-03-15", "--policy", "eu-residency")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 + len(engine.reference.region_ids("aws"))
    us = next(line for line in lines if line.startswith("us-east-1 "))
    assert us.split()[-2] == "no" and "policy.location_outside_eea" in us.split()[-1].split(",")
    frankfurt = next(line for line in lines if line.startswith("eu-central-1 "))
    assert frankfurt.split()[-2:] == ["yes", "-"]


def test_tables_seen_from_the_uk(capsys):
    """`--regime uk_gdpr`: transfer and adequacy as the UK's law reads them (SPEC section 4a)."""
    code, out, _ = run(capsys, "countries", "--as-of", "2025-03-15", "--regime", "uk_gdpr")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "countries as of 2025-03-15, seen from uk_gdpr"
    gi = next(line for line in lines if line.startswith("GI "))
    assert "yes" in gi.split() and "Sch 21 para 5 (Gibraltar)" in gi
    code, out, _ = run(capsys, "region", "aws", "us-east-1", "--as-of", "2025-03-15", "--regime", "uk_gdpr")
    rows = dict(line.split(None, 1) for line in out.splitlines()[2:])
    assert code == 0 and rows["regime"] == "uk_gdpr"
    assert rows["reasons"] == "transfer.assess_risk,transfer.sign_idta"
    code, _, err = run(capsys, "countries", "--regime", "uk-gdpr")
    assert code == 2 and "uk_gdpr" in err


@pytest.mark.parametrize(
    ("argv", "hint"), [(["region", "awz"], "aws"), (["region", "aws", "eu-west-9"], "eu-west")]
)
def test_region_unknown_is_status_2_with_a_hint(capsys, argv, hint):
    code, _, err = run(capsys, *argv)
    assert code == 2 and hint in err


# ---------------------------------------------------------------- log export


def test_log_export_writes_json_lines_since_a_time(capsys, tmp_path):
    from tests.service.test_decision_log import entry

    db = tmp_path / "log.sqlite3"
    log = SqliteLog(db)
    log.write([entry(1, "2026-01-01T10:00:00.000000Z"), entry(2, "2026-02-01T10:00:00.000000Z")])
    log.close()
    code, out, _ = run(capsys, "log", "export", "--db", str(db))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["request"] for line in lines] == [{"n": 1}, {"n": 2}]
    assert set(lines[0]) == set(COLUMNS)  # every column of the log, request and response decoded
    assert isinstance(lines[0]["response"], dict) and lines[0]["labels"] == {}
    code, out, _ = run(capsys, "log", "export", "--db", str(db), "--since", "2026-01-15")
    assert [json.loads(line)["request"] for line in out.splitlines()] == [{"n": 2}]


def test_log_export_of_a_missing_log_fails_without_creating_it(capsys, tmp_path):
    db = tmp_path / "none.sqlite3"
    code, _, err = run(capsys, "log", "export", "--db", str(db))
    assert code == 1 and "no decision log" in err and not db.exists()


def test_log_export_reads_doorgifte_db(capsys, tmp_path, monkeypatch):
    from tests.service.test_decision_log import entry

    db = tmp_path / "env.sqlite3"
    SqliteLog(db).write([entry(7)])
    monkeypatch.setenv("DOORGIFTE_DB", str(db))
    code, out, _ = run(capsys, "log", "export")
    assert code == 0 and json.loads(out)["request"] == {"n": 7}


def test_serve_refuses_an_unusable_db_setting(capsys, monkeypatch):
    monkeypatch.setenv("DOORGIFTE_DB", ":memory:")
    code, _, err = run(capsys, "serve", "--port", "1")
    assert code == 2 and "needs a file path" in err


def test_bad_configuration_is_status_2(capsys, monkeypatch):
    monkeypatch.setenv("DOORGIFTE_MAX_BODY", "lots")
    code, _, err = run(capsys, "check")
    assert code == 2 and "DOORGIFTE_MAX_BODY" in err


# ---------------------------------------------------------------- the installed command


@pytest.mark.parametrize(("name", "status"), [("conditions", 10), ("invalid", 2)])
def test_installed_command_exit_statuses(flow_file, name, status):
    result = subprocess.run([str(DOORGIFTE), "evaluate", flow_file(name)], capture_output=True, timeout=60)
    assert result.returncode == status, result.stderr.decode()


def test_installed_evaluate_applies_the_chain_limits_of_the_environment(flow_file):
    """DOORGIFTE_MAX_DEPTH and DOORGIFTE_MAX_NODES reach the engine the command loads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORGIFTE_")}
    argv = [str(DOORGIFTE), "evaluate", flow_file("chain")]  # two recipients, depth 2
    for extra, message in (
        ({"DOORGIFTE_MAX_DEPTH": "1"}, "exceeds the limit of depth 1"),
        ({"DOORGIFTE_MAX_NODES": "1"}, "exceeds the limit of 1 recipient nodes"),
    ):
        result = subprocess.run(argv, capture_output=True, timeout=60, env={**env, **extra})
        assert result.returncode == 2 and message in result.stderr.decode(), result.stderr.decode()
    assert subprocess.run(argv, capture_output=True, timeout=60, env=env).returncode == 10  # conditions


def test_evaluate_text_names_the_law_of_the_decision_and_of_a_hop_under_another(capsys, tmp_path):
    """A UK exporter's Dutch processor sends the data on: the text says UK GDPR for the decision
    and, on the onward hop only, the GDPR (SPEC section 4a)."""
    path = tmp_path / "uk.json"
    path.write_text(json.dumps(UK_VIA_DUTCH_PROCESSOR))
    code, out, _ = run(capsys, "evaluate", str(path), "--format", "text")
    lines = out.splitlines()
    assert code == 10 and "; law UK GDPR; policy gdpr " in lines[1]
    roles = [line for line in lines if line.startswith("  role: ")]
    assert roles == [
        "  role: processor; decision: allow",
        "  role: processor; law: GDPR; decision: conditions",
    ]


def test_evaluate_text_in_dutch_with_combined_profiles():
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "vendor-chain.json"
    argv = [str(DOORGIFTE), "evaluate", str(example), "--format", "text", "--lang", "nl"]
    result = subprocess.run(
        [*argv, "--policy", "nl-gov,eu-residency"], capture_output=True, timeout=60, text=True
    )
    assert result.returncode == 20, result.stderr  # deny under eu-residency
    out = result.stdout
    assert out.startswith("besluit: niet toegestaan")
    assert "beleid eu-residency+nl-gov" in out and "te doen:" in out
    assert "rol: verwerker" in out and "geen doorgifte" in out and "in de Verenigde Staten" in out
    assert "; recht AVG; beleid" in out


# ---------------------------------------------------------------- vendors


@dataclasses.dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def vendor(capsys, monkeypatch):
    """`doorgifte vendor ...` run in this process (as the installed command would) on a log."""

    def call(*args: str, db: Path) -> Ran:
        monkeypatch.setenv("DOORGIFTE_DB", str(db))
        code, out, err = run(capsys, "vendor", *args)
        return Ran(code, out, err)

    return call


def test_vendor_import_reports_new_changed_and_unchanged(tmp_path, vendor):
    db = tmp_path / "log.sqlite3"
    vendors_dir = Path(__file__).resolve().parents[2] / "vendors"
    first = vendor("import", str(vendors_dir), db=db)
    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.splitlines()) == [
        "github: new (revision 1)",
        "openproject: new (revision 1)",
        "plausible: new (revision 1)",
    ]
    again = vendor("import", str(vendors_dir / "github.yaml"), db=db)
    assert again.stdout.strip() == "github: unchanged (revision 1)"
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (vendors_dir / "plausible.yaml").read_text().replace("country: FI", "country: Atlantis")
    )
    refused = vendor("import", str(broken), db=db)
    assert refused.returncode == 2 and "broken.yaml:" in refused.stderr and "Atlantis" in refused.stderr


def test_vendor_import_list_and_review_exit_statuses(tmp_path, vendor):
    db = tmp_path / "log.sqlite3"
    acme = Path(__file__).parent / "data" / "vendor-acme.yaml"
    assert vendor("import", str(acme), db=db).returncode == 0
    listed = tmp_path / "list.csv"
    rows = ["name,purpose,locations,entity_country", "Acme Inc.,support,US;IE,US", "SMS Co,sms,BR,BR"]
    listed.write_text("\n".join([*rows, "Bad Co,x,Atlantis,US"]) + "\n")
    refused = vendor("import-list", "--vendor", "acme-crm", str(listed), db=db)
    assert (
        refused.returncode == 2 and f"{listed}:4:" in refused.stderr and "nothing imported" in refused.stderr
    )
    listed.write_text(listed.read_text().replace("Bad Co,x,Atlantis,US\n", ""))
    imported = vendor("import-list", "--vendor", "acme-crm", str(listed), db=db)
    assert imported.returncode == 0 and "revision 2" in imported.stdout
    review = [
        "review",
        "acme-crm",
        "--exporter",
        "Gemeente Utrecht",
        "--public-body",
        "--as-of",
        "2026-11-22",
    ]
    accept = vendor(*review, "--notified-on", "2026-11-20", db=db)
    assert accept.returncode == 10, accept.stderr  # accept with conditions
    assert "object by 2026-12-20" in accept.stdout and "added: SMS Co" in accept.stdout
    as_json = json.loads(vendor(*review, "--format", "json", db=db).stdout)
    assert as_json["verdict"] == "accept_with_conditions"
    objected = vendor(*review, "--policy", "eu-residency", db=db)
    assert objected.returncode == 20 and "new denial" in objected.stdout
    json_list = tmp_path / "list.json"
    entries = [
        {"name": "Acme Inc.", "purpose": "support", "locations": ["US"], "entity_country": "US"},
        {"name": "X", "purpose": "", "locations": "Narnia", "entity_country": "US"},
    ]
    json_list.write_text("[\n" + ",\n".join(" " + json.dumps(e) for e in entries) + "\n]\n")
    bad_json = vendor("import-list", "--vendor", "acme-crm", str(json_list), db=db)
    assert bad_json.returncode == 2 and f"{json_list}:3:" in bad_json.stderr


def test_vendor_import_list_reads_published_shapes(tmp_path, vendor):
    """A markdown table as vendors publish it, and a subprocessors.json with their own keys."""
    db = tmp_path / "log.sqlite3"
    assert vendor("import", str(Path(__file__).parent / "data" / "vendor-acme.yaml"), db=db).returncode == 0
    page = tmp_path / "subprocessors.md"
    page.write_text(
        "# Our sub-processors\n\n"
        "| Name | Description of Processing | Location of Processing | Corporate Location |\n"
        "|---|---|---|---|\n"
        "| Acme Inc. | Support | United States, Ireland | United States |\n"
        "| Mail Relay GmbH | E-mail delivery | Germany and Netherlands | Germany |\n"
    )
    imported = vendor("import-list", "--vendor", "acme-crm", str(page), db=db)
    assert imported.returncode == 0, imported.stderr
    shown = vendor("review", "acme-crm", "--exporter", "X", "--format", "json", db=db)
    changes = {c["party"]: c for c in json.loads(shown.stdout)["changes"]}
    assert changes["Mail Relay GmbH"]["change"] == "added"
    assert changes["Mail Relay GmbH"]["locations"] == ["Germany", "Netherlands"]
    assert changes["Acme Inc."]["after"] == ["United States", "Ireland"]
    trust = tmp_path / "subprocessors.json"
    trust.write_text(
        json.dumps([{"entity": "Acme Inc.", "services": "support", "data location": ["US"], "country": "US"}])
    )
    assert vendor("import-list", "--vendor", "acme-crm", str(trust), db=db).returncode == 0
    nameless = tmp_path / "bad.csv"
    nameless.write_text("what,where\nA,B\n")
    refused = vendor("import-list", "--vendor", "acme-crm", str(nameless), db=db)
    assert refused.returncode == 2 and "a name and a country column" in refused.stderr


def test_vendor_decide_logs_one_decision_per_vendor_and_policy(tmp_path, vendor):
    db = tmp_path / "log.sqlite3"
    repo = Path(__file__).resolve().parents[2]
    assert (
        vendor(
            "import", str(repo / "docs/examples/github-2026-01-27.yaml"), str(repo / "vendors"), db=db
        ).returncode
        == 0
    )
    customer = ["--exporter", "Gemeente Utrecht", "--public-body"]
    assert vendor("decide", *customer, db=db).returncode == 2  # no vendor named, no --all
    missing = vendor("decide", "nobody", *customer, db=db)
    assert missing.returncode == 2 and "no vendor 'nobody'" in missing.stderr
    dry = vendor("decide", "plausible", *customer, "--dry-run", db=db)
    assert "not logged" in dry.stdout
    done = vendor("decide", "--all", *customer, "--policy", "gdpr", "--policy", "nl-gov", db=db)
    lines = done.stdout.splitlines()
    assert len(lines) == 6 and "github r2 gdpr:" in done.stdout and "plausible r1 nl-gov:" in done.stdout
    outcomes = [line.split(": ")[1].split(" ")[0] for line in lines]
    assert done.returncode == max({"allow": 0, "conditions": 10, "deny": 20}[o] for o in outcomes)
    log = SqliteLog(db)
    try:
        logged = list(log.entries())
    finally:
        log.close()
    assert len(logged) == 6  # the dry run was not logged
    assert {(e.vendor_id, e.policy_id) for e in logged} == {
        (v, p) for v in ("github", "openproject", "plausible") for p in ("gdpr", "nl-gov")
    }
    assert all(e.vendor_revision == ("2" if e.vendor_id == "github" else "1") for e in logged)
    for entry in logged:  # asked with a horizon, whose date the log keeps beside the answer
        assert entry.changes_on == (json.loads(entry.response)["horizon"] or {}).get("changes_on")
