"""The hand-off for a whole import chunk: the same moves and routing as one capture.

After a chunk's people are rated, each moves through its stages on the ``inquiry``
event exactly as :func:`leadflow.services.handoff.on_rating` would move it. Most
playbooks' stage conditions read only the rating (grade, route, segment), so people
are grouped by where they stand and how they are rated and :func:`advance` runs once
per group; people new to the database go through one :class:`_Template` per rating
(moves, lifecycle, track and events made once). When a condition reads anything else,
each person's own environment is built from the chunk's facts instead. The sales-ready
are then routed one by one, in person order, through the same code as a capture (round
robin needs that order), against a :class:`Roster` of the reps read once per chunk.

Like ``lead.rated``, the moves are those of the chunk's last inquiry per person: a
person with two inquiries in a chunk does not log the stop in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import polars as pl

from leadflow.adapters.store.engine import json_text
from leadflow.adapters.store.leads import LeadStore, timer_row
from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain import expr
from leadflow.domain.lifecycle import LIFECYCLE_COLUMNS, Lifecycle, Move, advance
from leadflow.domain.nurture import Track
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import Rating
from leadflow.domain.stages import RATING_NAMES
from leadflow.domain.values import choice_key
from leadflow.services.handoff import (
    RELEASES,
    Runtime,
    Step,
    log_move,
    open_stages,
    routable,
    route,
    why_moved,
)
from leadflow.services.handoff_notify import publish_routed


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
    """A chunk's hand-off: lifecycle rows to write, the people whose stored rows they
    replace, and the events to log."""

    lifecycle: pl.DataFrame
    replaced: list[int]
    events: pl.DataFrame


EnvsOf = Callable[[Sequence[int]], Mapping[int, dict[str, object]]]
"""The environments of some of the chunk's people (facts, criteria, scores), as
:func:`leadflow.services.handoff.lead_env` would build them from the database."""


class Roster:
    """The reps as one chunk's routing sees them (a :class:`leadflow.services.handoff.Desk`).

    Read once per chunk instead of once per lead, then kept as the chunk routes: each
    rep's open leads and turn, the accounts' owners, the timers. :meth:`save` writes
    what changed, as the same statements per lead would have left it.
    """

    def __init__(self, leads: LeadStore, pb: Playbook, people: Sequence[int]) -> None:
        self.leads = leads
        self.open_stages = frozenset(open_stages(pb))
        # Every rep's open leads only when a team routes to the least loaded; else those
        # of the reps with a capacity, as a capture reads them (a count per slice that
        # grows with every lead routed).
        self.count_all = any(team.method == "least_loaded" for team in pb.handoff.teams)
        found = leads.reps_for_routing(sorted(self.open_stages), count_all=self.count_all)
        self.reps = {int(rep.id): SimpleNamespace(**rep._mapping) for rep, _ in found}
        self.open = {int(rep.id): count for rep, count in found}
        self.accounts: dict[int, int | None] = {}
        self.owners: dict[int, int | None] = {}
        if self.reps and pb.handoff.account_owner:
            for person, account, owner in leads.accounts_of(people):
                self.accounts[person] = account
                if account is not None:
                    self.owners[account] = owner
        self._turned: set[int] = set()
        self._owned: set[int] = set()
        self._timers: list[dict[str, Any]] = []

    def reps_for_routing(
        self, open_stages: Collection[str], count_all: bool
    ) -> list[tuple[Any, int]]:
        assert self.count_all or not count_all, "the roster did not count every rep's leads"
        return [
            (rep, self.open[rep_id] if count_all or rep.capacity is not None else 0)
            for rep_id, rep in self.reps.items()
        ]

    def account_of(self, person_id: int) -> tuple[int | None, int | None]:
        account = self.accounts.get(person_id)
        return account, self.owners.get(account) if account is not None else None

    def take_turn(self, rep_id: int) -> None:
        self.reps[rep_id].last_turn = max(rep.last_turn for rep in self.reps.values()) + 1
        self._turned.add(rep_id)

    def set_account_owner(self, account_id: int, rep_id: int | None) -> None:
        self.owners[account_id] = rep_id
        self._owned.add(account_id)

    def add_timer(
        self, kind: str, person_id: int, due_at: datetime, data: Mapping[str, Any]
    ) -> None:
        self._timers.append(timer_row(kind, person_id, due_at, data))

    def routed(self, state: Lifecycle) -> None:
        """Count a lead just routed among its rep's open leads."""
        if state.owner_rep_id is not None and state.stage in self.open_stages:
            self.open[state.owner_rep_id] += 1

    def save(self) -> None:
        self.leads.set_turns({r: self.reps[r].last_turn for r in sorted(self._turned)})
        self.leads.set_account_owners({a: self.owners[a] for a in sorted(self._owned)})
        self.leads.add_timers(self._timers)


