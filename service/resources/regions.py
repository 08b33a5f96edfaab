"""`/v1/regions`: where a cloud region is, and whether a processor may hold personal data there."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service import lookup, params
from service.access import ANY_TOKEN, requires
from service.openapi import describe
from service.schemas import ProviderList, RegionList, RegionOut
from service.state import current

blueprint = Blueprint("regions", __name__)
QUERY = ("as_of", "policy")
ERRORS = ("invalid_request", "not_found")


@blueprint.get("/v1/regions")
@requires(ANY_TOKEN)
@describe("Cloud providers", {200: ProviderList})
def providers() -> Response:
    """The cloud providers whose regions the reference data lists."""
    params.check_args(())
    return jsonify({"providers": sorted(current().engine.reference.providers)})


@blueprint.get("/v1/regions/<provider>")
@requires(ANY_TOKEN)
@describe("Every region of a provider", {200: RegionList}, query=QUERY, errors=ERRORS)
def regions(provider: str) -> Response:
    """Every region of the provider with its country, zone and verdict under `policy`:
    may a processor with a signed agreement hold personal data there (yes, with_conditions,
    no), with the reasons. Unknown providers are 404 with a hint."""
    engine = current().engine
    params.check_args(QUERY)
    on, policy = params.as_of(), params.policy(engine)
    try:
        name, rows = lookup.regions(engine, provider, on, policy)
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    return jsonify(
        {
            "provider": name,
            "as_of": on.isoformat(),
            "policy": policy,
            "reference_data": {"version": engine.reference.version},
            "regions": [{**row, "as_of": on.isoformat()} for row in rows],
        }
    )


@blueprint.get("/v1/regions/<provider>/<region>")
@requires(ANY_TOKEN)
@describe("One region", {200: RegionOut}, query=QUERY, errors=ERRORS)
def region(provider: str, region: str) -> Response:
    """The region's country, city and zone on `as_of`, and whether a processor may hold personal
    data there under `policy`. Unknown providers or regions are 404 with a did-you-mean hint."""
    engine = current().engine
    params.check_args(QUERY)
    on, policy = params.as_of(), params.policy(engine)
    try:
        row = lookup.region(engine, provider, region, on, policy)
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    return jsonify({**row, "as_of": on.isoformat()})
