"""The signature check that docs/webhooks.md shows receivers works on leadflow's
signatures (its code block is run here), and the header is what the doc says."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadflow.services import webhooks

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def doc_verify() -> Callable[[str, bytes, str | None], bool]:
    (snippet,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    scope: dict[str, Any] = {}
    exec(snippet, scope)  # the doc's own code, as a receiver would paste it
    verify: Callable[[str, bytes, str | None], bool] = scope["verify"]
    return verify


def test_the_documented_check_accepts_leadflows_signatures_and_nothing_else() -> None:
    verify, secret = doc_verify(), "a" * 64
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    body = webhooks.body_of("lead.routed", {"person_id": 1, "name": "Bø"}, at).encode()
    header = webhooks.sign(secret, body)
    assert header == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert verify(secret, body, header)
    assert not verify(secret, body + b" ", header)
    assert not verify("b" * 64, body, header)
    assert not verify(secret, body, None)
    assert "X-Leadflow-Signature` | `sha256=<hex HMAC-SHA256 of the body with the secret>`" in (
        DOC.read_text(encoding="utf-8")
    )


def test_every_event_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [event for event in webhooks.EVENTS if f"| `{event}` |" not in text]
    assert not missing, f"docs/webhooks.md does not list: {missing}"
