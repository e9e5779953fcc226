"""The customer experience report: what it is like to be a lead in nurture.

::

    report = experience(uow, pb, since, until, top=10)

Three parts, from the ``touches`` table (every message and call that reached a person,
or was held back, with the reason), over touches at ``since`` <= at < ``until``:

- **weekly**: touches per lead per week, by stage and channel. A *lead-week* is one lead
  in one week (Monday 00:00 UTC to the next) in which it got at least one sent touch of
  that stage and channel; for each stage and channel the report gives how many
  lead-weeks there were, their touches, and the median, 90th percentile and maximum of
  touches per lead-week. Channel ``any`` counts every channel of the stage, stage
  ``any`` every stage. The 90th percentile is the nearest rank: the smallest count that
  at least 90% of the lead-weeks do not exceed.
- **held**: every cap of the playbook's contact policy with how many times it held a
  message back (deferred) and for how many leads, then every other reason a message was
  deferred (quiet hours) or skipped (consent, engaged since the last step). A message
  held back twice counts twice: each deferral is a touch.
- **most**: the leads touched most (sent touches), with their counts by channel and
  their busiest week.

:func:`list_enrollments` is who is in which track, newest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput
from leadflow.services.uow import UnitOfWork

ANY = "any"
ENROLLMENT_STATUSES = ("active", "paused", "finished", "exited")


@dataclass(frozen=True)
class Enrollment:
    id: int
    person_id: int
    track: str
    step: int  # the next step's index (0: the first)
    status: str
    due_at: datetime | None
    entered_at: datetime
    last_step_at: datetime | None
    exited_at: datetime | None
    exit_reason: str | None


def list_enrollments(
    uow: UnitOfWork, status: str | None = None, limit: int = 100
) -> tuple[list[Enrollment], int]:
    """Enrollments, newest first, and how many there are with that status in all."""
    if status is not None and status not in ENROLLMENT_STATUSES:
        known = ", ".join(ENROLLMENT_STATUSES)
        raise InvalidInput(f"no status '{status}' ({known})", where="status")
    ns = NurtureStore(uow.store.connection)
    rows = ns.enrollments(status, limit)
    found = [
        Enrollment(
            int(r.id),
            int(r.person_id),
            r.track,
            int(r.step),
            r.status,
            _utc(r.due_at),
            _utc(r.entered_at) or r.entered_at,
            _utc(r.last_step_at),
            _utc(r.exited_at),
            r.exit_reason,
        )
        for r in rows
    ]
    return found, ns.count_enrollments(status)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Weekly:
    """Touches per lead per week, for one stage and channel."""

    stage: str
    channel: str
    lead_weeks: int
    touches: int
    median: float
    p90: int
    max: int


@dataclass(frozen=True)
class Held:
    """Messages held back for one reason: ``deferred`` (a cap, quiet hours) or
    ``skipped`` (the person said no, engaged since the last step)."""

    status: str
    reason: str
    cap: bool
    times: int
    leads: int


@dataclass(frozen=True)
class Touched:
    """One of the leads touched most."""

    person_id: int
    name: str
    email: str | None
    stage: str | None
    touches: int
    by_channel: dict[str, int]
    busiest_week: int


@dataclass(frozen=True)
class Experience:
    since: datetime | None
    until: datetime | None
    leads: int  # leads with at least one touch (sent or held back)
    sent: int
    deferred: int
    skipped: int
    weekly: list[Weekly]
    held: list[Held]
    most: list[Touched]


def experience(
    uow: UnitOfWork,
    pb: Playbook,
    since: datetime | None = None,
    until: datetime | None = None,
    top: int = 10,
) -> Experience:
    """The customer experience report over touches at ``since`` <= at < ``until``."""
    if since is not None and until is not None and since >= until:
        raise InvalidInput(f"--since {since:%Y-%m-%d} is not before --until {until:%Y-%m-%d}")
    if top < 0:
        raise InvalidInput(f"top must be 0 or more, not {top}", where="top")
    ns = NurtureStore(uow.store.connection)
    frame = _frame(ns.touches_between(since, until))
    sent = frame.filter(pl.col("status") == "sent")
    counts = dict(frame.group_by("status").len().iter_rows())
    most = _most(ns, sent, top)
    return Experience(
        since=since,
        until=until,
        leads=frame["person_id"].n_unique(),
        sent=int(counts.get("sent", 0)),
        deferred=int(counts.get("deferred", 0)),
        skipped=int(counts.get("skipped", 0)),
        weekly=_weekly(sent),
        held=_held(pb, frame),
        most=most,
    )


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    schema = {
        "person_id": pl.Int64,
        "at": pl.Datetime("us"),
        "channel": pl.String,
        "stage": pl.String,
        "status": pl.String,
        "reason": pl.String,
    }
    naive = [(p, _naive_utc(at), c, s or "", st, r or "") for p, at, c, s, st, r in rows]
    frame = pl.DataFrame(naive, schema=schema, orient="row")
    return frame.with_columns(week=pl.col("at").dt.truncate("1w"))  # Mondays


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _spread(frame: pl.DataFrame, stage: pl.Expr, channel: pl.Expr) -> pl.DataFrame:
    per_week = (
        frame.with_columns(stage=stage, channel=channel)
        .group_by("stage", "channel", "person_id", "week")
        .len("n")
    )
    rank = (pl.len() * 0.9).ceil().cast(pl.Int64) - 1
    return per_week.group_by("stage", "channel").agg(
        lead_weeks=pl.len(),
        touches=pl.col("n").sum(),
        median=pl.col("n").median(),
        p90=pl.col("n").sort().get(rank),
        max=pl.col("n").max(),
    )


def _weekly(sent: pl.DataFrame) -> list[Weekly]:
    if sent.is_empty():
        return []
    parts = pl.concat(
        [
            _spread(sent, pl.col("stage"), pl.col("channel")),
            _spread(sent, pl.col("stage"), pl.lit(ANY)),
            _spread(sent, pl.lit(ANY), pl.lit(ANY)),
        ]
    )
    ordered = parts.sort(
        pl.col("stage") == ANY, "stage", pl.col("channel") == ANY, "channel"
    ).iter_rows(named=True)
    return [
        Weekly(
            r["stage"] or "(none)",
            r["channel"],
            int(r["lead_weeks"]),
            int(r["touches"]),
            float(r["median"]),
            int(r["p90"]),
            int(r["max"]),
        )
        for r in ordered
    ]


def _held(pb: Playbook, frame: pl.DataFrame) -> list[Held]:
    back = frame.filter(pl.col("status").is_in(["deferred", "skipped"]))
    found = {
        (r["status"], r["reason"]): (int(r["times"]), int(r["leads"]))
        for r in back.group_by("status", "reason")
        .agg(times=pl.len(), leads=pl.col("person_id").n_unique())
        .iter_rows(named=True)
    }
    return held_rows(pb, found)


def held_rows(pb: Playbook, counts: Mapping[tuple[str, str], tuple[int, int]]) -> list[Held]:
    """Every cap of the playbook (idle ones too), then every other reason, the most
    frequent first; ``counts``: (status, reason) -> (times, leads)."""
    found = dict(counts)
    rows = []
    for cap in pb.policy.caps:
        reason = f"cap: {cap.words()}"
        times, leads = found.pop(("deferred", reason), (0, 0))
        rows.append(Held("deferred", reason, True, times, leads))
    others = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))
    for (status, reason), (times, leads) in others:
        old_cap = reason.startswith("cap: ")  # a cap the playbook no longer has
        rows.append(Held(status, reason or "(no reason given)", old_cap, times, leads))
    return rows


def _most(ns: NurtureStore, sent: pl.DataFrame, top: int) -> list[Touched]:
    if sent.is_empty() or top == 0:
        return []
    per_person = (
        sent.group_by("person_id")
        .agg(touches=pl.len())
        .sort(pl.col("touches"), pl.col("person_id"), descending=[True, False])
        .head(top)
    )
    ids = per_person["person_id"].to_list()
    mine = sent.filter(pl.col("person_id").is_in(ids))
    channels: dict[int, dict[str, int]] = {}
    for person, channel, n in mine.group_by("person_id", "channel").len().iter_rows():
        channels.setdefault(person, {})[channel] = int(n)
    weeks = dict(
        mine.group_by("person_id", "week")
        .len()
        .group_by("person_id")
        .agg(pl.col("len").max())
        .iter_rows()
    )
    people = ns.people(ids)
    stages = ns.stages(ids)
    found = []
    for person_id, touches in per_person.iter_rows():
        person = people.get(person_id)
        parts = [person.first_name, person.last_name] if person is not None else []
        found.append(
            Touched(
                person_id,
                " ".join(p for p in parts if p) or f"lead {person_id}",
                person.email if person is not None else None,
                stages.get(person_id),
                int(touches),
                dict(sorted(channels.get(person_id, {}).items())),
                int(weeks.get(person_id, 0)),
            )
        )
    return found
