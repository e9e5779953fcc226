"""The executable playbook: fields, criteria, segments, grades and route, compiled.

:func:`compile_playbook` turns a validated :class:`PlaybookSpec` into a
:class:`Playbook` whose conditions are parsed, bound and type-checked. It
collects every problem it finds, each with the path of the key it concerns
(``("grades", 1, "when")``), so the loader can point at file and line.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from leadflow.domain import expr
from leadflow.domain.handoff import Handoff, compile_handoff
from leadflow.domain.nurture import Nurture, compile_nurture
from leadflow.domain.policy import OPT_OUT_NAMES, Policy, compile_policy, consent_fields
from leadflow.domain.schema import FieldSpec, GradeSpec, PlaybookSpec
from leadflow.domain.stages import StageModel, compile_stages, stage_scope
from leadflow.domain.values import (
    FALSE_WORDS,
    MISSING,
    TRUE_WORDS,
    FieldType,
    Parsed,
    bounds,
    choice_key,
    clean,
    column_key,
    out_of_range,
    parse_date,
    parse_number,
    unparsable,
)

Route = Literal["sales", "nurture"]
Location = tuple[str | int, ...]
MICRO = 1_000_000
"""Points are added up as whole millionths, so every path sums them exactly alike."""
MICROS_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a playbook, at a path of keys inside it."""

    where: Location
    message: str


class PlaybookInvalid(ValueError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.where))}: {p.message}" for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: FieldType
    label: str
    question: str | None
    ask: str | None
    description: str | None
    choices: Mapping[str, str]  # key -> label
    lookup: Mapping[str, str | bool]  # normalised input word -> value
    unlisted: str | None  # the choice any other answer counts as
    minimum: float | None
    maximum: float | None
    lowercase: bool
    columns: tuple[str, ...]

    @property
    def expected(self) -> str:
        """What a valid value looks like, in the words of an issue."""
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        return {
            "number": "a number",
            "integer": "a whole number",
            "boolean": "yes or no",
            "date": "a date (YYYY-MM-DD)",
            "text": "text",
        }[self.type]

    def normalise(self, raw: object) -> Parsed:
        """The typed value of a raw input, or unknown with the reason."""
        text = clean(raw)
        if text is None:
            return MISSING
        if self.type == "text":
            found = self.lookup.get(choice_key(text)) if self.lookup else None
            if found is not None:
                return Parsed(found)
            return Parsed(text.lower() if self.lowercase else text)
        if self.type in ("choice", "boolean"):
            value = self.lookup.get(choice_key(text), self.unlisted)
            if value is None:
                return Parsed(None, unparsable(self.name, text, self.expected))
            return Parsed(value)
        if self.type == "date":
            day = parse_date(text)
            return Parsed(day) if day else Parsed(None, unparsable(self.name, text, self.expected))
        number = parse_number(text)
        low, high = bounds(self.minimum, self.maximum)
        in_range = number is not None and low <= number <= high
        if number is None or (self.type == "integer" and in_range and not number.is_integer()):
            return Parsed(None, unparsable(self.name, text, self.expected))
        if not in_range:
            return Parsed(None, out_of_range(self.name, text, self.minimum, self.maximum))
        return Parsed(int(number) if self.type == "integer" else number)

    def display(self, value: object, text: str | None) -> str:
        """How a value appears inside a reason: the canonical word, or what was typed."""
        if value is None:
            return "unknown"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if self.type in ("choice", "text"):
            return str(value)
        return text or str(value)


@dataclass(frozen=True)
class Criterion:
    name: str
    dimension: Literal["fit", "qualification"]
    label: str
    description: str | None
    points: float
    micro: int
    source: str
    condition: expr.Node
    test: expr.Evaluator
    fields: tuple[str, ...]
    segments: frozenset[str] | None

    def applies_to(self, segment: str | None) -> bool:
        return self.segments is None or segment in self.segments

    @property
    def points_text(self) -> str:
        return format_points(self.points)


