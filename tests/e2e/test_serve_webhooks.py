"""``leadflow serve`` for real, with one and two processes: each capture's lead.captured
reaches a real HTTP listener exactly once, well under a second after the capture."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from test_serve import leadflow, server  # pytest puts this folder on sys.path

from leadflow.services import webhooks
from receivers import Receiver  # tests/ is on sys.path

__all__ = ["server"]  # the fixture: a running `leadflow serve`, 1 and 2 worker processes


@pytest.mark.slow
def test_each_capture_reaches_the_webhook_once_within_a_second(
    server: str, tmp_path: Path, receiver: Receiver
) -> None:
    key = leadflow(tmp_path, "keys", "create", "--scope", "capture").strip()
    secret = leadflow(
        tmp_path, "webhooks", "add", receiver.url, "--events", "lead.captured"
    ).strip()
    auth = {"Authorization": f"Bearer {key}"}
    waits = []
    with httpx.Client(base_url=server, timeout=10) as client:
        for n in range(10):
            started = time.monotonic()
            body = {"email": f"lead{n}@acme.io", "company": "Acme"}
            assert client.post("/api/v1/inquiries", json=body, headers=auth).status_code == 201
            assert receiver.wait_for(n + 1, timeout=5), f"capture {n} was not delivered"
            waits.append(time.monotonic() - started)
    time.sleep(0.5)  # time enough for a second process to send a delivery twice
    ids = Counter(headers["X-Leadflow-Delivery"] for headers, _ in receiver.received)
    assert len(ids) == 10 and set(ids.values()) == {1}, ids
    for headers, body in receiver.received:
        assert webhooks.verify(secret, body, headers["X-Leadflow-Signature"])
    inquiries = {json.loads(body)["data"]["inquiry_id"] for _, body in receiver.received}
    assert len(inquiries) == 10
    assert max(waits) < 1.0, waits  # with LEADFLOW_DISPATCH_INTERVAL's default, 0.2 s
