"""The few lines `make test` prints of slipcover's JSON report: the total against the floor and
the least covered modules (the whole report stays in var/coverage.json); exit status 1 below
the floor or without a report.

    python -m tests.coverage_report var/coverage.json 96
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SHOWN = 5


def summary(report: dict, floor: float) -> list[str]:
    total = report["summary"]["percent_covered"]
    verdict = "ok" if total >= floor else f"FAILED: below the floor of {floor:g} %"
    lines = [f"line coverage of engine/ and service/: {total:.1f} % (floor {floor:g} %): {verdict}"]
    files = sorted(report["files"].items(), key=lambda item: item[1]["summary"]["percent_covered"])
    for name, found in files[:SHOWN]:
        s = found["summary"]
        lines.append(f"  {s['percent_covered']:5.1f} %  {name} ({s['missing_lines']} lines not run)")
    return lines


def main(argv: list[str]) -> int:
    path, floor = Path(argv[0]), float(argv[1])
    if not path.is_file():
        print(f"no coverage report at {path}: the test run stopped before writing it")
        return 1
    report = json.loads(path.read_text())
    print("\n".join(summary(report, floor)))
    return 0 if report["summary"]["percent_covered"] >= floor else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
