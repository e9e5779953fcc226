"""The nurture page and changing one's own password, on SQLite and PostgreSQL.

Prospects are captured into the ``not_yet`` track of ``test_nurture.py``'s playbook
(welcome at once, a case study 3 days later, a call 4 days after that, a check-in a
week after) and the worker's pass runs on the test's clock: Monday 2026-11-23 12:00 UTC,
when it is 21:00 in Tokyo (quiet hours) and a do-not-email prospect is skipped.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from test_nurture import MONDAY, Desk  # pytest puts this folder on sys.path
from test_web import PASSWORD, csrf, post, sign_in

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.errors import InvalidInput
from leadflow.services import nurture_views
from leadflow.services.nurture_report import Held
from leadflow.services.nurture_views import MemberSearch, nurture_page, parse_after
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork
from leadflow.services.users import AddUser, ChangePassword, add_user, change_password

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

NOON = MONDAY.replace(hour=12)
CAP = "cap: at most 2 marketing emails per week"
QUIET = "quiet hours where the person is"


class Nurtured:
    """Five prospects after the first pass: a, b and c got the welcome (c is paused
    since), tokyo's welcome waits for the morning there, nope's was skipped."""

    def __init__(self, engine: Engine) -> None:
        self.desk = desk = Desk(engine)
        self.a, self.b, self.c = desk.prospect(), desk.prospect(), desk.prospect()
        self.tokyo = desk.prospect(timezone="Asia/Tokyo")
        self.nope = desk.prospect(do_not_email="yes")
        desk.clock.at = NOON
        desk.run()
        with UnitOfWork(engine) as uow:
            ns = NurtureStore(uow.store.connection)
            ns.set_status(int(ns.active(self.c).id), "paused")  # type: ignore[union-attr]
            uow.commit()

    def page(self, search: MemberSearch | None = None, **more: Any) -> Any:
        with UnitOfWork(self.desk.engine) as uow:
            pb, now = self.desk.pb, self.desk.clock()
            return nurture_page(uow, pb, now, search or MemberSearch(), **more)


@pytest.fixture
def nurtured(engine: Engine) -> Nurtured:
    return Nurtured(engine)


def test_the_tracks_say_who_is_at_which_step(nurtured: Nurtured) -> None:
    page = nurtured.page()
    bad_timing, not_yet = page.tracks
    assert (bad_timing.name, bad_timing.people) == ("bad_timing", 0)
    assert bad_timing.enters.startswith("Leads sales handed back")
    assert not_yet.name == "not_yet" and not_yet.enters.endswith("when grade in (c, d)")
    assert [(s.words, s.active, s.paused) for s in not_yet.steps] == [
        ("email 'welcome'", 1, 0),  # tokyo: deferred, still the first step
        ("email 'case_study'", 2 + 1, 1),  # a, b and nope (skipped the welcome); c paused
        ("call: ask about budget and timing", 0, 0),
        ("email 'checkin'", 0, 0),
    ]
    assert [s.wait for s in not_yet.steps][:2] == [
        "on entering the track",
        "3 days after the step before",
    ]
    assert (not_yet.active, not_yet.paused, not_yet.people) == (4, 1, 5)


def test_the_schedule_counts_the_steps_due_by_day(nurtured: Nurtured) -> None:
    schedule = nurtured.page().schedule
    assert schedule.columns == [
        "Due now",
        "Later today",
        "Tue 24 Nov",
        "Wed 25 Nov",
        "Thu 26 Nov",
        "Fri 27 Nov",
        "Sat 28 Nov",
        "Sun 29 Nov",
    ]
    assert [(r.track, r.step, r.counts) for r in schedule.rows] == [
        ("not_yet", 0, [0, 1, 0, 0, 0, 0, 0, 0]),  # tokyo at 23:00 UTC, 08:00 there
        ("not_yet", 1, [0, 0, 0, 0, 3, 0, 0, 0]),  # Thursday noon; c is paused
    ]
    assert schedule.totals == [0, 1, 0, 0, 3, 0, 0, 0]
    nurtured.desk.clock.at = NOON + timedelta(days=4)  # Friday noon: overdue, then nothing
    later = nurtured.page().schedule
    assert [(r.step, r.counts[0]) for r in later.rows] == [(0, 1), (1, 3)]
    assert later.columns[2] == "Sat 28 Nov"


def test_what_the_contact_policy_held_back(nurtured: Nurtured) -> None:
    page = nurtured.page()
    assert page.held == [
        Held("deferred", CAP, True, 0, 0),  # every cap, even one that held nothing
        Held("deferred", QUIET, False, 1, 1),
        Held("skipped", "unsubscribed from email", False, 1, 1),
    ]
    latest = {(h.person_id, h.status, h.reason, h.step_words) for h in page.latest_held}
    assert latest == {
        (nurtured.tokyo, "deferred", QUIET, "email 'welcome'"),
        (nurtured.nope, "skipped", "unsubscribed from email", "email 'welcome'"),
    }
    nurtured.desk.clock.at = NOON + timedelta(days=1, minutes=1)
    day = nurtured.page(held_days=1)
    assert (day.held_days, day.held, day.latest_held) == (
        1,
        [Held("deferred", CAP, True, 0, 0)],
        [],
    )
    assert nurtured.page(held_days=365).held_days == 7  # only 1, 7 or 30


def test_who_is_in_a_track_the_next_due_first_a_page_at_a_time(
    nurtured: Nurtured, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = nurtured
    page = n.page()
    assert page.search.track == "not_yet"  # the first track anyone is in
    assert [m.person_id for m in page.members] == [n.tokyo, n.a, n.b, n.c, n.nope]
    tokyo, a = page.members[:2]
    assert (tokyo.step, tokyo.step_words, tokyo.steps) == (0, "email 'welcome'", 4)
    assert tokyo.due_at == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert (a.name, a.status, a.grade, a.last_step_at) == (f"Pat{n.a}", "active", "D", NOON)
    assert [m.status for m in page.members].count("paused") == 1
    at_step = n.page(MemberSearch("not_yet", step=1))
    assert [m.person_id for m in at_step.members] == [n.a, n.b, n.c, n.nope]
    assert n.page(MemberSearch("bad_timing")).members == []

    monkeypatch.setattr(nurture_views, "PAGE", 2)
    seen, after = [], None
    for _ in range(4):
        got = n.page(MemberSearch("not_yet", after=after))
        seen.append([m.person_id for m in got.members])
        if got.more is None:
            break
        after = parse_after(got.more)
    assert seen == [[n.tokyo, n.a], [n.b, n.c], [n.nope]]
    assert parse_after("not a cursor") is None and parse_after("2026-11-23T12:00:00,x") is None


def test_a_person_is_found_by_email_or_id_with_every_track_they_were_in(
    nurtured: Nurtured,
) -> None:
    n = nurtured
    found = n.page(MemberSearch(q=f"  p{n.a}@firm{n.a}.com "))
    assert (found.found, [m.person_id for m in found.members]) == ([n.a], [n.a])
    assert found.more is None
    by_id = n.page(MemberSearch(q=str(n.tokyo)))
    assert [m.step_words for m in by_id.members] == ["email 'welcome'"]
    nobody = n.page(MemberSearch(q="nobody@nowhere.example"))
    assert (nobody.found, nobody.members) == ([], [])


def test_a_phone_several_people_gave_finds_the_tracks_of_each_of_them(
    nurtured: Nurtured, client: TestClient
) -> None:
    """A switchboard's number is Carl's and Dina's (names that cannot be one person's):
    searched, it shows both people's tracks, not only those of the first who gave it."""
    board = "+1 415 555 0100"
    carl = nurtured.desk.prospect(first_name="Carl", last_name="Ray", phone=board)
    dina = nurtured.desk.prospect(first_name="Dina", last_name="Fox", phone=board)
    found = nurtured.page(MemberSearch(q="(415) 555-0100"))
    assert sorted(m.person_id for m in found.members) == [carl, dina]
    assert found.found == [carl, dina]
    alone = nurtured.page(MemberSearch(q=f"p{nurtured.a}@firm{nurtured.a}.com"))
    assert alone.found == [nurtured.a]
    sign_in(client, "mia@acme.example")
    text = " ".join(client.get("/nurture", params={"q": board}).text.split())
    assert f'data-lead="{carl}"' in text and f'data-lead="{dina}"' in text
    leads = f'<a href="/leads/{carl}">lead {carl}</a> and <a href="/leads/{dina}">lead {dina}</a>'
    assert f"Every track {leads} were in, the latest first." in text
    a = nurtured.a
    text = " ".join(client.get("/nurture", params={"q": f"p{a}@firm{a}.com"}).text.split())
    assert f'Every track <a href="/leads/{a}">lead {a}</a> was in, the latest first.' in text
    text = " ".join(client.get("/nurture", params={"q": "999"}).text.split())
    assert '<a href="/leads/999">Lead 999</a> has never been in a nurture track.' in text


