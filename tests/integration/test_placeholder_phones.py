"""A placeholder phone (000-000-0000) or a number that is nobody's where it is read joins
no one, and an import says how many rows gave an email or phone it could not read."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from test_bulk_import import HEADER, write_csv
from test_shared_phones import _import, _people_by_row, _sender

from leadflow.adapters.store import tables as t


def _rows(*people: tuple[str, str, str]) -> list[list[str]]:
    rows = []
    for email, phone, company in people:
        row = [""] * len(HEADER)
        row[4], row[6], row[7] = email, phone, company
        rows.append(row)
    return rows


STRANGERS = [
    ("alice@alpha.com", "000-000-0000", "Alpha"),
    ("bob@beta.com", "000-000-0000", "Beta"),
    ("carol@gamma.com", "0000000000", "Gamma"),
    ("dan@delta.com", "123-456-7890", "Delta"),
    ("eve@epsilon.com", "123 456 7890", "Epsilon"),
    ("fay@zeta.com", "030 1234567", "Zeta"),  # Berlin's, read in the US
    ("gil@eta.com", "030-123-4567", "Eta"),
]


def test_strangers_who_typed_a_placeholder_stay_apart_when_imported(
    engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "junk.csv", _rows(*STRANGERS))
    summary = _import(engine, path)
    assert (summary.new_people, summary.merged_total) == (len(STRANGERS), 0)
    assert summary.unread == {"phone": len(STRANGERS)}
    assert len(set(_people_by_row(engine))) == len(STRANGERS)
    with engine.connect() as c:
        assert (
            c.execute(
                select(func.count())
                .select_from(t.person_keys)
                .where(t.person_keys.c.kind == "phone")
            ).scalar()
            == 0
        )


def test_strangers_who_typed_a_placeholder_stay_apart_when_captured(engine: Engine) -> None:
    send = _sender(engine)
    got = [send(email=e, phone=p, company=c) for e, p, c in STRANGERS]
    assert len({g.person_id for g in got}) == len(STRANGERS)
    assert all(g.merged is None for g in got)


def test_an_import_counts_emails_and_phones_it_could_not_read(
    engine: Engine, tmp_path: Path
) -> None:
    rows = _rows(
        ("ann@acme.com", "+44 20 7946 0958", "Acme"),  # both read
        ("not-an-email", "+1 415 555 0100", "Acme"),  # the phone finds someone
        ("bob@acme.com", "call me", "Acme"),
        ("cy@acme.com", "020 7946 0000", "Acme"),  # London's, read in the US: too short
    )
    summary = _import(engine, write_csv(tmp_path / "issues.csv", rows))
    assert summary.unread == {"email": 1, "phone": 2}
    assert not summary.quarantined
