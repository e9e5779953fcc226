"""The playbook's hand-off rules (``routing:``, ``slas:``, ``handoff:``) compiled, and
each mistake reported with its file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.domain.handoff import DEFAULT_REASONS, ESCALATIONS, Sla, minutes
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import evaluate
from leadflow.domain.working_hours import parse_hours
from leadflow.errors import InvalidInput, PlaybookError, PlaybookProblem

BASE = """\
name: Hand-off
fields:
  budget:
    type: choice
    question: Is there a budget?
    choices: [approved, none]
  employees:
    type: integer
  country:
    type: choice
    choices: [de, fr, us]
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

HANDOFF = """\
routing:
  teams:
    - name: enterprise
      when: employees >= 1000
      manager: anna@acme.example
    - name: emea_inside
      label: EMEA inside sales
      when: country in (de, fr) and grade == A
      method: least_loaded
    - name: inside_sales
      method: random
  account_owner: false
  territory_field: country
  outside_hours: assign
slas:
  working_hours: Europe/Berlin Mon-Fri 09:00-17:00
  grades:
    A: {accept: 30m, first_contact: 4h}
    B: {accept: 1.5h}
  escalation:
    accept: [notify_manager, reassign, notify_manager]
    first_contact: [return_to_pool]
handoff:
  reasons: {too_small: Too small, no_budget: No budget}
  recontact_after_days: 30
"""


def compile_text(text: str) -> Playbook:
    return parse_playbook(text, "handoff.yaml")


def problems(text: str) -> list[PlaybookProblem]:
    with pytest.raises(PlaybookError) as caught:
        compile_text(text)
    return caught.value.problems