@dataclass(frozen=True)
class Grade:
    label: str
    meaning: str | None
    source: str | None
    condition: expr.Node | None
    test: expr.Evaluator | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    name: str
    label: str
    description: str | None
    source: str
    condition: expr.Node
    test: expr.Evaluator
    grades: tuple[Grade, ...]  # empty: the playbook's own grades


@dataclass(frozen=True)
class Override:
    to: Route
    reason: str
    source: str
    condition: expr.Node
    test: expr.Evaluator


@dataclass(frozen=True)
class ActivityRule:
    type: str
    label: str
    points: float
    micro: float  # points in millionths, as a float: decay multiplies it before rounding
    max_per_period: int | None
    max_micro: int | None


@dataclass(frozen=True)
class Engagement:
    half_life_days: float | None
    decay_factor: float | None  # multiply an age in microseconds by it, then exp(): the decay
    period_days: int
    max_micro: int | None
    activities: Mapping[str, ActivityRule]


@dataclass(frozen=True)
class Playbook:
    name: str
    description: str | None
    version: str
    spec: PlaybookSpec
    fields: Mapping[str, FieldDef]
    criteria: tuple[Criterion, ...]
    engagement: Engagement | None
    segments: tuple[Segment, ...]
    grades: tuple[Grade, ...]
    routes: Mapping[str, Route]  # grade label -> route
    overrides: tuple[Override, ...]
    stages: StageModel
    handoff: Handoff
    nurture: Nurture
    policy: Policy
    scope: expr.Scope = field(repr=False)
    stage_scope: expr.Scope = field(repr=False)

    @property
    def grade_labels(self) -> list[str]:
        labels: dict[str, None] = {g.label: None for g in self.grades}
        for segment in self.segments:
            labels.update({g.label: None for g in segment.grades})
        return list(labels)

    def grades_for(self, segment: str | None) -> tuple[Grade, ...]:
        for s in self.segments:
            if s.name == segment and s.grades:
                return s.grades
        return self.grades

    def criterion(self, name: str) -> Criterion:
        return next(c for c in self.criteria if c.name == name)

    def scores(self, activity_type: str) -> bool:
        """Whether engagement gives activities of this type points (types compare like
        choices: "Page View" is page_view). Others are kept, and earn nothing."""
        return (
            self.engagement is not None and choice_key(activity_type) in self.engagement.activities
        )

    @cached_property
    def field_columns(self) -> dict[str, frozenset[str]]:
        """The other names each field is read under in inquiries and files (as
        ``column_key`` reads them): its ``columns:``, and for the fields the contact policy
        names for opt-outs (``do_not_email``...), the names other systems give those
        (``HasOptedOutOfEmail``, Web-to-Lead's ``emailOptOut``: ``policy.OPT_OUT_NAMES``)."""
        found = {name: {column_key(c) for c in f.columns} for name, f in self.fields.items()}
        for channel, name in consent_fields(self.policy).items():
            if name in found:
                found[name].update(OPT_OUT_NAMES[channel])
        return {name: frozenset(keys) for name, keys in found.items()}

    @cached_property
    def opt_out_names(self) -> dict[str, frozenset[str]]:
        """Per channel (``email``, ``call``, ``any``), every name whose yes in an inquiry
        opts the person out of it: the names other systems use, and the policy's field for
        the channel with its ``columns:``. Read whether or not the playbook has the field:
        an opt-out is never dropped."""
        named = consent_fields(self.policy)
        found = {}
        for channel, names in OPT_OUT_NAMES.items():
            keys = set(names)
            field_name = named.get(channel)
            if field_name is not None and field_name in self.fields:
                keys.add(column_key(field_name))
                keys.update(column_key(c) for c in self.fields[field_name].columns)
            found[channel] = frozenset(keys)
        return found


def format_points(points: float) -> str:
    sign = "+" if points >= 0 else "-"
    magnitude = abs(points)
    shown = str(int(magnitude)) if float(magnitude).is_integer() else f"{magnitude:g}"
    return f"{sign}{shown}"


