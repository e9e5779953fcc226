"""The hand-off: move a lead through its stages and route it to a rep, in the caller's
transaction, and log every step.

Called after every rating (a capture, an activity, answers, a recontact date) with the
event that caused it, and by the dispositions and the worker. Each step is an event
(``stage.changed``, ``lead.routed``, ``lead.unassigned``...) and the ``lifecycle`` row
is the fold of those events (:func:`leadflow.domain.lifecycle.apply`), updated here
in the same transaction, so the two cannot disagree.

A lead is **routed** when its rating routes it to sales, it has no owner, it is not
held (handed back and waiting for its recontact date) and its stage lets sales accept
it (one of the stage's next stages is entered on ``sales_accepted``). Routing picks the
team by the playbook, the rep by :func:`leadflow.domain.routing.choose`, sets the
acceptance deadline by the grade's SLA in the rep's working hours (or the playbook's)
and adds the timer the worker escalates with when the deadline passes.

Time: stage changes caused by a rating happen at the rating's moment (when the inquiry
or activity arrived); routing and dispositions happen at ``Runtime.clock()``, the time
now, so speed to lead is measured, never assumed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain import expr
from leadflow.domain.handoff import Team
from leadflow.domain.lifecycle import RELEASING_EVENTS, Lifecycle, Move, advance, apply
from leadflow.domain.playbook import Playbook
from leadflow.domain.policy import consent_of
from leadflow.domain.rating import Activity, Rating, evaluate
from leadflow.domain.routing import Assignment, Candidate, choose, members
from leadflow.domain.working_hours import WorkingHours, parse_hours

RELEASES: Mapping[str | None, str] = {
    "inquiry": "the person raised a hand again: a new inquiry",
    "recontact": "the recontact date has come",
}


class Desk(Protocol):
    """Where routing reads the reps and records its choices: the database itself
    (:class:`LeadStore`) for one lead, a chunk's roster for an import
    (:class:`leadflow.services.bulk_lifecycle.Roster`)."""

    def reps_for_routing(
        self, open_stages: Collection[str], count_all: bool
    ) -> Sequence[tuple[Any, int]]: ...

    def account_of(self, person_id: int) -> tuple[int | None, int | None]: ...

    def take_turn(self, rep_id: int) -> None: ...

    def set_account_owner(self, account_id: int, rep_id: int | None) -> None: ...

    def add_timer(
        self, kind: str, person_id: int, due_at: datetime, data: Mapping[str, Any]
    ) -> object: ...


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    """What the hand-off takes from the world: the clock and the random generator
    (injected, so routing is deterministic in tests), and who is acting."""

    clock: Callable[[], datetime] = now_utc
    rng: random.Random = field(default_factory=random.Random)
    by: str = "leadflow"
    email: bool = False  # email reps and managers (an SMTP server is configured)


@dataclass
class Step:
    """A lead's lifecycle while a hand-off step runs, and the events it logs."""

    person_id: int
    state: Lifecycle
    events: list[Event] = field(default_factory=list)

    def log(self, kind: str, at: datetime, data: Mapping[str, Any]) -> None:
        self.state = apply(self.state, kind, at, data)
        self.events.append(Event(kind, at, self.person_id, None, dict(data)))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def on_rating(
    store: Store,
    pb: Playbook,
    person_id: int,
    rating: Rating,
    env: expr.Env,
    event: str | None,
    at: datetime,
    runtime: Runtime,
    *,
    new: bool = False,
    state: Lifecycle | None = None,
) -> Step:
    """Move the lead after a rating caused by ``event`` at ``at``; route it if it is
    ready. Saves the lifecycle and returns the step, whose events the caller logs (a
    capture logs them with its own, in one statement). ``new``: the person was just
    created, so there is no lifecycle to read; ``state``: its lifecycle, read already
    (with many people's)."""
    leads = LeadStore(store.connection)
    if state is None:
        state = Lifecycle() if new else leads.lifecycle(person_id)
    step = Step(person_id, state)
    if step.state.held and event in RELEASING_EVENTS:
        step.log("lead.released", at, {"why": RELEASES[event], "by": runtime.by})
    moves = advance(pb.stages, step.state.stage, event, env, step.state.held)
    for move in moves:
        log_move(step, pb, move, at, runtime.by, why_moved(pb, move, rating))
    if routable(pb, step.state, rating):
        route(store, leads, pb, step, rating, env, runtime, sales_ready_at=at)
    if moves:
        from leadflow.services.nurture import follow  # nurture builds on the hand-off

        step.events.extend(follow(store, pb, person_id, step.state, env, at, new=new))
    if step.events:
        leads.save_lifecycle(person_id, step.state, step.events[-1].at)
    return step


def finish(store: Store, leads: LeadStore, step: Step, at: datetime) -> None:
    """Save the lifecycle and log the step's events (nothing when nothing happened)."""
    if step.events:
        leads.save_lifecycle(step.person_id, step.state, at)
        store.append_events(step.events)


