"""Rate one lead: facts and activities in, grade, score, route and reasons out.

``rate(playbook, facts, activities, now)`` is a pure function. It never
raises on bad input: a value it cannot parse is unknown and is listed in
``data_issues``, as is a fact a criterion needed and did not have.

The vectorised twin in ``leadflow.analytics.batch`` follows the same steps
over a whole table; property-based tests hold the two to identical results.
The steps:

1. Normalise each field (``FieldDef.normalise``).
2. Choose the segment: the first whose condition is true, else none.
3. Evaluate each criterion that applies to the segment; a met criterion adds
   its points to its dimension (fit or qualification) and gives a reason.
4. Engagement: each activity at or before ``now`` is worth its points halved
   every ``half_life_days`` of age; at most ``max_per_period`` of a type count
   per period (counted back from ``now``, most recent first); a type's total
   and the whole dimension are capped.
5. The first grade rule (of the segment's ladder) that is true wins.
6. Route: the first override that is true, else the grade's route.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadflow.domain import expr
from leadflow.domain.moments import as_utc
from leadflow.domain.playbook import MICROS_PER_DAY, Engagement, FieldDef, Playbook, Route
from leadflow.domain.values import choice_key, clean


@dataclass(frozen=True, slots=True)
class Activity:
    """Something a person did: a page view, a download, a webinar... at a moment in time."""

    type: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Rating:
    """The outcome of rating one lead. Scores are in points, rounded to tenths."""

    grade: str
    route: Route
    score: float
    fit: float
    qualification: float
    engagement: float
    segment: str | None
    reasons: tuple[str, ...]
    data_issues: tuple[str, ...]
    playbook_version: str

    @property
    def dimensions(self) -> dict[str, float]:
        return {"fit": self.fit, "qualification": self.qualification, "engagement": self.engagement}


def rate(
    playbook: Playbook,
    facts: Mapping[str, object],
    activities: Iterable[Activity] = (),
    *,
    now: datetime,
) -> Rating:
    return evaluate(playbook, facts, activities, now=now)[0]


def evaluate(
    playbook: Playbook,
    facts: Mapping[str, object],
    activities: Iterable[Activity] = (),
    *,
    now: datetime,
) -> tuple[Rating, dict[str, object]]:
    """The rating, and the environment the stage and team conditions read: every field,
    criterion and score, and ``grade``, ``route`` and ``segment`` as choice keys."""
    now = as_utc(now)
    env: dict[str, object] = {expr.TODAY: now.date()}
    texts: dict[str, str | None] = {}
    issues: list[str] = []
    for f in playbook.fields.values():
        raw = facts.get(f.name)
        parsed = f.normalise(raw)
        env[f.name] = parsed.value
        texts[f.name] = clean(raw)
        if parsed.issue:
            issues.append(parsed.issue)

    segment = next((s for s in playbook.segments if s.test(env) is True), None)
    segment_name = segment.name if segment else None
    ladder = playbook.grades_for(segment_name)

    micro = {"fit": 0, "qualification": 0}
    reasons: list[str] = []
    for c in playbook.criteria:
        if not c.applies_to(segment_name):
            continue
        met = c.test(env)
        env[c.name] = met
        if met is True:
            micro[c.dimension] += c.micro
            seen = ", ".join(
                f"{n}={playbook.fields[n].display(env[n], texts[n])}" for n in c.fields
            )
            reasons.append(f"{c.label}: {seen} ({c.points_text} {c.dimension})")

    engagement_micro = 0
    if playbook.engagement is not None:
        engagement_micro, lines = engagement_points(playbook.engagement, activities, now)
        reasons.extend(lines)

    blank = [name for name, text in texts.items() if text is None]
    issues.extend(missing_facts(playbook, blank, segment_name))

    shown = {
        "fit": tenths(micro["fit"]),
        "qualification": tenths(micro["qualification"]),
        "engagement": tenths(engagement_micro),
    }
    total = sum(shown.values())
    env.update({name: value / 10 for name, value in shown.items()}, score=total / 10)
    grade = next((g for g in ladder if g.test is None or g.test(env) is True), ladder[-1])
    reasons.append(grade_reason(grade.label, grade.meaning, grade.condition, playbook))

    route = playbook.routes[grade.label]
    override = next((o for o in playbook.overrides if o.test(env) is True), None)
    if override is not None:
        reasons.append(override_reason(override.to, override.reason, grade.label, route))
        route = override.to
    else:
        reasons.append(route_reason(grade.label, route))

    env.update(grade=choice_key(grade.label), route=route, segment=segment_name)
    rating = Rating(
        grade=grade.label,
        route=route,
        score=total / 10,
        fit=shown["fit"] / 10,
        qualification=shown["qualification"] / 10,
        engagement=shown["engagement"] / 10,
        segment=segment_name,
        reasons=tuple(reasons),
        data_issues=tuple(issues),
        playbook_version=playbook.version,
    )
    return rating, env


def tenths(micro: int) -> int:
    """Millionths of a point rounded half up to whole tenths, in whole-number arithmetic.

    Dimension scores and the total are shown, compared and stored in tenths,
    so a rule like ``score >= 60`` judges the number people see.
    """
    return (micro + 50_000) // 100_000


def grade_reason(label: str, meaning: str | None, condition: expr.Node | None, pb: Playbook) -> str:
    if meaning:
        return f"Grade {label}: {meaning}"
    if condition is not None:
        return f"Grade {label}: {expr.words(condition, pb.scope)}"
    return f"Grade {label}: no earlier grade applies"


def route_reason(grade: str, route: str) -> str:
    return f"Route {route}: grade {grade} goes to {route}"


def override_reason(to: str, why: str, grade: str, route: str) -> str:
    return f"Route {to}: {why} (grade {grade} alone goes to {route})"


def needed_by(playbook: Playbook, segment: str | None) -> dict[str, list[str]]:
    """For each field, what needs it in this segment: criteria labels and grade rules."""
    needs: dict[str, list[str]] = {}
    for c in playbook.criteria:
        if c.applies_to(segment):
            for name in c.fields:
                needs.setdefault(name, []).append(c.label)
    for g in playbook.grades_for(segment):
        for name in g.fields:
            needs.setdefault(name, []).append(f"grade {g.label}")
    return needs


def missing_message(field: FieldDef, needs: Sequence[str]) -> str:
    return f"{field.name}: missing (needed for {'; '.join(needs)})"


def missing_facts(pb: Playbook, blank: Sequence[str], segment: str | None) -> list[str]:
    """Facts that a criterion or grade rule of the segment needed and the lead left blank.

    A value that was given but could not be parsed is reported as such, not again here.
    """
    needs = needed_by(pb, segment)
    return [missing_message(pb.fields[name], needs[name]) for name in blank if name in needs]


def engagement_points(
    spec: Engagement, activities: Iterable[Activity], now: datetime
) -> tuple[int, list[str]]:
    """The engagement score in millionths of a point, and one reason per activity type."""
    ages: dict[str, list[int]] = {}
    for activity in activities:
        rule = spec.activities.get(activity_key(activity.type))
        if rule is None:
            continue
        age = _micros(now - as_utc(activity.at))
        if age >= 0:
            ages.setdefault(rule.type, []).append(age)
    total = 0
    lines: list[str] = []
    for name, rule in spec.activities.items():
        if name not in ages:
            continue
        counted = _within_period_caps(sorted(ages[name]), rule.max_per_period, spec.period_days)
        points = sum(decayed(rule.micro, age, spec.decay_factor) for age in counted)
        capped = points if rule.max_micro is None else min(points, rule.max_micro)
        total += capped
        lines.append(activity_reason(rule.label, len(counted), capped))
    if spec.max_micro is not None and total > spec.max_micro:
        total = spec.max_micro
    return total, lines


def activity_key(kind: str) -> str:
    """Activity types compare like choices: "Page View" is page_view."""
    return choice_key(kind)


def activity_reason(label: str, count: int, micro: int) -> str:
    return f"{label} x{count} ({show_tenths(micro)} engagement)"


def show_tenths(micro: int) -> str:
    """Non-negative millionths as '+N.N'."""
    shown = tenths(micro)
    return f"+{shown // 10}.{shown % 10}"


def decayed(micro: float, age_micros: int, factor: float | None) -> int:
    """Points halved every half-life, in millionths, rounded half up.

    ``factor`` is ``-ln 2 / half-life in microseconds``: one multiplication
    and one ``exp``, the same IEEE operations the vectorised path performs.
    """
    if factor is None:
        return math.floor(micro + 0.5)
    return math.floor(micro * math.exp(age_micros * factor) + 0.5)


def _within_period_caps(ages: list[int], cap: int | None, period_days: int) -> list[int]:
    """The ages that count: at most ``cap`` per period, most recent first (ages sorted)."""
    if cap is None:
        return ages
    period = period_days * MICROS_PER_DAY
    kept: list[int] = []
    seen: dict[int, int] = {}
    for age in ages:
        bucket = age // period
        if seen.get(bucket, 0) < cap:
            seen[bucket] = seen.get(bucket, 0) + 1
            kept.append(age)
    return kept


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def days_ago(now: datetime, days: float) -> datetime:
    """A moment ``days`` before ``now`` (examples use it to place activities)."""
    return as_utc(now) - timedelta(days=days)
