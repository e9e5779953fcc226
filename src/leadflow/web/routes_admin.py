"""The users page (admins): who may sign in, with which role; add, deactivate, activate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadflow.services.access import check_role
from leadflow.services.reps import list_reps
from leadflow.services.users import (
    ROLE_LABELS,
    ROLES,
    AddUser,
    User,
    add_user,
    list_users,
    set_active,
)
from leadflow.web.deps import FormDep, UserDep, Web, WebDep, WebError, page_errors

router = APIRouter(include_in_schema=False)


def _admin(user: User) -> None:
    with page_errors():
        check_role(user, "admin")


@router.get("/admin/users")
async def users_page(request: Request, web: WebDep, user: UserDep) -> Response:
    _admin(user)
    data = await web.run(_users, web)
    return web.render(
        request, "users.html.j2", user=user, roles=ROLES, role_labels=ROLE_LABELS, **data
    )


def _users(web: Web) -> dict[str, Any]:
    with web.runtime.uow() as uow:
        return {"users": list_users(uow), "reps": list_reps(uow)}


def _add(web: Web, form: dict[str, str]) -> User:
    command = AddUser(
        email=form.get("email", ""),
        password=form.get("password", ""),
        role=form.get("role", ""),
        name=form.get("name") or None,
        rep=form.get("rep") or None,
        team=form.get("team") or None,
    )
    with web.runtime.uow() as uow:
        return add_user(uow, command, web.now())


@router.post("/admin/users")
async def users_add(request: Request, web: WebDep, user: UserDep, form: FormDep) -> Response:
    _admin(user)
    added = await web.run(_add, web, form)
    return web.redirect(request, "/admin/users", f"Added {added.email} ({added.role_label}).")


def _active(web: Web, user_id: int, active: bool) -> User:
    with web.runtime.uow() as uow:
        return set_active(uow, user_id, active, web.now())


@router.post("/admin/users/{user_id}/active")
async def users_active(
    request: Request, web: WebDep, user: UserDep, form: FormDep, user_id: int
) -> Response:
    _admin(user)
    active = form.get("active") == "yes"
    if user_id == user.id and not active:
        raise WebError(409, "You cannot deactivate yourself: ask another admin.")
    changed = await web.run(_active, web, user_id, active)
    state = "activated" if changed.active else "deactivated"
    return web.redirect(request, "/admin/users", f"{changed.email} {state}.")
