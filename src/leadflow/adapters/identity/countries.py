"""The country an inquiry gives, as the region its phone number is read in.

A number written without its country code ("020 7946 0000") is read as dialled in a
region: the inquiry's own country when it gives one that can be told, else the
deployment's ``LEADFLOW_DEFAULT_REGION``. A country is told from an ISO 3166 alpha-2 code
("DE", "gb"), the common short forms "UK", "USA", "U.S.", "U.S.A.", or a country's name
in any of the languages phonenumbers' own tables name it in ("Germany", "Deutschland",
"Allemagne"; case, accents, spaces and dots do not count). A value it cannot tell (a
city, a typo) leaves the default: a wrong guess would read the number wrong.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache

import phonenumbers

from leadflow.domain.values import clean, column_key

COUNTRY_FIELDS = frozenset({"country", "country_code", "countrycode", "country_region"})
"""The names (as ``values.column_key`` reads them) an inquiry gives its country under:
Salesforce's and leadflow's ``Country``, HubSpot's ``Country/Region``."""

_SHORT = {"uk": "GB", "usa": "US", "us": "US", "america": "US", "england": "GB"}


def country_of(fields: Mapping[str, object]) -> object:
    """The country an inquiry's fields give, under the first of its names with a value."""
    for name, value in fields.items():
        if column_key(str(name)) in COUNTRY_FIELDS and clean(value) is not None:
            return value
    return None


def region_of(country: object) -> str | None:
    """The phone region a country names, or None when it cannot be told."""
    text = clean(country)
    if text is None:
        return None
    return _regions().get(_key(text))


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if c.isalnum())


@cache
def _regions() -> dict[str, str]:
    """Every way of naming a region: its code, and its names in phonenumbers' locales
    (a name two regions share, as some translations do, names neither)."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    supported = phonenumbers.SUPPORTED_REGIONS
    named: dict[str, set[str]] = {}
    for region, names in LOCALE_DATA.items():
        if region not in supported:
            continue
        for name in names.values():
            if name and not name.startswith("*"):
                named.setdefault(_key(name), set()).add(region)
    found = {key: next(iter(regions)) for key, regions in named.items() if len(regions) == 1}
    found.update({region.casefold(): region for region in supported})
    found.update(_SHORT)
    return found
