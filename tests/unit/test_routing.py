"""Routing, pure: which rep ``choose`` picks for a lead, and why, with the clock and the
random generator passed in."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.handoff import Method, Team
from leadflow.domain.routing import Candidate, choose, members
from leadflow.domain.working_hours import parse_hours

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
OFFICE = parse_hours("UTC Mon-Fri 09:00-17:00")
NIGHTS = parse_hours("UTC Mon-Fri 20:00-23:00")


def team(method: Method = "round_robin") -> Team:
    return Team("emea", "EMEA", None, None, method, "boss@acme.example")


def rep(rep_id: int, **more: object) -> Candidate:
    values: dict[str, object] = {
        "id": rep_id,
        "name": f"Rep {rep_id}",
        "email": f"rep{rep_id}@acme.example",
        "team": "emea",
        "capacity": None,
        "open_leads": 0,
        "territories": (),
        "hours": None,
        "away_from": None,
        "away_until": None,
        "active": True,
        "last_turn": 0,
    }
    values.update(more)
    return Candidate(**values)  # type: ignore[arg-type]


def pick(
    reps: list[Candidate],
    now: datetime = MONDAY_10,
    method: Method = "round_robin",
    **options: object,
) -> Candidate | None:
    return choose(team(method), reps, now, random.Random(1), **options).rep  # type: ignore[arg-type]


def ids(reps: list[Candidate] | None) -> list[int]:
    return [r.id for r in reps or []]


# ---------------------------------------------------------------- the account's owner


def test_the_account_owner_takes_the_lead_before_anyone_else() -> None:
    owner = rep(9, team="other", capacity=1, open_leads=5)  # at capacity, another team
    got = choose(team(), [rep(1), rep(2)], MONDAY_10, random.Random(1), account_owner=owner)
    assert got.rep == owner
    assert got.why == "Rep 9 owns the account"
    assert got.team == "emea"


@pytest.mark.parametrize(
    "owner",
    [
        rep(9, active=False),
        rep(9, away_from=date(2026, 11, 20), away_until=date(2026, 11, 27)),
    ],
    ids=["inactive", "away"],
)
def test_an_inactive_or_away_owner_falls_through_to_the_team(owner: Candidate) -> None:
    got = choose(team(), [rep(1), rep(2)], MONDAY_10, random.Random(1), account_owner=owner)
    assert got.rep is not None and got.rep.id == 1
    assert "owns the account" not in got.why


def test_an_excluded_owner_falls_through_too() -> None:
    got = pick([rep(1)], account_owner=rep(9), exclude={9})
    assert got is not None and got.id == 1


# ---------------------------------------------------------------- who can take it


def test_inactive_away_and_excluded_reps_are_not_candidates() -> None:
    reps = [
        rep(1, active=False),
        rep(2, away_from=date(2026, 11, 23), away_until=date(2026, 11, 23)),
        rep(3),
        rep(4),
    ]
    assert ids([pick(reps)]) == [3]
    assert ids([pick(reps, exclude={3})]) == [4]


def test_with_nobody_in_the_lead_waits_in_the_pool_with_the_reason() -> None:
    got = choose(team(), [rep(1, active=False)], MONDAY_10, random.Random(1))
    assert (got.rep, got.team) == (None, "emea")
    assert got.why == "no rep of team EMEA is active and in"
    assert choose(team(), [], MONDAY_10, random.Random(1)).rep is None


@pytest.mark.parametrize(
    ("away_from", "away_until", "away"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), True),  # one day, both ends included
        (date(2026, 11, 24), date(2026, 11, 30), False),  # not yet
        (date(2026, 11, 1), date(2026, 11, 22), False),  # back
        (None, date(2026, 11, 23), True),  # open start
        (date(2026, 11, 23), None, True),  # open end
        (None, None, False),
    ],
)
def test_away_dates_include_both_ends(
    away_from: date | None, away_until: date | None, away: bool
) -> None:
    assert rep(1, away_from=away_from, away_until=away_until).away(MONDAY_10) is away


def test_away_days_are_the_rep_s_own_days() -> None:
    # Monday 23:30 UTC is already Tuesday in Tokyo, where the absence starts.
    tokyo = parse_hours("Asia/Tokyo Mon-Fri 09:00-17:00")
    late = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    absent = rep(1, hours=tokyo, away_from=date(2026, 11, 24), away_until=date(2026, 11, 25))
    assert absent.away(late)
    assert not replace(absent, hours=None).away(late)


def test_reps_at_capacity_get_no_more() -> None:
    reps = [rep(1, capacity=2, open_leads=2), rep(2, capacity=3, open_leads=2)]
    assert ids([pick(reps)]) == [2]
    assert rep(3, capacity=None, open_leads=10_000).full() is False
    assert rep(4, capacity=0).full() is True
    full = choose(team(), reps[:1], MONDAY_10, random.Random(1))
    assert (full.rep, full.why) == (None, "every rep of team EMEA is at capacity")


# ---------------------------------------------------------------- territories


def test_reps_covering_the_territory_come_first_whatever_the_case() -> None:
    reps = [rep(1), rep(2, territories=("FR",)), rep(3, territories=("de", "AT"))]
    got = choose(team(), reps, MONDAY_10, random.Random(1), territory="DE")
    assert ids([got.rep]) == [3]
    assert got.why.endswith(", territory DE")


def test_then_reps_without_territories() -> None:
    reps = [rep(1, territories=("FR",)), rep(2), rep(3, territories=("AT",))]
    got = choose(team(), reps, MONDAY_10, random.Random(1), territory="DE")
    assert ids([got.rep]) == [2]
    assert "territory" not in got.why


def test_else_the_lead_waits_in_the_pool() -> None:
    reps = [rep(1, territories=("FR",)), rep(2, territories=("AT",))]
    got = choose(team(), reps, MONDAY_10, random.Random(1), territory="DE")
    assert (got.rep, got.why) == (None, "no rep of team EMEA covers the territory DE")


def test_a_covering_rep_at_capacity_leaves_it_to_reps_without_territories() -> None:
    reps = [rep(1, territories=("DE",), capacity=1, open_leads=1), rep(2)]
    assert ids([pick(reps, territory="DE")]) == [2]


def test_without_a_territory_every_rep_is_a_candidate() -> None:
    reps = [rep(1, territories=("FR",), last_turn=0), rep(2, last_turn=5)]
    assert ids([pick(reps, territory=None)]) == [1]


# ---------------------------------------------------------------- working hours


def test_reps_at_work_now_come_first() -> None:
    reps = [
        rep(1, hours=NIGHTS),
        rep(2, hours=OFFICE, last_turn=9),
        rep(3, hours=None, last_turn=5),
    ]
    # Rep 3 has no hours: always at work. Rep 1 is not at work at 10:00.
    assert ids([pick(reps)]) == [3]
    assert ids([pick(reps, exclude={3})]) == [2]


def test_nobody_at_work_means_anyone_present_takes_it() -> None:
    reps = [rep(1, hours=OFFICE, last_turn=3), rep(2, hours=NIGHTS, last_turn=1)]
    assert ids([pick(reps, now=SUNDAY_10)]) == [2]


def test_outside_hours_assign_ignores_the_hours() -> None:
    reps = [rep(1, hours=NIGHTS, last_turn=0), rep(2, hours=OFFICE, last_turn=1)]
    assert ids([pick(reps, prefer_working=True)]) == [2]
    assert ids([pick(reps, prefer_working=False)]) == [1]


# ---------------------------------------------------------------- methods


def test_round_robin_takes_the_oldest_turn_then_the_lowest_id() -> None:
    reps = [rep(3, last_turn=4), rep(1, last_turn=7), rep(2, last_turn=4)]
    got = choose(team(), reps, MONDAY_10, random.Random(1))
    assert ids([got.rep]) == [2]
    assert got.why == "round robin, next in turn of 3 reps in team EMEA"


def test_round_robin_deals_in_turn_when_turns_are_taken() -> None:
    reps = [rep(1), rep(2), rep(3)]
    dealt = []
    for turn in range(1, 10):
        chosen = pick(reps)
        assert chosen is not None
        reps = [replace(r, last_turn=turn) if r.id == chosen.id else r for r in reps]
        dealt.append(chosen.id)
    assert dealt == [1, 2, 3] * 3


def test_least_loaded_takes_the_fewest_open_leads_then_turn_then_id() -> None:
    reps = [rep(1, open_leads=4), rep(2, open_leads=2, last_turn=9), rep(3, open_leads=2)]
    got = choose(team("least_loaded"), reps, MONDAY_10, random.Random(1))
    assert ids([got.rep]) == [3]
    assert got.why == "fewest open leads (2) of 3 reps in team EMEA"
    tie = [rep(5, open_leads=1), rep(4, open_leads=1)]
    assert ids([pick(tie, method="least_loaded")]) == [4]


def test_one_rep_is_one_rep_in_the_reason() -> None:
    assert choose(team(), [rep(1)], MONDAY_10, random.Random(1)).why.startswith(
        "round robin, next in turn of 1 rep in"
    )


def test_random_is_drawn_with_the_generator_given() -> None:
    reps = [rep(n) for n in range(1, 6)]
    got = choose(team("random"), reps, MONDAY_10, random.Random(42))
    assert got.why == "drawn at random among 5 reps in team EMEA"
    expected = random.Random(42).choice(sorted(reps, key=lambda r: r.id))
    assert got.rep == expected


@given(seed=st.integers(0, 2**32), order=st.permutations(list(range(1, 7))))
def test_random_is_the_same_for_a_seed_whatever_the_order_of_the_reps(
    seed: int, order: list[int]
) -> None:
    ordered = [rep(n) for n in range(1, 7)]
    shuffled = [rep(n) for n in order]
    first = choose(team("random"), ordered, MONDAY_10, random.Random(seed)).rep
    again = choose(team("random"), shuffled, MONDAY_10, random.Random(seed)).rep
    assert first == again


def test_random_spreads_leads_over_every_rep() -> None:
    rng = random.Random(7)
    reps = [rep(n) for n in range(1, 4)]
    drawn = Counter(ids([choose(team("random"), reps, MONDAY_10, rng).rep for _ in range(300)]))
    assert set(drawn) == {1, 2, 3}
    assert all(60 < n < 140 for n in drawn.values())


# ---------------------------------------------------------------- members


def test_a_team_s_members_are_its_reps_and_the_implicit_team_has_everyone() -> None:
    reps = [rep(1, team="emea"), rep(2, team="amer"), rep(3, team=None)]
    assert ids(members(team(), reps, implicit=False)) == [1]
    assert ids(members(team(), reps, implicit=True)) == [1, 2, 3]
