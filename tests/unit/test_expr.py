"""The condition language: parse errors, binding errors, three-valued logic, plain words.

The scope is built by hand here (not from a playbook), so these tests pin the
language itself.
"""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.domain import expr

TODAY = date(2026, 11, 23)
SCOPE = expr.Scope(
    fields={
        "budget": expr.FieldInfo(
            "budget",
            "choice",
            "Budget",
            {"approved": "Approved", "planned": "Planned", "none": "None yet"},
        ),
        "role": expr.FieldInfo(
            "role",
            "choice",
            "Role",
            {"decision_maker": "Decision maker", "researcher": "Researcher"},
        ),
        "days": expr.FieldInfo("days", "integer", "Days to purchase", {}),
        "revenue": expr.FieldInfo("revenue", "number", "Revenue", {}),
        "note": expr.FieldInfo("note", "text", "Note", {}),
        "region": expr.FieldInfo("region", "text", "Region", {}, lowercase=True),
        "a": expr.FieldInfo("a", "boolean", "A", {}),
        "b": expr.FieldInfo("b", "boolean", "B", {}),
        "c": expr.FieldInfo("c", "boolean", "C", {}),
        "renewal": expr.FieldInfo("renewal", "date", "Renewal", {}),
    },
    criteria={"has_budget": "Has a budget", "soon": "Buys soon", "fits": "Fits"},
    dimensions=True,
)


def compile_(source: str) -> expr.Node:
    return expr.compile_condition(source, SCOPE)


def ev(source: str, **env: object) -> object:
    """Evaluate a condition for one lead; names left out are unknown."""
    return expr.evaluator(compile_(source))({expr.TODAY: TODAY, **env})


def words(source: str) -> str:
    return expr.words(compile_(source), SCOPE)


def error_of(source: str) -> expr.ExprError:
    with pytest.raises(expr.ExprError) as caught:
        compile_(source)
    return caught.value


# ---------------------------------------------------------------- parse errors


@pytest.mark.parametrize(
    ("source", "column", "fragment"),
    [
        ("budget $ 3", 8, "unexpected character '$'"),
        ("budget ==", 10, "found the end"),
        ("budget == approved and", 23, "found the end"),
        ("(budget == approved", 20, "expected ')'"),
        ("days <= 90 90", 12, "unexpected '90'"),
        ("budget not approved", 8, "expected 'in' after 'not'"),
        ("budget in approved", 11, "expected '(' after 'in'"),
        ("budget in (approved planned)", 21, "expected ',' or ')'"),
        ("a is maybe", 6, "expected known, unknown, true or false"),
        ("days > - x", 10, "expected a number after '-'"),
        ("renewal > 2024-02-30", 11, "2024-02-30 is not a valid date"),
        ("days >= 1 and == 2", 15, "expected a value or a name"),
    ],
)
def test_parse_errors_name_the_character(source: str, column: int, fragment: str) -> None:
    with pytest.raises(expr.ExprError) as caught:
        expr.parse(source)
    error = caught.value
    assert error.column == column, str(error)
    assert fragment in error.message
    assert str(error).endswith(f"(at character {column})")


def test_an_empty_condition_is_an_error() -> None:
    with pytest.raises(expr.ExprError, match="empty"):
        expr.parse("   ")


# ---------------------------------------------------------------- binding errors


def test_an_unknown_name_lists_the_known_names() -> None:
    error = error_of("days <= 90 and budgt == approved")
    assert error.column == 16
    assert "unknown name 'budgt'" in error.message
    known = error.message.split("known here: ")[1]
    for name in ("budget", "days", "note", "has_budget", "soon", "fit", "score"):
        assert name in known


def test_without_dimensions_the_scores_are_not_known_names() -> None:
    scope = expr.Scope(fields=SCOPE.fields, criteria={})
    with pytest.raises(expr.ExprError, match="unknown name 'score'") as caught:
        expr.compile_condition("score > 3", scope)
    assert "fit" not in caught.value.message.split("known here: ")[1]


@pytest.mark.parametrize(
    ("source", "column"),
    [("budget == aproved", 11), ("budget in (approved, pending)", 22), ("budget != 'Maybe'", 11)],
)
def test_a_choice_value_must_be_one_of_the_choices(source: str, column: int) -> None:
    error = error_of(source)
    assert error.column == column
    assert "is not a choice of budget (approved, planned, none)" in error.message


