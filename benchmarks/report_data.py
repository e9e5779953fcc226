"""A year of leads for ``bench_reports.py``: timelines drawn at random, with Polars.

``generate(n, seed)`` returns the tables to load, by name: ``people``, ``inquiries``,
``lead_state``, ``events``, ``funnel`` and ``handbacks`` (and the sums and times the
reports read); ``report_rows(n, seed)`` only the reports' tables. Each lead gets one timeline
and both the event log and the funnel row are written from it, so they agree (the
funnel row is what ``domain/funnel.py`` folds those events to). Shares: 15 % A or B
(sales), of which 80 % are accepted and 20 % rejected; half the accepted are qualified,
60 % of those get an opportunity and 40 % of opportunities are won.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from leadflow.adapters.store.funnel_counts import contribution_frame, times_frame

START = 1_764_547_200  # 2025-12-01 00:00 UTC
YEAR = 365 * 86_400
SOURCES = ["web", "expo", "webinar", "partner", "ads", "referral", "call", "mail"]
FIELDS = ["budget", "timeframe_days", "decision_role", "contact_me_now"]
TYPES = [
    "inquiry",
    "nurture",
    "marketing_qualified",
    "sales_accepted",
    "sales_qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "disqualified",
]


def _stamp(seconds: pl.Expr) -> pl.Expr:
    """Unix seconds as SQLite stores a leadflow timestamp (SQLAlchemy's text)."""
    return (seconds * 1_000_000).cast(pl.Datetime("us")).dt.strftime("%Y-%m-%d %H:%M:%S.%6f")


def generate(n: int, seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    funnel = _funnel(n, rng)
    reports = report_tables(funnel)
    return {
        "people": _people(funnel),
        "inquiries": _inquiries(funnel, rng),
        "lead_state": _ratings(funnel),
        "events": _events(funnel),
        **reports,
    }


def report_rows(n: int, seed: int) -> dict[str, pl.DataFrame]:
    """Only the reports' rows (``funnel``, ``funnel_counts``, ``funnel_times``,
    ``gap_counts``, ``handbacks``) of ``generate(n, seed)``, the same ones, for a database
    whose people, inquiries and events come from elsewhere (``bench_web.py``)."""
    return report_tables(_funnel(n, np.random.default_rng(seed)))


def report_tables(funnel: pl.DataFrame) -> dict[str, pl.DataFrame]:
    counts, gaps = contribution_frame(funnel)
    return {
        "funnel": funnel,
        "funnel_counts": counts,
        "funnel_times": times_frame(funnel),
        "gap_counts": gaps,
        "handbacks": funnel.filter(pl.col("handbacks") > 0).select(
            "person_id",
            at="reached_recycled",
            kind=pl.lit("rejected"),
            reason=pl.lit(None, pl.String).fill_null(pl.lit("bad_timing")),
            rep_id="rep_id",
        ),
    }


def _funnel(n: int, rng: np.random.Generator) -> pl.DataFrame:
    """Each lead's timeline, as the ``funnel`` row it folds to."""
    ids = np.arange(1, n + 1)
    first = START + rng.integers(0, YEAR, n)
    inquiries = 1 + rng.geometric(0.36, n)  # 3.8 on average
    grade = rng.choice(np.array(["A", "B", "C", "D"]), n, p=[0.05, 0.10, 0.35, 0.50])
    sales = np.isin(grade, ["A", "B"])
    h = lambda k: rng.exponential(3600 * k, n).astype(np.int64) + 60  # noqa: E731
    routed = first + rng.integers(0, 5, n)
    accepted = sales & (rng.random(n) < 0.8)
    rejected = sales & ~accepted
    accepted_at = routed + h(2)
    contacted = accepted & (rng.random(n) < 0.9)
    contacted_at = accepted_at + h(4)
    qualified = accepted & (rng.random(n) < 0.5)
    qualified_at = accepted_at + h(48)
    opportunity = qualified & (rng.random(n) < 0.6)
    opportunity_at = qualified_at + h(24 * 7)
    won = opportunity & (rng.random(n) < 0.4)
    lost = opportunity & ~won
    closed_at = opportunity_at + h(24 * 30)
    rejected_at = routed + h(3)
    value = np.round(rng.lognormal(9, 1, n), 2)
    source = rng.choice(np.array(SOURCES), n)
    campaign = np.char.add("c", rng.integers(0, 50, n).astype(str))
    form = np.char.add("f", rng.integers(0, 20, n).astype(str))
    blank = rng.random((n, len(FIELDS))) < np.array([0.2, 0.15, 0.1, 0.9])

    def stamp(values: np.ndarray, mask: np.ndarray | None = None) -> pl.Series:
        series = pl.Series(values.astype(np.int64))
        return (
            series
            if mask is None
            else series.to_frame("v").select(pl.when(pl.Series(mask)).then(pl.col("v"))).to_series()
        )

    stage_at = {
        "inquiry": stamp(first),
        "nurture": stamp(first, ~sales),
        "marketing_qualified": stamp(first, sales),
        "sales_accepted": stamp(accepted_at, accepted),
        "sales_qualified": stamp(qualified_at, qualified),
        "opportunity": stamp(opportunity_at, opportunity),
        "won": stamp(closed_at, won),
        "lost": stamp(closed_at, lost),
        "recycled": stamp(rejected_at, rejected),
        "disqualified": stamp(first, np.zeros(n, bool)),
    }
    # where each lead is now, and how long it stayed in each stage it left
    ends = {
        "inquiry": stamp(first),
        "marketing_qualified": stamp(np.where(accepted, accepted_at, rejected_at), sales),
        "sales_accepted": stamp(qualified_at, qualified),
        "sales_qualified": stamp(opportunity_at, opportunity),
        "opportunity": stamp(closed_at, opportunity),
    }
    funnel = pl.DataFrame(
        {
            "person_id": ids,
            "first_at": first,
            "source": source,
            "campaign": campaign,
            "form_key": form,
            "inquiries": inquiries,
            "grade": grade,
            "route": np.where(sales, "sales", "nurture"),
            **{f"reached_{t}": stage_at[t] for t in TYPES},
            "ready_at": stamp(first, sales),
            "routed_at": stamp(routed, sales),
            "last_routed_at": stamp(routed, sales),
            "rep_id": pl.Series(rng.integers(1, 41, n))
            .to_frame("r")
            .select(pl.when(pl.Series(sales)).then(pl.col("r")))
            .to_series(),
            "accepted_at": stamp(accepted_at, accepted),
            "last_accepted_at": stamp(accepted_at, accepted),
            "contacted_at": stamp(contacted_at, contacted),
            "handbacks": rejected.astype(np.int64),
            "opportunity_at": stamp(opportunity_at, opportunity),
            "opportunity_value": pl.Series(value)
            .to_frame("v")
            .select(pl.when(pl.Series(opportunity)).then(pl.col("v")))
            .to_series(),
            "outcome": pl.Series(np.where(won, "won", np.where(lost, "lost", ""))).replace(
                "", None
            ),
            "outcome_at": stamp(closed_at, opportunity),
            "outcome_value": pl.Series(value)
            .to_frame("v")
            .select(pl.when(pl.Series(opportunity)).then(pl.col("v")))
            .to_series(),
        }
    ).with_columns(
        month=pl.from_epoch("first_at").dt.strftime("%Y-%m"),
        unanswered=_names(blank, range(4)),
        missing=_names(blank, range(3)),
    )
    current = (
        pl.when(pl.col("reached_won").is_not_null())
        .then(pl.lit("won"))
        .when(pl.col("reached_lost").is_not_null())
        .then(pl.lit("lost"))
        .when(pl.col("reached_opportunity").is_not_null())
        .then(pl.lit("opportunity"))
        .when(pl.col("reached_sales_qualified").is_not_null())
        .then(pl.lit("sales-qualified"))
        .when(pl.col("reached_sales_accepted").is_not_null())
        .then(pl.lit("sales-accepted"))
        .when(pl.col("reached_recycled").is_not_null())
        .then(pl.lit("recycled"))
        .when(pl.col("reached_marketing_qualified").is_not_null())
        .then(pl.lit("marketing-qualified"))
        .otherwise(pl.lit("nurture"))
    )
    seconds = {f"seconds_{t}": (ends[t] - funnel.get_column(f"reached_{t}")) for t in ends}
    never_left = {f"seconds_{t}": pl.lit(None, pl.Int64) for t in TYPES if t not in ends}
    return funnel.with_columns(stage_type=current, **seconds, **never_left).with_columns(
        stage_since=pl.col("first_at")
    )


def _names(blank: np.ndarray, columns: range) -> pl.Series:
    parts = [np.where(blank[:, i], FIELDS[i] + ",", "") for i in columns]
    text = np.char.add(",", np.sum(np.stack(parts).astype(object), axis=0).astype(str))
    return pl.Series(text).replace(",", None)


def _people(funnel: pl.DataFrame) -> pl.DataFrame:
    return funnel.select(
        id="person_id",
        created_at=_stamp(pl.col("first_at")),
        updated_at=_stamp(pl.col("first_at")),
        email=pl.format("lead{}@company{}.com", "person_id", pl.col("person_id") % 50_000),
        facts=pl.lit('{"budget": "approved", "timeframe_days": "60"}'),
        inquiry_count="inquiries",
    )


def _inquiries(funnel: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    rows = funnel.select("person_id", "first_at", "source", "campaign", "form_key", "inquiries")
    rows = rows.with_columns(k=pl.int_ranges(0, "inquiries")).explode("k")
    later = pl.Series(rng.integers(0, 60 * 86_400, rows.height))
    return (
        rows.with_columns(at=pl.col("first_at") + pl.when(pl.col("k") > 0).then(later).otherwise(0))
        .sort("at")
        .select(
            received_at=_stamp(pl.col("at")),
            channel=pl.lit("api"),
            source="source",
            campaign="campaign",
            form_key="form_key",
            payload=pl.lit('{"budget": "approved"}'),
            fields=pl.lit('{"budget": "approved"}'),
            person_id="person_id",
        )
    )


def _ratings(funnel: pl.DataFrame) -> pl.DataFrame:
    return funnel.select(
        "person_id",
        "grade",
        score=pl.col("grade").replace_strict({"A": 3.0, "B": 3.0, "C": 2.0, "D": 1.0}),
        route="route",
        fit=pl.lit(0.0),
        qualification=pl.lit(0.0),
        engagement=pl.lit(0.0),
        reasons=pl.lit('["Budget approved or planned: budget=Approved (+1 qualification)"]'),
        data_issues=pl.lit("[]"),
        playbook_version=pl.lit("bench"),
        rated_at=_stamp(pl.col("first_at")),
    )


def _events(funnel: pl.DataFrame) -> pl.DataFrame:
    """Captured and rated per inquiry, the stage changes, routing and outcomes."""
    f = funnel
    parts = [
        f.with_columns(k=pl.int_ranges(0, "inquiries"))
        .explode("k")
        .select(
            "person_id",
            at="first_at",
            type=pl.lit("inquiry.captured"),
            data=pl.format(
                '{{"source": "{}", "channel": "api", "campaign": "{}"}}', "source", "campaign"
            ),
        ),
        f.with_columns(k=pl.int_ranges(0, "inquiries"))
        .explode("k")
        .select(
            "person_id",
            at="first_at",
            type=pl.lit("lead.rated"),
            data=pl.format('{{"grade": "{}", "route": "{}"}}', "grade", "route"),
        ),
    ]
    for t in TYPES:
        parts.append(
            f.filter(pl.col(f"reached_{t}").is_not_null()).select(
                "person_id",
                at=f"reached_{t}",
                type=pl.lit("stage.changed"),
                data=pl.lit('{"to": "' + t + '", "type": "' + t.replace("_", "-") + '"}'),
            )
        )
    for kind, column in (
        ("lead.routed", "routed_at"),
        ("lead.accepted", "accepted_at"),
        ("lead.contacted", "contacted_at"),
        ("outcome.won", "reached_won"),
        ("outcome.lost", "reached_lost"),
    ):
        parts.append(
            f.filter(pl.col(column).is_not_null()).select(
                "person_id", at=column, type=pl.lit(kind), data=pl.lit("{}")
            )
        )
    events = pl.concat(parts).sort("at", "person_id")
    return events.select(
        at=_stamp(pl.col("at")),
        type="type",
        person_id="person_id",
        inquiry_id=pl.lit(None, pl.Int64),
        data="data",
    )
