"""Colleagues with alike names are not one person when their own addresses say so: Mark
Jones (mark.jones@acme.com) and Mary Jones (mary.jones@acme.com) stay two, captured,
imported, and imported into a database that knows one of them; a typo in a name, which
is in no address, still joins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_bulk_import import HEADER, captured_alike, write_csv
from test_shared_phones import PB, _import, _sender

from leadflow.adapters.store import tables as t

# (first name, last name, email, phone), whose the inquiry is, and the rule joining it
# (None: someone new). Names follow a person's latest inquiry, so the order matters.
WRITES = [
    ("Mark", "Jones", "mark.jones@acme.com", "", "mark", None),
    ("Mary", "Jones", "mary.jones@acme.com", "", "mary", None),  # his colleague
    ("Mary", "Jones", "mjones@acme.com", "", "mary", "fuzzy_name"),  # her, by name
    ("Mark", "Jones", "mark.jones2@acme.com", "", "mark", "fuzzy_name"),  # the same name
    ("Mark", "Jone", "m.jones@acme.com", "", "mark", "fuzzy_name"),  # a typo: him
    ("Mary", "Jone", "", "+1 415 555 0142", "mary", "fuzzy_name"),  # no address: the likest
]


def _rows(writes: list[tuple[str, str, str, str, str, str | None]]) -> list[list[str]]:
    rows = []
    for first, last, email, phone, *_ in writes:
        row = [""] * len(HEADER)
        row[1], row[2], row[4], row[6], row[7] = first, last, email, phone, "Acme"
        rows.append(row)
    return rows


def _whose(engine: Engine) -> list[str]:
    """Whose each inquiry is, by the first inquiry's name of each person."""
    with engine.connect() as c:
        people = list(c.execute(select(t.inquiries.c.person_id).order_by(t.inquiries.c.id)))
    names: dict[int, str] = {}
    for (person,), (*_, whose, _rule) in zip(people, WRITES, strict=True):
        names.setdefault(person, whose)
    return [names[person] for (person,) in people]


def _rules(engine: Engine) -> list[str | None]:
    with engine.connect() as c:
        merged = dict(c.execute(select(t.merges.c.inquiry_id, t.merges.c.rule)).all())
        inquiries = list(c.execute(select(t.inquiries.c.id).order_by(t.inquiries.c.id)).scalars())
    return [merged.get(i) for i in inquiries]


def test_colleagues_stay_two_when_captured(engine: Engine) -> None:
    send = _sender(engine)
    for first, last, email, phone, *_ in WRITES:
        send(first_name=first, last_name=last, email=email, phone=phone, company="Acme")
    assert _whose(engine) == [whose for *_, whose, _ in WRITES]
    assert _rules(engine) == [rule for *_, rule in WRITES]


@pytest.mark.parametrize("slice_rows", [3, 100])
def test_colleagues_stay_two_when_imported_as_captured(
    engine: Engine, reference: Engine, tmp_path: Path, slice_rows: int
) -> None:
    """In slices of three rows (Mark and Mary in the database when the rest come) and
    in one."""
    path = write_csv(tmp_path / "acme.csv", _rows(WRITES))
    _import(engine, path, chunk_rows=slice_rows)
    assert _whose(engine) == [whose for *_, whose, _ in WRITES]
    captured_alike(engine, reference, PB, path)


def test_a_stored_colleague_is_told_apart_by_an_import(engine: Engine, tmp_path: Path) -> None:
    send = _sender(engine)
    mark = send(first_name="Mark", last_name="Jones", email="mark.jones@acme.com", company="Acme")
    summary = _import(engine, write_csv(tmp_path / "later.csv", _rows(WRITES[1:2])))
    assert (summary.new_people, summary.merged_total) == (1, 0)
    with engine.connect() as c:
        people = set(c.execute(select(t.people.c.id)).scalars())
    assert len(people) == 2 and mark.person_id in people
