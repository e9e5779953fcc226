"""The web pages on SQLite and PostgreSQL, through HTTP: sign-in, sessions, CSRF, who
sees which lead, and what sales and marketing do on them.

Leads are captured through the services on the app's clock (``Desk`` of
``test_handoff.py``); users are added through the users service, as the CLI does.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine, select
from starlette.exceptions import StarletteDeprecationWarning
from test_handoff import Desk  # pytest puts this folder on sys.path

from leadflow.adapters.store import tables as t
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.services.uow import UnitOfWork
from leadflow.services.users import AddUser, add_user, set_active
from leadflow.web.setup import routes

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    engine: Engine
    desk: Desk
    settings: Settings

    def user(self, email: str, role: str, **more: object) -> int:
        command = AddUser(email, PASSWORD, role, **more)  # type: ignore[arg-type]
        with UnitOfWork(self.engine) as uow:
            return add_user(uow, command, self.desk.clock()).id

    def client(self) -> TestClient:
        app = create_app(
            self.settings, engine=self.engine, playbook=self.desk.pb, clock=self.desk.clock
        )
        return TestClient(app, follow_redirects=False)


def csrf(client: TestClient, path: str = "/signin") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> object:
    token = csrf(client)
    return client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": password, "next": "/"}
    )


def post(client: TestClient, path: str, **data: str) -> object:
    """A form post with the session's token (every page carries it; /signin is the lightest)."""
    return client.post(path, data={"csrf_token": csrf(client), **data})


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    desk = Desk(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    yield Site(engine, desk, settings)


def test_a_signed_out_visitor_is_sent_to_sign_in(site: Site) -> None:
    with site.client() as client:
        for page in (
            "/",
            "/queue",
            "/leads/1",
            "/team",
            "/dashboard",
            "/dashboard/sources",
            "/dashboard/velocity.csv",
            "/nurture",
            "/inquiries",
            "/quarantine",
            "/quarantine/1",
            "/definitions",
            "/definitions/backtest",
            "/admin/users",
            "/account/password",
        ):
            response = client.get(page)
            assert response.status_code == 303, page
            assert response.headers["location"].startswith("/signin"), page
        assert client.get("/queue").headers["location"] == "/signin?next=/queue"


def test_signing_in_takes_the_right_password_and_only_an_active_user(site: Site) -> None:
    site.desk.rep("Ann")
    ann = site.user("ann@acme.example", "rep")
    with UnitOfWork(site.engine) as uow:
        stored = uow.store.connection.execute(
            select(t.users.c.password_hash).where(t.users.c.id == ann)
        ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with site.client() as client:
        wrong = sign_in(client, "ann@acme.example", "not the password")
        assert wrong.status_code == 401  # type: ignore[attr-defined]
        assert "do not match" in wrong.text  # type: ignore[attr-defined]
        assert sign_in(client, "nobody@acme.example").status_code == 401  # type: ignore[attr-defined]
        right = sign_in(client, "ANN@acme.example")
        assert right.status_code == 303  # type: ignore[attr-defined]
        assert right.headers["location"] == "/queue"  # type: ignore[attr-defined]
        assert client.get("/queue").status_code == 200
        with UnitOfWork(site.engine) as uow:
            set_active(uow, ann, False, site.desk.clock())
        assert client.get("/queue").status_code == 303  # the open session ends
        assert sign_in(client, "ann@acme.example").status_code == 401  # type: ignore[attr-defined]


def test_a_post_without_the_sessions_csrf_token_is_refused(site: Site) -> None:
    ann_rep = site.desk.rep("Ann")
    site.user("ann@acme.example", "rep")
    lead = site.desk.lead().person_id or 0
    assert site.desk.owner(lead) == ann_rep
    with site.client() as client:
        refused = client.post("/signin", data={"email": "ann@acme.example", "password": PASSWORD})
        assert refused.status_code == 403 and "CSRF" in refused.text
        sign_in(client, "ann@acme.example")
        for token in (None, "forged"):
            data = {"csrf_token": token} if token else {}
            response = client.post(f"/leads/{lead}/accept", data=data)
            assert response.status_code == 403, token
        assert site.desk.state(lead).accepted_at is None  # type: ignore[attr-defined]
        other = TestClient(client.app, follow_redirects=False)  # another visitor's token
        response = client.post(f"/leads/{lead}/accept", data={"csrf_token": csrf(other)})
        assert response.status_code == 403
        assert post(client, f"/leads/{lead}/accept").status_code == 303  # type: ignore[attr-defined]
        assert site.desk.state(lead).accepted_at is not None  # type: ignore[attr-defined]


def test_every_web_form_refuses_a_post_without_a_token(site: Site) -> None:
    site.user("root@acme.example", "admin")
    with site.client() as client:
        sign_in(client, "root@acme.example")
        posts = [
            route.path
            for module in routes()
            for route in module.router.routes
            if isinstance(route, APIRoute) and "POST" in route.methods
        ]
        assert len(posts) >= 6 and "/definitions/backtest" in posts
        for path in posts:
            concrete = path.replace("{person_id}", "1").replace("{action}", "accept")
            concrete = re.sub(r"\{[a-z_]+\}", "1", concrete)
            assert client.post(concrete, data={}).status_code == 403, path


def test_a_rep_works_its_queue_and_cannot_open_another_reps_lead(site: Site) -> None:
    ann_rep, bo_rep = site.desk.rep("Ann"), site.desk.rep("Bo")
    site.user("ann@acme.example", "rep")
    first, second, bos = (
        site.desk.lead(first_name=n).person_id or 0 for n in ("Kim", "Lou", "Max")
    )
    assert [site.desk.owner(x) for x in (first, second, bos)] == [ann_rep, bo_rep, ann_rep]
    with site.client() as client:
        sign_in(client, "ann@acme.example")
        queue = client.get("/queue")
        assert queue.status_code == 200
        assert f'data-lead="{first}"' in queue.text and f'data-lead="{bos}"' in queue.text
        assert f'data-lead="{second}"' not in queue.text
        assert "Approved budget" in queue.text or "budget" in queue.text  # reasons in words
        assert client.get(f"/leads/{first}").status_code == 200
        refused = client.get(f"/leads/{second}")
        assert refused.status_code == 403 and "not yours" in refused.text
        assert post(client, f"/leads/{second}/accept").status_code == 403  # type: ignore[attr-defined]
        assert site.desk.state(second).accepted_at is None  # type: ignore[attr-defined]

        accepted = post(client, f"/leads/{first}/accept", back="/queue")
        assert accepted.headers["location"] == "/queue"  # type: ignore[attr-defined]
        assert "accepted" in client.get("/queue").text  # the flash message
        assert site.desk.state(first).accepted_at is not None  # type: ignore[attr-defined]

        rejected = post(client, f"/leads/{bos}/reject", reason="bad_timing", note="Q3 budget")
        assert rejected.status_code == 303  # type: ignore[attr-defined]
        state = site.desk.state(bos)
        assert state.reason == "bad_timing" and state.owner_rep_id is None  # type: ignore[attr-defined]
        assert client.get(f"/leads/{bos}").status_code == 403  # it is marketing's now
        no_reason = post(client, f"/leads/{first}/recycle", reason="")
        assert no_reason.status_code == 422  # type: ignore[attr-defined]


def test_marketing_sees_what_sales_handed_back_and_the_funnel_move(site: Site) -> None:
    site.desk.rep("Ann")
    site.user("ann@acme.example", "rep")
    site.user("mia@acme.example", "marketing")
    lead = site.desk.lead(first_name="Kim", last_name="Handback").person_id or 0
    with site.client() as rep, site.client() as marketing:
        sign_in(marketing, "mia@acme.example")
        before = marketing.get("/dashboard")
        assert "Kim" not in before.text
        sign_in(rep, "ann@acme.example")
        post(rep, f"/leads/{lead}/reject", reason="bad_timing", note="call after budget")
        after = marketing.get("/dashboard")
        assert after.status_code == 200
        assert f'data-lead="{lead}"' in after.text and "call after budget" in after.text
        assert marketing.get(f"/leads/{lead}").status_code == 200  # marketing sees every lead
        assert marketing.get("/queue").status_code == 403
        assert post(marketing, f"/leads/{lead}/accept").status_code == 403  # type: ignore[attr-defined]


def test_a_manager_sees_its_team_board_and_reassigns(site: Site) -> None:
    ann, bo = site.desk.rep("Ann"), site.desk.rep("Bo")
    site.desk.rep("Ent", team="enterprise")
    site.user("boss@acme.example", "manager", team="general")
    lead = site.desk.lead().person_id or 0
    urgent = site.desk.lead(days=10).person_id or 0  # the enterprise team's
    assert site.desk.owner(lead) == ann
    site.desk.clock.advance(minutes=50)  # the acceptance SLA (1h) is at risk
    with site.client() as client:
        sign_in(client, "boss@acme.example")
        board = client.get("/team")
        assert board.status_code == 200 and "Ann" in board.text
        assert "Acceptance at risk" in board.text and f"/leads/{lead}" in board.text
        assert client.get(f"/leads/{urgent}").status_code == 403  # another team's
        moved = post(client, f"/leads/{lead}/reassign", rep=str(bo), back="/team")
        assert moved.headers["location"] == "/team"  # type: ignore[attr-defined]
        assert site.desk.owner(lead) == bo
        assert "lead.routed" in site.desk.events(lead)[-1:]


def test_marketing_fixes_and_replays_a_quarantined_inquiry(site: Site) -> None:
    site.user("mia@acme.example", "marketing")
    with UnitOfWork(site.engine) as uow:
        item = uow.store.insert_quarantine(
            {
                "received_at": site.desk.clock(),
                "channel": "api",
                "source": "web",
                "payload": '{"name": "Kim"}',
                "fields": {"name": "Kim"},
                "reason": "unidentifiable",
                "error": "no email, phone or id",
            }
        )
        uow.commit()
    with site.client() as client:
        sign_in(client, "mia@acme.example")
        listed = client.get("/quarantine")
        assert f"/quarantine/{item}" in listed.text
        page = client.get(f"/quarantine/{item}")
        assert "no email, phone or id" in page.text
        bad = post(client, f"/quarantine/{item}/replay", fields="{not json")
        assert bad.status_code == 422  # type: ignore[attr-defined]
        done = post(
            client,
            f"/quarantine/{item}/replay",
            fields='{"name": "Kim", "email": "kim@fixed.example"}',
        )
        assert done.status_code == 303  # type: ignore[attr-defined]
        with UnitOfWork(site.engine) as uow:
            row = uow.store.quarantine_item(item)
            assert row is not None and row.replayed_at is not None
            assert uow.store.count(t.inquiries) == 1
        found = client.get("/inquiries", params={"q": "kim@fixed.example"})
        assert found.status_code == 200 and "web" in found.text


def test_only_an_admin_manages_users(site: Site) -> None:
    site.user("root@acme.example", "admin")
    site.user("mia@acme.example", "marketing")
    with site.client() as client:
        sign_in(client, "mia@acme.example")
        assert client.get("/admin/users").status_code == 403
        assert (
            post(
                client, "/admin/users", email="x@acme.example", role="admin", password=PASSWORD
            ).status_code
            == 403
        )  # type: ignore[attr-defined]
    with site.client() as client:
        sign_in(client, "root@acme.example")
        assert "mia@acme.example" in client.get("/admin/users").text
        added = post(
            client, "/admin/users", email="new@acme.example", role="marketing", password=PASSWORD
        )
        assert added.status_code == 303  # type: ignore[attr-defined]
        assert "new@acme.example" in client.get("/admin/users").text
        short = post(
            client, "/admin/users", email="b@acme.example", role="marketing", password="short"
        )
        assert short.status_code == 422  # type: ignore[attr-defined]
    with site.client() as client:
        assert sign_in(client, "new@acme.example").status_code == 303  # type: ignore[attr-defined]


def test_changing_the_password_ends_the_users_other_sessions(site: Site) -> None:
    site.user("mia@acme.example", "marketing")
    site.user("kim@acme.example", "marketing")
    new = "a much longer passphrase"
    with site.client() as laptop, site.client() as phone, site.client() as other:
        for client, email in ((laptop, "mia"), (phone, "mia"), (other, "kim")):
            assert sign_in(client, f"{email}@acme.example").status_code == 303  # type: ignore[attr-defined]
            assert client.get("/dashboard").status_code == 200
        done = post(laptop, "/account/password", current=PASSWORD, new=new, repeated=new)
        assert done.status_code == 303  # type: ignore[attr-defined]
        assert laptop.get("/dashboard").status_code == 200  # the session that changed it
        ended = phone.get("/dashboard")
        assert ended.status_code == 303
        assert ended.headers["location"] == "/signin?next=/dashboard"
        assert other.get("/dashboard").status_code == 200  # another user's: untouched
        assert sign_in(phone, "mia@acme.example", new).status_code == 303  # type: ignore[attr-defined]
        assert phone.get("/dashboard").status_code == 200
