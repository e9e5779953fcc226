"""Events folded behind (``funnel_store``): a server's captures leave their events
unfolded and fold them later, many at once; whoever writes or reads the reports' rows
first folds the backlog. Whatever the order, the rows must be what rebuilding them from
the event log gives, and no event may be folded twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette

from funnel_rows import report_rows  # tests/ is on sys.path
from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.api import routes_inquiries
from leadflow.api.app import create_app
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.domain.funnel import KINDS
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.imports import import_csv
from leadflow.services.keys import create_key
from leadflow.services.reports import ReportQuery, fold_backlog, run_report
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BTD = bundled_playbook("btd")


@pytest.fixture
def app(engine: Engine) -> Iterator[Starlette]:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    yield create_app(settings, engine=engine, playbook=BTD, clock=lambda: NOW)


@pytest.fixture
def key(engine: Engine) -> str:
    with UnitOfWork(engine) as uow:
        return create_key(uow, "capture", "tests", NOW).key


def sqlite_only(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite folds behind (PostgreSQL's event ids do not commit in order)")


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def turn(app: Starlette, key: str, *inquiries: dict[str, Any]) -> None:
    """One turn of captures, as the server takes them, leaving the events unfolded."""
    items = [(key, body(**fields), None) for fields in inquiries]
    outcomes = routes_inquiries._handle_together(app.state.runtime, items, fold_later=True)
    assert all(not isinstance(o, BaseException) for o in outcomes), outcomes


def alone(engine: Engine, **fields: Any) -> None:
    """A capture that folds at once (a form post, a CLI command)."""
    cmd = CaptureInquiry(fields, json.dumps(fields), "web", "form", NOW)
    with UnitOfWork(engine) as uow:
        capture(uow, BTD, cmd, CaptureSettings())


rows = report_rows


def rebuilt(engine: Engine) -> tuple[list[Any], ...]:
    with UnitOfWork(engine) as uow:
        FunnelStore(uow.store.connection).rebuild()
        uow.commit()
    return rows(engine)


def pending(engine: Engine) -> bool:
    with engine.connect() as c:
        return FunnelStore(c).pending()


def folded_events(engine: Engine) -> int:
    """The events a fold takes: of the kinds it folds, with a person."""
    kinds = ", ".join(f"'{k}'" for k in sorted(KINDS))
    with engine.connect() as c:
        sql = f"SELECT count(*) FROM events WHERE person_id IS NOT NULL AND type IN ({kinds})"
        return int(c.exec_driver_sql(sql).scalar_one())


def test_captures_leave_their_events_unfolded_until_someone_folds_them(
    app: Starlette, engine: Engine, key: str
) -> None:
    sqlite_only(engine)
    turn(app, key, {"email": "ann@acme.io"}, {"email": "bo@beta.io", "budget": "approved"})
    assert pending(engine)
    assert rows(engine)[0] == []  # nothing folded yet
    assert fold_backlog(engine) == folded_events(engine)
    assert not pending(engine)
    assert len(rows(engine)[0]) == 2
    assert fold_backlog(engine) == 0  # nothing left, nothing folded twice
    assert rows(engine) == rebuilt(engine)


def test_a_writer_folds_the_backlog_before_its_own_events(
    app: Starlette, engine: Engine, key: str
) -> None:
    """Deferred and immediate captures of the same people, interleaved: each immediate one
    folds the backlog first, so every lead's events are folded in log order, once."""
    sqlite_only(engine)
    turn(app, key, {"email": "ann@acme.io", "campaign": "spring"}, {"email": "cy@gamma.io"})
    alone(engine, email="ANN@acme.io", budget="approved", decision_maker="yes")
    assert not pending(engine)
    turn(app, key, {"email": "ann@acme.io", "timeframe": "this month"}, {"email": "dee@delta.io"})
    turn(app, key, {"email": "cy@gamma.io", "budget": "approved", "decision_maker": "yes"})
    alone(engine, email="eve@epsilon.io", source="expo")
    turn(app, key, {"email": "eve@epsilon.io", "budget": "none"})
    assert pending(engine)
    fold_backlog(engine)
    folded = rows(engine)
    assert len(folded[0]) == 4
    assert (
        next(r for r in folded[0] if r[0] == min(x[0] for x in folded[0]))[6] == 3
    )  # ann: three inquiries
    assert folded == rebuilt(engine)


