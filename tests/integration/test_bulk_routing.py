"""An import routes its sales-ready leads to reps exactly as capturing each row would.

The bulk path reads the reps once per chunk and keeps their open leads, turns, the
accounts' owners and the timers in memory as it routes (``bulk_lifecycle.Roster``); a
capture reads and writes them in the database per lead. Each test imports a file of
distinct people (so both paths route in the same order), in slices of a few rows or in
one, into one database, captures the same rows one by one into another, both with the
same reps, clock and random generator, and compares who got which lead and everything
routing left behind.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from leadflow.adapters.store import tables as t
from leadflow.adapters.store.repository import utc
from leadflow.bootstrap import bundled_playbook
from leadflow.domain.playbook import Playbook
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture_in
from leadflow.services.imports import import_csv
from leadflow.services.reps import AddRep, add_rep
from leadflow.services.uow import UnitOfWork
from leadflow.services.webhooks import add_webhook

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday: 09:00 in London, 04:00 in New York
HEADER = [
    "first_name",
    "last_name",
    "email",
    "company",
    "country",
    "is_customer",
    "company_size",
    "contact_me_now",
    "budget",
    "decision_role",
    "timeframe_days",
    "product",
]
COUNTRIES = ["us", "gb", "de", "ca", "fr", ""]
REPS = [
    # inside sales, round robin: territories and working hours decide first
    AddRep("Ann Inside", "ann@sales.example", "inside_sales", territories=("us", "ca")),
    AddRep("Bo Inside", "bo@sales.example", "inside_sales", territories=("gb",)),
    AddRep(
        "Cy Inside",
        "cy@sales.example",
        "inside_sales",
        working_hours="Europe/London Mon-Fri 08:00-18:00",
    ),
    AddRep("Di Inside", "di@sales.example", "inside_sales", capacity=4),
    # enterprise, least loaded, each with a capacity: once all are full, leads wait
    AddRep("Ed Enterprise", "ed@sales.example", "enterprise", capacity=3),
    AddRep("Flo Enterprise", "flo@sales.example", "enterprise", capacity=5),
    AddRep(
        "Gus Enterprise", "gus@sales.example", "enterprise", capacity=4, territories=("de", "fr")
    ),
    # account management: a single rep
    AddRep("Hal Accounts", "hal@sales.example", "account_management"),
]


def rows(seed: int, n: int) -> list[list[str]]:
    """Distinct people, some at the same company (so account owners matter), most
    of them asking to be called (so routed), of every team."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        company = f"company{rng.randrange(n // 3)}"
        out.append(
            [
                f"First{i}",
                f"Last{i}",
                f"person{i}@{company}.com",
                company.capitalize(),
                rng.choice(COUNTRIES),
                rng.choice(["", "", "", "", "", "", "yes"]),
                rng.choice(["", "40", "250", "1500", "5000"]),
                rng.choice(["yes", "yes", "yes", "no"]),
                rng.choice(["approved", "planned", "none", ""]),
                rng.choice(["decision_maker", "influencer", ""]),
                rng.choice(["20", "90", "400", ""]),
                rng.choice(["starter", "enterprise", ""]),
            ]
        )
    return out


def settings() -> CaptureSettings:
    # email: each routed lead's rep is emailed (queued, as with an SMTP server set)
    return CaptureSettings(now=lambda: NOW, rng=random.Random(7), email=True)


def add_reps(engine: Engine) -> None:
    """The reps, and a webhook that hears of every routed lead."""
    for rep in REPS:
        with UnitOfWork(engine) as uow:
            add_rep(uow, rep, NOW)
    with UnitOfWork(engine) as uow:
        add_webhook(uow, "http://127.0.0.1:9/routed", "lead.routed", NOW)


def capture_each(engine: Engine, pb: Playbook, path: Path) -> None:
    options = settings()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        with UnitOfWork(engine) as uow:
            for row in reader:
                values = [v if v != "" else None for v in row]
                raw = json.dumps(dict(zip(header, values, strict=True)), ensure_ascii=False)
                fields = {n: v for n, v in zip(header, values, strict=True) if v is not None}
                capture_in(
                    uow.store, pb, CaptureInquiry(fields, raw, "expo", "import", NOW), options
                )
            uow.commit()


def routing(engine: Engine) -> dict[str, Any]:
    """What routing left, people named by their email address and reps by theirs."""
    with engine.connect() as c:
        email = {int(i): e for i, e in c.execute(select(t.people.c.id, t.people.c.email))}
        rep = {int(i): e for i, e in c.execute(select(t.reps.c.id, t.reps.c.email))}

        def ids_named(data: Any) -> Any:
            data = json.loads(data) if isinstance(data, str) else dict(data)
            if "rep_id" in data:
                data["rep_id"] = rep.get(data["rep_id"])
            return json.dumps(data, sort_keys=True)

        return {
            "lifecycle": {
                email[r.person_id]: (
                    r.stage,
                    r.team,
                    rep.get(r.owner_rep_id),
                    utc(r.routed_at),
                    utc(r.accept_due),
                    utc(r.sales_ready_at),
                )
                for r in c.execute(select(t.lifecycle))
            },
            "turns": {rep[r.id]: r.last_turn for r in c.execute(select(t.reps))},
            "owners": {r.domain: rep.get(r.owner_rep_id) for r in c.execute(select(t.accounts))},
            "timers": Counter(
                (email[r.person_id], r.kind, utc(r.due_at), ids_named(r.data), r.status)
                for r in c.execute(select(t.timers))
            ),
            # The routed leads' notifications, in the order queued: the webhook's
            # bodies and the reps' emails.
            "deliveries": [
                (r.event, ids_named(_named_person(json.loads(r.body)["data"], email)))
                for r in c.execute(select(t.deliveries).order_by(t.deliveries.c.id))
            ],
            "emails": [  # PostgreSQL's import numbers people from its own sequence
                (r.to, r.subject, _named(r.text, r.person_id, email), r.kind, email[r.person_id])
                for r in c.execute(select(t.emails).order_by(t.emails.c.id))
            ],
            "events": Counter(
                (email[r.person_id], r.type, ids_named(r.data))
                for r in c.execute(
                    select(t.events).where(t.events.c.type.in_(("lead.routed", "lead.unassigned")))
                )
            ),
        }


def _named(text: str, person_id: int, email: dict[int, str]) -> str:
    lead = f"Lead id: {person_id}"
    assert lead in text
    return text.replace(lead, f"Lead: {email[person_id]}")


def _named_person(data: dict[str, Any], email: dict[int, str]) -> dict[str, Any]:
    return {**data, "person_id": email[data["person_id"]]}


@pytest.mark.parametrize("chunk_rows", [7, 500])
def test_an_import_routes_each_lead_to_the_rep_a_capture_would(
    engine: Engine, reference: Engine, tmp_path: Path, chunk_rows: int
) -> None:
    pb = bundled_playbook("b2b-saas")
    path = tmp_path / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows(3, 120))
    for database in (engine, reference):
        add_reps(database)

    import_csv(
        lambda: UnitOfWork(engine),
        pb,
        path,
        source="expo",
        now=NOW,
        settings=settings(),
        chunk_rows=chunk_rows,
    )
    capture_each(reference, pb, path)

    got, want = routing(engine), routing(reference)
    for part in want:
        assert got[part] == want[part], part
    # The file exercises every way of choosing: each team, capacity, territory, owner.
    owners = Counter(owner for _, _, owner, *_ in want["lifecycle"].values())
    assert len(set(owners) - {None}) == len(REPS), owners  # every rep was given someone
    assert any(e[1] == "lead.unassigned" for e in want["events"])
    assert sum(1 for owner in want["owners"].values() if owner is not None) >= 3
    assert len(want["timers"]) >= 60
    routed = sum(1 for e in want["events"].elements() if e[1] == "lead.routed")
    assert len(want["deliveries"]) == len(want["emails"]) == routed > 0
