"""``POST /api/v1/inquiries``: capture one inquiry, or a batch of up to 1,000.

The body is read as text first: one that is not a JSON object is kept in the
quarantine exactly as received (reason ``unparsable_payload``) and refused
with 422. Each inquiry is captured (and committed) on its own, so one that
cannot be identified is quarantined without holding back the others.

The key check, the parsing and the captures of one request run in one call off
the event loop (:func:`_handle`), on one database connection, in that order: a
caller without a live key gets 401 and nothing is kept.

The busiest route of the API is served by Starlette alone (:data:`FAST_ROUTE`, placed
first by ``create_app``): it reads its two headers and its body by hand and answers
JSON it serialised itself, so FastAPI's dependency solving and response-model
validation are skipped (0.2 of a capture's 1.7 ms of CPU, measured in process). The
same function is also registered on FastAPI's router, which describes it in the
OpenAPI document; errors go through the app's handlers either way.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response, Security
from starlette.routing import Route

from leadflow.api.deps import Runtime, bearer, check_key, presented_in
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.api.schemas import (
    ENVELOPE,
    InquiriesCreate,
    InquiriesPublic,
    InquiryCreate,
    InquiryPublic,
    parse_object,
    request_body,
    validated,
)
from leadflow.errors import InvalidInput
from leadflow.services.capture import Captured, CaptureInquiry, capture
from leadflow.services.forms import quarantine_raw
from leadflow.services.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["inquiries"])

MAX_IDEMPOTENCY_KEY = 180  # the column holds 200; batch items add ":<index>"
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key returns the first result instead of a second "
    f"inquiry (1 to {MAX_IDEMPOTENCY_KEY} characters). In a batch, item i uses '<key>:<i>'.",
    "schema": {"type": "string"},
}
STATUS = {"captured": 201, "repeated": 200, "quarantined": 202}


def public(result: Captured) -> InquiryPublic:
    status = "quarantined" if result.quarantined else "repeated" if result.repeated else "captured"
    return InquiryPublic(
        status=status,
        inquiry_id=result.inquiry_id,
        person_id=result.person_id,
        grade=result.grade,
        route=result.route,
        quarantine_id=result.quarantine_id,
        error=result.error,
    )


def _commands(
    runtime: Runtime, text: str, body: dict[str, Any], key: str | None
) -> list[CaptureInquiry]:
    if "inquiries" in body:
        items = validated(InquiriesCreate, body).inquiries
        raws = [json.dumps(item, ensure_ascii=False) for item in body["inquiries"]]
        keys = [f"{key}:{i}" if key else None for i in range(len(items))]
    else:
        items, raws, keys = [validated(InquiryCreate, body)], [text], [key]
    at = runtime.clock()
    return [
        CaptureInquiry(
            fields={k: v for k, v in original.items() if k not in ENVELOPE},
            raw=raw,
            source=item.source,
            channel="api",
            received_at=at,
            campaign=item.campaign,
            idempotency_key=item_key,
        )
        for item, original, raw, item_key in zip(
            items, body.get("inquiries", [body]), raws, keys, strict=True
        )
    ]


def _handle(
    runtime: Runtime, key: str, raw: bytes, idempotency_key: str | None
) -> tuple[list[Captured], bool]:
    """Check the key, read the body, capture each inquiry; the results and whether a batch."""
    with runtime.uow() as uow:
        check_key(uow, key, "capture")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters", where="Idempotency-Key"
            )
        try:
            text, body = parse_object(raw)
        except InvalidInput as error:
            _keep_unreadable(uow, runtime, raw, error)
            raise
        commands = _commands(runtime, text, body, idempotency_key)
        return _capture_all(uow, runtime, commands), "inquiries" in body


def _capture_all(
    uow: UnitOfWork, runtime: Runtime, commands: list[CaptureInquiry]
) -> list[Captured]:
    """Each inquiry in its own transaction (``capture`` commits), on the one connection."""
    return [capture(uow, runtime.playbook, cmd, runtime.capture) for cmd in commands]


def _keep_unreadable(uow: UnitOfWork, runtime: Runtime, raw: bytes, error: InvalidInput) -> None:
    quarantine_raw(
        uow,
        raw.decode("utf-8", errors="replace"),
        channel="api",
        source="api",
        reason="unparsable_payload",
        error=str(error),
        at=runtime.clock(),
    )


@router.post(
    "/inquiries",
    summary="Capture one inquiry or a batch",
    response_model=InquiryPublic | InquiriesPublic,
    status_code=201,
    responses={
        200: {"description": "A batch, or an idempotent retry of one inquiry"},
        202: {"description": "Kept in the quarantine: it cannot be told who this is"},
        **ERROR_RESPONSES,
    },
    dependencies=[Security(bearer)],  # documents the key; the route reads it itself
    openapi_extra={**request_body(InquiryCreate, "inquiries"), "parameters": [IDEMPOTENCY_KEY]},
)
async def capture_inquiries(request: Request) -> Response:
    """Capture inquiries: each is kept as received, matched to a person and rated.

    The answer gives, per inquiry, `inquiry_id`, `person_id`, `grade` and `route`
    (`status` is `captured`, `repeated` for an idempotent retry, or `quarantined`).
    """
    runtime: Runtime = request.app.state.runtime
    key = presented_in(request.headers.get("authorization"))
    idempotency_key = request.headers.get("idempotency-key")
    raw = await request.body()
    results, batch = await runtime.run(_handle, runtime, key, raw, idempotency_key)
    if batch:
        answer = InquiriesPublic(data=[public(r) for r in results], count=len(results))
        return Response(answer.model_dump_json(), 200, media_type="application/json")
    one = public(results[0])
    return Response(one.model_dump_json(), STATUS[one.status], media_type="application/json")


FAST_ROUTE = Route(f"{router.prefix}/inquiries", capture_inquiries, methods=["POST"])
