"""The API described: `GET /openapi.json` (OpenAPI 3.1) and `GET /docs` (an offline HTML page)."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template

from service import openapi
from service.access import ANY_TOKEN, requires
from service.state import current

blueprint = Blueprint("docs", __name__)


def _version() -> str:
    try:
        return metadata.version("doorgifte")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def document() -> dict[str, Any]:
    """Built once per app from its routes and models; they do not change while it runs."""
    cache = current().cache
    if "openapi" not in cache:
        cache["openapi"] = openapi.build(
            current_app, "doorgifte", _version(), current().config.access_control
        )
    doc: dict[str, Any] = cache["openapi"]
    return doc


@blueprint.get("/openapi.json")
@requires(ANY_TOKEN)
@openapi.describe("OpenAPI document", {200: "application/json"})
def openapi_json() -> Response:
    """This API as an OpenAPI 3.1 document, generated from the service's pydantic models."""
    return jsonify(document())


@blueprint.get("/docs")
@requires(ANY_TOKEN)
@openapi.describe("API documentation", {200: "text/html"})
def docs() -> str:
    """A readable page of every endpoint and schema, rendered on the server from the OpenAPI
    document; it loads nothing from other sites."""
    return render_template("docs.html", spec=document(), type_text=type_text)


def type_text(schema: dict[str, Any]) -> str:
    """A JSON Schema as a short readable type: `string`, `list of Hop`, `one of a, b`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(type_text(s) for s in schema[key])
    kind = schema.get("type")
    if kind == "array":
        return "list of " + type_text(schema.get("items", {}))
    if (
        kind == "object"
        and "additionalProperties" in schema
        and isinstance(schema["additionalProperties"], dict)
    ):
        return "map of " + type_text(schema["additionalProperties"])
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind or "any")
