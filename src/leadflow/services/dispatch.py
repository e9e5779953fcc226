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
a lead), so the rep's webhook is called milliseconds after the capture commits. Claiming
right then also matters on SQLite while an import runs: the import stays out of the
write lock while writers keep coming (``bulk_turns``), so the claim does not wait for
its next slice. Between runs the thread only reads whether anything is due (no lock, no
write), so an idle server costs the database two indexed reads per interval. A run
that fails (the database is away) is logged and tried again after a pause that doubles
up to 30 s; a failing receiver is only a failed delivery. ``stop`` ends the thread
between two sends, records what was sent and gives back anything claimed but not sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from leadflow.adapters.store.outbox import Outbox, wake_on_queued
from leadflow.config import Settings
from leadflow.services import mailer, webhooks
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
            sent, emailed = Report(), Report() if mail else None
            if hooks_due:
                with UnitOfWork(self.engine) as uow:
                    limit = self.webhook_limit
                    sent = webhooks.deliver_due(uow, moment, self._http(), limit, keep_going)
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
        self._thread = threading.Thread(target=self._run, name="leadflow-dispatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """End the thread (after the send under way, if any) and close the HTTP client."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
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
