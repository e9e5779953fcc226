"""The dashboards' charts and filters without a database: bar lengths, scales, what a
chart leaves out, and how the filter form is read."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.analytics.reports import Report
from leadflow.errors import InvalidInput
from leadflow.web.charts import LABEL_WIDTH, VALUE_WIDTH, WIDTH, bar_chart, nice_duration
from leadflow.web.charts import nice_number as nice
from leadflow.web.dashboards import CHART_GROUPS, Filters, csv_name, percent, sources_charts, table

PLOT = WIDTH - LABEL_WIDTH - VALUE_WIDTH


@pytest.mark.parametrize(
    ("value", "end"),
    [(0, 1), (1, 1), (5, 5), (5.5, 6), (7, 8), (9, 10), (0.3, 0.3), (543, 600), (1_001, 2_000)],
)
def test_a_scale_ends_at_a_round_number_at_least_the_largest_value(
    value: float, end: float
) -> None:
    assert nice(value) == pytest.approx(end)


def test_a_scale_of_times_ends_at_a_time_cut_in_four_readable_quarters() -> None:
    assert nice_duration(50) == 60  # a minute: 15 s quarters
    assert nice_duration(5_100) == 2 * 3600  # 85 minutes: two hours
    assert nice_duration(84_600) == 86_400  # 23.5 hours: a day
    assert nice_duration(70 * 86_400) == 80 * 86_400  # past four weeks: round days


def test_bars_are_their_share_of_the_scale_and_none_draws_nothing() -> None:
    chart = bar_chart(
        "c", "Rates", ["web", "expo"], ["accept", "win"], [[0.5, None], [1.0, 0.0]], percent, top=1
    )
    web, expo = chart.groups
    assert [b.width for b in web.bars] == [PLOT / 2, 0.0]
    assert [b.text for b in web.bars] == ["50.0%", "-"]
    assert [b.width for b in expo.bars] == [PLOT, 0.0]
    assert expo.bars[0].title == "expo, accept: 100%"
    assert [t.text for t in chart.ticks] == ["0%", "25.0%", "50.0%", "75.0%", "100%"]
    assert [k.name for k in chart.legend] == ["accept", "win"]
    assert chart.legend[0].x < chart.legend[1].x
    assert web.bars[1].y > web.bars[0].y and expo.y > web.y  # bars go down the page
    assert chart.summary == "web: accept 50.0%, win -; expo: accept 100%, win 0%"
    assert chart.height >= expo.bars[-1].y + chart.bar_height


def test_one_series_has_no_legend_and_long_names_are_cut() -> None:
    name = "time to accept (routed to accepted) and more"
    chart = bar_chart("c", "T", [name], ["median"], [[30.0]], str)
    assert chart.legend == []
    assert chart.groups[0].label.endswith("…") and len(chart.groups[0].label) < len(name)
    assert chart.groups[0].full == name
    with pytest.raises(ValueError, match="chart c"):
        bar_chart("c", "T", ["a", "b"], ["x"], [[1.0]], str)


def _sources(n: int) -> Report:
    rows = [
        {"source": f"s{i:02}", "leads": i, "acceptance_rate": 0.5, "win_rate": None}
        for i in range(n)
    ]
    return Report("sources", "Sources", ["source", "leads", "acceptance_rate", "win_rate"], rows)


def test_a_chart_draws_the_largest_groups_and_says_so_the_table_keeps_all() -> None:
    (chart,) = sources_charts(_sources(CHART_GROUPS + 5))
    drawn = [g.full for g in chart.groups]
    assert drawn == [f"s{i:02}" for i in range(5, CHART_GROUPS + 5)]  # the largest, in order
    assert f"The chart shows the {CHART_GROUPS} groups with the most leads of 25" in chart.note
    assert len(table(_sources(CHART_GROUPS + 5)).rows) == CHART_GROUPS + 5
    (small,) = sources_charts(_sources(3))
    assert small.note == ""


def test_the_table_reads_as_people_do_and_drops_the_all_column() -> None:
    report = Report(
        "velocity",
        "Velocity",
        ["all", "measure", "leads", "median_seconds"],
        [{"all": "all", "measure": "speed to lead", "leads": 2, "median_seconds": 5100.0}],
    )
    shown = table(report)
    assert [c.label for c in shown.columns] == ["measure", "leads", "median"]
    assert [c.numeric for c in shown.columns] == [False, True, True]
    assert shown.rows == [["speed to lead", "2", "1.4h"]]


def test_the_filters_are_read_with_the_field_named_when_wrong() -> None:
    query = Filters.of(" 2026-09-01 ", "2026-12-01", "campaign").query("sources")
    assert (query.since, query.until, query.by) == (date(2026, 9, 1), date(2026, 12, 1), "campaign")
    assert Filters.of(None, None, "all").query("funnel").by is None
    for filters, where in (
        (Filters.of("2026-02-30", "", ""), "since"),
        (Filters.of("", "next week", ""), "until"),
        (Filters.of("2026-12-01", "2026-09-01", ""), "until"),
        (Filters.of("", "", "colour"), "by"),
    ):
        with pytest.raises(InvalidInput) as refused:
            filters.query("funnel")
        assert refused.value.where == where
    assert Filters.of("2026-09-01", "", "all").params() == "?since=2026-09-01"
    assert Filters.of("", "", "source").params() == "?by=source"
    assert Filters().grouping("sources") == "source" and Filters().grouping("funnel") == "all"
    named = csv_name("sources", Filters.of("2026-09-01", "", "campaign"))
    assert named == "leadflow-sources-by-campaign-2026-09-01-to-now.csv"
