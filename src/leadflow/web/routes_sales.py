"""Sales pages: my queue (a rep), the lead page and what sales does with a lead, the
team board (a manager).

Every lead passes the access guard (:mod:`leadflow.services.access`) before it is shown
or changed: a rep opening another rep's lead gets 403.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadflow.errors import InvalidInput
from leadflow.services import dispositions
from leadflow.services.access import check_dispose, check_role
from leadflow.services.handoff import Runtime as Hands
from leadflow.services.lead_page import lead_page
from leadflow.services.sales_views import boards, place, reassign, rep_queue
from leadflow.services.users import User
from leadflow.web.deps import FormDep, UserDep, Web, WebDep, WebError, page_errors

router = APIRouter(include_in_schema=False)
ACTIONS = ("accept", "reject", "recycle", "reassign", "contact")


def _cursor(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@router.get("/queue")
async def queue(
    request: Request,
    web: WebDep,
    user: UserDep,
    working_before: str | None = None,
    pool_before: str | None = None,
) -> Response:
    with page_errors():
        check_role(user, "rep", "manager", "admin")
    data = await web.run(_queue, web, user, _cursor(working_before), _cursor(pool_before))
    return web.render(request, "queue.html.j2", user=user, queue=data)


def _queue(web: Web, user: User, working_before: int | None, pool_before: int | None) -> Any:
    with web.runtime.uow() as uow:
        return rep_queue(uow, web.playbook, user, working_before, pool_before)


@router.get("/leads/{person_id}")
async def lead(request: Request, web: WebDep, user: UserDep, person_id: int) -> Response:
    view = await web.run(_lead, web, user, person_id)
    return web.render(request, "lead.html.j2", user=user, lead=view)


def _lead(web: Web, user: User, person_id: int) -> dict[str, Any]:
    with web.runtime.uow() as uow:
        return lead_page(uow, web.playbook, user, person_id, web.now())


def _hands(web: Web, user: User) -> Hands:
    capture = web.runtime.capture.runtime()
    return replace(capture, clock=web.runtime.clock, by=f"{user.email} (web)")


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a day like 2027-03-01", "recontact_on") from None


def _dispose(web: Web, user: User, person_id: int, action: str, form: dict[str, str]) -> str:
    """Check the user may, then do it; returns what the next page says."""
    pb, hands = web.playbook, _hands(web, user)
    note = (form.get("note") or "").strip()[:2000] or None
    with web.runtime.uow() as uow:
        where = place(uow, person_id)
        check_dispose(user, where, action)
        if action == "accept":
            taker = user.rep_id if user.role == "rep" else None
            dispositions.accept(uow, pb, person_id, hands, rep=taker)
            return f"Lead {person_id} accepted: the first-contact clock runs."
        if action in ("reject", "recycle"):
            reason = form.get("reason") or ""
            if not reason:
                raise InvalidInput(f"say why you {action} it: pick a reason", "reason")
            when = _day(form.get("recontact_on"))
            work = dispositions.reject if action == "reject" else dispositions.recycle
            done = work(uow, pb, person_id, reason, hands, note, when)
            return (
                f"Lead {person_id} {action}ed ({pb.handoff.reasons.get(reason, reason)}): back "
                f"to marketing until {done.recontact_on}."
            )
        if action == "reassign":
            rep = form.get("rep") or ""
            if not rep.isdigit():
                raise InvalidInput("pick the rep to give the lead to", "rep")
            reassign(uow, pb, person_id, int(rep), hands)
            return f"Lead {person_id} reassigned."
        dispositions.contacted(uow, pb, person_id, hands, form.get("channel") or "call", note)
        return f"First contact with lead {person_id} recorded."


@router.post("/leads/{person_id}/{action}")
async def dispose(
    request: Request, web: WebDep, user: UserDep, form: FormDep, person_id: int, action: str
) -> Response:
    if action not in ACTIONS:
        raise WebError(404, f"there is no action '{action}' for a lead")
    said = await web.run(_dispose, web, user, person_id, action, form)
    back = form.get("back") or ""
    target = back if back in ("/queue", "/team") or back.startswith("/team?") else None
    if target is None:
        target = (
            "/queue"
            if action in ("reject", "recycle") and user.role == "rep"
            else (f"/leads/{person_id}")
        )
    return web.redirect(request, target, said)


@router.get("/team")
async def team(request: Request, web: WebDep, user: UserDep, team: str | None = None) -> Response:
    with page_errors():
        check_role(user, "manager", "admin", "marketing")
    chosen = user.team if user.role == "manager" else team
    data = await web.run(_board, web, chosen)
    return web.render(request, "team.html.j2", user=user, **data)


def _board(web: Web, team: str | None) -> dict[str, Any]:
    with web.runtime.uow() as uow:
        teams, board = boards(uow, web.playbook, team, web.now())
    return {"teams": teams, "board": board}