def test_a_role_address_several_people_gave_finds_each_of_them_on_both_pages(
    nurtured: Nurtured, client: TestClient
) -> None:
    """Colleagues write from info@ (Ann and Bob, names that cannot be one person's):
    searched, the inquiries page lists both people's inquiries and the nurture page both
    people's tracks, not only the first writer's."""
    ann = nurtured.desk.prospect(first_name="Ann", last_name="Lee", email="info@acme.com")
    bob = nurtured.desk.prospect(first_name="Bob", last_name="Stone", email="info@acme.com")
    assert ann != bob
    found = nurtured.page(MemberSearch(q="INFO@acme.com"))
    assert found.found == [ann, bob]
    sign_in(client, "mia@acme.example")
    text = " ".join(client.get("/inquiries", params={"q": "info@acme.com"}).text.split())
    assert f'<a href="/leads/{ann}">Ann Lee</a>' in text
    assert f'<a href="/leads/{bob}">Bob Stone</a>' in text
    text = " ".join(client.get("/nurture", params={"q": "info@acme.com"}).text.split())
    leads = f'<a href="/leads/{ann}">lead {ann}</a> and <a href="/leads/{bob}">lead {bob}</a>'
    assert f"Every track {leads} were in, the latest first." in text


def test_the_page_reads_a_few_statements_however_many_are_in_the_tracks(
    nurtured: Nurtured,
) -> None:
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        statements.append((sql, params))

    engine = nurtured.desk.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        nurtured.page()
        few = len(statements)
        for _ in range(12):
            nurtured.desk.prospect()
        statements.clear()
        assert len(nurtured.page().members) == 17
        assert len(statements) == few <= 6
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    if engine.dialect.name == "sqlite":  # each walks the partial index meant for it
        with engine.connect() as connection:
            for sql, params in statements:
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
                words = " ".join(str(row[-1]) for row in plan)
                if "enrollments" in sql:
                    assert "ix_enrollments_open_track" in words, (sql, words)
                elif "touches" in sql:
                    assert "ix_touches_held_at" in words, (sql, words)


