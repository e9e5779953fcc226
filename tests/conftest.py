"""Test settings shared by every suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

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
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and what it received (see mailserver.py)."""
    yield from smtp_server()
