"""``/api/v1/leads`` on SQLite and PostgreSQL: one lead as people read it, and what sales
does with it, through HTTP, with the service's refusals in the one error shape.

Leads are captured through the services, on the clock the app is given (``Desk`` of
``test_handoff.py``), so deadlines in the answers are exact.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning
from test_api import assert_error, bearer  # pytest puts this folder on sys.path
from test_handoff import Desk

from leadflow.adapters.store import tables as t
from leadflow.api.app import create_app
from leadflow.config import Settings
from leadflow.domain.handoff import DEFAULT_REASONS
from leadflow.services.keys import create_key
from leadflow.services.uow import UnitOfWork

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@dataclass
class Leads:
    client: TestClient
    desk: Desk
    admin: dict[str, str]
    capture: dict[str, str]

    def get(self, lead: int, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(
            f"/api/v1/leads/{lead}", headers=self.admin if headers is None else headers
        )

    def post(
        self, lead: int, what: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        return self.client.post(
            f"/api/v1/leads/{lead}/{what}",
            json=body,
            headers=self.admin if headers is None else headers,
        )

    def ok(self, lead: int, what: str, body: Any = None) -> dict[str, Any]:
        response = self.post(lead, what, body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def leads(engine: Engine) -> Iterator[Leads]:
    desk = Desk(engine)
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with UnitOfWork(engine) as uow:
        admin = create_key(uow, "admin", "tests", desk.clock()).key
    with UnitOfWork(engine) as uow:
        capture = create_key(uow, "capture", "public page", desk.clock()).key
    app = create_app(settings, engine=engine, playbook=desk.pb, clock=desk.clock)
    with TestClient(app) as client:
        yield Leads(client, desk, bearer(admin), bearer(capture))


# ---------------------------------------------------------------- GET


def test_a_lead_is_read_with_its_rating_stage_owner_deadlines_and_history(leads: Leads) -> None:
    ann = leads.desk.rep("Ann")
    lead = leads.desk.lead(first_name="Kim", last_name="Lee").person_id or 0
    leads.desk.clock.advance(minutes=10)
    response = leads.get(lead)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["id"] == lead
    assert (view["person"]["first_name"], view["person"]["inquiries"]) == ("Kim", 1)
    assert view["person"]["email"].endswith(".com")
    assert (view["rating"]["grade"], view["rating"]["route"]) == ("A", "sales")
    assert view["rating"]["reasons"] and view["rating"]["playbook_version"] == leads.desk.pb.version
    stage = view["stage"]
    assert (stage["name"], stage["type"], stage["side"]) == (
        "marketing_qualified",
        "marketing-qualified",
        "marketing",
    )
    assert stage["definition"].startswith("Meets the agreed lead definition")
    assert stage["seconds_in_stage"] == 600
    assert view["team"] == "general"
    assert view["owner"] == {
        "id": ann,
        "name": "Ann",
        "email": "ann@acme.example",
        "team": "general",
    }
    assert view["deadlines"] == {
        "accept_by": "2026-11-23T10:00:00+00:00",  # grade A: accept within 1h of work
        "first_contact_by": None,
        "recontact_on": None,
    }
    assert view["reason"] is None
    assert [(h["from"], h["to"], h["current"]) for h in view["history"]] == [
        (None, "inquiry", False),
        ("inquiry", "marketing_qualified", True),
    ]
    assert view["speed_to_lead"]["ready_to_routed_seconds"] == 0
    kinds = [e["type"] for e in view["timeline"]]
    assert kinds.index("stage.changed") < kinds.index("lead.routed")


def test_an_unknown_lead_is_404(leads: Leads) -> None:
    error = assert_error(leads.get(999), 404, "not_found", None)
    assert error["message"] == "no lead 999"
    for what, body in (("accept", {"rep": 1}), ("reject", {"reason": "bad_timing"})):
        assert_error(leads.post(999, what, body), 404, "not_found", None)


def test_only_admin_keys_see_or_touch_leads(leads: Leads) -> None:
    leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    for what, body in (
        ("accept", None),
        ("reject", {"reason": "bad_timing"}),
        ("recycle", {"reason": "bad_timing"}),
        ("disqualify", {"reason": "competitor"}),
        ("contact", None),
    ):
        assert_error(leads.post(lead, what, body, headers=leads.capture), 403, "forbidden", None)
        assert_error(leads.post(lead, what, body, headers={}), 401, "unauthorized", None)
    assert_error(leads.get(lead, headers=leads.capture), 403, "forbidden", None)
    denied = leads.get(lead, headers={})
    assert_error(denied, 401, "unauthorized", None)
    assert denied.headers["WWW-Authenticate"] == "Bearer"
    assert leads.desk.events(lead)[-1] == "lead.routed"  # nothing was done to it


# ---------------------------------------------------------------- dispositions


def test_accept_then_contact(leads: Leads) -> None:
    ann = leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    leads.desk.clock.advance(minutes=20)
    accepted = leads.ok(lead, "accept")
    assert (accepted["stage"]["name"], accepted["stage"]["side"]) == ("sales_accepted", "sales")
    assert accepted["owner"]["id"] == ann
    assert accepted["deadlines"]["accept_by"] is None
    assert accepted["deadlines"]["first_contact_by"] == "2026-11-23T13:20:00+00:00"  # 4h
    assert accepted["speed_to_lead"]["routed_to_accepted_seconds"] == 1200
    history = accepted["history"][-1]
    assert (history["to"], history["event"], history["by"]) == (
        "sales_accepted",
        "sales_accepted",
        history["by"],
    )
    assert history["by"].startswith("api key ")  # who acted is the key
    assert_error(leads.post(lead, "accept"), 409, "conflict", None)  # accepted already

    leads.desk.clock.advance(minutes=30)
    contacted = leads.ok(lead, "contact", {"channel": "email", "note": "Sent the deck"})
    assert contacted["deadlines"]["first_contact_by"] is None
    assert contacted["speed_to_lead"]["accepted_to_contact_seconds"] == 1800
    event = contacted["timeline"][-1]
    assert (event["type"], event["data"]["channel"], event["data"]["note"]) == (
        "lead.contacted",
        "email",
        "Sent the deck",
    )


def test_a_rep_takes_a_lead_from_the_pool(leads: Leads) -> None:
    lead = leads.desk.lead().person_id or 0  # no rep yet: it waits in the pool
    assert leads.get(lead).json()["owner"] is None
    assert_error(leads.post(lead, "accept"), 422, "invalid_input", "rep")
    assert_error(leads.post(lead, "accept", {"rep": 42}), 404, "not_found", None)
    bo = leads.desk.rep("Bo")
    accepted = leads.ok(lead, "accept", {"rep": bo})
    assert (accepted["owner"]["name"], accepted["stage"]["name"]) == ("Bo", "sales_accepted")


def test_reject_with_a_reason_and_a_note(leads: Leads) -> None:
    leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    rejected = leads.ok(lead, "reject", {"reason": "bad_timing", "note": "Budget frozen"})
    assert (rejected["stage"]["name"], rejected["stage"]["side"]) == ("recycled", "marketing")
    assert rejected["owner"] is None
    assert rejected["reason"] == {
        "key": "bad_timing",
        "label": "Bad timing",
        "note": "Budget frozen",
    }
    assert rejected["deadlines"] == {
        "accept_by": None,
        "first_contact_by": None,
        "recontact_on": "2026-12-23",  # the playbook's 30 days
    }
    assert rejected["timeline"][-2]["type"] == "lead.rejected"


def test_recycle_until_a_recontact_date(leads: Leads) -> None:
    leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    leads.ok(lead, "accept")
    recycled = leads.ok(lead, "recycle", {"reason": "no_budget", "recontact_on": "2027-03-01"})
    assert (recycled["stage"]["name"], recycled["owner"]) == ("recycled", None)
    assert recycled["deadlines"]["recontact_on"] == "2027-03-01"
    assert recycled["reason"]["label"] == "No budget"
    assert recycled["timeline"][-2]["type"] == "lead.recycled"


def test_an_unknown_reason_is_422_and_lists_the_known_ones(leads: Leads) -> None:
    leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    before = leads.desk.events(lead)
    for what in ("reject", "recycle", "disqualify"):
        error = assert_error(
            leads.post(lead, what, {"reason": "too_expensive"}), 422, "invalid_input", None
        )
        assert error["message"] == (
            "'too_expensive' is not a reason in the playbook; use one of: "
            + ", ".join(DEFAULT_REASONS)
        )
    assert leads.desk.events(lead) == before


@pytest.mark.parametrize(
    ("what", "body", "where"),
    [
        ("reject", {}, "reason"),
        ("reject", {"reason": ""}, "reason"),
        ("reject", {"reason": "bad_timing", "recontact_on": "soon"}, "recontact_on"),
        ("reject", {"reason": "bad_timing", "recontact_on": "2026-11-01"}, "recontact_on"),
        ("recycle", {"reason": "bad_timing", "colour": "red"}, "colour"),
        ("disqualify", {"reason": "competitor", "note": "x" * 2001}, "note"),
        ("accept", {"rep": "Ann"}, "rep"),
        ("contact", {"channel": "x" * 31}, "channel"),
    ],
)
def test_a_bad_body_is_422_naming_the_field(
    leads: Leads, what: str, body: dict[str, Any], where: str
) -> None:
    leads.desk.rep("Ann")
    lead = leads.desk.lead().person_id or 0
    assert_error(leads.post(lead, what, body), 422, "invalid_input", where)
    assert leads.desk.events(lead)[-1] == "lead.routed"


def test_a_disposition_the_stage_model_refuses_is_409(leads: Leads) -> None:
    leads.desk.rep("Ann")
    prospect = leads.desk.lead(grade="C").person_id or 0
    error = assert_error(leads.post(prospect, "accept", {"rep": 1}), 409, "conflict", None)
    assert error["message"] == (
        f"lead {prospect} is in stage 'prospect', from which the playbook gives no way to "
        "accept it (its next stages: marketing_qualified, disqualified)"
    )
    lead = leads.desk.lead().person_id or 0
    disqualified = leads.ok(lead, "disqualify", {"reason": "competitor", "note": "A reseller"})
    assert (disqualified["stage"]["name"], disqualified["reason"]) == (
        "disqualified",
        {"key": "competitor", "label": "Competitor or partner", "note": "A reseller"},
    )
    error = assert_error(
        leads.post(lead, "disqualify", {"reason": "duplicate"}), 409, "conflict", None
    )
    assert "no way to disqualify it (its next stages: none: it is final)" in error["message"]
    assert_error(leads.post(lead, "accept"), 409, "conflict", None)


def test_contact_needs_an_owner(leads: Leads) -> None:
    lead = leads.desk.lead().person_id or 0  # in the pool
    error = assert_error(leads.post(lead, "contact"), 409, "conflict", None)
    assert error["message"] == f"lead {lead} has no owner to have contacted it"


def test_a_lead_never_rated_has_no_stage_to_act_on(leads: Leads) -> None:
    # A person whose inquiry went to the quarantine does not exist; one made before the
    # hand-off existed has no lifecycle: the refusal says so.
    lead = leads.desk.lead().person_id or 0
    with UnitOfWork(leads.desk.engine) as uow:
        uow.store.connection.execute(t.lifecycle.delete().where(t.lifecycle.c.person_id == lead))
        uow.commit()
    error = assert_error(leads.post(lead, "accept", {"rep": 1}), 409, "conflict", None)
    assert error["message"] == f"lead {lead} has no stage yet (it was never rated)"
    assert leads.get(lead).json()["stage"] is None


def test_the_leads_endpoints_are_in_the_openapi_document(leads: Leads) -> None:
    paths = leads.client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/leads/{person_id}"]) == {"get"}
    for what in ("accept", "reject", "recycle", "disqualify", "contact"):
        assert set(paths[f"/api/v1/leads/{{person_id}}/{what}"]) == {"post"}
