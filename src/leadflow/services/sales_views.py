"""What sales sees on the web pages: a rep's queue, a team's board, and reassigning.

::

    queue = rep_queue(uow, pb, user, before=None)       # to accept, working, the pool
    board = team_board(uow, pb, "enterprise", now)       # by rep and stage, SLAs at risk
    reassign(uow, pb, 42, rep_id=7, runtime=hands)       # a manager moves a lead

Every list is bounded (see ``adapters/store/pages.py``). The guard is
:mod:`leadflow.services.access`: these functions are called for a user it let in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from leadflow.adapters.store.leads import LeadStore, lifecycle_of
from leadflow.adapters.store.pages import PageQueries
from leadflow.adapters.store.repository import Record
from leadflow.domain.playbook import Playbook
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services.access import LeadPlace
from leadflow.services.handoff import Runtime, Step, iso, open_stages
from leadflow.services.handoff_notify import settle
from leadflow.services.uow import UnitOfWork
from leadflow.services.users import User

PAGE = 50
AT_RISK = timedelta(hours=1)  # an SLA due within the hour is at risk


def acceptable_stages(pb: Playbook) -> list[str]:
    """The stages sales can accept a lead from (one of their next stages is entered on
    ``sales_accepted``)."""
    return [
        s.name for s in pb.stages.stages if any("sales_accepted" in pb.stages[n].on for n in s.next)
    ]


def place(uow: UnitOfWork, person_id: int) -> LeadPlace:
    """A lead as the access guard sees it; NotFound when there is no such lead."""
    row, owner_team = PageQueries(uow.store.connection).place(person_id)
    if row is None:
        if uow.store.person(person_id) is None:
            raise NotFound(f"no lead {person_id}")
        return LeadPlace(person_id, lifecycle_of(None))
    return LeadPlace(person_id, lifecycle_of(row), owner_team)


@dataclass(frozen=True)
class Queue:
    to_accept: list[Record]
    working: list[Record]
    pool: list[Record]
    next_working: int | None  # keyset: the last id shown, when there may be more
    next_pool: int | None
    sources: dict[int, str]  # person -> the source of its latest inquiry


def _next(rows: list[Record]) -> int | None:
    return int(rows[-1].person_id) if len(rows) == PAGE else None


def rep_queue(
    uow: UnitOfWork,
    pb: Playbook,
    user: User,
    working_before: int | None = None,
    pool_before: int | None = None,
) -> Queue:
    """A rep's leads to accept (nearest deadline first), its accepted open leads and its
    team's pool (newest first, a page each)."""
    pages = PageQueries(uow.store.connection)
    acceptable = acceptable_stages(pb)
    opened = open_stages(pb)
    to_accept, working = [], []
    if user.rep_id is not None:
        to_accept = pages.to_accept(user.rep_id, acceptable, PAGE)
        working = pages.working(user.rep_id, opened, working_before, PAGE)
    pool = pages.pool(user.team, acceptable, pool_before, PAGE) if user.team else []
    shown = {int(r.person_id) for r in (*to_accept, *working, *pool)}
    return Queue(to_accept, working, pool, _next(working), _next(pool), pages.sources(shown))


@dataclass(frozen=True)
class Board:
    team: str
    stages: list[tuple[str, str]]  # (name, label) of the open stages with leads
    rows: list[dict[str, Any]]  # {"rep": name, "rep_id": id | None, "counts": {stage: n}}
    accept_breached: int
    accept_at_risk: list[Record]
    contact_breached: int
    contact_at_risk: list[Record]
    reps: list[Record]


def team_board(uow: UnitOfWork, pb: Playbook, team: str, now: datetime) -> Board:
    """Open leads by rep and stage; SLAs breached and due within the hour."""
    pages = PageQueries(uow.store.connection)
    opened = open_stages(pb)
    counts = pages.board(team, opened)
    reps = pages.reps_of(team)
    # A lead of the team may be with a rep of another team (an account's owner).
    names = {int(r.id): r.name for r in pages.reps_of(None)}
    by_rep: dict[int | None, dict[str, int]] = {}
    for owner, stage, n in counts:
        by_rep.setdefault(owner, {})[stage] = n
    used = {stage for _, stage, _ in counts}
    stages = [(s.name, s.label) for s in pb.stages.stages if s.name in used]
    rows = [
        {"rep": names.get(rep_id, f"rep {rep_id}"), "rep_id": rep_id, "counts": by_rep[rep_id]}
        for rep_id in sorted((k for k in by_rep if k is not None), key=lambda k: names.get(k, ""))
    ]
    if None in by_rep:
        rows.append({"rep": "Pool (no rep)", "rep_id": None, "counts": by_rep[None]})
    horizon = now + AT_RISK
    return Board(
        team=team,
        stages=stages,
        rows=rows,
        accept_breached=pages.count_due(team, "accept_due", now),
        accept_at_risk=pages.due_soon(team, "accept_due", horizon, PAGE),
        contact_breached=pages.count_due(team, "contact_due", now),
        contact_at_risk=pages.due_soon(team, "contact_due", horizon, PAGE),
        reps=reps,
    )


def boards(
    uow: UnitOfWork, pb: Playbook, team: str | None, now: datetime
) -> tuple[list[str], Board | None]:
    """The teams that have reps, and the board of ``team`` (else of the first one)."""
    teams = PageQueries(uow.store.connection).teams()
    chosen = team or (teams[0] if teams else None)
    return teams, team_board(uow, pb, chosen, now) if chosen else None


def reassign(uow: UnitOfWork, pb: Playbook, person_id: int, rep_id: int, runtime: Runtime) -> None:
    """A manager gives the lead to another rep of the team: routed to it anew, with a
    new acceptance deadline by the grade's SLA in that rep's working hours."""
    from leadflow.services.handoff import candidates

    now = runtime.clock()
    leads = LeadStore(uow.store.connection)
    state = leads.lifecycle(person_id)
    if state.stage is None:
        raise Conflict(f"lead {person_id} has no stage yet (it was never rated)")
    if pb.stages[state.stage].terminal:
        raise Conflict(f"lead {person_id} is in the final stage '{state.stage}'")
    if state.owner_rep_id == rep_id:
        raise Conflict(f"lead {person_id} is already with rep {rep_id}")
    reps = {c.id: c for c in candidates(leads, pb, count_all=False)}
    rep = reps.get(rep_id)
    if rep is None:
        raise NotFound(f"no rep {rep_id}")
    if not rep.active:
        raise InvalidInput(f"{rep.name} is deactivated and takes no leads", where="rep")
    rating = uow.store.rating(person_id)
    grade = rating.grade if rating is not None else None
    accept_due = pb.handoff.due(grade, "accept", rep.hours, now)
    step = Step(person_id, state)
    step.log(
        "lead.routed",
        now,
        {
            "rep_id": rep.id,
            "rep_name": rep.name,
            "rep_email": rep.email,
            "team": state.team or rep.team,
            "why": f"reassigned by {runtime.by}",
            "grade": rating.grade if rating is not None else None,
            "accept_due": iso(accept_due),
            "sales_ready_at": iso(state.sales_ready_at or now),
            "by": runtime.by,
        },
    )
    if accept_due is not None:
        leads.add_timer(
            "accept_sla", person_id, accept_due, {"rep_id": rep.id, "due": iso(accept_due)}
        )
    settle(uow.store, leads, pb, step, now, runtime)
    uow.commit()
