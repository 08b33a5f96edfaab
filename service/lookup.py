"""Resolve the names callers use (dates, policies, countries, providers, regions).

Shared by the HTTP endpoints and the command line, so both accept the same
spellings and refuse the same mistakes with the same did-you-mean hint. Each
failure is an `Unknown` carrying the contract problem (`loc`, `msg`, `hint`);
the caller decides whether that is a 404, a 422 or exit status 2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, get_args

from engine import catalogue
from engine.api import GDPR_APPLIES_FROM, Engine
from engine.errors import Problem, did_you_mean
from engine.reference import Region
from engine.resolve import region_problem
from engine.vocabulary import LANGUAGES

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_POLICY = "gdpr"
#: what `usable=` selects: a region's `processor_may_hold_personal_data`
USABLE = {"yes": "yes", "conditions": "with_conditions", "no": "no"}
#: the catalogue's partitions (adequacy_data/regions/README.md), not the providers' own names
PARTITIONS: tuple[str, ...] = get_args(Region.model_fields["partition"].annotation)
LANGS: tuple[str, ...] = tuple(LANGUAGES)
#: AWS's own partition names (botocore endpoints.json, as adequacy_data/regions/aws.yaml notes them)
#: and the catalogue partition each is in; the ISO partitions are all `restricted`
AWS_PARTITIONS = {
    "aws": "commercial",
    "aws-cn": "china",
    "aws-us-gov": "government",
    "aws-eusc": "sovereign",
    "aws-iso": "restricted",
    "aws-iso-b": "restricted",
    "aws-iso-f": "restricted",
}


def today_utc() -> dt.date:
    """`as_of` when the caller gives none: today in UTC, decided here, not in the engine."""
    return dt.datetime.now(dt.UTC).date()


class Unknown(LookupError):
    """A name that does not resolve, with the problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.msg)
        self.problem = problem


def as_of(raw: str, loc: str = "as_of") -> dt.date:
    """A date `YYYY-MM-DD` from 2018-05-25, when the GDPR began to apply."""
    try:
        value = dt.date.fromisoformat(raw) if DATE.match(raw) else None
    except ValueError:
        value = None
    if value is None:
        raise Unknown(Problem(loc, f"{loc} {raw!r} is not a date", "use a date as YYYY-MM-DD"))
    if value < GDPR_APPLIES_FROM:
        msg = f"{loc} {raw} is before 2018-05-25, when the GDPR began to apply"
        raise Unknown(Problem(loc, msg, "use a date from 2018-05-25"))
    return value


def date_argument(text: str) -> dt.date:
    """`as_of` as an argparse type: the same check, its message as argparse's error."""
    import argparse

    try:
        return as_of(text, "date")
    except Unknown as exc:
        raise argparse.ArgumentTypeError(f"{exc.problem.msg}; {exc.problem.hint}") from None


def policy(engine: Engine, raw: str | list[str], loc: str = "policy") -> str:
    """The id of the profile `raw` names: one id, a list, or ids joined by `,` or `+`; a
    combination answers as its own id (`eu-residency+nl-gov`)."""
    ids = [part.strip() for item in ([raw] if isinstance(raw, str) else raw) for part in item.split(",")]
    profile, problems = engine.profile(ids if len(ids) > 1 else ids[0])
    if profile is None:
        problem = problems[0]
        raise Unknown(Problem(loc, problem.msg, problem.hint))
    return profile.id


def regime(engine: Engine, raw: str, loc: str = "regime") -> str:
    """A point of view a place can be judged from (SPEC section 4a): `gdpr` or a modelled regime
    (`uk_gdpr`, `ch_fadp`); `none` judges nothing, so it is no point of view."""
    known = catalogue.regimes(engine)
    if raw not in known:
        hint = did_you_mean(raw, known) or "known regimes: " + ", ".join(known)
        raise Unknown(Problem(loc, f"unknown regime {raw!r}", hint))
    return raw


