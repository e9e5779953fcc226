"""The reports on a small history whose answers were worked out by hand, on SQLite and
PostgreSQL: every count, rate and percentile below is written out in the comments.

The history (one rep, Ann; the btd playbook with a hand-off; T0 = Monday 09:00 UTC):

- P1 web/spring, A: routed at T0, accepted +20m, contacted +50m, qualified +1h,
  opportunity 10,000 +2h, won 12,000 EUR +3h;
- P2 web/spring, A: routed at T0, rejected (bad_timing) +30m; inquires again the next
  day at T0+1d and is routed again;
- P3 expo, C (a researcher): nurture;
- P4 expo, C (budget left blank): nurture;
- P5 expo, form demo, A: routed at T0, accepted +1h, contacted +2h, qualified +3h,
  opportunity 5,000 +4h, lost (price) +5h.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from test_handoff import MONDAY, Desk

from leadflow.adapters.store.funnel_store import FunnelStore
from leadflow.adapters.store.report_store import Period
from leadflow.analytics.reports import Reports, rank
from leadflow.services.capture import CaptureInquiry, capture
from leadflow.services.outcomes import RecordOutcome, record_outcome
from leadflow.services.uow import UnitOfWork

A = {"budget": "approved", "decision_role": "decision_maker", "timeframe_days": "60"}
C = {"budget": "approved", "decision_role": "researcher", "timeframe_days": "60"}
NO_BUDGET = {"decision_role": "decision_maker", "timeframe_days": "60"}


def inquire(desk: Desk, email: str, facts: dict[str, str], source: str, **more: Any) -> int:
    values = {"email": email, **facts}
    cmd = CaptureInquiry(values, json.dumps(values), source, "api", desk.clock(), **more)
    with UnitOfWork(desk.engine) as uow:
        captured = capture(uow, desk.pb, cmd, desk.settings)
    assert captured.person_id is not None
    return captured.person_id


def outcome(desk: Desk, person_id: int, kind: str, **more: Any) -> Any:
    with UnitOfWork(desk.engine) as uow:
        return record_outcome(uow, desk.pb, RecordOutcome(person_id, kind, **more), desk.runtime())


def at(desk: Desk, **delta: float) -> None:
    desk.clock.at = MONDAY + timedelta(**delta)


def history(engine: Engine) -> tuple[Desk, list[int]]:
    desk = Desk(engine)
    desk.rep("Ann")
    p1 = inquire(desk, "p1@one.com", A, "web", campaign="spring")
    p2 = inquire(desk, "p2@two.com", A, "web", campaign="spring")
    p3 = inquire(desk, "p3@three.com", C, "expo")
    p4 = inquire(desk, "p4@four.com", NO_BUDGET, "expo")
    p5 = inquire(desk, "p5@five.com", A, "expo", form_key="demo")
    at(desk, minutes=20)
    desk.do("accept", p1, desk.runtime())
    at(desk, minutes=30)
    desk.do("reject", p2, "bad_timing", desk.runtime())
    at(desk, minutes=50)
    desk.do("contacted", p1, desk.runtime())
    at(desk, hours=1)
    desk.do("qualify", p1, desk.runtime())
    desk.do("accept", p5, desk.runtime())
    at(desk, hours=2)
    outcome(desk, p1, "opportunity", value=10_000.0)
    desk.do("contacted", p5, desk.runtime())
    at(desk, hours=3)
    won = outcome(desk, p1, "won", value=12_000.0, currency="eur")
    assert (won.moved, won.stage) == (True, "won")
    desk.do("qualify", p5, desk.runtime())
    at(desk, hours=4)
    outcome(desk, p5, "opportunity", value=5_000.0)
    at(desk, hours=5)
    lost = outcome(desk, p5, "lost", value=5_000.0, reason="price")
    assert (lost.moved, lost.stage) == (True, "lost")
    at(desk, days=1)
    assert inquire(desk, "p2@two.com", A, "web", campaign="spring") == p2
    return desk, [p1, p2, p3, p4, p5]


def reports(engine: Engine, by: str | None = None) -> tuple[Any, Reports]:
    connection = engine.connect()
    return connection, Reports(connection, Period(), by)


def test_funnel_counts_and_conversions(engine: Engine) -> None:
    history(engine)
    connection, r = reports(engine)
    with connection:
        rows = {row["step"]: row for row in r.funnel().rows}
    got = {
        step: (row["leads"], row["from_previous"], row["conversion"]) for step, row in rows.items()
    }
    assert got == {
        "inquiry": (5, None, None),
        "prospect": (2, 2, 0.4),  # P3, P4 of 5
        "marketing qualified": (3, 0, 0.0),  # P1, P2, P5: none was a prospect first
        "sales accepted": (2, 2, 0.6667),  # P1, P5 of the 3 qualified by marketing
        "sales qualified": (2, 2, 1.0),
        "opportunity": (2, 2, 1.0),
        "won": (1, 1, 0.5),  # P1 of P1, P5
        "sales ready": (3, 3, 0.6),  # 3 of 5 inquiries
    }


def test_sources_acceptance_rejections_wins_and_revenue(engine: Engine) -> None:
    history(engine)
    connection, r = reports(engine, "source")
    with connection:
        rows = {row["source"]: row for row in r.sources().rows}
    assert rows["web"] == {
        "source": "web",
        "leads": 2,
        "inquiries": 3,  # P2 inquired twice
        "sales_ready": 2,
        "sales_ready_share": 1.0,
        "routed": 2,
        "accepted": 1,
        "acceptance_rate": 0.5,
        "rejections": 1,
        "rejection_reasons": "bad_timing 1",
        "won": 1,
        "lost": 0,
        "win_rate": 1.0,
        "revenue": 12_000.0,
    }
    expo = rows["expo"]
    assert (expo["leads"], expo["inquiries"], expo["sales_ready"]) == (3, 3, 1)
    assert (expo["sales_ready_share"], expo["routed"], expo["accepted"]) == (0.3333, 1, 1)
    assert (expo["won"], expo["lost"], expo["win_rate"], expo["revenue"]) == (0, 1, 0.0, 0.0)


def test_velocity_medians_and_p90(engine: Engine) -> None:
    history(engine)
    connection, r = reports(engine)
    with connection:
        rows = {row["measure"]: row for row in r.velocity().rows}

    def stats(measure: str) -> tuple[Any, ...]:
        row = rows[measure]
        return row["leads"], row["median_seconds"], row["p90_seconds"]

    # P1 50 minutes, P5 2 hours: the median halfway, p90 the larger (rank ceil(1.8) = 2)
    assert stats("speed to lead (sales ready to first contact)") == (2, 5100.0, 7200.0)
    assert stats("time to accept (routed to accepted)") == (2, 2400.0, 3600.0)
    assert stats("time in inquiry") == (5, 0.0, 0.0)  # each moved on at once
    # P1 20 minutes, P2 30 (then rejected; its second visit has not ended), P5 1 hour
    assert stats("time in marketing qualified") == (3, 1800.0, 3600.0)
    assert stats("time in sales accepted") == (2, 4800.0, 7200.0)  # 40 minutes, 2 hours
    assert stats("time in sales qualified") == (2, 3600.0, 3600.0)
    assert stats("time in opportunity") == (2, 3600.0, 3600.0)
    assert stats("time in recycled") == (1, 84_600.0, 84_600.0)  # +30m to the next day
    assert "time in nurture" not in rows  # P3 and P4 are still there
    assert stats("inquiry to sales ready") == (3, 0.0, 0.0)


def test_recycle_follows_each_hand_back(engine: Engine) -> None:
    history(engine)
    connection, r = reports(engine)
    with connection:
        rows = r.recycle().rows
    assert rows == [
        {
            "all": "all",
            "kind": "rejected",
            "reason": "bad_timing",
            "handbacks": 1,
            "routed_again": 1,  # P2 inquired again and went back to sales
            "accepted_again": 0,
            "won": 0,
            "lost": 0,
            "disqualified": 0,
            "with_marketing_now": 0,
        }
    ]


def test_gaps_by_source_count_blank_and_unjudged_questions(engine: Engine) -> None:
    desk, _ = history(engine)
    connection, r = reports(engine, "source")
    with connection:
        rows = {(row["source"], row["field"]): row for row in r.gaps(desk.pb).rows}
    budget = rows[("expo", "budget")]
    assert (budget["leads"], budget["unanswered"], budget["not_evaluated"]) == (3, 1, 1)
    assert budget["not_evaluated_share"] == 0.3333
    assert "Budget approved or planned" in budget["needed_by"]
    asked = rows[("expo", "contact_me_now")]  # nobody answered it; no rule needs it
    assert (asked["unanswered"], asked["not_evaluated"]) == (3, 0)
    assert (
        rows[("web", "budget")]["unanswered"],
        rows[("web", "contact_me_now")]["unanswered"],
    ) == (0, 2)


def test_rank_lists_the_last_inquiries_best_first(engine: Engine) -> None:
    history(engine)
    with engine.connect() as connection:
        rows = rank(connection, 3).rows
    # the last three inquiries: P2 again (A), P5 (A), P4 (C); equal scores newest first
    assert [(row["rank"], row["source"], row["grade"]) for row in rows] == [
        (1, "web", "A"),
        (2, "expo", "A"),
        (3, "expo", "C"),
    ]
    assert "budget: missing" in rows[2]["data_issues"]


def test_the_period_and_the_month(engine: Engine) -> None:
    history(engine)
    with engine.connect() as connection:
        monday = int(MONDAY.timestamp()) // 86_400  # in days
        later = Reports(connection, Period(since=monday + 1), None).funnel().rows
        months = Reports(connection, Period(until=monday + 1), "month").funnel().rows
        velocity = Reports(connection, Period(since=monday + 1), None).velocity().rows
    assert later[0]["leads"] == 0  # every lead's first inquiry was on Monday
    assert velocity == []
    assert {row["month"] for row in months} == {"2026-11"}
    assert {row["step"]: row["leads"] for row in months}["inquiry"] == 5


def test_the_rows_are_the_fold_of_the_log(engine: Engine) -> None:
    """Rebuilt from the event log alone, the funnel rows are the ones kept as it went."""
    history(engine)

    def everything() -> tuple[list[Any], ...]:
        with engine.connect() as c:

            def rows(sql: str) -> list[Any]:
                return [tuple(r) for r in c.exec_driver_sql(sql)]

            # sums left at zero by a lead that moved to another group are not compared
            return (
                rows("SELECT * FROM funnel ORDER BY person_id"),
                [r[1:] for r in rows("SELECT * FROM handbacks ORDER BY id")],
                rows("SELECT * FROM funnel_counts WHERE leads <> 0 ORDER BY dim, key, day"),
                rows(
                    "SELECT * FROM gap_counts WHERE unanswered <> 0 OR missing <> 0"
                    " ORDER BY dim, key, day, field"
                ),
            )

    kept = everything()
    assert len(kept[0]) == 5 and len(kept[1]) == 1
    with engine.connect() as c:  # the sums are those of the rows
        direct = c.exec_driver_sql(
            "SELECT grade, count(*), count(reached_won), sum(inquiries) FROM funnel GROUP BY grade"
        )
        summed = c.exec_driver_sql(
            "SELECT key, leads, reached_won, inquiries FROM funnel_counts WHERE dim = 'grade'"
            " AND leads <> 0"
        )
        assert sorted(map(tuple, direct)) == sorted(map(tuple, summed))
    with UnitOfWork(engine) as uow:
        assert FunnelStore(uow.store.connection).rebuild() == 5
        uow.commit()
    assert everything() == kept


def test_a_won_deal_for_a_lead_in_nurture_is_recorded_though_the_stage_stays(
    engine: Engine,
) -> None:
    desk, people = history(engine)
    done = outcome(desk, people[2], "won", value=800.0)
    assert (done.moved, done.stage) == (False, "prospect")
    assert done.note is not None and "did not move" in done.note and "prospect" in done.note
    connection, r = reports(engine, "source")
    with connection:
        expo = {row["source"]: row for row in r.sources().rows}["expo"]
    assert (expo["won"], expo["revenue"]) == (1, 800.0)


@pytest.mark.parametrize(
    ("kind", "more", "where"),
    [
        ("closed", {}, "outcome"),
        ("won", {"value": -1.0}, "value"),
        ("won", {"currency": "euro"}, "currency"),
    ],
)
def test_a_bad_outcome_is_refused_saying_where(
    engine: Engine, kind: str, more: dict[str, Any], where: str
) -> None:
    from leadflow.errors import InvalidInput

    desk, people = history(engine)
    with pytest.raises(InvalidInput) as refused:
        outcome(desk, people[0], kind, **more)
    assert refused.value.where == where
