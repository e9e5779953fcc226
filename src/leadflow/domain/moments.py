"""How leadflow writes a moment for the CLI and its files: one form, ISO 8601 in UTC, to
the second, with ``Z``: ``2026-11-24T17:33:08Z``. People read it, spreadsheets sort it,
and ``datetime.fromisoformat`` parses it. The messages the services write (a file imported
already, a lead accepted already, an SLA missed) use it too: the CLI, the API and the web
pages show the same words. (The web pages' own columns show people the minute,
``2026-11-24 17:33 UTC``, and the emails ``Mon 23 Nov 2026, 11:00 UTC``; the API's data
is ISO 8601 with its microseconds.)

leadflow stores every moment in UTC; SQLite gives one back without a zone, PostgreSQL
in its session's time zone, which need not be UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

STAMP = "%Y-%m-%dT%H:%M:%SZ"
"""The form, as a ``strftime`` format (Polars' ``dt.strftime`` takes it too), for a
moment in UTC."""

STAMPED = "2026-11-24T17:33:08Z"
"""A moment in the form: as long as each (a table keeps one whole on its line)."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one without a zone is UTC already (as SQLite gives it back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamp(moment: datetime | str | None) -> str | None:
    """``moment`` in the one form (:data:`STAMP`); a moment without a zone is UTC, and
    text is read as ISO 8601 first. None stays None."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return as_utc(moment).strftime(STAMP)
