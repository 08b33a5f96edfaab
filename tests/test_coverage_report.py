"""The coverage lines `make test` prints (tests/coverage_report.py)."""

import json

from tests.coverage_report import main, summary


def report(total: float) -> dict:
    def file(percent: float, missing: int) -> dict:
        return {"summary": {"percent_covered": percent, "missing_lines": missing}}

    files = {"engine/a.py": file(100.0, 0), "service/b.py": file(50.0, 7)}
    return {"summary": {"percent_covered": total}, "files": files}


def test_the_total_is_judged_against_the_floor_and_the_least_covered_come_first():
    passed, failed = summary(report(96.5), 96), summary(report(95.9), 96)
    assert passed[0].endswith(": ok") and "96.5 %" in passed[0]
    assert "FAILED: below the floor of 96 %" in failed[0]
    assert "service/b.py (7 lines not run)" in passed[1] and "engine/a.py" in passed[2]


def test_a_missing_report_is_said_and_fails(tmp_path, capsys):
    assert main([str(tmp_path / "none.json"), "96"]) == 1
    assert "no coverage report" in capsys.readouterr().out


def test_the_exit_status_is_the_verdict(tmp_path):
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps(report(96.5)))
    assert main([str(path), "96"]) == 0
    path.write_text(json.dumps(report(95.9)))
    assert main([str(path), "96"]) == 1
