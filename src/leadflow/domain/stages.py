"""Lifecycle stages: where a lead stands, who works it, and where it may go next.

A stage is data with a fixed meaning: a name, a **type** from a closed list
(the meaning the engine and the reports rely on), the side that owns it, the
written definition people sign, its entry criteria and the stages a lead may
move to from it.

Entry criteria have two parts, both optional:

- ``on``: events, things that *happen* (``sales_accepted``, ``won``). One of
  them must just have happened. An event is a moment, not a state, so it is
  not part of the condition language: "not sales_accepted" would mean nothing.
- ``when``: a condition in the playbook's language over the lead as rated now:
  its fields and criteria, the scores (``fit``, ``qualification``,
  ``engagement``, ``score``), and ``grade``, ``route`` and ``segment``. In a
  stage condition these three names are the lead's rating, never a field.

A lead in stage S moves to a stage T listed in S's ``next`` when T's entry
criteria hold. A stage with neither part is entered by a person only.

A playbook without ``stages:`` gets :data:`DEFAULT_STAGES`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from leadflow.domain import expr
from leadflow.domain.schema import StageSpec, StageType
from leadflow.domain.values import choice_key

Side = Literal["marketing", "sales"]
Where = tuple[str | int, ...]
Report = Callable[[Where, str], None]

SIDES: Mapping[StageType, Side | None] = {
    "inquiry": "marketing",
    "nurture": "marketing",
    "marketing-qualified": "marketing",
    "recycled": "marketing",
    "sales-accepted": "sales",
    "sales-qualified": "sales",
    "opportunity": "sales",
    "won": "sales",
    "lost": "sales",
    "disqualified": None,
}
"""The side each type belongs to; a disqualified lead can be either side's call."""

TERMINAL: frozenset[StageType] = frozenset({"won", "lost", "disqualified"})
"""Types a lead may stay in for good: they need no way out."""

EVENTS: Mapping[str, str] = {
    "inquiry": "an inquiry is received",
    "answers": "answers are recorded",
    "activity": "an activity is recorded",
    "sales_accepted": "sales accepts the lead",
    "sales_rejected": "sales rejects the lead",
    "sales_qualified": "sales confirms the lead is qualified",
    "opportunity_created": "an opportunity is opened",
    "won": "the deal is won",
    "lost": "the deal is lost",
    "recycled": "sales hands the lead back to marketing",
    "disqualified": "the lead is disqualified",
}
"""The events a stage may be entered on, with what they mean in plain words."""

RATING_NAMES = ("grade", "route", "segment")


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    type: StageType
    owner: Side
    definition: str
    on: tuple[str, ...]
    source: str | None
    condition: expr.Node | None
    test: expr.Evaluator | None
    next: tuple[str, ...]

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL

    @property
    def manual(self) -> bool:
        return not self.on and self.condition is None

    def entry_words(self, scope: expr.Scope) -> str:
        """The entry criteria in plain words, with the playbook's labels."""
        events = " or ".join(EVENTS.get(e, e) for e in self.on)
        rule = expr.words(self.condition, scope) if self.condition is not None else ""
        if events and rule:
            return f"when {events}, if {rule}"
        if events or rule:
            return f"when {events or rule}"
        return "moved here by a person"

    def admits(self, event: str | None, env: expr.Env) -> bool:
        """Whether a lead enters this stage on ``event`` (None: a change of rating).

        ``env`` is the rating environment: fields, criteria, scores, and
        ``grade``/``route``/``segment`` as choice keys. A stage entered by
        hand admits nothing here.
        """
        if self.manual or (self.on and event not in self.on):
            return False
        return self.test is None or self.test(env) is True


@dataclass(frozen=True)
class StageModel:
    stages: tuple[Stage, ...]
    default: bool  # the playbook has no stages: of its own

    @property
    def initial(self) -> Stage:
        return next(s for s in self.stages if s.type == "inquiry")

    def __getitem__(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)


def _spec(name: str, type_: StageType, definition: str, **rest: object) -> StageSpec:
    return StageSpec.model_validate({"name": name, "type": type_, "definition": definition, **rest})


