"""The bulk writes store exactly the frame given, however its columns are bound."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.bulk import BulkStore


def test_constant_and_empty_columns_are_stored_as_given(engine: Engine) -> None:
    frame = pl.DataFrame(
        {
            "received_at": ["2026-11-23 09:00:00.000000"] * 3,
            "channel": ["import"] * 3,
            "source": ["O'Hara's list; DROP"] * 3,  # one value, quoted as a literal
            "form_key": pl.Series([None, None, None], dtype=pl.String),  # left to its default
            "payload": ['{"a": 1}', '{"a": 2}', '{"a": 3}'],
            "reason": ["no_identity"] * 3,
            "error": ["it's 'quoted'"] * 3,
        }
    )
    single = frame.head(1).with_columns(payload=pl.lit('{"b": 0}'))  # every column one value
    with engine.begin() as c:
        bulk = BulkStore(c)
        bulk.insert(t.quarantine, frame)
        bulk.insert(t.quarantine, single)
    with engine.connect() as c:
        query = select(t.quarantine.c.source, t.quarantine.c.form_key, t.quarantine.c.payload)
        rows = c.execute(query.order_by(t.quarantine.c.id)).all()
        errors = c.execute(select(t.quarantine.c.error)).scalars().all()
    assert [tuple(r) for r in rows] == [
        ("O'Hara's list; DROP", None, '{"a": 1}'),
        ("O'Hara's list; DROP", None, '{"a": 2}'),
        ("O'Hara's list; DROP", None, '{"a": 3}'),
        ("O'Hara's list; DROP", None, '{"b": 0}'),
    ]
    assert errors == ["it's 'quoted'"] * 4