@pytest.mark.parametrize(
    ("source", "column"),
    [("note < 'b'", 6), ("budget >= approved", 8), ("a > true", 3), ("region <= 'x'", 8)],
)
def test_only_numbers_and_dates_are_ordered(source: str, column: int) -> None:
    error = error_of(source)
    assert error.column == column
    assert "compares numbers and dates only" in error.message


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("days", "this is a value, not a condition"),
        ("days == 'soon'", "expected a number value here"),
        ("budget == 3", "expected a string value here"),
        ("a == 1", "expected a bool value here"),
        ("days == revenue", "compare with a constant value"),
        ("budget is true", "'is true' needs a yes/no value"),
        ("met(budget) >= 1", "met(...) takes criterion names"),
        ("met() >= 1", "met(...) needs at least one criterion"),
        ("days_since(days) < 3", "days_since(...) takes one date field"),
        ("days_until(renewal, renewal) < 3", "days_until(...) takes one date field"),
        ("soonest(days) > 1", "unknown function 'soonest'"),
        ("days > 1 and revenue", "this is a value, not a condition"),
    ],
)
def test_type_errors(source: str, fragment: str) -> None:
    error = error_of(source)
    assert fragment in error.message
    assert error.column is not None


# ---------------------------------------------------------------- binding normalises constants


def test_choice_constants_are_normalised_like_input() -> None:
    assert ev("role == 'Decision Maker'", role="decision_maker") is True
    assert ev("role in ('decision-maker')", role="decision_maker") is True
    assert ev("budget == APPROVED", budget="approved") is True


def test_lowercase_text_constants_are_lowercased() -> None:
    assert ev("region == 'EMEA'", region="emea") is True
    assert ev("note == 'Hello'", note="hello") is False


def test_keywords_ignore_case_and_single_equals_means_equal() -> None:
    assert ev("budget = approved AND NOT (days > 30)", budget="approved", days=10) is True


# ---------------------------------------------------------------- three-valued logic

T, F, U = True, False, None
KLEENE = [(T, T), (T, F), (T, U), (F, T), (F, F), (F, U), (U, T), (U, F), (U, U)]
AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F, (U, T): U, (U, F): F}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U, (U, T): T, (U, F): U}


@pytest.mark.parametrize(("left", "right"), KLEENE)
def test_and_is_kleene(left: bool | None, right: bool | None) -> None:
    assert ev("a and b", a=left, b=right) is AND.get((left, right))


@pytest.mark.parametrize(("left", "right"), KLEENE)
def test_or_is_kleene(left: bool | None, right: bool | None) -> None:
    assert ev("a or b", a=left, b=right) is OR.get((left, right))


@pytest.mark.parametrize(("value", "expected"), [(T, F), (F, T), (U, U)])
def test_not(value: bool | None, expected: bool | None) -> None:
    assert ev("not a", a=value) is expected


def test_unknown_and_false_is_false_whichever_comes_first() -> None:
    assert ev("days > 3 and budget == approved", budget="none") is False
    assert ev("budget == approved and days > 3", budget="none") is False


def test_unknown_or_true_is_true_whichever_comes_first() -> None:
    assert ev("days > 3 or budget == approved", budget="approved") is True
    assert ev("budget == approved or days > 3", budget="approved") is True


@pytest.mark.parametrize(
    "source",
    [
        "days > 3",
        "days <= 3",
        "days == 3",
        "days != 3",
        "budget in (approved)",
        "budget not in (approved)",
        "note == 'x'",
        "not (days > 3)",
        "renewal < 2026-01-01",
    ],
)
def test_a_comparison_with_an_unknown_value_is_unknown(source: str) -> None:
    assert ev(source) is None


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("days is known", None, False),
        ("days is unknown", None, True),
        ("days is not unknown", None, False),
        ("days is known", 0, True),
        ("a is true", None, False),
        ("a is false", None, False),
        ("a is not true", None, True),
        ("a is false", False, True),
        ("a is true", False, False),
    ],
)
def test_is_tests_are_never_unknown(source: str, value: object, expected: bool) -> None:
    name = source.split()[0]
    assert ev(source, **{name: value}) is expected


def test_precedence_not_binds_tighter_than_and_than_or() -> None:
    # a or (b and c), not (a or b) and c
    assert ev("a or b and c", a=True, b=False, c=False) is True
    # (not a) and b: false and unknown is false; not (a and b) would be unknown
    assert ev("not a and b", a=True) is False


