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
from leadflow.domain.playbook import Grade, Playbook, format_points

ASK_WORDS = {"form": "on the form", "call": "on a call", "form_or_call": "on the form or a call"}


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
