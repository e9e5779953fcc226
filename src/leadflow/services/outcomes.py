"""Outcomes: an opportunity opened, a deal won or lost, fed back from sales or a CRM.

::

    record_outcome(uow, pb, RecordOutcome(42, "won", value=12000, on=date(2026, 11, 20)), rt)

An outcome is an event (``outcome.opportunity``, ``outcome.won``, ``outcome.lost``) with
its value, currency, date and reason, logged with the lead's owner. It then moves the
lead through the stage model on the matching stage event (``opportunity_created``,
``won``, ``lost``), exactly as a disposition does: ``stage.changed`` logged, the
lifecycle saved, nurture tracks followed, webhooks queued, in one transaction.

When the stage model gives no way there from the lead's stage (a won deal reported for
a lead still in nurture), the outcome is recorded all the same, because the reports
need it, and the result says that the stage did not move and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from leadflow.adapters.store.leads import LeadStore
from leadflow.domain.funnel import OUTCOMES
from leadflow.domain.lifecycle import Move, allowed
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput, NotFound
from leadflow.services.handoff import Runtime, Step, lead_env, log_move, why_moved
from leadflow.services.handoff_notify import settle
from leadflow.services.nurture import follow
from leadflow.services.uow import UnitOfWork

STAGE_EVENT = {"opportunity": "opportunity_created", "won": "won", "lost": "lost"}
"""The stage event each kind of outcome is."""


@dataclass(frozen=True)
class RecordOutcome:
    """Record an outcome for a lead (its person's id)."""

    person_id: int
    kind: str  # opportunity | won | lost
    value: float | None = None
    currency: str | None = None
    on: date | None = None  # the deal's own date; by default today
    reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    person_id: int
    kind: str
    value: float | None
    currency: str | None
    on: date
    reason: str | None
    stage: str | None  # where the lead is now
    moved: bool
    note: str | None  # why the stage did not move


def checked(cmd: RecordOutcome) -> RecordOutcome:
    """The command with its currency in capitals, or InvalidInput naming the bad field."""
    if cmd.kind not in OUTCOMES:
        raise InvalidInput(
            f"unknown outcome '{cmd.kind}' (known: {', '.join(OUTCOMES)})", "outcome"
        )
    if cmd.value is not None and (math.isnan(cmd.value) or math.isinf(cmd.value)):
        raise InvalidInput(f"the value {cmd.value} is not a number", "value")
    if cmd.value is not None and cmd.value < 0:
        raise InvalidInput(f"the value {cmd.value:g} is negative", "value")
    currency = cmd.currency.strip().upper() if cmd.currency else None
    if currency is not None and (len(currency) != 3 or not currency.isalpha()):
        raise InvalidInput(f"'{cmd.currency}' is not a currency code like EUR or USD", "currency")
    if cmd.reason is not None and len(cmd.reason) > 200:
        raise InvalidInput("the reason is longer than 200 characters", "reason")
    return RecordOutcome(cmd.person_id, cmd.kind, cmd.value, currency, cmd.on, cmd.reason)


def record_outcome(uow: UnitOfWork, pb: Playbook, cmd: RecordOutcome, runtime: Runtime) -> Recorded:
    """Record the outcome and move the lead when its stage model allows; commits."""
    done = record_in(uow, pb, cmd, runtime)
    uow.commit()
    return done


def record_in(uow: UnitOfWork, pb: Playbook, cmd: RecordOutcome, runtime: Runtime) -> Recorded:
    """:func:`record_outcome` in the caller's transaction (the import records many)."""
    cmd = checked(cmd)
    now = runtime.clock()
    on = cmd.on or now.date()
    if uow.store.person(cmd.person_id) is None:
        raise NotFound(f"no lead {cmd.person_id}")
    leads = LeadStore(uow.store.connection)
    step = Step(cmd.person_id, leads.lifecycle(cmd.person_id))
    step.log(
        f"outcome.{cmd.kind}",
        now,
        {
            "value": cmd.value,
            "currency": cmd.currency,
            "date": on.isoformat(),
            "reason": cmd.reason,
            "rep_id": step.state.owner_rep_id,
            "by": runtime.by,
        },
    )
    note = None
    stage = step.state.stage
    if stage is None:
        note = f"lead {cmd.person_id} has no stage yet (it was never rated)"
    else:
        _, env = lead_env(uow.store, pb, cmd.person_id, now)
        event = STAGE_EVENT[cmd.kind]
        target = allowed(pb.stages, stage, event, env)
        if target is None:
            nexts = ", ".join(pb.stages[stage].next) or "none: it is final"
            note = (
                f"the stage did not move: from '{stage}' the playbook gives no way on "
                f"'{event}' (its next stages: {nexts})"
            )
        else:
            move = Move(stage, target, event)
            log_move(step, pb, move, now, runtime.by, why_moved(pb, move, None))
            step.events.extend(follow(uow.store, pb, cmd.person_id, step.state, env, now))
    settle(uow.store, leads, pb, step, now, runtime)
    return Recorded(
        person_id=cmd.person_id,
        kind=cmd.kind,
        value=cmd.value,
        currency=cmd.currency,
        on=on,
        reason=cmd.reason,
        stage=step.state.stage,
        moved=note is None,
        note=note,
    )