def content_version(raw: Mapping[str, Any]) -> str:
    """The playbook's version: a hash of its content, blind to layout and comments."""
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- compilation


class _Compiler:
    def __init__(self, spec: PlaybookSpec) -> None:
        self.spec = spec
        self.problems: list[Problem] = []

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def condition(self, source: str, scope: expr.Scope, where: Location) -> expr.Node | None:
        try:
            return expr.compile_condition(source, scope)
        except expr.ExprError as error:
            self.problem(where, f"{error} in condition: {source}")
            return None

    def fields(self) -> dict[str, FieldDef]:
        return {
            name: self.field(name, spec, ("fields", name))
            for name, spec in self.spec.fields.items()
        }

    def field(self, name: str, spec: FieldSpec, where: Location) -> FieldDef:
        choices: dict[str, str] = {}
        lookup: dict[str, str | bool] = {}
        if spec.type == "choice":
            if not spec.choices:
                self.problem((*where, "choices"), "a choice field needs a list of choices")
            items = (
                spec.choices.items()
                if isinstance(spec.choices, dict)
                else ((c, None) for c in spec.choices or [])
            )
            for raw, label in items:
                key = choice_key(raw)
                if not key:
                    self.problem((*where, "choices"), f"choice {raw!r} is empty")
                    continue
                choices[key] = label or key.replace("_", " ").capitalize()
                lookup[key] = key
        elif spec.choices:
            self.problem((*where, "choices"), f"only a choice field has choices, not {spec.type}")
        if spec.type == "boolean":
            lookup.update({w: True for w in TRUE_WORDS})
            lookup.update({w: False for w in FALSE_WORDS})
        for word, target in spec.synonyms.items():
            value = self.synonym_target(spec, target, choices, (*where, "synonyms", word))
            if value is not None:
                lookup[choice_key(word)] = value
        if spec.synonyms and spec.type in ("number", "integer", "date"):
            self.problem((*where, "synonyms"), f"a {spec.type} field has no synonyms")
        unlisted = None
        if spec.unlisted is not None:
            unlisted = choice_key(spec.unlisted)
            if spec.type != "choice":
                self.problem((*where, "unlisted"), "only a choice field has an unlisted choice")
            elif unlisted not in choices:
                self.problem((*where, "unlisted"), f"'{spec.unlisted}' is not one of the choices")
        if spec.min is not None and spec.max is not None and spec.min > spec.max:
            self.problem((*where, "min"), f"min {spec.min} is more than max {spec.max}")
        return FieldDef(
            name=name,
            type=spec.type,
            label=spec.label or name.replace("_", " ").capitalize(),
            question=spec.question,
            ask=spec.ask,
            description=spec.description,
            choices=choices,
            lookup=lookup,
            unlisted=unlisted,
            minimum=spec.min,
            maximum=spec.max,
            lowercase=spec.lowercase,
            columns=tuple(spec.columns),
        )

    def synonym_target(
        self, spec: FieldSpec, target: str, choices: Mapping[str, str], where: Location
    ) -> str | bool | None:
        if spec.type == "choice":
            key = choice_key(target)
            if key not in choices:
                self.problem(where, f"synonym points to {target!r}, which is not a choice")
                return None
            return key
        if spec.type == "boolean":
            key = choice_key(target)
            if key in TRUE_WORDS or key in FALSE_WORDS:
                return key in TRUE_WORDS
            self.problem(where, f"synonym points to {target!r}, which is not yes or no")
            return None
        return target.lower() if spec.lowercase else target

    def criteria(self, fields: Mapping[str, FieldDef], segments: set[str]) -> list[Criterion]:
        scope = expr.Scope(fields=_field_infos(fields), criteria={})
        found: list[Criterion] = []
        groups = (
            ("fit", self.spec.criteria.fit),
            ("qualification", self.spec.criteria.qualification),
        )
        for dimension, specs in groups:
            for name, spec in specs.items():
                where: Location = ("criteria", dimension, name)
                if name in fields:
                    self.problem(where, f"criterion '{name}' has the name of a field")
                if name in expr.DIMENSIONS or any(c.name == name for c in found):
                    self.problem(where, f"the name '{name}' is already taken")
                for s in spec.segments or []:
                    if s not in segments:
                        self.problem((*where, "segments"), f"unknown segment '{s}'")
                node = self.condition(spec.when, scope, (*where, "when"))
                if node is None:
                    continue
                found.append(
                    Criterion(
                        name=name,
                        dimension=dimension,  # type: ignore[arg-type]
                        label=spec.label,
                        description=spec.description,
                        points=spec.points,
                        micro=round(spec.points * MICRO),
                        source=spec.when,
                        condition=node,
                        test=expr.evaluator(node),
                        fields=tuple(expr.fields_used(node)),
                        segments=frozenset(spec.segments) if spec.segments is not None else None,
                    )
                )
        return found

    def engagement(self) -> Engagement | None:
        spec = self.spec.criteria.engagement
        if spec is None:
            return None
        rules = {
            name: ActivityRule(
                type=name,
                label=a.label or name.replace("_", " "),
                points=a.points,
                micro=a.points * MICRO,
                max_per_period=a.max_per_period,
                max_micro=round(a.max_points * MICRO) if a.max_points is not None else None,
            )
            for name, a in spec.activities.items()
        }
        half_life = spec.half_life_days
        return Engagement(
            half_life_days=half_life,
            decay_factor=-math.log(2) / (MICROS_PER_DAY * half_life) if half_life else None,
            period_days=spec.period_days,
            max_micro=round(spec.max_points * MICRO) if spec.max_points is not None else None,
            activities=rules,
        )

    def grades(self, specs: Sequence[GradeSpec], scope: expr.Scope, where: Location) -> list[Grade]:
        grades: list[Grade] = []
        if not specs:
            self.problem(where, "at least one grade is needed")
        for i, spec in enumerate(specs):
            node = None
            if spec.when is not None:
                node = self.condition(spec.when, scope, (*where, i, "when"))
            elif i != len(specs) - 1:
                self.problem((*where, i), f"only the last grade may have no 'when' ({spec.grade})")
            if any(g.label == spec.grade for g in grades):
                self.problem((*where, i, "grade"), f"grade {spec.grade} is listed twice")
            grades.append(
                Grade(
                    label=spec.grade,
                    meaning=spec.meaning,
                    source=spec.when,
                    condition=node,
                    test=expr.evaluator(node) if node is not None else None,
                    fields=tuple(expr.fields_used(node)) if node is not None else (),
                )
            )
        if specs and specs[-1].when is not None:
            self.problem(
                (*where, len(specs) - 1, "when"),
                "the last grade must have no 'when': it takes every lead the others do not",
            )
        return grades


