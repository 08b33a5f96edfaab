"""The engine works from a non-editable install (issue 15): the wheel carries the rule base,
the reference data and the scenarios as package data (engine/_policies, ...), and a decision
and `doorgifte check` work outside the checkout, with the checkout's rule-base version."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REVIEWED_ON

ROOT = Path(__file__).resolve().parents[1]
#: what the wheel is built from (pyproject.toml names each); copied, so that the build's own
#: `build/` and `*.egg-info` folders are written in the test's folder, never in the checkout
SOURCES = ("pyproject.toml", "README.md", "engine", "service", "policies", "adequacy_data", "scenarios")
IGNORED = shutil.ignore_patterns("__pycache__")
FLOW = {
    "exporter": {"name": "Gemeente Utrecht", "country": "NL"},
    "recipient": {
        "name": "Acme",
        "role": "processor",
        "country": "US",
        "agreement": {"dpa": {"signed": True}},
    },
}


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_decides(tmp_path, engine):
    target, source = tmp_path / "site", tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=IGNORED)
        else:
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert (target / "engine" / "_policies" / "gdpr" / "profile.yaml").is_file()
    assert (target / "engine" / "_adequacy_data" / "regions" / "aws.yaml").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("DOORGIFTE_DATA_PATH", None)

    def doorgifte(*args: str, given: str = "") -> subprocess.CompletedProcess[str]:
        code = "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            input=given,
            capture_output=True,
            text=True,
            cwd=tmp_path,  # not the checkout: nothing can be found beside the packages there
            env=env,
            timeout=120,
        )

    where = subprocess.run(
        [sys.executable, "-c", "import engine.paths as p; print(p.POLICIES_DIR)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert where.stdout.strip() == str(target / "engine" / "_policies")
    checked = doorgifte("check", "--as-of", REVIEWED_ON.isoformat())
    assert checked.returncode == 0 and checked.stdout.startswith("ok: 4 policy profiles"), checked.stderr
    decided = doorgifte("evaluate", given=json.dumps(FLOW))
    answer = json.loads(decided.stdout)
    assert decided.returncode == 10 and answer["decision"] == "conditions"
    expected = engine.evaluate(FLOW)
    assert answer["policy"]["version"] == expected.policy.version
    assert answer["reference_data"]["version"] == expected.reference_data.version
