"""The formula guard of exports: text a spreadsheet would run gets a leading quote; and the
one form of the moments an export (and every command) writes."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from leadflow.adapters.csv_files import formula_guarded


def test_text_that_starts_a_formula_is_quoted_and_nothing_else_is() -> None:
    texts = [
        '=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
        "+4930123456", "a=b", "Ann", "'=x", "", None,
    ]  # fmt: skip
    frame = pl.DataFrame(
        {
            "text": texts,
            "number": [-1.5, -2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "at": [datetime(2026, 11, 23)] * 12,
        },
        strict=False,
    )
    guarded = formula_guarded(frame)
    assert guarded["text"].to_list() == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx",
        "'+4930123456", "a=b", "Ann", "'=x", "", None,
    ]  # fmt: skip
    assert guarded.drop("text").equals(frame.drop("text"))


def test_the_reports_csv_guards_text_as_the_export_does_and_leaves_numbers() -> None:
    """The dashboards' downloads and ``report --format csv`` hold campaigns and sources
    that public forms named."""
    from leadflow.analytics.report_text import rows_csv

    text = rows_csv(
        ["campaign", "leads", "rate"], [["=HYPERLINK(1)", 3, -0.5], ["spring", 1, None]]
    )
    assert text.splitlines() == ["campaign,leads,rate", "'=HYPERLINK(1),3,-0.5", "spring,1,"]


def test_a_moment_is_written_in_utc_to_the_second_with_z() -> None:
    """One form for every moment the CLI writes (``leadflow.domain.moments``): SQLite gives
    a time without a zone (UTC, as stored), PostgreSQL one in its session's zone."""
    from datetime import UTC, timedelta, timezone

    from leadflow.domain.moments import stamp

    new_york = timezone(timedelta(hours=-5))
    assert stamp(datetime(2026, 11, 23, 9, 0, 5, 999_999)) == "2026-11-23T09:00:05Z"
    assert stamp(datetime(2026, 11, 23, 4, 0, 5, tzinfo=new_york)) == "2026-11-23T09:00:05Z"
    assert stamp("2026-11-23T04:00:05.123456-05:00") == "2026-11-23T09:00:05Z"
    assert stamp(None) is None
    assert datetime.fromisoformat("2026-11-23T09:00:05Z") == datetime(
        2026, 11, 23, 9, 0, 5, tzinfo=UTC
    )
