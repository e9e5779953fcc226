"""A broken playbook gets an error that names the file, the line and the field.

Each test writes a small playbook with one thing wrong to a real file and
asserts the exact line the error points at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from leadflow.adapters.playbook_file import load_playbook
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput, PlaybookError, PlaybookProblem

# Line numbers are given on the right; tests edit one line and assert on it.
LINES = [
    "name: Errors",  # 1
    "fields:",  # 2
    "  budget:",  # 3
    "    type: choice",  # 4
    "    question: Is there a budget?",  # 5
    "    choices: [approved, planned, none]",  # 6
    "  days:",  # 7
    "    type: integer",  # 8
    "    min: 0",  # 9
    "criteria:",  # 10
    "  qualification:",  # 11
    "    has_budget:",  # 12
    "      label: Has a budget",  # 13
    "      when: budget in (approved, planned)",  # 14
    "      points: 10",  # 15
    "grades:",  # 16
    "  - grade: A",  # 17
    "    when: has_budget and days <= 90",  # 18
    "  - grade: B",  # 19
    "route:",  # 20
    "  sales: [A]",  # 21
    "  nurture: [B]",  # 22
]


def playbook_text(
    replace: dict[int, str] | None = None,
    after: dict[int, list[str]] | None = None,
    drop: tuple[int, ...] = (),
) -> str:
    """The base playbook with line ``n`` replaced, lines inserted after ``n``, or dropped."""
    out: list[str] = []
    for number, line in enumerate(LINES, start=1):
        if number not in drop:
            out.append((replace or {}).get(number, line))
        out.extend((after or {}).get(number, []))
    return "\n".join(out) + "\n"


def load(tmp_path: Path, text: str) -> Playbook:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return load_playbook(path)


def problems_of(tmp_path: Path, text: str) -> list[PlaybookProblem]:
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path, text)
    error = caught.value
    assert error.file == str(tmp_path / "broken.yaml")
    for problem in error.problems:
        assert problem.file == str(tmp_path / "broken.yaml")
        assert str(problem) in str(error)
    return error.problems


def only_problem(tmp_path: Path, text: str) -> PlaybookProblem:
    found = problems_of(tmp_path, text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_base_playbook_loads(tmp_path: Path) -> None:
    pb = load(tmp_path, playbook_text())
    assert [g.label for g in pb.grades] == ["A", "B"]


def test_a_problem_reads_file_line_field_message(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={18: "    when: has_budget and"}))
    assert str(problem) == (
        f"{tmp_path / 'broken.yaml'}:18: grades[0].when: expected a value or a name, "
        "found the end (at character 15) in condition: has_budget and"
    )


# ---------------------------------------------------------------- YAML syntax


@pytest.mark.parametrize(
    ("line", "text", "fragment"),
    [
        (18, "    when: has_budget: and days", "mapping values are not allowed here"),
        (8, "    type: @integer", "cannot start any token"),
        (8, "\ttype: integer", "cannot start any token"),
        # An unclosed bracket is reported where it opens, not where the parser gave up.
        (6, "    choices: [approved, planned, none", "YAML syntax"),
    ],
)
def test_bad_yaml_syntax_names_the_line(
    tmp_path: Path, line: int, text: str, fragment: str
) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={line: text}))
    assert fragment in problem.message
    assert problem.message.startswith("YAML syntax: ")
    assert problem.line == line
    if line == 6:  # and says where the parser noticed it
        assert "at line 7" in problem.message


def test_an_unclosed_quote_points_at_where_it_opens(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={1: "name: 'Errors"}))
    assert problem.line == 1
    assert "quoted scalar" in problem.message


def test_an_empty_file_is_not_a_playbook(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, "")
    assert (problem.line, problem.message) == (1, "a playbook is a mapping of keys (name:, ...)")


# ---------------------------------------------------------------- keys


def test_an_unknown_top_level_key_with_a_suggestion(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={22: ["grdes: []"]}))
    assert (problem.line, problem.field) == (23, "grdes")
    assert problem.message == "unknown key 'grdes' (did you mean 'grades'?)"


def test_an_unknown_nested_key_with_a_suggestion(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={4: ["    typo: x"]}))
    assert (problem.line, problem.field) == (5, "fields.budget.typo")
    assert problem.message == "unknown key 'typo' (did you mean 'type'?)"


def test_an_unknown_key_inside_a_list_item(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={18: ["    meening: Hot"]}))
    assert (problem.line, problem.field) == (19, "grades[0].meening")
    assert problem.message == "unknown key 'meening' (did you mean 'meaning'?)"


def test_an_unknown_key_far_from_any_gets_no_suggestion(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={15: ["      zzqqxx: 1"]}))
    assert (problem.line, problem.field) == (16, "criteria.qualification.has_budget.zzqqxx")
    assert problem.message == "unknown key 'zzqqxx'"


def test_a_suggestion_is_a_key_valid_in_that_place(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={9: ["    wen: 3"]}))
    assert problem.field == "fields.days.wen"
    assert "did you mean 'when'" not in problem.message


def test_a_missing_required_key(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(drop=(8,)))
    assert (problem.line, problem.field) == (7, "fields.days")
    assert problem.message == "required key 'type' is missing"


def test_a_wrong_value_names_the_key(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={8: "    type: integr"}))
    assert (problem.line, problem.field) == (8, "fields.days.type")
    assert "'integer'" in problem.message


def test_a_duplicate_key(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={8: ["    type: text"]}))
    assert (problem.line, problem.field) == (9, "fields.days.type")
    assert problem.message == "key appears twice (first at line 8)"


def test_a_duplicate_top_level_key(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={22: ["name: Again"]}))
    assert (problem.line, problem.field) == (23, "name")
    assert problem.message == "key appears twice (first at line 1)"


# ---------------------------------------------------------------- conditions


def test_an_unknown_field_in_a_criterion(tmp_path: Path) -> None:
    problem = problems_of(
        tmp_path, playbook_text(replace={14: "      when: budgt in (approved, planned)"})
    )[0]
    assert (problem.line, problem.field) == (14, "criteria.qualification.has_budget.when")
    assert problem.message.startswith(
        "unknown name 'budgt' (known here: budget, days) (at character 1)"
    )


def test_an_unknown_name_in_a_grade_lists_criteria_and_scores(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={18: "    when: has_budgt"}))
    assert (problem.line, problem.field) == (18, "grades[0].when")
    assert (
        "known here: budget, days, has_budget, fit, qualification, engagement, score"
        in problem.message
    )


def test_bad_rule_syntax(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={18: "    when: has_budget and (days"}))
    assert (problem.line, problem.field) == (18, "grades[0].when")
    assert "expected ')', found the end (at character 21)" in problem.message


def test_a_choice_value_that_is_no_choice(tmp_path: Path) -> None:
    problem = problems_of(tmp_path, playbook_text(replace={14: "      when: budget == aproved"}))[0]
    assert (problem.line, problem.field) == (14, "criteria.qualification.has_budget.when")
    assert "'aproved' is not a choice of budget (approved, planned, none)" in problem.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems_of(
        tmp_path,
        playbook_text(replace={22: "  nurture: [B, Z]", 18: "    when: dayz > 1"}),
    )
    assert [(p.line, p.field) for p in found] == [(18, "grades[0].when"), (22, "route.nurture[1]")]
    found = problems_of(tmp_path, playbook_text(replace={9: "    min: x", 13: "      lable: L"}))
    assert [(p.line, p.field) for p in found] == [
        (9, "fields.days.min"),
        (12, "criteria.qualification.has_budget"),
        (13, "criteria.qualification.has_budget.lable"),
    ]


def test_a_broken_criterion_is_reported_once(tmp_path: Path) -> None:
    found = problems_of(tmp_path, playbook_text(replace={14: "      when: budget == aproved"}))
    assert [(p.line, p.field) for p in found] == [(14, "criteria.qualification.has_budget.when")]


# ---------------------------------------------------------------- grades and routes


def test_a_grade_routed_nowhere(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(drop=(22,)))
    assert (problem.line, problem.field) == (20, "route")
    assert problem.message == "grade B has no route: list it under sales or nurture"


def test_a_grade_listed_twice(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path, playbook_text(after={18: ["  - grade: A", "    when: days <= 30"]})
    )
    assert (problem.line, problem.field) == (19, "grades[1].grade")
    assert problem.message == "grade A is listed twice"


def test_the_last_grade_with_a_when(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={19: ["    when: days > 400"]}))
    assert (problem.line, problem.field) == (20, "grades[1].when")
    assert problem.message.startswith("the last grade must have no 'when'")


def test_only_the_last_grade_may_have_no_when(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(drop=(18,)))
    assert (problem.line, problem.field) == (17, "grades[0]")
    assert problem.message == "only the last grade may have no 'when' (A)"


def test_a_grade_routed_to_both(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={22: "  nurture: [B, A]"}))
    assert (problem.line, problem.field) == (22, "route.nurture[1]")
    assert problem.message == "grade A is routed to both sales and nurture"


def test_a_route_to_an_undefined_grade(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(replace={21: "  sales: [A, Z]"}))
    assert (problem.line, problem.field) == (21, "route.sales[1]")
    assert problem.message == "grade Z is not defined in grades"


# ---------------------------------------------------------------- fields


def test_a_choice_synonym_pointing_to_a_non_choice(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={6: ["    synonyms: {ok: aproved}"]}))
    assert (problem.line, problem.field) == (7, "fields.budget.synonyms.ok")
    assert problem.message == "synonym points to 'aproved', which is not a choice"


def test_a_boolean_synonym_pointing_to_neither_yes_nor_no(tmp_path: Path) -> None:
    text = playbook_text(
        after={9: ["  keen:", "    type: boolean", "    synonyms:", "      please: maybe"]}
    )
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.field) == (13, "fields.keen.synonyms.please")
    assert problem.message == "synonym points to 'maybe', which is not yes or no"


def test_an_unlisted_choice_that_is_not_a_choice(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={6: ["    unlisted: other"]}))
    assert (problem.line, problem.field) == (7, "fields.budget.unlisted")
    assert problem.message == "'other' is not one of the choices"


def test_min_above_max(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={9: ["    max: -1"]}))
    assert (problem.line, problem.field) == (9, "fields.days.min")


def test_an_unknown_segment_in_a_criterion(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, playbook_text(after={15: ["      segments: [big]"]}))
    assert (problem.line, problem.field) == (16, "criteria.qualification.has_budget.segments")
    assert problem.message == "unknown segment 'big'"


# ---------------------------------------------------------------- YAML words stay words


def test_yes_no_on_off_stay_words(tmp_path: Path) -> None:
    text = playbook_text(
        after={9: ["  answer:", "    type: choice", "    choices: [yes, no, on, off, y, n]"]}
    )
    pb = load(tmp_path, text)
    answer = pb.fields["answer"]
    assert list(answer.choices) == ["yes", "no", "on", "off", "y", "n"]
    assert answer.normalise(" Yes ").value == "yes"
    assert answer.normalise("OFF").value == "off"


def test_yes_in_example_facts_and_dates_stay_text(tmp_path: Path) -> None:
    text = playbook_text(
        after={
            22: [
                "agreed_by: [{name: Dana, date: 2026-01-31}]",
                "examples:",
                "  - name: e",
                "    facts: {budget: yes}",
                "    expect: {grade: B}",
            ]
        }
    )
    pb = load(tmp_path, text)
    assert pb.spec.examples[0].facts == {"budget": "yes"}
    assert pb.spec.agreed_by[0].date == "2026-01-31"


def test_codes_with_leading_zeros_stay_as_written(tmp_path: Path) -> None:
    text = playbook_text(after={9: ["  code:", "    type: choice", "    choices: [010, 020]"]})
    pb = load(tmp_path, text)
    assert list(pb.fields["code"].choices) == ["010", "020"]


# ---------------------------------------------------------------- unreadable files


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_playbook(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: no such playbook file"


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Café\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="cannot read the playbook") as caught:
        load_playbook(path)
    assert not isinstance(caught.value, PlaybookError)
    assert str(path) in str(caught.value)
