"""Users of the web pages: add, list, find, set a password (an admin, ``leadflow users
password``) or change one's own (the web's password page), deactivate, sign in.

A user has a role, and the role says what it sees (see :mod:`leadflow.services.access`):

- ``admin``: everything, and the users page;
- ``marketing``: every lead, the inquiries and the quarantine, the dashboards;
- ``manager`` (a sales manager): the leads of its team (``team``), and reassigns them;
- ``rep`` (a sales rep): its own leads (``rep_id``, a row of ``reps``) and its team's pool.

Passwords are kept only as argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommended setting). Signing in with an unknown address costs the same time as with
a wrong password, so the answer does not tell which addresses exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from leadflow.adapters.identity.emails import normalise_email
from leadflow.adapters.store.repository import Record, utc
from leadflow.adapters.store.users import UserStore
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.reps import find_rep
from leadflow.services.uow import UnitOfWork

ROLES = ("admin", "marketing", "manager", "rep")
ROLE_LABELS = {
    "admin": "Admin",
    "marketing": "Marketing",
    "manager": "Sales manager",
    "rep": "Sales rep",
}
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    role: str
    rep_id: int | None
    team: str | None
    active: bool
    created_at: datetime
    stamp: str = ""
    """Changes with the password: a session made before the change names an older one
    and ends (``leadflow.web.deps.current_user``)."""

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


@dataclass(frozen=True)
class AddUser:
    email: str
    password: str
    role: str
    name: str | None = None
    rep: int | str | None = None  # a rep's id or email address (role rep)
    team: str | None = None  # the team a manager leads (role manager)


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _decoy() -> str:
    """A hash to check a password against when the address is unknown: equal cost."""
    return hasher().hash("leadflow: no such user")


def _user(row: Record) -> User:
    return User(
        id=int(row.id),
        email=row.email,
        name=row.name,
        role=row.role,
        rep_id=int(row.rep_id) if row.rep_id is not None else None,
        team=row.team,
        active=bool(row.active),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
        stamp=password_stamp(row.password_hash),
    )


def password_stamp(password_hash: str) -> str:
    """A short digest of the stored hash: it says which password a session was made
    under, and nothing about the password (the hash is salted, and not in the cookie)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _email(value: str) -> str:
    email, issue = normalise_email(value)
    if email is None:
        raise InvalidInput(issue or "a user needs an email address", where="email")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters", where="password")
    if len(password) > 1000:
        raise InvalidInput("a password has at most 1000 characters", where="password")
    return password


def add_user(uow: UnitOfWork, command: AddUser, now: datetime) -> User:
    """Add a user; a rep is linked to its rep (by id or email), a manager to a team."""
    if command.role not in ROLES:
        raise InvalidInput(
            f"'{command.role}' is not a role; use one of {', '.join(ROLES)}", where="role"
        )
    email = _email(command.email)
    users = UserStore(uow.store.connection)
    if users.by_email(email) is not None:
        raise Conflict(f"a user with the email address {email} exists already")
    rep_id, team = None, (command.team or "").strip() or None
    name = (command.name or "").strip()
    if command.role == "rep":
        rep = find_rep(uow, command.rep if command.rep is not None else email)
        rep_id, team = rep.id, None  # a rep's team is its rep's, read when it signs in
        name = name or rep.name
    elif command.rep is not None:
        raise InvalidInput("only a sales rep (--role rep) is linked to a rep", where="rep")
    if command.role == "manager" and team is None:
        raise InvalidInput("a sales manager needs the team it manages (--team)", where="team")
    name = name or email.split("@")[0]
    user_id = users.insert(
        {
            "email": email,
            "name": name[:200],
            "role": command.role,
            "password_hash": hasher().hash(check_password(command.password)),
            "rep_id": rep_id,
            "team": team,
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
    )
    uow.commit()
    return find_user(uow, user_id)


def list_users(uow: UnitOfWork) -> list[User]:
    return [_user(row) for row in UserStore(uow.store.connection).all()]


def find_user(uow: UnitOfWork, ref: int | str) -> User:
    """The user with this id or email address; NotFound if there is none."""
    users = UserStore(uow.store.connection)
    text = str(ref).strip()
    row = users.by_id(int(text)) if text.isdigit() else users.by_email(_email(text))
    if row is None:
        raise NotFound(f"no user '{text}' (see 'leadflow users list')")
    return _user(row)


def active_user(uow: UnitOfWork, user_id: int) -> User | None:
    """The user of a session, while it is active; None once deactivated or removed.

    A rep's team is its rep's team now, so moving the rep moves what it sees.
    """
    row = UserStore(uow.store.connection).by_id(user_id)
    if row is None or not row.active:
        return None
    user = _user(row)
    if user.rep_id is not None:
        rep = uow.store.rep(user.rep_id)
        user = replace(user, team=rep.team if rep is not None else None)
    return user


def set_active(uow: UnitOfWork, ref: int | str, active: bool, now: datetime) -> User:
    user = find_user(uow, ref)
    UserStore(uow.store.connection).update(user.id, {"active": active, "updated_at": now})
    uow.commit()
    return find_user(uow, user.id)


def set_password(uow: UnitOfWork, ref: int | str, password: str, now: datetime) -> User:
    user = find_user(uow, ref)
    digest = hasher().hash(check_password(password))
    UserStore(uow.store.connection).update(user.id, {"password_hash": digest, "updated_at": now})
    uow.commit()
    return user


@dataclass(frozen=True)
class ChangePassword:
    """A signed-in user changes its own password: the current one, the new one twice."""

    user_id: int
    current: str
    new: str
    repeated: str


def change_password(uow: UnitOfWork, command: ChangePassword, now: datetime) -> User:
    """Check the current password, then keep the new one's hash; InvalidInput says what
    is wrong (``where``: the form's field)."""
    users = UserStore(uow.store.connection)
    row = users.by_id(command.user_id)
    if row is None or not row.active:
        raise NotFound("this user no longer exists or was deactivated")
    try:
        hasher().verify(row.password_hash, command.current)
    except (VerificationError, InvalidHashError):
        raise InvalidInput("the current password is not right", where="current") from None
    if command.new != command.repeated:
        raise InvalidInput("the two new passwords are not the same", where="repeated")
    try:
        check_password(command.new)
    except InvalidInput as error:
        raise InvalidInput(error.message, where="new") from None
    if command.new == command.current:
        raise InvalidInput("the new password is the current one: choose another", where="new")
    digest = hasher().hash(command.new)
    users.update(row.id, {"password_hash": digest, "updated_at": now})
    uow.commit()
    return replace(_user(row), stamp=password_stamp(digest))


def sign_in(uow: UnitOfWork, email: str, password: str, now: datetime) -> User | None:
    """The active user with this address and password, else None (same cost either way).

    A hash made with older parameters is upgraded on the way.
    """
    address, _ = normalise_email(email)
    users = UserStore(uow.store.connection)
    row = users.by_email(address) if address else None
    stored = row.password_hash if row is not None else _decoy()
    try:
        hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    if hasher().check_needs_rehash(stored):
        users.update(row.id, {"password_hash": hasher().hash(password), "updated_at": now})
        uow.commit()
    return active_user(uow, int(row.id))
