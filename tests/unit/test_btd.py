"""The bundled btd playbook gives exactly the grades and routes of its written definition.

The definition (the spec), as sales and marketing agreed it:

    Fields: budget (approved | planned | none), timeframe_days (whole days),
    decision_role (decision_maker | influencer | researcher), contact_me_now (yes/no;
    also true/false, 1/0, y/n). Blank means unknown. Choices ignore case and
    surrounding spaces and treat spaces and hyphens as underscores; anything else is
    unknown and reported.
    Ingredients: budget approved or planned; decision_role decision_maker or
    influencer; timeframe_days a whole number from 0 to 365 (negative or unparsable
    counts as unknown).
    A: budget approved, decision_maker, timeframe_days <= 90.
    B: all three ingredients, not A.  C: exactly two ingredients.  D: the rest.
    Route: A and B to sales, C and D to nurture; a true contact_me_now routes any
    grade to sales and keeps the grade.

``reference`` below is that text as plain Python, written without leadflow, and
Hypothesis holds ``rate()`` to it on messy input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.adapters.playbook_file import load_playbook
from leadflow.domain.rating import Rating, rate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAYBOOK = load_playbook(
    Path(__file__).resolve().parents[2] / "src" / "leadflow" / "playbooks" / "btd.yaml"
)
FIELDS = ("budget", "timeframe_days", "decision_role", "contact_me_now")

# ---------------------------------------------------------------- the reference

BUDGETS = ("approved", "planned", "none")
ROLES = ("decision_maker", "influencer", "researcher")
YES = ("yes", "true", "1", "y")
NO = ("no", "false", "0", "n")
# A number as people write it: optional sign, digits (optionally grouped by thousands
# with commas), an optional decimal part, an optional exponent. Scientific notation is
# a number: the spec is silent on it and leadflow's one number grammar accepts it.
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
# Beyond this magnitude a number is not a believable count of days: unknown and reported.
_HUGE = Decimal(10) ** 15
BLANK = object()  # a blank answer: unknown, but nothing to report about its spelling


@dataclass(frozen=True)
class Expected:
    grade: str
    route: str
    unparsable: frozenset[str]  # fields whose given value could not be read


def _choice(raw: str | None, choices: tuple[str, ...]) -> object:
    if raw is None or not raw.strip():
        return BLANK
    key = re.sub(r"[ _-]+", "_", raw.strip().lower())
    return key if key in choices else None


def _yes_no(raw: str | None) -> object:
    if raw is None or not raw.strip():
        return BLANK
    word = raw.strip().lower()
    return True if word in YES else False if word in NO else None


def _days(raw: str | None) -> object:
    if raw is None or not raw.strip():
        return BLANK
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if abs(number) > _HUGE or number != number.to_integral_value() or number < 0:
        return None
    return int(number)


def reference(facts: Mapping[str, str | None]) -> Expected:
    budget = _choice(facts.get("budget"), BUDGETS)
    role = _choice(facts.get("decision_role"), ROLES)
    days = _days(facts.get("timeframe_days"))
    now = _yes_no(facts.get("contact_me_now"))
    unparsable = frozenset(
        name
        for name, value in (
            ("budget", budget),
            ("decision_role", role),
            ("timeframe_days", days),
            ("contact_me_now", now),
        )
        if value is None
    )
    has_budget = budget in ("approved", "planned")
    has_authority = role in ("decision_maker", "influencer")
    has_timeframe = isinstance(days, int) and 0 <= days <= 365
    ingredients = sum((has_budget, has_authority, has_timeframe))
    if budget == "approved" and role == "decision_maker" and isinstance(days, int) and days <= 90:
        grade = "A"
    elif ingredients == 3:
        grade = "B"
    elif ingredients == 2:
        grade = "C"
    else:
        grade = "D"
    route = "sales" if grade in ("A", "B") or now is True else "nurture"
    return Expected(grade, route, unparsable)


def test_the_reference_reads_the_spec() -> None:
    """The reference itself, on the spec's own sentences (so a slip in it shows here)."""
    a = {"budget": "approved", "decision_role": "decision_maker", "timeframe_days": "90"}
    assert reference(a) == Expected("A", "sales", frozenset())
    assert reference({**a, "timeframe_days": "91"}).grade == "B"
    assert reference({**a, "timeframe_days": "366"}).grade == "C"
    assert reference({**a, "timeframe_days": "-1"}) == Expected(
        "C", "nurture", frozenset({"timeframe_days"})
    )
    assert reference({"budget": "none", "contact_me_now": "Y"}) == Expected(
        "D", "sales", frozenset()
    )


# ---------------------------------------------------------------- messy input


def _dress(word: str) -> st.SearchStrategy[str]:
    """A valid word as people type it: any case, padded, spaces or hyphens for underscores."""
    pads = st.sampled_from(["", " ", "  ", "\t", "\n", "\xa0"])
    separator = st.sampled_from(["_", " ", "-", " - ", "  "])
    flips = st.lists(st.booleans(), min_size=len(word), max_size=len(word))

    def build(args: tuple[str, str, list[bool], str]) -> str:
        left, sep, upper, right = args
        cased = "".join(ch.upper() if up else ch for ch, up in zip(word, upper, strict=True))
        return left + cased.replace("_", sep) + right

    return st.tuples(pads, separator, flips, pads).map(build)


