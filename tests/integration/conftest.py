"""Storage tests run twice: on SQLite and on PostgreSQL.

PostgreSQL comes from ``LEADFLOW_TEST_POSTGRES_URL`` (``make test`` starts one and sets
it). Without it the PostgreSQL half is skipped locally and fails in CI, so CI can never
pass while silently testing one database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from leadflow.adapters.store.engine import make_engine, upgrade


def _postgres_url() -> str:
    url = os.environ.get("LEADFLOW_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: LEADFLOW_TEST_POSTGRES_URL is not set")
        pytest.skip("set LEADFLOW_TEST_POSTGRES_URL (make test does) to run on PostgreSQL")
    return url


@pytest.fixture
def postgres_url() -> str:
    """The test server's URL, for a test of connecting itself (skipped as above)."""
    return _postgres_url()


# Each test run works in a schema of its own, so runs on one server (two developers, a
# suite and a helper) never drop each other's tables.
_SCHEMA = f"lf_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def _fresh_postgres(url: str) -> Engine:
    setup = make_engine(url)
    with setup.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {_SCHEMA}"))
    setup.dispose()
    return make_engine(url, connect_args={"options": f"-csearch_path={_SCHEMA}"})


@pytest.fixture(scope="session", autouse=True)
def _drop_test_schema() -> Iterator[None]:
    yield
    url = os.environ.get("LEADFLOW_TEST_POSTGRES_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {_SCHEMA} CASCADE"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'leadflow.db'}")
    else:
        engine = _fresh_postgres(_postgres_url())
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Engine]:
    """A second, migrated, empty SQLite database: what a test compares the first with
    (rows captured one by one against the same rows imported, say)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
