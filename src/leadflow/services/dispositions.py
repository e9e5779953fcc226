"""What sales does with a lead: accept, reject, recycle, disqualify, first contact.

::

    accept(uow, pb, 42, Runtime(by="ann@acme.example"))
    reject(uow, pb, 42, "bad_timing", runtime, note="Budget frozen until Q3")
    recycle(uow, pb, 42, "no_budget", runtime, recontact_on=date(2027, 3, 1))

Reasons come from the playbook (``handoff.reasons``). A rejected or recycled lead goes
back to the marketing side, unowned, with its reason on the lead and in the event log,
and is *held* until its recontact date (given, or ``handoff.recontact_after_days``
from today), when the worker looks at it again; a new inquiry from the person ends the
hold sooner. Either way it returns to sales only if it still qualifies.

Accepting moves the lead to the stage entered on ``sales_accepted`` and starts the
first-contact SLA; a lead the stage model gives no way to accept from its stage is
refused with the stages it may go to. Each call commits its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.domain.lifecycle import Lifecycle, Move, allowed
from leadflow.domain.moments import stamp
from leadflow.domain.playbook import Playbook
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.handoff import (
    Runtime,
    Step,
    candidates,
    iso,
    lead_env,
    log_move,
    why_moved,
)
from leadflow.services.handoff_notify import settle
from leadflow.services.nurture import follow
from leadflow.services.uow import UnitOfWork


@dataclass(frozen=True)
class Disposed:
    person_id: int
    stage: str | None
    side: str | None
    owner_rep_id: int | None
    reason: str | None
    recontact_on: date | None


def _load(
    uow: UnitOfWork, pb: Playbook, person_id: int, now: datetime
) -> tuple[Step, dict[str, object]]:
    if uow.store.person(person_id) is None:
        raise NotFound(f"no lead {person_id}")
    state = LeadStore(uow.store.connection).lifecycle(person_id)
    if state.stage is None:
        raise Conflict(f"lead {person_id} has no stage yet (it was never rated)")
    _, env = lead_env(uow.store, pb, person_id, now)
    return Step(person_id, state), env


def _move(
    step: Step, pb: Playbook, event: str, env: dict[str, object], now: datetime, by: str
) -> Move | None:
    assert step.state.stage is not None
    target = allowed(pb.stages, step.state.stage, event, env)
    if target is None:
        return None
    move = Move(step.state.stage, target, event)
    log_move(step, pb, move, now, by, why_moved(pb, move, None))
    return move


def _refuse(pb: Playbook, state: Lifecycle, person_id: int, what: str) -> Conflict:
    assert state.stage is not None
    stage = pb.stages[state.stage]
    nexts = ", ".join(stage.next) or "none: it is final"
    return Conflict(
        f"lead {person_id} is in stage '{stage.name}', from which the playbook gives no way to "
        f"{what} (its next stages: {nexts})"
    )


def _done(step: Step) -> Disposed:
    s = step.state
    return Disposed(step.person_id, s.stage, s.side, s.owner_rep_id, s.reason, s.recontact_on)


def accept(
    uow: UnitOfWork, pb: Playbook, person_id: int, runtime: Runtime, rep: int | None = None
) -> Disposed:
    """Sales accepts the lead; ``rep`` takes it over when given (a lead from the pool)."""
    now = runtime.clock()
    step, env = _load(uow, pb, person_id, now)
    leads = LeadStore(uow.store.connection)
    owner = rep if rep is not None else step.state.owner_rep_id
    if owner is None:
        raise InvalidInput(f"lead {person_id} has no owner: say which rep accepts it", "rep")
    if step.state.accepted_at is not None and owner == step.state.owner_rep_id:
        raise Conflict(f"lead {person_id} was already accepted at {stamp(step.state.accepted_at)}")
    if allowed(pb.stages, step.state.stage or "", "sales_accepted", env) is None:
        raise _refuse(pb, step.state, person_id, "accept it")
    reps = {c.id: c for c in candidates(leads, pb, count_all=False)}
    if owner not in reps:
        raise NotFound(f"no rep {owner}")
    if owner != step.state.owner_rep_id:
        step.log(
            "lead.routed",
            now,
            {
                "rep_id": owner,
                "rep_name": reps[owner].name,
                "rep_email": reps[owner].email,
                "team": step.state.team,
                "why": f"taken by {reps[owner].name}",
                "sales_ready_at": iso(step.state.sales_ready_at or now),
                "by": runtime.by,
            },
        )
    rating = uow.store.rating(person_id)
    grade = rating.grade if rating is not None else None
    contact_due = pb.handoff.due(grade, "first_contact", reps[owner].hours, now)
    step.log(
        "lead.accepted", now, {"rep_id": owner, "contact_due": iso(contact_due), "by": runtime.by}
    )
    _move(step, pb, "sales_accepted", env, now, runtime.by)
    step.events.extend(follow(uow.store, pb, person_id, step.state, env, now))
    if contact_due is not None:
        leads.add_timer(
            "contact_sla", person_id, contact_due, {"rep_id": owner, "due": iso(contact_due)}
        )
    settle(uow.store, leads, pb, step, now, runtime)
    uow.commit()
    return _done(step)


def reject(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    reason: str,
    runtime: Runtime,
    note: str | None = None,
    recontact_on: date | None = None,
) -> Disposed:
    """Sales rejects the lead: back to marketing with the reason, held until recontact."""
    return _hand_back(uow, pb, person_id, reason, runtime, note, recontact_on, "reject")


def recycle(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    reason: str,
    runtime: Runtime,
    note: str | None = None,
    recontact_on: date | None = None,
) -> Disposed:
    """Sales hands the lead back to marketing for nurture, to look at again later."""
    return _hand_back(uow, pb, person_id, reason, runtime, note, recontact_on, "recycle")


def _hand_back(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    reason: str,
    runtime: Runtime,
    note: str | None,
    recontact_on: date | None,
    what: str,
) -> Disposed:
    now = runtime.clock()
    label = pb.handoff.reason(reason)
    step, env = _load(uow, pb, person_id, now)
    if recontact_on is None:
        recontact_on = now.date() + timedelta(days=pb.handoff.recontact_after_days)
    elif recontact_on < now.date():
        raise InvalidInput(f"the recontact date {recontact_on} is in the past", "recontact_on")
    kind, event = (
        ("lead.rejected", "sales_rejected") if what == "reject" else ("lead.recycled", "recycled")
    )
    _may_hand_back(pb, step.state, person_id, event, env, what)
    step.log(
        kind,
        now,
        {
            "reason": reason,
            "reason_label": label,
            "note": note,
            "recontact_on": recontact_on.isoformat(),
            "rep_id": step.state.owner_rep_id,
            "by": runtime.by,
        },
    )
    _move(step, pb, event, env, now, runtime.by)
    step.events.extend(follow(uow.store, pb, person_id, step.state, env, now))
    leads = LeadStore(uow.store.connection)
    due = datetime.combine(recontact_on, time(0), tzinfo=now.tzinfo)
    leads.add_timer("recontact", person_id, due, {"recontact_on": recontact_on.isoformat()})
    settle(uow.store, leads, pb, step, now, runtime)
    uow.commit()
    return _done(step)


def _may_hand_back(
    pb: Playbook, state: Lifecycle, person_id: int, event: str, env: dict[str, object], what: str
) -> None:
    """A lead can be handed back when sales has it: routed (owned or in a team's pool) or
    on the sales side, and not in a final stage, unless the stage model has a way."""
    if state.held:
        raise Conflict(
            f"lead {person_id} was handed back already ({state.reason}); it waits for "
            f"{state.recontact_on} or a new inquiry"
        )
    assert state.stage is not None
    if allowed(pb.stages, state.stage, event, env) is not None:
        return
    stage = pb.stages[state.stage]
    if stage.terminal:
        raise _refuse(pb, state, person_id, f"{what} it")
    if state.routed_at is None and state.team is None and state.side != "sales":
        raise Conflict(
            f"lead {person_id} is with marketing (stage '{stage.name}') and was never handed "
            "to sales: there is nothing to hand back"
        )


def disqualify(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    reason: str,
    runtime: Runtime,
    note: str | None = None,
) -> Disposed:
    """The lead will never buy: to the disqualified stage, with the reason."""
    now = runtime.clock()
    label = pb.handoff.reason(reason)
    step, env = _load(uow, pb, person_id, now)
    if allowed(pb.stages, step.state.stage or "", "disqualified", env) is None:
        raise _refuse(pb, step.state, person_id, "disqualify it")
    step.log(
        "lead.disqualified",
        now,
        {
            "reason": reason,
            "reason_label": label,
            "note": note,
            "rep_id": step.state.owner_rep_id,
            "by": runtime.by,
        },
    )
    _move(step, pb, "disqualified", env, now, runtime.by)
    step.events.extend(follow(uow.store, pb, person_id, step.state, env, now))
    settle(uow.store, LeadStore(uow.store.connection), pb, step, now, runtime)
    uow.commit()
    return _done(step)


def contacted(
    uow: UnitOfWork,
    pb: Playbook,
    person_id: int,
    runtime: Runtime,
    channel: str = "call",
    note: str | None = None,
) -> Disposed:
    """The owner contacted the lead: the first time stops the first-contact SLA. Each
    contact is a sales touch, which the contact policy's caps count."""
    now = runtime.clock()
    step, _ = _load(uow, pb, person_id, now)
    if step.state.owner_rep_id is None:
        raise Conflict(f"lead {person_id} has no owner to have contacted it")
    step.log(
        "lead.contacted",
        now,
        {"rep_id": step.state.owner_rep_id, "channel": channel, "note": note, "by": runtime.by},
    )
    # A sales touch: the contact policy's caps count it with marketing's, so a lead
    # handed back after a call is not emailed by its new track the next morning.
    touch = {"person_id": person_id, "at": now, "channel": channel[:20], "side": "sales"}
    NurtureStore(uow.store.connection).add_touches(
        [{**touch, "stage": step.state.stage, "status": "sent"}]
    )
    settle(uow.store, LeadStore(uow.store.connection), pb, step, now, runtime)
    uow.commit()
    return _done(step)


def qualify(uow: UnitOfWork, pb: Playbook, person_id: int, runtime: Runtime) -> Disposed:
    """Sales confirms the lead is qualified (need, budget, authority, timing): to the
    stage entered on ``sales_qualified``, where an opportunity may be opened."""
    now = runtime.clock()
    step, env = _load(uow, pb, person_id, now)
    if allowed(pb.stages, step.state.stage or "", "sales_qualified", env) is None:
        raise _refuse(pb, step.state, person_id, "qualify it")
    _move(step, pb, "sales_qualified", env, now, runtime.by)
    step.events.extend(follow(uow.store, pb, person_id, step.state, env, now))
    settle(uow.store, LeadStore(uow.store.connection), pb, step, now, runtime)
    uow.commit()
    return _done(step)