@dataclass(frozen=True)
class _Template:
    """What a person new to the database, rated alike, goes through (on a playbook whose
    stage conditions read only the rating): the moves, the resulting lifecycle, the track
    entered, made once for all of them."""

    state: Lifecycle
    events: tuple[tuple[str, Mapping[str, Any]], ...]
    routable: bool
    track: Track | None


def advance_chunk(
    connection: Any,
    pb: Playbook,
    ratings: pl.DataFrame,
    at: datetime,
    runtime: Runtime,
    stamp: Callable[[datetime], str],
    envs_of: EnvsOf,
    fresh: Collection[int],
) -> Advanced:
    """Move and route every rated person of the chunk.

    ``ratings`` has ``person_id`` and the rating columns (grade, route, score, segment,
    reasons...) as the chunk stores them; ``stamp`` writes a moment as the bulk loader
    stores it; ``envs_of`` gives people's environments when a condition reads more than
    their rating; ``fresh``: the people the chunk made (they have no lifecycle row yet).
    """
    store, leads = Store(connection), LeadStore(connection)
    ids = ratings.get_column("person_id").to_list()
    made = set(fresh)
    before = leads.lifecycles([i for i in ids if i not in made])
    quick = rating_only(pb)
    envs = {} if quick else envs_of(ids)
    templates: dict[tuple[Any, ...], _Template] = {}
    plans: dict[tuple[Any, ...], list[Move]] = {}
    alike: list[tuple[int, int, _Template]] = []  # (row, person, template)
    steps: list[tuple[int, Step, Rating, dict[str, object]]] = []  # (row, ...)
    read: dict[tuple[Any, ...], Rating] = {}  # one Rating per distinct stored rating

    def rating_of(values: tuple[Any, ...]) -> Rating:
        found = read.get(values)
        if found is None:
            found = read[values] = _rating(values, pb)
        return found

    for n, (person_id, *values) in enumerate(
        ratings.select("person_id", *_RATING_COLUMNS).iter_rows()
    ):
        key = tuple(values[:4])  # grade, route, segment, score
        if quick and person_id not in before:
            template = templates.get(key)
            if template is None:
                template = _template(pb, rating_of(tuple(values)), at, runtime)
                templates[key] = template
            if not template.routable:
                alike.append((n, person_id, template))
                continue
            step = Step(person_id, template.state, _events_of(template, person_id, at))
            rating = rating_of(tuple(values))
            steps.append((n, step, rating, _rating_env(rating)))
            continue
        step = Step(person_id, before.get(person_id, Lifecycle()))
        rating = rating_of(tuple(values))
        env = _rating_env(rating) if quick else envs[person_id]
        if step.state.held:
            step.log("lead.released", at, {"why": RELEASES["inquiry"], "by": runtime.by})
        plan_key = (step.state.stage, *key)
        moves = plans.get(plan_key) if quick else None
        if moves is None:
            moves = advance(pb.stages, step.state.stage, "inquiry", env, False)
            if quick:
                plans[plan_key] = moves
        for move in moves:
            log_move(step, pb, move, at, runtime.by, why_moved(pb, move, rating))
        steps.append((n, step, rating, env))
    _route(store, leads, pb, steps, runtime, at, envs_of)
    if pb.nurture.tracks:
        enrolled = _enrolled(alike, at)
        _nurture(store, pb, [(s, env) for _, s, _, env in steps], before, at, enrolled)
    text = _Texts(stamp)
    moved = [(n, step) for n, step, _, _ in steps if step.events]
    own = _frame(
        [step.person_id for _, step in moved],
        [step.state for _, step in moved],
        [step.events[-1].at for _, step in moved],
        text.stamp,
    )
    events: dict[str, list[Any]] = {c: [] for c in ("__row", "at", "type", "person_id", "data")}
    for n, step in moved:
        for e in step.events:
            events["__row"].append(n)
            events["at"].append(text.stamp(e.at))
            events["type"].append(e.kind)
            events["person_id"].append(e.person_id)
            events["data"].append(text.json(e.data))
    lifecycle, alike_events = _alike(alike, templates, at, stamp)
    return Advanced(
        lifecycle=pl.concat([own, lifecycle.select(own.columns)]).sort("person_id"),
        replaced=[step.person_id for _, step in moved if step.person_id in before],
        events=pl.concat(
            [
                pl.DataFrame(
                    events,
                    schema={
                        "__row": pl.Int64,
                        "at": pl.String,
                        "type": pl.String,
                        "person_id": pl.Int64,
                        "data": pl.String,
                    },
                )
                .with_row_index("__seq")
                .select(_EVENT_COLUMNS),
                alike_events.select(_EVENT_COLUMNS),
            ],
            how="vertical_relaxed",
        )
        # In the chunk's order, each person's events in the order they happened.
        .sort("__row", "__seq")
        .select("at", "type", "person_id", pl.lit(None, pl.Int64).alias("inquiry_id"), "data"),
    )


