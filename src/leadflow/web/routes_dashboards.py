"""The dashboards: the funnel (with where every lead stands now and what sales handed
back), sources, velocity and recycle, each as charts beside its numbers, filtered by
since, until and by, and each report's CSV. Marketing, admins and sales managers read
them; a rep gets 403. See :mod:`leadflow.web.dashboards`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from leadflow.analytics.report_text import report_csv
from leadflow.analytics.reports import BY, Report
from leadflow.errors import InvalidInput
from leadflow.services.marketing_views import handed_back
from leadflow.services.reports import DEFAULT_BY, run_report
from leadflow.services.users import User
from leadflow.web.dashboards import DASHBOARDS, Dashboard, Filters, csv_name, table
from leadflow.web.deps import UserDep, Web, WebDep, WebError, allowed, page_errors

router = APIRouter(include_in_schema=False)
VIEWERS = ("marketing", "admin", "manager")


@router.get("/dashboard")
async def dashboard(
    request: Request,
    web: WebDep,
    user: UserDep,
    since: str | None = None,
    until: str | None = None,
    by: str | None = None,
    before: str | None = None,
) -> Response:
    """The funnel report, where every lead stands now, and the leads sales handed back."""
    allowed(user, *VIEWERS)
    filters = Filters.of(since, until, by)
    try:
        query = filters.query("funnel")
    except InvalidInput as error:
        return _refused(request, web, user, DASHBOARDS["funnel"], filters, error)
    report = await web.read(run_report, web.runtime.engine, None, query)
    now = await web.run(_now_and_back, web, _moment(before))
    return _page(request, web, user, DASHBOARDS["funnel"], filters, report, **now)


def _now_and_back(web: Web, before: datetime | None) -> dict[str, Any]:
    with web.runtime.uow() as uow:
        funnel = web.funnel(uow, web.playbook, web.now())
        back = handed_back(uow, before)
    return {"funnel": funnel, "handed_back": back, "reasons": dict(web.playbook.handoff.reasons)}


@router.get("/dashboard/{name}.csv")
async def dashboard_csv(
    web: WebDep,
    user: UserDep,
    name: str,
    since: str | None = None,
    until: str | None = None,
    by: str | None = None,
) -> Response:
    """The dashboard's report as ``leadflow report NAME --format csv`` prints it."""
    allowed(user, *VIEWERS)
    board = _board(name)
    filters = Filters.of(since, until, by)
    with page_errors():
        query = filters.query(board.name)
    report = await web.read(run_report, web.runtime.engine, None, query)
    disposition = f'attachment; filename="{csv_name(board.name, filters)}"'
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


@router.get("/dashboard/{name}")
async def dashboard_page(
    request: Request,
    web: WebDep,
    user: UserDep,
    name: str,
    since: str | None = None,
    until: str | None = None,
    by: str | None = None,
) -> Response:
    """Sources, velocity or recycle (the funnel is ``/dashboard``)."""
    allowed(user, *VIEWERS)
    board = _board(name)
    filters = Filters.of(since, until, by)
    if board.name == "funnel":  # its page is /dashboard
        return RedirectResponse(board.path + filters.params(), status_code=307)
    try:
        query = filters.query(board.name)
    except InvalidInput as error:
        return _refused(request, web, user, board, filters, error)
    report = await web.read(run_report, web.runtime.engine, None, query)
    return _page(request, web, user, board, filters, report)


def _board(name: str) -> Dashboard:
    if name not in DASHBOARDS:
        raise _no_such(name)
    return DASHBOARDS[name]


def _no_such(name: str) -> WebError:
    known = ", ".join(d.path for d in DASHBOARDS.values())
    return WebError(404, f"There is no dashboard '{name[:40]}'. The dashboards: {known}.")


def _moment(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page(
    request: Request,
    web: Web,
    user: User,
    board: Dashboard,
    filters: Filters,
    report: Report,
    **more: Any,
) -> Response:
    return web.render(
        request,
        "dashboard.html.j2",
        user=user,
        board=board,
        boards=list(DASHBOARDS.values()),
        filters=filters,
        groupings=_groupings(board),
        grouping=filters.grouping(board.name),
        report=report,
        charts=board.charts(report),
        table=table(report),
        **more,
    )


def _refused(
    request: Request, web: Web, user: User, board: Dashboard, filters: Filters, error: InvalidInput
) -> Response:
    """The form again, as typed, with what is wrong: 422, and no report."""
    return web.render(
        request,
        "dashboard.html.j2",
        status=422,
        user=user,
        board=board,
        boards=list(DASHBOARDS.values()),
        filters=filters,
        groupings=_groupings(board),
        grouping=filters.by,
        error=error,
    )


def _groupings(board: Dashboard) -> list[str]:
    """The form's choices for ``by``: all leads (unless the report always groups)."""
    return ([] if board.name in DEFAULT_BY else ["all"]) + list(BY)
