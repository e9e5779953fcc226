"""Reps: the people leads are routed to. Add, list, find, update, deactivate.

A rep has a name, an email address (unique, normalised as every address is: see
``adapters/identity/emails.py``), an optional team, a capacity (the open leads it can
hold; none means no limit), territories, working hours (see
``domain/working_hours.py``) and an optional absence (out of office, from one day to
another, both included). A deactivated rep stays, with everything it owned; it only
gets no new leads. Reps are found by id or by email address.

Every value is checked here, so the CLI and the API refuse the same things with the
same words; ``where`` names the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from leadflow.adapters.identity.emails import normalise_email
from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.working_hours import parse_hours
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.uow import UnitOfWork

FIELDS = (
    "name",
    "email",
    "team",
    "capacity",
    "territories",
    "working_hours",
    "away_from",
    "away_until",
    "active",
)
"""What :func:`update_rep` may change."""


@dataclass(frozen=True)
class Rep:
    id: int
    name: str
    email: str
    team: str | None
    capacity: int | None
    territories: tuple[str, ...]
    working_hours: str | None
    away_from: date | None
    away_until: date | None
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AddRep:
    name: str
    email: str
    team: str | None = None
    capacity: int | None = None
    territories: Sequence[str] = ()
    working_hours: str | None = None
    away_from: date | str | None = None
    away_until: date | str | None = None


def _rep(row: Record) -> Rep:
    return Rep(
        id=int(row.id),
        name=row.name,
        email=row.email,
        team=row.team,
        capacity=row.capacity,
        territories=tuple(row.territories or ()),
        working_hours=row.working_hours,
        away_from=row.away_from,
        away_until=row.away_until,
        active=bool(row.active),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        updated_at=utc(row.updated_at),  # type: ignore[arg-type]
    )


def add_rep(uow: UnitOfWork, command: AddRep, now: datetime) -> Rep:
    values = _checked(asdict(command))
    _check_away(values["away_from"], values["away_until"])
    if uow.store.rep_by_email(values["email"]) is not None:
        raise Conflict(f"a rep with the email address {values['email']} exists already")
    rep_id = uow.store.insert_rep({**values, "active": True, "created_at": now, "updated_at": now})
    uow.commit()
    return find_rep(uow, rep_id)


def list_reps(uow: UnitOfWork, include_inactive: bool = False) -> list[Rep]:
    """The active reps, or every rep, in the order they were added."""
    return [_rep(row) for row in uow.store.reps(include_inactive)]


def find_rep(uow: UnitOfWork, ref: int | str) -> Rep:
    """The rep with this id (a number) or email address; NotFound if there is none."""
    text = str(ref).strip()
    if text.isdigit():
        row = uow.store.rep(int(text))
    else:
        email, _ = normalise_email(text)
        row = uow.store.rep_by_email(email) if email else None
    if row is None:
        raise NotFound(f"no rep '{text}' (see 'leadflow reps list --all')")
    return _rep(row)


def update_rep(uow: UnitOfWork, ref: int | str, changes: Mapping[str, Any], now: datetime) -> Rep:
    """Change the given fields (a value of None clears an optional one); the rest stay."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"a rep has no field {', '.join(unknown)}", where=unknown[0])
    rep = find_rep(uow, ref)
    values = _checked(changes)
    current = {**asdict(rep), "territories": list(rep.territories)}
    merged = {**current, **values}
    _check_away(merged["away_from"], merged["away_until"])
    email = values.get("email")
    if email is not None and email != rep.email and uow.store.rep_by_email(email) is not None:
        raise Conflict(f"another rep has the email address {email}")
    if merged != current:
        uow.store.update_rep(rep.id, {**values, "updated_at": now})
        uow.commit()
    return find_rep(uow, rep.id)


def deactivate_rep(uow: UnitOfWork, ref: int | str, now: datetime) -> Rep:
    """Route no new leads to this rep; it keeps everything it has."""
    return update_rep(uow, ref, {"active": False}, now)


# ------------------------------------------------------------------ checks


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each value in its stored form, or InvalidInput naming the field."""
    return {name: CHECKS[name](value) for name, value in values.items()}


def _name(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput("a rep needs a name", where="name")
    if len(text) > 200:
        raise InvalidInput("a name has at most 200 characters", where="name")
    return text


def _email(value: Any) -> str:
    email, issue = normalise_email(value)
    if email is None:
        raise InvalidInput(issue or "a rep needs an email address", where="email")
    return email


def _team(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    if len(text) > 100:
        raise InvalidInput("a team name has at most 100 characters", where="team")
    return text or None


def _capacity(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            f"'{value}' is not a capacity: give a whole number of open leads, 0 or more",
            where="capacity",
        )
    return value


def _territories(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    found: list[str] = []
    for index, item in enumerate(value):
        text = str(item).strip()
        if not text or len(text) > 100:
            raise InvalidInput("a territory is 1 to 100 characters", where=f"territories[{index}]")
        if text not in found:
            found.append(text)
    return found


def _hours(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    return str(parse_hours(str(value), where="working_hours"))


def _day(where: str) -> Callable[[Any], date | None]:
    def check(value: Any) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(f"'{value}' is not a day like 2026-12-24", where=where) from None

    return check


def _active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("active is true or false", where="active")
    return value


def _check_away(away_from: date | None, away_until: date | None) -> None:
    if (away_from is None) != (away_until is None):
        where = "away_until" if away_until is None else "away_from"
        raise InvalidInput("an absence needs both its first and its last day", where=where)
    if away_from is not None and away_until is not None and away_until < away_from:
        raise InvalidInput(
            f"the absence ends ({away_until}) before it starts ({away_from})", where="away_until"
        )


CHECKS = {
    "name": _name,
    "email": _email,
    "team": _team,
    "capacity": _capacity,
    "territories": _territories,
    "working_hours": _hours,
    "away_from": _day("away_from"),
    "away_until": _day("away_until"),
    "active": _active,
}
