"""A person is written to at their own address: one who first wrote from a role address
(info@) and then from their own is written to at their own, captured or imported; and an
address kept first stays when the next is a role address or another personal one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_bulk_import import HEADER, captured_alike, write_csv
from test_shared_phones import PB, _import, _sender

from leadflow.adapters.store import tables as t

ROLE_FIRST = [
    ("info@acme.com", "Ann", "Lee", "1"),
    ("ann.lee@acme.com", "Ann", "Lee", "1"),  # her own: written to here from now on
    ("sales@acme.com", "Ann", "Lee", "1"),
    ("ann@gmail.com", "Ann", "Lee", "1"),  # another of hers: the first own one stays
]
PERSONAL_FIRST = [ROLE_FIRST[1], ROLE_FIRST[0], ROLE_FIRST[3]]
ROLES_ONLY = [ROLE_FIRST[0], ROLE_FIRST[2]]


def _rows(writes: list[tuple[str, str, str, str]]) -> list[list[str]]:
    rows = []
    for email, first, last, ext in writes:
        row = [""] * len(HEADER)
        row[0:3], row[4] = [ext, first, last], email
        rows.append(row)
    return rows


def _emails(engine: Engine) -> list[str | None]:
    with engine.connect() as c:
        return list(c.execute(select(t.people.c.email).order_by(t.people.c.id)).scalars())


CASES = [
    (ROLE_FIRST, "ann.lee@acme.com"),
    (PERSONAL_FIRST, "ann.lee@acme.com"),
    (ROLES_ONLY, "info@acme.com"),
]


@pytest.mark.parametrize(("writes", "kept"), CASES)
def test_captured_a_person_is_written_to_at_their_own_address(
    engine: Engine, writes: list[tuple[str, str, str, str]], kept: str
) -> None:
    send = _sender(engine)
    for email, first, last, ext in writes:
        send(email=email, first_name=first, last_name=last, id=ext)
    assert _emails(engine) == [kept]


@pytest.mark.parametrize(("writes", "kept"), CASES)
def test_imported_as_captured(
    engine: Engine,
    reference: Engine,
    tmp_path: Path,
    writes: list[tuple[str, str, str, str]],
    kept: str,
) -> None:
    """In slices of three rows: the first slice makes the person, the next folds into
    the stored one."""
    path = write_csv(tmp_path / "ann.csv", _rows(writes))
    _import(engine, path)
    assert _emails(engine) == [kept]
    captured_alike(engine, reference, PB, path)


def test_an_import_gives_a_stored_person_their_own_address(engine: Engine, tmp_path: Path) -> None:
    send = _sender(engine)
    send(email="info@acme.com", first_name="Ann", last_name="Lee", id="1")
    _import(engine, write_csv(tmp_path / "later.csv", _rows(ROLE_FIRST[1:])))
    assert _emails(engine) == ["ann.lee@acme.com"]
