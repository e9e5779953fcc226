"""Lifecycle stages in the playbook: the format, its errors, the default model, the lint.

Each test starts from a playbook whose stages are clean, changes one thing,
and asserts what that change causes: an error at its line, or one finding.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadflow.adapters.playbook_file import load_playbook
from leadflow.domain import expr
from leadflow.domain.playbook import Playbook
from leadflow.domain.stages import DEFAULT_STAGES, EVENTS
from leadflow.errors import PlaybookError, PlaybookProblem
from leadflow.services.check import CheckReport, check_file
from leadflow.services.definitions import render_definitions

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

RATING = """\
name: Stages
fields:
  budget:
    type: choice
    question: Is there a budget?
    choices: [approved, none]
criteria:
  qualification:
    has_budget:
      label: Has a budget
      when: budget == approved
      points: 10
grades:
  - grade: A
    when: has_budget
  - grade: B
route:
  sales: [A]
  nurture: [B]
examples:
  - name: a budget
    facts: {budget: approved}
    expect: {grade: A, route: sales}
  - name: no budget
    facts: {budget: none}
    expect: {grade: B, route: nurture}
"""

STAGES = """\
stages:
  - name: inquiry
    type: inquiry
    definition: Raised a hand.
    on: [inquiry]
    next: [prospect, lead]
  - name: prospect
    type: nurture
    definition: Not ready to talk to sales.
    when: route == nurture
    next: [lead, closed]
  - name: lead
    type: sales-accepted
    definition: Sales works it.
    on: [sales_accepted]
    when: grade == A
    next: [prospect, closed]
  - name: closed
    type: won
    definition: Signed.
    on: [won]