def test_a_report_folds_the_backlog_before_it_reads(
    app: Starlette, engine: Engine, key: str
) -> None:
    turn(app, key, *({"email": f"p{i}@acme.io", "source": "web"} for i in range(5)))
    report = run_report(engine, BTD, ReportQuery("sources"))
    (web,) = [r for r in report.rows if r["source"] == "web"]
    assert web["leads"] == 5
    assert not pending(engine)
    assert rows(engine) == rebuilt(engine)


def test_an_import_folds_the_backlog_before_its_own_events(
    app: Starlette, engine: Engine, key: str, tmp_path: Path
) -> None:
    turn(app, key, {"email": "ann@acme.io", "first_name": "Ann"}, {"email": "bo@beta.io"})
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,first_name,budget\nann@acme.io,Ann,approved\nnew@zeta.io,Nia,\n", encoding="utf-8"
    )
    summary = import_csv(
        lambda: UnitOfWork(engine),
        BTD,
        path,
        source="expo",
        now=NOW,
        settings=CaptureSettings(),
    )
    assert (summary.new_people, summary.merged_total) == (1, 1)
    assert not pending(engine)
    assert len(rows(engine)[0]) == 3
    assert rows(engine) == rebuilt(engine)


def test_rebuilding_the_rows_takes_the_backlog_with_it(
    app: Starlette, engine: Engine, key: str
) -> None:
    turn(app, key, {"email": "ann@acme.io"})
    rebuilt(engine)
    assert not pending(engine)
    assert fold_backlog(engine) == 0
    assert len(rows(engine)[0]) == 1


