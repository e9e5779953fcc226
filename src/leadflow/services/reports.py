"""Run a report by name, for the CLI and the API: check the options, read, return.

::

    run_report(engine, pb, ReportQuery("sources", since=date(2026, 9, 1), by="campaign"))

Names: :data:`NAMES`; ``by``: source, campaign, form, rep, grade or month. The period
is ``[since, until)`` by days (UTC) and selects leads by their first inquiry (the
recycle report: hand-backs by their own time). Definitions: ``docs/reports.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from leadflow.adapters.store.report_store import Period
from leadflow.analytics.reports import BY, Report, Reports, rank
from leadflow.errors import InvalidInput

if TYPE_CHECKING:  # the playbook's machinery (pydantic, Jinja) costs 0.2 s to import
    from leadflow.analytics.backtest import Backtest
    from leadflow.domain.playbook import Playbook

NAMES = ("funnel", "sources", "velocity", "recycle", "gaps")
"""The reports ``leadflow report NAME`` and ``GET /api/v1/reports/{name}`` know."""
EPOCH = date(1970, 1, 1)
DEFAULT_BY = {"sources": "source", "gaps": "source"}
"""Reports that are per something unless told otherwise."""


@dataclass(frozen=True)
class ReportQuery:
    name: str
    since: date | None = None
    until: date | None = None
    by: str | None = None


def period(since: date | None, until: date | None) -> Period:
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"until ({until}) must be after since ({since})", "until")
    return Period(_seconds(since), _seconds(until))


def _seconds(day: date | None) -> int | None:
    """The day as days since 1970-01-01, as ``Period`` counts them."""
    if day is None:
        return None
    return (day - EPOCH).days


def run_report(engine: Engine, pb: Playbook | None, query: ReportQuery) -> Report:
    """The report named by ``query``, or InvalidInput naming the bad option."""
    if query.name not in NAMES:
        raise InvalidInput(f"no report '{query.name}' (known: {', '.join(NAMES)})", "name")
    by = query.by if query.by is not None else DEFAULT_BY.get(query.name)
    if by is not None and by not in BY:
        raise InvalidInput(f"cannot group by '{by}' (known: {', '.join(BY)})", "by")
    when = period(query.since, query.until)
    fold_backlog(engine)
    with engine.connect() as connection:
        reports = Reports(connection, when, by)
        if query.name == "gaps":
            if pb is None:
                raise InvalidInput("the gaps report needs the playbook", "playbook")
            return reports.gaps(pb)
        made: Report = getattr(reports, query.name)()
        return made


def fold_backlog(engine: Engine) -> int:
    """Fold the events a server logged without folding them yet (``funnel_store``), so
    that a report reads the fold of the whole log; the number of events folded. Takes
    SQLite's write lock only when some wait."""
    from leadflow.adapters.store.funnel_store import FunnelStore

    with engine.connect() as connection:
        store = FunnelStore(connection)
        if not store.pending():
            return 0
        folded = store.catch_up()
        connection.commit()
        return folded


def rebuild_rows(engine: Engine) -> int:
    """Make the reports' rows (funnel, sums, times, hand-backs) again from the event log,
    in one transaction; the number of leads."""
    from leadflow.adapters.store.funnel_store import FunnelStore

    with engine.begin() as connection:
        return FunnelStore(connection).rebuild()


def last_ranked(engine: Engine, last: int) -> Report:
    """The last ``last`` inquiries ranked (``leadflow rank --last N``)."""
    if last < 1:
        raise InvalidInput(f"--last must be at least 1, got {last}", "last")
    fold_backlog(engine)
    with engine.connect() as connection:
        return rank(connection, last)


def run_backtest(
    engine: Engine,
    baseline: Playbook,
    candidate: Playbook,
    since: date | None = None,
    until: date | None = None,
) -> Backtest:
    """``leadflow backtest``: the period's leads replayed under both playbooks."""
    from leadflow.analytics.backtest import backtest  # the rating's machinery: only here

    when = period(since, until)
    fold_backlog(engine)
    with engine.connect() as connection:
        return backtest(connection, baseline, candidate, when)
