"""Check a playbook: load it, lint it, and run its examples.

Lint findings are *warnings* (probably a mistake: a grade no lead can get,
segments that overlap, criteria that count the same thing twice, a
qualification question nobody asks) or *notes* (worth knowing: choices and
fields no rule uses, so they rate like a blank answer). Errors are problems
that stop the playbook from loading, and examples that do not give what
they promise.

Some lints cannot be decided by reading the rules alone: "can any lead get
grade B?" depends on how the conditions combine. Those are answered by
rating a sample of leads built from every value the rules mention (each
choice, each threshold and its neighbours, blanks), with the vectorised
engine, so the answer is about the real engine and not a second reading of
the rules.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from leadflow.adapters.playbook_file import load_playbook
from leadflow.analytics.batch import rate_frame, with_fields
from leadflow.analytics.columns import condition
from leadflow.domain import expr
from leadflow.domain.playbook import FieldDef, Playbook
from leadflow.domain.rating import Activity, days_ago, rate
from leadflow.errors import PlaybookError
from leadflow.services.handoff_lint import lint_handoff
from leadflow.services.stage_lint import lint_stages

SAMPLE_SIZE = 20_000


@dataclass(frozen=True)
class ExampleResult:
    name: str
    passed: bool
    expected: dict[str, object]
    got: dict[str, object]

    @property
    def mismatches(self) -> list[str]:
        return [
            f"{key}: expected {self.expected[key]}, got {self.got[key]}"
            for key in self.expected
            if self.expected[key] != self.got[key]
        ]


@dataclass
class CheckReport:
    path: str
    playbook: Playbook | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    examples: list[ExampleResult] = field(default_factory=list)

    @property
    def failed_examples(self) -> list[ExampleResult]:
        return [e for e in self.examples if not e.passed]

    def ok(self, strict: bool = False) -> bool:
        if self.errors or self.failed_examples:
            return False
        return not (strict and self.warnings)


def check_file(path: str | Path, now: datetime) -> CheckReport:
    report = CheckReport(str(path))
    try:
        pb = load_playbook(path)
    except PlaybookError as error:
        report.errors.extend(str(p) for p in error.problems)
        return report
    report.playbook = pb
    report.examples = run_examples(pb, now)
    report.warnings, report.notes = lint(pb, now)
    return report


def run_examples(pb: Playbook, now: datetime) -> list[ExampleResult]:
    results = []
    for example in pb.spec.examples:
        acts = [Activity(a.type, days_ago(now, a.days_ago)) for a in example.activities]
        rating = rate(pb, example.facts, acts, now=now)
        expected = {k: v for k, v in example.expect.model_dump().items() if v is not None}
        got: dict[str, object] = {
            "grade": rating.grade,
            "route": rating.route,
            "segment": rating.segment,
            "score": rating.score,
        }
        got = {k: got[k] for k in expected}
        results.append(ExampleResult(example.name, expected == got, expected, got))
    return results


# ---------------------------------------------------------------- lint


def lint(pb: Playbook, now: datetime) -> tuple[list[str], list[str]]:
    warnings: list[str] = []
    notes: list[str] = []
    warnings += _unasked_questions(pb)
    warnings += _duplicate_criteria(pb)
    warnings += _examples_cover_grades(pb)
    sample = _sample_leads(pb, now)
    warnings += _segment_overlaps(pb, sample, now)
    warnings += _unreachable_grades(pb, sample, now)
    notes += _unused(pb)
    stage_warnings, stage_notes = lint_stages(pb.stages)
    return warnings + stage_warnings + lint_handoff(pb), notes + stage_notes


def _conditions(pb: Playbook) -> Iterable[expr.Node]:
    for c in pb.criteria:
        yield c.condition
    for s in pb.segments:
        yield s.condition
        yield from (g.condition for g in s.grades if g.condition is not None)
    yield from (g.condition for g in pb.grades if g.condition is not None)
    yield from (o.condition for o in pb.overrides)


def _unused(pb: Playbook) -> list[str]:
    used_fields: set[str] = set()
    used_choices: set[tuple[str, str]] = set()
    stage_conditions = (s.condition for s in pb.stages.stages if s.condition is not None)
    for node in itertools.chain(_conditions(pb), stage_conditions):
        used_fields.update(expr.fields_used(node))
        used_choices |= expr.choices_used(node)
    notes = []
    policy = pb.policy
    consulted = {
        policy.email_opt_in,
        policy.do_not_email,
        policy.do_not_call,
        policy.do_not_contact,
        policy.contact_me_now,
        policy.quiet.timezone_field if policy.quiet is not None else None,
    }
    idle = [name for name in pb.fields if name not in used_fields and name not in consulted]
    if idle:
        notes.append(f"fields no rule uses (kept, not rated): {', '.join(idle)}")
    for f in pb.fields.values():
        unused = [c for c in f.choices if (f.name, c) not in used_choices and f.name in used_fields]
        if unused:
            notes.append(f"{f.name}: no rule uses {', '.join(unused)} (rated like a blank answer)")
    return notes


def _unasked_questions(pb: Playbook) -> list[str]:
    out = []
    for c in pb.criteria:
        if c.dimension != "qualification":
            continue
        for name in c.fields:
            f = pb.fields[name]
            if not f.question:
                out.append(
                    f"qualification criterion '{c.name}' needs {name}, but no question asks for it "
                    f"(add fields.{name}.question)"
                )
    return sorted(set(out))


def _duplicate_criteria(pb: Playbook) -> list[str]:
    out = []
    for a, b in itertools.combinations(pb.criteria, 2):
        same_place = a.segments == b.segments and a.dimension == b.dimension
        if same_place and _canonical(a.condition) == _canonical(b.condition):
            out.append(
                f"criteria '{a.name}' and '{b.name}' test the same condition and both add "
                f"{a.dimension} points"
            )
    return out


def _canonical(node: expr.Node) -> str:
    """A condition's meaning as text: positions dropped, lists and and/or terms in order."""
    if isinstance(node, expr.InList):
        values = sorted(_canonical(v) for v in node.values)
        return f"in({_canonical(node.operand)},{values},{node.negate})"
    if isinstance(node, expr.BoolOp):
        return f"{node.op}({sorted(_canonical(i) for i in node.items)})"
    if isinstance(node, expr.Not):
        return f"not({_canonical(node.operand)})"
    if isinstance(node, expr.Compare):
        return f"cmp({_canonical(node.left)},{node.op},{_canonical(node.right)})"
    if isinstance(node, expr.Is):
        return f"is({_canonical(node.operand)},{node.what},{node.negate})"
    return re.sub(r"pos=\d+", "", repr(node))


