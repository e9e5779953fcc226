"""The hand-off rules of a playbook, compiled: teams, SLAs and disposition reasons.

::

    routing:
      teams:
        - name: enterprise
          when: employees >= 1000          # the playbook's language; grade, segment too
          manager: anna@acme.example       # told when the team misses an SLA
        - name: inside_sales               # no when: every other lead
          method: least_loaded             # round_robin (default), least_loaded, random
      account_owner: true                  # a company with an owner keeps it
      territory_field: country             # matched against each rep's territories
    slas:
      working_hours: Europe/Berlin Mon-Fri 09:00-17:00   # when the owner has none
      grades:
        A: {accept: 1h, first_contact: 4h}   # working time
      escalation:
        accept: [notify_manager, reassign]
        first_contact: [notify_manager]
    handoff:
      reasons: {no_budget: No budget, bad_timing: Bad timing, ...}
      recontact_after_days: 90

A team is picked by the first ``when`` that holds for the lead, in the order written;
a playbook without teams has one team, ``sales``, that takes every lead. The rest of
routing (which rep within the team) is :mod:`leadflow.domain.routing`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from leadflow.domain import expr
from leadflow.domain.schema import PlaybookSpec, TeamSpec
from leadflow.domain.working_hours import WorkingHours, add_working_time, parse_hours
from leadflow.errors import InvalidInput

Where = tuple[str | int, ...]
Report = Callable[[Where, str], None]
Method = Literal["round_robin", "least_loaded", "random"]
SlaKind = Literal["accept", "first_contact"]

DEFAULT_REASONS: Mapping[str, str] = {
    "no_budget": "No budget",
    "bad_timing": "Bad timing",
    "not_a_fit": "Not a fit",
    "bad_data": "Bad data",
    "duplicate": "Duplicate",
    "in_conversation": "Already in conversation",
    "no_response": "Did not respond",
    "competitor": "Competitor or partner",
}
"""The reasons sales may give when a playbook lists none."""

ESCALATIONS: Mapping[str, str] = {
    "notify_manager": "the team's manager is told",
    "reassign": "the lead goes to the next rep of the team",
    "return_to_pool": "the lead goes back to the team's pool, without an owner",
}


@dataclass(frozen=True)
class Team:
    name: str
    label: str
    source: str | None
    test: expr.Evaluator | None
    method: Method
    manager: str | None

    def takes(self, env: expr.Env) -> bool:
        return self.test is None or self.test(env) is True


@dataclass(frozen=True)
class Sla:
    accept_minutes: float | None
    first_contact_minutes: float | None


@dataclass(frozen=True)
class Handoff:
    teams: tuple[Team, ...]
    account_owner: bool
    territory_field: str | None
    prefer_working: bool
    working_hours: WorkingHours
    slas: Mapping[str, Sla]  # grade label -> its SLA
    escalation: Mapping[SlaKind, tuple[str, ...]]
    reasons: Mapping[str, str]
    recontact_after_days: int

    def due(
        self, grade: str | None, kind: SlaKind, hours: WorkingHours | None, start: datetime
    ) -> datetime | None:
        """When the grade's ``kind`` SLA falls due for work starting at ``start``, counted
        in ``hours`` (the owner's) or the playbook's; None when the grade has no such SLA."""
        sla = self.slas.get(grade) if grade is not None else None
        limit = (
            None
            if sla is None
            else (sla.accept_minutes if kind == "accept" else sla.first_contact_minutes)
        )
        if limit is None:
            return None
        return add_working_time(hours or self.working_hours, start, limit)

    def team_for(self, env: expr.Env) -> Team | None:
        return next((t for t in self.teams if t.takes(env)), None)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def reason(self, key: str) -> str:
        """The reason's label; InvalidInput naming the known ones when it is not listed."""
        if key not in self.reasons:
            known = ", ".join(self.reasons)
            raise InvalidInput(f"'{key}' is not a reason in the playbook; use one of: {known}")
        return self.reasons[key]


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h)\s*$")


def minutes(text: str) -> float:
    """``30m`` -> 30, ``4h`` -> 240 (the schema has checked the shape)."""
    match = _DURATION.match(text)
    assert match is not None
    number, unit = float(match.group(1)), match.group(2)
    return number * 60 if unit == "h" else number


def compile_handoff(
    spec: PlaybookSpec, scope: expr.Scope, grades: Sequence[str], problem: Report
) -> Handoff:
    """Compile ``routing:``, ``slas:`` and ``handoff:``; ``scope`` is the stage scope
    (fields, criteria, grade, route, segment)."""
    teams = [
        _team(t, scope, ("routing", "teams", i), problem) for i, t in enumerate(spec.routing.teams)
    ]
    names = [t.name for t in teams]
    for i, name in enumerate(names):
        if name in names[:i]:
            problem(("routing", "teams", i, "name"), f"team '{name}' is listed twice")
    for i, team in enumerate(teams[:-1]):
        if team.source is None:
            problem(
                ("routing", "teams", i, "when"),
                f"team '{team.name}' takes every lead, so the teams after it get none: "
                "give it a 'when' or move it last",
            )
    if not teams:
        teams = [Team("sales", "Sales", None, None, "round_robin", None)]
    field = spec.routing.territory_field
    if field is not None and field not in scope.fields:
        problem(("routing", "territory_field"), f"'{field}' is not a field")
    try:
        hours = parse_hours(spec.slas.working_hours, "slas.working_hours")
    except InvalidInput as error:
        problem(("slas", "working_hours"), error.message)
        hours = parse_hours("UTC Mon-Fri 09:00-17:00")
    slas = {}
    for grade, sla in spec.slas.grades.items():
        if grade not in grades:
            problem(("slas", "grades", grade), f"grade {grade} is not defined in grades")
        slas[grade] = Sla(
            minutes(sla.accept) if sla.accept else None,
            minutes(sla.first_contact) if sla.first_contact else None,
        )
    escalation = {
        kind: tuple(dict.fromkeys(actions)) for kind, actions in spec.slas.escalation.items()
    }
    for kind, actions in escalation.items():
        if "reassign" in actions and "return_to_pool" in actions:
            problem(
                ("slas", "escalation", kind),
                "a missed SLA can reassign the lead or return it to the pool, not both",
            )
    reasons = (
        dict(spec.handoff.reasons) if spec.handoff.reasons is not None else dict(DEFAULT_REASONS)
    )
    if not reasons:
        problem(("handoff", "reasons"), "list at least one reason (or leave reasons: out)")
    return Handoff(
        teams=tuple(teams),
        account_owner=spec.routing.account_owner,
        territory_field=field,
        prefer_working=spec.routing.outside_hours == "prefer_working",
        working_hours=hours,
        slas=slas,
        escalation=escalation,
        reasons=reasons,
        recontact_after_days=spec.handoff.recontact_after_days,
    )


def _team(spec: TeamSpec, scope: expr.Scope, where: Where, problem: Report) -> Team:
    test = None
    if spec.when is not None:
        try:
            test = expr.evaluator(expr.compile_condition(spec.when, scope))
        except expr.ExprError as error:
            problem((*where, "when"), f"{error} in condition: {spec.when}")
    return Team(
        name=spec.name,
        label=spec.label or spec.name.replace("_", " ").capitalize(),
        source=spec.when,
        test=test,
        method=spec.method,
        manager=spec.manager,
    )
