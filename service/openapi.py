"""The OpenAPI 3.1 document, generated from the app's routes and pydantic models.

Nothing here is a hand-written schema: each view is marked with `@describe(...)`
(summary, body model, answer models, query parameters), paths come from the
Flask URL map, the view's docstring becomes the description, and every schema
is pydantic's JSON Schema (2020-12, which OpenAPI 3.1 uses unchanged) of the
request and response models. A route without `@describe` is not served.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from engine.errors import ERRORS
from service.schemas import ProblemDetails

F = TypeVar("F", bound=Callable[..., Any])
Mode = Literal["validation", "serialization"]
REF = "#/components/schemas/{model}"
JSON = "application/json"
PROBLEM = "application/problem+json"

DESCRIPTION = (
    "Policy decisions for personal-data flows under the GDPR (AVG): allow, conditions or deny, "
    "with the legal basis of every finding. Errors are RFC 9457 problem details."
)
QUERY: dict[str, dict[str, Any]] = {
    "as_of": {
        "description": "the date to answer for, YYYY-MM-DD from 2018-05-25; default: today (UTC)",
        "schema": {"type": "string", "format": "date"},
    },
    "policy": {
        "description": "policy profile id (GET /v1/policies); default: gdpr",
        "schema": {"type": "string", "default": "gdpr"},
    },
    "revision": {
        "description": "a vendor revision number; default: the latest",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: dict[int, type[BaseModel] | str]  # a model (JSON) or a media type (text, HTML)
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)  # error codes this operation can answer


def describe(
    summary: str,
    responses: dict[int, type[BaseModel] | str],
    body: type[BaseModel] | None = None,
    query: tuple[str, ...] = (),
    errors: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach the OpenAPI description to a view function."""

    def mark(view: F) -> F:
        view.openapi = Operation(summary, responses, body, query, errors)  # type: ignore[attr-defined]
        return view

    return mark


def operation_of(view: Callable[..., Any]) -> Operation | None:
    op = getattr(view, "openapi", None)
    return op if isinstance(op, Operation) else None


def build(app: Flask, title: str, version: str) -> dict[str, Any]:
    models: dict[type[BaseModel], Mode] = {ProblemDetails: "serialization"}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (not r.rule.startswith("/v1/"), r.rule)):
        view = app.view_functions.get(rule.endpoint)
        op = operation_of(view) if view else None
        if op is None:
            continue
        if op.body is not None:
            models[op.body] = "validation"
        for answer in op.responses.values():
            if not isinstance(answer, str):
                models.setdefault(answer, "serialization")
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint, view, op, list(rule.arguments)
            )
    _, defs = models_json_schema([(m, mode) for m, mode in models.items()], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": DESCRIPTION,
        },
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {})},
    }


def _operation(endpoint: str, view: Any, op: Operation, path_args: list[str]) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in sorted(path_args)
    ]
    params += [{"name": name, "in": "query", "required": False, **QUERY[name]} for name in op.query]
    out: dict[str, Any] = {
        "operationId": endpoint.replace(".", "_"),
        "summary": op.summary,
        "description": inspect.cleandoc(view.__doc__ or ""),
        "responses": {},
    }
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(op.body)}}}
    for status, answer in sorted(op.responses.items()):
        if isinstance(answer, str):
            out["responses"][str(status)] = {
                "description": answer,
                "content": {answer: {"schema": {"type": "string"}}},
            }
        else:
            doc = inspect.cleandoc(answer.__doc__ or answer.__name__).splitlines()[0]
            out["responses"][str(status)] = {"description": doc, "content": {JSON: {"schema": _ref(answer)}}}
    for code in op.errors:
        status, title = ERRORS[code]
        entry = out["responses"].setdefault(
            str(status), {"description": "", "content": {PROBLEM: {"schema": _ref(ProblemDetails)}}}
        )
        entry["description"] = "; ".join(filter(None, [entry["description"], f"{code}: {title}"]))
    out["responses"] = dict(sorted(out["responses"].items()))
    out["responses"]["default"] = {
        "description": "any other error (not_found, method_not_allowed, internal_error), as problem details",
        "content": {PROBLEM: {"schema": _ref(ProblemDetails)}},
    }
    return out


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}