BLANKS = st.sampled_from([None, "", " ", "\t", "  \n"])
EDGES = st.sampled_from([-1, 0, 1, 89, 90, 91, 364, 365, 366])
DAYS_GARBAGE = (
    "soon", "-5", "30.5", "1e2", "2.5e1", "1E1", "1e400", "9" * 20, "ASAP", "30 days", "1,00",
    "0x10", "three", "1_000", "--3", "nan", "inf", "-0", "+0",
)  # fmt: skip


def _weighted(*options: tuple[int, st.SearchStrategy[str | None]]) -> st.SearchStrategy[str | None]:
    """One of the strategies, each drawn about as often as its weight."""
    return st.one_of(*[strategy for weight, strategy in options for _ in range(weight)])


def _choice_text(choices: tuple[str, ...], garbage: list[str]) -> st.SearchStrategy[str | None]:
    return _weighted(
        (6, st.sampled_from(choices).flatmap(_dress)),
        (1, BLANKS),
        (1, st.sampled_from(garbage)),
        (1, st.text(alphabet="abcdeinoprstv _-", max_size=12)),
    )


def _days_text() -> st.SearchStrategy[str | None]:
    days = st.one_of(EDGES, EDGES, EDGES, st.integers(-400, 800), st.integers(-(10**18), 10**18))
    formats = st.sampled_from(
        ["{}", " {} ", "+{}", "{}.0", "{}.", "{:,}", "{}.5", "{}.00", "{}e0", "\t{}\n"]
    )

    def render(args: tuple[int, str]) -> str:
        n, shape = args
        if shape.startswith("+") and n < 0:
            shape = "{}"
        return shape.format(n)

    return _weighted(
        (3, st.tuples(days, formats).map(render)),
        (1, BLANKS),
        (1, st.sampled_from(DAYS_GARBAGE)),
    )


def _yes_no_text() -> st.SearchStrategy[str | None]:
    return _weighted(
        (3, st.sampled_from([*YES, *NO]).flatmap(_dress)),
        (1, BLANKS),
        (1, st.sampled_from(["maybe", "yes please", "2", "1.0", "sure", "nein", "yess"])),
    )


MESSY_LEADS = st.fixed_dictionaries(
    {
        "budget": _choice_text(BUDGETS, ["None yet", "approve", "n/a", "APPROVED!", "yes"]),
        "timeframe_days": _days_text(),
        "decision_role": _choice_text(
            ROLES, ["decisionmaker", "CEO", "decision maker?", "influencers", "unknown"]
        ),
        "contact_me_now": _yes_no_text(),
    }
)
# Leads near the top grades, where the thresholds meet: most hits on A/B/C boundaries.
NEAR_LEADS = st.fixed_dictionaries(
    {
        "budget": st.sampled_from(["approved", "approved", "planned"]).flatmap(_dress),
        "timeframe_days": st.tuples(EDGES, st.sampled_from(["{}", " {} ", "{}.0", "{:,}"])).map(
            lambda a: a[1].format(a[0])
        ),
        "decision_role": st.sampled_from(
            ["decision_maker", "decision_maker", "influencer"]
        ).flatmap(_dress),
        "contact_me_now": _yes_no_text(),
    }
)
LEADS = st.one_of(MESSY_LEADS, NEAR_LEADS)


def _parse_issues(rating: Rating) -> dict[str, str]:
    """Issues about a value that could not be read (not about a blank), by field."""
    found: dict[str, str] = {}
    for issue in rating.data_issues:
        name, _, rest = issue.partition(": ")
        if not rest.startswith("missing"):
            assert name not in found, rating.data_issues
            found[name] = issue
    return found


@given(facts=LEADS)
def test_rate_matches_the_reference_on_messy_input(facts: dict[str, str | None]) -> None:
    want = reference(facts)
    got = rate(PLAYBOOK, facts, now=NOW)
    assert (got.grade, got.route) == (want.grade, want.route), (facts, got)
    issues = _parse_issues(got)
    assert set(issues) == set(want.unparsable), (facts, got.data_issues)
    for name, issue in issues.items():
        shown = (facts[name] or "").strip(" \t\n\r\xa0")
        assert issue.startswith(f"{name}: '{shown}' is "), issue


@given(facts=LEADS, blank=BLANKS)
def test_blank_means_unknown_and_is_not_a_spelling_issue(
    facts: dict[str, str | None], blank: str | None
) -> None:
    lead = {**facts, "budget": blank, "decision_role": blank}
    want = reference(lead)
    got = rate(PLAYBOOK, lead, now=NOW)
    assert (got.grade, got.route) == (want.grade, want.route)
    assert got.grade == "D", "one ingredient at most: the timeframe"
    assert not any(i.startswith(("budget: '", "decision_role: '")) for i in got.data_issues)
    assert "budget: missing (needed for Budget approved or planned; grade A)" in got.data_issues