_EVENT_COLUMNS = ("__row", "__seq", "at", "type", "person_id", "data")


def _template(pb: Playbook, rating: Rating, at: datetime, runtime: Runtime) -> _Template:
    step = Step(0, Lifecycle())
    env = _rating_env(rating)
    for move in advance(pb.stages, None, "inquiry", env, False):
        log_move(step, pb, move, at, runtime.by, why_moved(pb, move, rating))
    state = step.state
    moved = any(e.kind == "stage.changed" for e in step.events)
    track = _track_entered(pb, state, env) if moved and pb.nurture.tracks else None
    return _Template(
        state=state,
        events=tuple((e.kind, e.data or {}) for e in step.events),
        routable=routable(pb, state, rating),
        track=track,
    )


def _events_of(template: _Template, person_id: int, at: datetime) -> list[Event]:
    # The template's data, not copies: nothing changes an event's data once logged.
    return [Event(kind, at, person_id, None, data) for kind, data in template.events]


def _route(
    store: Store,
    leads: LeadStore,
    pb: Playbook,
    steps: Sequence[tuple[int, Step, Rating, dict[str, object]]],
    runtime: Runtime,
    at: datetime,
    envs_of: EnvsOf,
) -> None:
    """Route the sales-ready in person order, through the same code as a capture (round
    robin needs that order), against the chunk's :class:`Roster`."""
    ready = [(s, r, env) for _, s, r, env in steps if routable(pb, s.state, r)]
    if not ready:
        return
    people = [s.person_id for s, _, _ in ready]
    roster = Roster(leads, pb, people)
    envs = envs_of(people) if not _routing_reads_rating_only(pb) else {}
    for step, rating, env in ready:
        env = envs.get(step.person_id, env)
        route(store, roster, pb, step, rating, env, runtime, sales_ready_at=at)
        roster.routed(step.state)
    roster.save()
    # Reps hear of their new leads; the other events of a bulk import are not sent to
    # webhooks (a million stage changes would flood any receiver).
    publish_routed(store, pb, [(s.person_id, s.events) for s, _, _ in ready], runtime)


