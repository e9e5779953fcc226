"""The lifecycle, pure: which stages a lead moves through on an event (``advance``), and
the lifecycle as the fold of its events (``apply``, ``project``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.domain.lifecycle import (
    RATING_EVENTS,
    RELEASING_EVENTS,
    Lifecycle,
    Move,
    advance,
    allowed,
    apply,
    project,
)
from leadflow.domain.playbook import Playbook
from leadflow.domain.stages import StageModel

RATING = """\
name: Lifecycle
fields:
  budget:
    type: choice
    question: Is there a budget?
    choices: [approved, none]
criteria:
  qualification:
    has_budget: {label: Has a budget, when: budget == approved, points: 10}
grades:
  - grade: A
    when: has_budget
  - grade: B
route:
  sales: [A]
  nurture: [B]
"""

# inquiry -> engaged -> ready chains on one rating event; accepted -> hot is a step a
# rating takes but a disposition does not; loop_a and loop_b enter each other.
CHAIN = """\
stages:
  - {name: inquiry, type: inquiry, definition: Raised a hand., on: [inquiry],
     next: [engaged, disqualified]}
  - {name: engaged, type: nurture, definition: Some points., when: score >= 5,
     next: [ready, disqualified]}
  - {name: ready, type: marketing-qualified, definition: Sales-ready., when: route == sales,
     next: [accepted, back, disqualified]}
  - {name: accepted, type: sales-accepted, definition: Accepted., on: [sales_accepted],
     next: [hot, back]}
  - {name: hot, type: sales-qualified, definition: An A lead at sales., when: grade == A,
     next: [won, back]}
  - {name: won, type: won, definition: Signed., on: [won]}
  - {name: back, type: recycled, definition: Handed back., on: [sales_rejected, recycled],
     next: [engaged, ready, disqualified]}
  - {name: disqualified, type: disqualified, definition: Never., on: [disqualified]}
  - {name: loop_a, type: nurture, definition: One side of a loop., when: score >= 0,
     next: [loop_b]}
  - {name: loop_b, type: nurture, definition: The other side., when: score >= 0,
     next: [loop_a, disqualified]}
