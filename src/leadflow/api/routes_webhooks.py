"""``/api/v1/webhooks``: outgoing webhooks and their delivery log, for admin keys.

``POST`` answers the new webhook with its signing ``secret``, the only time it is shown;
``DELETE`` deactivates the webhook (no new events, pending deliveries are not sent) and
keeps its delivery log, which ``GET .../{id}/deliveries`` reads, newest first. The
checks are the service's: see ``services/webhooks.py``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.services.webhooks import (
    EVENTS,
    Delivery,
    Webhook,
    add_webhook,
    list_deliveries,
    list_webhooks,
    remove_webhook,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Where to POST the events (http or https).")
    events: list[str] = Field(min_length=1, description=f"Of: {', '.join(EVENTS)}.")
    rep: int | str | None = Field(
        None, description="Only this rep's events: the rep's id or email address."
    )


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    rep_id: int | None
    active: bool
    created_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="Signs every delivery (X-Leadflow-Signature); shown only this once."
    )


class WebhooksPublic(BaseModel):
    data: list[WebhookPublic]
    count: int


class DeliveryPublic(BaseModel):
    id: int
    webhook_id: int
    event: str
    status: str = Field(description="pending, sending, delivered or failed.")
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None = Field(description="The receiver's last HTTP status.")
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    body: str = Field(description="The JSON text POSTed (and signed), as sent.")


class DeliveriesPublic(BaseModel):
    data: list[DeliveryPublic]
    count: int


IncludeInactive = Annotated[bool, Query(alias="all", description="Include removed webhooks too.")]
Status = Annotated[
    str | None, Query(description="Only deliveries with this status (pending, sending, ...).")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")]


def public(hook: Webhook) -> WebhookPublic:
    return WebhookPublic(**{**asdict(hook), "events": list(hook.events)})


def _add(runtime: Runtime, body: WebhookCreate) -> WebhookCreated:
    with runtime.uow() as uow:
        hook, secret = add_webhook(uow, body.url, body.events, runtime.clock(), body.rep)
    return WebhookCreated(**public(hook).model_dump(), secret=secret)


def _list(runtime: Runtime, include_inactive: bool) -> list[Webhook]:
    with runtime.uow() as uow:
        return list_webhooks(uow, include_inactive)


def _remove(runtime: Runtime, webhook_id: int) -> Webhook:
    with runtime.uow() as uow:
        return remove_webhook(uow, webhook_id)


def _deliveries(
    runtime: Runtime, webhook_id: int, status: str | None, limit: int
) -> list[Delivery]:
    with runtime.uow() as uow:
        return list_deliveries(uow, webhook_id, status, limit)


@router.post(
    "",
    summary="Add a webhook (admin)",
    status_code=201,
    response_model=WebhookCreated,
    responses=ERROR_RESPONSES,
)
async def add_webhook_route(
    body: WebhookCreate, runtime: RuntimeDep, _key: AdminKey
) -> WebhookCreated:
    """Subscribe a URL to events; the answer holds the signing secret, shown only once."""
    return await runtime.run(_add, runtime, body)


@router.get(
    "", summary="List webhooks (admin)", response_model=WebhooksPublic, responses=ERROR_RESPONSES
)
async def list_webhooks_route(
    runtime: RuntimeDep, _key: AdminKey, include_inactive: IncludeInactive = False
) -> WebhooksPublic:
    """The active webhooks (never their secrets); with `?all=true`, removed ones too."""
    hooks = [public(hook) for hook in await runtime.run(_list, runtime, include_inactive)]
    return WebhooksPublic(data=hooks, count=len(hooks))


@router.delete(
    "/{webhook_id}",
    summary="Remove a webhook (admin)",
    response_model=WebhookPublic,
    responses=ERROR_RESPONSES,
)
async def remove_webhook_route(
    webhook_id: int, runtime: RuntimeDep, _key: AdminKey
) -> WebhookPublic:
    """Deactivate the webhook: no new events, pending deliveries are not sent; the
    delivery log stays."""
    return public(await runtime.run(_remove, runtime, webhook_id))


@router.get(
    "/{webhook_id}/deliveries",
    summary="A webhook's delivery log (admin)",
    response_model=DeliveriesPublic,
    responses=ERROR_RESPONSES,
)
async def list_deliveries_route(
    webhook_id: int,
    runtime: RuntimeDep,
    _key: AdminKey,
    status: Status = None,
    limit: Limit = 50,
) -> DeliveriesPublic:
    """The webhook's deliveries, newest first: status, attempts, the last answer."""
    found = await runtime.run(_deliveries, runtime, webhook_id, status, limit)
    data = [DeliveryPublic(**asdict(delivery)) for delivery in found]
    return DeliveriesPublic(data=data, count=len(data))
