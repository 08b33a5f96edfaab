"""The action plan of SPEC section 10: conditions grouped by who must act, and towards whom.

A vendor with dozens of sub-processors yields a condition per party and place; what
people need is the handful of things to do. Each condition's rule names its actor
(`actor:` in the rule's `then`), resolved here against the hop:

- `exporter`: the hop's exporter (signs clauses, assesses, concludes the DPA, imposes
  the same obligations); its counterparty is the hop's recipient.
- `controller`: the controller on whose behalf the chain processes (gives location
  consent and instructions); its counterparty is the party it engaged on that path.
- `engaging_processor`: the processor that engages the hop's recipient (asks for
  authorisation, informs); its counterparty is the controller.

Conditions with the same code, actor and counterparty become one action listing the
parties and locations it covers. The root exporter's own actions come first, then the
others in hop order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.localise import CONTROLLER, Localiser
from engine.messages import Catalogue

_AND = {"en": "and", "nl": "en"}
_MORE = {"en": "{shown} and {n} more", "nl": "{shown} en nog {n}"}
#: at most this many parties and places named in a message; the action's lists keep them all
SHOWN_PARTIES = 4
SHOWN_LOCATIONS = 12


@dataclass(frozen=True)
class Actor:
    name: str | None
    role: str
    counterparty: str | None


def resolve(kind: str, path: list[str], exporter_role: str, controller: str | None) -> Actor:
    """The party that must act on a condition of the hop ending at `path[-1]`."""
    if kind == "exporter":
        return Actor(path[-2], exporter_role, path[-1])
    if kind == "engaging_processor":
        return Actor(path[-2], "processor", controller)
    engaged = path[path.index(controller) + 1] if controller in path else path[0]
    return Actor(controller, "controller", engaged)


@dataclass
class _Group:
    actor: Actor
    code: str
    first: dict[str, Any]
    regime: str | None = None
    parties: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    conditions: list[int] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)

    def add(self, index: int, condition: dict[str, Any]) -> None:
        self.conditions.append(index)
        _append_new(self.parties, [condition["party"]])
        if condition.get("location"):
            _append_new(self.locations, [condition["location"]])
        _append_new(self.basis, condition["basis"])


def _append_new(target: list[str], items: list[str]) -> None:
    for item in items:
        if item not in target:
            target.append(item)


def plan(
    conditions: list[dict[str, Any]],
    actors: list[Actor],
    caller: str,
    catalogue: Catalogue,
    lang: str,
    words: Localiser,
    regimes: list[str | None] | None = None,
) -> list[dict[str, Any]]:
    """The actions for `conditions` (each with its resolved actor), in the order of SPEC 10;
    `regimes`: the regime of each condition's hop, whose wording its action takes."""
    groups: dict[tuple[str, str | None, str, str | None], _Group] = {}
    regimes = regimes or [None] * len(conditions)
    for index, (condition, actor, regime) in enumerate(zip(conditions, actors, regimes, strict=True)):
        key = (condition["code"], actor.name, actor.role, actor.counterparty)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(actor, condition["code"], condition, regime)
        group.add(index, condition)
    ordered = sorted(groups.values(), key=lambda g: (g.actor.name != caller, g.conditions[0]))
    return [_action(group, catalogue, lang, words) for group in ordered]


def _action(group: _Group, catalogue: Catalogue, lang: str, words: Localiser) -> dict[str, Any]:
    actor = group.actor
    message = _message(group, catalogue, lang, words)
    return {
        "actor": actor.name,
        "actor_role": actor.role,
        "code": group.code,
        "counterparty": actor.counterparty,
        "parties": group.parties,
        "locations": group.locations,
        "conditions": group.conditions,
        "message": message,
        "basis": group.basis,
    }


def _message(group: _Group, catalogue: Catalogue, lang: str, words: Localiser) -> str:
    template = f"action.{group.code}"
    if template not in catalogue.templates:
        # a custom policy code without an action text: its one condition says it, or a count does
        if len(group.conditions) == 1:
            return str(group.first["message"])
        template = "action.generic"
    actor = group.actor
    word = CONTROLLER[lang]
    controller = words.controller(actor.name if actor.role == "controller" else actor.counterparty, lang)
    values = {
        **group.first.get("params", {}),
        **controller,  # the controller mid-sentence: its role, and its name when the flow gives it
        "code": group.code,
        "actor": actor.name or controller["controller_cap"],
        # after a named actor who is the controller: its role; after an unnamed one, nothing
        "as_controller": f" ({word.split()[-1]})" if actor.role == "controller" and actor.name else "",
        "counterparty": actor.counterparty or word,
        "parties": names(group.parties, lang, SHOWN_PARTIES),
        "party_count": len(group.parties),
        "locations": names(words.places(group.locations, lang), lang, SHOWN_LOCATIONS),
        "location_count": len(group.locations),
        "count": len(group.conditions),
    }
    return catalogue.render(template, lang, words.values(values, lang), group.regime)


def names(items: list[str], lang: str, shown: int) -> str:
    """'A', 'A and B', 'A, B and C', or 'A, B, C and 24 more' (in Dutch: 'en', 'en nog 24')."""
    if not items:
        return "-"
    if len(items) == 1:
        return items[0]
    if len(items) <= shown:
        return f"{', '.join(items[:-1])} {_AND[lang]} {items[-1]}"
    return _MORE[lang].format(shown=", ".join(items[: shown - 1]), n=len(items) - shown + 1)
