"""Sign in, sign out, and the home page (each role's first page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadflow.services.users import User, sign_in
from leadflow.web.deps import FormDep, UserDep, Web, WebDep, safe_next
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
    web.session(request).sign_in(user.id)
    return web.redirect(request, target if target != "/" else ROLE_HOME[user.role])


@router.post("/signout")
async def signout(request: Request, web: WebDep, _form: FormDep) -> Response:
    web.session(request).sign_out()
    return web.redirect(request, "/signin", "You are signed out.")
