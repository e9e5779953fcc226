"""Backtests on the hand-computed history of ``test_reports.py``, on SQLite and PostgreSQL.

Under the btd playbook P1, P2 and P5 are A (approved budget, the decision maker,
buying in 60 days), P3 and P4 are C. P1 was won; P1 and P5 were accepted.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from test_handoff import BTD_TEXT, HANDOFF, MONDAY, Desk
from test_reports import A, C, at, history, inquire, outcome

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.analytics.backtest_render import html, markdown
from leadflow.services.imports import import_csv
from leadflow.services.reports import run_backtest
from leadflow.services.uow import UnitOfWork

STRICTER_A = BTD_TEXT.replace("timeframe_days <= 90", "timeframe_days <= 30") + HANDOFF
C_TO_SALES = (
    BTD_TEXT.replace("sales: [A, B]", "sales: [A, B, C]").replace("nurture: [C, D]", "nurture: [D]")
    + HANDOFF
)


def test_raising_the_a_threshold_moves_the_60_day_leads_to_b(engine: Engine) -> None:
    desk, _ = history(engine)
    candidate = parse_playbook(STRICTER_A, "stricter-a.yaml")
    assert candidate.version != desk.pb.version
    result = run_backtest(engine, desk.pb, candidate)
    assert (result.leads, result.moments) == (5, 6)  # P2 inquired twice
    assert dict(result.grade_moves) == {("A", "B"): 3, ("C", "C"): 2}
    assert result.changed == 3
    assert dict(result.route_moves) == {("sales", "sales"): 3, ("nurture", "nurture"): 2}
    assert result.workload == (3, 3)  # a B still goes to sales
    rows = {(g.playbook, g.grade): g for g in result.grades}
    a, b = rows[("baseline", "A")], rows[("candidate", "B")]
    for row in (a, b):  # the same three leads, under another name
        assert (row.leads, row.routed, row.accepted, row.won) == (3, 3, 2, 1)
        assert (row.acceptance, row.win_rate, row.lift, row.revenue) == (
            0.6667,
            0.3333,
            1.67,
            12_000.0,
        )
    assert rows[("candidate", "A")].leads == 0
    assert (rows[("baseline", "C")].leads, rows[("baseline", "C")].lift) == (2, 0.0)
    assert rows[("baseline", "C")].acceptance is None  # sales never had them
    assert result.timing["same time"] == 3 and result.timing["sooner"] == 0
    text = markdown(result)
    assert "| baseline A | 0 | 3 | 0 | 0 |" in text  # the grade matrix, candidate A..D
    assert "<td>baseline A</td>" in html(result) and "<script" not in html(result)


def test_raising_the_a_threshold_moves_only_the_leads_beyond_it_with_their_outcomes(
    engine: Engine,
) -> None:
    """P6, an A buying in 20 days, is within the stricter A (30 days) and stays A, won
    3,000; P1, P2 and P5 (60 days) move to B with their outcomes: P1 won 12,000, P2
    rejected, P5 lost. Every lead: 6, won 2, so the win rate all told is 1/3."""
    desk, _ = history(engine)
    desk.rep("Eve", team="enterprise")  # who takes leads buying within 30 days
    at(desk, days=1, hours=1)
    p6 = inquire(desk, "p6@six.com", {**A, "timeframe_days": "20"}, "web")
    at(desk, days=1, hours=2)
    desk.do("accept", p6, desk.runtime())
    desk.do("contacted", p6, desk.runtime())
    desk.do("qualify", p6, desk.runtime())
    outcome(desk, p6, "opportunity", value=3_000.0)
    at(desk, days=1, hours=3)
    assert outcome(desk, p6, "won", value=3_000.0).moved
    result = run_backtest(engine, desk.pb, parse_playbook(STRICTER_A, "stricter-a.yaml"))
    assert (result.leads, result.moments) == (6, 7)
    assert dict(result.grade_moves) == {("A", "A"): 1, ("A", "B"): 3, ("C", "C"): 2}
    assert result.changed == 3
    assert result.workload == (4, 4)
    rows = {(g.playbook, g.grade): g for g in result.grades}

    def outcomes(playbook: str, grade: str) -> tuple[object, ...]:
        g = rows[(playbook, grade)]
        return (g.leads, g.routed, g.accepted, g.won, g.acceptance, g.win_rate, g.lift, g.revenue)

    # baseline A: P1, P2, P5, P6; 3 of 4 accepted, 2 won: win rate 1/2, lift 1.5
    assert outcomes("baseline", "A") == (4, 4, 3, 2, 0.75, 0.5, 1.5, 15_000.0)
    assert outcomes("candidate", "A") == (1, 1, 1, 1, 1.0, 1.0, 3.0, 3_000.0)  # P6
    assert outcomes("candidate", "B") == (3, 3, 2, 1, 0.6667, 0.3333, 1.0, 12_000.0)
    assert rows[("baseline", "B")].leads == 0
    nurtured = (2, 0, 0, 0, None, 0.0, 0.0, 0.0)  # P3, P4: C under both, never routed
    assert outcomes("candidate", "C") == outcomes("baseline", "C") == nurtured
    assert result.timing["same time"] == 4  # all four still go to sales, when they did


def test_routing_c_to_sales_adds_work_and_sends_a_lead_sooner(engine: Engine) -> None:
    desk, _ = history(engine)
    desk.clock.at = MONDAY + timedelta(days=1)
    p6 = inquire(desk, "p6@six.com", C, "web")  # C on Tuesday: nurtured
    desk.clock.at = MONDAY + timedelta(days=2)
    assert inquire(desk, "p6@six.com", A, "web") == p6  # A on Wednesday: to sales
    candidate = parse_playbook(C_TO_SALES, "c-to-sales.yaml")
    result = run_backtest(engine, desk.pb, candidate)
    assert result.workload == (4, 6)  # P3 and P4 too
    assert (result.timing["only candidate"], result.timing["sooner"]) == (2, 1)
    assert result.shift_days["sooner"] == 1.0  # P6 a day sooner


def test_the_cli_writes_markdown_and_html(engine: Engine, tmp_path: Path) -> None:
    desk, _ = history(engine)
    candidate = parse_playbook(STRICTER_A, "stricter-a.yaml")
    result = run_backtest(engine, desk.pb, candidate, since=MONDAY.date())
    assert result.leads == 5
    empty = run_backtest(engine, desk.pb, candidate, since=(MONDAY + timedelta(days=1)).date())
    assert (empty.leads, empty.moments, empty.workload) == (0, 0, (0, 0))
    assert "0 leads" in markdown(empty)


def test_imported_leads_are_replayed_with_their_facts(engine: Engine, tmp_path: Path) -> None:
    """An imported inquiry keeps no fields of its own (its import's columns give them
    from its payload): the replay reads them there, so the leads keep their grades."""
    desk = Desk(engine)
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,budget,decision_role,timeframe_days\n"
        "i1@one.com,approved,decision_maker,60\n"
        "i2@two.com,approved,researcher,60\n",
        encoding="utf-8",
    )
    summary = import_csv(
        lambda: UnitOfWork(engine), desk.pb, path, source="expo", now=MONDAY, settings=desk.settings
    )
    assert summary.rows == 2
    result = run_backtest(engine, desk.pb, desk.pb)
    assert (result.leads, result.moments) == (2, 2)
    assert dict(result.grade_moves) == {("A", "A"): 1, ("C", "C"): 1}
