"""Which rep gets a sales-ready lead: pure, deterministic, explained.

Given the lead's team (picked by the playbook, see :mod:`leadflow.domain.handoff`),
the reps, the time and a random generator (both passed in), :func:`choose` returns
the rep and why, in this order:

1. **The account's owner**, when the playbook keeps accounts with their owner and the
   owner is active and not away (an owner takes its accounts' leads even when at
   capacity: the customer keeps one contact).
2. **The team's reps who can take it**: active, not away today, under capacity (open
   leads below capacity; no capacity means no limit). When the playbook names a
   territory field, reps whose territories include the lead's value come first, then
   reps without territories; a rep whose territories do not include it is not a
   candidate. With ``outside_hours: prefer_working``, reps at work now come first.
3. Among them, by the team's method: ``round_robin`` (the rep whose last turn is the
   oldest; ties by id), ``least_loaded`` (fewest open leads, then turn, then id) or
   ``random`` (drawn with the generator given).
4. Nobody: the lead waits in the team's pool, unowned, with the reason.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from leadflow.domain.handoff import Team
from leadflow.domain.working_hours import WorkingHours, is_working


@dataclass(frozen=True)
class Candidate:
    """A rep as routing sees it."""

    id: int
    name: str
    email: str
    team: str | None
    capacity: int | None
    open_leads: int
    territories: tuple[str, ...]
    hours: WorkingHours | None
    away_from: date | None
    away_until: date | None
    active: bool
    last_turn: int

    def away(self, now: datetime) -> bool:
        today = now.astimezone(ZoneInfo(self.hours.timezone)).date() if self.hours else now.date()
        start, end = self.away_from, self.away_until
        if start is None and end is None:
            return False
        return (start is None or start <= today) and (end is None or today <= end)

    def full(self) -> bool:
        return self.capacity is not None and self.open_leads >= self.capacity

    def working(self, now: datetime) -> bool:
        return self.hours is None or is_working(self.hours, now)


@dataclass(frozen=True)
class Assignment:
    team: str
    rep: Candidate | None
    why: str


def members(team: Team, reps: Sequence[Candidate], implicit: bool) -> list[Candidate]:
    """The team's reps; the implicit team of a playbook without teams has all of them."""
    return [r for r in reps if implicit or r.team == team.name]


def choose(
    team: Team,
    reps: Sequence[Candidate],
    now: datetime,
    rng: random.Random,
    *,
    territory: str | None = None,
    account_owner: Candidate | None = None,
    prefer_working: bool = True,
    exclude: Collection[int] = (),
) -> Assignment:
    """The rep for one lead of ``team`` among ``reps`` (the team's members)."""
    owner = account_owner
    if owner is not None and owner.active and not owner.away(now) and owner.id not in exclude:
        return Assignment(team.name, owner, f"{owner.name} owns the account")
    present = [r for r in reps if r.active and r.id not in exclude and not r.away(now)]
    if not present:
        return Assignment(team.name, None, f"no rep of team {team.label} is active and in")
    room = [r for r in present if not r.full()]
    if not room:
        return Assignment(team.name, None, f"every rep of team {team.label} is at capacity")
    pool, where = _by_territory(room, territory)
    if not pool:
        return Assignment(
            team.name, None, f"no rep of team {team.label} covers the territory {territory}"
        )
    at_work = [r for r in pool if r.working(now)]
    if prefer_working and at_work:
        pool = at_work
    rep, how = _pick(team, pool, rng)
    return Assignment(team.name, rep, f"{how} in team {team.label}{where}")


def _by_territory(reps: list[Candidate], territory: str | None) -> tuple[list[Candidate], str]:
    if territory is None:
        return reps, ""
    wanted = territory.casefold()
    covering = [r for r in reps if wanted in (t.casefold() for t in r.territories)]
    if covering:
        return covering, f", territory {territory}"
    return [r for r in reps if not r.territories], ""


def _pick(team: Team, pool: list[Candidate], rng: random.Random) -> tuple[Candidate, str]:
    size = f"{len(pool)} rep{'s' if len(pool) != 1 else ''}"
    if team.method == "least_loaded":
        rep = min(pool, key=lambda r: (r.open_leads, r.last_turn, r.id))
        return rep, f"fewest open leads ({rep.open_leads}) of {size}"
    if team.method == "random":
        rep = rng.choice(sorted(pool, key=lambda r: r.id))
        return rep, f"drawn at random among {size}"
    rep = min(pool, key=lambda r: (r.last_turn, r.id))
    return rep, f"round robin, next in turn of {size}"
