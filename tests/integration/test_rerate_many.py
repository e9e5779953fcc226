"""Rating many people together (an import of activities, a batch of the API) does what
rating them one after another does: the same ratings, moves and routes, and the same
events in the same order."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from leadflow.adapters.store import tables as t
from leadflow.bootstrap import bundled_playbook
from leadflow.services.activities import RecordActivity, store_activity
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture, rerate, rerate_many
from leadflow.services.handoff import Runtime
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork

SETTINGS = CaptureSettings()
T0 = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
PB = bundled_playbook("b2b-saas")

# What each person did: nothing, a little, enough to be sales-ready (the playbook's
# example of a trial user, "very active but no date yet": grade B, routed to sales).
DONE = [[], ["page_view"], ["trial_signup", "pricing_page_view", "pricing_page_view", "page_view"]]


def _people(engine: Engine) -> list[int]:
    with UnitOfWork(engine) as uow:  # two reps, leads taken in turn: each lead's rep
        for name in ("Ann", "Bo"):  # depends on those before it
            add_rep(uow, AddRep(name, f"{name.lower()}@sales.example", "inside_sales"), T0)
        uow.commit()
    found = []
    for i, did in enumerate(DONE * 2):
        fields = {
            "email": f"p{i}@acme{i}.com",
            "first_name": f"P{i}",
            "last_name": "Lee",
            "company": f"Acme {i}",
            "product": "self-serve",
            "industry": "software",
            "company_size": "12",
            "seniority": "IC",
            "country": "Germany",
        }
        with UnitOfWork(engine) as uow:
            got = capture(
                uow, PB, CaptureInquiry(fields, json.dumps(fields), "web", "api", T0), SETTINGS
            )
            assert got.person_id is not None
            for n, kind in enumerate(did):
                at = T0 + timedelta(hours=n + 1)
                store_activity(uow.store, RecordActivity(kind, at, got.person_id), SETTINGS, at)
            uow.commit()
            found.append(got.person_id)
    return found


def _written(c: Connection, after: int) -> dict[str, list[Any]]:
    events = c.execute(
        select(t.events.c.type, t.events.c.person_id, t.events.c.at, t.events.c.data)
        .where(t.events.c.id > after)
        .order_by(t.events.c.id)
    )
    state = c.execute(
        select(t.lead_state.c.person_id, t.lead_state.c.grade, t.lead_state.c.score).order_by(
            t.lead_state.c.person_id
        )
    )
    stages = c.execute(
        select(
            t.lifecycle.c.person_id,
            t.lifecycle.c.stage,
            t.lifecycle.c.team,
            t.lifecycle.c.owner_rep_id,
            t.lifecycle.c.sales_ready_at,
        ).order_by(t.lifecycle.c.person_id)
    )
    funnel = c.execute(select(t.funnel).order_by(t.funnel.c.person_id))
    return {
        "events": [tuple(r) for r in events],
        "state": [tuple(r) for r in state],
        "stages": [tuple(r) for r in stages],
        "funnel": [tuple(r) for r in funnel],
    }


def test_people_rated_together_are_rated_as_one_after_another(engine: Engine) -> None:
    ids = _people(engine)
    moments = {person: T0 + timedelta(days=1, minutes=i) for i, person in enumerate(ids)}
    moments = dict(reversed(moments.items()))  # in the order given, not by id
    with engine.connect() as c:
        last = c.execute(select(t.events.c.id).order_by(t.events.c.id.desc())).scalar()
    results = []
    for together in (False, True):
        runtime = Runtime(clock=lambda: T0 + timedelta(days=2), rng=random.Random(7))
        with UnitOfWork(engine) as uow:
            if together:
                ratings = rerate_many(uow.store, PB, moments, "activity", runtime)
            else:
                ratings = {
                    p: rerate(uow.store, PB, p, at, "activity", runtime)
                    for p, at in moments.items()
                }
            results.append((ratings, _written(uow.store.connection, last)))
            # neither is kept: each starts from the same database
    (one_by_one, written_one), (together_, written_together) = results
    assert together_ == one_by_one
    assert list(together_) == list(moments)
    assert "B" in {r.grade for r in together_.values()} - {"C", "D"}  # some moved, some not
    for table, rows in written_one.items():
        for n, (a, b) in enumerate(zip(rows, written_together[table], strict=False)):
            assert a == b, (table, n)
        assert len(rows) == len(written_together[table]), table
    kinds = [e[0] for e in written_together["events"]]
    assert kinds.count("lead.rated") == len(ids) and kinds.count("lead.routed") >= 2
    assert {row[3] for row in written_together["stages"]} > {None}  # both reps have leads
    # each person's rating comes first among its own events, the people in the order given
    rated = [e[1] for e in written_together["events"] if e[0] == "lead.rated"]
    assert rated == list(moments)
    firsts = {}
    for kind, person, _at, _data in written_together["events"]:
        firsts.setdefault(person, kind)
    assert set(firsts.values()) == {"lead.rated"}
