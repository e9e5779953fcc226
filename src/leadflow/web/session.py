"""Signed session cookies, CSRF tokens and flash messages.

The cookie holds ``{"u": user id, "s": the user's password stamp, "c": CSRF token, "f":
flash message}``, signed with
the secret key (itsdangerous, HMAC-SHA1 over the JSON and a timestamp) and refused
after ``LEADFLOW_SESSION_HOURS``. Nothing secret is in it: it says who signed in, and
the server checks on every request that this user is still active and that its
password is the one the session began under (a changed password ends every other
session of that user).

Every visitor gets a CSRF token with its first page (the sign-in form too, so signing
in cannot be forged either); every form carries it in a hidden ``csrf_token`` field and
every POST is refused without it (:func:`leadflow.web.deps.checked_form`). Signing in
starts a new session with a new token.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "leadflow_session"


@dataclass
class Session:
    user_id: int | None = None
    stamp: str | None = None  # the user's password stamp when the session began
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    flash: str | None = None
    dirty: bool = False  # the cookie must be written

    def sign_in(self, user_id: int, stamp: str) -> None:
        """A new session for the user: a new CSRF token (no fixation of the old one)."""
        self.user_id, self.stamp = user_id, stamp
        self.csrf, self.dirty = secrets.token_urlsafe(24), True

    def sign_out(self) -> None:
        self.user_id, self.stamp = None, None
        self.csrf, self.dirty = secrets.token_urlsafe(24), True

    def say(self, message: str) -> None:
        """A message for the next page (after a redirect)."""
        self.flash, self.dirty = message, True

    def take_flash(self) -> str | None:
        message, self.flash = self.flash, None
        if message is not None:
            self.dirty = True
        return message

    def csrf_ok(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token, self.csrf)


class Sessions:
    """Reads and writes the session cookie."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt="leadflow.web.session")
        self.max_age = max_age_seconds

    def load(self, request: Request) -> Session:
        cached = getattr(request.state, "session", None)
        if isinstance(cached, Session):
            return cached
        session = self._read(request.cookies.get(COOKIE))
        request.state.session = session
        return session

    def _read(self, cookie: str | None) -> Session:
        if not cookie:
            return Session(dirty=True)
        try:
            data: Any = self.serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return Session(dirty=True)
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return Session(dirty=True)
        user, stamp = data.get("u"), data.get("s")
        return Session(
            user_id=user if isinstance(user, int) else None,
            stamp=stamp if isinstance(stamp, str) else None,
            csrf=data["c"],
            flash=data.get("f") if isinstance(data.get("f"), str) else None,
        )

    def write(self, request: Request, response: Response) -> None:
        """Set the cookie when the session changed (or is new)."""
        session = self.load(request)
        if not session.dirty:
            return
        data = {"u": session.user_id, "s": session.stamp, "c": session.csrf, "f": session.flash}
        value = self.serializer.dumps(data)
        response.set_cookie(
            COOKIE,
            value,
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        session.dirty = False
