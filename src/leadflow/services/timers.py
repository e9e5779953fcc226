"""Due timers: SLA deadlines and recontact dates, each run once.

:func:`run_due` claims due timers in batches and runs each inside the batch's
transaction, marking it ``done`` (it acted) or ``stale`` (the lead moved on: accepted
before the deadline, contacted, reassigned...) in that same transaction. The effects
and the mark commit together, so a timer never runs twice, and a worker that dies
mid-batch leaves its timers pending for the next. On PostgreSQL the claim uses
``FOR UPDATE SKIP LOCKED``: any number of workers share the work without waiting on
each other. On SQLite the batch takes the database's write lock first, so workers
take turns.

A missed SLA logs ``sla.breached`` and runs the playbook's escalation for it:
``notify_manager`` (the team's manager is named in the event, and told by the
notifications), ``reassign`` (the next rep of the team; a new acceptance deadline)
or ``return_to_pool`` (unowned in the team's pool).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, text

from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.moments import stamp
from leadflow.domain.playbook import Playbook
from leadflow.services.capture import rerate
from leadflow.services.handoff import Runtime, Step, iso, lead_env, route
from leadflow.services.handoff_notify import settle
from leadflow.services.uow import UnitOfWork

BATCH = 100


@dataclass
class TimerReport:
    done: int = 0
    stale: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.done + self.stale + self.failed


def run_due(
    engine: Engine,
    pb: Playbook,
    runtime: Runtime,
    worker: str,
    batch: int = BATCH,
    progress: Callable[[TimerReport], None] | None = None,
) -> TimerReport:
    """Run every timer due by ``runtime.clock()``; how many acted, were stale, failed."""
    report = TimerReport()
    while True:
        with UnitOfWork(engine) as uow:
            leads = LeadStore(uow.store.connection)
            if leads.dialect == "sqlite":
                _take_write_lock(uow)
            now = runtime.clock()
            rows = leads.claim_due(now, batch)
            for row in rows:
                _run_one(uow, leads, pb, runtime, worker, row, report)
            uow.commit()
        if progress is not None and rows:
            progress(report)
        if len(rows) < batch:
            return report


def _take_write_lock(uow: UnitOfWork) -> None:
    """On SQLite, write first, so no other worker reads the same due rows meanwhile."""
    uow.store.connection.execute(text("UPDATE timers SET status = status WHERE id = -1"))


def _run_one(
    uow: UnitOfWork,
    leads: LeadStore,
    pb: Playbook,
    runtime: Runtime,
    worker: str,
    row: Record,
    report: TimerReport,
) -> None:
    now = runtime.clock()
    savepoint = uow.store.connection.begin_nested()
    try:
        outcome = _JOBS[row.kind](uow, leads, pb, runtime, row)
        status = "done" if outcome else "stale"
    except Exception as error:  # one bad timer must not stop the others
        savepoint.rollback()
        leads.finish_timer(row.id, "failed", f"{type(error).__name__}: {error}", worker, now)
        report.failed += 1
        return
    savepoint.commit()
    leads.finish_timer(row.id, status, outcome or "the lead had moved on", worker, now)
    if outcome:
        report.done += 1
    else:
        report.stale += 1


def _sla(kind: str) -> Callable[[UnitOfWork, LeadStore, Playbook, Runtime, Record], str | None]:
    def run(
        uow: UnitOfWork, leads: LeadStore, pb: Playbook, runtime: Runtime, row: Record
    ) -> str | None:
        state = leads.lifecycle(row.person_id)
        due = utc(row.due_at)
        if kind == "accept":
            live = state.accept_due == due and state.accepted_at is None
        else:
            live = state.contact_due == due and state.first_contact_at is None
        if not live or state.owner_rep_id != row.data.get("rep_id"):
            return None
        now = runtime.clock()
        step = Step(row.person_id, state)
        actions = pb.handoff.escalation.get(kind, ())  # type: ignore[call-overload]
        team = pb.handoff.team(state.team) if state.team else None
        done = []
        if "notify_manager" in actions:
            done.append(f"told {team.manager}" if team and team.manager else "no manager to tell")
        step.log(
            "sla.breached",
            now,
            {
                "sla": kind,
                "due": iso(due),
                "rep_id": state.owner_rep_id,
                "team": state.team,
                "manager": team.manager if team else None,
                "actions": list(actions),
            },
        )
        if "reassign" in actions:
            done.append(_reassign(uow, leads, pb, runtime, step, kind))
        elif "return_to_pool" in actions:
            step.log(
                "lead.unassigned", now, {"team": state.team, "why": f"the {kind} SLA was missed"}
            )
            done.append("returned to the pool")
        settle(uow.store, leads, pb, step, now, runtime)
        return f"{kind} SLA missed (due {stamp(due)})" + (f": {'; '.join(done)}" if done else "")

    return run


def _reassign(
    uow: UnitOfWork, leads: LeadStore, pb: Playbook, runtime: Runtime, step: Step, kind: str
) -> str:
    """Route the lead to another rep of its team. After a missed first contact the lead
    was accepted already: the new rep takes it over accepted, with a new deadline to
    contact it, instead of having to accept it again."""
    rating, env = lead_env(uow.store, pb, step.person_id, runtime.clock())
    before = step.state.owner_rep_id
    assignment = route(
        uow.store,
        leads,
        pb,
        step,
        rating,
        env,
        runtime,
        exclude={before} if before else (),
        team=pb.handoff.team(step.state.team) if step.state.team else None,
    )
    if assignment is None or assignment.rep is None:
        return "nobody else to reassign to: back to the pool"
    rep = assignment.rep
    if kind == "first_contact":
        now = runtime.clock()
        due = pb.handoff.due(rating.grade, "first_contact", rep.hours, now)
        data = {"rep_id": rep.id, "contact_due": iso(due), "by": runtime.by, "handed_over": True}
        step.log("lead.accepted", now, data)
        if due is not None:
            leads.add_timer("contact_sla", step.person_id, due, {"rep_id": rep.id, "due": iso(due)})
    return f"reassigned to {rep.name}"


def _recontact(
    uow: UnitOfWork, leads: LeadStore, pb: Playbook, runtime: Runtime, row: Record
) -> str | None:
    state = leads.lifecycle(row.person_id)
    if state.recontact_on is None or state.recontact_on != date.fromisoformat(
        row.data["recontact_on"]
    ):
        return None
    now = runtime.clock()
    rerate(uow.store, pb, row.person_id, now, "recontact", runtime)
    after = leads.lifecycle(row.person_id)
    where = f"now in {after.stage}"
    return f"recontact date reached: {where}" + (" and routed" if after.owner_rep_id else "")


_JOBS = {
    "accept_sla": _sla("accept"),
    "contact_sla": _sla("first_contact"),
    "recontact": _recontact,
}


def next_due(engine: Engine) -> datetime | None:
    with UnitOfWork(engine) as uow:
        return LeadStore(uow.store.connection).next_due()
