"""The access guard, the session cookie and the sign-in redirect, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from leadflow.domain.lifecycle import Lifecycle
from leadflow.errors import Forbidden
from leadflow.services.access import LeadPlace, check_dispose, check_role, check_see, may_see
from leadflow.services.users import User
from leadflow.web.deps import safe_next
from leadflow.web.session import COOKIE, Session, Sessions

KEY = "k" * 40


def user(role: str, rep_id: int | None = None, team: str | None = None) -> User:
    return User(
        1, "u@acme.example", "U", role, rep_id, team, True, datetime(2026, 1, 1, tzinfo=UTC)
    )


def lead(
    owner: int | None, team: str | None, held: bool = False, owner_team: str | None = None
) -> LeadPlace:
    state = Lifecycle(
        stage="marketing_qualified",
        team=team,
        owner_rep_id=owner,
        recontact_on=date(2027, 1, 1) if held else None,
    )
    return LeadPlace(42, state, owner_team)


def test_a_rep_sees_its_own_leads_and_its_teams_pool_only() -> None:
    ann = user("rep", rep_id=1, team="east")
    assert may_see(ann, lead(1, "east"))
    assert may_see(ann, lead(1, "west"))  # its own, whatever the team
    assert may_see(ann, lead(None, "east"))  # the pool
    assert not may_see(ann, lead(2, "east"))  # a colleague's
    assert not may_see(ann, lead(None, "west"))  # another team's pool
    assert not may_see(ann, lead(None, "east", held=True))  # handed back: marketing's
    assert not may_see(ann, lead(None, None))
    with pytest.raises(Forbidden, match="not yours"):
        check_see(ann, lead(2, "east"))


def test_a_manager_sees_its_team_by_the_lead_or_by_the_owner() -> None:
    boss = user("manager", team="east")
    assert may_see(boss, lead(2, "east"))
    assert may_see(boss, lead(2, None, owner_team="east"))
    assert not may_see(boss, lead(2, "west", owner_team="west"))
    assert not may_see(user("manager"), lead(2, None))  # a manager of no team sees nothing


def test_marketing_and_admins_see_everything_but_marketing_does_not_dispose() -> None:
    for role in ("marketing", "admin"):
        assert may_see(user(role), lead(7, "west"))
    with pytest.raises(Forbidden, match="sales does"):
        check_dispose(user("marketing"), lead(7, "west"), "accept")
    check_dispose(user("admin"), lead(7, "west"), "reassign")


def test_a_rep_accepts_from_the_pool_but_hands_back_only_its_own() -> None:
    ann = user("rep", rep_id=1, team="east")
    check_dispose(ann, lead(None, "east"), "accept")
    check_dispose(ann, lead(1, "east"), "reject")
    with pytest.raises(Forbidden, match="accept it first"):
        check_dispose(ann, lead(None, "east"), "reject")
    with pytest.raises(Forbidden, match="manager does"):
        check_dispose(ann, lead(1, "east"), "reassign")
    with pytest.raises(Forbidden, match="for admin users"):
        check_role(ann, "admin")


def _request(cookie: str | None = None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request(
        {
            "type": "http",
            "headers": headers,
            "scheme": "http",
            "server": ("x", 80),
            "path": "/",
            "query_string": b"",
            "method": "GET",
            "state": {},
        }
    )


def _written(sessions: Sessions, session_user: int) -> str:
    request = _request()
    sessions.load(request).sign_in(session_user, "stamp-of-7")
    response = Response()
    sessions.write(request, response)
    header = response.headers["set-cookie"]
    assert "httponly" in header.lower() and "samesite=lax" in header.lower()
    return header.split(";")[0].split("=", 1)[1]


def test_the_session_cookie_is_signed_and_a_forged_one_is_a_new_visitor() -> None:
    sessions = Sessions(KEY, 3600)
    cookie = _written(sessions, 7)
    read = sessions.load(_request(cookie))
    assert (read.user_id, read.stamp) == (7, "stamp-of-7")
    forged = URLSafeTimedSerializer("another key", salt="leadflow.web.session").dumps(
        {"u": 1, "c": "x", "f": None}
    )
    assert sessions.load(_request(forged)).user_id is None
    assert sessions.load(_request(cookie[:-2] + "xx")).user_id is None
    assert Sessions(KEY, -1).load(_request(cookie)).user_id is None  # expired


def test_signing_in_gives_a_new_csrf_token_and_only_that_token_passes() -> None:
    session = Session()
    before = session.csrf
    session.sign_in(3, "stamp")
    assert session.csrf != before
    assert session.csrf_ok(session.csrf)
    assert not session.csrf_ok(before) and not session.csrf_ok(None) and not session.csrf_ok("")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/queue", "/queue"),
        ("/leads/4?x=1", "/leads/4?x=1"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_after_signing_in_a_visitor_goes_only_to_a_page_of_this_site(
    given: str | None, kept: str
) -> None:
    assert safe_next(given) == kept
