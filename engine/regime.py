"""Which law judges each hop: the exporter's regime (SPEC section 4a).

A transfer is governed by the law of the party that makes it, not by the law of the
recipient: a UK company's transfer to India is a restricted transfer under the UK GDPR,
not a GDPR Chapter V transfer. So each hop is judged under the regime of its own
exporter: at the root the exporter's country chooses; below the root, the country where
the parent node is established. A parent established outside the EEA, the UK and
Switzerland passes on the regime of the hop above it, because its onward transfers are
bound by the clauses of that regime (Decision 2021/914 Clause 8.7 and 8.8; the IDTA
Part 2 section 16).

An exporter established elsewhere is under the GDPR only by Art. 3(2), which the request
must state (`subject_to_gdpr`); when it is not, no modelled law applies (`none`) and the
exporter's own export rules must be assessed. A UK or Swiss exporter subject to the GDPR
as well is under both laws: each hop is judged under each, and the stricter finding wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

GDPR = "gdpr"
UK_GDPR = "uk_gdpr"
CH_FADP = "ch_fadp"
NONE = "none"
REGIMES = (GDPR, UK_GDPR, CH_FADP, NONE)

Regimes = tuple[str, ...]

#: why a stated tool of a regime does not count (`regime_facts.RegimeTools`); "" when none is stated
#: or one counts
TOOL_PROBLEMS = (
    "",
    "module_mismatch",
    "not_yet_applicable",
    "addendum_without_clauses",
    "expired",
    "eu_clauses_alone",
    "not_yet_concluded",
)

#: the topics of a regime's `law` periods, each given to the rules as fact `law_<topic>`
LAW_TOPICS = (
    "transfers",
    "adequacy",
    "transitional_adequacy",
    "safeguards",
    "bcr",
    "tools",
    "derogations",
    "public_interest",
    "assessment",
    # the Swiss FADP's own provisions (SPEC section 4a): clauses notified to the authority,
    # codes and certifications, treaties, the specific guarantees of public bodies, the notice of
    # a derogation on request, and the provisions on processors and controllers
    "notified_clauses",
    "codes",
    "public_instruments",
    "specific_guarantees",
    "derogation_notice",
    "processors",
    "subprocessors",
    "controllers",
    "lawfulness",
    "security",
)


def of_country(
    country: str | None, on: dt.date, in_eea: Callable[[str, dt.date], bool], areas: dict[str, str]
) -> str | None:
    """The regime whose area `country` is in on `on`, or None for anywhere else. `areas`: the
    countries of each modelled regime's own area (`Reference.regime_areas`); the EEA comes
    first, so the UK is under the GDPR while it counts as EEA (up to 2020-12-31)."""
    if country is None:
        return None
    if in_eea(country, on):
        return GDPR
    return areas.get(country)


def at_root(own: str | None, subject_to_gdpr: bool | None) -> Regimes:
    """The root exporter's regimes, from the regime of its country and its Art. 3(2) status.

    `subject_to_gdpr` None for an exporter elsewhere is refused before this (a 422): the
    contract never guesses whether the GDPR applies."""
    if own == GDPR:
        return (GDPR,)
    if own is None:
        return (GDPR,) if subject_to_gdpr else (NONE,)
    return (own, GDPR) if subject_to_gdpr else (own,)


def below(parent_regime: str | None, above: Regimes) -> Regimes:
    """The regimes of a hop below the root: those of the parent's country, else the hop above's."""
    return (parent_regime,) if parent_regime is not None else above


def label(regimes: Regimes) -> str:
    """The regimes as the answer names them: `uk_gdpr+gdpr`."""
    return "+".join(regimes)


def needs_status(own: str | None) -> bool:
    """An exporter elsewhere must say whether the GDPR applies to it (Art. 3(2))."""
    return own is None
