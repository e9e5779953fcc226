"""A country told from a code or a name reads a phone without its country code; the
vectorised normaliser reads each row's phone in its own country, as ``normalise`` does."""

from __future__ import annotations

import polars as pl
import pytest

from leadflow.adapters.identity.countries import country_of, region_of
from leadflow.adapters.identity.normalise import normalise, normalise_frame


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("DE", "DE"),
        (" gb ", "GB"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("ALLEMAGNE", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("España", "ES"),
        ("Espana", "ES"),
        ("日本", "JP"),
        ("Paris", None),
        ("", None),
        (None, None),
    ],
)
def test_a_country_is_told_by_code_or_name(country: object, region: str | None) -> None:
    assert region_of(country) == region


def test_the_first_country_field_with_a_value_is_the_inquirys() -> None:
    fields = {"email": "a@b.io", "Country": " ", "country_code": "FR", "country": "DE"}
    assert country_of(fields) == "FR"
    assert country_of({"email": "a@b.io"}) is None


def test_each_row_is_read_in_its_own_country_as_one_inquiry_is() -> None:
    phones = ["030 1234567", "020 7946 0000", "(415) 555-0100", "030 1234567", "+49 30 1234567"]
    countries = ["Germany", "GB", None, "Atlantis", "US"]
    frame = normalise_frame(pl.DataFrame({"phone": phones, "country": countries}), region="US")
    one_by_one = [
        normalise(None, phone, None, None, None, None, region=region_of(country) or "US").phone
        for phone, country in zip(phones, countries, strict=True)
    ]
    assert frame["phone"].to_list() == one_by_one
    assert one_by_one == ["+49301234567", "+442079460000", "+14155550100", None, "+49301234567"]
