"""A backtest as tables: the same sections for the terminal, Markdown and HTML.

:func:`sections` turns a :class:`~leadflow.analytics.backtest.Backtest` into titled
tables of text cells; :func:`markdown` and :func:`html` write them out (HTML escaped,
one self-contained page with no external assets).
"""

from __future__ import annotations

from html import escape

from leadflow.analytics.backtest import TIMING, Backtest

Section = tuple[str, list[str], list[list[str]], str]
"""(title, column names, rows of cells, a sentence saying what it counts)."""


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def sections(result: Backtest) -> list[Section]:
    grades = [
        [
            g.playbook,
            g.grade,
            str(g.leads),
            _pct(g.share),
            str(g.routed),
            str(g.accepted),
            _pct(g.acceptance),
            str(g.won),
            _pct(g.win_rate),
            _num(g.lift),
            f"{g.revenue:,.2f}",
        ]
        for g in result.grades
    ]
    seen = {a for a, _ in result.grade_moves} | {b for _, b in result.grade_moves}
    labels = [*result.labels, *sorted(seen - set(result.labels))]
    matrix = [
        [f"baseline {a}", *(str(result.grade_moves.get((a, b), 0)) for b in labels)] for a in labels
    ]
    routes = [
        [a, b, str(n)] for (a, b), n in sorted(result.route_moves.items(), key=lambda x: x[0])
    ]
    base, cand = result.workload
    change = cand - base
    share = f"{change / base:+.1%}" if base else "-"
    timing = [
        [kind, str(result.timing.get(kind, 0)), _num(result.shift_days.get(kind))]
        for kind in TIMING
    ]
    return [
        (
            "Per grade",
            [
                "playbook",
                "grade",
                "leads",
                "share",
                "routed",
                "accepted",
                "acceptance",
                "won",
                "win rate",
                "lift",
                "revenue",
            ],
            grades,
            "acceptance: accepted / routed, of the leads sales really got; win rate: won / "
            "leads of the grade; lift: the grade's win rate over every lead's.",
        ),
        (
            "Grade transitions (rows: baseline, columns: candidate)",
            ["", *(f"candidate {b}" for b in labels)],
            matrix,
            f"{result.changed} of {result.leads} leads change grade.",
        ),
        ("Route transitions", ["baseline", "candidate", "leads"], routes, ""),
        (
            "Sales workload",
            ["baseline", "candidate", "change"],
            [[str(base), str(cand), f"{change:+d} ({share})"]],
            "leads the playbook sends to sales (route sales at their last inquiry).",
        ),
        (
            "Timing",
            ["to sales", "leads", "median shift (days)"],
            timing,
            "sooner / later: the candidate first routes the lead to sales at an earlier / "
            "later inquiry than the baseline; only one: it never does under the other.",
        ),
    ]


def heading(result: Backtest) -> str:
    return (
        f"Backtest: {result.candidate} against {result.baseline}, {result.leads} leads, "
        f"{result.moments} inquiries replayed"
    )


def markdown(result: Backtest) -> str:
    lines = [f"# {heading(result)}", ""]
    for title, columns, rows, note in sections(result):
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "|".join("---" for _ in columns) + "|")
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines += ["", note, ""] if note else [""]
    return "\n".join(lines)


def html(result: Backtest) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(heading(result))}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th:first-child,td:first-child{text-align:left}</style></head><body>",
        f"<h1>{escape(heading(result))}</h1>",
    ]
    for title, columns, rows, note in sections(result):
        parts.append(f"<h2>{escape(title)}</h2><table><thead><tr>")
        parts += [f"<th>{escape(c)}</th>" for c in columns]
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
        if note:
            parts.append(f"<p>{escape(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
