"""What the reports count about one lead: a fold of its events, like the lifecycle.

A :class:`Funnel` holds, per person, the few facts the closed-loop reports need,
so they aggregate one narrow row per lead instead of extracting JSON from every
event of the log:

- where the lead came from: the time, source, campaign and form of its **first**
  inquiry (first-touch attribution), and how many inquiries it made;
- its rating now (grade, route) and the playbook fields it left blank
  (``unanswered``) and that a criterion or grade rule needed (``missing``);
- the first time it entered each stage **type** (``reached``), the time it spent
  in each type over the visits it has ended (``seconds``), and where it is now;
- the hand-off: first sales-ready moment, first and last routing, first and last
  acceptance, first contact, the rep it was last routed to, hand-backs;
- its outcome: the opportunity's value and date, won or lost with value, date
  and reason.

:func:`apply` folds one logged event in; the stored ``funnel`` row is this fold
over the person's events, kept current by the code that logs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadflow.domain.values import clean

if TYPE_CHECKING:
    from leadflow.domain.playbook import Playbook

STAGE_TYPES = (
    "inquiry",
    "nurture",
    "marketing-qualified",
    "sales-accepted",
    "sales-qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
)
"""Every stage type, in funnel order (the same list as ``schema.StageType``)."""

COLUMN_OF = {kind: kind.replace("-", "_") for kind in STAGE_TYPES}
"""A stage type as a column-name part: ``marketing-qualified`` -> ``marketing_qualified``."""

OUTCOMES = ("opportunity", "won", "lost")
"""The kinds of outcome: ``outcome.<kind>`` events."""


@dataclass(frozen=True)
class Funnel:
    """One lead as the reports see it. Times are aware UTC datetimes."""

    first_at: datetime | None = None
    source: str | None = None
    campaign: str | None = None
    form_key: str | None = None
    inquiries: int = 0
    grade: str | None = None
    route: str | None = None
    missing: str | None = None  # ",budget,timeframe,": needed by a rule and blank
    unanswered: str | None = None  # ",budget,industry,": every playbook field left blank
    stage_type: str | None = None
    stage_since: datetime | None = None
    reached: Mapping[str, datetime] = field(default_factory=dict)  # type -> first entry
    seconds: Mapping[str, float] = field(default_factory=dict)  # type -> time in ended visits
    ready_at: datetime | None = None
    routed_at: datetime | None = None
    last_routed_at: datetime | None = None
    rep_id: int | None = None
    accepted_at: datetime | None = None
    last_accepted_at: datetime | None = None
    contacted_at: datetime | None = None
    handbacks: int = 0
    opportunity_at: datetime | None = None
    opportunity_value: float | None = None
    outcome: str | None = None  # won | lost
    outcome_at: datetime | None = None
    outcome_value: float | None = None
    outcome_reason: str | None = None
    currency: str | None = None


_FIELDS = frozenset(f.name for f in fields(Funnel))


def _changed(state: Funnel, **changes: Any) -> Funnel:
    """``dataclasses.replace`` without calling ``__init__``, which sets each of the 28
    fields through ``object.__setattr__`` (a frozen class): a capture folds four or five
    events, and that was about 6 % of its CPU."""
    if not _FIELDS.issuperset(changes):
        raise TypeError(f"Funnel has no field {sorted(set(changes) - _FIELDS)}")
    new = object.__new__(Funnel)
    new.__dict__.update(state.__dict__)
    new.__dict__.update(changes)
    return new


def names(values: Iterable[str]) -> str | None:
    """Field names as stored in ``missing`` / ``unanswered``: ",a,b," (None when none)."""
    listed = sorted(set(values))
    return f",{','.join(listed)}," if listed else None


def gaps(pb: Playbook, facts: Mapping[str, Any], segment: str | None) -> dict[str, list[str]]:
    """The playbook fields a lead left blank (``unanswered``), and those of them a
    criterion or grade rule of its segment needed (``missing``: it could not be judged)."""
    from leadflow.domain.rating import needed_by

    blank = [name for name in pb.fields if clean(facts.get(name)) is None]
    needs = needed_by(pb, segment)
    return {"missing": [name for name in blank if name in needs], "unanswered": blank}


def apply(state: Funnel, kind: str, at: datetime, data: Mapping[str, Any]) -> Funnel:
    """``state`` after one event (events of other kinds leave it as it is). Moments
    count in whole seconds, as they are stored."""
    fold = _FOLDS.get(kind)
    return fold(state, at.replace(microsecond=0), data) if fold is not None else state


def project(events: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> Funnel:
    """The funnel row of a person from their events, in the order they were logged."""
    state = Funnel()
    for kind, at, data in events:
        state = apply(state, kind, at, data or {})
    return state


def _captured(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    if state.first_at is not None:
        return _changed(state, inquiries=state.inquiries + 1)
    return _changed(
        state,
        first_at=at,
        source=data.get("source"),
        campaign=data.get("campaign"),
        form_key=data.get("form_key"),
        inquiries=state.inquiries + 1,
    )


def _unmerged(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    """An unmerge dealt the person's inquiries out again: it keeps ``inquiries`` of them,
    and its first touch is the first of those."""
    if "inquiries" not in data:
        return state
    first = _moment(data.get("first_at"))
    return _changed(
        state,
        first_at=first.replace(microsecond=0) if first is not None else None,
        source=data.get("source"),
        campaign=data.get("campaign"),
        form_key=data.get("form_key"),
        inquiries=int(data["inquiries"]),
    )


def _rated(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    changes: dict[str, Any] = {"grade": data.get("grade"), "route": data.get("route")}
    if "missing" in data:
        changes["missing"] = names(data.get("missing") or ())
    if "unanswered" in data:
        changes["unanswered"] = names(data.get("unanswered") or ())
    return _changed(state, **changes)


def _stage(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    kind = data.get("type")
    if kind not in COLUMN_OF:
        return state
    seconds = dict(state.seconds)
    if state.stage_type is not None and state.stage_since is not None:
        spent = max((at - state.stage_since).total_seconds(), 0.0)
        seconds[state.stage_type] = seconds.get(state.stage_type, 0.0) + spent
    reached = dict(state.reached)
    reached.setdefault(kind, at)
    ready_at = state.ready_at
    if kind == "marketing-qualified" and ready_at is None:
        ready_at = at
    return _changed(
        state,
        stage_type=kind,
        stage_since=at,
        reached=reached,
        seconds=seconds,
        ready_at=ready_at,
    )


def _routed(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    ready = _moment(data.get("sales_ready_at")) or at
    return _changed(
        state,
        ready_at=state.ready_at or ready,
        routed_at=state.routed_at or at,
        last_routed_at=at,
        rep_id=data.get("rep_id"),
    )


def _accepted(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    rep = data.get("rep_id")
    return _changed(
        state,
        accepted_at=state.accepted_at or at,
        last_accepted_at=at,
        rep_id=rep if rep is not None else state.rep_id,
    )


def _contacted(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    return _changed(state, contacted_at=state.contacted_at or at)


def _handed_back(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    return _changed(state, handbacks=state.handbacks + 1)


def _opportunity(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
    return _changed(
        state,
        opportunity_at=state.opportunity_at or _outcome_moment(data, at),
        opportunity_value=_value(data.get("value"), state.opportunity_value),
        currency=data.get("currency") or state.currency,
    )


def _closed(kind: str) -> Any:
    def fold(state: Funnel, at: datetime, data: Mapping[str, Any]) -> Funnel:
        return _changed(
            state,
            outcome=kind,
            outcome_at=_outcome_moment(data, at),
            outcome_value=_value(data.get("value"), None),
            outcome_reason=data.get("reason"),
            currency=data.get("currency") or state.currency,
        )

    return fold


_FOLDS = {
    "inquiry.captured": _captured,
    "person.unmerged": _unmerged,
    "lead.rated": _rated,
    "stage.changed": _stage,
    "lead.routed": _routed,
    "lead.accepted": _accepted,
    "lead.contacted": _contacted,
    "lead.rejected": _handed_back,
    "lead.recycled": _handed_back,
    "outcome.opportunity": _opportunity,
    "outcome.won": _closed("won"),
    "outcome.lost": _closed("lost"),
}

KINDS = frozenset(_FOLDS)
"""The event kinds that change a funnel row."""


def _value(value: Any, default: float | None) -> float | None:
    return float(value) if value is not None else default


def _outcome_moment(data: Mapping[str, Any], at: datetime) -> datetime:
    """An outcome counts on its own date (the deal's close date), at midnight UTC."""
    day = data.get("date")
    if not day:
        return at
    return datetime.fromisoformat(f"{day}T00:00:00+00:00")


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
