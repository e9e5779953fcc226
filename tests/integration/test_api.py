"""The HTTP API on SQLite and PostgreSQL: capture, keys and scopes, idempotency, the
quarantine, the one error shape, Web-to-Lead forms, honeypot, activities."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from starlette.exceptions import StarletteDeprecationWarning

from leadflow.adapters.store import tables
from leadflow.api.app import create_app
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.services.forms import create_form
from leadflow.services.keys import create_key, revoke_key
from leadflow.services.uow import UnitOfWork

with warnings.catch_warnings():
    # Starlette's test client now prefers httpx2; the project's dev dependencies pin httpx,
    # which it still supports. Only this one warning is silenced, only for this import.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

B2B = bundled_playbook("b2b-saas")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
READY = {  # the b2b-saas example of a starter buyer deciding this month: A, sales
    "product": "starter",
    "industry": "SaaS",
    "company_size": "40",
    "seniority": "manager",
    "country": "USA",
    "budget": "approved",
    "decision_role": "decision maker",
    "timeframe_days": "14",
}


@dataclass
class Api:
    client: TestClient
    engine: Engine
    admin: dict[str, str]
    capture: dict[str, str]

    def post(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers={**self.capture, **headers})

    def count(self, table: Any) -> int:
        with UnitOfWork(self.engine) as uow:
            return uow.store.count(table)

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(table).order_by(table.c.id)))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    # The engine is handed in: on PostgreSQL the fixture's engine works in a schema of its own.
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with UnitOfWork(engine) as uow:
        admin = create_key(uow, "admin", "tests", NOW).key
    with UnitOfWork(engine) as uow:
        capture = create_key(uow, "capture", "public page", NOW).key
    app = create_app(settings, engine=engine, playbook=B2B, clock=lambda: NOW)
    with TestClient(app) as client:
        yield Api(client, engine, bearer(admin), bearer(capture))


def make_form(api: Api, **options: Any) -> str:
    with UnitOfWork(api.engine) as uow:
        return create_form(uow, "Contact us", NOW, source="website", **options).key


def assert_error(response: Any, status: int, code: str, where: str | None) -> dict[str, Any]:
    """The one error shape: exactly {"error": {"code", "message", "where"}}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "message", "where"]
    assert (body["error"]["code"], body["error"]["where"]) == (code, where)
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ capture


def test_one_inquiry_is_captured_raw_and_rated(api: Api) -> None:
    text = json.dumps({"email": "Ann@Acme.io", "campaign": "spring", **READY}, indent=1)
    response = api.client.post(
        "/api/v1/inquiries",
        content=text,
        headers={**api.capture, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    got = response.json()
    assert got["status"] == "captured"
    assert (got["grade"], got["route"]) == ("A", "sales")
    assert isinstance(got["inquiry_id"], int)
    assert isinstance(got["person_id"], int)
    [row] = api.rows(tables.inquiries)
    assert row.payload == text  # exactly as received
    assert (row.source, row.channel, row.campaign) == ("api", "api", "spring")
    assert row.fields["email"] == "Ann@Acme.io"
    assert "campaign" not in row.fields
    assert row.person_id == got["person_id"]


def test_a_batch_answers_per_inquiry_and_quarantines_only_the_unidentifiable(api: Api) -> None:
    items = [
        {"email": "bo@acme.io", "source": "webinar", **READY},
        {"email": "BO@acme.io", "product": "starter"},
        {"first_name": "No", "last_name": "Contact"},
    ]
    response = api.post("/api/v1/inquiries", {"inquiries": items})
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["count"] == 3
    first, second, third = got["data"]
    assert (first["status"], second["status"], third["status"]) == (
        "captured",
        "captured",
        "quarantined",
    )
    assert first["person_id"] == second["person_id"]  # the same person, by email
    assert third["inquiry_id"] is None and third["quarantine_id"] and third["error"]
    rows = api.rows(tables.inquiries)
    assert [r.payload for r in rows] == [json.dumps(i, ensure_ascii=False) for i in items[:2]]
    assert rows[0].source == "webinar" and rows[1].source == "api"
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.payload) == ("no_identity", json.dumps(items[2]))


def test_an_idempotent_retry_returns_the_first_result_and_stores_one_inquiry(api: Api) -> None:
    body = {"email": "cy@acme.io", **READY}
    first = api.post("/api/v1/inquiries", body, **{"Idempotency-Key": "order-1"})
    again = api.post("/api/v1/inquiries", body, **{"Idempotency-Key": "order-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    same = ("inquiry_id", "person_id", "grade", "route")
    assert [again.json()[k] for k in same] == [first.json()[k] for k in same]
    assert again.json()["status"] == "repeated"
    assert api.count(tables.inquiries) == 1

    batch = {"inquiries": [{"email": "di@acme.io"}, {"email": "ed@acme.io"}]}
    one = api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "b-7"})
    two = api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "b-7"})
    assert [d["inquiry_id"] for d in two.json()["data"]] == [
        d["inquiry_id"] for d in one.json()["data"]
    ]
    assert [d["status"] for d in two.json()["data"]] == ["repeated", "repeated"]
    assert api.count(tables.inquiries) == 3
    keys = [r.idempotency_key for r in api.rows(tables.inquiries)]
    assert keys == ["order-1", "b-7 \u203a 0", "b-7 \u203a 1"]  # no header carries a '\u203a'


