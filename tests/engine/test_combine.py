"""combine: deny > conditions > allow, and silence is never an allow."""

import pytest

from engine.combine import decide, strongest
from engine.errors import EngineError


@pytest.mark.parametrize(
    ("effects", "expected"),
    [
        (["allow"], "allow"),
        (["allow", "note"], "allow"),
        (["condition"], "conditions"),
        (["allow", "condition"], "conditions"),
        (["condition", "allow", "note"], "conditions"),
        (["deny"], "deny"),
        (["allow", "deny"], "deny"),
        (["condition", "deny"], "deny"),
        (["deny", "condition", "allow", "note"], "deny"),
    ],
)
def test_decide_takes_the_strongest_effect(effects, expected):
    assert decide(effects, "x") == expected


@pytest.mark.parametrize("effects", [[], ["note"], ["note", "note"]])
def test_no_verdict_fails_closed(effects):
    with pytest.raises(EngineError, match="no rule decided"):
        decide(effects, "the hop")


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        (["allow", "allow"], "allow"),
        (["allow", "conditions"], "conditions"),
        (["conditions", "deny", "allow"], "deny"),
        ([], None),
    ],
)
def test_strongest(decisions, expected):
    assert strongest(decisions) == expected
