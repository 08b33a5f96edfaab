"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against a real
`doorgifte serve` on 127.0.0.1 with a tokens file and a log filled as `make demo` fills it.

Chromium is never downloaded: Playwright starts /usr/bin/chromium (`make test` installs
Debian's package when it is missing). Without it these tests skip with the reason, unless
DOORGIFTE_REQUIRE_BROWSER=1 (set by `make test`, so CI fails instead of skipping).
Screenshots go to DOORGIFTE_SCREENSHOTS (default var/screenshots; `make screenshots` writes
the ones in docs/screenshots).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support import DOORGIFTE, REPO, Server

CHROMIUM = Path(os.environ.get("DOORGIFTE_CHROMIUM", "/usr/bin/chromium"))
#: as the machine notes say: no background connections (the network is closed), no sandbox as root
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "browser-test-token-6d0c"
EXPORTER = "Gemeente Utrecht"
#: a US recipient on the EU-US DPF listing: the flow the DPF scenario flips
DPF_FLOW = {
    "reference": "crm-us",
    "exporter": {"name": EXPORTER, "country": "NL", "public_body": True},
    "recipient": {
        "name": "Acme Inc.",
        "role": "processor",
        "country": "US",
        "certifications": ["eu-us-dpf"],
        "agreement": {"dpa": {"signed": True}},
    },
}


def screenshots() -> Path:
    folder = Path(os.environ.get("DOORGIFTE_SCREENSHOTS") or REPO / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fill_like_make_demo(db: str) -> None:
    """The example vendors, decided for a municipality under two policies: `make demo`'s steps."""
    env = {**os.environ, "DOORGIFTE_DB": db}
    steps = [
        ["vendor", "import", "docs/examples/github-2026-01-27.yaml", "vendors/"],
        [
            "vendor",
            "decide",
            "--all",
            "--exporter",
            EXPORTER,
            "--public-body",
            "--policy",
            "gdpr",
            "--policy",
            "nl-gov",
        ],
    ]
    for step in steps:
        done = subprocess.run(
            [str(DOORGIFTE), *step], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode in (0, 10, 20), done.stderr


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server, signed-in token `browser` (admin), the demo data and one DPF flow."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM} (make test installs Debian's chromium package)"
        if os.environ.get("DOORGIFTE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("browser")
    db = str(folder / "decisions.sqlite3")
    _fill_like_make_demo(db)
    tokens = folder / "tokens.json"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    tokens.write_text(json.dumps([{"name": "browser", "sha256": digest, "scopes": ["admin"]}]))
    server = Server(db, env={"DOORGIFTE_TOKENS_FILE": str(tokens)}).start()
    answer = requests.post(server.url + "/v1/decisions", json=DPF_FLOW, headers=bearer(), timeout=30)
    assert answer.status_code == 200, answer.text
    yield server
    server.close()


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def browser(demo: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
