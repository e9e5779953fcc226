"""``POST /api/v1/inquiries``: capture one inquiry, or a batch of up to 1,000.

The body is read as text first: one that is not a JSON object is kept in the
quarantine exactly as received (reason ``unparsable_payload``) and refused
with 422. Each inquiry is captured (and committed) on its own, so one that
cannot be identified is quarantined without holding back the others.

The key check, the parsing and the captures of one request run in one call
(:func:`_handle`), on one database connection, in that order: a caller without a live
key gets 401 and nothing is kept.

On SQLite, requests that arrive together are captured together (:class:`Together`):
the single inquiries of the requests waiting when the event loop comes round are
captured in one transaction, with one commit and one check of each key, which costs
9-27 % less CPU a capture in turns of 2-8 (``benchmarks/bench_capture_cpu.py
--together``), so a server that falls behind catches up faster. If anything in that
transaction fails (a value the database refuses), it is rolled back and each request
is captured again on its own, exactly as if it had come alone.

The busiest route of the API is served by Starlette alone (:data:`FAST_ROUTE`, placed
first by ``create_app``): it reads its two headers and its body by hand and answers
JSON it serialised itself, so FastAPI's dependency solving and response-model
validation are skipped (0.31-0.36 ms of CPU a capture before, 0.13-0.17 ms now: the
ASGI app against the route's functions in one process, as ``bench_capture_cpu.py --asgi``
measures it). The
same function is also registered on FastAPI's router, which describes it in the
OpenAPI document; errors go through the app's handlers either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response, Security
from starlette.routing import Route

from leadflow.adapters.store.repository import storable
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
from leadflow.errors import Conflict, InvalidInput
from leadflow.services.capture import (
    BATCH_ITEM,
    Captured,
    CaptureInquiry,
    batch_item_key,
    capture,
    capture_in,
    refuse_reused_keys,
    refuse_yes_no_ids,
)
from leadflow.services.folder import Folder
from leadflow.services.forms import quarantine_raw
from leadflow.services.keys import ApiKey
from leadflow.services.reports import fold_backlog
from leadflow.services.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["inquiries"])
_log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 180  # the column holds 200; batch items add " › <index>"
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retry with the same key returns the first result instead of a second "
    f"inquiry (1 to {MAX_IDEMPOTENCY_KEY} characters); a retried batch returns each item's. "
    "A key names one request: one used for another body, or for a batch where this is "
    "one inquiry (or the other way round), is a 409.",
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
        keys = [batch_item_key(key, i) if key else None for i in range(len(items))]
    else:
        items, raws, keys = [validated(InquiryCreate, body)], [text], [key]
    originals = body.get("inquiries", [body])
    for i, original in enumerate(originals):
        refuse_yes_no_ids(
            runtime.playbook, original, f"inquiries[{i}]." if "inquiries" in body else ""
        )
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
        for item, original, raw, item_key in zip(items, originals, raws, keys, strict=True)
    ]


Item = tuple[str, bytes, str | None]
"""One request to capture: the key presented, the body, the Idempotency-Key."""
Outcome = tuple[list[Captured], bool] | BaseException
"""What became of it: the results and whether it was a batch, or the error to answer."""


def _handle(
    runtime: Runtime, key: str, raw: bytes, idempotency_key: str | None
) -> tuple[list[Captured], bool]:
    """Check the key, read the body, capture each inquiry; the results and whether a batch."""
    outcome = _handle_together(runtime, [(key, raw, idempotency_key)])[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _handle_together(
    runtime: Runtime, items: Sequence[Item], *, fold_later: bool = False
) -> list[Outcome]:
    """Several requests on one connection: each key checked and each body read first (in
    that order, so a caller without a live key gets 401 and nothing is kept), then the
    single inquiries captured in one transaction. If that fails, it is rolled back and
    each is captured on its own (``capture``: a refused value quarantines its inquiry);
    a batch body is always captured inquiry by inquiry. ``fold_later``: the events are
    left for :meth:`Together.fold` to fold into the reports' rows."""
    outcomes: dict[int, Outcome] = {}
    with runtime.uow() as uow:
        uow.store.fold_later = fold_later
        keys: dict[str, ApiKey] = {}
        read: list[tuple[int, list[CaptureInquiry], bool]] = []
        for i, (key, raw, idempotency_key) in enumerate(items):
            try:
                read.append((i, *_read(uow, runtime, key, raw, idempotency_key, keys)))
            except Exception as error:  # this request's own answer; the others go on
                uow.rollback()
                outcomes[i] = error
        singles = [(i, commands[0]) for i, commands, batch in read if not batch]
        try:
            pb, settings = runtime.playbook, runtime.capture
            found = [capture_in(uow.store, pb, command, settings) for _, command in singles]
            uow.commit()
            for (i, _), result in zip(singles, found, strict=True):
                outcomes[i] = ([result], False)
        except Exception:  # each on its own, as if it had come alone
            uow.rollback()
            for i, command in singles:
                outcomes[i] = _alone(uow, runtime, [command], batch=False)
        for i, commands, batch in read:
            if batch:
                outcomes[i] = _alone(uow, runtime, commands, batch=True)
    return [outcomes[i] for i in range(len(items))]


