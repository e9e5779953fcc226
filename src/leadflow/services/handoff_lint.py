"""Lint the hand-off rules: SLAs that never apply or are missing, escalations that cannot
run, managers nobody can reach, sales-ready leads no team takes.

Problems that stop the playbook from loading (a team listed twice, an SLA for a grade
that does not exist, bad working hours) are errors of the compiler; what is found here
is legal but probably a mistake: warnings.
"""

from __future__ import annotations

from leadflow.adapters.identity.emails import normalise_email
from leadflow.domain.playbook import Playbook

KINDS = {"accept": "accept", "first_contact": "first-contact"}


def lint_handoff(pb: Playbook) -> list[str]:
    """Warnings about ``routing:``, ``slas:`` and ``handoff:``."""
    warnings = _slas_for_nurture(pb) + _sales_grades_without_sla(pb) + _idle_escalation(pb)
    return warnings + _managers(pb) + _no_team_for_some(pb)


def _to_sales_anyway(pb: Playbook) -> bool:
    return any(o.to == "sales" for o in pb.overrides)


def _slas_for_nurture(pb: Playbook) -> list[str]:
    if _to_sales_anyway(pb):
        return []  # an override may send a lead of any grade to sales: its SLA applies
    return [
        f"slas.grades.{grade}: grade {grade} goes to nurture and no override sends leads to "
        "sales, so its SLA never applies"
        for grade in pb.handoff.slas
        if pb.routes.get(grade) == "nurture"
    ]


def _sales_grades_without_sla(pb: Playbook) -> list[str]:
    if not pb.handoff.slas:
        return []  # a playbook without SLAs at all gives no deadlines, on purpose
    missing = [g for g, route in pb.routes.items() if route == "sales" and g not in pb.handoff.slas]
    return [
        f"grade {grade} goes to sales but has no SLA (slas.grades.{grade}): its leads have no "
        "deadline to be accepted or contacted"
        for grade in missing
    ]


def _idle_escalation(pb: Playbook) -> list[str]:
    out = []
    slas = pb.handoff.slas.values()
    for kind, actions in pb.handoff.escalation.items():
        if not actions:
            continue
        if kind == "accept":
            timed = any(s.accept_minutes is not None for s in slas)
        else:
            timed = any(s.first_contact_minutes is not None for s in slas)
        if not timed:
            out.append(
                f"slas.escalation.{kind} never runs: no grade has a {KINDS[kind]} SLA "
                f"(slas.grades.GRADE.{kind})"
            )
    return out


def _managers(pb: Playbook) -> list[str]:
    out = []
    for team in pb.handoff.teams:
        if team.manager is not None and normalise_email(team.manager)[0] is None:
            out.append(
                f"team '{team.name}': manager '{team.manager}' is not an email address, "
                "so a missed SLA cannot be told to them"
            )
    told = any("notify_manager" in actions for actions in pb.handoff.escalation.values())
    if told and not pb.spec.routing.teams:
        out.append(
            "a missed SLA notifies the team's manager, but the playbook names no team, so "
            "there is no manager to tell (routing.teams[].manager)"
        )
    elif told:
        unmanaged = [t.name for t in pb.handoff.teams if t.manager is None]
        if unmanaged:
            out.append(
                "a missed SLA notifies the team's manager, but "
                + ", ".join(f"'{name}'" for name in unmanaged)
                + (" has" if len(unmanaged) == 1 else " have")
                + " no manager (routing.teams[].manager)"
            )
    return out


def _no_team_for_some(pb: Playbook) -> list[str]:
    teams = pb.handoff.teams
    if not teams or teams[-1].test is None:
        return []
    return [
        f"every team has a condition (when): a sales-ready lead that fits none of them waits "
        f"unowned; add a last team without one (after '{teams[-1].name}')"
    ]
