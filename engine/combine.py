"""Combine findings into a decision: deny > conditions > allow.

A decision needs an explicit verdict: a scope whose findings hold no allow,
condition or deny (notes only, or nothing) is a gap in the rule base, and the
caller must fail closed rather than read silence as permission.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import EngineError

RANK = {"allow": 0, "conditions": 1, "deny": 2}
EFFECT_DECISION = {"allow": "allow", "condition": "conditions", "deny": "deny"}


def strongest(decisions: Iterable[str]) -> str | None:
    """The strongest of `decisions`, or None when there is none."""
    return max(decisions, key=RANK.__getitem__, default=None)


def decide(effects: Iterable[str], what: str) -> str:
    """The decision of one scope from its finding effects; notes do not decide."""
    verdict = strongest(EFFECT_DECISION[e] for e in effects if e in EFFECT_DECISION)
    if verdict is None:
        raise EngineError(f"no rule decided {what}")
    return verdict
