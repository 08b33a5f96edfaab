"""Where the project's shipped data is: `policies/`, `adequacy_data/`, `scenarios/`.

Beside the packages in a checkout or an editable install; inside the `engine` package
(`engine/_policies`, ... as package data, see pyproject.toml) when installed from a wheel, so
that `pip install .` outside the checkout gives a working `doorgifte check` and decisions.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    beside = HERE.parent / name
    return beside if beside.is_dir() else HERE / f"_{name}"


POLICIES_DIR = shipped("policies")
DATA_DIR = shipped("adequacy_data")
SCENARIOS_DIR = shipped("scenarios")
