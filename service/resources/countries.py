"""`/v1/countries`: where each country stands on a date (zone, EEA, adequacy)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from engine import catalogue
from service import lookup, params
from service.access import ANY_TOKEN, requires
from service.openapi import describe
from service.schemas import CountryList, CountryOut
from service.state import current

blueprint = Blueprint("countries", __name__)
QUERY = ("as_of", "regime")


@blueprint.get("/v1/countries")
@requires(ANY_TOKEN)
@describe("Every country on a date", {200: CountryList}, query=QUERY, errors=("invalid_request",))
def countries() -> Response:
    """Every ISO 3166-1 country with its zone (eea, adequate, adequate_partial, third_country),
    EEA membership and the adequacy decision in force on `as_of`. With `regime=uk_gdpr` (or
    `ch_fadp`), `transfer` and `adequacy` are that regime's point of view (the UK's adequacy
    regulations); `zone` and `eea` stay the place's standing in EU law."""
    engine = current().engine
    params.check_args(QUERY)
    on, regime = params.as_of(), params.regime(engine)
    rows = [{**row, "as_of": on.isoformat()} for row in catalogue.countries(engine, on, regime)]
    version = {"version": engine.reference.version}
    return jsonify({"as_of": on.isoformat(), "regime": regime, "reference_data": version, "countries": rows})


@blueprint.get("/v1/countries/<ref>")
@requires(ANY_TOKEN)
@describe("One country on a date", {200: CountryOut}, query=QUERY, errors=("invalid_request", "not_found"))
def country(ref: str) -> Response:
    """One country, named as in a flow request: alpha-2 or alpha-3 code or English name,
    case-insensitive (EL and UK accepted), from the point of view of `regime` (default gdpr).
    Unknown countries are 404 with a did-you-mean hint."""
    engine = current().engine
    params.check_args(QUERY)
    on, regime = params.as_of(), params.regime(engine)
    try:
        code = lookup.country(engine, ref, "ref")
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    return jsonify({**catalogue.country(engine, code, on, regime), "as_of": on.isoformat()})
