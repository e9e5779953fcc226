"""What routes depend on, as ``Annotated`` aliases: the runtime, the clock, the caller's key.

::

    def route(runtime: RuntimeDep, key: CaptureKey) -> ...   # any live key
    def route(runtime: RuntimeDep, key: AdminKey) -> ...     # an admin key only
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from leadflow.api.errors import NotAllowed, NotAuthenticated
from leadflow.domain.playbook import Playbook
from leadflow.services.capture import CaptureSettings
from leadflow.services.keys import ApiKey, authenticate
from leadflow.services.uow import UnitOfWork


@dataclass(frozen=True)
class Runtime:
    """Everything a request needs, built once by ``create_app`` and kept on ``app.state``."""

    engine: Engine
    playbook: Playbook
    capture: CaptureSettings
    clock: Callable[[], datetime]

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key: `Authorization: Bearer lf_<prefix>_<secret>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _check(runtime: Runtime, presented: str) -> ApiKey | None:
    with runtime.uow() as uow:
        return authenticate(uow, presented)


def _key_with(scope: str) -> Callable[..., object]:
    async def dependency(runtime: RuntimeDep, credentials: Credentials) -> ApiKey:
        if credentials is None:
            raise NotAuthenticated("send an API key: 'Authorization: Bearer <key>'")
        key = await run_in_threadpool(_check, runtime, credentials.credentials)
        if key is None:
            raise NotAuthenticated("the API key is unknown or revoked")
        if not key.allows(scope):
            raise NotAllowed(f"a '{key.scope}' key may not do this; it needs '{scope}'")
        return key

    return dependency


CaptureKey = Annotated[ApiKey, Depends(_key_with("capture"))]
AdminKey = Annotated[ApiKey, Depends(_key_with("admin"))]