"""
CLEAN = RATING + STAGES


def edited(old: str, new: str, text: str = CLEAN) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, snippet: str) -> int:
    return text[: text.index(snippet)].count("\n") + 1


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stages.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Playbook:
    return load_playbook(write(tmp_path, text))


def only_problem(tmp_path: Path, text: str) -> PlaybookProblem:
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path, text)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def check(tmp_path: Path, text: str) -> CheckReport:
    return check_file(write(tmp_path, text), NOW)


# ---------------------------------------------------------------- the format


def test_the_clean_stages_compile_in_order_with_their_meaning(tmp_path: Path) -> None:
    pb = load(tmp_path, CLEAN)
    assert not pb.stages.default
    assert [s.name for s in pb.stages.stages] == ["inquiry", "prospect", "lead", "closed"]
    lead = pb.stages["lead"]
    assert (lead.label, lead.type, lead.owner, lead.next) == (
        "Lead",
        "sales-accepted",
        "sales",
        ("prospect", "closed"),
    )
    assert pb.stages.initial.name == "inquiry"
    assert pb.stages["closed"].terminal and not lead.terminal


def test_entry_criteria_need_the_event_and_the_condition(tmp_path: Path) -> None:
    lead = load(tmp_path, CLEAN).stages["lead"]
    assert lead.admits("sales_accepted", {"grade": "a"})
    assert not lead.admits("sales_accepted", {"grade": "b"})
    assert not lead.admits("sales_accepted", {})  # the grade unknown: not true, so no
    assert not lead.admits("won", {"grade": "a"})
    assert not lead.admits(None, {"grade": "a"})


def test_a_condition_only_stage_is_entered_on_a_change_of_rating(tmp_path: Path) -> None:
    prospect = load(tmp_path, CLEAN).stages["prospect"]
    assert prospect.admits(None, {"route": "nurture"})
    assert prospect.admits("activity", {"route": "nurture"})
    assert not prospect.admits(None, {"route": "sales"})


def test_the_owner_defaults_to_the_side_of_the_type_and_can_be_set(tmp_path: Path) -> None:
    pb = load(tmp_path, edited("    type: won\n", "    type: won\n    owner: marketing\n"))
    assert pb.stages["prospect"].owner == "marketing"
    assert pb.stages["closed"].owner == "marketing"


def test_an_unknown_next_stage_is_an_error_at_its_line_with_a_suggestion(tmp_path: Path) -> None:
    text = edited("next: [lead, closed]", "next: [lead, clsoed]")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "next: [lead, clsoed]")
    assert problem.field == "stages[1].next[1]"
    assert problem.message == "unknown stage 'clsoed' (did you mean 'closed'?)"


def test_an_unknown_event_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    text = edited("on: [sales_accepted]", "on: [sales_acepted]")
    problem = only_problem(tmp_path, text)
    assert problem.line == line_of(text, "on: [sales_acepted]")
    assert problem.field == "stages[2].on[0]"
    assert problem.message == "unknown event 'sales_acepted' (did you mean 'sales_accepted'?)"


def test_an_event_nothing_like_a_known_one_lists_the_known_events(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("on: [won]", "on: [signature]"))
    assert problem.message == f"unknown event 'signature' (known: {', '.join(EVENTS)})"


def test_a_stage_name_used_twice_is_an_error(tmp_path: Path) -> None:
    text = edited("  - name: closed\n", "  - name: lead\n")
    with pytest.raises(PlaybookError) as caught:
        load(tmp_path, text)
    messages = [(p.field, p.message) for p in caught.value.problems]
    assert ("stages[3].name", "stage 'lead' is listed twice (first at [2])") in messages


def test_no_inquiry_stage_is_an_error(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("    type: inquiry\n", "    type: nurture\n"))
    assert problem.field == "stages"
    assert problem.line == line_of(CLEAN, "stages:")
    assert "no stage has type inquiry" in problem.message


def test_two_inquiry_stages_are_an_error_at_the_second(tmp_path: Path) -> None:
    text = edited("    type: nurture\n", "    type: inquiry\n")
    problem = only_problem(tmp_path, text)
    assert problem.field == "stages[1].type"
    assert problem.line == line_of(text, "    type: inquiry\n    definition: Not ready")
    assert "a second stage of type inquiry ('inquiry' is the first)" in problem.message


def test_a_stage_that_moves_to_itself_is_an_error(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("next: [lead, closed]", "next: [lead, prospect]"))
    assert (problem.field, problem.message) == (
        "stages[1].next[1]",
        "stage 'prospect' cannot move to itself",
    )


def test_a_next_stage_listed_twice_is_an_error(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("next: [lead, closed]", "next: [lead, lead]"))
    assert (problem.field, problem.message) == ("stages[1].next[1]", "stage 'lead' is listed twice")


def test_a_grade_the_playbook_does_not_have_is_an_error(tmp_path: Path) -> None:
    text = edited("when: grade == A", "when: grade == E")
    problem = only_problem(tmp_path, text)
    assert problem.field == "stages[2].when"
    assert problem.line == line_of(text, "when: grade == E")
    assert "'E' is not a choice of grade (a, b)" in problem.message


def test_a_stage_condition_may_use_fields_criteria_and_scores(tmp_path: Path) -> None:
    text = edited("when: grade == A", "when: has_budget and score >= 10 and budget == approved")
    lead = load(tmp_path, text).stages["lead"]
    env = {"has_budget": True, "score": 10.0, "budget": "approved"}
    assert lead.admits("sales_accepted", env)


def test_a_misspelt_stage_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    text = edited("next: [lead, closed]", "nxt: [lead, closed]")
    problem = only_problem(tmp_path, text)
    assert problem.field == "stages[1].nxt"
    assert problem.message == "unknown key 'nxt' (did you mean 'next'?)"


def test_an_unknown_type_is_an_error_naming_the_types(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("type: won", "type: closed_won"))
    assert problem.field == "stages[3].type"
    assert "'marketing-qualified'" in problem.message


def test_a_stage_needs_a_written_definition(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edited("    definition: Signed.\n", ""))
    assert (problem.field, problem.message) == ("stages[3]", "required key 'definition' is missing")


def test_an_empty_list_of_stages_is_an_error(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, RATING + "stages: []\n")
    assert problem.field == "stages"
    assert "at least one stage is needed" in problem.message


def test_a_field_hidden_by_the_leads_rating_is_an_error_when_a_stage_uses_it(
    tmp_path: Path,
) -> None:
    with_field = edited("fields:\n", "fields:\n  route:\n    type: text\n")
    problem = only_problem(tmp_path, with_field)
    assert problem.field == "stages[1].when"
    assert "'route' here is the lead's route" in problem.message
    # Without stages of its own, the playbook gets the default model, which means the rating.
    assert load(tmp_path, edited("fields:\n", "fields:\n  route:\n    type: text\n", RATING))


# ---------------------------------------------------------------- the default model


def test_a_playbook_without_stages_gets_the_default_model(tmp_path: Path) -> None:
    pb = load(tmp_path, RATING)
    assert pb.stages.default
    assert [(s.name, s.type, s.owner) for s in pb.stages.stages] == [
        ("inquiry", "inquiry", "marketing"),
        ("prospect", "nurture", "marketing"),
        ("marketing_qualified", "marketing-qualified", "marketing"),
        ("sales_accepted", "sales-accepted", "sales"),
        ("sales_qualified", "sales-qualified", "sales"),
        ("opportunity", "opportunity", "sales"),
        ("won", "won", "sales"),
        ("lost", "lost", "sales"),
        ("recycled", "recycled", "marketing"),
        ("disqualified", "disqualified", "marketing"),
    ]
    assert all(len(s.definition) > 20 for s in pb.stages.stages)
    assert pb.stages["marketing_qualified"].admits(None, {"route": "sales"})
    assert pb.stages["sales_accepted"].admits("sales_accepted", {})
    assert set(pb.stages["recycled"].on) == {"sales_rejected", "recycled"}


def test_the_default_model_is_not_part_of_the_version(tmp_path: Path) -> None:
    """The version hashes what the file says; adding the default stages by hand changes it."""
    assert load(tmp_path, RATING).version != load(tmp_path, CLEAN).version


def test_the_default_model_lints_clean(tmp_path: Path) -> None:
    report = check(tmp_path, RATING)
    assert report.warnings == []
    assert not [n for n in report.notes if "stage" in n]
    assert len(DEFAULT_STAGES) == 10


# ---------------------------------------------------------------- the lint


def test_the_clean_stages_lint_clean(tmp_path: Path) -> None:
    report = check(tmp_path, CLEAN)
    assert report.errors == []
    assert report.warnings == []
    assert not [n for n in report.notes if "stage" in n]


def test_a_stage_no_path_reaches_is_a_warning(tmp_path: Path) -> None:
    orphan = "  - name: orphan\n    type: nurture\n    definition: Nobody comes here.\n"
    report = check(tmp_path, CLEAN + orphan + "    next: [lead]\n")
    assert report.warnings == [
        "stage 'orphan' cannot be reached from 'inquiry': no path of next stages leads there"
    ]


def test_a_working_stage_with_no_way_out_is_a_dead_end(tmp_path: Path) -> None:
    report = check(tmp_path, edited("    next: [lead, closed]\n", ""))
    assert report.warnings == [
        "stage 'prospect' is a dead end: it lists no next stage, and a nurture stage is not "
        "final (only won, lost and disqualified are)"
    ]


def test_a_final_stage_needs_no_way_out_but_may_have_one(tmp_path: Path) -> None:
    report = check(tmp_path, CLEAN + "    next: [prospect]\n")
    assert report.warnings == []


def test_a_loop_that_never_reaches_a_final_stage_is_a_warning(tmp_path: Path) -> None:
    text = edited("next: [lead, closed]", "next: [lead]")
    text = edited("next: [prospect, closed]", "next: [prospect]", text)
    text = edited("next: [prospect, lead]", "next: [prospect, lead, closed]", text)
    report = check(tmp_path, text)
    assert report.warnings == [
        "leads in stage 'prospect' can never reach closed: every path from it goes round in a loop",
        "leads in stage 'lead' can never reach closed: every path from it goes round in a loop",
    ]


def test_a_model_without_final_stages_is_fine(tmp_path: Path) -> None:
    text = edited("next: [lead, closed]", "next: [lead]")
    text = edited("next: [prospect, closed]", "next: [prospect]", text)
    text = text[: text.index("  - name: closed")]
    assert check(tmp_path, text).warnings == []


def test_an_owner_against_the_type_is_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, edited("    type: won\n", "    type: won\n    owner: marketing\n"))
    assert report.warnings == [
        "stage 'closed' is won but owned by marketing: a won stage belongs to sales "
        "(the hand-off to sales is at sales-accepted)"
    ]


def test_no_way_back_from_sales_to_marketing_is_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, edited("next: [prospect, closed]", "next: [closed]"))
    assert report.warnings == [
        "sales cannot hand a lead back to marketing: no stage owned by sales lists a marketing "
        "stage under next (a recycled stage is the usual way back)"
    ]


def test_two_next_stages_on_the_same_event_without_a_condition_is_a_warning(
    tmp_path: Path,
) -> None:
    text = edited("    when: grade == A\n", "")
    text = edited("    on: [won]\n", "    on: [sales_accepted]\n", text)
    text = edited("next: [prospect, lead]", "next: [prospect, lead, closed]", text)
    report = check(tmp_path, text)
    assert report.warnings == [
        f"from stage '{source}', both 'lead' and 'closed' are entered when sales accepts the "
        "lead, and no condition (when) tells them apart"
        for source in ("inquiry", "prospect")
    ]
    # A condition on either one tells them apart.
    assert check(tmp_path, edited("    on: [won]\n", "    on: [sales_accepted]\n")).warnings == []


def test_a_stage_without_entry_criteria_is_a_note(tmp_path: Path) -> None:
    report = check(tmp_path, edited("    on: [won]\n", ""))
    assert report.warnings == []
    assert "stage 'closed' has no entry criteria (on, when): a person moves leads into it" in (
        report.notes
    )


# ---------------------------------------------------------------- the examples


@pytest.mark.parametrize(("name", "count"), [("three-stage", 3), ("fifteen-stage", 15)])
def test_the_stage_examples_pass_check(name: str, count: int) -> None:
    path = ROOT / "examples" / "playbooks" / f"{name}.yaml"
    assert path.is_symlink()
    assert path.resolve() == ROOT / "src" / "leadflow" / "playbooks" / f"{name}.yaml"
    report = check_file(path, NOW)
    assert report.errors == []
    assert report.warnings == []
    assert report.ok(strict=True)
    assert report.playbook is not None
    assert len(report.playbook.stages.stages) == count
    assert not report.playbook.stages.default


# ---------------------------------------------------------------- the definitions document


def test_the_definitions_document_shows_each_stage(tmp_path: Path) -> None:
    html = render_definitions(load(tmp_path, CLEAN))
    section = html[html.index('<section id="stages">') :]
    section = section[: section.index("</section>")]
    for text in (
        "Not ready to talk to sales.",
        "when the route is nurture",
        "when sales accepts the lead, if the grade is A",
        "sales-accepted",
        "Prospect, Closed",
    ):
        assert text in section, text
    assert "default stages" not in section


def test_the_definitions_document_shows_the_default_model(tmp_path: Path) -> None:
    html = render_definitions(load(tmp_path, RATING))
    assert "This playbook uses leadflow's default stages." in html
    assert "Marketing qualified lead" in html
    assert "when the deal is lost" in html


def test_a_manual_stage_reads_as_moved_by_a_person(tmp_path: Path) -> None:
    pb = load(tmp_path, edited("    on: [won]\n", ""))
    assert pb.stages["closed"].entry_words(pb.stage_scope) == "moved here by a person"
    condition = pb.stages["prospect"].condition
    assert condition is not None
    assert expr.words(condition, pb.stage_scope) == "the route is nurture"