# ------------------------------------------------------------------ over HTTP


@pytest.fixture
def client(nurtured: Nurtured) -> Iterator[TestClient]:
    desk = nurtured.desk
    engine = desk.engine
    with UnitOfWork(engine) as uow:
        add_rep(uow, AddRep("Ann", "ann@acme.example", team="sales"), desk.clock())
    for email, role, more in (
        ("mia@acme.example", "marketing", {}),
        ("sam@acme.example", "manager", {"team": "sales"}),
        ("ann@acme.example", "rep", {}),
    ):
        with UnitOfWork(engine) as uow:
            add_user(uow, AddUser(email, PASSWORD, role, **more), desk.clock())  # type: ignore[arg-type]
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = create_app(settings, engine=engine, playbook=desk.pb, clock=desk.clock)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def test_marketing_reads_the_nurture_page_managers_its_counts_reps_nothing(
    nurtured: Nurtured, client: TestClient
) -> None:
    assert client.get("/nurture").headers["location"] == "/signin?next=/nurture"
    sign_in(client, "mia@acme.example")
    page = client.get("/nurture")
    assert page.status_code == 200
    text = page.text
    assert 'href="/nurture" aria-current="page"' in text  # in the navigation
    assert 'data-track="not_yet"' in text and 'data-people="5"' in text
    for person in (nurtured.a, nurtured.tokyo, nurtured.nope):
        assert f'<a href="/leads/{person}">Pat{person}</a>' in text
    assert "quiet hours where the person is" in text
    assert "(1 paused)" in text  # beside the step's count
    one = client.get(f"/nurture?track=not_yet&step=1&q=p{nurtured.b}@firm{nurtured.b}.com")
    assert f'data-lead="{nurtured.b}"' in one.text and f'data-lead="{nurtured.a}"' not in one.text
    same = client.get("/nurture?track=not_yet&step=2&of=not_yet").text
    changed = client.get("/nurture?track=not_yet&step=2&of=bad_timing").text  # a new track
    assert '<option value="2" selected>' in same
    assert '<option value="2" selected>' not in changed  # the old track's step is dropped
    assert 'name="of" value="not_yet"' in same
    odd = client.get("/nurture?track=nope&step=99999999999&after=x&held=abc")
    assert odd.status_code == 200  # nonsense in the address is ignored, not an error
    sign_in(client, "sam@acme.example")  # a sales manager: the counts, no one named
    counts = client.get("/nurture")
    assert counts.status_code == 200
    assert 'data-track="not_yet"' in counts.text and 'data-people="5"' in counts.text
    assert 'data-testid="members-hidden"' in counts.text
    assert "(1 paused)" in counts.text
    searched = client.get(f"/nurture?track=not_yet&q=p{nurtured.b}@firm{nurtured.b}.com")
    for text in (counts.text, searched.text):
        assert "/leads/" not in text and "data-lead=" not in text
    sign_in(client, "ann@acme.example")
    refused = client.get("/nurture")
    assert refused.status_code == 403 and "Sales rep" in refused.text
    assert 'href="/nurture"' not in client.get("/queue").text