def _routing_reads_rating_only(pb: Playbook) -> bool:
    """Whether choosing a lead's team and territory reads only its grade, route and segment."""
    if pb.handoff.territory_field is not None:
        return False
    nodes = [
        expr.compile_condition(team.source, pb.stage_scope)
        for team in pb.handoff.teams
        if team.source is not None
    ]
    return all(
        set(expr.fields_used(n)) <= set(RATING_NAMES) and not expr.criteria_used(n) for n in nodes
    )


def _enrolled(alike: Sequence[tuple[int, int, _Template]], at: datetime) -> list[dict[str, Any]]:
    return [
        _enrollment(person_id, template.track, at)
        for _, person_id, template in alike
        if template.track is not None
    ]


def _track_entered(pb: Playbook, state: Lifecycle, env: Mapping[str, object]) -> Track | None:
    """The track a lead not in one enters in ``state`` (None outside the nurture stages)."""
    if state.stage not in pb.nurture.stages:
        return None
    reason = state.reason if state.recontact_on else None
    return pb.nurture.track_for(state.stage or "", reason, env)


def _entered(track: Track, state: Lifecycle) -> dict[str, Any]:
    """The data of ``nurture.entered``."""
    return {"track": track.name, "stage": state.stage}


def _enrollment(person_id: int, track: Track, at: datetime) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "track": track.name,
        "step": 0,
        "status": "active",
        "due_at": at + track.steps[0].after,
        "entered_at": at,
    }


