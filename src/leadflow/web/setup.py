"""Put the web pages into the API's app: templates, the session key, routes, static
files and the handlers that turn a missing sign-in or a refusal into a page."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from types import ModuleType

from fastapi import FastAPI, Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from leadflow.adapters.store.users import site_secret
from leadflow.api.deps import Runtime
from leadflow.config import Settings
from leadflow.web.deps import SignInRequired, Web, WebError, sign_in_url
from leadflow.web.session import Sessions


def mount(app: FastAPI, runtime: Runtime, settings: Settings) -> None:
    """Add the web pages to ``app`` (whose API keeps its API keys)."""
    sessions = Sessions(_secret_key(runtime, settings), int(settings.session_hours * 3600))
    app.state.web = Web(runtime, sessions, templates(), playbook_file=settings.playbook)
    app.mount("/static", StaticFiles(packages=[("leadflow.web", "static")]), name="static")
    for module in routes():
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(WebError, _web_error)


def routes() -> list[ModuleType]:
    """The modules whose ``router`` holds the pages (the tests walk their forms)."""
    from leadflow.web import (
        routes_admin,
        routes_auth,
        routes_dashboards,
        routes_definitions,
        routes_marketing,
        routes_sales,
    )

    return [
        routes_auth,
        routes_sales,
        routes_dashboards,
        routes_marketing,
        routes_definitions,
        routes_admin,
    ]


def _secret_key(runtime: Runtime, settings: Settings) -> str:
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
        if len(key) < 32:
            from leadflow.errors import InvalidInput

            raise InvalidInput("the secret key needs at least 32 characters", "LEADFLOW_SECRET_KEY")
        return key
    with runtime.engine.begin() as connection:
        made = secrets.token_urlsafe(48)
        return site_secret(connection, "session_key", made, datetime.now(UTC))


async def _sign_in(request: Request, error: Exception) -> Response:
    assert isinstance(error, SignInRequired)
    web: Web = request.app.state.web
    response = RedirectResponse(sign_in_url(error.next_path), status_code=303)
    web.sessions.write(request, response)
    return response


async def _web_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, WebError)
    web: Web = request.app.state.web
    return web.render(
        request, "error.html.j2", status=error.status, message=error.message, code=error.status
    )


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("leadflow", "templates/web"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["left"] = left
    env.filters["late"] = late
    env.filters["coming"] = coming
    env.filters["seconds_left"] = seconds_left
    env.globals["ROLE_HOME"] = ROLE_HOME
    return env


ROLE_HOME = {"rep": "/queue", "manager": "/team", "marketing": "/dashboard", "admin": "/dashboard"}


def when(moment: datetime | date | str | None) -> str:
    """A moment for people: ``2026-11-23 14:05 UTC``; a day as it is."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        try:
            return when(datetime.fromisoformat(moment))
        except ValueError:
            return moment
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()


def left(due: datetime | str | None, now: datetime) -> str:
    """Time left until a deadline, or how late it is: ``2 h 5 min left``, ``late by 3 d``."""
    if due is None:
        return "no deadline"
    seconds = (_aware(due) - now).total_seconds()
    span = _span(abs(seconds))
    return f"{span} left" if seconds >= 0 else f"late by {span}"


def _aware(due: datetime | str) -> datetime:
    moment = datetime.fromisoformat(due) if isinstance(due, str) else due
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def coming(due: datetime | str | None, now: datetime) -> str:
    """When something scheduled comes: ``in 2 h 5 min``, or ``due now`` once it is due."""
    if due is None:
        return "not scheduled"
    seconds = (_aware(due) - now).total_seconds()
    return f"in {_span(seconds)}" if seconds > 0 else "due now"


def late(due: datetime | str | None, now: datetime) -> bool:
    return due is not None and _aware(due) < now


def seconds_left(due: datetime | str, now: datetime) -> int:
    return int((_aware(due) - now).total_seconds())


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"