def test_a_key_reused_for_a_different_inquiry_is_a_conflict_and_loses_nothing(api: Api) -> None:
    """The same body again (members in another order) is a retry; a different one is
    refused with 409, so the new inquiry is neither dropped nor answered with the first
    one's rating. The same holds for a key whose first request was quarantined."""
    first = api.post(
        "/api/v1/inquiries",
        {"email": "a1@acme.io", "budget": "approved"},
        **{"Idempotency-Key": "k-1"},
    )
    assert first.status_code == 201, first.text
    again = api.client.post(
        "/api/v1/inquiries",
        content='{"budget": "approved",   "email": "a1@acme.io"}',
        headers={**api.capture, "Content-Type": "application/json", "Idempotency-Key": "k-1"},
    )
    assert again.json()["status"] == "repeated"
    other = api.post("/api/v1/inquiries", {"email": "b2@acme.io"}, **{"Idempotency-Key": "k-1"})
    error = assert_error(other, 409, "conflict", "Idempotency-Key")
    assert f"inquiry {first.json()['inquiry_id']}" in error["message"]
    assert "b2@acme.io" not in other.text
    kept = api.post("/api/v1/inquiries", {"first_name": "Kim"}, **{"Idempotency-Key": "k-2"})
    assert kept.json()["status"] == "quarantined"
    fixed = {"first_name": "Kim", "email": "kim@acme.io"}
    assert_error(
        api.post("/api/v1/inquiries", fixed, **{"Idempotency-Key": "k-2"}),
        409,
        "conflict",
        "Idempotency-Key",
    )
    assert api.post("/api/v1/inquiries", fixed, **{"Idempotency-Key": "k-3"}).status_code == 201
    assert (api.count(tables.inquiries), api.count(tables.quarantine)) == (2, 1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"email": "x@y.io",', "not valid JSON"),
        ("[1, 2]", "JSON object, not an array"),
        ("true", "JSON object, not true"),
    ],
)
def test_an_unreadable_body_is_quarantined_and_refused(api: Api, text: str, problem: str) -> None:
    response = api.client.post(
        "/api/v1/inquiries",
        content=text,
        headers={**api.capture, "Content-Type": "application/json"},
    )
    error = assert_error(response, 422, "invalid_input", "body")
    assert problem in error["message"]
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.payload, kept.channel) == ("unparsable_payload", text, "api")
    assert api.count(tables.inquiries) == 0
    assert f"kept in the quarantine as item {kept.id}" in error["message"]
    headers = {**api.capture, "Content-Type": "application/json", "Idempotency-Key": "u-1"}
    for _ in range(2):  # a retry with its key is the same item, not a second one
        again = api.client.post("/api/v1/inquiries", content=text, headers=headers)
        assert_error(again, 422, "invalid_input", "body")
    assert api.count(tables.quarantine) == 2


def test_the_error_shape_names_the_field_of_the_item(api: Api) -> None:
    items: list[dict[str, Any]] = [{"email": f"p{i}@acme.io"} for i in range(5)]
    items[3]["budget"] = ["approved"]
    response = api.post("/api/v1/inquiries", {"inquiries": items})
    assert response.json() == {
        "error": {
            "code": "invalid_input",
            "message": "a field must be text, a number, true/false or null",
            "where": "inquiries[3].budget",
        }
    }
    assert response.status_code == 422
    nested = api.post("/api/v1/inquiries", {"email": "a@b.io", "budget": {"x": 1}})
    error = assert_error(nested, 422, "invalid_input", "budget")
    assert error["message"] == "a field must be text, a number, true/false or null"
    for path, body, where, said in [
        ("inquiries", {"inquiries": [{"email": "a@b.io"}, 1]}, "inquiries[1]", "a JSON object"),
        ("inquiries", {"inquiries": "x"}, "inquiries", "a JSON array"),
        ("activities", {"activities": [1]}, "activities[0]", "a JSON object"),
    ]:
        error = assert_error(api.post(f"/api/v1/{path}", body), 422, "invalid_input", where)
        assert error["message"] == f"Input should be {said}"  # not the model's class name
    assert api.count(tables.inquiries) == 0
    assert api.count(tables.quarantine) == 0  # refused, not kept: the sender still has it


def test_a_batch_over_1000_is_refused(api: Api) -> None:
    items = [{"email": f"p{i}@acme.io"} for i in range(1001)]
    error = assert_error(
        api.post("/api/v1/inquiries", {"inquiries": items}), 422, "invalid_input", "inquiries"
    )
    assert "1000" in error["message"]
    assert api.count(tables.inquiries) == 0


# ------------------------------------------------------------------ keys and scopes


