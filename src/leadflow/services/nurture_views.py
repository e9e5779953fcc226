"""What the nurture page shows: the playbook's tracks with who is at which step, what is
due over the next days, who is in a track (searched, a page at a time), and what the
contact policy held back.

::

    page = nurture_page(uow, pb, now, MemberSearch(track="getting_started"), held_days=7)

*In a track* means an open enrollment: active (its next step is due at ``due_at``) or
paused (``leadflow nurture pause``). Held back means a touch the worker deferred (a cap,
quiet hours: the step waits until the policy allows it) or skipped (no consent, engaged
since the last step); every one is a ``touches`` row with its reason
(:mod:`leadflow.services.nurture`). Days are UTC days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta

from leadflow.adapters.store.nurture_pages import NurturePages
from leadflow.adapters.store.pages import PageQueries
from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.nurture import Track
from leadflow.domain.playbook import Playbook
from leadflow.services.marketing_views import find_people
from leadflow.services.nurture_report import Held, held_rows
from leadflow.services.uow import UnitOfWork

PAGE = 50
DAYS = 7  # today and the six days after it
HELD_DAYS = (1, 7, 30)
LATEST_HELD = 20


@dataclass(frozen=True)
class StepRow:
    index: int  # 0: the first step
    words: str
    wait: str  # how long after the step before it (or after entering the track)
    unless_engaged: bool
    active: int  # people whose next step this is
    paused: int


@dataclass(frozen=True)
class TrackRow:
    name: str
    label: str
    description: str | None
    enters: str  # who enters it, in words
    steps: list[StepRow]
    in_playbook: bool = True

    @property
    def active(self) -> int:
        return sum(s.active for s in self.steps)

    @property
    def paused(self) -> int:
        return sum(s.paused for s in self.steps)

    @property
    def people(self) -> int:
        return self.active + self.paused


@dataclass(frozen=True)
class ScheduleRow:
    track: str
    track_label: str
    step: int
    words: str
    counts: list[int]  # one per column of :class:`Schedule`

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Schedule:
    columns: list[str]  # "Due now", "Later today", then a day each: "Wed 25 Nov"
    rows: list[ScheduleRow]

    @property
    def totals(self) -> list[int]:
        return [sum(r.counts[i] for r in self.rows) for i in range(len(self.columns))]


@dataclass(frozen=True)
class Member:
    """One enrollment: a person in a track (or who was), and its next step."""

    enrollment_id: int
    person_id: int
    name: str
    company: str | None
    grade: str | None
    track: str
    track_label: str
    step: int  # the next step's index
    steps: int | None  # how many steps the track has (None: no longer in the playbook)
    step_words: str
    status: str  # active | paused | finished | exited
    due_at: datetime | None
    entered_at: datetime | None
    last_step_at: datetime | None
    exit_reason: str | None


@dataclass(frozen=True)
class HeldTouch:
    at: datetime | None
    person_id: int
    name: str
    company: str | None
    channel: str
    status: str  # deferred | skipped
    reason: str
    track_label: str
    step_words: str


@dataclass(frozen=True)
class MemberSearch:
    track: str = ""  # empty: the playbook's first track
    step: int | None = None  # 0-based
    q: str = ""  # a lead id, an email address or a phone number: its people's tracks
    after: tuple[datetime, int] | None = None  # the last (due_at, enrollment id) shown


@dataclass(frozen=True)
class NurturePage:
    tracks: list[TrackRow]
    schedule: Schedule
    held_days: int
    held: list[Held]
    latest_held: list[HeldTouch]
    search: MemberSearch
    members: list[Member] = field(default_factory=list)
    more: str | None = None  # the cursor of the next page of members
    found: list[int] = field(default_factory=list)  # the people ``q`` found, by id
    people: bool = True  # False: counts only, no one named (a sales manager's page)


def nurture_page(
    uow: UnitOfWork,
    pb: Playbook,
    now: datetime,
    search: MemberSearch,
    held_days: int = 7,
    region: str = "US",
    people: bool = True,
) -> NurturePage:
    """The page; with ``people`` False only counts, no person named or searched: the
    tracks hold marketing's leads of every team, which only marketing and admins may
    open (``services.access``)."""
    pages = NurturePages(uow.store.connection)
    tracks = track_rows(pb, pages.at_step())
    names = [t.name for t in tracks]
    busy = [t.name for t in tracks if t.people] or names  # by default the first with people
    chosen = search.track if search.track in names else (busy[0] if busy else "")
    search = MemberSearch(chosen, search.step, search.q.strip(), search.after)
    days = held_days if held_days in HELD_DAYS else 7
    since = now - timedelta(days=days)
    held = held_rows(pb, {(st, r): (n, k) for st, r, n, k in pages.held(since)})
    busy_tracks = [t.name for t in tracks if t.active]
    plan = schedule(pb, pages, busy_tracks, now)
    if not people:
        search = MemberSearch(chosen)
        return NurturePage(tracks, plan, days, held, [], search, people=False)
    latest = [_held_touch(pb, r) for r in pages.latest_held(since, LATEST_HELD)]
    page = NurturePage(tracks, plan, days, held, latest, search)
    if search.q:
        found = find_people(PageQueries(uow.store.connection), search.q, region)
        rows = pages.enrollments_of(found, PAGE)
        return replace(page, members=[_member(pb, r) for r in rows], found=found)
    if not chosen:
        return page
    rows = pages.members(chosen, search.step, search.after, PAGE)
    members = [_member(pb, r) for r in rows]
    last = members[-1] if len(members) == PAGE else None
    cursor = f"{last.due_at.isoformat()},{last.enrollment_id}" if last and last.due_at else None
    return replace(page, members=members, more=cursor)


def parse_after(value: str | None) -> tuple[datetime, int] | None:
    """The members' cursor ``<due_at ISO>,<enrollment id>``; None when it is not one."""
    due, _, ident = (value or "").rpartition(",")
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        return None
    if not ident.isdigit():
        return None
    return utc(moment) or moment, int(ident)