def _examples_cover_grades(pb: Playbook) -> list[str]:
    if not pb.spec.examples:
        return ["the playbook has no examples: add a few leads with the grade they must get"]
    shown = {e.expect.grade for e in pb.spec.examples}
    missing = [g for g in pb.grade_labels if g not in shown]
    if missing:
        return [f"no example shows grade {', '.join(missing)}"]
    return []


def _segment_overlaps(pb: Playbook, sample: pl.DataFrame, now: datetime) -> list[str]:
    if len(pb.segments) < 2:
        return []
    frame = with_fields(pb, sample.lazy())
    today = now.date()
    tests = {s.name: condition(s.condition, today).fill_null(False) for s in pb.segments}
    counts = frame.select(
        [
            (tests[a.name] & tests[b.name]).sum().alias(f"{a.name}|{b.name}")
            for a, b in itertools.combinations(pb.segments, 2)
        ]
    ).collect()
    out = []
    for column in counts.columns:
        both = counts[column][0]
        if both:
            first, second = column.split("|")
            out.append(
                f"segments '{first}' and '{second}' overlap: {both} of {len(sample)} sample leads "
                f"match both, and '{first}' takes them"
            )
    return out


def _unreachable_grades(pb: Playbook, sample: pl.DataFrame, now: datetime) -> list[str]:
    activities = _sample_activities(pb, len(sample), now)
    rated = (
        rate_frame(pb, sample, now=now, activities=activities).select("segment", "grade").collect()
    )
    out = []
    ladders: list[tuple[str | None, str]] = [(None, "")]
    ladders += [(s.name, f" in segment '{s.name}'") for s in pb.segments if s.grades]
    own = {s.name for s in pb.segments if s.grades}
    for segment, where in ladders:
        if segment is None:
            rows = rated.filter(~pl.col("segment").is_in(sorted(own)).fill_null(False))
        else:
            rows = rated.filter(pl.col("segment") == segment)
        given = set(rows["grade"].to_list())
        for g in pb.grades_for(segment):
            if g.label not in given and len(rows):
                out.append(
                    f"grade {g.label}{where} was given to none of {len(rows)} sample leads built "
                    "from every value the rules mention: check its rule and the ones before it"
                )
    return out