def test_in_and_not_in() -> None:
    assert ev("budget in (approved, planned)", budget="planned") is True
    assert ev("budget not in (approved, planned)", budget="planned") is False
    assert ev("budget not in (approved, planned)", budget="none") is True
    assert ev("days in (30, 60)", days=30) is True


def test_negative_and_decimal_constants() -> None:
    assert ev("revenue > -3", revenue=-2.5) is True
    assert ev("revenue >= 1.5", revenue=1.4) is False


# ---------------------------------------------------------------- met, dimensions, dates


@pytest.mark.parametrize(
    ("met", "count"),
    [
        ({"has_budget": True, "soon": True, "fits": True}, 3),
        ({"has_budget": True, "soon": False, "fits": True}, 2),
        ({"has_budget": True, "soon": None, "fits": None}, 1),
        ({}, 0),
    ],
)
def test_met_counts_criteria_that_are_true(met: dict[str, object], count: int) -> None:
    assert ev(f"met(has_budget, soon, fits) == {count}", **met) is True
    assert ev(f"met(has_budget, soon, fits) == {count + 1}", **met) is False


def test_met_is_never_unknown() -> None:
    assert ev("met(has_budget, soon) >= 0") is True


def test_criteria_and_dimensions_are_names() -> None:
    assert ev("has_budget and score >= 60 and fit > 10", has_budget=True, score=60.0, fit=10.5)
    assert ev("qualification < 1 or engagement > 0", qualification=3.0, engagement=0.0) is False


@pytest.mark.parametrize(
    ("day", "since"),
    [
        (date(2026, 11, 23), 0),
        (date(2026, 11, 22), 1),
        (date(2025, 11, 23), 365),
        (date(2026, 12, 1), -8),
    ],
)
def test_days_since_and_days_until(day: date, since: int) -> None:
    assert ev(f"days_since(renewal) == {since}", renewal=day) is True
    assert ev(f"days_until(renewal) == {-since}", renewal=day) is True
    assert ev(f"days_since(renewal) == {since + 1}", renewal=day) is False


def test_days_since_an_unknown_date_is_unknown() -> None:
    assert ev("days_since(renewal) < 30") is None
    assert ev("days_until(renewal) >= 0") is None


def test_dates_compare_with_date_constants() -> None:
    assert ev("renewal >= 2026-01-01", renewal=date(2026, 1, 1)) is True
    assert ev("renewal < 2026-01-01", renewal=date(2026, 1, 1)) is False


# ---------------------------------------------------------------- plain words


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("budget == approved", "Budget is Approved"),
        ("budget != none", "Budget is not None yet"),
        ("budget in (approved, planned)", "Budget is Approved or Planned"),
        ("budget in (approved, planned, none)", "Budget is Approved, Planned or None yet"),
        ("budget not in (none)", "Budget is not None yet"),
        ("days <= 90", "Days to purchase is at most 90"),
        ("days < 90", "Days to purchase is less than 90"),
        ("days >= 1.5", "Days to purchase is at least 1.5"),
        ("days > -3", "Days to purchase is more than -3"),
        ("a", "A: yes"),
        ("a == false", "A is no"),
        ("a is true", "A is true"),
        ("note is unknown", "Note is unknown"),
        ("note is not known", "Note is not known"),
        ("not (days > 3)", "not (Days to purchase is more than 3)"),
        ("met(has_budget, soon) == 2", "exactly 2 of: Has a budget; Buys soon"),
        ("met(has_budget, soon, fits) >= 2", "at least 2 of: Has a budget; Buys soon; Fits"),
        ("score >= 60", "the total score is at least 60"),
        (
            "fit >= 30 and qualification > 9",
            "the fit score is at least 30 and the qualification score is more than 9",
        ),
        ("days_since(renewal) < 30", "days since Renewal is less than 30"),
        ("days_until(renewal) <= 60", "days until Renewal is at most 60"),
        ("has_budget and (soon or fits)", "Has a budget and (Buys soon or Fits)"),
        ("renewal >= 2026-01-01", "Renewal is at least 2026-01-01"),
    ],
)
def test_words_render_plain_english(source: str, expected: str) -> None:
    assert words(source) == expected


def test_what_a_condition_uses() -> None:
    node = compile_("budget == approved and days_since(renewal) < 3 or met(soon, fits) >= 1")
    assert expr.fields_used(node) == ["budget", "renewal"]
    assert expr.criteria_used(node) == ["soon", "fits"]
    assert expr.choices_used(compile_("budget in (approved, planned)")) == {
        ("budget", "approved"),
        ("budget", "planned"),
    }
