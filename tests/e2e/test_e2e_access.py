"""Access control over a real server (SPEC section 15): a tokens file, 401 without a token,
200 with one, the token's name in the decision log and never the token in the server's log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import requests

from tests.e2e.support import FLOWS, Server, assert_problem, log_export

TOKEN = "e2e-token-5f1c0d9a"


def test_a_server_with_a_tokens_file(tmp_path: Path, db: str) -> None:
    tokens = tmp_path / "tokens.json"
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    tokens.write_text(json.dumps([{"name": "ci", "sha256": digest, "scopes": ["decide", "read"]}]))
    server = Server(db, env={"DOORGIFTE_TOKENS_FILE": str(tokens)}).start()  # /readyz stays open
    try:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        denied = requests.post(server.url + "/v1/decisions", json=FLOWS["allow"], timeout=10)
        assert_problem(denied, 401, "unauthorized")
        assert denied.headers["WWW-Authenticate"].startswith("Bearer")
        answer = requests.post(server.url + "/v1/decisions", json=FLOWS["allow"], headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        decision_id = answer.json()["decision_id"]
        logged = requests.get(f"{server.url}/v1/decisions/{decision_id}", headers=auth, timeout=10)
        assert logged.status_code == 200 and logged.json()["log"]["token_name"] == "ci"
        put = requests.put(server.url + "/v1/vendors/x", json={}, headers=auth, timeout=10)
        assert_problem(put, 403, "forbidden")
        assert requests.get(server.url + "/metrics", timeout=10).status_code == 200
    finally:
        server.stop()
    assert [e["token_name"] for e in log_export(db)] == ["ci"]
    log = server.stderr_path.read_text(encoding="utf-8")
    assert '"token": "ci"' in log and TOKEN not in log
    server.close()
