"""The hand-off for a whole import chunk: the same moves and routing as one capture.

After a chunk's people are rated, each moves through its stages on the ``inquiry``
event exactly as :func:`leadflow.services.handoff.on_rating` would move it. Most
playbooks' stage conditions read only the rating (grade, route, segment), so people
are grouped by where they stand and how they are rated and :func:`advance` runs once
per group; when a condition reads anything else, each person's own environment is
built instead. The sales-ready are then routed one by one, in person order, through
the same code as a capture (round robin needs that order).

Like ``lead.rated``, the moves are those of the chunk's last inquiry per person: a
person with two inquiries in a chunk does not log the stop in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.leads import LeadStore, lifecycle_of
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain import expr
from leadflow.domain.lifecycle import LIFECYCLE_COLUMNS, Lifecycle, Move, advance
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import Rating
from leadflow.domain.stages import RATING_NAMES
from leadflow.domain.values import choice_key
from leadflow.services.handoff import (
    RELEASES,
    Runtime,
    Step,
    lead_env,
    log_move,
    routable,
    route,
    why_moved,
)
from leadflow.services.handoff_notify import publish


def rating_only(pb: Playbook) -> bool:
    """Whether every stage and nurture-track condition reads only grade, route and segment
    (teams need not: the people routed get their own environment)."""
    nodes = [s.condition for s in pb.stages.stages if s.condition is not None]
    if any(track.source is not None for track in pb.nurture.tracks):
        return False
    return all(
        set(expr.fields_used(n)) <= set(RATING_NAMES) and not expr.criteria_used(n) for n in nodes
    )


@dataclass(frozen=True)
class Advanced:
    """A chunk's hand-off: lifecycle rows to write (people routed were saved already),
    the people whose stored rows they replace, and the events to log."""

    lifecycle: pl.DataFrame
    replaced: list[int]
    events: pl.DataFrame


def advance_chunk(
    connection: Any,
    pb: Playbook,
    ratings: pl.DataFrame,
    at: datetime,
    runtime: Runtime,
    stamp: Callable[[datetime], str],
) -> Advanced:
    """Move and route every rated person of the chunk.

    ``ratings`` has ``person_id`` and the rating columns (grade, route, score, segment,
    reasons...) as the chunk stores them; ``stamp`` writes a moment as the bulk loader
    stores it.
    """
    store, leads = Store(connection), LeadStore(connection)
    ids = ratings.get_column("person_id").to_list()
    before = _stored(connection, ids)
    quick = rating_only(pb)
    plans: dict[tuple[Any, ...], list[Move]] = {}
    steps: list[tuple[Step, Rating, dict[str, object]]] = []
    for row in ratings.iter_rows(named=True):
        person_id = int(row["person_id"])
        step = Step(person_id, before.get(person_id, Lifecycle()))
        rating = _rating(row, pb)
        env = _rating_env(rating) if quick else _env(store, pb, person_id, at)
        if step.state.held:
            step.log("lead.released", at, {"why": RELEASES["inquiry"], "by": runtime.by})
        key = (step.state.stage, rating.grade, rating.route, rating.segment)
        moves = plans.get(key) if quick else None
        if moves is None:
            moves = advance(pb.stages, step.state.stage, "inquiry", env, False)
            if quick:
                plans[key] = moves
        for move in moves:
            log_move(step, pb, move, at, runtime.by, why_moved(pb, move, rating))
        steps.append((step, rating, env))
    routed: set[int] = set()
    for step, rating, env in steps:
        if routable(pb, step.state, rating):
            if quick:
                env = _env(store, pb, step.person_id, at)
            route(store, leads, pb, step, rating, env, runtime, sales_ready_at=at)
            # Saved at once: the next lead's routing counts this rep's open leads.
            leads.save_lifecycle(step.person_id, step.state, step.events[-1].at)
            # Reps hear of their new leads; the other events of a bulk import are not
            # sent to webhooks (a million stage changes would flood any receiver).
            routed_events = [e for e in step.events if e.kind == "lead.routed"]
            publish(store, pb, step.person_id, routed_events, step.state.owner_rep_id, runtime)
            routed.add(step.person_id)
    if pb.nurture.tracks:
        _nurture(store, pb, steps, before, at)
    rows: list[dict[str, Any]] = []
    events: list[tuple[str, str, int | None, str]] = []
    for step, _, _ in steps:
        if not step.events:
            continue
        if step.person_id not in routed:
            values = {name: getattr(step.state, name) for name in LIFECYCLE_COLUMNS}
            rows.append({"person_id": step.person_id, **values, "updated_at": step.events[-1].at})
        events.extend(
            (stamp(e.at), e.kind, e.person_id, json.dumps(e.data, sort_keys=True))
            for e in step.events
        )
    return Advanced(
        lifecycle=_frame(rows, stamp),
        replaced=[row["person_id"] for row in rows if row["person_id"] in before],
        events=pl.DataFrame(
            events, schema=["at", "type", "person_id", "data"], orient="row"
        ).select("at", "type", "person_id", pl.lit(None, pl.Int64).alias("inquiry_id"), "data"),
    )


def _frame(rows: list[dict[str, Any]], stamp: Callable[[datetime], str]) -> pl.DataFrame:
    schema = {"person_id": pl.Int64, **{c: pl.String for c in (*LIFECYCLE_COLUMNS, "updated_at")}}
    schema["owner_rep_id"] = pl.Int64
    texts = [
        {
            k: (
                stamp(v) if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v
            )
            for k, v in row.items()
        }
        for row in rows
    ]
    return pl.DataFrame(texts, schema=schema, orient="row")


def _nurture(
    store: Store,
    pb: Playbook,
    steps: Sequence[tuple[Step, Rating, dict[str, object]]],
    before: Mapping[int, Lifecycle],
    at: datetime,
) -> None:
    """Enter and leave nurture tracks as :func:`nurture.follow` does, in one batch."""
    ns = NurtureStore(store.connection)
    moved = [(s, env) for s, _, env in steps if any(e.kind == "stage.changed" for e in s.events)]
    active = ns.active_of([s.person_id for s, _ in moved if s.person_id in before])
    rows = []
    for step, env in moved:
        state, current = step.state, active.get(step.person_id)
        if state.stage in pb.nurture.stages:
            if current is not None:
                continue
            reason = state.reason if state.recontact_on else None
            track = pb.nurture.track_for(state.stage or "", reason, env)
            if track is None:
                continue
            rows.append(
                {
                    "person_id": step.person_id,
                    "track": track.name,
                    "step": 0,
                    "status": "active",
                    "due_at": at + track.steps[0].after,
                    "entered_at": at,
                }
            )
            entered: dict[str, Any] = {"track": track.name, "stage": state.stage}
            step.events.append(Event("nurture.entered", at, step.person_id, None, entered))
        elif current is not None:
            kind = pb.stages[state.stage].type if state.stage else None
            reason = "disqualified" if kind == "disqualified" else "promoted"
            ns.leave(int(current.id), reason, at)
            left = {"track": current.track, "enrollment_id": int(current.id), "reason": reason}
            step.events.append(Event("nurture.exited", at, step.person_id, None, left))
    ns.enroll_many(rows)


def _stored(connection: Any, ids: Sequence[int]) -> dict[int, Lifecycle]:
    found: dict[int, Lifecycle] = {}
    for start in range(0, len(ids), 10_000):
        part = ids[start : start + 10_000]
        query = select(t.lifecycle).where(t.lifecycle.c.person_id.in_(part))
        for row in connection.execute(query):
            found[int(row.person_id)] = lifecycle_of(row)
    return found


def _rating(row: dict[str, Any], pb: Playbook) -> Rating:
    return Rating(
        grade=row["grade"],
        route=row["route"],
        score=float(row["score"]),
        fit=float(row["fit"]),
        qualification=float(row["qualification"]),
        engagement=float(row["engagement"]),
        segment=row["segment"],
        reasons=tuple(json.loads(row["reasons"])),
        data_issues=tuple(json.loads(row["data_issues"])),
        playbook_version=pb.version,
    )


def _rating_env(rating: Rating) -> dict[str, object]:
    return {"grade": choice_key(rating.grade), "route": rating.route, "segment": rating.segment}


def _env(store: Store, pb: Playbook, person_id: int, at: datetime) -> dict[str, object]:
    """The person's own environment, as a capture builds it (facts and activities)."""
    return lead_env(store, pb, person_id, at)[1]
