"""Nurture for the people who run it (admin key).

::

    GET /api/v1/nurture/report?since=DAY&until=DAY&top=10   the customer experience report
    GET /api/v1/nurture/enrollments?status=active&limit=100 who is in which track
    GET /api/v1/calls?limit=20                              the qualification-call queue

Days are UTC; a report covers touches from ``since`` (included) to ``until`` (not
included). What each part means: ``services/nurture_report.py`` and docs/nurture.md.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.services.nurture_report import Enrollment, Experience, experience, list_enrollments
from leadflow.services.qualification import Waiting, call_queue

router = APIRouter(tags=["nurture"])

Day = Annotated[date | None, Query(description="A day, YYYY-MM-DD (UTC).")]


class EnrollmentsPublic(BaseModel):
    data: list[Enrollment]
    count: int


class CallPublic(BaseModel):
    person_id: int
    name: str
    company: str | None
    grade: str
    stage: str
    waiting_since: datetime
    source: str | None
    questions: int
    task: str | None


class CallsPublic(BaseModel):
    data: list[CallPublic]
    count: int


def _start(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


def _report(runtime: Runtime, since: date | None, until: date | None, top: int) -> Experience:
    with runtime.uow() as uow:
        return experience(uow, runtime.playbook, _start(since), _start(until), top)


def _enrollments(runtime: Runtime, status: str | None, limit: int) -> EnrollmentsPublic:
    with runtime.uow() as uow:
        rows, count = list_enrollments(uow, status, limit)
    return EnrollmentsPublic(data=rows, count=count)


def _calls(runtime: Runtime, limit: int) -> list[Waiting]:
    with runtime.uow() as uow:
        return call_queue(uow, runtime.playbook, limit)


@router.get(
    "/api/v1/nurture/report",
    summary="The customer experience report (admin)",
    response_model=Experience,
    responses=ERROR_RESPONSES,
)
async def report(
    runtime: RuntimeDep,
    _key: AdminKey,
    since: Day = None,
    until: Day = None,
    top: Annotated[int, Query(ge=0, le=1000, description="How many leads touched most.")] = 10,
) -> Experience:
    """Touches per lead per week by stage and channel (median, 90th percentile, maximum),
    every cap and reason that held a message back, and the leads touched most."""
    return await runtime.run(_report, runtime, since, until, top)


@router.get(
    "/api/v1/nurture/enrollments",
    summary="Who is in which nurture track (admin)",
    response_model=EnrollmentsPublic,
    responses=ERROR_RESPONSES,
)
async def enrollments(
    runtime: RuntimeDep,
    _key: AdminKey,
    status: Annotated[str | None, Query(description="active, paused, finished or exited.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EnrollmentsPublic:
    """Enrollments, newest first; ``count`` is how many there are with that status."""
    return await runtime.run(_enrollments, runtime, status, limit)


@router.get(
    "/api/v1/calls",
    summary="The qualification-call queue (admin)",
    response_model=CallsPublic,
    responses=ERROR_RESPONSES,
)
async def calls(
    runtime: RuntimeDep, _key: AdminKey, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> CallsPublic:
    """Leads waiting for a qualification call: nurture call tasks first, then by grade and
    age, with how many of the playbook's call questions each still misses."""
    waiting = await runtime.run(_calls, runtime, limit)
    return CallsPublic(data=[CallPublic(**asdict(w)) for w in waiting], count=len(waiting))