def test_changing_ones_own_password(nurtured: Nurtured, client: TestClient) -> None:
    assert client.get("/account/password").status_code == 303  # signed out
    sign_in(client, "mia@acme.example")
    assert client.get("/account/password").status_code == 200
    new = "a much longer passphrase"
    for current, first, second, says in (
        ("not the password", new, new, "The current password is not right."),
        (PASSWORD, new, new + "!", "The two new passwords are not the same."),
        (PASSWORD, "short", "short", "A password has at least 8 characters."),
        (PASSWORD, PASSWORD, PASSWORD, "The new password is the current one"),
    ):
        wrong = post(client, "/account/password", current=current, new=first, repeated=second)
        assert wrong.status_code == 422, says  # type: ignore[attr-defined]
        assert says in wrong.text  # type: ignore[attr-defined]
    refused = client.post("/account/password", data={"current": PASSWORD, "new": new})
    assert refused.status_code == 403  # no CSRF token
    done = post(client, "/account/password", current=PASSWORD, new=new, repeated=new)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/dashboard"  # type: ignore[attr-defined]
    assert "Your password is changed." in client.get("/dashboard").text
    post(client, "/signout")
    assert sign_in(client, "mia@acme.example").status_code == 401  # type: ignore[attr-defined]
    assert sign_in(client, "mia@acme.example", new).status_code == 303  # type: ignore[attr-defined]
    assert csrf(client, "/account/password")


def test_change_password_checks_the_current_one_first(nurtured: Nurtured) -> None:
    engine, now = nurtured.desk.engine, nurtured.desk.clock()
    with UnitOfWork(engine) as uow:
        user = add_user(uow, AddUser("kim@acme.example", PASSWORD, "marketing"), now)
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput) as wrong:
        change_password(uow, ChangePassword(user.id, "wrong", "x", "y"), now)
    assert wrong.value.where == "current"  # before the mismatch and the length
    with UnitOfWork(engine) as uow, pytest.raises(InvalidInput) as short:
        change_password(uow, ChangePassword(user.id, PASSWORD, "x", "x"), now)
    assert short.value.where == "new"
