"""``leadflow check``: lints fire when they should, examples are held to their promise.

Each lint test starts from a playbook that is clean (no warnings), changes one
thing, and asserts the one finding that change causes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadflow.services.check import CheckReport, check_file

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAYBOOKS = Path(__file__).resolve().parents[2] / "src" / "leadflow" / "playbooks"

CLEAN = """\
name: Lint
fields:
  budget:
    type: choice
    question: Is there a budget?
    choices: [approved, planned, none]
  days:
    type: integer
    question: When do you buy?
    min: 0
  size:
    type: integer
    min: 1
criteria:
  qualification:
    has_budget:
      label: Has a budget
      when: budget in (approved, planned)
      points: 10
    soon:
      label: Buys within 30 days
      when: days <= 30
      points: 10
  fit:
    big:
      label: 100 people or more
      when: size >= 100
      points: 10
grades:
  - grade: A
    when: has_budget and soon
  - grade: B
    when: budget == none and big
  - grade: C
route:
  sales: [A, B]
  nurture: [C]
examples:
  - name: budget and soon
    facts: {budget: approved, days: 10}
    expect: {grade: A, route: sales}
  - name: big, no budget
    facts: {budget: none, size: 500}
    expect: {grade: B, route: sales, score: 10}
  - name: nothing known
    facts: {}
    expect: {grade: C, route: nurture}
