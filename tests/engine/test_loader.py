"""Loading policies: a broken rule file is refused with file and line; custom profiles work."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from engine.api import Engine
from engine.errors import LoadError
from engine.loader import POLICIES_DIR, load_policies
from tests.conftest import TODAY, flow

RULE = """\
id: custom
version: "1"
title: Custom
extends: gdpr
rules:
  - id: custom.rule
    title: A custom rule
    scope: location
    basis: [Policy custom]
    when: {WHEN}
    then: {THEN}
messages:
  policy.custom_denied:
    en: "No {party} at {location}."
    nl: "Geen {party} in {location}."
"""


def _profile(
    tmp_path: Path,
    when: str = "{zone: third_country}",
    then: str = "{effect: deny, code: policy.custom_denied}",
) -> Path:
    directory = tmp_path / "custom"
    directory.mkdir(exist_ok=True)
    (directory / "custom.yaml").write_text(RULE.replace("{WHEN}", when).replace("{THEN}", then))
    return directory


def _problems(tmp_path: Path, **kw: str) -> str:
    with pytest.raises(LoadError) as info:
        load_policies([POLICIES_DIR, _profile(tmp_path, **kw)])
    return str(info.value)


def test_shipped_profiles_load():
    policies = load_policies([POLICIES_DIR])
    assert set(policies.profiles) == {"gdpr", "nl-gov", "eu-residency", "sensitive-in-eea"}
    assert policies.profiles["nl-gov"].settings.home_country == "NL"
    assert re.match(r"^2026\.11\.0\+[0-9a-f]{8}$", policies.profiles["gdpr"].version)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"when": "{zonee: third_country}"}, "unknown location fact 'zonee'; did you mean 'zone'"),
        ({"when": "{transfer: 'yes'}"}, "fact 'transfer' is a boolean"),
        ({"when": "{zone: mars}"}, "fact 'zone' is one of"),
        ({"when": "{required_module: true}"}, "fact 'required_module' is a number"),
        (
            {"then": "{effect: deny, code: transfer.made_up}"},
            "denial code 'transfer.made_up' is not in the contract",
        ),
        (
            {"then": "{effect: condition, code: policy.no_message, actor: exporter}"},
            "no 'en' message for code 'policy.no_message'",
        ),
        (
            {"then": "{effect: deny, code: policy.custom_denied, params: {x: $nothing}}"},
            "unknown fact $nothing",
        ),
        ({"then": "{effect: maybe, code: policy.custom_denied}"}, "effect"),
        ({"when": "{zone: {between: [1, 2]}}"}, "an operator on 'zone' is one of not, in, not_in"),
    ],
)
def test_broken_rule_names_file_and_line(tmp_path, kw, message):
    text = _problems(tmp_path, **kw)
    assert message in text
    assert re.search(r"custom\.yaml:\d+:", text), text


def test_yaml_syntax_error_has_a_line(tmp_path):
    directory = _profile(tmp_path)
    (directory / "custom.yaml").write_text("id: custom\nrules: [\n  - oops: {\n")
    with pytest.raises(LoadError) as info:
        load_policies([POLICIES_DIR, directory])
    assert re.search(r"custom\.yaml:\d+: YAML syntax", str(info.value))


def test_unknown_parent_and_duplicate_rule(tmp_path):
    directory = _profile(tmp_path)
    text = (directory / "custom.yaml").read_text()
    (directory / "custom.yaml").write_text(text.replace("extends: gdpr", "extends: gdrp"))
    with pytest.raises(LoadError, match="extends unknown profile 'gdrp'.*did you mean 'gdpr'"):
        load_policies([POLICIES_DIR, directory])
    (directory / "custom.yaml").write_text(text.replace("id: custom.rule", "id: transfer.safeguard.missing"))
    with pytest.raises(LoadError, match="duplicate rule id 'transfer.safeguard.missing'"):
        load_policies([POLICIES_DIR, directory])


def test_custom_profile_adds_a_deny_rule(tmp_path):
    engine = Engine.load(policy_dirs=[_profile(tmp_path)])
    decision = engine.evaluate({**flow(country="SG"), "policy": "custom"}, TODAY)
    assert decision.decision == "deny"
    assert [d.code for d in decision.denials] == ["policy.custom_denied"]
    assert decision.denials[0].message == "No Recipient at SG."
    eea = engine.evaluate({**flow(country="PT"), "policy": "custom"}, TODAY)
    assert eea.decision == "allow"


def test_a_rule_base_that_decides_nothing_fails_closed(tmp_path):
    """A profile whose rules leave a location undecided must not allow (fail closed)."""
    directory = tmp_path / "empty"
    directory.mkdir()
    (directory / "bare.yaml").write_text(
        textwrap.dedent(
            """\
            id: bare
            version: "1"
            title: Only a note
            rules:
              - id: bare.note
                title: A note and nothing else
                scope: hop
                basis: [Policy bare]
                when: {role: processor}
                then: {effect: note, code: policy.bare_note}
            messages:
              policy.bare_note: {en: "note", nl: "notitie"}
            """
        )
    )
    engine = Engine.load(policy_dirs=[directory])
    from engine.errors import EngineError

    with pytest.raises(EngineError, match="matched no rule|no rule decided"):
        engine.evaluate({**flow(country="PT"), "policy": "bare"}, TODAY)
