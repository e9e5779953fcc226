"""Rows read for many people at once (an import chunk's) are the rows read one by one.

``LeadStore.lifecycles`` and ``FunnelStore.rows`` read many people's rows as plain
values, without SQLAlchemy's column types (several times faster for a chunk), so they
convert moments and dates themselves; a capture reads one row through the typed query.
The two must give the same values on both databases.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.funnel_store import FunnelStore, to_row
from leadflow.adapters.store.leads import LeadStore
from leadflow.bootstrap import bundled_playbook
from leadflow.domain.funnel import project
from leadflow.domain.lifecycle import Lifecycle
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture
from leadflow.services.uow import UnitOfWork

SETTINGS = CaptureSettings()
T0 = datetime(2026, 11, 20, 14, 30, 15, 123456, tzinfo=UTC)


def people(engine: Engine, n: int) -> list[int]:
    pb = bundled_playbook("btd")
    found = []
    for i in range(n):
        fields = {"email": f"p{i}@example.com", "first_name": f"P{i}"}
        with UnitOfWork(engine) as uow:
            got = capture(
                uow, pb, CaptureInquiry(fields, json.dumps(fields), "web", "api", T0), SETTINGS
            )
            assert got.person_id is not None
            found.append(got.person_id)
            uow.commit()
    return found


def test_lifecycles_read_together_equal_each_read_alone(engine: Engine) -> None:
    ids = people(engine, 3)
    held = Lifecycle(
        stage="recycled",
        stage_since=T0,
        side="marketing",
        team="inside_sales",
        owner_rep_id=None,
        sales_ready_at=T0 - timedelta(days=2, microseconds=5),
        routed_at=T0 - timedelta(days=1),
        accepted_at=T0 - timedelta(hours=5),
        first_contact_at=T0 - timedelta(hours=4),
        accept_due=T0 + timedelta(hours=1),
        contact_due=T0 + timedelta(hours=8),
        reason="bad_timing",
        note="call in spring",
        recontact_on=date(2027, 3, 1),
    )
    with engine.begin() as c:
        leads = LeadStore(c)
        leads.save_lifecycle(ids[0], held, T0)
        leads.save_lifecycle(
            ids[1], Lifecycle(stage="inquiry", stage_since=T0, side="marketing"), T0
        )
        # a person with no lifecycle row
        c.execute(t.lifecycle.delete().where(t.lifecycle.c.person_id == ids[2]))
    with engine.connect() as c:
        leads = LeadStore(c)
        together = leads.lifecycles([*ids, 999_999])
        assert set(together) == set(ids[:2])
        for person in ids[:2]:
            assert together[person] == leads.lifecycle(person)
        assert together[ids[0]] == held


def test_funnel_rows_read_together_equal_each_read_alone(engine: Engine) -> None:
    ids = people(engine, 2)
    later = T0 + timedelta(days=3, seconds=17)
    events = [
        ("inquiry.captured", T0, {"source": "expo", "campaign": "spring", "form_key": None}),
        ("lead.rated", T0, {"grade": "A", "route": "sales", "missing": ["budget"]}),
        ("stage.changed", T0, {"type": "inquiry"}),
        ("stage.changed", later, {"type": "marketing-qualified"}),
        ("lead.routed", later, {"rep_id": 3, "sales_ready_at": T0.isoformat()}),
        ("outcome.won", later, {"value": "1250.50", "currency": "EUR"}),
    ]
    with engine.begin() as c:
        store = FunnelStore(c)
        store.write([to_row(ids[0], project(events)), to_row(ids[1], project(events[:2]))])
    with engine.connect() as c:
        store = FunnelStore(c)
        together = store.rows([*ids, 999_999])
        assert set(together) == set(ids)
        for person in ids:
            assert together[person] == store.rows([person])[person]
        assert together[ids[0]].outcome_value == 1250.5
