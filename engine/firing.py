"""Which rules a fact record fires, remembered: durable-rules is asked only about records it
has not seen under that rule base.

Why this is sound: the compiler (compiler.py) makes every rule a single-condition rule over
one fact record, and the records are asserted, so the rules a record fires depend on that
record's values alone, never on the other records of the flow. A record's scope and values
are the key; the ruleset's name carries a digest of its rules (`ruleset_name`), so a changed
rule base is a new name and can never be answered from an old one's entries.

The key holds the values with their types (`memo.typed`), which tells `1`, `True` and `"1"`
apart, where durable-rules itself does not (the facts are typed before they get here, see
durable_adapter.py). Entries are a few hundred bytes; the oldest go first once `size` is
reached.
"""

from __future__ import annotations

from typing import Any

from engine.durable_adapter import Fired, RuleEngine
from engine.memo import Bounded, typed

#: fact records remembered per process: a few MB, far more than the distinct records a day's traffic makes
MEMO_SIZE = 20_000

#: a fact record as the engine builds it: (scope, ref, the values of the scope's fields in order)
Record = tuple[str, str, tuple[Any, ...]]


class FiringMemo:
    """`RuleEngine.fire` with the rule ids of each record's values remembered."""

    def __init__(self, rules: RuleEngine, size: int = MEMO_SIZE):
        self.rules = rules
        self.known: Bounded[tuple[Any, ...], tuple[str, ...]] = Bounded(size)

    def fire(self, ruleset: str, fields: dict[str, list[str]], records: list[Record]) -> Fired:
        """Every (rule id, ref) the records fire, as `RuleEngine.fire` answers for the records
        `{"scope": scope, "ref": ref, **dict(zip(fields[scope], values))}`."""
        keys = [(ruleset, scope, typed(values)) for scope, _, values in records]
        found = {key: self.known.get(key) for key in keys}
        unseen = {key: record for key, record in zip(keys, records, strict=True) if found[key] is None}
        if unseen:
            found.update(self._learn(ruleset, fields, unseen))
        pairs = zip(keys, records, strict=True)
        return [(rule, record[1]) for key, record in pairs for rule in found[key] or ()]

    def _learn(
        self, ruleset: str, fields: dict[str, list[str]], unseen: dict[tuple[Any, ...], Record]
    ) -> dict[tuple[Any, ...], tuple[str, ...]]:
        facts = [
            {"scope": scope, "ref": f"m{i}", **dict(zip(fields[scope], values, strict=True))}
            for i, (scope, _, values) in enumerate(unseen.values())
        ]
        fired: dict[str, list[str]] = {}
        for rule, ref in self.rules.fire(ruleset, facts):
            fired.setdefault(ref, []).append(rule)
        return {key: self.known.put(key, tuple(fired[f"m{i}"])) for i, key in enumerate(unseen)}

    def add(self, name: str, body: dict[str, Any]) -> None:
        """Register one more ruleset (see `RuleEngine.add`); its name is new, so nothing is known of it."""
        self.rules.add(name, body)
