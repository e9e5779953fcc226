"""The playbook as the definitions document that sales and marketing leaders sign.

The document is built from the same compiled playbook the engine executes:
each rule is shown in plain words generated from the condition itself, so
the page cannot drift from what the engine does. It is one self-contained
HTML file (no external assets), deterministic for a given playbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from leadflow.domain import expr
from leadflow.domain.handoff import ESCALATIONS, Handoff
from leadflow.domain.playbook import Grade, Playbook, format_points

ASK_WORDS = {"form": "on the form", "call": "on a call", "form_or_call": "on the form or a call"}
METHOD_WORDS = {
    "round_robin": "in turn (round robin): the rep whose last lead is the oldest",
    "least_loaded": "to the rep with the fewest open leads",
    "random": "to a rep drawn at random",
}


@dataclass(frozen=True)
class LadderRow:
    grade: str
    meaning: str
    rule: str
    route: str


def _ladder(pb: Playbook, grades: tuple[Grade, ...]) -> list[LadderRow]:
    rows = []
    for g in grades:
        rule = expr.words(g.condition, pb.scope) if g.condition is not None else "every other lead"
        rows.append(LadderRow(g.label, g.meaning or "", rule, pb.routes[g.label]))
    return rows


def working_time(minutes: float | None) -> str:
    """``90`` -> ``1 h 30 min``: an SLA in working time, for people."""
    if minutes is None:
        return "—"
    hours, rest = divmod(round(minutes), 60)
    parts = [f"{hours} h"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} min")
    return " ".join(parts)


def _handoff(pb: Playbook) -> dict[str, Any]:
    """The hand-off rules in words: teams, SLAs per grade, escalation, reasons."""
    handoff: Handoff = pb.handoff
    teams = []
    for team in handoff.teams:
        rule = "every sales-ready lead no team above takes"
        if team.source is not None:
            node = expr.compile_condition(team.source, pb.stage_scope)
            rule = expr.words(node, pb.stage_scope)
        teams.append({"team": team, "rule": rule, "method": METHOD_WORDS[team.method]})
    field = handoff.territory_field
    return {
        "teams": teams,
        "own_teams": bool(pb.spec.routing.teams),
        # A territory may also be the lead's grade or segment, which are not fields.
        "territory": pb.fields[field].label if field is not None and field in pb.fields else field,
        "hours": "; ".join(str(b) for b in handoff.working_hours.blocks)
        + f" ({handoff.working_hours.timezone} time)",
        "slas": [
            {
                "grade": grade,
                "route": pb.routes.get(grade),
                "accept": working_time(sla.accept_minutes),
                "first_contact": working_time(sla.first_contact_minutes),
            }
            for grade, sla in handoff.slas.items()
        ],
        "no_sla": [g for g, r in pb.routes.items() if r == "sales" and g not in handoff.slas],
        "escalation": {
            kind: [ESCALATIONS[action] for action in actions]
            for kind, actions in handoff.escalation.items()
            if actions
        },
    }


def _context(pb: Playbook) -> dict[str, Any]:
    segments = {s.name: s.label for s in pb.segments}
    criteria = {
        dimension: [
            {
                "label": c.label,
                "rule": expr.words(c.condition, pb.scope),
                "points": format_points(c.points),
                "applies": ", ".join(segments[s] for s in sorted(c.segments))
                if c.segments is not None
                else "all leads",
                "description": c.description,
            }
            for c in pb.criteria
            if c.dimension == dimension
        ]
        for dimension in ("fit", "qualification")
    }
    questions = [f for f in pb.fields.values() if f.question]
    other_facts = [f for f in pb.fields.values() if not f.question]
    return {
        "pb": pb,
        "questions": questions,
        "other_facts": other_facts,
        "ask_words": ASK_WORDS,
        "criteria": criteria,
        "engagement": pb.engagement,
        "ladder": _ladder(pb, pb.grades),
        "segments": [
            {
                "segment": s,
                "rule": expr.words(s.condition, pb.scope),
                "ladder": _ladder(pb, s.grades) if s.grades else None,
            }
            for s in pb.segments
        ],
        "sales": [g for g, r in pb.routes.items() if r == "sales"],
        "nurture": [g for g, r in pb.routes.items() if r == "nurture"],
        "overrides": [
            {"rule": expr.words(o.condition, pb.scope), "to": o.to, "reason": o.reason}
            for o in pb.overrides
        ],
        "stages": [
            {
                "stage": s,
                "entry": s.entry_words(pb.stage_scope),
                "next": [pb.stages[n].label for n in s.next],
            }
            for s in pb.stages.stages
        ],
        "handoff": _handoff(pb),
        "examples": pb.spec.examples,
        "format_points": format_points,
    }


def render_definitions(pb: Playbook) -> str:
    env = Environment(
        loader=PackageLoader("leadflow", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("definitions.html.j2").render(**_context(pb))
