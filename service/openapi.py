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
from engine.regime import REGIMES
from service.access import ANY_TOKEN, OPEN, requirement
from service.lookup import LANGS, PARTITIONS, USABLE
from service.schemas import ProblemDetails

F = TypeVar("F", bound=Callable[..., Any])
Answer = type[BaseModel] | str | tuple[type[BaseModel], str]
Mode = Literal["validation", "serialization"]
REF = "#/components/schemas/{model}"
JSON = "application/json"
PROBLEM = "application/problem+json"

DESCRIPTION = (
    "Policy decisions for personal-data flows under the GDPR (AVG): allow, conditions or deny, "
    "with the legal basis of every finding. Errors are RFC 9457 problem details. "
    "When the service has a tokens file (DOORGIFTE_TOKENS_FILE), every operation but /healthz, "
    "/readyz and /metrics needs `Authorization: Bearer <token>`, and most need a scope of that "
    "token (decide, read, vendors, replay; admin implies each): 401 without a valid token, "
    "403 without the scope. Without a tokens file the service is open."
)
#: the bearer scheme of SPEC section 15; an operation's security requirement lists its scope
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "a token of the service's tokens file (DOORGIFTE_TOKENS_FILE); "
        "required only when the service has one",
    }
}
QUERY: dict[str, dict[str, Any]] = {
    "as_of": {
        "description": "the date to answer for, YYYY-MM-DD from 2018-05-25; default: today (UTC)",
        "schema": {"type": "string", "format": "date"},
    },
    "policy": {
        "description": "policy profile id (GET /v1/policies); default: gdpr",
        "schema": {"type": "string", "default": "gdpr"},
    },
    "regime": {
        "description": "the point of view (SPEC section 4a): judge for an exporter under this regime "
        "(uk_gdpr: which regions and countries are adequate for the UK); default: gdpr",
        "schema": {"type": "string", "enum": [r for r in REGIMES if r != "none"], "default": "gdpr"},
    },
    "revision": {
        "description": "a vendor revision number; default: the latest",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    # log queries and the register (SPEC section 13); a key other than the name sets `name`
    "vendor": {"description": "only decisions by this vendor id", "schema": {"type": "string"}},
    "reference": {"description": "only decisions with this reference", "schema": {"type": "string"}},
    "label": {
        "description": "key:value, repeatable: only decisions carrying every one of these labels",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    "policy_filter": {
        "name": "policy",
        "description": "only decisions of this policy profile (GET /v1/policies); default: every policy",
        "schema": {"type": "string"},
    },
    "decision": {
        "description": "only decisions with this outcome",
        "schema": {"type": "string", "enum": ["allow", "conditions", "deny"]},
    },
    "recipient": {
        "description": "only decisions whose root recipient has this name",
        "schema": {"type": "string"},
    },
    "since": {
        "description": "only decisions logged at or after this ISO 8601 date or time (UTC unless it says)",
        "schema": {"type": "string"},
    },
    "until": {
        "description": "only decisions logged at or before this ISO 8601 time, or on or before this date",
        "schema": {"type": "string"},
    },
    "limit": {
        "description": "decisions per page, 1 to 500; default: 100",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    },
    "cursor": {"description": "the next_cursor of the previous page", "schema": {"type": "string"}},
    "register_as_of": {
        "name": "as_of",
        "description": "only decisions logged on or before this date, YYYY-MM-DD; default: today (UTC)",
        "schema": {"type": "string", "format": "date"},
    },
    "format": {
        "description": "json (default) or csv (text/csv with a header row, as a download)",
        "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
    },
    # the allow-list of regions across providers (SPEC section 14)
    "provider": {
        "description": "only these cloud providers, comma-separated (e.g. aws,gcp; GET /v1/vocabulary "
        "cloud_providers); default: every provider",
        "schema": {"type": "string"},
    },
    "usable": {
        "description": "only regions whose processor_may_hold_personal_data is yes, with_conditions "
        "(usable=conditions) or no; default: every region",
        "schema": {"type": "string", "enum": list(USABLE)},
    },
    "partition": {
        "description": "only regions of this partition of the region catalogue (commercial: the public "
        "cloud, e.g. AWS partition aws; government: e.g. aws-us-gov; china: e.g. aws-cn); default: every "
        "partition",
        "schema": {"type": "string", "enum": list(PARTITIONS)},
    },
    "lang": {
        "description": "the language of the reasons' messages; codes are the same in each; default: en",
        "schema": {"type": "string", "enum": list(LANGS), "default": "en"},
    },
}


@dataclass(frozen=True)
class Operation:
    summary: str
    #: a model (JSON), a media type (text, HTML), or both (`?format=` chooses)
    responses: dict[int, Answer]
    body: type[BaseModel] | None = None
    query: tuple[str, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)  # error codes this operation can answer


def describe(
    summary: str,
    responses: dict[int, Answer],
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


def build(app: Flask, title: str, version: str, guarded: bool = False) -> dict[str, Any]:
    """The document of `app`. `guarded`: the service has a tokens file, so each operation but the
    open ones carries its bearer security requirement and its 401 (and 403) answers; without one
    the document says what the service does, which is to answer without a token."""
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
            model = answer[0] if isinstance(answer, tuple) else answer
            if not isinstance(model, str):
                models.setdefault(model, "serialization")
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint, view, op, list(rule.arguments), guarded
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
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


def _operation(
    endpoint: str, view: Any, op: Operation, path_args: list[str], guarded: bool
) -> dict[str, Any]:
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
        out["responses"][str(status)] = _response(answer)
    need = requirement(view) or "admin"  # an undeclared view needs admin (service.access)
    errors = op.errors
    if need != OPEN:
        needs = "any valid bearer token" if need == ANY_TOKEN else f"a bearer token with the scope {need}"
        text = f"With a tokens file (DOORGIFTE_TOKENS_FILE), this needs {needs}."
        out["description"] = "\n\n".join(filter(None, [out["description"], text]))
    if guarded:
        out["security"] = [] if need == OPEN else [{"bearer": [] if need == ANY_TOKEN else [need]}]
        if need != OPEN:
            errors = (
                ("unauthorized", *errors) if need == ANY_TOKEN else ("unauthorized", "forbidden", *errors)
            )
    for code in errors:
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


def _response(answer: Answer) -> dict[str, Any]:
    if isinstance(answer, str):
        return {"description": answer, "content": {answer: {"schema": {"type": "string"}}}}
    model, text = answer if isinstance(answer, tuple) else (answer, None)
    doc = inspect.cleandoc(model.__doc__ or model.__name__).splitlines()[0]
    content: dict[str, Any] = {JSON: {"schema": _ref(model)}}
    if text is not None:
        content[text] = {"schema": {"type": "string"}}
    return {"description": doc, "content": content}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}
