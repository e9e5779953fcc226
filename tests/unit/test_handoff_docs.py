"""The hand-off rules for people: ``leadflow check`` warns about the likely mistakes, and
the definitions document states the routing, the SLAs, the escalation and the reasons.

Each lint test starts from a playbook whose hand-off is clean (no warnings), changes one
thing, and asserts the one finding that change causes.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_check import CLEAN, NOW  # pytest puts this folder on sys.path

from leadflow.adapters.playbook_file import load_playbook, parse_playbook
from leadflow.services.check import check_file
from leadflow.services.definitions import render_definitions, working_time

PLAYBOOKS = Path(__file__).resolve().parents[2] / "src" / "leadflow" / "playbooks"

HANDOFF = """\
routing:
  teams:
    - name: big
      label: Big accounts
      when: size >= 100
      method: least_loaded
      manager: boss@acme.example
    - name: rest
      manager: rest@acme.example
  territory_field: budget
slas:
  working_hours: Europe/Berlin Mon-Fri 09:00-17:00
  grades:
    A: {accept: 30m, first_contact: 1.5h}
    B: {accept: 4h}
  escalation:
    accept: [notify_manager, reassign]
    first_contact: [notify_manager]
handoff:
  reasons: {too_small: Too small for us, no_budget: No budget}
  recontact_after_days: 45
