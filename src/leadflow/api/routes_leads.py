"""``/api/v1/leads``: one lead, and what sales does with it (admin key).

::

    GET  /api/v1/leads/{id}               the lead: person, rating and reasons, stage,
                                          owner, deadlines, speed to lead, history
    POST /api/v1/leads/{id}/accept        {"rep": 3}                 (rep: optional)
    POST /api/v1/leads/{id}/reject        {"reason": "bad_timing", "note": "..."}
    POST /api/v1/leads/{id}/recycle       {"reason": "no_budget", "recontact_on": "2027-03-01"}
    POST /api/v1/leads/{id}/disqualify    {"reason": "competitor"}
    POST /api/v1/leads/{id}/contact       {"channel": "call"}

A lead is named by its person's id. Reasons are the playbook's (``handoff.reasons``);
an unknown one is a 422 that lists them. A disposition the stage model does not allow
from the lead's stage is a 409 that says which stages it may go to. Each disposition
answers with the lead as ``GET`` shows it.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.errors import NotFound
from leadflow.services import dispositions
from leadflow.services.handoff import Runtime as Hands
from leadflow.services.keys import ApiKey
from leadflow.services.lead_view import lead_view
from leadflow.services.qualification import record_answers, script

router = APIRouter(prefix="/api/v1/leads", tags=["leads"])

Reason = Annotated[str, Field(min_length=1, max_length=100, description="A playbook reason key.")]
Note = Annotated[str | None, Field(None, max_length=2000, description="Free text for the record.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptBody(_Body):
    rep: int | None = Field(None, description="The rep who accepts; by default the owner.")


class RejectBody(_Body):
    reason: Reason
    note: Note = None
    recontact_on: date | None = Field(
        None, description="When marketing looks at it again; by default the playbook's delay."
    )


class DisqualifyBody(_Body):
    reason: Reason
    note: Note = None


class AnswersBody(_Body):
    answers: dict[str, str] = Field(
        min_length=1, description="Field name -> the answer as given, e.g. budget: approved."
    )
    by: str | None = Field(None, max_length=200, description="Who gave or took the answers.")
    channel: str = Field("api", description="How they were given: call, form, email, api.")


class ContactBody(_Body):
    channel: str = Field("call", max_length=30, description="call, email, meeting...")
    note: Note = None


def _runtime(runtime: Runtime, key: ApiKey) -> Hands:
    return replace(runtime.capture.runtime(), clock=runtime.clock, by=f"api key {key.prefix}")


def _view(runtime: Runtime, person_id: int) -> dict[str, Any]:
    with runtime.uow() as uow:
        return lead_view(uow, runtime.playbook, person_id, runtime.clock())


def _dispose(runtime: Runtime, key: ApiKey, person_id: int, what: str, body: Any) -> dict[str, Any]:
    pb, hands = runtime.playbook, _runtime(runtime, key)
    with runtime.uow() as uow:
        if what == "accept":
            dispositions.accept(uow, pb, person_id, hands, rep=body.rep)
        elif what == "reject":
            dispositions.reject(
                uow, pb, person_id, body.reason, hands, body.note, body.recontact_on
            )
        elif what == "recycle":
            dispositions.recycle(
                uow, pb, person_id, body.reason, hands, body.note, body.recontact_on
            )
        elif what == "disqualify":
            dispositions.disqualify(uow, pb, person_id, body.reason, hands, body.note)
        else:
            dispositions.contacted(uow, pb, person_id, hands, body.channel, body.note)
    return _view(runtime, person_id)


@router.get("/{person_id}", summary="One lead (admin)", responses=ERROR_RESPONSES)
async def get_lead(person_id: int, runtime: RuntimeDep, _key: AdminKey) -> dict[str, Any]:
    """The lead with its person, grade, reasons, stage, owner, deadlines and history."""
    return await runtime.run(_view, runtime, person_id)


@router.post("/{person_id}/accept", summary="Sales accepts the lead", responses=ERROR_RESPONSES)
async def accept(
    person_id: int, runtime: RuntimeDep, key: AdminKey, body: AcceptBody | None = None
) -> dict[str, Any]:
    """Accept: the lead moves to the sales-accepted stage; the first-contact SLA starts."""
    return await runtime.run(_dispose, runtime, key, person_id, "accept", body or AcceptBody())


@router.post("/{person_id}/reject", summary="Sales rejects the lead", responses=ERROR_RESPONSES)
async def reject(
    person_id: int, body: RejectBody, runtime: RuntimeDep, key: AdminKey
) -> dict[str, Any]:
    """Reject with a reason: back to marketing, held until its recontact date."""
    return await runtime.run(_dispose, runtime, key, person_id, "reject", body)


@router.post(
    "/{person_id}/recycle", summary="Hand the lead back to marketing", responses=ERROR_RESPONSES
)
async def recycle(
    person_id: int, body: RejectBody, runtime: RuntimeDep, key: AdminKey
) -> dict[str, Any]:
    """Recycle with a reason and a recontact date: marketing nurtures it until then."""
    return await runtime.run(_dispose, runtime, key, person_id, "recycle", body)


@router.post("/{person_id}/disqualify", summary="Disqualify the lead", responses=ERROR_RESPONSES)
async def disqualify(
    person_id: int, body: DisqualifyBody, runtime: RuntimeDep, key: AdminKey
) -> dict[str, Any]:
    return await runtime.run(_dispose, runtime, key, person_id, "disqualify", body)


@router.post("/{person_id}/contact", summary="Record the first contact", responses=ERROR_RESPONSES)
async def contact(
    person_id: int, runtime: RuntimeDep, key: AdminKey, body: ContactBody | None = None
) -> dict[str, Any]:
    """The owner reached the lead: stops the first-contact SLA clock."""
    return await runtime.run(_dispose, runtime, key, person_id, "contact", body or ContactBody())


def _answer(runtime: Runtime, key: ApiKey, person_id: int, body: AnswersBody) -> dict[str, Any]:
    with runtime.uow() as uow:
        record_answers(
            uow,
            runtime.playbook,
            person_id,
            body.answers,
            body.by or f"api key {key.prefix}",
            body.channel,
            runtime.capture,
            runtime.clock(),
        )
    return _view(runtime, person_id)


def _script(runtime: Runtime, person_id: int) -> dict[str, Any]:
    with runtime.uow() as uow:
        person = uow.store.person(person_id)
    if person is None:
        raise NotFound(f"no lead {person_id}")
    questions = script(runtime.playbook, person.facts)
    return {"id": person_id, "questions": [asdict(q) for q in questions]}


@router.post(
    "/{person_id}/answers", summary="Record qualification answers", responses=ERROR_RESPONSES
)
async def answers(
    person_id: int, body: AnswersBody, runtime: RuntimeDep, key: AdminKey
) -> dict[str, Any]:
    """Answers to the playbook's questions, with who gave them and how; the lead is rated
    again at once and routed when the answers make it sales-ready."""
    return await runtime.run(_answer, runtime, key, person_id, body)


@router.get("/{person_id}/script", summary="The call script for a lead", responses=ERROR_RESPONSES)
async def call_script(person_id: int, runtime: RuntimeDep, _key: AdminKey) -> dict[str, Any]:
    """The qualification questions the lead has not answered, with wording and choices."""
    return await runtime.run(_script, runtime, person_id)
