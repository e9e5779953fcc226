"""The sums a funnel row adds to its groups: one definition, two implementations (row by
row for captures, by frame for imports and the benchmark) that must agree."""

from __future__ import annotations

import random
from typing import Any

import polars as pl

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_counts import (
    MEASURES,
    contribution_frame,
    contributions,
    gaps,
    measures,
    times,
    times_frame,
)

DAY = 86_400


def random_row(rng: random.Random, person: int) -> dict[str, Any]:
    first = 1_790_000_000 + rng.randrange(0, 30) * DAY + rng.randrange(DAY)

    def maybe(value: Any, p: float = 0.5) -> Any:
        return value if rng.random() < p else None

    row: dict[str, Any] = {c.name: None for c in t.funnel.columns}
    row.update(
        person_id=person,
        first_at=first,
        month="2026-09",
        source=rng.choice(["web", "expo", None]),
        campaign=maybe(rng.choice(["spring", "fall"])),
        form_key=maybe("demo"),
        rep_id=maybe(rng.randrange(1, 4)),
        grade=rng.choice("ABCD"),
        inquiries=rng.randrange(1, 4),
        handbacks=rng.choice([0, 0, 1, 2]),
        outcome=rng.choice([None, "won", "lost"]),
        outcome_value=maybe(rng.choice([0.0, 100.0, 2500.5])),
        missing=rng.choice([None, ",budget,", ",budget,timeframe_days,"]),
    )
    row["unanswered"] = rng.choice([row["missing"], ",contact_me_now,"]) if row["missing"] else None
    for name in ("ready_at", "routed_at", "accepted_at", "contacted_at"):
        row[name] = maybe(first + rng.choice([0, 0, 60, 3600]))
    for name in ("inquiry", "nurture", "marketing_qualified", "sales_accepted", "won"):
        row[f"reached_{name}"] = maybe(first)
        row[f"seconds_{name}"] = maybe(rng.choice([0, 0, 30, 7200]))
    return row


def test_row_by_row_and_by_frame_give_the_same_sums() -> None:
    rng = random.Random(3)
    old = [random_row(rng, p) for p in range(200)]
    new = [random_row(rng, p) for p in range(200)]
    counts, gap_counts = contributions(
        [(o if o["person_id"] % 3 else None, n) for o, n in zip(old, new, strict=True)]
    )
    frames = [
        contribution_frame(pl.DataFrame(new, infer_schema_length=None)),
        contribution_frame(
            pl.DataFrame([o for o in old if o["person_id"] % 3], infer_schema_length=None), -1
        ),
    ]
    summed = (
        pl.concat([f[0] for f in frames])
        .group_by("dim", "key", "day")
        .agg(pl.col(m).sum() for m in MEASURES)
    )
    by_frame = {
        (r["dim"], r["key"], r["day"]): {m: r[m] for m in MEASURES if r[m]}
        for r in summed.iter_rows(named=True)
    }
    by_row = {k: {m: v for m, v in vs.items() if v} for k, vs in counts.items()}
    assert {k: v for k, v in by_frame.items() if v} == {k: v for k, v in by_row.items() if v}
    gap_frame = (
        pl.concat([f[1] for f in frames])
        .group_by("dim", "key", "day", "field")
        .agg(pl.col("unanswered").sum(), pl.col("missing").sum())
    )
    got = {tuple(r[:4]): [r[4], r[5]] for r in gap_frame.iter_rows() if r[4] or r[5]}
    assert got == {k: v for k, v in gap_counts.items() if any(v)}
    framed = times_frame(pl.DataFrame(new, infer_schema_length=None))
    assert framed.to_dicts() == [r for r in map(times, new) if r is not None]


def test_one_row_counts_what_it_reached_once() -> None:
    row = random_row(random.Random(1), 7)
    row.update(
        inquiries=2,
        outcome="won",
        outcome_value=900.0,
        handbacks=2,
        reached_inquiry=10,
        reached_nurture=None,
        reached_marketing_qualified=10,
        reached_sales_accepted=20,
        ready_at=10,
        contacted_at=10,
        seconds_inquiry=0,
        missing=",budget,",
        unanswered=",budget,contact_me_now,",
    )
    got = measures(row)
    assert (got["leads"], got["inquiries"], got["won"], got["revenue"]) == (1, 2, 1, 900.0)
    assert (got["handed_back"], got["both_sales_accepted"]) == (1, 1)
    assert "both_marketing_qualified" not in got  # it skipped the prospect stage
    assert (got["zero_in_inquiry"], got["zero_speed_to_lead"]) == (1, 1)
    assert gaps(row) == {"budget": (1, 1), "contact_me_now": (1, 0)}
