"""Messy input becomes a typed fact, or unknown with an issue naming the field and the value.

Each field type is exercised through ``FieldDef.normalise`` of a small playbook,
the one door both rating paths go through, and through the shared helpers of
``leadflow.domain.values``.
"""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.domain.playbook import FieldDef
from leadflow.domain.values import choice_key, clean, parse_date, parse_number

PLAYBOOK = """\
name: Values
fields:
  role:
    type: choice
    choices: [decision_maker, influencer, researcher]
    synonyms: {boss: decision_maker, "C-Level": decision_maker}
  country:
    type: choice
    choices: [us, gb, other]
    synonyms: {usa: us}
    unlisted: other
  days:
    type: integer
    min: 0
  seats:
    type: integer
    min: 1
    max: 500
  revenue:
    type: number
  keen:
    type: boolean
    synonyms: {please: yes, never: no}
  region:
    type: text
    lowercase: true
    synonyms: {north america: na}
  note:
    type: text
  renewal:
    type: date
grades:
  - grade: A
route:
  nurture: [A]
"""
FIELDS = parse_playbook(PLAYBOOK, "values.yaml").fields


def field(name: str) -> FieldDef:
    return FIELDS[name]


def value_of(name: str, raw: object) -> object:
    parsed = field(name).normalise(raw)
    assert parsed.issue is None, parsed.issue
    return parsed.value


def issue_of(name: str, raw: object) -> str:
    parsed = field(name).normalise(raw)
    assert parsed.value is None, f"{raw!r} should be unknown, got {parsed.value!r}"
    assert parsed.issue is not None, f"{raw!r} should be reported"
    return parsed.issue


# ---------------------------------------------------------------- trimming and blanks


@pytest.mark.parametrize("raw", [None, "", " ", "\t", " \n\r ", "\xa0", float("nan")])
def test_blank_is_unknown_without_an_issue(raw: object) -> None:
    for name in FIELDS:
        parsed = field(name).normalise(raw)
        assert (parsed.value, parsed.issue) == (None, None), (name, raw)


def test_clean_trims_both_ends_and_keeps_the_inside() -> None:
    assert clean("  two  words \t") == "two  words"
    assert clean("\xa0x\xa0") == "x"
    assert clean(30) == "30"
    assert clean("   ") is None


# ---------------------------------------------------------------- choices


@pytest.mark.parametrize(
    "raw",
    [
        "decision_maker",
        "Decision Maker",
        "decision-maker",
        "DECISION-MAKER",
        "  decision maker  ",
        "Decision - Maker",
        "decision\xa0maker",
    ],
)
def test_choice_spaces_hyphens_and_case_equal_the_underscore_form(raw: str) -> None:
    assert value_of("role", raw) == "decision_maker"


@pytest.mark.parametrize("raw", ["Boss", " boss ", "c-level", "C LEVEL", "c_level"])
def test_choice_synonyms_match_like_choices(raw: str) -> None:
    assert value_of("role", raw) == "decision_maker"


@pytest.mark.parametrize("raw", ["decisionmaker", "CEO", "decision maker!", "n/a", "yes"])
def test_a_word_that_is_no_choice_is_unknown_and_reported(raw: str) -> None:
    issue = issue_of("role", raw)
    assert issue.startswith("role: ")
    assert f"'{raw}'" in issue
    assert "decision_maker, influencer, researcher" in issue


def test_the_issue_quotes_the_value_trimmed() -> None:
    assert issue_of("role", "  CEO  ") == (
        "role: 'CEO' is not one of decision_maker, influencer, researcher"
    )


def test_choice_key_folds_runs_of_separators() -> None:
    assert choice_key("Decision - Maker") == "decision_maker"
    assert choice_key("a__b") == "a_b"
    assert choice_key("A b-C_d") == "a_b_c_d"


def test_an_unlisted_choice_takes_every_other_answer_without_an_issue() -> None:
    assert value_of("country", "Narnia") == "other"
    assert value_of("country", " U.S.A. ") == "other"
    assert value_of("country", "USA") == "us"
    assert value_of("country", "GB") == "gb"


def test_an_unlisted_choice_does_not_fill_a_blank() -> None:
    assert field("country").normalise("  ").value is None


