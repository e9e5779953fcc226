"""``/api/v1/reports`` and ``/api/v1/leads/{id}/outcomes`` on SQLite and PostgreSQL: the
same data as the CLI's JSON, admin keys only, refusals in the one error shape."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning
from test_api import assert_error, bearer  # pytest puts this folder on sys.path
from test_handoff import Desk
from test_reports import history

from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.services.keys import create_key
from leadflow.services.uow import UnitOfWork

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def api(engine: Engine) -> Iterator[tuple[Any, Desk, dict[str, str], dict[str, str]]]:
    desk, _ = history(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with UnitOfWork(engine) as uow:
        admin = create_key(uow, "admin", "tests", desk.clock()).key
        capture = create_key(uow, "capture", "form", desk.clock()).key
        uow.commit()
    app = create_app(settings, engine=engine, playbook=desk.pb, clock=desk.clock)
    with TestClient(app) as client:
        yield client, desk, bearer(admin), bearer(capture)


def test_a_report_is_the_same_data_as_the_cli(api: Any) -> None:
    client, _, admin, capture = api
    response = client.get("/api/v1/reports/sources?by=campaign", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["report"], body["columns"][0]) == ("sources", "campaign")
    spring = {row["campaign"]: row for row in body["rows"]}["spring"]
    assert (spring["leads"], spring["won"], spring["revenue"]) == (2, 1, 12_000.0)
    later = client.get("/api/v1/reports/funnel?since=2026-11-24", headers=admin).json()
    assert {row["leads"] for row in later["rows"]} == {0}  # every first inquiry: 2026-11-23
    ranked = client.get("/api/v1/reports/rank?last=2", headers=admin).json()
    assert [row["rank"] for row in ranked["rows"]] == [1, 2]
    assert client.get("/api/v1/reports/funnel", headers=capture).status_code == 403


def test_bad_report_parameters_say_which(api: Any) -> None:
    client, _, admin, _ = api
    assert_error(client.get("/api/v1/reports/nope", headers=admin), 422, "invalid_input", "name")
    wrong = client.get("/api/v1/reports/funnel?by=colour", headers=admin)
    assert_error(wrong, 422, "invalid_input", "by")
    backwards = client.get(
        "/api/v1/reports/funnel?since=2026-12-01&until=2026-11-01", headers=admin
    )
    assert_error(backwards, 422, "invalid_input", "until")


def test_an_outcome_through_the_api_says_whether_the_stage_moved(api: Any) -> None:
    client, _, admin, _ = api
    nurtured = 3  # P3, in nurture
    body = {"outcome": "won", "value": 700, "currency": "usd", "date": "2026-11-20"}
    response = client.post(f"/api/v1/leads/{nurtured}/outcomes", json=body, headers=admin)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["moved"], done["stage"], done["currency"], done["on"]) == (
        False,
        "prospect",
        "USD",
        "2026-11-20",
    )
    negative = client.post(
        f"/api/v1/leads/{nurtured}/outcomes", json={"outcome": "won", "value": -1}, headers=admin
    )
    assert_error(negative, 422, "invalid_input", "value")
    missing = client.post("/api/v1/leads/999/outcomes", json={"outcome": "lost"}, headers=admin)
    assert missing.status_code == 404