"""


def warnings_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "playbook.yaml"
    path.write_text(text, encoding="utf-8")
    report = check_file(path, NOW)
    assert not report.errors, report.errors
    return report.warnings


def test_the_clean_hand_off_is_clean(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, CLEAN + HANDOFF) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (
            ("    B: {accept: 4h}\n", "    B: {accept: 4h}\n    C: {accept: 1h}\n"),
            "slas.grades.C: grade C goes to nurture and no override sends leads to sales, "
            "so its SLA never applies",
        ),
        (
            ("    B: {accept: 4h}\n", ""),
            "grade B goes to sales but has no SLA (slas.grades.B): its leads have no deadline "
            "to be accepted or contacted",
        ),
        (
            ("{accept: 30m, first_contact: 1.5h}", "{accept: 30m}"),
            "slas.escalation.first_contact never runs: no grade has a first-contact SLA "
            "(slas.grades.GRADE.first_contact)",
        ),
        (
            ("manager: boss@acme.example", "manager: The boss"),
            "team 'big': manager 'The boss' is not an email address, so a missed SLA cannot "
            "be told to them",
        ),
        (
            ("      manager: rest@acme.example\n", ""),
            "a missed SLA notifies the team's manager, but 'rest' has no manager "
            "(routing.teams[].manager)",
        ),
        (
            ("    - name: rest\n", "    - name: rest\n      when: size < 100\n"),
            "every team has a condition (when): a sales-ready lead that fits none of them waits "
            "unowned; add a last team without one (after 'rest')",
        ),
    ],
)
def test_each_likely_mistake_is_one_warning(
    tmp_path: Path, change: tuple[str, str], finding: str
) -> None:
    old, new = change
    assert old in HANDOFF
    assert warnings_of(tmp_path, CLEAN + HANDOFF.replace(old, new)) == [finding]


def test_an_sla_for_a_nurture_grade_is_fine_when_an_override_sends_leads_to_sales(
    tmp_path: Path,
) -> None:
    text = CLEAN.replace(
        "  nurture: [C]\n",
        "  nurture: [C]\n  overrides:\n    - {when: size >= 5000, to: sales, reason: Huge}\n",
    ) + HANDOFF.replace("    B: {accept: 4h}\n", "    B: {accept: 4h}\n    C: {accept: 1h}\n")
    assert warnings_of(tmp_path, text) == []


def test_notify_manager_without_teams_has_nobody_to_tell(tmp_path: Path) -> None:
    text = CLEAN + "slas:\n  grades:\n    A: {accept: 1h}\n    B: {accept: 1h}\n"
    assert warnings_of(tmp_path, text) == []
    told = text + "  escalation:\n    accept: [notify_manager]\n"
    assert warnings_of(tmp_path, told) == [
        "a missed SLA notifies the team's manager, but the playbook names no team, so there "
        "is no manager to tell (routing.teams[].manager)"
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in PLAYBOOKS.glob("*.yaml")))
def test_the_bundled_hand_off_rules_are_clean(name: str) -> None:
    report = check_file(PLAYBOOKS / name, NOW)
    assert report.ok(), report.errors
    handoff_words = ("SLA", "manager", "team", "escalation")
    assert [w for w in report.warnings if any(word in w for word in handoff_words)] == []


# ---------------------------------------------------------------- the definitions document


def section(text: str) -> str:
    """The hand-off section of the document, as plain text on one line."""
    page = render_definitions(parse_playbook(text, "playbook.yaml"))
    part = page[page.index('<section id="handoff">') :]
    part = part[: part.index("</section>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", part)))


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(None, "—"), (0, "0 min"), (30, "30 min"), (60, "1 h"), (90, "1 h 30 min"), (480, "8 h")],
)
def test_working_time_reads_in_hours_and_minutes(minutes: float | None, words: str) -> None:
    assert working_time(minutes) == words


def test_the_document_states_the_teams_and_who_they_take() -> None:
    text = section(CLEAN + HANDOFF)
    for words in (
        "the rep who owns the account takes each new sales-ready lead",
        "the first team below whose rule holds",
        "reps whose territories include the lead's Budget first",  # the field's label
        "reps at work now come first",
        "Big accounts big Size is at least 100 to the rep with the fewest open leads "
        "boss@acme.example",
        "Rest rest every sales-ready lead no team above takes in turn (round robin)",
    ):
        assert words in text, words


def test_the_document_states_the_slas_in_working_time_and_the_escalation() -> None:
    text = section(CLEAN + HANDOFF)
    for words in (
        "or Mon-Fri 09:00-17:00 (Europe/Berlin time) for a rep without any",
        "Grade Accept within First contact within A 30 min 1 h 30 min B 4 h —",
        "When a lead is not accepted in time: the team's manager is told; the lead goes to "
        "the next rep of the team.",
        "When a lead is not contacted in time: the team's manager is told.",
    ):
        assert words in text, words
    assert "goes to sales with no deadline" not in text


def test_the_document_states_the_reasons_and_the_way_back() -> None:
    text = section(CLEAN + HANDOFF)
    assert "Too small for us too_small No budget no_budget" in text
    assert "is held until its recontact date (the one the rep gives, or 45 days later)" in text
    assert "returns to sales only if it still qualifies" in text


def test_a_playbook_without_hand_off_rules_states_the_defaults() -> None:
    text = section(CLEAN)
    assert "the one sales team" in text
    assert "A lead goes in turn (round robin)" in text
    assert "territories" not in text
    assert "No deadlines: this playbook sets no SLAs." in text
    assert "Did not respond no_response" in text  # leadflow's default reasons
    assert "or 90 days later" in text


def test_a_sales_grade_without_an_sla_is_named_and_pool_only_routing_reads_so() -> None:
    text = section(
        CLEAN
        + "routing:\n  account_owner: false\n  outside_hours: assign\n"
        + "slas:\n  grades:\n    A: {first_contact: 2h}\n"
    )
    assert "Grade B goes to sales with no deadline." in text
    assert "A 1 h" not in text and "A — 2 h" in text
    assert "owns the account" not in text and "at work now" not in text
    assert "A missed deadline is recorded; nothing else happens." in text


def test_the_bundled_b2b_saas_document_has_its_hand_off() -> None:
    page = render_definitions(load_playbook(PLAYBOOKS / "b2b-saas.yaml"))
    assert '<section id="handoff">' in page
    assert "Account management" in page and "dana.whitfield@example.com" in page
