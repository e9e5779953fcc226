"""Export what leadflow holds as CSV: inquiries, people, accounts.

Exports are made to be opened in a spreadsheet, and much of what they hold was typed by
strangers into public forms: every text value that a spreadsheet would run as a formula
(one that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
behind a single quote, as OWASP recommends. ``csv_files.formula_guarded`` does it, and
says why every text column is guarded, leadflow's own normalised values too (a phone in
E.164 is written ``'+4930...``). Numbers are written as they are. ``raw`` writes every
text exactly as stored, for programs that read the CSV.

Times are written as the CLI writes every moment (``leadflow.domain.moments``):
``2026-11-24T17:33:08Z``, in UTC whatever time zone the database session has, ``raw``
or not.
"""

from __future__ import annotations

from typing import BinaryIO

import polars as pl
from sqlalchemy import Engine, Select, select

from leadflow.adapters.csv_files import formula_guarded
from leadflow.adapters.store import tables as t
from leadflow.domain.moments import STAMP
from leadflow.errors import InvalidInput

BATCH = 100_000


def _inquiries() -> Select[tuple[object, ...]]:
    i, s = t.inquiries, t.lead_state
    return (
        select(
            i.c.id.label("inquiry_id"),
            i.c.external_id,
            i.c.source,
            i.c.campaign,
            i.c.channel,
            i.c.form_key,
            i.c.received_at,
            i.c.person_id,
            i.c.account_id,
            s.c.grade,
            s.c.score,
            s.c.route,
            s.c.playbook_version,
        )
        .select_from(i.outerjoin(s, s.c.person_id == i.c.person_id))
        .order_by(i.c.id)
    )


def _people() -> Select[tuple[object, ...]]:
    p, s = t.people, t.lead_state
    return (
        select(
            p.c.id.label("person_id"),
            p.c.email,
            p.c.phone,
            p.c.first_name,
            p.c.last_name,
            p.c.company,
            p.c.account_id,
            p.c.inquiry_count,
            p.c.created_at,
            p.c.updated_at,
            s.c.grade,
            s.c.score,
            s.c.route,
            s.c.segment,
            s.c.playbook_version,
        )
        .select_from(p.outerjoin(s, s.c.person_id == p.c.id))
        .order_by(p.c.id)
    )


def _accounts() -> Select[tuple[object, ...]]:
    a = t.accounts
    return select(a.c.id.label("account_id"), a.c.domain, a.c.name, a.c.created_at).order_by(a.c.id)


QUERIES = {"inquiries": _inquiries, "people": _people, "accounts": _accounts}


def stamped(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each time as text in the one form (:data:`~leadflow.domain.moments.STAMP`):
    in UTC (a time without a zone, as SQLite gives it, is UTC), to the second."""
    return frame.with_columns(
        (
            pl.col(name).dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else pl.col(name).dt.convert_time_zone("UTC")
        ).dt.strftime(STAMP)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


def export(engine: Engine, what: str, out: BinaryIO, *, raw: bool = False) -> int:
    """Write ``what`` as CSV to ``out``; returns the number of rows. Text that a
    spreadsheet would run as a formula is written behind a ``'`` unless ``raw``."""
    if what not in QUERIES:
        raise InvalidInput(f"cannot export '{what}' (choose {', '.join(QUERIES)})")
    query = QUERIES[what]()
    rows = 0
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        columns = list(result.keys())
        first = True
        while chunk := result.fetchmany(BATCH):
            frame = pl.DataFrame(
                [tuple(r) for r in chunk], schema=columns, orient="row", infer_schema_length=None
            )
            frame = stamped(frame)
            (frame if raw else formula_guarded(frame)).write_csv(out, include_header=first)
            first = False
            rows += len(chunk)
        if first:
            pl.DataFrame(schema=columns).write_csv(out, include_header=True)
    return rows