def _field_infos(fields: Mapping[str, FieldDef]) -> dict[str, expr.FieldInfo]:
    return {
        name: expr.FieldInfo(name, f.type, f.label, f.choices, f.lowercase)
        for name, f in fields.items()
    }


def compile_playbook(spec: PlaybookSpec, raw: Mapping[str, Any] | None = None) -> Playbook:
    """Compile a validated spec; raises :class:`PlaybookInvalid` listing every problem."""
    c = _Compiler(spec)
    fields = c.fields()
    field_scope = expr.Scope(fields=_field_infos(fields), criteria={})
    segment_names = {s.name for s in spec.segments}
    criteria = c.criteria(fields, segment_names)
    # Every criterion the file defines is a known name, even one whose own condition
    # failed: its error is reported once, not again at each grade that uses it.
    defined = {**spec.criteria.fit, **spec.criteria.qualification}
    rule_scope = expr.Scope(
        fields=field_scope.fields,
        criteria={name: c.label for name, c in defined.items()},
        dimensions=True,
    )
    grades = c.grades(spec.grades, rule_scope, ("grades",))
    segments = []
    for i, s in enumerate(spec.segments):
        node = c.condition(s.when, field_scope, ("segments", i, "when"))
        own = c.grades(s.grades, rule_scope, ("segments", i, "grades")) if s.grades else []
        if node is not None:
            segments.append(
                Segment(
                    name=s.name,
                    label=s.label or s.name.replace("_", " ").capitalize(),
                    description=s.description,
                    source=s.when,
                    condition=node,
                    test=expr.evaluator(node),
                    grades=tuple(own),
                )
            )
    routes = _routes(c, spec, grades, segments)
    overrides = []
    for i, o in enumerate(spec.route.overrides):
        node = c.condition(o.when, rule_scope, ("route", "overrides", i, "when"))
        if node is not None:
            overrides.append(Override(o.to, o.reason, o.when, node, expr.evaluator(node)))
    segment_labels = {s.name: s.label for s in segments}
    in_stages = stage_scope(rule_scope, _labels(grades, segments), segment_labels)
    stages = compile_stages(spec.stages, in_stages, {*fields, *defined}, c.problem)
    handoff = compile_handoff(spec, in_stages, _labels(grades, segments), c.problem)
    nurture = compile_nurture(spec.nurture, in_stages, stages, handoff.reasons, c.problem)
    policy = compile_policy(spec.contact_policy, fields, c.problem)
    _check_examples(c, spec, fields)
    if spec.model is not None and getattr(fields.get(spec.model.field), "type", "") != "number":
        c.problem(("model", "field"), f"declare '{spec.model.field}' in fields: as a number")
    if c.problems:
        raise PlaybookInvalid(c.problems)
    content = raw if raw is not None else spec.model_dump(mode="json")
    return Playbook(
        name=spec.name,
        description=spec.description,
        version=content_version(content),
        spec=spec,
        fields=fields,
        criteria=tuple(criteria),
        engagement=c.engagement(),
        segments=tuple(segments),
        grades=tuple(grades),
        routes=routes,
        overrides=tuple(overrides),
        stages=stages,
        handoff=handoff,
        nurture=nurture,
        policy=policy,
        scope=rule_scope,
        stage_scope=in_stages,
    )


