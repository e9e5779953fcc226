"""Sign in, sign out, change one's own password, and the home page (each role's first
page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadflow.errors import InvalidInput
from leadflow.services.users import ChangePassword, User, change_password, sign_in
from leadflow.web.deps import FormDep, UserDep, Web, WebDep, page_errors, safe_next
from leadflow.web.setup import ROLE_HOME

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, web: WebDep, user: UserDep) -> Response:
    return web.redirect(request, ROLE_HOME[user.role])


@router.get("/signin")
async def signin_page(request: Request, web: WebDep, next: str | None = None) -> Response:
    return web.render(request, "signin.html.j2", next=safe_next(next), error=None, email="")


def _sign_in(web: Web, email: str, password: str) -> User | None:
    with web.runtime.uow() as uow:
        return sign_in(uow, email, password, web.now())


@router.post("/signin")
async def signin(request: Request, web: WebDep, form: FormDep) -> Response:
    email, target = form.get("email", ""), safe_next(form.get("next"))
    user = await web.run(_sign_in, web, email, form.get("password", ""))
    if user is None:
        return web.render(
            request,
            "signin.html.j2",
            status=401,
            next=target,
            email=email,
            error="That email address and password do not match an active user.",
        )
    web.session(request).sign_in(user.id, user.stamp)
    return web.redirect(request, target if target != "/" else ROLE_HOME[user.role])


@router.post("/signout")
async def signout(request: Request, web: WebDep, _form: FormDep) -> Response:
    web.session(request).sign_out()
    return web.redirect(request, "/signin", "You are signed out.")


@router.get("/account/password")
async def password_page(request: Request, web: WebDep, user: UserDep) -> Response:
    return web.render(request, "password.html.j2", user=user, error=None, where=None)


def _change(web: Web, command: ChangePassword) -> User:
    with web.runtime.uow() as uow:
        return change_password(uow, command, web.now())


@router.post("/account/password")
async def password_change(request: Request, web: WebDep, user: UserDep, form: FormDep) -> Response:
    """The form again with what is wrong, or the home page; the session gets a new CSRF
    token, as when signing in."""
    command = ChangePassword(
        user.id, form.get("current", ""), form.get("new", ""), form.get("repeated", "")
    )
    with page_errors():
        try:
            user = await web.runtime.run(_change, web, command)
        except InvalidInput as error:
            return web.render(
                request,
                "password.html.j2",
                status=422,
                user=user,
                error=error.message[:1].upper() + error.message[1:] + ".",
                where=error.where,
            )
    web.session(request).sign_in(user.id, user.stamp)
    return web.redirect(request, ROLE_HOME[user.role], "Your password is changed.")