def track_rows(pb: Playbook, counts: list[tuple[str, int, int, int]]) -> list[TrackRow]:
    """The playbook's tracks in its order, with who is at which step (``counts``: track,
    step, active, paused); then any track people are still in that the playbook no
    longer has."""
    found: dict[str, dict[int, dict[str, int]]] = defaultdict(dict)
    for track, step, active, paused in counts:
        found[track][step] = {"active": active, "paused": paused}
    rows = [_track_row(pb, t, found.pop(t.name, {})) for t in pb.nurture.tracks]
    for name in sorted(found):
        steps = [
            StepRow(i, f"step {i + 1}", "", False, by.get("active", 0), by.get("paused", 0))
            for i, by in sorted(found[name].items())
        ]
        gone = "no longer in the playbook: its people leave it at their next step"
        rows.append(TrackRow(name, name, None, gone, steps, in_playbook=False))
    return rows


def _track_row(pb: Playbook, track: Track, at: dict[int, dict[str, int]]) -> TrackRow:
    steps = []
    for i, step in enumerate(track.steps):
        by = at.pop(i, {})
        wait = _wait(step.after, first=i == 0)
        steps.append(
            StepRow(
                i, step.words(), wait, step.unless_engaged, by.get("active", 0), by.get("paused", 0)
            )
        )
    beyond = [by for i, by in sorted(at.items())]  # the playbook shortened the track
    if beyond:
        active = sum(by.get("active", 0) for by in beyond)
        paused = sum(by.get("paused", 0) for by in beyond)
        words = "past the last step: finishes at the next pass"
        steps.append(StepRow(len(track.steps), words, "", False, active, paused))
    return TrackRow(track.name, track.label, track.description, _enters(pb, track), steps)


def _enters(pb: Playbook, track: Track) -> str:
    stages = ", ".join(s.label for s in pb.stages.stages if s.name in track.stages)
    if track.reasons:
        reasons = ", ".join(pb.handoff.reasons.get(r, r) for r in sorted(track.reasons))
        return f"Leads sales handed back ({reasons}), in {stages}"
    if track.source:
        return f"Leads in {stages} when {track.source}"
    return f"Any lead in {stages}"


def _wait(after: timedelta, first: bool) -> str:
    since = "entering the track" if first else "the step before"
    seconds = int(after.total_seconds())
    if seconds == 0:
        return f"on {since}" if first else f"right after {since}"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'} after {since}"
    return f"{seconds} seconds after {since}"


def schedule(pb: Playbook, pages: NurturePages, tracks: Collection[str], now: datetime) -> Schedule:
    """The steps of ``tracks`` due now and on each of the next days, by track and step."""
    midnight = datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)
    days = [midnight + timedelta(days=n) for n in range(1, DAYS + 1)]
    columns = ["Due now", "Later today", *(f"{d - timedelta(days=1):%a %d %b}" for d in days[1:])]
    counts: dict[tuple[str, int], list[int]] = {}
    for track, step, bucket, n in pages.scheduled(tracks, [now, *days]):
        counts.setdefault((track, step), [0] * len(columns))[bucket] += n
    order = {t.name: i for i, t in enumerate(pb.nurture.tracks)}
    rows = []
    for (name, step), row in sorted(
        counts.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0])
    ):
        label, words, _ = _step_of(pb, name, step)
        rows.append(ScheduleRow(name, label, step, words, row))
    return Schedule(columns, rows)


def _step_of(pb: Playbook, name: str | None, step: int | None) -> tuple[str, str, int | None]:
    """The track's label, the step in words, and how many steps the track has."""
    track = pb.nurture.track(name) if name else None
    if track is None:
        return name or "", f"step {(step or 0) + 1}", None
    if step is not None and 0 <= step < len(track.steps):
        return track.label, track.steps[step].words(), len(track.steps)
    return track.label, "past the last step", len(track.steps)


def _name(row: Record) -> str:
    name = " ".join(n for n in (row.first_name, row.last_name) if n)
    return name or row.email or f"lead {row.person_id}"


def _member(pb: Playbook, row: Record) -> Member:
    label, words, steps = _step_of(pb, row.track, int(row.step))
    if row.status in ("finished", "exited"):
        words = row.exit_reason or row.status
    return Member(
        int(row.id),
        int(row.person_id),
        _name(row),
        row.company,
        row.grade,
        row.track,
        label,
        int(row.step),
        steps,
        words,
        row.status,
        utc(row.due_at),
        utc(row.entered_at),
        utc(row.last_step_at),
        row.exit_reason,
    )


def _held_touch(pb: Playbook, row: Record) -> HeldTouch:
    label, words, _ = _step_of(pb, row.track, row.step)
    if row.track is None:
        label, words = "", ""
    return HeldTouch(
        utc(row.at),
        int(row.person_id),
        _name(row),
        row.company,
        row.channel,
        row.status,
        row.reason or "(no reason given)",
        label,
        words,
    )
