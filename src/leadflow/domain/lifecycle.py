"""Where a lead stands: its stage, owner and deadlines, as a fold of its events.

Two pure pieces:

- :func:`advance` says which stages a lead moves through when something happens
  (an inquiry, an activity, answers, a sales disposition, a recontact date), by the
  stage model's entry criteria and allowed transitions;
- :func:`apply` folds one logged event into a :class:`Lifecycle`. The stored
  ``lifecycle`` row is this fold over the person's events, kept current in the same
  transaction that logs them; :func:`project` rebuilds it from the log alone.

A rating event (an inquiry, answers, an activity, a recontact date) may carry a lead
through several stages at once: a new A lead goes inquiry -> marketing qualified at
the moment it is captured. A sales disposition moves it one step and stops there: a
rejected lead waits in the recycled stage, on the marketing side, and returns to
sales only on its recontact date or when it raises its hand again (a new inquiry),
and then only if it still qualifies. Until then it is *held*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from leadflow.domain import expr
from leadflow.domain.stages import Stage, StageModel

RATING_EVENTS = frozenset({"inquiry", "answers", "activity", "recontact"})
"""Events after which the lead's rating decides where it goes; ``None`` is one too."""

RELEASING_EVENTS = frozenset({"inquiry", "recontact"})
"""Events that end a hold: the person asked again, or the recontact date came."""

DISPOSITIONS: Mapping[str, str] = {
    "accept": "sales_accepted",
    "reject": "sales_rejected",
    "recycle": "recycled",
    "disqualify": "disqualified",
    "qualify": "sales_qualified",
}
"""What a rep does, and the stage event it is."""


@dataclass(frozen=True)
class Move:
    """One transition: from a stage (None: the lead is new) to another, on an event."""

    source: str | None
    target: str
    event: str | None


def advance(
    model: StageModel, current: str | None, event: str | None, env: expr.Env, held: bool = False
) -> list[Move]:
    """The moves a lead in stage ``current`` makes on ``event`` (None: its rating changed).

    A new lead (``current`` None) enters the initial stage first. From each stage the
    first stage of its ``next`` list whose entry criteria hold is entered; a rating
    event keeps going from there, a disposition stops after one step. A held lead makes
    no move on an event that does not release it (see the module's description).
    """
    moves: list[Move] = []
    step: str | None = event
    if current is None:
        current = model.initial.name
        moves.append(Move(None, current, event))
        step = None
    elif held and event not in RELEASING_EVENTS:
        return moves
    seen = {current}
    while True:
        stage = model[current]
        target = next((model[n] for n in stage.next if _enters(model[n], step, env)), None)
        if target is None or target.name in seen:
            return moves
        moves.append(Move(current, target.name, step))
        seen.add(target.name)
        current = target.name
        if step is not None and step not in RATING_EVENTS:
            return moves
        step = None


def allowed(model: StageModel, current: str, event: str, env: expr.Env) -> str | None:
    """The stage ``event`` moves a lead in ``current`` to, or None when none admits it."""
    stage = model[current]
    return next((n for n in stage.next if _enters(model[n], event, env)), None)


def _enters(stage: Stage, event: str | None, env: expr.Env) -> bool:
    """Whether ``event`` takes a lead into ``stage``: a stage with no ``on`` list is
    entered on a change of rating only, never on a sales disposition."""
    if event is not None and event not in RATING_EVENTS and event not in stage.on:
        return False
    return stage.admits(event, env)


@dataclass(frozen=True)
class Lifecycle:
    """The projection of one person's hand-off events."""

    stage: str | None = None
    stage_since: datetime | None = None
    side: str | None = None
    team: str | None = None
    owner_rep_id: int | None = None
    sales_ready_at: datetime | None = None
    routed_at: datetime | None = None
    accepted_at: datetime | None = None
    first_contact_at: datetime | None = None
    accept_due: datetime | None = None
    contact_due: datetime | None = None
    reason: str | None = None
    note: str | None = None
    recontact_on: date | None = None

    @property
    def held(self) -> bool:
        """Handed back to marketing and waiting for its recontact date (or a new inquiry):
        until a ``lead.released`` event, whatever the date."""
        return self.recontact_on is not None


LIFECYCLE_COLUMNS = tuple(Lifecycle.__dataclass_fields__)

_HANDBACK = {"lead.rejected", "lead.recycled"}


def apply(state: Lifecycle, kind: str, at: datetime, data: Mapping[str, Any]) -> Lifecycle:
    """``state`` after one event (events of other kinds leave it as it is)."""
    if kind == "stage.changed":
        changed = replace(state, stage=data["to"], stage_since=at, side=data.get("side"))
        return changed
    if kind == "lead.routed":
        return replace(
            state,
            team=data.get("team"),
            owner_rep_id=data.get("rep_id"),
            routed_at=at,
            sales_ready_at=as_moment(data.get("sales_ready_at")) or state.sales_ready_at,
            accepted_at=None,
            first_contact_at=None,
            accept_due=as_moment(data.get("accept_due")),
            contact_due=None,
        )
    if kind == "lead.accepted":
        return replace(
            state, accepted_at=at, accept_due=None, contact_due=as_moment(data.get("contact_due"))
        )
    if kind == "lead.contacted":
        return replace(state, first_contact_at=state.first_contact_at or at, contact_due=None)
    if kind in _HANDBACK:
        return replace(
            state,
            side="marketing",
            owner_rep_id=None,
            accept_due=None,
            contact_due=None,
            reason=data.get("reason"),
            note=data.get("note"),
            recontact_on=_day(data.get("recontact_on")),
        )
    if kind == "lead.disqualified":
        return replace(
            state,
            accept_due=None,
            contact_due=None,
            recontact_on=None,
            reason=data.get("reason"),
            note=data.get("note"),
        )
    if kind == "lead.released":
        return replace(state, recontact_on=None)
    if kind == "lead.unassigned":
        return replace(state, owner_rep_id=None, accept_due=None, team=data.get("team", state.team))
    return state


def project(events: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> Lifecycle:
    """The lifecycle of a person from their events, in the order they were logged."""
    state = Lifecycle()
    for kind, at, data in events:
        state = apply(state, kind, at, data or {})
    return state


def as_moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
