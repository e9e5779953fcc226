"""The dispatcher: sends what the outboxes hold, now (``run_once``) or all the time.

::

    dispatcher = Dispatcher(engine, settings)
    report = dispatcher.run_once(now)      # a worker, or `leadflow webhooks deliver`
    dispatcher.start(); ...; dispatcher.stop()   # `leadflow serve`: a thread of its own

A run claims and sends the due webhook deliveries, then the due emails when an SMTP
server is configured (else they wait in the outbox). Any number of processes may run
dispatchers over one database at once: each delivery and email is claimed by one of
them (see ``services.outbox``).

The thread runs every ``LEADFLOW_DISPATCH_INTERVAL`` seconds (0.2 by default), and at
once when a transaction of its process commits rows to an outbox (a capture that routed
a lead), so the rep's webhook is called milliseconds after the capture commits. And a
webhook delivery queued by a transaction of this process does not wait for a claim at
all: it is queued already claimed by this dispatcher (``webhooks.enqueue_all``), handed
to its *express* thread when the transaction commits and POSTed at once; the thread
leaves the outcome for the dispatcher's own thread to record. On SQLite while an import
runs, a claim is a write that waits its turn behind one of the import's slices.

Between runs the thread only reads whether anything is due (no lock, no write), so an
idle server costs the database two indexed reads per interval. A run
that fails (the database is away) is logged and tried again after a pause that doubles
up to 30 s; a failing receiver is only a failed delivery. ``stop`` ends the thread
between two sends, records what was sent and gives back anything claimed but not sent.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine

from leadflow.adapters.store.outbox import Outbox, express_off, express_to, wake_on_queued
from leadflow.adapters.store.repository import utc
from leadflow.config import Settings
from leadflow.services import mailer, outbox, webhooks
from leadflow.services.outbox import Report
from leadflow.services.uow import UnitOfWork

log = logging.getLogger("leadflow.dispatch")

LONGEST_PAUSE = 30.0
"""Seconds, at most, between runs after failures one after another."""


@dataclass(frozen=True)
class DispatchReport:
    """What one run sent. ``emails`` is None when no SMTP server is configured."""

    webhooks: Report
    emails: Report | None


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """Sends due webhook deliveries and emails over ``engine`` (see the module)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _now,
        webhook_limit: int = 500,
        email_limit: int = 100,
    ) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock
        self.webhook_limit, self.email_limit = webhook_limit, email_limit
        self.interval = settings.dispatch_interval
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by a commit that queued rows, and by stop
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()  # one run at a time in this process
        self._express = _Express(self)

    def run_once(self, now: datetime | None = None) -> DispatchReport:
        """Claim and send what is due by ``now`` (default: the clock's now), once."""
        moment = self.clock() if now is None else now
        mail = bool(self.settings.smtp_host)
        keep_going = self._keep_going
        with self._lock:
            with UnitOfWork(self.engine) as uow:
                outbox = Outbox(uow.store.connection)
                hooks_due = outbox.has_due("deliveries", moment)
                mail_due = mail and outbox.has_due("emails", moment)
            sent, emailed = self._express.record(), Report() if mail else None
            if hooks_due:
                with UnitOfWork(self.engine) as uow:
                    limit = self.webhook_limit
                    sent += webhooks.deliver_due(uow, moment, self._http(), limit, keep_going)
            if mail_due:
                with UnitOfWork(self.engine) as uow:
                    limit = self.email_limit
                    emailed = mailer.send_due(uow, moment, self.settings, limit, keep_going)
        return DispatchReport(sent, emailed)

    def start(self) -> None:
        """Run every ``interval`` seconds in a daemon thread; nothing when it is 0."""
        if self.interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        wake_on_queued(self._wake)
        self._express.start()
        self._thread = threading.Thread(target=self._run, name="leadflow-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """End the thread (after the send under way, if any) and close the HTTP client."""
        self._stop.set()
        self._wake.set()
        self._express.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._lock:
            try:
                self._express.record(give_back=True)
            except Exception:  # their claims lapse and another sender sends them
                log.exception("recording the last express deliveries failed")
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _keep_going(self) -> bool:
        return not self._stop.is_set()

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=webhooks.TIMEOUT, follow_redirects=False)
        return self._client

    def _run(self) -> None:
        pause = self.interval
        while True:
            self._wake.wait(pause)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # the server must go on: log it, wait, try again
                pause = min(max(pause * 2, 1.0), LONGEST_PAUSE)
                log.exception("sending webhooks and emails failed; next try in %.0f s", pause)
            else:
                pause = self.interval


class _Express:
    """The dispatcher's express lane: POSTs the deliveries queued already claimed by this
    process, as their transactions commit, from a thread of its own; their outcomes wait
    in memory for the dispatcher's thread to record (``record``), so a write that waits
    for the database never holds back the next send."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._queue: queue.SimpleQueue[webhooks.Claimed | None] = queue.SimpleQueue()
        self._done: list[tuple[webhooks.Claimed, dict[str, Any]]] = []
        self._unsent: list[webhooks.Claimed] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def until(self) -> datetime:
        moment = utc(self.dispatcher.clock())
        assert moment is not None
        return moment + outbox.LEASE

    def take(self, claimed: list[Any]) -> None:
        for item in claimed:
            self._queue.put(item)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="leadflow-express", daemon=True)
        self._thread.start()
        express_to(self.dispatcher.engine, self)

    def stop(self, timeout: float) -> None:
        """No more rows for this lane; the thread ends after the send under way."""
        express_off(self.dispatcher.engine, self)
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        with httpx.Client(timeout=webhooks.TIMEOUT, follow_redirects=False) as client:
            while (item := self._queue.get()) is not None:
                if self.dispatcher._stop.is_set():
                    with self._lock:
                        self._unsent.append(item)
                    continue
                now = self.dispatcher.clock()
                values = outbox.outcome(
                    "deliveries", item, now, lambda row: webhooks.post(client, row)
                )
                with self._lock:
                    self._done.append((item, values))
                self.dispatcher._wake.set()

    def record(self, give_back: bool = False) -> Report:
        """Record the outcomes sent so far, in one transaction (nothing when none); with
        ``give_back``, also give back what was taken and not sent."""
        with self._lock:
            done, self._done = self._done, []
            unsent, self._unsent = (self._unsent, []) if give_back else ([], self._unsent)
        if give_back:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    unsent.append(item)
        if not done and not unsent:
            return Report()
        report = Report()
        with UnitOfWork(self.dispatcher.engine) as uow:
            box = Outbox(uow.store.connection)
            for item, values in done:
                if box.finish("deliveries", item.id, item.until, values):
                    report += outbox.counted("deliveries", values)
            for item in unsent:
                box.release("deliveries", [item.id], item.until)
            uow.commit()
        return report
