"""Requests captured together (``routes_inquiries.Together``): each answered as if it
had come alone, on SQLite and PostgreSQL; and over the ASGI app on SQLite, where the
server groups the requests that arrive together."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from funnel_rows import report_rows  # tests/ is on sys.path
from leadflow.adapters.store import tables
from leadflow.api import routes_inquiries
from leadflow.api.app import create_app
from leadflow.api.deps import Runtime
from leadflow.api.errors import NotAuthenticated
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.errors import InvalidInput
from leadflow.services.capture import Captured, capture_in
from leadflow.services.keys import create_key
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(engine: Engine) -> Iterator[Starlette]:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    yield create_app(settings, engine=engine, playbook=bundled_playbook("btd"), clock=lambda: NOW)


@pytest.fixture
def key(engine: Engine) -> str:
    with UnitOfWork(engine) as uow:
        return create_key(uow, "capture", "tests", NOW).key


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def count(engine: Engine, table: Any) -> int:
    with UnitOfWork(engine) as uow:
        return uow.store.count(table)


def results(outcome: Any) -> tuple[list[Captured], bool]:
    assert not isinstance(outcome, BaseException), outcome
    return outcome  # type: ignore[no-any-return]


def test_a_turn_answers_each_request_as_if_it_came_alone(
    app: Starlette, engine: Engine, key: str
) -> None:
    runtime: Runtime = app.state.runtime
    items: list[routes_inquiries.Item] = [
        (key, body(email="ann@acme.io", first_name="Ann"), None),
        ("lf_nope_nope", body(email="eve@acme.io"), None),  # no live key: nothing kept
        (key, b"{not json", None),  # kept in the quarantine as received, then 422
        (key, body(email="ANN@acme.io", budget="approved"), None),  # the same person
        (key, body(inquiries=[{"email": "bo@beta.io"}, {"email": "cy@gamma.io"}]), None),
        (key, body(email="dee@delta.io"), "retry-1"),
        (key, body(email="dee@delta.io"), "retry-1"),  # a retry: the first's result
        (key, body(first_name="Nobody"), None),  # cannot tell who: quarantined
        (key, body(email="fay@acme.io"), "x" * 181),  # the key is too long: 422
    ]
    outcomes = routes_inquiries._handle_together(runtime, items)

    (ann,), batch = results(outcomes[0])
    assert not batch and ann.inquiry_id and ann.person_id and not ann.merged
    assert isinstance(outcomes[1], NotAuthenticated)
    assert isinstance(outcomes[2], InvalidInput)
    (again,), _ = results(outcomes[3])
    assert again.person_id == ann.person_id and again.merged == "email"
    both, batch = results(outcomes[4])
    assert batch and len(both) == 2 and both[0].person_id != both[1].person_id
    (dee,), _ = results(outcomes[5])
    (retry,), _ = results(outcomes[6])
    assert retry.repeated and (retry.inquiry_id, retry.person_id) == (dee.inquiry_id, dee.person_id)
    (nobody,), _ = results(outcomes[7])
    assert nobody.quarantined and nobody.inquiry_id is None
    assert isinstance(outcomes[8], InvalidInput) and outcomes[8].where == "Idempotency-Key"

    # ann, her second inquiry, bo, cy, dee (the retry made none)
    assert count(engine, tables.inquiries) == 5
    assert count(engine, tables.people) == 4
    with UnitOfWork(engine) as uow:
        reasons = sorted(item.reason for item in uow.store.quarantined())
    assert reasons == ["no_identity", "unparsable_payload"]


def test_when_the_turn_fails_each_request_is_captured_again_on_its_own(
    app: Starlette, engine: Engine, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything failing in the shared transaction rolls it back; each request is then
    captured alone (``capture``), so nothing is kept twice and nothing is lost."""
    real = capture_in
    tried: list[str] = []

    def failing(store: Any, pb: Any, cmd: Any, settings: Any) -> Captured:
        tried.append(str(cmd.fields["email"]))
        if cmd.fields["email"] == "boom@acme.io":
            raise RuntimeError("something went wrong in the middle of the turn")
        return real(store, pb, cmd, settings)

    monkeypatch.setattr(routes_inquiries, "capture_in", failing)
    emails = ["ann@acme.io", "boom@acme.io", "cy@acme.io"]
    items = [(key, body(email=email), None) for email in emails]
    outcomes = routes_inquiries._handle_together(app.state.runtime, items)

    assert tried == emails[:2]  # the turn stopped at the failure
    captured = [results(outcome)[0][0] for outcome in outcomes]
    assert all(c.inquiry_id and not c.quarantined for c in captured)
    assert count(engine, tables.inquiries) == 3
    assert count(engine, tables.people) == 3


