"""The HTTP API, built by :func:`create_app`; nothing is built at import.

::

    app = create_app(Settings())                                   # what `leadflow serve` runs
    app = create_app(settings, engine=engine, playbook=playbook)   # tests hand in their own
    app = app_from_environment()   # each process of `leadflow serve --workers N`

The database is ``settings.database_url``, migrated when the app is built, unless an
engine is handed in (then its owner migrates and disposes of it). The playbook is the
one given, else ``LEADFLOW_PLAYBOOK``, else the bundled one.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine

from leadflow import __version__
from leadflow.api import (
    errors,
    routes_activities,
    routes_contact,
    routes_forms,
    routes_inquiries,
    routes_leads,
    routes_nurture,
    routes_reports,
    routes_reps,
    routes_webhooks,
)
from leadflow.api.deps import Runtime
from leadflow.api.limits import BodyLimit, CaptureCORS, origins
from leadflow.api.schemas import Health
from leadflow.bootstrap import capture_settings, engine_for, load_active_playbook
from leadflow.config import Settings
from leadflow.domain.playbook import Playbook

FOLD_AFTER = 0.25
"""Seconds a server lets its captures' events wait before it folds them into the reports'
rows, all at once (``routes_inquiries.Together``; readers fold what is left first)."""

TAGS = [
    {"name": "inquiries", "description": "Capture inquiries from any system (API key)."},
    {"name": "activities", "description": "Record what people do; it moves their rating."},
    {"name": "forms", "description": "Public web forms, Salesforce Web-to-Lead compatible."},
    {"name": "reps", "description": "The people leads are routed to (admin key)."},
    {"name": "webhooks", "description": "Outgoing webhooks and their delivery log (admin key)."},
    {"name": "nurture", "description": "Nurture tracks, the experience report, calls (admin)."},
    {"name": "health", "description": "Liveness."},
]


def _now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    playbook: Playbook | None = None,
    clock: Callable[[], datetime] = _now,
    server: bool = False,
) -> FastAPI:
    """The API over ``settings.database_url`` (or ``engine``) with the given or active playbook.

    ``server``: this process serves the API and nothing else (``leadflow serve``), so
    the garbage collector may be tuned for it (see :func:`_settle_garbage_collector`),
    SQLite's checkpoints move out of the requests (``engine.Checkpointer``), and a
    thread sends due webhooks and emails every ``LEADFLOW_DISPATCH_INTERVAL`` seconds
    (``services.dispatch``).
    """
    owned = engine is None
    engine = engine_for(settings) if engine is None else engine
    runtime = Runtime(
        engine=engine,
        playbook=playbook or load_active_playbook(None, settings),
        # The hand-off (routing, deadlines) reads the same clock as the requests.
        capture=replace(capture_settings(settings), now=clock),
        clock=clock,
        inline=engine.dialect.name == "sqlite",  # see leadflow.api.deps
    )

    from leadflow.adapters.store.engine import Checkpointer
    from leadflow.services.dispatch import Dispatcher
    from leadflow.services.folder import Folder

    checkpointer = Checkpointer(engine)
    dispatcher = Dispatcher(engine, settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if server:
            checkpointer.start()
            dispatcher.start()
            _load_what_captures_need(runtime.capture.region)
            _settle_garbage_collector()
        yield
        if folder is not None:
            folder.stop()
        if together is not None:
            together.close()
        dispatcher.stop()
        checkpointer.stop()
        if owned:
            engine.dispose()

    app = FastAPI(
        title="leadflow",
        version=__version__,
        description="Capture inquiries and activities; every one is rated against the playbook.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    # SQLite: requests that arrive together are captured together; a server leaves
    # their events to be folded into the reports' rows behind them (routes_inquiries),
    # by a process of its own (services.folder)
    serving_sqlite = server and runtime.inline
    folder = Folder(engine.url.render_as_string(hide_password=False)) if serving_sqlite else None
    together = (
        routes_inquiries.Together(
            runtime,
            fold_after=FOLD_AFTER if server else None,
            folder=folder,
        )
        if runtime.inline
        else None
    )
    app.state.together = together
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if allowed := origins(settings.cors_origins):
        app.add_middleware(CaptureCORS, allowed=allowed)
    app.router.routes.insert(0, routes_inquiries.FAST_ROUTE)  # see routes_inquiries
    app.include_router(routes_inquiries.router)
    app.include_router(routes_activities.router)
    app.include_router(routes_forms.router)
    app.include_router(routes_reps.router)
    app.include_router(routes_leads.router)
    app.include_router(routes_contact.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_nurture.router)

    from leadflow.web import mount

    mount(app, runtime, settings)  # the web pages, signed in with a session

    @app.get("/healthz", tags=["health"], summary="Liveness", response_model=Health)
    async def healthz() -> Health:  # async: no thread for an answer made of nothing
        return Health()

    return app


def _load_what_captures_need(region: str) -> None:
    """Normalise one made-up inquiry at start-up: the public suffix list's trie, the
    phone numbering plans and the email checks load lazily, and the first capture paid
    for them (183 ms against 25 on a fresh server); loaded now, they are frozen with the
    rest below."""
    from leadflow.adapters.identity.normalise import normalise

    normalise(
        "start@example.com", "+1 415 555 0100", "A", "B", "Acme Inc", "acme.com", region=region
    )


def _settle_garbage_collector() -> None:
    """Everything made at start-up (the app, the playbook, SQLAlchemy's tables and
    compiled statements) is kept out of the cycle collector's walks, and the young
    generation is collected less often: each capture makes a few thousand short-lived
    objects, and with Python's defaults the walks of the long-lived ones showed as
    pauses of several milliseconds in the latency's tail."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def app_from_environment() -> FastAPI:
    """The app of one ``leadflow serve --workers N`` process: settings from the environment."""
    return create_app(Settings(), server=True)
