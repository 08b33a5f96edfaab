"""compiler: rules -> durable-rules definitions (golden shapes, pure functions)."""

from engine.compiler import compile_condition, compile_rules, referenced_facts, ruleset_name
from engine.policy_schema import Rule


def rule(**when):
    return Rule.model_validate(
        {
            "id": "a.b",
            "title": "a rule",
            "scope": "location",
            "basis": ["GDPR Art. 44"],
            "when": when,
            "then": {"effect": "note", "code": "a.note"},
        }
    )


def test_equality_and_scope():
    assert compile_condition("location", {"transfer": True}) == {
        "$and": [{"scope": "location"}, {"transfer": True}]
    }


def test_operators():
    got = compile_condition(
        "hop",
        {
            "role": {"not": "same_entity"},
            "tia": {"in": ["none", "not_disclosed"]},
            "zone": {"not_in": ["eea"]},
        },
    )
    assert got == {
        "$and": [
            {"scope": "hop"},
            {"$neq": {"role": "same_entity"}},
            {"$or": [{"tia": "none"}, {"tia": "not_disclosed"}]},
            {"$neq": {"zone": "eea"}},
        ]
    }


def test_any_alternatives():
    got = compile_condition(
        "hop", {"objected": False, "any": [{"notified": False}, {"objection_period_elapsed": False}]}
    )
    assert got == {
        "$and": [
            {"scope": "hop"},
            {"objected": False},
            {"$or": [{"notified": False}, {"objection_period_elapsed": False}]},
        ]
    }


def test_rules_get_named_actions_and_no_catch_all():
    body = compile_rules([rule(transfer=True)])
    assert body == {
        "a.b": {"all": [{"m": {"$and": [{"scope": "location"}, {"transfer": True}]}}], "run": "a.b"}
    }


def test_referenced_facts_per_scope():
    got = referenced_facts([rule(transfer=True, any=[{"zone": "eea"}, {"bridge": True}])])
    assert got == {"hop": [], "location": ["bridge", "transfer", "zone"]}


def test_ruleset_name_changes_with_the_rules():
    one = ruleset_name("nl-gov", compile_rules([rule(transfer=True)]))
    two = ruleset_name("nl-gov", compile_rules([rule(transfer=False)]))
    assert one.startswith("nl_gov_") and one != two