def _read(
    uow: UnitOfWork,
    runtime: Runtime,
    key: str,
    raw: bytes,
    idempotency_key: str | None,
    keys: dict[str, ApiKey],
) -> tuple[list[CaptureInquiry], bool]:
    """The key checked (once per live key, kept in ``keys``), the body read (one that is
    not JSON is kept in the quarantine, committed); the inquiries and whether a batch."""
    if key not in keys:
        keys[key] = check_key(uow, key, "capture")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters", where="Idempotency-Key"
        )
    if idempotency_key is not None and BATCH_ITEM.strip() in idempotency_key:
        # (no header carries one; said should another transport carry the key)
        raise InvalidInput(
            f"must not contain '{BATCH_ITEM.strip()}', which marks a batch's items",
            where="Idempotency-Key",
        )
    try:
        text, body = parse_object(raw)
    except InvalidInput as error:
        item = _keep_unreadable(uow, runtime, raw, error, idempotency_key)
        raise InvalidInput(
            f"{error.message} (kept in the quarantine as item {item})", where=error.where
        ) from None
    return _commands(runtime, text, body, idempotency_key), "inquiries" in body


def _alone(
    uow: UnitOfWork, runtime: Runtime, commands: list[CaptureInquiry], batch: bool
) -> Outcome:
    try:
        return _capture_all(uow, runtime, commands), batch
    except Exception as error:  # the request's own error (a 500), the others go on
        uow.rollback()  # what it wrote before failing is not the next request's to commit
        return error


