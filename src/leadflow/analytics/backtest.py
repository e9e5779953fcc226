"""Backtest: replay the leads' history under a candidate playbook and a baseline, and
compare what each would have done with what really happened.

Ratings are a pure function of facts and activities, so the past can be rated again
with any playbook. The replay:

1. Each inquiry of each lead of the period is a **moment**. The lead's facts at that
   moment are the latest non-blank value of each field over its inquiries so far (as
   capture folds them), read from each inquiry as received with each playbook's own
   field names and columns. Its activities are those up to that moment.
2. Every moment is rated with both playbooks, vectorised (``rate_frame``), one batch
   per day of the inquiries: a batch is rated as of its last moment, so decay and
   dates are those of the inquiry's day.
3. Per lead and playbook: the **grade** and **route** are those of its last moment;
   it **goes to sales** at the first moment whose route is sales.

Then, against what really happened (the ``funnel`` rows): per grade, volume,
acceptance (accepted / routed, of the leads sales really got), win rate (won / leads)
and lift (the grade's win rate / every lead's); the transitions baseline grade ->
candidate grade and route -> route; the sales workload (leads that go to sales) of
each; and leads that would have gone to sales **sooner** (the candidate's first sales
moment is earlier than the baseline's) or **later** (it is later), or only under one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from leadflow.adapters.store.report_store import Period, ReplayStore
from leadflow.analytics.batch import rate_frame
from leadflow.domain.moments import as_utc
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import clean
from leadflow.services.capture import split_fields


@dataclass(frozen=True)
class GradeRow:
    playbook: str  # baseline | candidate
    grade: str
    leads: int
    share: float | None
    routed: int
    accepted: int
    acceptance: float | None
    won: int
    win_rate: float | None
    lift: float | None
    revenue: float


@dataclass
class Backtest:
    baseline: str  # the playbooks' names and versions
    candidate: str
    leads: int
    moments: int
    grades: list[GradeRow] = field(default_factory=list)
    grade_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    route_moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    workload: tuple[int, int] = (0, 0)  # leads to sales: baseline, candidate
    timing: Counter[str] = field(default_factory=Counter)
    shift_days: dict[str, float | None] = field(default_factory=dict)  # median, per kind
    labels: list[str] = field(default_factory=list)  # both playbooks' grades, in order

    @property
    def changed(self) -> int:
        return sum(n for (a, b), n in self.grade_moves.items() if a != b)


TIMING = ("sooner", "later", "same time", "only candidate", "only baseline")


def backtest(connection: Any, baseline: Playbook, candidate: Playbook, period: Period) -> Backtest:
    """Replay the period's leads under both playbooks and compare (see the module)."""
    store = ReplayStore(connection)
    inquiries = store.inquiries(period)
    activities = None
    if baseline.engagement is not None or candidate.engagement is not None:
        activities = _activities(store.activities(period))
    people = [p for p, _, _ in inquiries]
    moments = pl.DataFrame(
        {"person_id": people, "at": [as_utc(at) for _, at, _ in inquiries]},
        schema={"person_id": pl.Int64, "at": pl.Datetime("us", "UTC")},
    ).with_row_index("moment")
    fields = [_fields(raw) for _, _, raw in inquiries]
    rated = {
        name: _replay(pb, moments, _facts(pb, people, fields), activities)
        for name, pb in (("baseline", baseline), ("candidate", candidate))
    }
    actual = pl.DataFrame(
        store.outcomes(period),
        schema={
            "person_id": pl.Int64,
            "routed": pl.Boolean,
            "accepted": pl.Boolean,
            "outcome": pl.String,
            "outcome_value": pl.Float64,
        },
    )
    result = Backtest(
        baseline=f"{baseline.name} ({baseline.version})",
        candidate=f"{candidate.name} ({candidate.version})",
        leads=actual.height,
        moments=moments.height,
        labels=list(dict.fromkeys([*baseline.grade_labels, *candidate.grade_labels])),
    )
    per_lead = {name: _per_lead(frame) for name, frame in rated.items()}
    for name in ("baseline", "candidate"):
        pb = baseline if name == "baseline" else candidate
        result.grades += _grades(name, pb, per_lead[name], actual)
    both = per_lead["baseline"].join(per_lead["candidate"], on="person_id", suffix="_c")
    result.grade_moves = Counter(both.select("grade", "grade_c").iter_rows())
    result.route_moves = Counter(both.select("route", "route_c").iter_rows())
    result.workload = (
        per_lead["baseline"].filter(pl.col("route") == "sales").height,
        per_lead["candidate"].filter(pl.col("route") == "sales").height,
    )
    _timing(result, both)
    return result


def _fields(raw: Any) -> Mapping[str, object]:
    if isinstance(raw, str):
        import json

        loaded: Mapping[str, object] = json.loads(raw)
        return loaded
    return raw or {}


