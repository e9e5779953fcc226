"""A report as text, one way for every interface: the CSV ``leadflow report NAME --format
csv`` prints and the web pages' dashboards download, and the cells people read (rates as
percentages, times in words) in the terminal's tables and the web pages' tables.

::

    report_csv(report)                    # the CLI's CSV, byte for byte
    cell("acceptance_rate", 0.6667)       # '66.7%'
    cell("median_seconds", 5100.0)        # '1.4h'

Only the standard library: the CLI imports this for every ``--format csv``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadflow.analytics.reports import Report


FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")
"""How a text starts that a spreadsheet runs as a formula (OWASP, "CSV Injection")."""


def rows_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header and rows as CSV text: ``\\n`` line ends, None as an empty cell, and a text
    that a spreadsheet would run as a formula behind a ``'`` (a campaign or source named
    by a public form reaches the dashboards' downloads); numbers are left as they are."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell_text(v) for v in row] for row in rows)
    return text.getvalue()


def _cell_text(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_CHARACTERS):
        return f"'{value}"
    return value


def report_csv(report: Report) -> str:
    """The report's columns and rows as CSV, values as computed (rates 0-1, seconds)."""
    return rows_csv(report.columns, ([r.get(c) for c in report.columns] for r in report.rows))


def cell(column: str, value: Any) -> str:
    """One value as people read it: a rate as a percentage, seconds in words, ``-`` for
    none; the column's name says which."""
    if value is None:
        return "-"
    if column.endswith(("conversion", "_rate", "_share")):
        return f"{value:.1%}"
    if column.endswith("_seconds"):
        return duration(float(value))
    if isinstance(value, float):
        return f"{value:,.2f}" if column == "revenue" else f"{value:g}"
    return str(value)


def duration(seconds: float) -> str:
    """Seconds in words a person reads at a glance: 45s, 12m, 3.5h, 2.1d."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86_400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86_400:.1f}d"
