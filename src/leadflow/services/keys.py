"""API keys: create, list, revoke, and tell who a presented key belongs to.

A key reads ``lf_<prefix>_<secret>``. Only the prefix (to find the key) and a hash
of the secret are stored, so the database never holds a usable key; the full key
is shown once, when it is created.

Scopes: ``capture`` may only capture inquiries and activities and is safe to embed
in a public page; ``admin`` may do everything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from leadflow.adapters.store.repository import Record, utc
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.uow import UnitOfWork

SCOPES = ("capture", "admin")
KEY_MARK = "lf"


@dataclass(frozen=True)
class ApiKey:
    prefix: str
    scope: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """``admin`` may do everything; ``capture`` only what needs ``capture``."""
        return self.scope == "admin" or self.scope == scope


@dataclass(frozen=True)
class NewKey:
    key: str  # the full key: shown once, never stored
    info: ApiKey


def _hash(secret: str) -> str:
    # A fast hash is right here: the secret is 256 random bits, not a password a person
    # chose, so there is nothing to guess and no dictionary to slow down; a slow KDF would
    # only add latency to every request.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _info(row: Record) -> ApiKey:
    return ApiKey(row.prefix, row.scope, row.name, utc(row.created_at), utc(row.revoked_at))  # type: ignore[arg-type]


def create_key(uow: UnitOfWork, scope: str, name: str | None, now: datetime) -> NewKey:
    if scope not in SCOPES:
        raise InvalidInput(f"'{scope}' is not a scope; use {' or '.join(SCOPES)}", where="scope")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    if uow.store.api_key_by_prefix(prefix) is not None:  # 1 in 4 billion; say so plainly
        raise Conflict("a key with the same prefix exists; create the key again")
    uow.store.insert_api_key(
        {
            "prefix": prefix,
            "secret_hash": _hash(secret),
            "scope": scope,
            "name": name,
            "created_at": now,
        }
    )
    uow.commit()
    return NewKey(f"{KEY_MARK}_{prefix}_{secret}", ApiKey(prefix, scope, name, now))


def list_keys(uow: UnitOfWork) -> list[ApiKey]:
    return [_info(row) for row in uow.store.api_keys()]


def revoke_key(uow: UnitOfWork, prefix: str, now: datetime) -> ApiKey:
    """Revoke a key by its prefix (``lf_<prefix>_...``); revoking twice keeps the first time."""
    prefix = prefix.removeprefix(f"{KEY_MARK}_").split("_", 1)[0]
    row = uow.store.api_key_by_prefix(prefix)
    if row is None:
        raise NotFound(f"no API key with prefix '{prefix}' (see 'leadflow keys list')")
    if row.revoked_at is None:
        uow.store.revoke_api_key(prefix, now)
        uow.commit()
        row = uow.store.api_key_by_prefix(prefix)
        assert row is not None
    return _info(row)


def authenticate(uow: UnitOfWork, presented: str) -> ApiKey | None:
    """The live key ``presented`` is, or None for a malformed, unknown or revoked one."""
    mark, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or not prefix or not secret:
        return None
    row = uow.store.api_key_by_prefix(prefix)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(_hash(secret), row.secret_hash):
        return None
    return _info(row)
