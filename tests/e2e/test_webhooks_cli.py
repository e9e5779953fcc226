"""``leadflow webhooks ...`` end to end, through the real CLI on a SQLite file, with a
real HTTP listener receiving the deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_store_cli import leadflow, ok  # pytest puts this folder on sys.path

from leadflow.adapters.store.engine import make_engine
from leadflow.services import webhooks
from leadflow.services.uow import UnitOfWork
from receivers import Receiver  # tests/ is on sys.path

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def queue(tmp_path: Path, *events: tuple[str, dict[str, object]]) -> None:
    """Queue events in the CLI's database, as a capture or routing would."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lf.db'}")
    try:
        with UnitOfWork(engine) as uow:
            webhooks.enqueue_all(uow.store, list(events), NOW)
            uow.commit()
    finally:
        engine.dispose()


def test_add_list_deliver_deliveries_remove(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # messages on one line each
    ok(leadflow(tmp_path, "reps", "add", "--name", "Ann Lee", "--email", "ann@acme.io"))
    added = leadflow(tmp_path, "webhooks", "add", receiver.url, "--events", "lead.captured")
    secret = ok(added).strip()
    assert len(secret) == 64 and added.stdout == secret + "\n"  # the secret alone on stdout
    assert "Added webhook 1" in added.stderr and "cannot be shown again" in added.stderr
    add_scoped = (
        "webhooks",
        "add",
        receiver.url,
        "--events",
        "lead.routed",
        "--rep",
        "ann@acme.io",
    )
    ok(leadflow(tmp_path, *add_scoped))
    listed = json.loads(ok(leadflow(tmp_path, "webhooks", "list", "--format", "json")))
    assert [(h["id"], h["events"], h["rep"]) for h in listed] == [
        (1, ["lead.captured"], None),
        (2, ["lead.routed"], 1),
    ]
    assert secret not in json.dumps(listed)

    queue(
        tmp_path,
        ("lead.captured", {"person_id": 7}),
        ("lead.routed", {"person_id": 7, "rep_id": 1}),
        ("lead.routed", {"person_id": 8, "rep_id": 2}),  # another rep's: not for webhook 2
    )
    delivered = leadflow(tmp_path, "webhooks", "deliver")
    ok(delivered)
    assert "Webhooks: 2 delivered, 0 to retry later, 0 failed." in delivered.stderr
    assert "Emails: none sent: no SMTP server is configured" in delivered.stderr
    first = next(body for headers, body in receiver.received if b"lead.captured" in body)
    signature = next(h for h, body in receiver.received if body == first)["X-Leadflow-Signature"]
    assert webhooks.verify(secret, first, signature)

    log = json.loads(ok(leadflow(tmp_path, "webhooks", "deliveries", "--format", "json")))
    assert [(d["webhook"], d["event"], d["status"], d["answer"]) for d in log] == [
        (2, "lead.routed", "delivered", 200),
        (1, "lead.captured", "delivered", 200),
    ]
    only = leadflow(tmp_path, "webhooks", "deliveries", "--webhook", "2", "--status", "failed")
    assert ok(only) and "No deliveries match." in only.stderr
    ok(leadflow(tmp_path, "webhooks", "remove", "2"))
    left = json.loads(ok(leadflow(tmp_path, "webhooks", "list", "--format", "json")))
    assert [h["id"] for h in left] == [1]
    every = json.loads(ok(leadflow(tmp_path, "webhooks", "list", "--all", "--format", "json")))
    assert [(h["id"], h["active"]) for h in every] == [(1, True), (2, False)]


def test_refusals_are_clear(tmp_path: Path) -> None:
    for args, words in (
        (("add", "https://a.io/h", "--events", "lead.routd"), "did you mean 'lead.routed'"),
        (("add", "ftp://a.io/h", "--events", "lead.routed"), "is not an http(s) URL"),
        (("add", "https://a.io/h", "--events", "lead.routed", "--rep", "x@y.io"), "no rep"),
        (("remove", "9"), "no webhook 9"),
        (("deliveries", "--status", "lost"), "no status 'lost'"),
        (("deliveries", "--webhook", "9"), "no webhook 9"),
    ):
        refused = leadflow(tmp_path, "webhooks", *args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert "error:" in refused.stderr and words in refused.stderr, refused.stderr
        assert refused.stdout == ""
