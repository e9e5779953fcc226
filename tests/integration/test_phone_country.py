"""A phone written without its country code is read in the inquiry's own country when it
gives one (a code or a name, in many languages), else in the default region: captured,
and imported as captured."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, select
from test_bulk_import import captured_alike
from test_shared_phones import PB, _import, _sender

from leadflow.adapters.store import tables as t

# email, phone, country, the phone as read
ROWS = [
    ("de@p.io", "030 1234567", "DE", "+49301234567"),
    ("gb@p.io", "020 7946 0000", "United Kingdom", "+442079460000"),
    ("fr@p.io", "01 42 68 53 00", "Frankreich", "+33142685300"),
    ("au@p.io", "0412 345 678", "australia", "+61412345678"),
    ("us@p.io", "(415) 555-0100", "", "+14155550100"),  # none given: the default, US
    ("xx@p.io", "020 7946 0001", "Narnia", None),  # not a country: the default, unread
    ("in@p.io", "+44 20 7946 0002", "Germany", "+442079460002"),  # its own code wins
]


def _phones(engine: Engine) -> list[str | None]:
    with engine.connect() as c:
        return list(c.execute(select(t.people.c.phone).order_by(t.people.c.id)).scalars())


def test_a_captured_phone_is_read_in_the_inquirys_country(engine: Engine) -> None:
    send = _sender(engine)
    for email, phone, country, _ in ROWS:
        send(email=email, phone=phone, country=country)
    assert _phones(engine) == [read for *_, read in ROWS]


def test_an_imported_phone_is_read_as_captured(
    engine: Engine, reference: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "phones.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "Phone", "Country", "Full Name"])
        writer.writerows([*row[:3], ""] for row in ROWS)
    summary = _import(engine, path)
    assert summary.unread == {"phone": 1}
    assert _phones(engine) == [read for *_, read in ROWS]
    captured_alike(engine, reference, PB, path)