class Together:
    """Captures of the requests that arrive together (SQLite, where the work runs on the
    event loop): :meth:`submit` queues a request and, if none is due, asks the loop to
    capture the queue when it comes round, after the requests already read; up to
    :attr:`most` at a time, then the loop serves the network before the next turn.
    ``sizes`` counts the turns by how many requests they took.

    With ``fold_after`` (``leadflow serve``), the captures leave their events unfolded
    (``funnel_store``: "folded behind"), to be folded many at a time, which costs less
    than folding each capture's alone and is in no request's time. :meth:`fold` folds
    them, that many seconds after the first capture, when no request waits (or at the
    latest four times that long after it), until the server has captured
    ``folder_after`` inquiries: then ``folder`` (``services.folder``) is started and folds
    them from another process, on another core, for as long as it runs (a server that
    captures a few never starts it). ``folds`` counts the events each of
    :meth:`fold`'s folds took."""

    def __init__(
        self,
        runtime: Runtime,
        most: int = 16,
        fold_after: float | None = None,
        folder: Folder | None = None,
        folder_after: int = 1000,
    ) -> None:
        self.runtime, self.most, self.fold_after = runtime, most, fold_after
        self.folder, self.folder_after = folder, folder_after
        self.sizes: Counter[int] = Counter()
        self.folds: list[int] = []
        self._queue: list[tuple[Item, asyncio.Future[tuple[list[Captured], bool]]]] = []
        self._due = False
        self._fold_at: asyncio.TimerHandle | None = None
        self._first_unfolded = 0.0
        self._captured = 0

    def submit(self, item: Item) -> asyncio.Future[tuple[list[Captured], bool]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[list[Captured], bool]] = loop.create_future()
        self._queue.append((item, future))
        if not self._due:
            self._due = True
            loop.call_soon(self._turn)
        return future

    def _turn(self) -> None:
        loop = asyncio.get_running_loop()
        taken, self._queue = self._queue[: self.most], self._queue[self.most :]
        if self._queue:
            loop.call_soon(self._turn)
        else:
            self._due = False
        self.sizes[len(taken)] += 1
        fold_later = self.fold_after is not None
        try:
            items = [i for i, _ in taken]
            outcomes: list[Outcome] = _handle_together(self.runtime, items, fold_later=fold_later)
        except Exception as error:  # the connection itself failed: every request says so
            outcomes = [error] * len(taken)
        if fold_later:
            self._captured += len(taken)
            self._arrange_fold(loop)
        for (_, future), outcome in zip(taken, outcomes, strict=True):
            if future.cancelled():  # the client went away
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _arrange_fold(self, loop: asyncio.AbstractEventLoop) -> None:
        folder = self.folder
        if folder is not None and not folder.started and self._captured >= self.folder_after:
            folder.start()
        if folder is not None and folder.alive():
            return  # it folds them
        if self._fold_at is None:
            self._first_unfolded = loop.time()
            self._fold_at = loop.call_later(self.fold_after or 0.0, self._fold_when_free)

    def _fold_when_free(self) -> None:
        loop = asyncio.get_running_loop()
        waited = loop.time() - self._first_unfolded
        if self._queue and waited < 4 * (self.fold_after or 0.0):  # requests first
            self._fold_at = loop.call_later((self.fold_after or 0.0) / 8, self._fold_when_free)
            return
        self._fold_at = None
        try:
            self.fold()
        except Exception:  # the backlog stays marked: the next reader or writer folds it
            _log.exception("folding the captures' events into the reports' rows failed")

    def fold(self) -> int:
        """Fold the events the captures left unfolded, now (one transaction); how many."""
        folded = fold_backlog(self.runtime.engine)
        self.folds.append(folded)
        return folded

    def close(self) -> None:
        """At shutdown: fold what is left, so the rows are current for whoever reads next."""
        if self._fold_at is not None:
            self._fold_at.cancel()
            self._fold_at = None
        if self.fold_after is not None:
            self.fold()


def _capture_all(
    uow: UnitOfWork, runtime: Runtime, commands: list[CaptureInquiry]
) -> list[Captured]:
    """Each inquiry in its own transaction (``capture`` commits), on the one connection;
    first, a batch whose keys were used for other inquiries is refused whole."""
    if len(commands) > 1:
        refuse_reused_keys(uow.store, commands)
        uow.rollback()  # (only read)
    return [capture(uow, runtime.playbook, cmd, runtime.capture) for cmd in commands]


def _keep_unreadable(
    uow: UnitOfWork, runtime: Runtime, raw: bytes, error: InvalidInput, key: str | None
) -> int:
    """Keep an unreadable body in the quarantine; its id. A retry of the same body with
    the same Idempotency-Key is the item kept the first time, not a second one; a key
    used before for something else is a conflict, and nothing is kept."""
    text = raw.decode("utf-8", errors="backslashreplace")
    if key is not None:
        first = uow.store.quarantine_by_idempotency_key(key)
        if first is not None and first.payload == storable(text):
            return int(first.id)
        batch = batch_item_key(key, 0)  # a batch is known by its first item
        store = uow.store
        if (
            first is not None
            or store.inquiry_by_idempotency_key(key) is not None
            or store.inquiry_by_idempotency_key(batch) is not None
            or store.quarantine_by_idempotency_key(batch) is not None
        ):
            raise Conflict(
                f"the Idempotency-Key '{key}' was used for a different request;"
                " a retry must send the same body, a new request needs a new key",
                where="Idempotency-Key",
            )
    return quarantine_raw(
        uow,
        text,
        channel="api",
        source="api",
        reason="unparsable_payload",
        error=str(error),
        at=runtime.clock(),
        idempotency_key=key,
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
    together: Together | None = request.app.state.together
    if together is not None:
        results, batch = await together.submit((key, raw, idempotency_key))
    else:
        results, batch = await runtime.run(_handle, runtime, key, raw, idempotency_key)
    if batch:
        answer = InquiriesPublic(data=[public(r) for r in results], count=len(results))
        return Response(answer.model_dump_json(), 200, media_type="application/json")
    one = public(results[0])
    return Response(one.model_dump_json(), STATUS[one.status], media_type="application/json")


FAST_ROUTE = Route(f"{router.prefix}/inquiries", capture_inquiries, methods=["POST"])
