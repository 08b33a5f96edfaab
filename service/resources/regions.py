"""`/v1/regions`: where a cloud region is, and whether a processor may hold personal data there.

`GET /v1/regions` is also the allow-list across providers (SPEC section 14): every region of
every provider, or of `provider=`, judged under `policy=` on `as_of=`, kept by `usable=` and
`partition=`, as JSON or CSV. Its rows are the rows of `GET /v1/regions/{provider}`
(`service.lookup.allow_list`, which `doorgifte guardrails` lists its regions through too).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, jsonify, request

from service import log_params, lookup, params, register
from service.access import ANY_TOKEN, requires
from service.openapi import describe
from service.schemas import ProviderList, RegionList, RegionOut
from service.state import current

blueprint = Blueprint("regions", __name__)
QUERY = ("as_of", "policy", "regime")
ERRORS = ("invalid_request", "not_found")
LIST_QUERY = ("as_of", "policy", "regime", "provider", "usable", "partition", "lang", "format")
CSV = "text/csv"
#: the columns of `GET /v1/regions?format=csv`, in order (`usable` is processor_may_hold_personal_data)
CSV_FIELDS = (
    "provider",
    "region",
    "name",
    "city",
    "country",
    "partition",
    "zone",
    "usable",
    "decision",
    "conditions",
    "denials",
)


@blueprint.get("/v1/regions")
@requires(ANY_TOKEN)
@describe(
    "Cloud providers, and one allow-list of regions across them",
    {200: (ProviderList, CSV)},
    query=LIST_QUERY,
    errors=("invalid_request",),
)
def providers() -> Response:
    """The cloud providers whose regions the reference data lists (`providers`, always all of
    them), and every region of every provider, or of `provider` (comma-separated), with its
    country, zone and verdict under `policy` on `as_of`, as in GET /v1/regions/{provider}:
    may a processor with a signed agreement hold personal data there (yes, with_conditions, no).
    `usable=yes|conditions|no` keeps the regions with that verdict, `partition=` those of one
    partition of the region catalogue (commercial is the public cloud), `lang=nl` gives the
    reasons' messages in Dutch. `regime=uk_gdpr` (or `ch_fadp`) judges every region for an
    exporter under that regime: which regions are adequate for the UK. `format=csv` gives one
    row per region as a download (cells that a spreadsheet would read as a formula start with
    `'`). An unknown value is a 422 naming the parameter, with the valid values in the hint."""
    engine = current().engine
    params.check_args(LIST_QUERY)
    on, policy, regime = params.as_of(), params.policy(engine), params.regime(engine)
    try:
        names = lookup.providers(engine, request.args.get("provider"))
        usable = lookup.choice(request.args.get("usable"), tuple(lookup.USABLE), "usable")
        partition = lookup.choice(
            request.args.get("partition"), lookup.PARTITIONS, "partition", lookup.AWS_PARTITIONS
        )
        lang = lookup.choice(request.args.get("lang"), lookup.LANGS, "lang") or "en"
    except lookup.Unknown as exc:
        raise params.invalid(exc) from None
    output = log_params.output_format()
    rows = lookup.allow_list(engine, names, on, policy, usable, partition, lang, regime)
    if output == "csv":
        response = Response(regions_csv(rows), mimetype=CSV)
        response.headers["Content-Disposition"] = f"attachment; filename=regions-{on.isoformat()}.csv"
        return response
    return jsonify(
        {
            "providers": sorted(engine.reference.providers),
            "as_of": on.isoformat(),
            "policy": policy,
            "regime": regime,
            "reference_data": {"version": engine.reference.version},
            "regions": [{**row, "as_of": on.isoformat()} for row in rows],
        }
    )


def regions_csv(rows: list[dict[str, Any]]) -> str:
    """RFC 4180 text with a header row; lists (conditions, denials) joined by spaces; each cell
    as the register writes it (`service.register.csv_cell`: no formula a spreadsheet runs)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        cells = {**row, "usable": row["processor_may_hold_personal_data"]}
        writer.writerow([register.csv_cell(name, cells[name]) for name in CSV_FIELDS])
    return out.getvalue()


@blueprint.get("/v1/regions/<provider>")
@requires(ANY_TOKEN)
@describe("Every region of a provider", {200: RegionList}, query=QUERY, errors=ERRORS)
def regions(provider: str) -> Response:
    """Every region of the provider with its country, zone and verdict under `policy`:
    may a processor with a signed agreement hold personal data there (yes, with_conditions,
    no), with the reasons, for an exporter under `regime` (default gdpr). Unknown providers are
    404 with a hint."""
    engine = current().engine
    params.check_args(QUERY)
    on, policy, regime = params.as_of(), params.policy(engine), params.regime(engine)
    try:
        name, rows = lookup.regions(engine, provider, on, policy, regime)
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    return jsonify(
        {
            "provider": name,
            "as_of": on.isoformat(),
            "policy": policy,
            "regime": regime,
            "reference_data": {"version": engine.reference.version},
            "regions": [{**row, "as_of": on.isoformat()} for row in rows],
        }
    )


@blueprint.get("/v1/regions/<provider>/<region>")
@requires(ANY_TOKEN)
@describe("One region", {200: RegionOut}, query=QUERY, errors=ERRORS)
def region(provider: str, region: str) -> Response:
    """The region's country, city and zone on `as_of`, and whether a processor may hold personal
    data there under `policy`, for an exporter under `regime` (default gdpr). Unknown providers
    or regions are 404 with a did-you-mean hint."""
    engine = current().engine
    params.check_args(QUERY)
    on, policy, regime = params.as_of(), params.policy(engine), params.regime(engine)
    try:
        row = lookup.region(engine, provider, region, on, policy, regime)
    except lookup.Unknown as exc:
        raise params.not_found(exc) from None
    return jsonify({**row, "as_of": on.isoformat()})