def only_problem(text: str) -> PlaybookProblem:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def line_of(text: str, fragment: str, nth: int = 1) -> int:
    """The line number of the ``nth`` line that contains ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[nth - 1]


# ---------------------------------------------------------------- what compiles


def test_the_rules_compile_as_written() -> None:
    handoff = compile_text(BASE + HANDOFF).handoff
    assert [t.name for t in handoff.teams] == ["enterprise", "emea_inside", "inside_sales"]
    assert [t.label for t in handoff.teams] == ["Enterprise", "EMEA inside sales", "Inside sales"]
    assert [t.method for t in handoff.teams] == ["round_robin", "least_loaded", "random"]
    assert [t.manager for t in handoff.teams] == ["anna@acme.example", None, None]
    assert handoff.teams[0].source == "employees >= 1000"
    assert (handoff.account_owner, handoff.territory_field, handoff.prefer_working) == (
        False,
        "country",
        False,
    )
    assert handoff.working_hours == parse_hours("Europe/Berlin Mon-Fri 09:00-17:00")
    assert handoff.slas == {"A": Sla(30, 240), "B": Sla(90, None)}
    assert handoff.escalation == {
        "accept": ("notify_manager", "reassign"),  # a repeated action runs once
        "first_contact": ("return_to_pool",),
    }
    assert handoff.reasons == {"too_small": "Too small", "no_budget": "No budget"}
    assert handoff.recontact_after_days == 30


def test_a_playbook_without_hand_off_rules_gets_the_defaults() -> None:
    handoff = compile_text(BASE).handoff
    [team] = handoff.teams
    assert (team.name, team.label, team.test, team.method, team.manager) == (
        "sales",
        "Sales",
        None,
        "round_robin",
        None,
    )
    assert (handoff.account_owner, handoff.territory_field, handoff.prefer_working) == (
        True,
        None,
        True,
    )
    assert str(handoff.working_hours) == "UTC Mon-Fri 09:00-17:00"
    assert (handoff.slas, handoff.escalation) == ({}, {})
    assert handoff.reasons == DEFAULT_REASONS
    assert handoff.recontact_after_days == 90


def test_every_escalation_has_words() -> None:
    assert set(ESCALATIONS) == {"notify_manager", "reassign", "return_to_pool"}
    assert all(ESCALATIONS.values())


@pytest.mark.parametrize(
    ("facts", "team"),
    [
        ({"employees": "5000", "country": "de", "budget": "approved"}, "enterprise"),
        ({"employees": "50", "country": "de", "budget": "approved"}, "emea_inside"),
        ({"employees": "50", "country": "de", "budget": "none"}, "inside_sales"),  # grade B
        ({"employees": "50", "country": "us", "budget": "approved"}, "inside_sales"),
        ({"country": "fr", "budget": "approved"}, "emea_inside"),  # size unknown: not enterprise
        ({}, "inside_sales"),
    ],
)
def test_a_lead_goes_to_the_first_team_whose_condition_holds(
    facts: dict[str, str], team: str
) -> None:
    pb = compile_text(BASE + HANDOFF)
    _, env = evaluate(pb, facts, now=datetime(2026, 11, 23, tzinfo=UTC))
    chosen = pb.handoff.team_for(env)
    assert chosen is not None and chosen.name == team


def test_when_every_team_has_a_condition_a_lead_may_fit_none() -> None:
    text = BASE + HANDOFF.replace("    - name: inside_sales\n      method: random\n", "")
    pb = compile_text(text)
    assert pb.handoff.team_for({"employees": 10, "country": "us", "grade": "a"}) is None


def test_a_team_is_found_by_name() -> None:
    handoff = compile_text(BASE + HANDOFF).handoff
    found = handoff.team("emea_inside")
    assert found is not None and found.method == "least_loaded"
    assert handoff.team("nobody") is None


def test_a_reason_is_looked_up_and_an_unknown_one_lists_the_known() -> None:
    handoff = compile_text(BASE + HANDOFF).handoff
    assert handoff.reason("no_budget") == "No budget"
    with pytest.raises(InvalidInput) as caught:
        handoff.reason("bad_timing")
    assert caught.value.message == (
        "'bad_timing' is not a reason in the playbook; use one of: too_small, no_budget"
    )


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "value"),
    [("30m", 30), ("45min", 45), ("4h", 240), ("1.5h", 90), (" 2 h ", 120), ("0.25h", 15)],
)
def test_durations_are_working_minutes(text: str, value: float) -> None:
    assert minutes(text) == value
    pb = compile_text(BASE + f"slas:\n  grades:\n    A: {{accept: '{text}'}}\n")
    assert pb.handoff.slas["A"] == Sla(value, None)


@pytest.mark.parametrize("text", ["2d", "1 week", "h", "-1h", "30", "1,5h"])
def test_other_durations_are_refused_where_they_stand(text: str) -> None:
    playbook = BASE + f"slas:\n  grades:\n    A:\n      first_contact: '{text}'\n"
    problem = only_problem(playbook)
    assert problem.field == "slas.grades.A.first_contact"
    assert problem.line == line_of(playbook, "first_contact:")
    assert "should match pattern" in problem.message


# ---------------------------------------------------------------- mistakes, with their places


def test_a_team_listed_twice() -> None:
    text = BASE + HANDOFF.replace("name: emea_inside", "name: enterprise")
    problem = only_problem(text)
    assert problem.field == "routing.teams[1].name"
    assert problem.line == line_of(text, "name: enterprise", nth=2)
    assert problem.message == "team 'enterprise' is listed twice"


def test_a_team_for_every_lead_before_other_teams() -> None:
    text = BASE + HANDOFF.replace("      when: employees >= 1000\n", "")
    problem = only_problem(text)
    assert problem.field == "routing.teams[0].when"
    assert problem.line == line_of(text, "name: enterprise")  # no when: the team's line
    assert "takes every lead, so the teams after it get none" in problem.message
    assert "give it a 'when' or move it last" in problem.message


def test_a_team_condition_that_does_not_compile() -> None:
    text = BASE + HANDOFF.replace("method: random", "method: random\n      when: headcount > 9")
    problem = only_problem(text)
    assert problem.field == "routing.teams[2].when"
    assert problem.line == line_of(text, "headcount")
    assert "headcount" in problem.message and "in condition" in problem.message


def test_an_unknown_territory_field() -> None:
    text = BASE + HANDOFF.replace("territory_field: country", "territory_field: region")
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("routing.territory_field", line_of(text, "region"))
    assert problem.message == "'region' is not a field"


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        ("Europe/Berlin Fri-Mon 09:00-17:00", "from Monday to Sunday"),
        ("Mars/Olympus Mon-Fri 09:00-17:00", "not a time zone"),
        ("Europe/Berlin Mon-Fri 9-5", "not a span of hours"),
    ],
)
def test_bad_working_hours(hours: str, words: str) -> None:
    text = BASE + HANDOFF.replace("Europe/Berlin Mon-Fri 09:00-17:00", hours)
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("slas.working_hours", line_of(text, "working_hours"))
    assert words in problem.message


def test_an_sla_for_a_grade_that_does_not_exist() -> None:
    text = BASE + HANDOFF.replace("    B: {accept: 1.5h}", "    E: {accept: 1.5h}")
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("slas.grades.E", line_of(text, "E: {accept"))
    assert problem.message == "grade E is not defined in grades"


def test_an_sla_may_name_a_grade_of_a_segment_s_own_ladder() -> None:
    segment = (
        "segments:\n  - name: big\n    when: employees >= 1000\n    grades:\n"
        "      - grade: Z\n        when: has_budget\n      - grade: A\n"
    )
    text = BASE.replace("route:\n  sales: [A]", segment + "route:\n  sales: [A, Z]")
    pb = compile_text(text + "slas:\n  grades:\n    Z: {accept: 1h}\n")
    assert pb.handoff.slas["Z"] == Sla(60, None)


def test_reassign_and_return_to_pool_together() -> None:
    text = BASE + HANDOFF.replace("[return_to_pool]", "[reassign, return_to_pool]")
    problem = only_problem(text)
    assert problem.field == "slas.escalation.first_contact"
    assert problem.line == line_of(text, "first_contact: [reassign")
    assert problem.message == (
        "a missed SLA can reassign the lead or return it to the pool, not both"
    )


def test_an_unknown_escalation_is_refused_by_name() -> None:
    text = BASE + HANDOFF.replace("[return_to_pool]", "[call_the_ceo]")
    problem = only_problem(text)
    assert problem.field == "slas.escalation.first_contact[0]"
    assert "notify_manager" in problem.message and "reassign" in problem.message


def test_an_empty_list_of_reasons() -> None:
    text = BASE + HANDOFF.replace(
        "reasons: {too_small: Too small, no_budget: No budget}", "reasons: {}"
    )
    problem = only_problem(text)
    assert (problem.field, problem.line) == ("handoff.reasons", line_of(text, "reasons: {}"))
    assert problem.message == "list at least one reason (or leave reasons: out)"


def test_a_reason_key_must_be_an_identifier() -> None:
    text = BASE + HANDOFF.replace("too_small: Too small", "Too Small: Too small")
    problem = only_problem(text)
    assert problem.field.startswith("handoff.reasons")
    assert problem.line == line_of(text, "reasons:")


def test_every_mistake_is_reported_at_once() -> None:
    text = BASE + (
        HANDOFF.replace("name: emea_inside", "name: enterprise")
        .replace("territory_field: country", "territory_field: region")
        .replace("    B: {accept: 1.5h}", "    E: {accept: 1.5h}")
        .replace("reasons: {too_small: Too small, no_budget: No budget}", "reasons: {}")
    )
    assert [p.field for p in problems(text)] == [
        "routing.teams[1].name",
        "routing.territory_field",
        "slas.grades.E",
        "handoff.reasons",
    ]


def test_a_first_team_whose_condition_does_not_compile_is_one_problem() -> None:
    text = BASE + HANDOFF.replace("when: employees >= 1000", "when: headcount >= 1000")
    problem = only_problem(text)  # not also "takes every lead"
    assert problem.field == "routing.teams[0].when"
    assert "headcount" in problem.message
