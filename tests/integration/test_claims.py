"""Claim-safe delivery on SQLite and PostgreSQL: two senders at once send each delivery
exactly once; a claim whose sender died lapses and the delivery is sent again; a sender
whose claim lapsed records nothing over the one that took it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from leadflow.adapters.store.outbox import Outbox
from leadflow.services import outbox, webhooks
from leadflow.services.uow import UnitOfWork
from receivers import Receiver  # tests/ is on sys.path

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def queue(engine: Engine, url: str, count: int) -> list[int]:
    """``count`` due lead.rated deliveries to ``url``; their ids."""
    with UnitOfWork(engine) as uow:
        webhooks.add_webhook(uow, url, "lead.rated", NOW)
    with UnitOfWork(engine) as uow:
        for start in range(0, count, 500):
            for n in range(start, min(count, start + 500)):
                webhooks.enqueue(uow.store, "lead.rated", {"person_id": n, "grade": "A"}, NOW)
        uow.commit()
        return sorted(row.id for row in Outbox(uow.store.connection).deliveries(limit=count))


def rows(engine: Engine) -> list[tuple[int, str, int]]:
    with UnitOfWork(engine) as uow:
        found = Outbox(uow.store.connection).deliveries(limit=10_000)
        return sorted((r.id, r.status, r.attempts) for r in found)


def test_two_senders_deliver_each_of_1000_deliveries_exactly_once(
    engine: Engine, receiver: Receiver
) -> None:
    ids = queue(engine, receiver.url, 1000)
    assert len(ids) == 1000
    reports: dict[str, outbox.Report] = {}
    failures: list[BaseException] = []

    def sender(name: str) -> None:
        total = outbox.Report()
        try:
            with httpx.Client() as client:
                while True:
                    with UnitOfWork(engine) as uow:
                        report = webhooks.deliver_due(uow, NOW, client, limit=100)
                    if report == outbox.Report():
                        break
                    total += report
        except BaseException as error:  # pragma: no cover - shown by the assert below
            failures.append(error)
        reports[name] = total

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    seen = Counter(int(headers["X-Leadflow-Delivery"]) for headers, _ in receiver.received)
    assert sorted(seen) == ids
    assert [i for i, times in seen.items() if times > 1] == []
    assert reports["one"].sent + reports["two"].sent == 1000
    assert reports["one"].sent > 0 and reports["two"].sent > 0, reports  # both took part
    assert rows(engine) == [(i, "delivered", 1) for i in ids]


def test_a_claim_whose_sender_died_lapses_and_is_sent_again(
    engine: Engine, receiver: Receiver
) -> None:
    (only,) = queue(engine, receiver.url, 1)
    with UnitOfWork(engine) as uow:  # a sender claims, then dies before sending
        claimed = Outbox(uow.store.connection).claim("deliveries", NOW, NOW + outbox.LEASE, 10)
        uow.commit()
    assert [row.id for row in claimed] == [only]
    assert rows(engine) == [(only, "sending", 1)]
    with httpx.Client() as client:
        for moment in (NOW, NOW + outbox.LEASE - timedelta(seconds=1)):
            with UnitOfWork(engine) as uow:  # the claim holds: nobody sends it
                assert webhooks.deliver_due(uow, moment, client) == outbox.Report()
        assert receiver.received == []
        with UnitOfWork(engine) as uow:  # the lease has passed: it is due again
            report = webhooks.deliver_due(uow, NOW + outbox.LEASE, client)
    assert report == outbox.Report(sent=1)
    assert len(receiver.received) == 1
    assert rows(engine) == [(only, "delivered", 2)]


def test_a_sender_whose_claim_lapsed_records_nothing(engine: Engine) -> None:
    (only,) = queue(engine, "http://127.0.0.1:9/never", 1)
    first_until = NOW + outbox.LEASE
    later = NOW + outbox.LEASE + timedelta(seconds=5)
    with UnitOfWork(engine) as uow:
        box = Outbox(uow.store.connection)
        assert len(box.claim("deliveries", NOW, first_until, 10)) == 1
        uow.commit()
        assert len(box.claim("deliveries", later, later + outbox.LEASE, 10)) == 1  # taken over
        uow.commit()
        assert box.claim("deliveries", later, later + outbox.LEASE, 10) == []  # held now
        assert not box.finish("deliveries", only, first_until, {"status": "delivered"})
        assert box.finish("deliveries", only, later + outbox.LEASE, {"status": "delivered"})
        uow.commit()
    assert rows(engine) == [(only, "delivered", 2)]


def test_a_sender_gives_back_what_it_has_no_time_to_send(
    engine: Engine, receiver: Receiver
) -> None:
    ids = queue(engine, receiver.url, 5)
    calls = iter([True, True, True, False])  # told to stop after sending two
    with UnitOfWork(engine) as uow, httpx.Client() as client:
        report = webhooks.deliver_due(uow, NOW, client, keep_going=lambda: next(calls))
    assert report == outbox.Report(sent=2)
    assert rows(engine) == [
        *[(i, "delivered", 1) for i in ids[:2]],
        *[(i, "pending", 0) for i in ids[2:]],
    ]
    with UnitOfWork(engine) as uow, httpx.Client() as client:
        assert webhooks.deliver_due(uow, NOW, client) == outbox.Report(sent=3)
    assert len(receiver.received) == 5
