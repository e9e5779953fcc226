"""The definitions: the playbook as the agreed definitions document, and the backtest of
a candidate playbook (``leadflow backtest`` on a page).

::

    GET  /definitions                    the document, for everyone signed in
    GET  /definitions/backtest?start=    the form, the candidate's text started from a
                                         playbook (marketing, admin)
    POST /definitions/backtest           run it: the candidate written in the textarea or
                                         uploaded, since and until optional; the report
                                         below the form, or as one HTML file to keep

A candidate that is not YAML or not a valid playbook is shown again with every problem
and its line (422), its text as sent. A backtest over a long history takes seconds; it
runs in a thread, so the server keeps answering while it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from leadflow.analytics.backtest import Backtest
from leadflow.analytics.backtest_render import heading, html, sections
from leadflow.errors import InvalidInput, PlaybookError
from leadflow.services.candidates import read_candidate, upload_text
from leadflow.services.reports import run_backtest
from leadflow.services.users import User
from leadflow.web.dashboards import days
from leadflow.web.deps import UPLOAD_LIMIT, Posted, UploadDep, UserDep, Web, WebDep, allowed

router = APIRouter(include_in_schema=False)
TRYING = ("marketing", "admin")
CANDIDATE_FILE = "candidate.yaml"  # how problems in the textarea name their place


@router.get("/definitions")
async def definitions(request: Request, web: WebDep, user: UserDep) -> Response:
    """The definitions document as it is, with a way back to the pages (and, for those
    who may, to the backtest)."""
    link = '<a href="/" style="color:#fff">&larr; Back to leadflow</a>'
    if user.role in TRYING:
        link += (
            ' <span style="color:#fff">·</span> <a href="/definitions/backtest" '
            'style="color:#fff">Backtest a candidate playbook</a>'
        )
    back = f'<nav style="font:14px system-ui;padding:.5rem 1rem;background:#0f3b5f">{link}</nav>'
    return HTMLResponse(web.definitions.replace("<body>", "<body>" + back, 1))


@dataclass(frozen=True)
class CandidateForm:
    """The backtest form as sent: kept as text, so nothing is lost when it is refused."""

    text: str = ""
    since: str = ""
    until: str = ""
    start: str = ""  # the playbook the text started from, if it was loaded from one
    source: str = CANDIDATE_FILE  # the uploaded file's name, or the textarea's

    @classmethod
    def of(cls, posted: Posted) -> CandidateForm:
        """The uploaded file's text takes the textarea's place (and is shown in it)."""
        values = posted.values
        text, source = values.get("candidate", ""), CANDIDATE_FILE
        upload = posted.files.get("playbook_file")
        if upload is not None:
            text, source = (
                upload_text(upload.content, upload.filename, UPLOAD_LIMIT),
                upload.filename,
            )
        return cls(
            text.replace("\r\n", "\n"),
            values.get("since", "").strip()[:40],
            values.get("until", "").strip()[:40],
            values.get("start", "")[:40],
            source[:200],
        )

    def days(self) -> tuple[date | None, date | None]:
        """Since and until, or InvalidInput naming the one that is wrong."""
        return days(self.since, self.until)


@router.get("/definitions/backtest")
async def backtest_form(request: Request, web: WebDep, user: UserDep, start: str = "") -> Response:
    allowed(user, *TRYING)
    starts = web.starts
    chosen = next((s for s in starts if s.key == start), starts[0] if starts else None)
    form = CandidateForm(chosen.text if chosen else "", start=chosen.key if chosen else "")
    return _page(request, web, user, form)


@router.post("/definitions/backtest")
async def backtest_run(request: Request, web: WebDep, user: UserDep, posted: UploadDep) -> Response:
    allowed(user, *TRYING)
    form = CandidateForm(
        posted.values.get("candidate", "").replace("\r\n", "\n"),
        posted.values.get("since", "")[:40],
        posted.values.get("until", "")[:40],
    )
    try:
        form = CandidateForm.of(posted)
        since, until = form.days()
        candidate = read_candidate(form.text, form.source)
    except InvalidInput as error:
        return _page(request, web, user, form, error=error, status=422)
    result = await web.read(run_backtest, web.runtime.engine, web.playbook, candidate, since, until)
    if posted.values.get("action") == "html":
        name = f"backtest-{_safe(candidate.name)}-{web.now():%Y%m%d-%H%M}.html"
        disposition = f'attachment; filename="{name}"'
        return HTMLResponse(html(result), headers={"Content-Disposition": disposition})
    return _page(request, web, user, form, result=result)


def _safe(name: str) -> str:
    """A playbook's name as part of a file name: letters, digits, dots and dashes only
    (a header carries it; quotes or accents would break it)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60] or "candidate"


def _page(
    request: Request,
    web: Web,
    user: User,
    form: CandidateForm,
    *,
    error: InvalidInput | None = None,
    result: Backtest | None = None,
    status: int = 200,
) -> Response:
    report: dict[str, Any] = {}
    if result is not None:
        report = {"heading": heading(result), "sections": sections(result), "result": result}
    problems = error.problems if isinstance(error, PlaybookError) else []
    return web.render(
        request,
        "backtest.html.j2",
        status=status,
        user=user,
        form=form,
        starts=web.starts,
        error=error,
        problems=problems,
        **report,
    )
