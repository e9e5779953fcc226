"""Nurture: enter and leave tracks as leads move, and run the steps that are due.

:func:`follow` runs in the transaction of every stage move (captures, activities,
answers, dispositions, imports): a lead arriving in a track's stages enters the track
(see :mod:`leadflow.domain.nurture` for which), a lead that leaves them (promoted to
sales, disqualified) leaves it, with the reason logged (``nurture.entered``,
``nurture.exited``).

:func:`run_due` is the worker's pass over the steps that are due, in batches: each
batch reads its people, stages, preferences, recent touches and last activities in a
few statements, decides every step with the contact policy, and writes the touches,
emails, tasks and enrollments back in a few more. A step is **sent** (an email queued
in the outbox, a call or mail task created, a webhook event queued), **skipped** (the
person said no to that channel; ``unless_engaged`` and they engaged since the previous
step), or **deferred** to the moment the policy allows it (a cap, quiet hours), never
dropped; every skip and deferral is a touch row with its reason.

Emails carry a token: their links go through ``/t/{token}/{n}`` (a click is recorded as
an ``email_click`` activity, which rates the lead again and may promote it at once), and
``/u/{token}`` unsubscribes (and stops the track). Each email is queued as text with an
HTML alternative: the same text, its links as anchors, and the open pixel
``/t/{token}/open.gif`` (an ``email_open`` activity when the mail client loads it).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.outbox import Outbox
from leadflow.adapters.store.repository import Event, Record, Store, utc
from leadflow.domain.lifecycle import Lifecycle
from leadflow.domain.nurture import LINK, Step, Track, html_body, render
from leadflow.domain.playbook import Playbook
from leadflow.domain.policy import Decision, Touch, consent_of, decide
from leadflow.errors import InvalidInput
from leadflow.services import notifications
from leadflow.services.handoff import Runtime
from leadflow.services.mailer import check_address
from leadflow.services.uow import UnitOfWork

BATCH = 1_000


def follow(
    store: Store,
    pb: Playbook,
    person_id: int,
    state: Lifecycle,
    env: Mapping[str, object],
    at: datetime,
    new: bool = False,
) -> list[Event]:
    """Enter or leave a track after the lead moved to ``state.stage``; the events."""
    nurture = pb.nurture
    if not nurture.tracks or state.stage is None:
        return []
    ns = NurtureStore(store.connection)
    current = None if new else ns.active(person_id)
    if state.stage in nurture.stages:
        if current is not None:
            return []
        track = nurture.track_for(state.stage, state.reason if state.recontact_on else None, env)
        if track is None:
            return []
        due = at + track.steps[0].after
        enrollment = ns.enroll(person_id, track.name, due, at)
        data = {"track": track.name, "enrollment_id": enrollment, "stage": state.stage}
        return [Event("nurture.entered", at, person_id, None, data)]
    if current is None:
        return []
    stage = pb.stages[state.stage]
    reason = "disqualified" if stage.type == "disqualified" else "promoted"
    ns.leave(int(current.id), reason, at)
    data = {"track": current.track, "enrollment_id": int(current.id), "reason": reason}
    return [Event("nurture.exited", at, person_id, None, data)]


@dataclass
class NurtureReport:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    finished: int = 0
    exited: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.sent + self.skipped + self.deferred + self.exited

    def held(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def run_due(
    engine: Engine, pb: Playbook, runtime: Runtime, public_url: str, batch: int = BATCH
) -> NurtureReport:
    """Run every nurture step due by ``runtime.clock()``, batch by batch."""
    report = NurtureReport()
    if not pb.nurture.tracks:
        return report
    while True:
        with UnitOfWork(engine) as uow:
            ns = NurtureStore(uow.store.connection)
            if ns.dialect == "sqlite":
                uow.store.connection.execute(
                    text("UPDATE enrollments SET step = step WHERE id = -1")
                )
            now = runtime.clock()
            rows = ns.due(now, batch)
            if rows:
                _Batch(uow.store, ns, pb, runtime, public_url.rstrip("/"), now, report).run(rows)
            uow.commit()
        if len(rows) < batch:
            return report


class _Batch:
    def __init__(
        self,
        store: Store,
        ns: NurtureStore,
        pb: Playbook,
        runtime: Runtime,
        base: str,
        now: datetime,
        report: NurtureReport,
    ) -> None:
        self.store, self.ns, self.pb, self.runtime = store, ns, pb, runtime
        self.base, self.now, self.report = base, now, report
        self.touches: list[dict[str, Any]] = []
        self.emails: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.events: list[Event] = []

    def run(self, rows: Sequence[Record]) -> None:
        ids = sorted({int(r.person_id) for r in rows})
        window = max((c.per for c in self.pb.policy.caps), default=None)
        self.people = self.ns.people(ids)
        self.stages = self.ns.stages(ids)
        self.opted = self.ns.opted_out(ids)
        self.recent = self.ns.touches_since(ids, self.now - window) if window else {}
        self.active = self.ns.last_activity(ids)
        for row in rows:
            self.one(row)
        self.ns.add_touches(self.touches)
        self.ns.add_tasks(self.tasks)
        if self.emails:
            Outbox(self.store.connection).insert("emails", self.emails)
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in self.updates:
            shapes.setdefault(tuple(values), []).append(values)
        for same in shapes.values():
            self.ns.update_many(same)
        if self.events:
            self.store.append_events(self.events)

    def one(self, row: Record) -> None:
        person_id = int(row.person_id)
        track = self.pb.nurture.track(row.track)
        stage = self.stages.get(person_id)
        person = self.people.get(person_id)
        if track is None or person is None or stage not in track.stages:
            why = "the track is gone from the playbook" if track is None else "promoted"
            self.leave(row, why)
            return
        consent = consent_of(self.pb.policy, person.facts, self.opted.get(person_id, ()))
        if not consent.anything:
            self.leave(row, "unsubscribed")
            return
        index = int(row.step)
        if index >= len(track.steps):  # the playbook's track ends before this step now
            self.finish(row, utc(row.last_step_at))
            return
        step = track.steps[index]
        last = utc(row.last_step_at) or utc(row.entered_at)
        engaged = self.active.get(person_id)
        if step.unless_engaged and engaged is not None and last is not None and engaged > last:
            self.touch(
                person_id, step, track, index, stage, "skipped", "engaged since the last step"
            )
            self.next_step(row, track, index)
            return
        timezone = None
        quiet = self.pb.policy.quiet
        if quiet is not None and quiet.timezone_field:
            value = person.facts.get(quiet.timezone_field)
            timezone = str(value) if value else None
        decision = decide(
            self.pb.policy,
            consent,
            step.channel,
            "marketing",
            stage,
            self.now,
            self.recent.get(person_id, []),
            timezone,
        )
        if decision.action == "defer":
            self.defer(row, step, track, index, stage, decision)
            return
        if decision.action == "skip":
            self.touch(person_id, step, track, index, stage, "skipped", decision.reason)
            self.report.held(decision.reason)
            self.next_step(row, track, index)
            return
        self.send(person, step, track, index, stage)
        self.next_step(row, track, index)

    def send(self, person: Record, step: Step, track: Track, index: int, stage: str) -> None:
        person_id = int(person.id)
        if step.kind in ("email", "event"):
            token = secrets.token_urlsafe(16)
            email = self.pb.nurture.emails[step.target]
            try:
                to = check_address(person.email or "")
            except InvalidInput:
                self.touch(
                    person_id, step, track, index, stage, "skipped", "no valid email address"
                )
                return
            subject, body, links = self.message(person, email, token)
            self.emails.append(
                {
                    "to": to,
                    "subject": subject,
                    "text": body,
                    "html": html_body(body, f"{self.base}/t/{token}/open.gif"),
                    "kind": f"nurture.{step.kind}",
                    "person_id": person_id,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": self.now,
                    "created_at": self.now,
                }
            )
            self.touch(person_id, step, track, index, stage, "sent", "", subject, token, links)
        elif step.kind in ("call", "mail"):
            self.tasks.append(
                {
                    "person_id": person_id,
                    "kind": step.kind,
                    "purpose": step.target,
                    "status": "open",
                    "due_at": self.now,
                    "created_at": self.now,
                    "track": track.name,
                }
            )
            self.touch(person_id, step, track, index, stage, "sent", "a task for marketing")
        else:
            data = {"person_id": person_id, "track": track.name, "step": index, "name": step.target}
            notifications.event(self.store, "nurture.step", data, self.now)
            self.touch(person_id, step, track, index, stage, "sent", "")
        self.report.sent += 1
        self.recent.setdefault(person_id, []).append(
            Touch(step.channel, "marketing", stage, self.now)
        )

    def message(self, person: Record, email: Any, token: str) -> tuple[str, str, list[str]]:
        context: dict[str, Any] = {
            **{k: v for k, v in (person.facts or {}).items()},
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company": person.company,
            "email": person.email,
            "unsubscribe_url": f"{self.base}/u/{token}",
            "preferences_url": f"{self.base}/u/{token}/preferences",
        }
        subject, body = render(email, context)
        links: list[str] = []

        def tracked(match: re.Match[str]) -> str:
            url = match.group(0)
            if url.startswith(self.base + "/u/"):
                return url
            links.append(url)
            return f"{self.base}/t/{token}/{len(links) - 1}"

        body = LINK.sub(tracked, body)
        link = f"/u/{token}"
        if link not in body.replace(f"{link}/", ""):  # the one-click link, not the page
            body = body.rstrip("\n") + f"\n\n--\nUnsubscribe: {self.base}/u/{token}\n"
        return subject, body, links

    def touch(
        self,
        person_id: int,
        step: Step,
        track: Track,
        index: int,
        stage: str,
        status: str,
        reason: str,
        subject: str | None = None,
        token: str | None = None,
        links: list[str] | None = None,
    ) -> None:
        if status == "skipped":
            self.report.skipped += 1
        self.touches.append(
            {
                "person_id": person_id,
                "at": self.now,
                "channel": step.channel,
                "side": "marketing",
                "stage": stage,
                "status": status,
                "reason": reason or None,
                "track": track.name,
                "step": index,
                "subject": subject,
                "token": token,
                "links": links,
            }
        )

    def defer(
        self, row: Record, step: Step, track: Track, index: int, stage: str, decision: Decision
    ) -> None:
        self.touch(int(row.person_id), step, track, index, stage, "deferred", decision.reason)
        self.report.deferred += 1
        self.report.held(decision.reason)
        self.updates.append({"id": int(row.id), "due_at": decision.until})

    def next_step(self, row: Record, track: Track, index: int) -> None:
        following = index + 1
        if following >= len(track.steps):
            self.finish(row, self.now, following)
            return
        due = self.now + track.steps[following].after
        self.updates.append(
            {
                "id": int(row.id),
                "step": following,
                "due_at": due,
                "last_step_at": self.now,
                "status": "active",
                "exit_reason": None,
                "exited_at": None,
            }
        )

    def finish(self, row: Record, last: datetime | None, step: int | None = None) -> None:
        self.updates.append(
            {
                "id": int(row.id),
                "step": int(row.step) if step is None else step,
                "due_at": None,
                "last_step_at": last,
                "status": "finished",
                "exit_reason": "track finished",
                "exited_at": self.now,
            }
        )
        self.report.finished += 1

    def leave(self, row: Record, reason: str) -> None:
        self.updates.append(
            {
                "id": int(row.id),
                "step": int(row.step),
                "due_at": None,
                "last_step_at": utc(row.last_step_at),
                "status": "exited",
                "exit_reason": reason,
                "exited_at": self.now,
            }
        )
        self.report.exited += 1
        data = {"track": row.track, "enrollment_id": int(row.id), "reason": reason}
        self.events.append(Event("nurture.exited", self.now, int(row.person_id), None, data))