def test_a_value_the_database_refuses_quarantines_only_its_own_inquiry(
    app: Starlette, engine: Engine, key: str
) -> None:
    # Checked before writing, alike on both databases (SQLite would store any length).
    items = [
        (key, body(email="ann@acme.io"), None),
        (key, body(email="bo@acme.io", external_id="x" * 500), None),  # the column holds 200
        (key, body(email="cy@acme.io"), None),
    ]
    outcomes = routes_inquiries._handle_together(app.state.runtime, items)
    ann, bo, cy = (results(outcome)[0][0] for outcome in outcomes)
    assert ann.inquiry_id and cy.inquiry_id and not (ann.quarantined or cy.quarantined)
    assert bo.quarantined and bo.inquiry_id is None
    assert count(engine, tables.inquiries) == 2
    with UnitOfWork(engine) as uow:
        (item,) = uow.store.quarantined()
    assert item.reason == "database"
    assert "inquiries.external_id takes at most 200 characters, got 500" in item.error


def test_requests_arriving_together_over_http_share_turns(
    app: Starlette, engine: Engine, key: str
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL each request runs in the thread pool on its own")
    together: routes_inquiries.Together = app.state.together

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await asyncio.gather(
                *(
                    client.post("/api/v1/inquiries", json={"email": f"p{i}@acme.io"}, headers=auth)
                    for i in range(20)
                ),
                client.post("/api/v1/inquiries", json={"email": "x@acme.io"}),  # no key
            )

    answers = asyncio.run(post_all())
    assert [a.status_code for a in answers] == [201] * 20 + [401]
    assert answers[-1].json()["error"]["code"] == "unauthorized"
    people = {a.json()["person_id"] for a in answers[:20]}
    assert len(people) == 20
    assert sum(size * turns for size, turns in together.sizes.items()) == 20  # keyed ones
    assert max(together.sizes) > 1  # some requests were captured together
    assert max(together.sizes) <= together.most
    assert count(engine, tables.inquiries) == 20


def test_one_fold_for_a_turn_leaves_the_reports_rows_the_event_log_gives(
    app: Starlette, engine: Engine, key: str
) -> None:
    """The captures of a turn share one transaction; the reports' rows they leave must be
    what rebuilding them from the event log gives."""
    from leadflow.adapters.store.funnel_store import FunnelStore

    items: list[routes_inquiries.Item] = [
        (key, body(email="ann@acme.io", campaign="spring"), None),
        (key, body(email="bo@beta.io", budget="approved", decision_maker="yes"), None),
        (key, body(email="ann@acme.io", budget="approved", timeframe="this month"), None),
        (key, body(email="cy@gamma.io", source="expo"), None),
        (key, body(email="ANN@acme.io", decision_maker="yes"), None),  # a third for ann
    ]
    outcomes = routes_inquiries._handle_together(app.state.runtime, items)
    assert all(not isinstance(o, BaseException) for o in outcomes)

    def rows() -> tuple[list[Any], ...]:
        return report_rows(engine)

    folded = rows()
    assert len(folded[0]) == 3 and folded[2]
    with UnitOfWork(engine) as uow:
        assert FunnelStore(uow.store.connection).rebuild() == 3
        uow.commit()
    assert rows() == folded