# ---------------------------------------------------------------- booleans


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("YES", True),
        (" Yes ", True),
        ("no", False),
        ("No", False),
        ("true", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("1", True),
        ("0", False),
        ("y", True),
        ("Y", True),
        ("n", False),
        ("N", False),
        (True, True),
        (False, False),
        ("please", True),
        ("Never", False),
    ],
)
def test_boolean_words(raw: object, expected: bool) -> None:
    assert value_of("keen", raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "yes please", "2", "1.0", "nope"])
def test_a_boolean_that_is_not_yes_or_no_is_unknown_and_reported(raw: str) -> None:
    assert issue_of("keen", raw) == f"keen: '{raw}' is not yes or no"


@pytest.mark.parametrize("raw", ["-1", "-0"])
def test_a_negative_number_is_not_a_boolean(raw: str) -> None:
    assert issue_of("keen", raw) == f"keen: '{raw}' is not yes or no"


# ---------------------------------------------------------------- integers and numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30", 30),
        (" 30 ", 30),
        ("+30", 30),
        ("30.0", 30),
        ("30.", 30),
        ("1,000", 1000),
        ("1,000,000", 1_000_000),
        ("0", 0),
        ("-0", 0),
        (30, 30),
        (30.0, 30),
    ],
)
def test_integers_accepted(raw: object, expected: int) -> None:
    value = value_of("days", raw)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize("raw", ["30.5", "soon", "30 days", "1,00", "0x10", "1_000", "--1", "nan"])
def test_an_integer_that_is_not_whole_is_unknown_and_names_field_and_value(raw: str) -> None:
    assert issue_of("days", raw) == f"days: '{raw}' is not a whole number"


def test_below_min_is_unknown_and_says_the_range() -> None:
    assert issue_of("days", "-5") == "days: '-5' is out of range (0 or more)"


@pytest.mark.parametrize(("raw", "bound"), [("0", "1 to 500"), ("501", "1 to 500")])
def test_outside_min_and_max_is_unknown(raw: str, bound: str) -> None:
    assert issue_of("seats", raw) == f"seats: '{raw}' is out of range ({bound})"


@pytest.mark.parametrize("raw", ["1", "500", "250"])
def test_the_bounds_themselves_are_in_range(raw: str) -> None:
    assert value_of("seats", raw) == int(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2.5", 2.5), ("-3.25", -3.25), (".5", 0.5), ("1e3", 1000.0), ("12,345.6", 12345.6)],
)
def test_numbers_accepted(raw: str, expected: float) -> None:
    assert value_of("revenue", raw) == expected


@pytest.mark.parametrize("raw", ["inf", "-inf", "nan", "twelve"])
def test_wordy_numbers_are_unknown(raw: str) -> None:
    assert issue_of("revenue", raw).startswith(f"revenue: '{raw}' is not")


@pytest.mark.parametrize("raw", ["1e400", "10000000000000000", "-2e15"])
def test_huge_numbers_are_out_of_range(raw: str) -> None:
    assert issue_of("revenue", raw).startswith(f"revenue: '{raw}' is out of range")


def test_parse_number_helper() -> None:
    assert parse_number("1,234") == 1234.0
    assert parse_number("+7") == 7.0
    assert parse_number("1,2345") is None
    assert parse_number("1e16") == 1e16  # the field bounds it, with an out-of-range issue
    assert parse_number("") is None


# ---------------------------------------------------------------- text and dates


def test_text_keeps_the_words_trimmed() -> None:
    assert value_of("note", "  Call Me  Maybe ") == "Call Me  Maybe"


def test_lowercase_text_and_its_synonyms() -> None:
    assert value_of("region", " EMEA ") == "emea"
    assert value_of("region", "North-America") == "na"


@pytest.mark.parametrize(("raw", "expected"), [("2024-02-29", date(2024, 2, 29))])
def test_dates(raw: str, expected: date) -> None:
    assert value_of("renewal", raw) == expected


@pytest.mark.parametrize("raw", ["2023-02-29", "2024-13-01", "2024/01/05", "20240105", "soon"])
def test_an_impossible_date_is_unknown_and_reported(raw: str) -> None:
    assert issue_of("renewal", raw) == f"renewal: '{raw}' is not a date (YYYY-MM-DD)"


def test_parse_date_helper() -> None:
    assert parse_date("2026-11-23") == date(2026, 11, 23)
    assert parse_date("2026-11-31") is None