"""


def env(grade: str = "A", route: str = "sales", score: float = 10) -> dict[str, object]:
    """The rating environment as stage conditions read it (grade and route as choice keys)."""
    return {"grade": grade.lower(), "route": route, "segment": None, "score": score}


@pytest.fixture(scope="module")
def default() -> StageModel:
    return parse_playbook(RATING, "default.yaml").stages


@pytest.fixture(scope="module")
def chain() -> StageModel:
    pb: Playbook = parse_playbook(RATING + CHAIN, "chain.yaml")
    return pb.stages


# ---------------------------------------------------------------- advance


def test_a_new_sales_ready_lead_enters_inquiry_then_marketing_qualified(
    default: StageModel,
) -> None:
    assert advance(default, None, "inquiry", env()) == [
        Move(None, "inquiry", "inquiry"),
        Move("inquiry", "marketing_qualified", None),
    ]


def test_a_new_lead_for_nurture_becomes_a_prospect(default: StageModel) -> None:
    assert advance(default, None, "inquiry", env("B", "nurture")) == [
        Move(None, "inquiry", "inquiry"),
        Move("inquiry", "prospect", None),
    ]


def test_a_new_lead_with_an_unknown_rating_stays_an_inquiry(default: StageModel) -> None:
    unknown = {"grade": None, "route": None, "segment": None}
    assert advance(default, None, "inquiry", unknown) == [Move(None, "inquiry", "inquiry")]


def test_a_rating_event_chains_through_every_stage_whose_criteria_hold(
    chain: StageModel,
) -> None:
    assert advance(chain, None, "inquiry", env()) == [
        Move(None, "inquiry", "inquiry"),
        Move("inquiry", "engaged", None),
        Move("engaged", "ready", None),
    ]
    # Enough points for engaged, not sales-ready: it stops there.
    assert advance(chain, None, "inquiry", env("B", "nurture")) == [
        Move(None, "inquiry", "inquiry"),
        Move("inquiry", "engaged", None),
    ]


def test_the_first_move_names_its_event_and_the_chained_ones_none(chain: StageModel) -> None:
    moves = advance(chain, "inquiry", "activity", env())
    assert moves == [Move("inquiry", "engaged", "activity"), Move("engaged", "ready", None)]


@pytest.mark.parametrize("event", sorted(RATING_EVENTS))
def test_every_rating_event_keeps_going(chain: StageModel, event: str) -> None:
    assert [m.target for m in advance(chain, "inquiry", event, env())] == ["engaged", "ready"]


def test_a_change_of_rating_alone_moves_too(default: StageModel) -> None:
    assert advance(default, "prospect", None, env()) == [
        Move("prospect", "marketing_qualified", None)
    ]


def test_nothing_moves_when_no_next_stage_admits_the_lead(default: StageModel) -> None:
    assert advance(default, "prospect", "activity", env("B", "nurture")) == []
    assert advance(default, "marketing_qualified", "activity", env()) == []


def test_a_disposition_moves_one_step_and_stops(chain: StageModel) -> None:
    # hot admits an A lead on a change of rating, but a disposition stops at accepted ...
    assert advance(chain, "ready", "sales_accepted", env()) == [
        Move("ready", "accepted", "sales_accepted")
    ]
    # ... and the next rating event takes it on.
    assert advance(chain, "accepted", "activity", env()) == [Move("accepted", "hot", "activity")]


def test_a_disposition_enters_only_a_stage_listening_for_it(default: StageModel) -> None:
    assert advance(default, "marketing_qualified", "sales_rejected", env()) == [
        Move("marketing_qualified", "recycled", "sales_rejected")
    ]
    assert advance(default, "sales_accepted", "sales_accepted", env()) == []  # accepted already
    assert advance(default, "sales_accepted", "sales_rejected", env()) == [
        Move("sales_accepted", "recycled", "sales_rejected")
    ]
    assert advance(default, "won", "lost", env()) == []  # won is final


@pytest.mark.parametrize("event", ["activity", "answers", None, "sales_accepted"])
def test_a_held_lead_moves_on_nothing_but_a_release(default: StageModel, event: str) -> None:
    assert advance(default, "recycled", event, env(), held=True) == []


@pytest.mark.parametrize("event", sorted(RELEASING_EVENTS))
def test_a_new_inquiry_or_the_recontact_date_moves_a_held_lead(
    default: StageModel, event: str
) -> None:
    assert advance(default, "recycled", event, env(), held=True) == [
        Move("recycled", "marketing_qualified", event)
    ]
    assert advance(default, "recycled", event, env("B", "nurture"), held=True) == [
        Move("recycled", "prospect", event)
    ]


def test_the_same_events_move_a_lead_that_is_not_held(default: StageModel) -> None:
    assert advance(default, "recycled", "activity", env()) == [
        Move("recycled", "marketing_qualified", "activity")
    ]


def test_a_new_lead_is_never_held(default: StageModel) -> None:
    assert [m.target for m in advance(default, None, "activity", env(), held=True)] == [
        "inquiry",
        "marketing_qualified",
    ]


def test_a_cycle_of_stages_is_walked_once_and_never_loops(chain: StageModel) -> None:
    assert advance(chain, "loop_a", "activity", env()) == [Move("loop_a", "loop_b", "activity")]
    assert advance(chain, "loop_b", None, env()) == [Move("loop_b", "loop_a", None)]


def test_a_chain_never_returns_to_a_stage_it_passed(chain: StageModel) -> None:
    # back -> engaged -> ready: ready's next includes back (by event only), engaged is seen.
    moves = advance(chain, "back", "inquiry", env())
    assert [m.target for m in moves] == ["engaged", "ready"]
    assert len({m.target for m in moves}) == len(moves)


def test_allowed_names_the_stage_an_event_leads_to(default: StageModel) -> None:
    assert allowed(default, "marketing_qualified", "sales_accepted", env()) == "sales_accepted"
    assert allowed(default, "sales_accepted", "recycled", env()) == "recycled"
    assert allowed(default, "sales_accepted", "sales_accepted", env()) is None
    assert allowed(default, "disqualified", "recycled", env()) is None


# ---------------------------------------------------------------- apply and project

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


ROUTED = {
    "rep_id": 3,
    "team": "emea",
    "accept_due": at(60).isoformat(),
    "sales_ready_at": at(-5).isoformat(),
}


def test_a_new_lifecycle_is_empty_and_not_held() -> None:
    state = Lifecycle()
    assert state.stage is None and state.owner_rep_id is None
    assert not state.held


def test_a_stage_change_sets_stage_since_and_side() -> None:
    state = apply(Lifecycle(), "stage.changed", at(0), {"to": "prospect", "side": "marketing"})
    assert (state.stage, state.stage_since, state.side) == ("prospect", at(0), "marketing")


def test_routing_sets_owner_team_and_deadline_and_clears_the_last_owner_s_progress() -> None:
    before = Lifecycle(
        stage="marketing_qualified",
        accepted_at=at(-100),
        first_contact_at=at(-90),
        contact_due=at(-50),
        sales_ready_at=at(-200),
    )
    state = apply(before, "lead.routed", at(0), ROUTED)
    assert (state.owner_rep_id, state.team, state.routed_at) == (3, "emea", at(0))
    assert state.accept_due == at(60)  # read from ISO text, as the log stores it
    assert state.sales_ready_at == at(-5)
    assert (state.accepted_at, state.first_contact_at, state.contact_due) == (None, None, None)
    assert state.stage == "marketing_qualified"


def test_routing_without_a_ready_time_keeps_the_one_it_had() -> None:
    before = Lifecycle(sales_ready_at=at(-200))
    state = apply(before, "lead.routed", at(0), {"rep_id": 3, "accept_due": None})
    assert (state.sales_ready_at, state.accept_due) == (at(-200), None)


def test_accepting_ends_the_accept_deadline_and_starts_the_contact_one() -> None:
    routed = apply(Lifecycle(), "lead.routed", at(0), ROUTED)
    state = apply(routed, "lead.accepted", at(20), {"rep_id": 3, "contact_due": at(260)})
    assert (state.accepted_at, state.accept_due, state.contact_due) == (at(20), None, at(260))
    assert state.owner_rep_id == 3


def test_the_first_contact_is_kept_and_later_ones_do_not_move_it() -> None:
    accepted = Lifecycle(owner_rep_id=3, accepted_at=at(20), contact_due=at(260))
    first = apply(accepted, "lead.contacted", at(30), {"channel": "call"})
    again = apply(first, "lead.contacted", at(90), {"channel": "email"})
    assert (first.first_contact_at, first.contact_due) == (at(30), None)
    assert again.first_contact_at == at(30)


@pytest.mark.parametrize("kind", ["lead.rejected", "lead.recycled"])
def test_a_hand_back_unowns_the_lead_and_holds_it_until_its_recontact_date(kind: str) -> None:
    owned = Lifecycle(
        stage="sales_accepted",
        side="sales",
        team="emea",
        owner_rep_id=3,
        accept_due=at(60),
        contact_due=at(260),
    )
    data = {"reason": "bad_timing", "note": "Q3", "recontact_on": "2027-03-01"}
    state = apply(owned, kind, at(30), data)
    assert (state.side, state.owner_rep_id, state.accept_due, state.contact_due) == (
        "marketing",
        None,
        None,
        None,
    )
    assert (state.reason, state.note, state.recontact_on) == ("bad_timing", "Q3", date(2027, 3, 1))
    assert state.held
    assert (state.team, state.stage) == ("emea", "sales_accepted")  # the stage moves apart


def test_disqualifying_keeps_the_owner_and_records_why() -> None:
    owned = Lifecycle(owner_rep_id=3, accept_due=at(60), contact_due=at(260))
    state = apply(owned, "lead.disqualified", at(5), {"reason": "competitor", "note": None})
    assert (state.owner_rep_id, state.accept_due, state.contact_due) == (3, None, None)
    assert (state.reason, state.note, state.held) == ("competitor", None, False)


def test_a_release_ends_the_hold_and_keeps_the_reason() -> None:
    held = Lifecycle(reason="bad_timing", recontact_on=date(2027, 3, 1))
    state = apply(held, "lead.released", at(0), {"why": "a new inquiry"})
    assert (state.recontact_on, state.held, state.reason) == (None, False, "bad_timing")


def test_unassigning_empties_the_owner_and_may_name_the_team_s_pool() -> None:
    owned = Lifecycle(team="emea", owner_rep_id=3, accept_due=at(60), contact_due=at(260))
    to_pool = apply(owned, "lead.unassigned", at(61), {"team": "emea", "why": "missed"})
    assert (to_pool.owner_rep_id, to_pool.accept_due, to_pool.team) == (None, None, "emea")
    keeps = apply(owned, "lead.unassigned", at(61), {"why": "nobody"})
    assert keeps.team == "emea"
    no_team = apply(owned, "lead.unassigned", at(61), {"team": None})
    assert no_team.team is None


@pytest.mark.parametrize("kind", ["lead.rated", "inquiry.captured", "sla.breached", "x"])
def test_other_events_leave_the_lifecycle_as_it_is(kind: str) -> None:
    state = Lifecycle(stage="prospect", owner_rep_id=2, reason="r")
    assert apply(state, kind, at(0), {"to": "won", "rep_id": 9}) == state


def test_project_folds_a_whole_history_in_order() -> None:
    history = [
        ("stage.changed", at(0), {"to": "inquiry", "side": "marketing"}),
        ("lead.rated", at(0), {"grade": "A"}),
        ("stage.changed", at(0), {"to": "marketing_qualified", "side": "marketing"}),
        ("lead.routed", at(1), {**ROUTED, "sales_ready_at": at(0).isoformat()}),
        ("lead.accepted", at(20), {"contact_due": at(260).isoformat()}),
        ("stage.changed", at(20), {"to": "sales_accepted", "side": "sales"}),
        ("lead.contacted", at(40), {}),
        ("lead.recycled", at(50), {"reason": "no_budget", "recontact_on": "2027-01-04"}),
        ("stage.changed", at(50), {"to": "recycled", "side": "marketing"}),
    ]
    state = project(history)
    assert state == Lifecycle(
        stage="recycled",
        stage_since=at(50),
        side="marketing",
        team="emea",
        owner_rep_id=None,
        sales_ready_at=at(0),
        routed_at=at(1),
        accepted_at=at(20),
        first_contact_at=at(40),
        accept_due=None,
        contact_due=None,
        reason="no_budget",
        note=None,
        recontact_on=date(2027, 1, 4),
    )
    # project is apply, event after event
    step = Lifecycle()
    for kind, moment, data in history:
        step = apply(step, kind, moment, data)
    assert step == state


def test_project_of_no_events_is_an_empty_lifecycle_and_none_data_is_empty() -> None:
    assert project([]) == Lifecycle()
    assert project([("lead.released", at(0), None)]) == Lifecycle()  # type: ignore[list-item]
