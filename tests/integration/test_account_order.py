"""A company is one account whichever of its people writes first: an account made by the
company's name alone (people writing from free-mail) takes the domain the first of its
people from the company's own domain gives; captured, imported in one go or in slices,
and imported into a database that made the account before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_bulk_import import HEADER, captured_alike, write_csv
from test_shared_phones import PB, _import, _sender

from leadflow.adapters.store import tables as t

FREE_MAIL_FIRST = [
    ("w5@outlook.com", "Beta"),
    ("w6@beta.com", "Beta GmbH"),
    ("w7@gmail.com", "BETA"),
    ("w8@beta.com", "Beta"),
]


def _rows(people: list[tuple[str, str]]) -> list[list[str]]:
    rows = []
    for i, (email, company) in enumerate(people):
        row = [""] * len(HEADER)
        row[1], row[2], row[4], row[7] = "W", f"Person{i}", email, company
        rows.append(row)
    return rows


def _accounts(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        query = select(t.accounts.c.domain, t.accounts.c.name, t.accounts.c.name_key)
        return [tuple(r) for r in c.execute(query.order_by(t.accounts.c.id))]


def _people_accounts(engine: Engine) -> set[object]:
    with engine.connect() as c:
        return set(c.execute(select(t.people.c.account_id)).scalars())


@pytest.mark.parametrize("people", [FREE_MAIL_FIRST, FREE_MAIL_FIRST[::-1]])
def test_captured_in_either_order_a_company_is_one_account(
    engine: Engine, people: list[tuple[str, str]]
) -> None:
    send = _sender(engine)
    for email, company in people:
        send(email=email, company=company, first_name="W")
    accounts = _accounts(engine)
    assert [domain for domain, *_ in accounts] == ["beta.com"]
    assert len(_people_accounts(engine)) == 1


@pytest.mark.parametrize("people", [FREE_MAIL_FIRST, FREE_MAIL_FIRST[::-1]])
def test_imported_in_either_order_a_company_is_one_account_as_captured(
    engine: Engine, reference: Engine, tmp_path: Path, people: list[tuple[str, str]]
) -> None:
    """In slices of three rows, so that the domain comes in a later transaction than
    the account made by name when free-mail writes first."""
    path = write_csv(tmp_path / "beta.csv", _rows(people))
    _import(engine, path)
    captured_alike(engine, reference, PB, path)
    assert [domain for domain, *_ in _accounts(engine)] == ["beta.com"]
    assert len(_people_accounts(engine)) == 1


def test_an_import_gives_a_stored_account_made_by_name_its_domain(
    engine: Engine, tmp_path: Path
) -> None:
    send = _sender(engine)
    first = send(email="w5@outlook.com", company="Beta", first_name="W")
    assert _accounts(engine) == [(None, "Beta", "beta")]
    _import(engine, write_csv(tmp_path / "later.csv", _rows(FREE_MAIL_FIRST[1:])))
    assert _accounts(engine) == [("beta.com", "Beta", "beta")]
    assert len(_people_accounts(engine)) == 1
    again = send(email="w9@beta.com", company="Beta AG", first_name="Z")
    with engine.connect() as c:
        account = select(t.people.c.account_id).where(t.people.c.id == again.person_id)
        mine = select(t.people.c.account_id).where(t.people.c.id == first.person_id)
        assert c.execute(account).scalar() == c.execute(mine).scalar()


def test_a_company_of_another_domain_keeps_its_own_account(engine: Engine) -> None:
    """The name's account has a domain already: a second domain of that name makes an
    account of its own, as before."""
    send = _sender(engine)
    send(email="a@beta.com", company="Beta", first_name="A")
    send(email="b@beta.de", company="Beta", first_name="B")
    assert [domain for domain, *_ in _accounts(engine)] == ["beta.com", "beta.de"]
