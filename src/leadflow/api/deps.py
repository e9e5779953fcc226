"""What routes depend on, as ``Annotated`` aliases: the runtime, the clock, the caller's key.

::

    def route(runtime: RuntimeDep, key: CaptureKey) -> ...   # any live key
    def route(runtime: RuntimeDep, key: AdminKey) -> ...     # an admin key only

Routes call database work through :meth:`Runtime.run`. On PostgreSQL it runs in
Starlette's thread pool, so requests wait on the network in parallel. On SQLite it runs
on the event loop itself, one request at a time: SQLite takes one writer at a time, the
work is CPU in this process (a capture is about 1 ms), and each thread hop cost more than
it saved. A pool of threads made concurrent captures wait on each other's write lock
(SQLite's busy handler sleeps up to 100 ms), and even one database thread spent most of
its time waiting for the GIL back from the event loop after each statement: 230 instead
of 575 captures per second at 8 connections. The price: while another process holds the
write lock (a batch of an import), the server answers nothing, not even ``/healthz``,
until that batch commits; captures had to wait for it anyway.

A route that must check the key and write (capture) does both in one call with
:func:`check_key`, on one connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from leadflow.api.errors import NotAllowed, NotAuthenticated
from leadflow.domain.playbook import Playbook
from leadflow.services.capture import CaptureSettings
from leadflow.services.keys import ApiKey, authenticate
from leadflow.services.uow import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    """Everything a request needs, built once by ``create_app`` and kept on ``app.state``."""

    engine: Engine
    playbook: Playbook
    capture: CaptureSettings
    clock: Callable[[], datetime]
    inline: bool = False  # SQLite: database work runs on the event loop (see above)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(*args)``: in the thread pool, or on the event loop with ``inline``."""
        if self.inline:
            return work(*args, **kwargs)
        return await run_in_threadpool(work, *args, **kwargs)


async def get_runtime(request: Request) -> Runtime:  # async: no thread for a lookup
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key: `Authorization: Bearer lf_<prefix>_<secret>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def presented(credentials: HTTPAuthorizationCredentials | None) -> str:
    """The key sent, or NotAuthenticated when none was."""
    if credentials is None:
        raise NotAuthenticated("send an API key: 'Authorization: Bearer <key>'")
    return credentials.credentials


def presented_in(authorization: str | None) -> str:
    """The key in an ``Authorization`` header, read as :data:`bearer` reads it (a route
    that reads its headers by hand); NotAuthenticated when there is none."""
    scheme, key = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not key:
        return presented(None)
    return key


def check_key(uow: UnitOfWork, key: str, scope: str) -> ApiKey:
    """The live key ``key`` is, if it allows ``scope``; else NotAuthenticated or NotAllowed."""
    found = authenticate(uow, key)
    if found is None:
        raise NotAuthenticated("the API key is unknown or revoked")
    if not found.allows(scope):
        raise NotAllowed(f"a '{found.scope}' key may not do this; it needs '{scope}'")
    return found


def _check(runtime: Runtime, key: str, scope: str) -> ApiKey:
    with runtime.uow() as uow:
        return check_key(uow, key, scope)


def _key_with(scope: str) -> Callable[..., object]:
    async def dependency(runtime: RuntimeDep, credentials: Credentials) -> ApiKey:
        return await runtime.run(_check, runtime, presented(credentials), scope)

    return dependency


CaptureKey = Annotated[ApiKey, Depends(_key_with("capture"))]
AdminKey = Annotated[ApiKey, Depends(_key_with("admin"))]