def log_move(step: Step, pb: Playbook, move: Move, at: datetime, by: str, why: str) -> None:
    target = pb.stages[move.target]
    step.log(
        "stage.changed",
        at,
        {
            "from": move.source,
            "to": move.target,
            "type": target.type,
            "side": target.owner,
            "event": move.event,
            "by": by,
            "why": why,
            "playbook_version": pb.version,
        },
    )


def why_moved(pb: Playbook, move: Move, rating: Rating | None) -> str:
    stage = pb.stages[move.target]
    words = stage.entry_words(pb.stage_scope)
    if move.source is None:
        return f"a new lead enters {stage.label} ({words})"
    if rating is None:
        return f"{stage.label}: {words}"
    return f"{stage.label}: {words}; grade {rating.grade}, score {rating.score:g}"


def routable(pb: Playbook, state: Lifecycle, rating: Rating) -> bool:
    """Sales-ready, unowned, not held, and in a stage sales can accept it from."""
    if rating.route != "sales" or state.owner_rep_id is not None or state.stage is None:
        return False
    if state.recontact_on is not None:
        return False
    stage = pb.stages[state.stage]
    return any("sales_accepted" in pb.stages[name].on for name in stage.next)


def open_stages(pb: Playbook) -> list[str]:
    """The stages whose leads count against a rep's capacity: all but the final ones."""
    return [s.name for s in pb.stages.stages if not s.terminal]


@lru_cache(maxsize=256)
def _hours(text: str | None) -> WorkingHours | None:
    return parse_hours(text) if text else None


def candidates(leads: Desk, pb: Playbook, count_all: bool) -> list[Candidate]:
    return [
        Candidate(
            id=int(rep.id),
            name=rep.name,
            email=rep.email,
            team=rep.team,
            capacity=rep.capacity,
            open_leads=open_count,
            territories=tuple(rep.territories or ()),
            hours=_hours(rep.working_hours),
            away_from=rep.away_from,
            away_until=rep.away_until,
            active=bool(rep.active),
            last_turn=int(rep.last_turn),
        )
        for rep, open_count in leads.reps_for_routing(open_stages(pb), count_all)
    ]


def route(
    store: Store,
    leads: Desk,
    pb: Playbook,
    step: Step,
    rating: Rating,
    env: expr.Env,
    runtime: Runtime,
    sales_ready_at: datetime | None = None,
    exclude: Collection[int] = (),
    team: Team | None = None,
) -> Assignment | None:
    """Route the lead to a rep of its team, or leave it in the team's pool."""
    handoff = pb.handoff
    team = team or handoff.team_for(env)
    now = runtime.clock()
    if team is None:
        step.log("lead.unassigned", now, {"team": None, "why": "no team of the playbook takes it"})
        return None
    everyone = candidates(leads, pb, count_all=team.method == "least_loaded")
    account_id = owner = None
    if handoff.account_owner and everyone:
        account_id, owner_id = leads.account_of(step.person_id)
        owner = next((c for c in everyone if c.id == owner_id), None)
    territory = None
    if handoff.territory_field is not None:
        value = env.get(handoff.territory_field)
        territory = str(value) if value is not None else None
    assignment = choose(
        team,
        members(team, everyone, implicit=not pb.spec.routing.teams),
        now,
        runtime.rng,
        territory=territory,
        account_owner=owner,
        prefer_working=handoff.prefer_working,
        exclude=exclude,
    )
    rep = assignment.rep
    if rep is None:
        step.log("lead.unassigned", now, {"team": team.name, "why": assignment.why})
        return assignment
    leads.take_turn(rep.id)
    if handoff.account_owner and account_id is not None and owner is None:
        leads.set_account_owner(account_id, rep.id)
    accept_due = handoff.due(rating.grade, "accept", rep.hours, now)
    step.log(
        "lead.routed",
        now,
        {
            "rep_id": rep.id,
            "rep_name": rep.name,
            "rep_email": rep.email,
            "team": team.name,
            "why": assignment.why,
            "grade": rating.grade,
            "score": rating.score,
            "accept_due": iso(accept_due),
            "sales_ready_at": iso(sales_ready_at or step.state.sales_ready_at or now),
            "by": runtime.by,
        },
    )
    if accept_due is not None:
        leads.add_timer(
            "accept_sla", step.person_id, accept_due, {"rep_id": rep.id, "due": iso(accept_due)}
        )
    return assignment


def lead_env(
    store: Store, pb: Playbook, person_id: int, now: datetime
) -> tuple[Rating, dict[str, object]]:
    """The person rated as of ``now`` (facts and activities), and the environment stage,
    team and track conditions read; nothing is stored."""
    person = store.person(person_id)
    assert person is not None
    activities = [Activity(kind, at) for kind, at in store.activities_of(person_id)]
    return evaluate(pb, person.facts, activities, now=now)


def contact_notes(
    pb: Playbook, facts: Mapping[str, Any], opted_out: Collection[str]
) -> tuple[str, ...]:
    """The contact preferences a rep must honour: what the contact policy's consent says
    (its do-not fields in the person's facts, and ``opted_out``: the channels the person
    opted out of, by the preference page, a link, a bounce or an inquiry that said so). The
    same consent the nurture worker obeys, so a rep is told what nurture does."""
    return consent_of(pb.policy, facts, opted_out).notes()
