"""``POST /api/v1/activities``: record what people did, one activity or a batch.

A batch is all or nothing: if one activity names nobody known, none is recorded
and the 404 says which (``where`` = ``activities[i]``), so the caller can fix and
resend the whole batch without making duplicates. So too for one found only by a
phone or a role address that several people gave (409 at ``activities[i].phone`` or
``activities[i].email``, saying how many).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Request, Response

from leadflow.adapters.store.repository import Event
from leadflow.api.deps import CaptureKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES, NotAllowed
from leadflow.api.schemas import (
    ActivitiesCreate,
    ActivitiesPublic,
    ActivityCreate,
    ActivityPublic,
    parse_object,
    request_body,
    validated,
)
from leadflow.errors import LeadflowError
from leadflow.services.activities import (
    RecordActivity,
    Recorded,
    rate_recorded,
    store_activity,
)

router = APIRouter(prefix="/api/v1", tags=["activities"])


def _command(item: ActivityCreate, now: datetime) -> RecordActivity:
    return RecordActivity(
        type=item.type,
        at=item.at or now,
        person_id=item.person_id,
        email=item.email,
        phone=item.phone,
        external_id=item.external_id,
        source=item.source,
        details=item.details,
    )


def _no_ids(items: list[ActivityCreate], batch: bool) -> None:
    """A capture key names people by what the caller knows of them, never by leadflow's
    ids: counting through ids would read every lead's grade (the answer gives it)."""
    for index, item in enumerate(items):
        if item.person_id is not None:
            raise NotAllowed(
                "a capture key names the person by email, phone or external_id;"
                " person_id needs an admin key",
                where=f"activities[{index}].person_id" if batch else "person_id",
            )


def _placed(error: LeadflowError, where: str) -> LeadflowError:
    """The same error, saying which item of the batch it is about."""
    error.where = f"{where}.{error.where}" if error.where else where
    return error


def _record_all(runtime: Runtime, items: list[ActivityCreate], batch: bool) -> list[Recorded]:
    """Store every activity, then rate each person once (``rate_recorded``)."""
    now = runtime.clock()
    stored: list[tuple[int, int, str]] = []
    logged: list[Event] = []
    with runtime.uow() as uow:
        for index, item in enumerate(items):
            command = _command(item, now)
            try:
                activity_id, person, _at = store_activity(
                    uow.store, command, runtime.capture, now, logged
                )
            except LeadflowError as error:
                raise (_placed(error, f"activities[{index}]") if batch else error) from None
            stored.append((activity_id, person, command.type))
        uow.store.append_events(logged)
        done = rate_recorded(uow.store, runtime.playbook, stored, runtime.capture, now)
        uow.commit()
    return done


@router.post(
    "/activities",
    summary="Record one activity or a batch",
    response_model=ActivityPublic | ActivitiesPublic,
    status_code=201,
    responses={200: {"description": "A batch was recorded"}, **ERROR_RESPONSES},
    openapi_extra=request_body(ActivityCreate, "activities"),
)
async def record_activities(
    request: Request, response: Response, runtime: RuntimeDep, key: CaptureKey
) -> ActivityPublic | ActivitiesPublic:
    """Record activities; each re-rates its person (engagement fades with time).

    The person is found by `person_id` (admin keys only), `email`, `phone` or
    `external_id`; an unknown person is a 404, and a phone or a role address (info@)
    several people gave, with no other identifier that finds one person, a 409 at `phone`
    or `email`. `at` defaults to now; a time more than five minutes ahead of the server's
    clock is refused.
    """
    _text, body = parse_object(await request.body())
    batch = "activities" in body
    items: list[ActivityCreate] = (
        validated(ActivitiesCreate, body).activities if batch else [validated(ActivityCreate, body)]
    )
    if not key.allows("admin"):
        _no_ids(items, batch)
    recorded = await runtime.run(_record_all, runtime, items, batch)
    public = [ActivityPublic(**asdict(r)) for r in recorded]
    if batch:
        response.status_code = 200
        return ActivitiesPublic(data=public, count=len(public))
    return public[0]