def test_keys_are_checked_and_scopes_enforced(api: Api) -> None:
    body = {"email": "fay@acme.io"}
    missing = api.client.post("/api/v1/inquiries", json=body)
    assert_error(missing, 401, "unauthorized", None)
    assert missing.headers["www-authenticate"] == "Bearer"
    token = api.capture["Authorization"].removeprefix("Bearer ")
    forged = token[: -len("xyz")] + "xyz"
    refused = (
        bearer(forged),
        bearer("lf_nope_nope"),
        {"Authorization": token},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
    )
    for headers in refused:
        assert_error(
            api.client.post("/api/v1/inquiries", json=body, headers=headers),
            401,
            "unauthorized",
            None,
        )
    assert api.count(tables.inquiries) == 0
    # The scheme in any case and spaces around the key, as HTTPBearer reads them.
    for header in (f"bearer {token}", f"BEARER  {token} "):
        answer = api.client.post("/api/v1/inquiries", json=body, headers={"Authorization": header})
        assert answer.status_code in (200, 201), answer.text
    assert api.count(tables.inquiries) == 2

    assert_error(api.client.get("/api/v1/forms", headers=api.capture), 403, "forbidden", None)
    form = {"name": "Trial"}
    assert_error(
        api.client.post("/api/v1/forms", json=form, headers=api.capture), 403, "forbidden", None
    )
    made = api.client.post("/api/v1/forms", json=form, headers=api.admin)
    assert made.status_code == 201, made.text
    assert made.json()["action"].endswith(f"/f/{made.json()['key']}")
    listed = api.client.get("/api/v1/forms", headers=api.admin).json()
    assert [f["name"] for f in listed["data"]] == ["Trial"]
    assert api.post("/api/v1/inquiries", body, **api.admin).status_code == 201  # admin does all

    with UnitOfWork(api.engine) as uow:
        revoke_key(uow, token.split("_")[1], NOW)
    assert_error(api.post("/api/v1/inquiries", body), 401, "unauthorized", None)


# ------------------------------------------------------------------ web forms


@pytest.mark.parametrize(
    ("content", "says"),
    [('{"name": ', "not valid JSON: Expecting value (character 9)"), ("", "Field required")],
    ids=["broken-json", "empty"],
)
def test_a_bad_body_on_an_admin_route_is_placed_at_body(api: Api, content: str, says: str) -> None:
    headers = {**api.admin, "Content-Type": "application/json"}
    error = assert_error(
        api.client.post("/api/v1/forms", content=content, headers=headers),
        422,
        "invalid_input",
        "body",
    )
    assert says in error["message"]


def test_a_web_to_lead_post_is_captured_mapped_and_redirected(api: Api) -> None:
    key = make_form(api, field_map={"00N5e00000abcde": "budget"})
    text = (
        "oid=00D000000000001&retURL=https%3A%2F%2Fexample.com%2Fthanks&first_name=Gil"
        "&last_name=Ray&email=gil%40acme.io&company=Acme&title=CTO&phone=%2B14155550100"
        "&lead_source=Webinar&description=Call+me&00N5e00000abcde=approved&submit=Submit"
    )
    response = api.client.post(
        f"/f/{key}",
        content=text,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "https://example.com/thanks"
    [row] = api.rows(tables.inquiries)
    assert row.payload == text
    assert (row.channel, row.source, row.form_key) == ("form", "website", key)
    assert row.fields["budget"] == "approved"
    assert row.fields["description"] == "Call me"
    assert not {"oid", "retURL", "submit", "00N5e00000abcde"} & set(row.fields)
    with UnitOfWork(api.engine) as uow:
        person = uow.store.person(row.person_id)
    assert person is not None
    assert (person.email, person.facts["budget"]) == ("gil@acme.io", "approved")
    assert person.facts["lead_source"] == "Webinar"


@pytest.mark.parametrize(
    ("honeypot", "field_map"),
    [
        ("email", None),
        ("Company", None),
        ("retURL", None),
        ("00N5e00000abcde", {"00N5e00000abcde": "budget"}),
    ],
)
def test_a_honeypot_may_not_be_a_field_people_fill_in(
    api: Api, honeypot: str, field_map: dict[str, str] | None
) -> None:
    """Else every real post would be taken for a bot's and thrown away."""
    body: dict[str, Any] = {"name": "Trap", "honeypot": honeypot}
    if field_map:
        body["field_map"] = field_map
    refused = api.client.post("/api/v1/forms", json=body, headers=api.admin)
    assert_error(refused, 422, "invalid_input", "honeypot")
    assert api.count(tables.forms) == 0
    made = api.client.post(
        "/api/v1/forms", json={"name": "Trap", "honeypot": "fax_2"}, headers=api.admin
    )
    assert made.status_code == 201, made.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # a Latin-1 page: no charset said anywhere, bytes that are not UTF-8
        ("email=zoe%40acme.io&first_name=Zo%EB&last_name=M%FCller", ""),
        ("email=zoe%40acme.io&first_name=Zo%EB&last_name=M%FCller", "; charset=ISO-8859-1"),
        ("email=zoe%40acme.io&first_name=Zo%EB&last_name=M%FCller&encoding=ISO-8859-1", ""),
        ("email=zoe%40acme.io&first_name=Zo%C3%AB&last_name=M%C3%BCller&_charset_=UTF-8", ""),
        ("email=zoe%40acme.io&first_name=Zo%C3%AB&last_name=M%C3%BCller", ""),
    ],
    ids=["latin1-unsaid", "latin1-header", "latin1-web-to-lead", "utf8-said", "utf8"],
)
def test_a_form_post_is_read_in_the_charset_it_was_sent_in(
    api: Api, body: str, content_type: str
) -> None:
    key = make_form(api)
    response = api.client.post(
        f"/f/{key}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded" + content_type},
        follow_redirects=False,
    )
    assert response.status_code in (200, 303), response.text
    [row] = api.rows(tables.inquiries)
    with UnitOfWork(api.engine) as uow:
        person = uow.store.person(row.person_id)
    assert person is not None
    assert (person.first_name, person.last_name) == ("Zoë", "Müller")
    assert row.payload == body
    assert "encoding" not in row.fields and "_charset_" not in row.fields


