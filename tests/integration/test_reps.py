"""Reps on SQLite and PostgreSQL: add, list, find, update, deactivate, and what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.reps import (
    AddRep,
    add_rep,
    deactivate_rep,
    find_rep,
    list_reps,
    update_rep,
)
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ANN = AddRep(
    "Ann Lee",
    " Ann.Lee@Acme.IO ",
    team="emea",
    capacity=20,
    territories=["DE", "AT", "DE"],
    working_hours="Europe/Berlin mon-fri 09:00-17:00",
)


def add(engine: Engine, command: AddRep = ANN) -> int:
    with UnitOfWork(engine) as uow:
        return add_rep(uow, command, NOW).id


def test_a_rep_is_stored_normalised_and_found_by_id_or_email(engine: Engine) -> None:
    rep_id = add(engine)
    with UnitOfWork(engine) as uow:
        rep = find_rep(uow, rep_id)
        assert find_rep(uow, "ANN.LEE@acme.io") == rep
        assert find_rep(uow, str(rep_id)) == rep
    assert rep.email == "ann.lee@acme.io"
    assert (rep.name, rep.team, rep.capacity) == ("Ann Lee", "emea", 20)
    assert rep.territories == ("DE", "AT")
    assert rep.working_hours == "Europe/Berlin Mon-Fri 09:00-17:00"
    assert (rep.away_from, rep.away_until, rep.active) == (None, None, True)
    assert rep.created_at == rep.updated_at == NOW


def test_a_duplicate_email_is_a_conflict_and_adds_nothing(engine: Engine) -> None:
    add(engine)
    with UnitOfWork(engine) as uow, pytest.raises(Conflict, match=r"ann\.lee@acme\.io"):
        add_rep(uow, AddRep("Another Ann", "ANN.LEE@acme.io"), NOW)
    with UnitOfWork(engine) as uow:
        assert [r.name for r in list_reps(uow, include_inactive=True)] == ["Ann Lee"]


@pytest.mark.parametrize(
    ("command", "where", "words"),
    [
        (AddRep("", "a@acme.io"), "name", "needs a name"),
        (AddRep("A", "not-an-address"), "email", "not a valid address"),
        (AddRep("A", ""), "email", "needs an email"),
        (AddRep("A", "a@acme.io", capacity=-1), "capacity", "0 or more"),
        (AddRep("A", "a@acme.io", territories=["DE", " "]), "territories[1]", "territory"),
        (AddRep("A", "a@acme.io", working_hours="Berlin Mon 09:00-17:00"), "working_hours", "zone"),
        (AddRep("A", "a@acme.io", away_from="2026-12-24"), "away_until", "both"),
        (AddRep("A", "a@acme.io", away_until="2026-12-24"), "away_from", "both"),
        (
            AddRep("A", "a@acme.io", away_from="24.12.2026", away_until="2027-01-01"),
            "away_from",
            "day",
        ),
        (
            AddRep("A", "a@acme.io", away_from="2027-01-02", away_until="2027-01-01"),
            "away_until",
            "before it starts",
        ),
    ],
)
def test_bad_values_are_refused_where_they_are(
    engine: Engine, command: AddRep, where: str, words: str
) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput, match=words) as caught:
        add_rep(uow, command, NOW)
    assert caught.value.where == where
    with UnitOfWork(engine) as uow:
        assert list_reps(uow, include_inactive=True) == []


def test_update_changes_only_what_is_given_and_clears_with_none(engine: Engine) -> None:
    rep_id = add(engine)
    with UnitOfWork(engine) as uow:
        rep = update_rep(
            uow,
            "ann.lee@acme.io",
            {"capacity": None, "territories": ["FR"], "away_from": "2026-12-24",
             "away_until": date(2027, 1, 1)},
            LATER,
        )  # fmt: skip
    assert rep.id == rep_id
    assert (rep.capacity, rep.territories, rep.team) == (None, ("FR",), "emea")
    assert (rep.away_from, rep.away_until) == (date(2026, 12, 24), date(2027, 1, 1))
    assert (rep.created_at, rep.updated_at) == (NOW, LATER)
    with UnitOfWork(engine) as uow:
        assert find_rep(uow, rep_id) == rep  # committed


def test_an_update_that_changes_nothing_keeps_updated_at(engine: Engine) -> None:
    rep_id = add(engine)
    with UnitOfWork(engine) as uow:
        rep = update_rep(uow, rep_id, {"team": "emea", "territories": ["DE", "AT"]}, LATER)
    assert rep.updated_at == NOW


def test_update_refuses_a_taken_email_an_unknown_field_and_half_an_absence(engine: Engine) -> None:
    add(engine)
    bob = add(engine, AddRep("Bob", "bob@acme.io"))
    with UnitOfWork(engine) as uow:
        with pytest.raises(Conflict, match="another rep"):
            update_rep(uow, bob, {"email": "Ann.Lee@acme.io"}, LATER)
        with pytest.raises(InvalidInput) as caught:
            update_rep(uow, bob, {"colour": "red"}, LATER)
        assert caught.value.where == "colour"
        with pytest.raises(InvalidInput, match="both") as caught:
            update_rep(uow, bob, {"away_from": "2026-12-24"}, LATER)
        assert caught.value.where == "away_until"
        assert update_rep(uow, bob, {"email": "BOB@acme.io"}, LATER).email == "bob@acme.io"


def test_a_deactivated_rep_is_kept_but_listed_only_with_all(engine: Engine) -> None:
    ann = add(engine)
    bob = add(engine, AddRep("Bob", "bob@acme.io"))
    with UnitOfWork(engine) as uow:
        gone = deactivate_rep(uow, "bob@acme.io", LATER)
    assert (gone.active, gone.updated_at) == (False, LATER)
    with UnitOfWork(engine) as uow:
        assert [r.id for r in list_reps(uow)] == [ann]
        assert [r.id for r in list_reps(uow, include_inactive=True)] == [ann, bob]
        assert update_rep(uow, bob, {"active": True}, LATER).active is True


def test_an_unknown_rep_is_not_found(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        for ref in (99, "99", "nobody@acme.io", "not an address"):
            with pytest.raises(NotFound, match="no rep"):
                find_rep(uow, ref)
        with pytest.raises(NotFound):
            deactivate_rep(uow, 99, NOW)