def country(engine: Engine, ref: str, loc: str = "country") -> str:
    """The alpha-2 code of a country reference, as a flow request would resolve it."""
    code = engine.resolver.country(ref)
    if code is None:
        raise Unknown(engine.resolver.country_problem(loc, ref))
    return code


def provider(engine: Engine, raw: str) -> str:
    name = raw.strip().lower()
    known = sorted(engine.reference.providers)
    if name not in known:
        hint = did_you_mean(name, known) or "known providers: " + ", ".join(known)
        raise Unknown(Problem("provider", f"unknown cloud provider {raw!r}", hint))
    return name


def providers(engine: Engine, raw: str | None, loc: str = "provider") -> list[str]:
    """The providers `raw` names (`aws`, `aws,gcp`; any case), sorted and each once; every
    provider when `raw` is None. An unknown or empty name is refused with the known ones."""
    known = sorted(engine.reference.providers)
    if raw is None:
        return known
    names = [part.strip().lower() for part in raw.split(",")]
    for name in names:
        if name not in known:
            close = did_you_mean(name, known)
            hint = "; ".join(filter(None, [close, "known providers: " + ", ".join(known)]))
            msg = f"unknown cloud provider {name!r}" if name else f"{loc} names no provider"
            raise Unknown(Problem(loc, msg, hint))
    return sorted(set(names))


def choice(
    raw: str | None, allowed: Sequence[str], loc: str, aliases: dict[str, str] | None = None
) -> str | None:
    """One of `allowed`, exactly as spelt, or None when not given; else Unknown naming them.
    `aliases`: names people may try (AWS's `aws-us-gov`) and the value to use instead, for the hint."""
    if raw is None or raw in allowed:
        return raw
    instead = (aliases or {}).get(raw)
    close = f"{raw} is {loc}={instead} here" if instead else did_you_mean(raw, list(allowed))
    hint = "; ".join(filter(None, [close, f"{loc} is one of " + ", ".join(allowed)]))
    raise Unknown(Problem(loc, f"{loc} {raw!r} is not one of {', '.join(allowed)}", hint))


def allow_list(
    engine: Engine,
    provider_names: Iterable[str],
    on: dt.date,
    policy_id: str,
    usable: str | None = None,
    partition: str | None = None,
    lang: str = "en",
    regime: str = catalogue.GDPR,
) -> list[dict[str, Any]]:
    """The regions of these providers (known names, see `providers`) with their verdicts under
    `policy_id` on `on`, in provider then catalogue order: exactly the rows of each provider's
    `catalogue.regions`, kept where the verdict is `usable` (a key of USABLE) and the partition is
    `partition`. `GET /v1/regions` and `doorgifte guardrails` both list regions through this."""
    verdict = USABLE[usable] if usable is not None else None
    return [
        row
        for name in provider_names
        for row in catalogue.regions(engine, name, on, policy_id, lang, regime)
        if (verdict is None or row["processor_may_hold_personal_data"] == verdict)
        and (partition is None or row["partition"] == partition)
    ]


def region(
    engine: Engine,
    provider_raw: str,
    region_id: str,
    on: dt.date,
    policy_id: str,
    regime: str = catalogue.GDPR,
) -> dict[str, Any]:
    """One region's place and verdict (`engine.catalogue.region`), or Unknown with close ids."""
    name = provider(engine, provider_raw)
    try:
        return catalogue.region(engine, name, region_id, on, policy_id, regime=regime)
    except catalogue.UnknownRegion:
        msg, hint = region_problem(engine.reference, name, region_id)
        raise Unknown(Problem("region", msg, hint)) from None


def regions(
    engine: Engine, provider_raw: str, on: dt.date, policy_id: str, regime: str = catalogue.GDPR
) -> tuple[str, list[dict[str, Any]]]:
    name = provider(engine, provider_raw)
    return name, catalogue.regions(engine, name, on, policy_id, regime=regime)
