"""Marketing pages: nurture (the tracks, who is in them, what is scheduled, what the
contact policy held back), inquiries (search and filter) and the quarantine (fix and
replay). The dashboards are ``routes_dashboards.py``; the definitions document and the
backtest ``routes_definitions.py``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadflow.services.marketing_views import (
    InquirySearch,
    parse_fixed,
    quarantine_item,
    quarantine_list,
    search_inquiries,
)
from leadflow.services.nurture_views import MemberSearch, nurture_page, parse_after
from leadflow.services.quarantine import replay
from leadflow.web.deps import FormDep, UserDep, Web, WebDep, allowed

router = APIRouter(include_in_schema=False)
MARKETING = ("marketing", "admin")
CHANNELS = ("api", "form", "import", "replay")


@router.get("/nurture")
async def nurture(
    request: Request,
    web: WebDep,
    user: UserDep,
    track: str = "",
    step: str = "",
    q: str = "",
    after: str | None = None,
    held: str = "7",
    of: str | None = None,
) -> Response:
    """Marketing's page; sales managers read its counts too, as they read the dashboard,
    but not who is in the tracks: those are leads of every team. ``of``: the track the
    form's step list was for; a step chosen for another track is dropped."""
    allowed(user, *MARKETING, "manager")
    if of is not None and of != track:
        step = ""  # the track was changed, the step list was the old track's
    number = int(step) if step.isdigit() and len(step) < 5 else 0  # 1: the first step
    search = MemberSearch(track[:100], number - 1 if number else None, q[:320], parse_after(after))
    days = int(held) if held.isdigit() and len(held) < 4 else 7
    people = user.role in MARKETING
    page = await web.run(_nurture, web, search, days, people)
    return web.render(request, "nurture.html.j2", user=user, page=page)


def _nurture(web: Web, search: MemberSearch, days: int, people: bool) -> Any:
    region = web.runtime.capture.region
    with web.runtime.uow() as uow:
        return nurture_page(uow, web.playbook, web.now(), search, days, region, people)


@router.get("/inquiries")
async def inquiries(
    request: Request,
    web: WebDep,
    user: UserDep,
    q: str = "",
    source: str = "",
    channel: str = "",
    before: str | None = None,
) -> Response:
    allowed(user, *MARKETING)
    cursor = int(before) if before and before.isdigit() else None
    search = InquirySearch(q[:320], source[:200], channel[:20], cursor)
    rows = await web.run(_inquiries, web, search)
    return web.render(
        request, "inquiries.html.j2", user=user, rows=rows, search=search, channels=CHANNELS
    )


def _inquiries(web: Web, search: InquirySearch) -> Any:
    with web.runtime.uow() as uow:
        return search_inquiries(uow, search, web.runtime.capture.region)


@router.get("/quarantine")
async def quarantine(
    request: Request, web: WebDep, user: UserDep, replayed: bool = False, before: str | None = None
) -> Response:
    allowed(user, *MARKETING)
    cursor = int(before) if before and before.isdigit() else None
    rows = await web.run(_quarantine, web, replayed, cursor)
    return web.render(request, "quarantine.html.j2", user=user, rows=rows, replayed=replayed)


def _quarantine(web: Web, replayed: bool, before: int | None) -> Any:
    with web.runtime.uow() as uow:
        return quarantine_list(uow, replayed, before)


@router.get("/quarantine/{item_id}")
async def quarantine_page(request: Request, web: WebDep, user: UserDep, item_id: int) -> Response:
    allowed(user, *MARKETING)
    row, text = await web.run(_item, web, item_id)
    return web.render(request, "quarantine_item.html.j2", user=user, item=row, fields=text)


def _item(web: Web, item_id: int) -> Any:
    with web.runtime.uow() as uow:
        return quarantine_item(uow, item_id)


@router.post("/quarantine/{item_id}/replay")
async def quarantine_replay(
    request: Request, web: WebDep, user: UserDep, form: FormDep, item_id: int
) -> Response:
    allowed(user, *MARKETING)
    result = await web.run(_replay, web, item_id, form.get("fields", ""))
    if result.result.error:
        return web.redirect(
            request, f"/quarantine/{item_id}", f"Still refused: {result.result.error}"
        )
    person = result.result.person_id
    return web.redirect(
        request,
        f"/leads/{person}" if person else "/quarantine",
        f"Replayed: inquiry {result.result.inquiry_id} captured.",
    )


def _replay(web: Web, item_id: int, text: str) -> Any:
    fields = parse_fixed(text)
    with web.runtime.uow() as uow:
        return replay(uow, web.playbook, item_id, web.runtime.capture, web.now(), None, fields)