def test_a_multipart_post_goes_to_the_thank_you_page(api: Api) -> None:
    key = make_form(api, field_map={"00N5e00000abcde": "budget"}, thank_you_url="/thanks")
    response = api.client.post(
        f"/f/{key}",
        data={"email": "hal@acme.io", "00N5e00000abcde": "approved", "encoding": "UTF-8"},
        files={"resume": ("cv.txt", b"binary stuff")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/thanks"
    [row] = api.rows(tables.inquiries)
    assert row.fields == {"email": "hal@acme.io", "budget": "approved"}
    assert "multipart" not in row.payload and "hal@acme.io" in row.payload
    assert "cv.txt" in row.payload  # the whole body, exactly as received


def test_a_form_answers_json_when_asked(api: Api) -> None:
    key = make_form(api, thank_you_url="https://example.com/t")
    response = api.client.post(
        f"/f/{key}", data={"email": "ivy@acme.io"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"status": "received", "redirect": "https://example.com/t"}
    assert api.count(tables.inquiries) == 1


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_captured(api: Api) -> None:
    key = make_form(api, thank_you_url="https://example.com/t")
    human = {"email": "jo@acme.io", "website_url": ""}
    bot = {"email": "bot@spam.io", "website_url": "http://spam.example"}
    answers = []
    for fields in (human, bot):
        redirect = api.client.post(f"/f/{key}", data=fields, follow_redirects=False)
        as_json = api.client.post(f"/f/{key}", data=fields, headers={"Accept": "application/json"})
        answers.append((redirect.status_code, redirect.headers["location"], as_json.json()))
    assert answers[0] == answers[1]
    assert [r.fields["email"] for r in api.rows(tables.inquiries)] == ["jo@acme.io"] * 2
    assert api.count(tables.quarantine) == 0
    spam = [e for e in api.rows(tables.events) if e.type == "form.spam"]
    assert len(spam) == 2 and spam[0].data["form_key"] == key


def test_an_unknown_form_is_quarantined_and_answered_404(api: Api) -> None:
    text = "email=kim%40acme.io&first_name=Kim"
    response = api.client.post(
        "/f/nope",
        content=text,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert_error(response, 404, "not_found", None)
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.payload, kept.form_key) == ("unknown_form", text, "nope")
    assert api.count(tables.inquiries) == 0


def test_a_deactivated_form_captures_nothing_until_it_is_activated_again(api: Api) -> None:
    from leadflow.services.forms import set_form_active

    key = make_form(api, thank_you_url="https://example.com/t")
    with UnitOfWork(api.engine) as uow:
        assert not set_form_active(uow, key, False).active
    off = api.client.post(f"/f/{key}", data={"email": "lou@acme.io"}, follow_redirects=False)
    assert_error(off, 404, "not_found", None)
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.form_key) == ("unknown_form", key)
    with UnitOfWork(api.engine) as uow:
        assert set_form_active(uow, key, True).active
    on = api.client.post(f"/f/{key}", data={"email": "lou@acme.io"}, follow_redirects=False)
    assert on.status_code == 303
    assert api.count(tables.inquiries) == 1


def test_a_post_to_a_form_switched_off_is_replayed_as_the_form_reads_it(api: Api) -> None:
    """Kept as posted (custom field ids, control fields), it is read through the form's
    map and counted for its source when replayed, as the post would have been."""
    from leadflow.services.capture import CaptureSettings
    from leadflow.services.forms import set_form_active
    from leadflow.services.quarantine import replay

    ids = {"00N5e00000abcde": "budget", "00N5e00000tfram": "timeframe_days"}
    key = make_form(api, field_map=ids)
    with UnitOfWork(api.engine) as uow:
        set_form_active(uow, key, False)
    post = {n: v for n, v in READY.items() if n not in ("budget", "timeframe_days")}
    post |= {"email": "zoe@acme.io", "00N5e00000abcde": "approved", "00N5e00000tfram": "14"}
    post |= {"retURL": "https://example.com/x", "oid": "00D000000000001"}
    off = api.client.post(f"/f/{key}", data=post, follow_redirects=False)
    assert_error(off, 404, "not_found", None)
    [kept] = api.rows(tables.quarantine)
    with UnitOfWork(api.engine) as uow:
        set_form_active(uow, key, True)
    with UnitOfWork(api.engine) as uow:
        done = replay(uow, B2B, kept.id, CaptureSettings(), NOW)
    assert (done.result.grade, done.result.route) == ("A", "sales")
    [inquiry] = api.rows(tables.inquiries)
    assert (inquiry.source, inquiry.form_key) == ("website", key)
    assert inquiry.fields["budget"] == "approved"
    assert not {"retURL", "oid", "00N5e00000abcde"} & set(inquiry.fields)


def test_switching_an_unknown_form_is_a_clear_error(api: Api) -> None:
    from leadflow.errors import NotFound
    from leadflow.services.forms import set_form_active

    with UnitOfWork(api.engine) as uow, pytest.raises(NotFound, match="no form with key 'x'"):
        set_form_active(uow, "x", False)


# ------------------------------------------------------------------ activities


def test_activities_by_email_raise_engagement(api: Api) -> None:
    lead = {"email": "lee@acme.io", "product": "starter", "industry": "software"}
    captured = api.post("/api/v1/inquiries", lead).json()
    with UnitOfWork(api.engine) as uow:
        before = uow.store.rating(captured["person_id"])
    assert before is not None and before.engagement == 0

    one = api.post("/api/v1/activities", {"type": "trial_signup", "email": "LEE@acme.io"})
    assert one.status_code == 201, one.text
    assert one.json()["person_id"] == captured["person_id"]
    assert one.json()["engagement"] > 0
    batch = [
        {"type": "email_reply", "email": "lee@acme.io", "at": "2026-11-22T10:00:00Z"},
        {"type": "webinar_attended", "person_id": captured["person_id"]},
    ]
    many = api.post("/api/v1/activities", {"activities": batch}, **api.admin)
    assert many.status_code == 200, many.text
    data = many.json()["data"]
    assert many.json()["count"] == 2
    # the person is rated once, after the batch: both answers give that rating
    assert one.json()["engagement"] < data[0]["engagement"] == data[1]["engagement"]
    with UnitOfWork(api.engine) as uow:
        after = uow.store.rating(captured["person_id"])
    assert after is not None and after.engagement == data[1]["engagement"]
    assert sorted(data[1]) == [
        "activity_id",
        "engagement",
        "grade",
        "person_id",
        "route",
        "scored",
    ]
    with UnitOfWork(api.engine) as uow:
        after = uow.store.rating(captured["person_id"])
    assert after is not None
    assert (after.engagement, after.grade) == (data[1]["engagement"], data[1]["grade"])
    assert api.count(tables.activities) == 3
    assert one.json()["scored"] and all(d["scored"] for d in data)
    # A type the playbook does not score is kept, earns nothing, and says so.
    typo = api.post("/api/v1/activities", {"type": "Webinar-Attend", "email": "lee@acme.io"})
    assert typo.status_code == 201, typo.text
    assert not typo.json()["scored"] and typo.json()["engagement"] == data[1]["engagement"]
    spelled = api.post("/api/v1/activities", {"type": "Webinar Attended", "email": "lee@acme.io"})
    assert spelled.json()["scored"]  # types compare like choices
    assert api.count(tables.activities) == 5


def test_an_activity_finds_whom_an_inquiry_with_its_identifiers_would(api: Api) -> None:
    """The rules' order, as at capture: a source's id, then the email, then the phone."""
    crm = api.post("/api/v1/inquiries", {"source": "crm", "id": "42", "email": "ida@acme.io"})
    other = api.post("/api/v1/inquiries", {"email": "ivo@acme.io", "phone": "+1 415 555 0142"})
    ids = {"email": "ivo@acme.io", "external_id": "crm:42"}
    inquiry = api.post("/api/v1/inquiries", {"source": "crm", "id": "42", "email": "ivo@acme.io"})
    assert inquiry.json()["person_id"] == crm.json()["person_id"] != other.json()["person_id"]
    by_ids = api.post("/api/v1/activities", {"type": "page_view", **ids})
    assert by_ids.json()["person_id"] == crm.json()["person_id"]
    by_phone = {"email": "ghost@acme.io", "phone": "+14155550142", "external_id": "crm:7"}
    found = api.post("/api/v1/activities", {"type": "page_view", **by_phone})
    assert found.json()["person_id"] == other.json()["person_id"]


def test_an_activity_by_a_phone_several_people_gave_is_409_and_records_nothing(api: Api) -> None:
    """A switchboard's number is Carl's, Dina's and Eve's, whose names cannot be one
    person's: by the number alone an activity was Carl's, who gave it first. It is
    refused at `phone`, naming them; an email that finds one of them still finds her."""
    board = "+1 415 555 0100"
    people = [
        api.post(
            "/api/v1/inquiries",
            {"first_name": first, "last_name": last, "email": f"{first}@acme.io", "phone": board},
        ).json()["person_id"]
        for first, last in (("carl", "Ray"), ("dina", "Fox"), ("eve", "Hart"))
    ]
    assert len(set(people)) == 3
    said = (
        "phone +14155550100 belongs to 3 people:"
        " give their own email or external_id (or person_id, with an admin key)"
    )
    error = assert_error(
        api.post("/api/v1/activities", {"type": "call", "phone": "(415) 555-0100"}),
        409,
        "conflict",
        "phone",
    )
    assert error["message"] == said
    ghost = {"type": "call", "email": "ghost@acme.io", "phone": board}
    error = assert_error(api.post("/api/v1/activities", ghost), 409, "conflict", "phone")
    assert error["message"] == f"no person with email ghost@acme.io; {said}"
    batch = [{"type": "call", "email": "dina@acme.io"}, {"type": "call", "phone": board}]
    refused = api.post("/api/v1/activities", {"activities": batch})
    assert assert_error(refused, 409, "conflict", "activities[1].phone")["message"] == said
    assert api.count(tables.activities) == 0
    dina = {"type": "call", "email": "dina@acme.io", "phone": board}
    by_email = api.post("/api/v1/activities", dina)
    assert by_email.status_code == 201, by_email.text
    assert by_email.json()["person_id"] == people[1]
    assert api.count(tables.activities) == 1


def test_an_activity_by_a_role_address_several_people_gave_is_409_unless_another_finds_one(
    api: Api,
) -> None:
    """Ann, Bob and Dan write from info@, whose names cannot be one person's: by the
    address alone an activity was Ann's, who wrote first. It is refused at `email`, alone
    and in a batch; Bob's own number, given with it, finds him, as it would an inquiry."""
    bob_phone = "+1 415 555 0123"
    writers: list[dict[str, str]] = [
        {"first_name": "Ann", "last_name": "Lee"},
        {"first_name": "Bob", "last_name": "Stone", "phone": bob_phone},
        {"first_name": "Dan"},
    ]
    people = [
        api.post("/api/v1/inquiries", {**who, "email": "info@acme.com"}).json()["person_id"]
        for who in writers
    ]
    assert len(set(people)) == 3
    said = (
        "email info@acme.com belongs to 3 people:"
        " give external_id (or person_id, with an admin key)"
    )
    alone = {"type": "call", "email": "Info@Acme.com"}
    error = assert_error(api.post("/api/v1/activities", alone), 409, "conflict", "email")
    assert error["message"] == said
    unknown = {"type": "call", "email": "info@acme.com", "phone": "+1 415 555 0999"}
    error = assert_error(api.post("/api/v1/activities", unknown), 409, "conflict", "email")
    assert error["message"] == f"no person with phone +14155550999; {said}"
    bob = {"type": "call", "email": "info@acme.com", "phone": bob_phone}
    refused = api.post("/api/v1/activities", {"activities": [bob, alone]})
    assert assert_error(refused, 409, "conflict", "activities[1].email")["message"] == said
    assert api.count(tables.activities) == 0
    found = api.post("/api/v1/activities", bob)
    assert found.status_code == 201, found.text
    assert found.json()["person_id"] == people[1]
    both = api.post("/api/v1/activities", {"activities": [bob, {**bob, "type": "meeting"}]})
    assert both.status_code == 200, both.text
    assert [a["person_id"] for a in both.json()["data"]] == [people[1], people[1]]
    assert api.count(tables.activities) == 3


def test_an_activity_for_nobody_known_is_404_and_records_nothing(api: Api) -> None:
    api.post("/api/v1/inquiries", {"email": "max@acme.io"})
    batch = [
        {"type": "page_view", "email": "max@acme.io"},
        {"type": "page_view", "email": "ghost@acme.io"},
    ]
    response = api.post("/api/v1/activities", {"activities": batch})
    error = assert_error(response, 404, "not_found", "activities[1]")
    assert "ghost@acme.io" in error["message"]
    assert api.count(tables.activities) == 0
    assert_error(
        api.post("/api/v1/activities", {"email": "max@acme.io"}), 422, "invalid_input", "type"
    )


def test_an_activity_is_never_dated_after_now(api: Api) -> None:
    """A sender's clock a little ahead is taken as now; a time later than five minutes
    ahead, or out of range, is refused and records nothing."""
    person = api.post("/api/v1/inquiries", {"email": "kai@acme.io"}).json()["person_id"]
    ahead = api.post(
        "/api/v1/activities",
        {"type": "email_click", "email": "kai@acme.io", "at": "2026-11-23T09:03:00Z"},
    )
    assert ahead.status_code == 201, ahead.text
    with api.engine.connect() as connection:
        stored = connection.execute(select(tables.activities.c.at)).scalar_one()
    assert (stored if stored.tzinfo else stored.replace(tzinfo=UTC)) == NOW
    said = []
    for when in (
        "2027-11-24T09:30:00+02:00",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+14:00",
    ):
        refused = api.post(
            "/api/v1/activities", {"type": "email_click", "email": "kai@acme.io", "at": when}
        )
        said.append(assert_error(refused, 422, "invalid_input", "at")["message"])
    assert said[0] == (  # leadflow's moments in its one form; what it cannot read, as given
        "'at' 2027-11-24T07:30:00Z is in the future (now 2026-11-23T09:00:00Z);"
        " record an activity once it has happened"
    )
    assert said[1].startswith("'at' 9999-12-31T23:59:59-05:00 is out of range")
    batch = {"activities": [{"type": "call", "person_id": person, "at": "2026-11-24T09:00:00Z"}]}
    assert_error(
        api.post("/api/v1/activities", batch, **api.admin), 422, "invalid_input", "activities[0].at"
    )
    assert api.count(tables.activities) == 1
    with UnitOfWork(api.engine) as uow:
        rating = uow.store.rating(person)
    assert rating is not None
    assert (
        rating.rated_at if rating.rated_at.tzinfo else rating.rated_at.replace(tzinfo=UTC)
    ) == NOW


def test_a_capture_key_names_people_by_what_it_knows_never_by_id(api: Api) -> None:
    """Counting through person ids with the public key would read every lead's grade."""
    person = api.post("/api/v1/inquiries", {"email": "ida@acme.io"}).json()["person_id"]
    by_id = {"type": "page_view", "person_id": person}
    assert_error(api.post("/api/v1/activities", by_id), 403, "forbidden", "person_id")
    assert_error(
        api.post(
            "/api/v1/activities", {"activities": [{"type": "call", "email": "ida@acme.io"}, by_id]}
        ),
        403,
        "forbidden",
        "activities[1].person_id",
    )
    assert api.count(tables.activities) == 0
    assert api.post("/api/v1/activities", by_id, **api.admin).status_code == 201
    huge = {"type": "page_view", "person_id": 2**63}
    assert_error(
        api.post("/api/v1/activities", huge, **api.admin), 422, "invalid_input", "person_id"
    )


def test_an_activity_with_an_unusable_email_or_phone_says_which(api: Api) -> None:
    error = assert_error(
        api.post("/api/v1/activities", {"type": "page_view", "email": "not-an-email"}),
        422,
        "invalid_input",
        "email",
    )
    assert "@-sign" in error["message"]
    assert_error(
        api.post("/api/v1/activities", {"type": "page_view", "phone": "12"}),
        422,
        "invalid_input",
        "phone",
    )


def test_a_null_source_is_the_default_as_a_null_campaign_is(api: Api) -> None:
    sent = api.post("/api/v1/inquiries", {"email": "nul@acme.io", "source": None, "campaign": None})
    assert sent.status_code == 201, sent.text
    [row] = api.rows(tables.inquiries)
    assert (row.source, row.campaign) == ("api", None)
    assert "source" not in row.fields


@pytest.mark.parametrize("blank", ["", "   ", "\u00a0\t"])
def test_a_blank_source_is_refused_and_one_with_spaces_around_is_trimmed(
    api: Api, blank: str
) -> None:
    """A source names where an inquiry or activity came from; spaces alone name nothing
    (they were stored as sent). Null is the default, as documented."""
    said = assert_error(
        api.post("/api/v1/inquiries", {"email": "sp@acme.io", "source": blank}),
        422,
        "invalid_input",
        "source",
    )
    assert "blank" in said["message"]
    batch = {"inquiries": [{"email": "sq@acme.io"}, {"email": "sr@acme.io", "source": blank}]}
    assert_error(api.post("/api/v1/inquiries", batch), 422, "invalid_input", "inquiries[1].source")
    assert api.count(tables.inquiries) == 0
    sent = api.post("/api/v1/inquiries", {"email": "sp@acme.io", "source": "  expo  "})
    assert sent.status_code == 201, sent.text
    [row] = api.rows(tables.inquiries)
    assert row.source == "expo"
    activity = {"type": "page_view", "email": "sp@acme.io", "source": blank}
    assert_error(api.post("/api/v1/activities", activity), 422, "invalid_input", "source")
    activity["source"] = " ads "
    assert api.post("/api/v1/activities", activity).status_code == 201
    assert [r.source for r in api.rows(tables.activities)] == ["ads"]


@pytest.mark.parametrize("value", [True, False, {"crm": 7}, [7]])
@pytest.mark.parametrize("name", ["external_id", "Record ID"])
def test_an_external_id_that_is_no_text_or_number_is_refused_naming_it(
    api: Api, name: str, value: object
) -> None:
    """A source's id of true was stored as the text 'True' (and every 'true' matched one
    person); an object or array is no field at all; a number is its text."""
    said = assert_error(
        api.post("/api/v1/inquiries", {"email": "e@x.io", name: value}), 422, "invalid_input", name
    )
    if isinstance(value, bool):
        assert said["message"] == "an external id must be text or a number, not true/false"
    batch = {"inquiries": [{"email": "f@x.io"}, {"email": "e@x.io", name: value}]}
    where = f"inquiries[1].{name}"
    assert_error(api.post("/api/v1/inquiries", batch), 422, "invalid_input", where)
    assert api.count(tables.inquiries) == api.count(tables.quarantine) == 0
    assert api.post("/api/v1/inquiries", {"email": "e@x.io", name: 42}).status_code == 201
    [row] = api.rows(tables.inquiries)
    assert row.external_id == "42"


def test_a_phone_may_be_sent_as_a_number(api: Api) -> None:
    captured = api.post("/api/v1/inquiries", {"phone": 4155550123, "first_name": "Noa"})
    assert captured.status_code == 201, captured.text
    with UnitOfWork(api.engine) as uow:
        person = uow.store.person(captured.json()["person_id"])
    assert person is not None and person.phone == "+14155550123"
    touched = api.post("/api/v1/activities", {"type": "call", "phone": 4155550123})
    assert touched.status_code == 201, touched.text
    assert touched.json()["person_id"] == captured.json()["person_id"]


def test_a_body_over_the_limit_is_refused_413_and_stores_nothing(engine: Engine) -> None:
    """Said in Content-Length, or found out while a chunked body arrives; the API's and
    the forms' paths alike."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, max_body_bytes=10_000)
    with UnitOfWork(engine) as uow:
        key = bearer(create_key(uow, "capture", "public page", NOW).key)
    with UnitOfWork(engine) as uow:
        form = create_form(uow, "Contact us", NOW).key
    app = create_app(settings, engine=engine, playbook=B2B, clock=lambda: NOW)
    big = {"email": "big@acme.io", "description": "x" * 20_000}
    with TestClient(app) as client:
        said = client.post("/api/v1/inquiries", json=big, headers=key)
        error = assert_error(said, 413, "too_large", "body")
        assert "10,000 bytes" in error["message"]
        text = json.dumps(big).encode()
        chunked = client.post(
            "/api/v1/inquiries",
            content=(text[i : i + 4096] for i in range(0, len(text), 4096)),
            headers={**key, "Content-Type": "application/json"},
        )
        assert "content-length" not in {k.lower() for k in chunked.request.headers}
        assert_error(chunked, 413, "too_large", "body")
        posted = client.post(f"/f/{form}", data=big, follow_redirects=False)
        assert_error(posted, 413, "too_large", "body")
        small = client.post("/api/v1/inquiries", json={"email": "ok@acme.io"}, headers=key)
        assert small.status_code == 201, small.text
    with UnitOfWork(engine) as uow:
        counts = (uow.store.count(tables.inquiries), uow.store.count(tables.quarantine))
    assert counts == (1, 0)


def test_pages_of_the_sites_allowed_may_post_captures_from_the_browser(engine: Engine) -> None:
    """CORS for the capture paths and the sites LEADFLOW_CORS_ORIGINS names, nothing
    else; without the setting no browser of another site is answered."""
    url = engine.url.render_as_string(hide_password=False)
    with UnitOfWork(engine) as uow:
        key = bearer(create_key(uow, "capture", "public page", NOW).key)
    site, other = "https://www.example.com", "https://evil.example.net"
    ask = {"Access-Control-Request-Method": "POST"}
    ask["Access-Control-Request-Headers"] = "authorization, content-type, idempotency-key"
    allowed = Settings(database_url=url, cors_origins=f"{site}/, https://shop.example.com")
    with TestClient(create_app(allowed, engine=engine, playbook=B2B, clock=lambda: NOW)) as c:
        preflight = c.options("/api/v1/inquiries", headers={"Origin": site, **ask})
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == site
        assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
        refused = c.options("/api/v1/activities", headers={"Origin": other, **ask})
        assert "access-control-allow-origin" not in refused.headers
        posted = c.post(
            "/api/v1/inquiries", json={"email": "web@acme.io"}, headers={**key, "Origin": site}
        )
        assert posted.status_code == 201, posted.text
        assert posted.headers["access-control-allow-origin"] == site
        admin = c.options("/api/v1/forms", headers={"Origin": site, **ask})
        assert "access-control-allow-origin" not in admin.headers
    plain = Settings(database_url=url)
    with TestClient(create_app(plain, engine=engine, playbook=B2B, clock=lambda: NOW)) as c:
        posted = c.post(
            "/api/v1/inquiries", json={"email": "web2@acme.io"}, headers={**key, "Origin": site}
        )
        assert posted.status_code == 201
        assert "access-control-allow-origin" not in posted.headers


# ------------------------------------------------------------------ the document


def test_openapi_document_and_liveness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    document = api.client.get("/openapi.json").json()
    assert {"/api/v1/inquiries", "/api/v1/activities", "/f/{form_key}"} <= set(document["paths"])
    assert {t["name"] for t in document["tags"]} >= {"inquiries", "activities", "forms"}
    capture_op = document["paths"]["/api/v1/inquiries"]["post"]
    assert capture_op["tags"] == ["inquiries"]
    assert "application/json" in capture_op["requestBody"]["content"]
    # The route reads its key and Idempotency-Key by hand; the document still names both.
    assert capture_op["security"] == [{"ApiKey": []}]
    assert [p["name"] for p in capture_op["parameters"]] == ["Idempotency-Key"]
    assert {"200", "201", "202", "401", "422"} <= set(capture_op["responses"])
    assert "ApiKey" in document["components"]["securitySchemes"]
    assert_error(api.client.get("/no/such/page"), 404, "not_found", None)