def _check_examples(c: _Compiler, spec: PlaybookSpec, fields: Mapping[str, FieldDef]) -> None:
    """An example that names a field or activity the playbook lacks would test nothing."""
    activities = set(spec.criteria.engagement.activities) if spec.criteria.engagement else set()
    for i, example in enumerate(spec.examples):
        for name in example.facts:
            if name not in fields:
                c.problem(("examples", i, "facts", name), f"'{name}' is not a field")
        for j, activity in enumerate(example.activities):
            if choice_key(activity.type) not in activities:
                c.problem(
                    ("examples", i, "activities", j, "type"),
                    f"'{activity.type}' is not an activity type of criteria.engagement",
                )


def _labels(grades: Sequence[Grade], segments: Sequence[Segment]) -> list[str]:
    labels = {g.label: None for g in grades}
    for s in segments:
        labels.update({g.label: None for g in s.grades})
    return list(labels)


def _routes(
    c: _Compiler, spec: PlaybookSpec, grades: Sequence[Grade], segments: Sequence[Segment]
) -> dict[str, Route]:
    labels = set(_labels(grades, segments))
    routes: dict[str, Route] = {}
    sides: tuple[Route, Route] = ("sales", "nurture")
    for route in sides:
        for i, label in enumerate(getattr(spec.route, route)):
            where: Location = ("route", route, i)
            if label not in labels:
                c.problem(where, f"grade {label} is not defined in grades")
            elif label in routes:
                c.problem(where, f"grade {label} is routed to both sales and nurture")
            routes[label] = route
    for label in sorted(labels - set(routes)):
        c.problem(("route",), f"grade {label} has no route: list it under sales or nurture")
    return routes