# ---------------------------------------------------------------- sample leads


def _candidates(pb: Playbook, f: FieldDef, now: datetime) -> list[str | None]:
    constants: list[object] = []
    for node in _conditions(pb):
        constants += expr.constants_for(node).get(f.name, [])
    values: list[str | None] = [None]
    if f.type == "choice":
        values += list(f.choices)
    elif f.type == "boolean":
        values += ["yes", "no"]
    elif f.type == "text":
        values += [str(c) for c in constants] + ["something else"]
    elif f.type in ("number", "integer"):
        numbers = {float(c) for c in constants if isinstance(c, int | float)}
        for bound in (f.minimum, f.maximum):
            if bound is not None:
                numbers.add(bound)
        spread = {n + d for n in numbers for d in (-1, 0, 1)} | {0.0, 1.0}
        values += [_number_text(n, f) for n in sorted(spread)]
    elif f.type == "date":
        today = now.date()
        days = {int(c) for c in constants if isinstance(c, int | float)}
        moments: set[date] = {today}
        moments |= {
            today + timedelta(days=s * (d + k)) for d in days for k in (-1, 0, 1) for s in (1, -1)
        }
        moments |= {c for c in constants if isinstance(c, date)}
        values += sorted(str(d) for d in moments)
    return list(dict.fromkeys(values))


def _number_text(n: float, f: FieldDef) -> str:
    if f.type == "integer" or n.is_integer():
        return str(int(n)) if n.is_integer() else str(n)
    return str(n)


def _sample_leads(pb: Playbook, now: datetime, size: int = SAMPLE_SIZE) -> pl.DataFrame:
    """Every combination when there are few, else a seeded random draw of ``size`` leads."""
    pools = {name: _candidates(pb, f, now) for name, f in pb.fields.items()}
    total = 1
    for pool in pools.values():
        total *= len(pool)
    names = list(pools)
    rows: Sequence[Sequence[str | None]]
    if total <= size:
        rows = list(itertools.product(*(pools[n] for n in names)))
    else:
        rng = random.Random(0)
        rows = [[rng.choice(pools[n]) for n in names] for _ in range(size)]
    return pl.DataFrame(
        {n: [r[i] for r in rows] for i, n in enumerate(names)},
        schema={n: pl.String for n in names},
    )


def _sample_activities(pb: Playbook, rows: int, now: datetime) -> pl.DataFrame | None:
    """For a third of the sample no activity, a third some, a third as many as count."""
    if pb.engagement is None or not pb.engagement.activities:
        return None
    rng = random.Random(1)
    lead: list[int] = []
    kinds: list[str] = []
    for row in range(rows):
        level = row % 3
        for kind, rule in pb.engagement.activities.items():
            cap = rule.max_per_period or 5
            count = 0 if level == 0 else rng.randint(0, cap) if level == 1 else cap
            lead += [row] * count
            kinds += [kind] * count
    return pl.DataFrame(
        {"__row": lead, "type": kinds, "at": [now] * len(lead)},
        schema={"__row": pl.UInt32, "type": pl.String, "at": pl.Datetime("us", "UTC")},
    )