"""


def check(tmp_path: Path, text: str) -> CheckReport:
    path = tmp_path / "lint.yaml"
    path.write_text(text, encoding="utf-8")
    return check_file(path, NOW)


def edited(old: str, new: str, text: str = CLEAN) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_clean_playbook_is_clean(tmp_path: Path) -> None:
    report = check(tmp_path, CLEAN)
    assert (report.errors, report.warnings, report.notes) == ([], [], [])
    assert report.ok(strict=True)
    assert [e.passed for e in report.examples] == [True, True, True]


# ---------------------------------------------------------------- grades no lead can get


def test_a_grade_whose_rule_is_a_subset_of_an_earlier_one_is_unreachable(tmp_path: Path) -> None:
    text = edited("when: budget == none and big", "when: has_budget and soon and days <= 10")
    text = edited("facts: {budget: none, size: 500}", "facts: {budget: approved, days: 5}", text)
    text = edited("expect: {grade: B, route: sales, score: 10}", "expect: {grade: A}", text)
    report = check(tmp_path, text)
    unreachable = [w for w in report.warnings if w.startswith("grade ")]
    assert len(unreachable) == 1, report.warnings
    assert unreachable[0].startswith("grade B was given to none of ")
    assert "check its rule and the ones before it" in unreachable[0]
    assert not report.ok(strict=True)
    assert report.ok()


def test_an_impossible_rule_is_unreachable(tmp_path: Path) -> None:
    report = check(tmp_path, edited("when: budget == none and big", "when: days > 5 and days < 3"))
    assert any(w.startswith("grade B was given to none of ") for w in report.warnings)


def test_a_grade_of_a_segment_ladder_that_is_unreachable(tmp_path: Path) -> None:
    segments = (
        "segments:\n"
        "  - name: big_co\n"
        "    when: size >= 5000\n"
        "    grades:\n"
        "      - grade: A\n"
        "        when: has_budget\n"
        "      - grade: B\n"
        "        when: has_budget and soon\n"
        "      - grade: C\n"
        "grades:\n"
    )
    report = check(tmp_path, edited("grades:\n", segments))
    found = [w for w in report.warnings if w.startswith("grade ")]
    assert len(found) == 1, report.warnings
    assert found[0].startswith("grade B in segment 'big_co' was given to none of")


# ---------------------------------------------------------------- segments


SEGMENTS = "segments:\n  - name: big\n    when: size >= 100\n  - name: {name}\n    when: {when}\n"


def test_overlapping_segments(tmp_path: Path) -> None:
    text = edited("grades:\n", SEGMENTS.format(name="huge", when="size >= 1000") + "grades:\n")
    report = check(tmp_path, text)
    overlaps = [w for w in report.warnings if "overlap" in w]
    assert len(overlaps) == 1, report.warnings
    assert overlaps[0].startswith("segments 'big' and 'huge' overlap: ")
    assert overlaps[0].endswith("and 'big' takes them")


def test_disjoint_segments_do_not_overlap(tmp_path: Path) -> None:
    text = edited("grades:\n", SEGMENTS.format(name="small", when="size < 100") + "grades:\n")
    assert check(tmp_path, text).warnings == []


# ---------------------------------------------------------------- criteria counted twice


TWIN = "    soon_again:\n      label: Soon again\n      when: {when}\n      points: 5\n{where}"


def test_two_criteria_with_the_same_condition_in_one_dimension(tmp_path: Path) -> None:
    text = edited("  fit:\n", TWIN.format(when="days  <=  30", where="  fit:\n"))
    report = check(tmp_path, text)
    assert report.warnings == [
        "criteria 'soon' and 'soon_again' test the same condition and both add qualification points"
    ]


def test_the_same_condition_with_the_list_reordered(tmp_path: Path) -> None:
    twin = TWIN.format(when="budget in (planned, approved)", where="  fit:\n")
    report = check(tmp_path, edited("  fit:\n", twin))
    assert any(
        "'has_budget' and 'soon_again' test the same condition" in w for w in report.warnings
    )


def test_the_same_condition_in_different_dimensions_is_fine(tmp_path: Path) -> None:
    text = edited("      when: size >= 100\n", "      when: days <= 30\n")
    report = check(tmp_path, text)
    assert not any("same condition" in w for w in report.warnings)


def test_different_conditions_are_fine(tmp_path: Path) -> None:
    text = edited("  fit:\n", TWIN.format(when="days <= 31", where="  fit:\n"))
    assert not any("same condition" in w for w in check(tmp_path, text).warnings)


# ---------------------------------------------------------------- questions


def test_a_qualification_criterion_whose_field_has_no_question(tmp_path: Path) -> None:
    report = check(tmp_path, edited("    question: When do you buy?\n", ""))
    assert report.warnings == [
        "qualification criterion 'soon' needs days, but no question asks for it "
        "(add fields.days.question)"
    ]


def test_a_fit_criterion_needs_no_question(tmp_path: Path) -> None:
    # size has no question in CLEAN and 'big' is a fit criterion: no warning there.
    assert not any("size" in w for w in check(tmp_path, CLEAN).warnings)


# ---------------------------------------------------------------- unused choices and fields


def test_choices_no_rule_uses_are_noted(tmp_path: Path) -> None:
    report = check(
        tmp_path, edited("[approved, planned, none]", "[approved, planned, none, frozen]")
    )
    assert report.notes == ["budget: no rule uses frozen (rated like a blank answer)"]
    assert report.warnings == []


def test_fields_no_rule_uses_are_noted(tmp_path: Path) -> None:
    text = edited("  size:\n", "  note:\n    type: text\n  size:\n")
    assert check(tmp_path, text).notes == ["fields no rule uses (kept, not rated): note"]


def test_fields_the_contact_policy_reads_are_not_idle(tmp_path: Path) -> None:
    text = edited(
        "  size:\n",
        "  note:\n    type: text\n  dne:\n    type: boolean\n  zone:\n    type: text\n  size:\n",
    )
    text += (
        "contact_policy:\n  do_not_email: dne\n"
        "  quiet_hours: {start: '20:00', end: '08:00', timezone_field: zone}\n"
    )
    assert check(tmp_path, text).notes == ["fields no rule uses (kept, not rated): note"]


# ---------------------------------------------------------------- examples


def test_an_example_with_a_wrong_grade_fails_the_check(tmp_path: Path) -> None:
    report = check(tmp_path, edited("expect: {grade: A, route: sales}", "expect: {grade: B}"))
    assert not report.ok()
    [failed] = report.failed_examples
    assert failed.name == "budget and soon"
    assert failed.mismatches == ["grade: expected B, got A"]


def test_an_example_with_a_wrong_route_fails_the_check(tmp_path: Path) -> None:
    report = check(tmp_path, edited("{grade: C, route: nurture}", "{grade: C, route: sales}"))
    assert [e.mismatches for e in report.failed_examples] == [
        ["route: expected sales, got nurture"]
    ]
    assert not report.ok()


def test_an_example_with_a_wrong_score_fails_the_check(tmp_path: Path) -> None:
    report = check(tmp_path, edited("score: 10}", "score: 20}"))
    assert [e.mismatches for e in report.failed_examples] == [["score: expected 20.0, got 10.0"]]


def test_no_examples_is_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, CLEAN.split("examples:")[0])
    assert "the playbook has no examples: add a few leads with the grade they must get" in (
        report.warnings
    )
    assert report.ok() and not report.ok(strict=True)


def test_a_grade_no_example_shows_is_a_warning(tmp_path: Path) -> None:
    text = CLEAN.split("  - name: nothing known")[0]
    assert check(tmp_path, text).warnings == ["no example shows grade C"]


def test_an_example_fact_that_names_no_field_is_reported(tmp_path: Path) -> None:
    text = edited("facts: {}", "facts: {budgt: approved}")
    report = check(tmp_path, text)
    assert any("budgt" in line for line in report.errors + report.warnings)


# ---------------------------------------------------------------- playbooks that do not load


def test_a_playbook_that_does_not_load_is_an_error_with_its_line(tmp_path: Path) -> None:
    report = check(tmp_path, edited("budget == none and big", "budget == nonne and big"))
    assert not report.ok()
    assert report.playbook is None
    assert report.examples == []
    assert len(report.errors) == 1
    assert report.errors[0].startswith(
        f"{tmp_path / 'lint.yaml'}:33: grades[1].when: 'nonne' is not a choice of budget"
    )


def test_a_number_field_without_bounds_can_be_checked(tmp_path: Path) -> None:
    report = check(tmp_path, edited("    min: 1\n", ""))
    assert report.ok(strict=True)


# ---------------------------------------------------------------- the bundled playbooks


@pytest.mark.parametrize(
    "path", sorted(PLAYBOOKS.glob("*.yaml")), ids=lambda p: p.name if isinstance(p, Path) else p
)
def test_bundled_playbooks_pass_with_no_errors_and_no_warnings(path: Path) -> None:
    report = check_file(path, NOW)
    assert report.errors == []
    assert report.warnings == []
    assert report.examples, "a bundled playbook shows its grades by example"
    assert [e.mismatches for e in report.failed_examples] == []
    assert report.ok(strict=True)


def test_the_bundled_playbooks_include_btd_and_b2b_saas() -> None:
    names = {p.name for p in PLAYBOOKS.glob("*.yaml")}
    assert {"btd.yaml", "b2b-saas.yaml"} <= names
