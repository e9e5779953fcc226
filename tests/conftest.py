"""Test settings shared by every suite."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings

from mailserver import Inbox, smtp_server
from receivers import Receiver, serve

# `HYPOTHESIS_PROFILE=deep make test` runs the property-based tests far longer.
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP listener on 127.0.0.1 that answers 200 (see receivers.py)."""
    yield from serve(200)


@pytest.fixture
def broken() -> Iterator[Receiver]:
    """A real HTTP listener on 127.0.0.1 that answers 500 to everything."""
    yield from serve(500)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that takes connections and never answers: the kernel completes
    the handshake into the backlog, nothing accepts, and a PostgreSQL client waits for the
    server's first word until its connect timeout (as behind a host that drops packets)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and what it received (see mailserver.py)."""
    yield from smtp_server()


def _synthetic_leads(rows: int = 400, seed: int = 0, delimiter: str = ",") -> str:
    """CSV text of leads whose conversion depends on known columns (and on nothing else).

    ``budget`` (a number, some blank) and ``role`` (a dropdown, ``Select`` when untouched)
    drive the outcome, ``source`` a little; ``noise`` is random and ``newsletter`` is the
    same for everyone. ``lead_no`` is an identifier and ``signed_up`` a date in row order.
    """
    import csv
    import io
    from datetime import date, timedelta

    import numpy as np

    rng = np.random.default_rng(seed)
    roles = np.array(["Decision Maker", "Influencer", "Researcher", "Select"])
    role = rng.choice(roles, rows, p=[0.3, 0.25, 0.25, 0.2])
    source = rng.choice(np.array(["web", "event", "list"]), rows)
    budget = rng.normal(50, 20, rows).round(0)
    logit = (
        (budget - 50) / 12
        + np.select([role == "Decision Maker", role == "Researcher"], [2.0, -1.5], 0.0)
        + np.where(source == "event", 0.7, 0.0)
        - 0.3
    )
    converted = rng.random(rows) < 1 / (1 + np.exp(-logit))
    blank_budget = rng.random(rows) < 0.1
    text = io.StringIO()
    out = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    out.writerow(
        ["lead_no", "signed_up", "source", "budget", "role", "noise", "newsletter", "Converted"]
    )
    start = date(2025, 1, 1)
    for i in range(rows):
        out.writerow(
            [
                1000 + i,
                (start + timedelta(days=i // 3)).isoformat(),
                source[i],
                "" if blank_budget[i] else f"{budget[i]:.0f}",
                role[i],
                rng.choice(["red", "green", "blue"]),
                "No",
                "Yes" if converted[i] else "No",
            ]
        )
    return text.getvalue()


@pytest.fixture
def synthetic_leads() -> Callable[..., str]:
    """A factory: ``synthetic_leads(rows=400, seed=0, delimiter=",")`` returns CSV text."""
    return _synthetic_leads
