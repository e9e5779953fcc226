"""What the web routes depend on: the web runtime, the session, the signed-in user, a
form whose CSRF token was checked, and rendering.

::

    @router.get("/queue")
    async def queue(request: Request, web: WebDep, user: UserDep) -> Response:
        data = await web.run(rep_queue, ...)          # database work, as the API does it
        return web.render(request, "queue.html.j2", user=user, queue=data)

    @router.post("/leads/{person_id}/accept")
    async def accept(request: Request, web: WebDep, user: UserDep, form: FormDep): ...

A signed-out visitor asking for a page is sent to ``/signin?next=<page>``
(:class:`SignInRequired`); a POST without the session's CSRF token is refused with 403
(:class:`WebError`); a :class:`~leadflow.errors.LeadflowError` from a service becomes a
page with its message and status (:func:`page_errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import HTMLResponse, RedirectResponse, Response

from leadflow.api.deps import Runtime
from leadflow.domain.playbook import Playbook
from leadflow.errors import Conflict, Forbidden, InvalidInput, LeadflowError, NotFound
from leadflow.services.access import check_role
from leadflow.services.candidates import Start, active_start, bundled_starts
from leadflow.services.definitions import render_definitions
from leadflow.services.marketing_views import Funnel, stage_funnel
from leadflow.services.users import User, active_user
from leadflow.web.session import Session, Sessions

P = ParamSpec("P")
T = TypeVar("T")

STATUS = ((Forbidden, 403), (NotFound, 404), (Conflict, 409), (InvalidInput, 422))


class SignInRequired(Exception):
    """The visitor is not signed in (or its user was deactivated): go to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class WebError(Exception):
    """A page that says what went wrong, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@contextmanager
def page_errors() -> Iterator[None]:
    """A refusal from a service (not found, not allowed, bad input) as a web page."""
    try:
        yield
    except LeadflowError as error:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 400)
        raise WebError(status, str(error)) from error


def allowed(user: User, *roles: str) -> None:
    """Go on only if the user has one of ``roles``; else a 403 page naming its role."""
    with page_errors():
        check_role(user, *roles)


@dataclass(frozen=True)
class Web:
    """Everything a web request needs, built once by :func:`leadflow.web.mount`."""

    runtime: Runtime
    sessions: Sessions
    templates: Environment
    funnel: Funnel = stage_funnel  # the dashboard's funnel: the reports may take its place
    playbook_file: Path | None = None  # the active playbook's file (LEADFLOW_PLAYBOOK), if any

    @property
    def playbook(self) -> Playbook:
        return self.runtime.playbook

    @cached_property
    def definitions(self) -> str:
        """The playbook as the definitions document (rendered once: the playbook is fixed)."""
        return render_definitions(self.playbook)

    @cached_property
    def starts(self) -> list[Start]:
        """What a candidate playbook may start from on the backtest page: the active
        playbook (when its text is at hand), then the bundled examples. Read once."""
        bundled = bundled_starts(self.playbook)
        active = active_start(self.playbook, self.playbook_file, bundled)
        return [active, *bundled] if active is not None else bundled

    def now(self) -> datetime:
        return self.runtime.clock()

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Database work, as the API runs it; a service's refusal becomes a web page."""
        with page_errors():
            return await self.runtime.run(work, *args, **kwargs)

    async def read(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A long read (a report, a backtest) in the thread pool, even on SQLite, where
        :meth:`run` works on the event loop: the server goes on answering other requests
        meanwhile (under WAL a reader waits for no one, and no one waits for it)."""
        with page_errors():
            return await run_in_threadpool(work, *args, **kwargs)

    def session(self, request: Request) -> Session:
        return self.sessions.load(request)

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        session = self.session(request)
        html = self.templates.get_template(template).render(
            request=request,
            csrf=session.csrf,
            flash=session.take_flash(),
            now=self.now(),
            playbook=self.playbook,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self.sessions.write(request, response)
        return response

    def redirect(self, request: Request, to: str, flash: str | None = None) -> Response:
        """303 See Other to ``to`` (after a POST), with a message for the next page."""
        if flash:
            self.session(request).say(flash)
        response = RedirectResponse(to, status_code=303)
        self.sessions.write(request, response)
        return response


async def get_web(request: Request) -> Web:
    web = request.app.state.web
    assert isinstance(web, Web)
    return web


WebDep = Annotated[Web, Depends(get_web)]


def _user(web: Web, user_id: int) -> User | None:
    with web.runtime.uow() as uow:
        return active_user(uow, user_id)


async def current_user(request: Request, web: WebDep) -> User:
    """The signed-in, active user; else the visitor is sent to sign in."""
    session = web.session(request)
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if session.user_id is None:
        raise SignInRequired(wanted if request.method == "GET" else "/")
    user = await web.runtime.run(_user, web, session.user_id)
    if user is None or session.stamp != user.stamp:  # gone, or its password changed
        session.sign_out()
        raise SignInRequired(wanted if request.method == "GET" else "/")
    return user


UserDep = Annotated[User, Depends(current_user)]


async def checked_form(request: Request, web: WebDep) -> dict[str, str]:
    """The posted form, when it carries this session's CSRF token; else 403."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    _check_csrf(request, web, values)
    return values


def _check_csrf(request: Request, web: Web, values: dict[str, str]) -> None:
    if not web.session(request).csrf_ok(values.get("csrf_token")):
        raise WebError(
            403,
            "This form has expired or did not come from leadflow (its CSRF token is missing "
            "or wrong). Go back, reload the page and send it again.",
        )


FormDep = Annotated[dict[str, str], Depends(checked_form)]

UPLOAD_LIMIT = 1_000_000
"""Bytes of an uploaded file read at most (one more tells it is larger)."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes  # up to UPLOAD_LIMIT + 1 bytes


@dataclass(frozen=True)
class Posted:
    """A posted multipart form whose CSRF token was checked: its fields and its files
    (a file field left empty is not there)."""

    values: dict[str, str]
    files: dict[str, Upload]


async def checked_upload(request: Request, web: WebDep) -> Posted:
    """A form with files (``enctype="multipart/form-data"``), when it carries this
    session's CSRF token; else 403."""
    form = await request.form()
    try:
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        _check_csrf(request, web, values)
        files = {}
        for key, value in form.items():
            if isinstance(value, StarletteUpload) and value.filename:
                files[key] = Upload(value.filename, await value.read(UPLOAD_LIMIT + 1))
        return Posted(values, files)
    finally:
        await form.close()  # the uploads' spooled files


UploadDep = Annotated[Posted, Depends(checked_upload)]


def sign_in_url(next_path: str) -> str:
    return f"/signin?next={quote(next_path, safe='/')}" if next_path not in ("", "/") else "/signin"


def safe_next(value: str | None) -> str:
    """Only a path on this site: never an address elsewhere (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