def test_postgresql_folds_at_once_even_when_asked_to_fold_later(
    app: Starlette, engine: Engine, key: str
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the events are folded behind")
    turn(app, key, {"email": "ann@acme.io"}, {"email": "bo@beta.io"})
    assert not pending(engine)
    assert len(rows(engine)[0]) == 2


def test_the_server_folds_its_captures_behind_them(
    app: Starlette, engine: Engine, key: str
) -> None:
    """Over the ASGI app, with the server's Together: the captures answer at once, the
    fold follows a moment later, all of their events at once, and shutdown folds the
    rest."""
    sqlite_only(engine)
    together = routes_inquiries.Together(app.state.runtime, fold_after=0.05)
    app.state.together = together
    auth = {"Authorization": f"Bearer {key}"}

    async def post(client: httpx.AsyncClient, emails: list[str]) -> None:
        answers = await asyncio.gather(
            *(client.post("/api/v1/inquiries", json={"email": e}, headers=auth) for e in emails)
        )
        assert [a.status_code for a in answers] == [201] * len(emails)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            await post(client, [f"p{i}@acme.io" for i in range(12)])
            assert pending(engine)  # answered before folding
            for _ in range(100):  # the fold comes about 50 ms after the first capture
                await asyncio.sleep(0.02)
                if together.folds:
                    break
            assert together.folds == [folded_events(engine)]
            await post(client, ["late@acme.io"])
            together.close()  # as at shutdown: what is left, at once

    asyncio.run(run())
    assert not pending(engine)
    assert sum(together.folds) == folded_events(engine)
    assert len(rows(engine)[0]) == 13
    assert rows(engine) == rebuilt(engine)


def test_a_fold_aside_writes_what_it_read_under_the_lock(
    app: Starlette, engine: Engine, key: str
) -> None:
    """The folder process folds without the lock and takes it to write: with nobody else
    folding meanwhile its rows are those of the log; events logged while it folded stay
    in the backlog for the next fold."""
    sqlite_only(engine)
    turn(app, key, {"email": "ann@acme.io"}, {"email": "bo@beta.io", "budget": "approved"})
    store_take = FunnelStore.take_backlog

    def logged_meanwhile(store: FunnelStore) -> int | None:
        turn(app, key, {"email": "ann@acme.io", "decision_maker": "yes"})  # a later event
        return store_take(store)

    with engine.connect() as connection:
        store = FunnelStore(connection)
        store.take_backlog = lambda: logged_meanwhile(store)  # type: ignore[method-assign]
        folded = store.catch_up_aside()
        connection.commit()
    assert folded is not None and 0 < folded < folded_events(engine)
    assert pending(engine)  # the capture logged meanwhile
    assert len(rows(engine)[0]) == 2
    assert fold_backlog(engine) == folded_events(engine) - folded
    assert rows(engine) == rebuilt(engine)


def test_a_fold_aside_writes_nothing_when_someone_folded_meanwhile(
    app: Starlette, engine: Engine, key: str
) -> None:
    sqlite_only(engine)
    turn(app, key, {"email": "ann@acme.io"}, {"email": "bo@beta.io"})
    store_take = FunnelStore.take_backlog

    def folded_by_a_reader_meanwhile(store: FunnelStore) -> int | None:
        fold_backlog(engine)  # a report, on another connection
        turn(app, key, {"email": "ann@acme.io", "budget": "approved"})  # marked again
        return store_take(store)

    with engine.connect() as connection:
        store = FunnelStore(connection)
        store.take_backlog = lambda: folded_by_a_reader_meanwhile(store)  # type: ignore[method-assign]
        assert store.catch_up_aside() is None
        connection.rollback()
    assert pending(engine)  # the second turn's events
    fold_backlog(engine)
    assert rows(engine) == rebuilt(engine)  # nothing folded twice


def test_the_folder_process_folds_a_servers_captures(
    app: Starlette, engine: Engine, key: str
) -> None:
    sqlite_only(engine)
    from leadflow.services.folder import Folder

    folder = Folder(engine.url.render_as_string(hide_password=False), every=0.02)
    folder.start()
    try:
        for i in range(4):
            turn(app, key, *({"email": f"p{i}{j}@acme.io"} for j in range(5)))
        deadline = time.monotonic() + 30  # the process starts in a second or two
        while pending(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert folder.alive()
    finally:
        folder.stop()
    assert not folder.alive()
    assert not pending(engine)
    assert len(rows(engine)[0]) == 20
    assert rows(engine) == rebuilt(engine)


class FakeFolder:
    """Stands for the folder process: says whether it was started and runs."""

    def __init__(self) -> None:
        self.started = False

    def start(self) -> None:
        self.started = True

    def alive(self) -> bool:
        return self.started


def test_the_server_starts_its_folder_after_so_many_captures(
    app: Starlette, engine: Engine, key: str
) -> None:
    """Until then it folds in its own loop; from then on it leaves the folding to the
    folder process for as long as that runs."""
    sqlite_only(engine)
    folder = FakeFolder()
    together = routes_inquiries.Together(
        app.state.runtime,
        fold_after=0.01,
        folder=folder,  # type: ignore[arg-type]
        folder_after=3,
    )

    async def capture(email: str) -> None:
        await together.submit((key, body(email=email), None))
        await asyncio.sleep(0.05)  # past the fold's moment

    async def run() -> None:
        for i in range(2):
            await capture(f"p{i}@acme.io")
        assert not folder.started and len(together.folds) == 2  # folded in the loop
        await capture("p2@acme.io")
        assert folder.started  # the third capture
        await capture("p3@acme.io")
        assert len(together.folds) == 2  # left to the folder
        assert pending(engine)

    asyncio.run(run())
