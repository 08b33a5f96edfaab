"""Translate request validation failures into contract problems (`loc`, `msg`, `hint`)."""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from engine.errors import Problem, RequestInvalid, did_you_mean
from engine.flow import FlowRequest


def loc_text(loc: tuple[Any, ...]) -> str:
    """('recipient', 'locations', 0, 'country') -> 'recipient.locations[0].country'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(body)"


LOCATION_TAGS = ("ref", "country", "cloud", "organisation")


def _clean(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the tag pydantic puts after a location's index (`locations, 0, 'country', ...`)."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        after_location_index = i >= 2 and loc[i - 2] == "locations" and isinstance(loc[i - 1], int)
        if after_location_index and part in LOCATION_TAGS:
            continue
        out.append(part)
    return tuple(out)


def pydantic_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = _clean(tuple(err["loc"]))
        where = loc_text(loc)
        kind = err["type"]
        value = err.get("input")
        if kind == "extra_forbidden":
            msg = f"unknown field {where!r}"
            hint = _known_fields_hint(loc)
        elif kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            options = re.findall(r"'([^']*)'", expected)
            msg = f"{where}: {value!r} is not allowed"
            guess = did_you_mean(str(value), options) if isinstance(value, str) else None
            hint = f"{guess}; expected {expected}" if guess else f"expected {expected}"
        elif kind == "missing":
            msg = f"{where} is required"
            hint = None
        else:
            msg = f"{where}: {err['msg'][0].lower()}{err['msg'][1:]}"
            hint = _hint_for(kind)
        problems.append(Problem(where, msg, hint))
    return problems


def _model_fields() -> dict[str, list[str]]:
    """Every request object's field names, by the field that holds it (`scc` -> module,
    decision, concluded_on), read from the request models so a new field is never missed."""
    found: dict[str, list[str]] = {"": [i.alias or f for f, i in FlowRequest.model_fields.items()]}
    todo: list[tuple[str, type[BaseModel]]] = [("", FlowRequest)]
    while todo:
        _, model = todo.pop()
        for name, info in model.model_fields.items():
            inner = [m for m in _models_in(info.annotation) if name not in found]
            if inner:  # a location is one of several objects: their fields together
                found[name] = list(
                    dict.fromkeys(i.alias or f for m in inner for f, i in m.model_fields.items())
                )
                todo += [(name, m) for m in inner]
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


_FIELDS = _model_fields()


def _known_fields_hint(loc: tuple[Any, ...]) -> str | None:
    parent = next((p for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    if parent in ("sub_processors",):
        parent = "recipient"
    known = _FIELDS.get(parent, [])
    name = str(loc[-1]) if loc else ""
    return did_you_mean(name, known) or (f"known fields: {', '.join(known)}" if known else None)


def _hint_for(kind: str) -> str | None:
    return {
        "bool_type": "use true or false (a JSON boolean)",
        "int_type": "use a whole number",
        "date_from_datetime_parsing": "use a date as YYYY-MM-DD",
        "date_parsing": "use a date as YYYY-MM-DD",
        "date_type": "use a date as YYYY-MM-DD",
        "date_from_datetime_inexact": "use a date as YYYY-MM-DD",
        "string_type": "use a string",
        "list_type": "use a JSON array",
        "model_type": "use a JSON object",
        "dict_type": "use a JSON object",
        "too_long": "shorten the list or text",
        "string_too_short": "give a non-empty value",
    }.get(kind)


def check_chain_size(payload: Any, limits: Any) -> None:
    """Refuse chains that are too deep or too large before validating them (422).

    `limits` has max_depth, max_nodes and max_locations (engine.api.Limits). A chain at
    its maximum size is still evaluated in bounded time; the location cap keeps one
    flow from multiplying 200 nodes by 100 places each."""
    max_depth, max_nodes, max_locations = limits.max_depth, limits.max_nodes, limits.max_locations
    if not isinstance(payload, dict):
        raise RequestInvalid(
            [Problem("(body)", "the request body is a JSON object", "send a flow request object")]
        )
    root = payload.get("recipient")
    if not isinstance(root, dict):
        return
    nodes, depth, places = 0, 0, 0
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        locations = node.get("locations") if isinstance(node, dict) else None
        places += len(locations) if isinstance(locations, list) and locations else 1
        if depth > max_depth or nodes > max_nodes:
            limit = f"depth {max_depth}" if depth > max_depth else f"{max_nodes} recipient nodes"
            raise _too_large("recipient.sub_processors", f"the processing chain exceeds the limit of {limit}")
        if places > max_locations:
            raise _too_large(
                "recipient", f"the flow names more than {max_locations} locations over all its recipients"
            )
        children = node.get("sub_processors") if isinstance(node, dict) else None
        if isinstance(children, list):
            stack.extend((child, level + 1) for child in children)


def _too_large(loc: str, msg: str) -> RequestInvalid:
    return RequestInvalid([Problem(loc, msg, "split the flow into smaller requests")], code="chain_too_large")