# ---------------------------------------------------------------- the spec as tables

A_LEAD = {"budget": "approved", "decision_role": "decision_maker"}
B_LEAD = {"budget": "planned", "decision_role": "influencer"}


@pytest.mark.parametrize(
    ("lead", "days", "grade", "route"),
    [
        (A_LEAD, "0", "A", "sales"),
        (A_LEAD, "90", "A", "sales"),
        (A_LEAD, "91", "B", "sales"),
        (A_LEAD, "365", "B", "sales"),
        (A_LEAD, "366", "C", "nurture"),
        (A_LEAD, "-1", "C", "nurture"),
        (B_LEAD, "0", "B", "sales"),
        (B_LEAD, "90", "B", "sales"),
        (B_LEAD, "365", "B", "sales"),
        (B_LEAD, "366", "C", "nurture"),
        (B_LEAD, "-1", "C", "nurture"),
    ],
)
def test_timeframe_boundaries(lead: dict[str, str], days: str, grade: str, route: str) -> None:
    got = rate(PLAYBOOK, {**lead, "timeframe_days": days}, now=NOW)
    assert (got.grade, got.route) == (grade, route)
    if days == "-1":
        assert got.data_issues == ("timeframe_days: '-1' is out of range (0 or more)",)
    else:
        assert got.data_issues == ()


@pytest.mark.parametrize(
    ("facts", "grade"),
    [
        ({"budget": "approved", "decision_role": "influencer", "timeframe_days": "10"}, "B"),
        ({"budget": "planned", "decision_role": "decision_maker", "timeframe_days": "10"}, "B"),
        ({"budget": "approved", "decision_role": "researcher", "timeframe_days": "10"}, "C"),
        ({"budget": "none", "decision_role": "decision_maker", "timeframe_days": "10"}, "C"),
        ({"budget": "approved", "decision_role": "decision_maker"}, "C"),
        ({"budget": "approved", "decision_role": "decision_maker", "timeframe_days": "soon"}, "C"),
        ({"budget": "approved", "timeframe_days": "10"}, "C"),
        ({"budget": "approved"}, "D"),
        ({"decision_role": "influencer"}, "D"),
        ({"timeframe_days": "1"}, "D"),
        ({"budget": "none", "decision_role": "researcher", "timeframe_days": "400"}, "D"),
        ({}, "D"),
    ],
)
def test_grades_count_ingredients(facts: dict[str, str], grade: str) -> None:
    assert rate(PLAYBOOK, facts, now=NOW).grade == grade


@pytest.mark.parametrize("word", ["yes", "Yes", " TRUE ", "1", "y", "Y", "true"])
@pytest.mark.parametrize(
    ("facts", "grade"),
    [
        ({**A_LEAD, "timeframe_days": "5"}, "A"),
        ({**B_LEAD, "timeframe_days": "5"}, "B"),
        ({**B_LEAD, "timeframe_days": "500"}, "C"),
        ({}, "D"),
    ],
)
def test_a_hand_raise_routes_any_grade_to_sales_and_keeps_it(
    facts: dict[str, str], grade: str, word: str
) -> None:
    got = rate(PLAYBOOK, {**facts, "contact_me_now": word}, now=NOW)
    assert (got.grade, got.route) == (grade, "sales")
    if grade in ("C", "D"):
        assert f"Route sales: Asked to be contacted now (grade {grade} alone goes to nurture)" in (
            got.reasons
        )


@pytest.mark.parametrize("word", ["no", "No", "false", "0", "n", "", None, "maybe"])
def test_without_a_hand_raise_c_and_d_stay_in_nurture(word: str | None) -> None:
    got = rate(PLAYBOOK, {**B_LEAD, "timeframe_days": "500", "contact_me_now": word}, now=NOW)
    assert (got.grade, got.route) == ("C", "nurture")


def test_the_issues_for_a_messy_lead_name_each_field_and_value() -> None:
    got = rate(
        PLAYBOOK,
        {
            "budget": "Approved!",
            "decision_role": "CEO",
            "timeframe_days": "soon",
            "contact_me_now": "maybe",
        },
        now=NOW,
    )
    assert got.data_issues == (
        "budget: 'Approved!' is not one of approved, planned, none",
        "timeframe_days: 'soon' is not a whole number",
        "decision_role: 'CEO' is not one of decision_maker, influencer, researcher",
        "contact_me_now: 'maybe' is not yes or no",
    )
    assert (got.grade, got.route) == ("D", "nurture")


def test_reasons_explain_the_grade_in_the_playbooks_words() -> None:
    got = rate(PLAYBOOK, {**A_LEAD, "timeframe_days": " 30 "}, now=NOW)
    assert got.reasons == (
        "Budget approved or planned: budget=approved (+1 qualification)",
        "Purchase within a year: timeframe_days=30 (+1 qualification)",
        "Decides or influences: decision_role=decision_maker (+1 qualification)",
        "Grade A: Approved budget, the decision maker, and a purchase within 90 days.",
        "Route sales: grade A goes to sales",
    )
    assert got.score == 3.0