def _alike(
    alike: Sequence[tuple[int, int, _Template]],
    templates: Mapping[tuple[Any, ...], _Template],
    at: datetime,
    stamp: Callable[[datetime], str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lifecycle rows and events of the people who went through a template: each
    template's made once, joined to its people."""
    index = {id(template): i for i, template in enumerate(templates.values())}
    people = pl.DataFrame(
        [
            (n, person_id, index[id(template)])
            for n, person_id, template in alike
            if template.events
        ],
        schema={"__row": pl.Int64, "person_id": pl.Int64, "__template": pl.Int64},
        orient="row",
    )
    events: list[tuple[int, int, str, str, str]] = []
    for i, template in enumerate(templates.values()):
        logged = list(template.events)
        if template.track is not None:
            logged.append(("nurture.entered", _entered(template.track, template.state)))
        events.extend(
            (i, seq, stamp(at), kind, json_text(data)) for seq, (kind, data) in enumerate(logged)
        )
    states = [template.state for template in templates.values()]
    state_rows = _frame(list(range(len(states))), states, [at] * len(states), stamp, "__template")
    lifecycle = people.join(state_rows, on="__template").drop("__row", "__template")
    template_events = pl.DataFrame(
        events,
        schema={
            "__template": pl.Int64,
            "__seq": pl.Int64,
            "at": pl.String,
            "type": pl.String,
            "data": pl.String,
        },
        orient="row",
    )
    return lifecycle, people.join(template_events, on="__template").drop("__template")


class _Texts:
    """Moments and event data as stored, each made once: most of a chunk's people share
    their moments, and many their events' data (a template's, the same team and why).
    The data's text is the engine's (``json_text``), as a captured event's is."""

    def __init__(self, stamp: Callable[[datetime], str]) -> None:
        self._stamp = stamp
        self._stamps: dict[datetime, str] = {}
        self._by_id: dict[int, tuple[object, str]] = {}
        self._by_value: dict[tuple[tuple[str, Any], ...], str] = {}

    def stamp(self, moment: datetime) -> str:
        found = self._stamps.get(moment)
        if found is None:
            found = self._stamps[moment] = self._stamp(moment)
        return found

    def json(self, data: Mapping[str, Any] | None) -> str:
        if data is None:
            return "null"
        known = self._by_id.get(id(data))
        if known is not None and known[0] is data:
            return known[1]
        try:
            key = tuple(sorted(data.items()))
            found = self._by_value.get(key)
        except TypeError:  # a list or a dict among the values
            return json_text(data)
        if found is None:
            found = self._by_value[key] = json_text(data)
        self._by_id[id(data)] = (data, found)
        return found


def _frame(
    keys: Sequence[int],
    states: Sequence[Lifecycle],
    updated: Sequence[datetime],
    stamp: Callable[[datetime], str],
    key: str = "person_id",
) -> pl.DataFrame:
    """Lifecycle rows, column by column: ``key`` (a person, a template), each state's
    columns as stored (moments by ``stamp``, dates as ISO text) and ``updated_at``."""
    schema = {key: pl.Int64, **{c: pl.String for c in (*LIFECYCLE_COLUMNS, "updated_at")}}
    schema["owner_rep_id"] = pl.Int64

    def text(value: Any) -> Any:
        if isinstance(value, datetime):
            return stamp(value)
        return value.isoformat() if isinstance(value, date) else value

    columns: dict[str, list[Any]] = {key: list(keys)}
    for name in LIFECYCLE_COLUMNS:
        columns[name] = [text(getattr(state, name)) for state in states]
    columns["updated_at"] = [stamp(moment) for moment in updated]
    return pl.DataFrame(columns, schema=schema)


def _nurture(
    store: Store,
    pb: Playbook,
    steps: Sequence[tuple[Step, dict[str, object]]],
    before: Mapping[int, Lifecycle],
    at: datetime,
    enrolled: Sequence[dict[str, Any]],
) -> None:
    """Enter and leave nurture tracks as :func:`nurture.follow` does, in one batch
    (``enrolled``: the enrolments of the people who went through a template)."""
    ns = NurtureStore(store.connection)
    moved = [(s, env) for s, env in steps if any(e.kind == "stage.changed" for e in s.events)]
    active = ns.active_of([s.person_id for s, _ in moved if s.person_id in before])
    rows = list(enrolled)
    for step, env in moved:
        state, current = step.state, active.get(step.person_id)
        if state.stage in pb.nurture.stages:
            if current is not None:
                continue
            track = _track_entered(pb, state, env)
            if track is None:
                continue
            rows.append(_enrollment(step.person_id, track, at))
            entered = _entered(track, state)
            step.events.append(Event("nurture.entered", at, step.person_id, None, entered))
        elif current is not None:
            kind = pb.stages[state.stage].type if state.stage else None
            reason = "disqualified" if kind == "disqualified" else "promoted"
            ns.leave(int(current.id), reason, at)
            left = {"track": current.track, "enrollment_id": int(current.id), "reason": reason}
            step.events.append(Event("nurture.exited", at, step.person_id, None, left))
    ns.enroll_many(rows)


_RATING_COLUMNS = (
    "grade",
    "route",
    "segment",
    "score",
    "fit",
    "qualification",
    "engagement",
    "reasons",
    "data_issues",
)
"""A stored rating's columns, in the order :func:`_rating` reads them."""


def _rating(values: Sequence[Any], pb: Playbook) -> Rating:
    """The rating of a row's :data:`_RATING_COLUMNS` (reasons and issues as JSON text)."""
    grade, route, segment, score, fit, qualification, engagement, reasons, issues = values
    return Rating(
        grade=grade,
        route=route,
        score=float(score),
        fit=float(fit),
        qualification=float(qualification),
        engagement=float(engagement),
        segment=segment,
        reasons=tuple(json.loads(reasons)),
        data_issues=tuple(json.loads(issues)),
        playbook_version=pb.version,
    )


def _rating_env(rating: Rating) -> dict[str, object]:
    return {"grade": choice_key(rating.grade), "route": rating.route, "segment": rating.segment}