DEFAULT_STAGES: tuple[StageSpec, ...] = (
    _spec(
        "inquiry",
        "inquiry",
        "Someone raised a hand: filled in a form, called, replied, or came from an event "
        "or a list. Nobody has judged them yet.",
        on=["inquiry"],
        next=["prospect", "marketing_qualified", "disqualified"],
    ),
    _spec(
        "prospect",
        "nurture",
        "A real person who may buy one day but is not ready to talk to sales: the playbook "
        "routes them to nurture. Marketing keeps in touch until they are ready.",
        when="route == nurture",
        next=["marketing_qualified", "disqualified"],
    ),
    _spec(
        "marketing_qualified",
        "marketing-qualified",
        "Meets the agreed lead definition: the playbook routes them to sales. Marketing hands "
        "them over; they wait for sales to accept or reject them.",
        label="Marketing qualified lead",
        when="route == sales",
        next=["sales_accepted", "recycled", "disqualified"],
    ),
    _spec(
        "sales_accepted",
        "sales-accepted",
        "Sales has looked at the lead and agrees it is worth working: a salesperson owns it "
        "and will contact it.",
        label="Sales accepted lead",
        on=["sales_accepted"],
        next=["sales_qualified", "recycled", "disqualified"],
    ),
    _spec(
        "sales_qualified",
        "sales-qualified",
        "Sales has spoken with the lead and confirmed the need, the budget, the authority "
        "and the timing.",
        label="Sales qualified lead",
        on=["sales_qualified"],
        next=["opportunity", "recycled", "disqualified"],
    ),
    _spec(
        "opportunity",
        "opportunity",
        "A deal is open: a value, a close date and next steps are in the forecast.",
        on=["opportunity_created"],
        next=["won", "lost"],
    ),
    _spec(
        "won",
        "won",
        "The customer signed a contract or paid an order: the revenue is booked.",
        on=["won"],
    ),
    _spec(
        "lost",
        "lost",
        "The deal was lost or abandoned. Marketing may take the person back to nurture later.",
        on=["lost"],
        next=["recycled"],
    ),
    _spec(
        "recycled",
        "recycled",
        "Sales rejected the lead or handed it back, with a reason: not now, not this person. "
        "Marketing nurtures it again until it qualifies again.",
        on=["sales_rejected", "recycled"],
        next=["prospect", "marketing_qualified", "disqualified"],
    ),
    _spec(
        "disqualified",
        "disqualified",
        "Will never buy: a competitor, a student, a fake or duplicate record, or out of the "
        "market we serve. Not contacted again.",
        on=["disqualified"],
    ),
)


def stage_scope(
    scope: expr.Scope, grades: Sequence[str], segments: Mapping[str, str]
) -> expr.Scope:
    """The names a stage condition may use: the playbook's, and the lead's rating."""
    rating = {
        "grade": expr.FieldInfo("grade", "choice", "the grade", {choice_key(g): g for g in grades}),
        "route": expr.FieldInfo(
            "route", "choice", "the route", {"sales": "sales", "nurture": "nurture"}
        ),
        "segment": expr.FieldInfo("segment", "choice", "the segment", dict(segments)),
    }
    return expr.Scope(
        fields={**scope.fields, **rating}, criteria=scope.criteria, dimensions=scope.dimensions
    )


def compile_stages(
    specs: Sequence[StageSpec] | None,
    scope: expr.Scope,
    taken: Collection[str],
    problem: Report,
) -> StageModel:
    """Compile the playbook's stages (the default model when None), reporting problems.

    ``scope`` comes from :func:`stage_scope`; ``taken`` are the playbook's own field
    and criterion names, which ``grade``, ``route`` and ``segment`` hide in a stage.
    """
    default = specs is None
    given = DEFAULT_STAGES if specs is None else tuple(specs)
    if not given:
        problem(("stages",), "at least one stage is needed (leave stages: out for the default)")
    names = [s.name for s in given]
    stages = []
    for i, spec in enumerate(given):
        where: Where = ("stages", i)
        if spec.name in names[:i]:
            first = names.index(spec.name)
            problem((*where, "name"), f"stage '{spec.name}' is listed twice (first at [{first}])")
        stages.append(_stage(spec, scope, names, where, problem, set() if default else taken))
    _one_entry_point(given, problem)
    return StageModel(tuple(stages), default)


def _stage(
    spec: StageSpec,
    scope: expr.Scope,
    names: Sequence[str],
    where: Where,
    problem: Report,
    taken: Collection[str],
) -> Stage:
    for k, event in enumerate(spec.on):
        if event not in EVENTS:
            problem((*where, "on", k), f"unknown event '{event}'" + _hint(event, list(EVENTS)))
    node = None
    if spec.when is not None:
        try:
            node = expr.compile_condition(spec.when, scope)
        except expr.ExprError as error:
            problem((*where, "when"), f"{error} in condition: {spec.when}")
    used = expr.fields_used(node) if node is not None else []
    for name in (n for n in RATING_NAMES if n in used and n in taken):
        problem(
            (*where, "when"),
            f"'{name}' here is the lead's {name}, not your field or criterion '{name}': rename it",
        )
    for k, target in enumerate(spec.next):
        if target not in names:
            problem((*where, "next", k), f"unknown stage '{target}'" + _hint(target, names))
        elif target == spec.name:
            problem((*where, "next", k), f"stage '{target}' cannot move to itself")
        elif target in spec.next[:k]:
            problem((*where, "next", k), f"stage '{target}' is listed twice")
    side = SIDES[spec.type]
    return Stage(
        name=spec.name,
        label=spec.label or spec.name.replace("_", " ").capitalize(),
        type=spec.type,
        owner=spec.owner or side or "marketing",
        definition=spec.definition.strip(),
        on=tuple(spec.on),
        source=spec.when,
        condition=node,
        test=expr.evaluator(node) if node is not None else None,
        next=tuple(spec.next),
    )


def _one_entry_point(specs: Sequence[StageSpec], problem: Report) -> None:
    entries = [i for i, s in enumerate(specs) if s.type == "inquiry"]
    if specs and not entries:
        problem(("stages",), "no stage has type inquiry: one must, it is where every lead starts")
    for i in entries[1:]:
        first = specs[entries[0]].name
        problem(
            ("stages", i, "type"),
            f"a second stage of type inquiry ('{first}' is the first): a lead starts in one place",
        )


def _hint(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (known: {', '.join(known)})"
