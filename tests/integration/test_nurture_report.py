"""The customer experience report on SQLite and PostgreSQL, against counts made by hand.

Three prospects (A, B, C) are captured, then touches are written as the worker and reps
would have: two weeks from Monday 2026-11-23, one touch outside the window.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from test_api import bearer  # pytest puts this folder on sys.path
from test_nurture import MONDAY, Desk

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.services.keys import create_key
from leadflow.services.nurture_report import Held, Touched, Weekly, experience
from leadflow.services.uow import UnitOfWork

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CAP = "cap: at most 2 marketing emails per week"
UNTIL = datetime(2026, 12, 7, tzinfo=UTC)


def day(n: int, hour: int = 10, minute: int = 0) -> datetime:
    """Day ``n`` after Monday 2026-11-23 (0: that Monday), at ``hour``:``minute`` UTC."""
    return MONDAY.replace(hour=hour, minute=minute) + timedelta(days=n)


def touches(desk: Desk) -> tuple[int, int, int]:
    a, b, c = desk.prospect(), desk.prospect(), desk.prospect()

    def row(person: int, at: datetime, channel: str, status: str = "sent", **more: Any) -> Any:
        values = {"stage": "prospect", "side": "marketing", "reason": None}
        return {"person_id": person, "at": at, "channel": channel, "status": status} | {
            **values,
            **more,
        }

    rows = [
        row(a, day(0), "email"),
        row(a, day(1), "email"),
        row(a, day(2), "call"),
        row(a, day(2, 11), "email", "deferred", reason=CAP),
        row(a, day(3), "email", "deferred", reason=CAP),
        row(a, day(7), "email"),  # the next week
        row(a, day(8), "mail"),
        row(a, day(21), "email"),  # after --until
        row(b, day(0), "email"),
        row(b, day(3), "email"),
        row(b, day(6, 23, 59), "email"),  # Sunday night: still the first week
        row(b, day(6, 22), "email", "deferred", reason="quiet hours where the person is"),
        row(b, day(7), "call", side="sales", stage="sales_accepted"),
        row(c, day(2), "email"),
        row(c, day(4), "email", "skipped", reason="unsubscribed from email"),
    ]
    with UnitOfWork(desk.engine) as uow:
        NurtureStore(uow.store.connection).add_touches(rows)
        uow.commit()
    return a, b, c


def test_touches_per_lead_per_week_caps_and_the_leads_touched_most(engine: Engine) -> None:
    desk = Desk(engine)
    a, b, _ = touches(desk)
    with UnitOfWork(engine) as uow:
        got = experience(uow, desk.pb, MONDAY - timedelta(days=7), UNTIL, top=2)
    assert (got.leads, got.sent, got.deferred, got.skipped) == (3, 10, 3, 1)
    # Lead-weeks (first week; second week), prospect emails: A 2; 1, B 3, C 1.
    assert got.weekly == [
        Weekly("prospect", "call", 1, 1, 1.0, 1, 1),
        Weekly("prospect", "email", 4, 7, 1.5, 3, 3),  # [1, 1, 2, 3]
        Weekly("prospect", "mail", 1, 1, 1.0, 1, 1),
        Weekly("prospect", "any", 4, 9, 2.5, 3, 3),  # A 3; 2, B 3, C 1
        Weekly("sales_accepted", "call", 1, 1, 1.0, 1, 1),
        Weekly("sales_accepted", "any", 1, 1, 1.0, 1, 1),
        Weekly("any", "any", 5, 10, 2.0, 3, 3),  # [1, 1, 2, 3, 3]
    ]
    assert got.held == [
        Held("deferred", CAP, True, 2, 1),
        Held("deferred", "quiet hours where the person is", False, 1, 1),
        Held("skipped", "unsubscribed from email", False, 1, 1),
    ]
    n = desk.n
    assert got.most == [
        Touched(a, f"Pat{n - 2}", f"p{n - 2}@firm{n - 2}.com", "prospect", 5, _ch(3, 1, 1), 3),
        Touched(b, f"Pat{n - 1}", f"p{n - 1}@firm{n - 1}.com", "prospect", 4, _ch(3, 1), 3),
    ]


def _ch(email: int, call: int, mail: int = 0) -> dict[str, int]:
    found = {"call": call, "email": email, "mail": mail}
    return {k: v for k, v in found.items() if v}


def test_the_window_is_since_inclusive_until_exclusive(engine: Engine) -> None:
    desk = Desk(engine)
    a, b, _ = touches(desk)
    with UnitOfWork(engine) as uow:
        second = experience(uow, desk.pb, day(7, 10), day(8, 10))  # A's email, B's call
        nothing = experience(uow, desk.pb, day(30), None)
        everything = experience(uow, desk.pb)
    assert (second.sent, [t.person_id for t in second.most]) == (2, [a, b])
    assert second.weekly[-1] == Weekly("any", "any", 2, 2, 1.0, 1, 1)
    assert (nothing.leads, nothing.weekly, nothing.most) == (0, [], [])
    assert nothing.held == [Held("deferred", CAP, True, 0, 0)]  # every cap, even idle
    assert everything.sent == 11


@pytest.fixture
def api(engine: Engine) -> Iterator[tuple[TestClient, Desk, dict[str, str]]]:
    desk = Desk(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with UnitOfWork(engine) as uow:
        admin = create_key(uow, "admin", "tests", desk.clock()).key
    app = create_app(settings, engine=engine, playbook=desk.pb, clock=desk.clock)
    with TestClient(app) as client:
        yield client, desk, bearer(admin)


def test_the_report_enrollments_and_call_queue_over_http(
    api: tuple[TestClient, Desk, dict[str, str]],
) -> None:
    client, desk, admin = api
    a, b, _ = touches(desk)
    url = "/api/v1/nurture/report?since=2026-11-30&until=2026-12-07&top=1"
    assert client.get(url).status_code == 401
    got = client.get(url, headers=admin)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["since"], body["until"]) == ("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z")
    assert (body["sent"], body["leads"]) == (3, 2)
    assert body["weekly"][-1] == {
        "stage": "any",
        "channel": "any",
        "lead_weeks": 2,
        "touches": 3,
        "median": 1.5,
        "p90": 2,
        "max": 2,
    }
    assert [m["person_id"] for m in body["most"]] == [a]
    assert body["held"] == [
        {"status": "deferred", "reason": CAP, "cap": True, "times": 0, "leads": 0}
    ]
    bad = client.get("/api/v1/nurture/report?since=2026-12-07&until=2026-11-30", headers=admin)
    assert bad.status_code == 422
    enrolled = client.get("/api/v1/nurture/enrollments?status=active", headers=admin).json()
    assert enrolled["count"] == 3 and {e["track"] for e in enrolled["data"]} == {"not_yet"}
    assert {e["person_id"] for e in enrolled["data"]} >= {a, b}
    calls = client.get("/api/v1/calls?limit=2", headers=admin).json()
    assert calls["count"] == 2
    assert calls["data"][0]["questions"] == 1  # the timeframe is not asked yet
    assert calls["data"][0]["waiting_since"] == "2026-11-23T09:00:00Z"  # UTC on both databases