def _facts(
    pb: Playbook, people: Sequence[int], fields: Sequence[Mapping[str, object]]
) -> pl.DataFrame:
    """Each moment's facts for ``pb``: the latest non-blank value of each field over the
    lead's inquiries so far."""
    names = list(pb.fields)
    columns: dict[str, list[str | None]] = {n: [] for n in names}
    known: dict[str, str] = {}
    last = None
    for person, values in zip(people, fields, strict=True):
        if person != last:
            known, last = {}, person
        _, facts = split_fields(pb, values)
        known.update({k: text for k, v in facts.items() if (text := clean(v)) is not None})
        for n in names:
            columns[n].append(known.get(n))
    return pl.DataFrame(columns, schema=dict.fromkeys(names, pl.String))


def _activities(rows: Sequence[tuple[int, str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(p, kind, as_utc(at)) for p, kind, at in rows],
        schema={"person_id": pl.Int64, "type": pl.String, "at": pl.Datetime("us", "UTC")},
        orient="row",
    )


def _replay(
    pb: Playbook, moments: pl.DataFrame, facts: pl.DataFrame, activities: pl.DataFrame | None
) -> pl.DataFrame:
    """Every moment rated with ``pb``: moment, person_id, at, grade, route."""
    frame = pl.concat([moments, facts], how="horizontal").with_columns(day=pl.col("at").dt.date())
    parts = []
    for _, part in frame.group_by("day", maintain_order=True):
        now = part.get_column("at").max()
        assert isinstance(now, datetime)
        acts = None
        if pb.engagement is not None and activities is not None:
            rows = part.select("person_id", seen="at").with_row_index("__row")
            acts = (
                activities.join(rows, on="person_id")
                .filter(pl.col("at") <= pl.col("seen"))
                .select("__row", "type", "at")
            )
            acts = acts if acts.height else None
        rated = rate_frame(
            pb, part.select(list(pb.fields)), now=now + timedelta(microseconds=1), activities=acts
        ).collect()
        parts.append(
            part.select("moment", "person_id", "at").with_columns(rated.select("grade", "route"))
        )
    if not parts:
        schema = {
            "moment": pl.UInt32,
            "person_id": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "grade": pl.String,
            "route": pl.String,
        }
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).sort("moment")


def _per_lead(rated: pl.DataFrame) -> pl.DataFrame:
    """Per lead: the grade and route of its last moment, and its first sales moment."""
    return rated.group_by("person_id").agg(
        grade=pl.col("grade").sort_by("moment").last(),
        route=pl.col("route").sort_by("moment").last(),
        to_sales=pl.col("at").filter(pl.col("route") == "sales").min(),
    )


def _grades(name: str, pb: Playbook, leads: pl.DataFrame, actual: pl.DataFrame) -> list[GradeRow]:
    joined = leads.join(actual, on="person_id", how="left")
    total = joined.height
    won_all = joined.filter(pl.col("outcome") == "won").height
    base = won_all / total if total else None
    rows = []
    for grade in pb.grade_labels:
        mine = joined.filter(pl.col("grade") == grade)
        n = mine.height
        routed = mine.filter(pl.col("routed").fill_null(False)).height
        accepted = mine.filter(pl.col("accepted").fill_null(False)).height
        won = mine.filter(pl.col("outcome") == "won")
        rate = won.height / n if n else None
        rows.append(
            GradeRow(
                playbook=name,
                grade=grade,
                leads=n,
                share=round(n / total, 4) if total else None,
                routed=routed,
                accepted=accepted,
                acceptance=round(accepted / routed, 4) if routed else None,
                won=won.height,
                win_rate=round(rate, 4) if rate is not None else None,
                lift=round(rate / base, 2) if rate is not None and base else None,
                revenue=float(won.get_column("outcome_value").fill_null(0.0).sum()),
            )
        )
    return rows


def _timing(result: Backtest, both: pl.DataFrame) -> None:
    """Sooner, later, same time, or to sales under one playbook only."""
    b, c = pl.col("to_sales"), pl.col("to_sales_c")
    kind = (
        pl.when(b.is_null() & c.is_null())
        .then(None)
        .when(b.is_null())
        .then(pl.lit("only candidate"))
        .when(c.is_null())
        .then(pl.lit("only baseline"))
        .when(c < b)
        .then(pl.lit("sooner"))
        .when(c > b)
        .then(pl.lit("later"))
        .otherwise(pl.lit("same time"))
    )
    shift = (b - c).dt.total_seconds() / 86_400
    timed = both.with_columns(kind=kind, shift=shift).filter(pl.col("kind").is_not_null())
    result.timing = Counter({k: 0 for k in TIMING})
    result.timing.update(timed.get_column("kind").to_list())
    for k in ("sooner", "later"):
        days = timed.filter(pl.col("kind") == k).get_column("shift").abs()
        median = days.median() if days.len() else None
        result.shift_days[k] = round(float(median), 2) if median is not None else None
