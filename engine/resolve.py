"""Turn the references of a flow request into places, collecting every problem.

A country may be named by ISO alpha-2 or alpha-3 code or English name, case-
insensitively, with the EU spellings EL and UK; a cloud location resolves through
the region catalogue; an organisation through its aliases. What cannot be
resolved becomes a 422 problem naming the field, with the closest known ids.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import pycountry

from engine.errors import Problem, did_you_mean
from engine.flow import CloudLocation, CountryLocation, Location, OrganisationLocation
from engine.reference import Reference


@dataclass(frozen=True)
class Place:
    """A resolved location: a country, a cloud region, an organisation or a location word."""

    country: str | None
    cloud: str | None = None
    region: str | None = None
    city: str | None = None
    organisation: str | None = None
    word: str = ""
    access: str = "full"  # full | own_staff | transit

    @property
    def key(self) -> str | None:
        """What reference data is keyed by: the country, or `organisation:<id>`."""
        return f"organisation:{self.organisation}" if self.organisation else self.country

    @property
    def label(self) -> str | None:
        """How a finding names this place: its country code, else the organisation or word."""
        return self.country or self.organisation or self.word or None

    def as_json(self) -> dict[str, str | None]:
        out = {
            "country": self.country,
            "cloud": self.cloud,
            "region": self.region,
            "organisation": self.organisation,
        }
        if self.city:
            out["city"] = self.city
        if self.word:
            out["word"] = self.word
        if self.access != "full":
            out["access"] = self.access
        return out


@lru_cache(maxsize=1)
def _country_names() -> list[str]:
    names = set()
    for c in pycountry.countries:
        names.update({c.alpha_2, c.alpha_3, c.name})
        for attr in ("official_name", "common_name"):
            if hasattr(c, attr):
                names.add(getattr(c, attr))
    return sorted(names)


def region_problem(ref: Reference, provider: str, region: str) -> tuple[str, str]:
    """Why a region id does not resolve, and what to write instead: a region whose country no
    source states is known as such; an id of another provider is named as that provider's;
    otherwise the closest ids, or the provider's regions in a city the id names."""
    unconfirmed = ref.unconfirmed_region(provider, region)
    if unconfirmed is not None:
        msg = f"{provider} region {region!r} is known, but no source states its country"
        return msg, f'{unconfirmed.reason}; state the country instead, e.g. {{"country": ".."}}'
    in_city = ref.regions_in_city(provider, re.split(r"[^A-Za-z]+", region))
    by_city = None
    if in_city:
        by_city = f"{' or '.join(repr(r.id) for r in in_city[:3])} ({in_city[0].city})"
    others = [p for p in ref.providers_of(region) if p != provider]
    if others:
        hint = f'use {{"cloud": "{others[0]}", "region": "{region}"}}'
        return (
            f"{region!r} is a region of {' and '.join(others)}, not of {provider}",
            hint + (f", or {provider}'s {by_city}" if by_city else ""),
        )
    known = ref.region_ids(provider)
    hint = (
        (f"did you mean {by_city}?" if by_city else None)
        or did_you_mean(region, known)
        or f"{len(known)} known {provider} regions; see GET /v1/regions/{provider}"
    )
    return f"unknown {provider} region {region!r}", hint


@lru_cache(maxsize=1)
def _dutch_names() -> dict[str, str]:
    """Country names in Dutch from pycountry's own translations (`Nederland`, `Duitsland`,
    `Verenigde Staten`), case-folded; `_lookup` also takes them with the article a Dutch text
    puts before some ("de Verenigde Staten")."""
    dutch = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["nl"])
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            english = getattr(c, attr, None)
            if english:
                name = dutch.gettext(english).casefold()
                names.setdefault(name, c.alpha_2)
    return names


class Resolver:
    def __init__(self, reference: Reference):
        self.ref = reference
        self._aliases = {k.casefold(): val for k, val in reference.aliases.countries.items()}
        self._organisations = {
            alias.casefold(): org_id
            for org_id, org in reference.aliases.organisations.items()
            for alias in (org_id, *org.aliases)
        }
        self._words = {w.casefold(): w for w in reference.aliases.location_words}
        self._cache: dict[str, str | None] = {}

    def country(self, ref: str) -> str | None:
        """The alpha-2 code of a country reference, or None."""
        key = ref.strip().casefold()
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        return self._cache[key]

    def _lookup(self, key: str) -> str | None:
        if key in self._aliases:
            return self._aliases[key]
        dutch = _dutch_names()
        for candidate in (key, key.removeprefix("de "), key.removeprefix("het ")):
            if candidate in dutch:
                return dutch[candidate]
        for candidate in (key, key.removeprefix("the ")):
            try:
                return pycountry.countries.lookup(candidate).alpha_2
            except LookupError:
                continue
        return None

    def country_problem(self, loc: str, ref: str) -> Problem:
        hint = (
            did_you_mean(ref, _country_names())
            or "use an ISO 3166-1 alpha-2 code such as 'NL' or an English name"
        )
        return Problem(loc, f"unknown country {ref!r}", hint)

    def location(self, loc: str, value: Location) -> tuple[Place | None, Problem | None]:
        if isinstance(value, str):
            word = self._words.get(value.strip().casefold())
            if word is not None:
                return Place(country=None, word=word), None
            return self._country_place(loc, value)
        if isinstance(value, OrganisationLocation):
            org = self._organisations.get(value.organisation.strip().casefold(), value.organisation.strip())
            return Place(country=None, organisation=org), None
        if isinstance(value, CountryLocation):
            place, problem = self._country_place(f"{loc}.country", value.country)
        elif isinstance(value, CloudLocation):
            place, problem = self._cloud_place(loc, value)
        else:
            raise TypeError(f"unexpected location {value!r}")
        return (replace(place, access=value.access) if place else None), problem

    def _country_place(self, loc: str, ref: str) -> tuple[Place | None, Problem | None]:
        code = self.country(ref)
        if code is None:
            return None, self.country_problem(loc, ref)
        return Place(country=code), None

    def _cloud_place(self, loc: str, value: CloudLocation) -> tuple[Place | None, Problem | None]:
        provider = value.cloud.strip().lower()
        if provider not in self.ref.providers:
            hint = did_you_mean(provider, sorted(self.ref.providers)) or "known providers: " + ", ".join(
                sorted(self.ref.providers)
            )
            return None, Problem(f"{loc}.cloud", f"unknown cloud provider {value.cloud!r}", hint)
        region = self.ref.region(provider, value.region.strip())
        if region is None:
            msg, hint = region_problem(self.ref, provider, value.region.strip())
            return None, Problem(f"{loc}.region", msg, hint)
        return Place(country=region.country, cloud=provider, region=region.id, city=region.city), None
