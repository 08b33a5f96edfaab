"""An organisation's own profile, in its own directory, takes effect after a restart."""

from __future__ import annotations

import textwrap

import requests

from tests.e2e.support import Server

PROFILE = textwrap.dedent(
    """\
    id: nl-only
    version: "1"
    title: GDPR, and personal data stays in the Netherlands
    extends: gdpr
    settings:
      home_country: "NL"
    rules:
      - id: nl_only.location.outside_nl
        title: No processing outside the Netherlands
        scope: location
        basis: [Board decision 2026-04]
        when: {outside_home_country: true}
        then: {effect: deny, code: policy.outside_nl}
    messages:
      policy.outside_nl:
        en: "Personal data stays in the Netherlands: {party} may not process it at {location}."
        nl: "Persoonsgegevens blijven in Nederland: {party} mag ze niet verwerken in {location}."
    """
)
FLOW = {
    "as_of": "2026-11-22",
    "policy": "nl-only",
    "exporter": {"name": "Gemeente", "country": "NL", "public_body": True},
    "recipient": {
        "name": "Hosting BE",
        "role": "processor",
        "country": "BE",
        "agreement": {"dpa": {"signed": True}},
    },
}


def _decide(server: Server) -> requests.Response:
    return requests.post(server.url + "/v1/decisions", json=FLOW, timeout=10)


def test_a_custom_deny_rule_takes_effect_after_restart(db, tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    env = {"DOORGIFTE_POLICY_PATH": str(policies)}
    before = Server(db, env=env).start()
    try:
        unknown = _decide(before)
        assert unknown.status_code == 422 and "policy" in unknown.text
    finally:
        before.close()

    (policies / "nl-only.yaml").write_text(PROFILE)
    after = Server(db, env=env).start()
    try:
        answer = _decide(after)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["decision"] == "deny"
        assert [(d["code"], d["party"], d["location"]) for d in body["denials"]] == [
            ("policy.outside_nl", "Hosting BE", "BE")
        ]
        listed = requests.get(after.url + "/v1/policies/nl-only", timeout=10).json()
        assert [r["id"] for r in listed["rules"]][-1] == "nl_only.location.outside_nl"
        at_home = requests.post(
            after.url + "/v1/decisions",
            json={**FLOW, "recipient": {**FLOW["recipient"], "country": "NL"}},
            timeout=10,
        ).json()
        assert at_home["decision"] == "allow"
    finally:
        after.close()
