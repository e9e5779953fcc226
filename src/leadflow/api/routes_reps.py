"""``/api/v1/reps``: the people leads are routed to, managed with an admin key.

A rep is named in the path by its id. ``PATCH`` changes the fields it is given (null
clears an optional one); ``POST .../deactivate`` routes no new leads to the rep, which
keeps everything it has. The checks are the service's: see ``services/reps.py``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.api.schemas import RepCreate, RepPublic, RepsPublic, RepUpdate
from leadflow.services.reps import (
    AddRep,
    Rep,
    add_rep,
    deactivate_rep,
    find_rep,
    list_reps,
    update_rep,
)

router = APIRouter(prefix="/api/v1/reps", tags=["reps"])

IncludeInactive = Annotated[bool, Query(alias="all", description="Include deactivated reps too.")]


def public(rep: Rep) -> RepPublic:
    return RepPublic(**{**asdict(rep), "territories": list(rep.territories)})


def _add(runtime: Runtime, body: RepCreate) -> Rep:
    with runtime.uow() as uow:
        return add_rep(uow, AddRep(**body.model_dump()), runtime.clock())


def _list(runtime: Runtime, include_inactive: bool) -> list[Rep]:
    with runtime.uow() as uow:
        return list_reps(uow, include_inactive)


def _find(runtime: Runtime, rep_id: int) -> Rep:
    with runtime.uow() as uow:
        return find_rep(uow, rep_id)


def _update(runtime: Runtime, rep_id: int, changes: dict[str, Any]) -> Rep:
    with runtime.uow() as uow:
        return update_rep(uow, rep_id, changes, runtime.clock())


def _deactivate(runtime: Runtime, rep_id: int) -> Rep:
    with runtime.uow() as uow:
        return deactivate_rep(uow, rep_id, runtime.clock())


@router.get("", summary="List reps (admin)", response_model=RepsPublic, responses=ERROR_RESPONSES)
async def list_reps_route(
    runtime: RuntimeDep, _key: AdminKey, include_inactive: IncludeInactive = False
) -> RepsPublic:
    """The active reps in the order they were added; with `?all=true`, every rep."""
    reps = [public(rep) for rep in await runtime.run(_list, runtime, include_inactive)]
    return RepsPublic(data=reps, count=len(reps))


@router.post(
    "",
    summary="Add a rep (admin)",
    status_code=201,
    response_model=RepPublic,
    responses=ERROR_RESPONSES,
)
async def add_rep_route(body: RepCreate, runtime: RuntimeDep, _key: AdminKey) -> RepPublic:
    """Add a rep; its email address must not belong to another rep (409)."""
    return public(await runtime.run(_add, runtime, body))


@router.get(
    "/{rep_id}", summary="One rep (admin)", response_model=RepPublic, responses=ERROR_RESPONSES
)
async def get_rep_route(rep_id: int, runtime: RuntimeDep, _key: AdminKey) -> RepPublic:
    return public(await runtime.run(_find, runtime, rep_id))


@router.patch(
    "/{rep_id}", summary="Change a rep (admin)", response_model=RepPublic, responses=ERROR_RESPONSES
)
async def update_rep_route(
    rep_id: int, body: RepUpdate, runtime: RuntimeDep, _key: AdminKey
) -> RepPublic:
    """Change the fields given; a field left out stays as it is, null clears an optional
    one (team, capacity, working hours, the absence)."""
    changes = body.model_dump(include=body.model_fields_set)
    return public(await runtime.run(_update, runtime, rep_id, changes))


@router.post(
    "/{rep_id}/deactivate",
    summary="Deactivate a rep (admin)",
    response_model=RepPublic,
    responses=ERROR_RESPONSES,
)
async def deactivate_rep_route(rep_id: int, runtime: RuntimeDep, _key: AdminKey) -> RepPublic:
    """Route no new leads to the rep; it keeps the leads and history it has."""
    return public(await runtime.run(_deactivate, runtime, rep_id))
