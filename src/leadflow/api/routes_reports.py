"""``/api/v1/reports`` and outcomes: the closed loop over HTTP (admin key).

::

    GET  /api/v1/reports/{name}?since=2026-09-01&until=2026-12-01&by=source
         name: funnel, sources, velocity, recycle, gaps; the same data as
         ``leadflow report NAME --format json``: {report, title, columns, rows, notes}
    GET  /api/v1/reports/rank?last=100
    POST /api/v1/leads/{id}/outcomes   {"outcome": "won", "value": 12000, "currency": "EUR",
                                        "date": "2026-11-20", "reason": "..."}

An unknown report, grouping or outcome, a negative value or a bad date is a 422 that
says which parameter. An outcome answers with what was recorded and whether the lead's
stage moved (``moved``, and ``note`` saying why not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.services.keys import ApiKey
from leadflow.services.outcomes import RecordOutcome, record_outcome
from leadflow.services.reports import ReportQuery, last_ranked, run_report

router = APIRouter(tags=["reports"])


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(description="opportunity, won or lost")
    value: float | None = Field(None, description="The deal's value; not negative.")
    currency: str | None = Field(None, max_length=3, description="EUR, USD...")
    date: dt.date | None = Field(None, description="The deal's own date; by default today.")
    reason: str | None = Field(None, max_length=200, description="Why it was won or lost.")


def _report(runtime: Runtime, query: ReportQuery) -> dict[str, Any]:
    return run_report(runtime.engine, runtime.playbook, query).as_json()


def _rank(runtime: Runtime, last: int) -> dict[str, Any]:
    return last_ranked(runtime.engine, last).as_json()


def _outcome(runtime: Runtime, key: ApiKey, person_id: int, body: OutcomeBody) -> dict[str, Any]:
    hands = replace(runtime.capture.runtime(), clock=runtime.clock, by=f"api key {key.prefix}")
    cmd = RecordOutcome(person_id, body.outcome, body.value, body.currency, body.date, body.reason)
    with runtime.uow() as uow:
        done = record_outcome(uow, runtime.playbook, cmd, hands)
    return {**asdict(done), "on": done.on.isoformat()}


@router.get("/api/v1/reports/rank", summary="The last inquiries ranked", responses=ERROR_RESPONSES)
async def get_rank(
    runtime: RuntimeDep,
    _key: AdminKey,
    last: Annotated[int, Query(ge=1, le=10_000, description="How many inquiries.")] = 100,
) -> dict[str, Any]:
    return await runtime.run(_rank, runtime, last)


@router.get("/api/v1/reports/{name}", summary="A closed-loop report", responses=ERROR_RESPONSES)
async def get_report(
    name: str,
    runtime: RuntimeDep,
    _key: AdminKey,
    since: Annotated[date | None, Query(description="First inquiry on or after.")] = None,
    until: Annotated[date | None, Query(description="First inquiry before.")] = None,
    by: Annotated[
        str | None, Query(description="source, campaign, form, rep, grade or month")
    ] = None,
) -> dict[str, Any]:
    return await runtime.run(_report, runtime, ReportQuery(name, since, until, by))


@router.post(
    "/api/v1/leads/{person_id}/outcomes", summary="Record an outcome", responses=ERROR_RESPONSES
)
async def post_outcome(
    person_id: int, body: OutcomeBody, runtime: RuntimeDep, key: AdminKey
) -> dict[str, Any]:
    return await runtime.run(_outcome, runtime, key, person_id, body)
