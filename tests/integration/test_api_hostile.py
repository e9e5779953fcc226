"""The API against what hostile or careless senders post, on SQLite and PostgreSQL: bodies
nested too deep or with numbers out of range, NUL characters, charsets that are no
charset, broken return addresses, keys reused for other requests, two captures of one new
person at once, spam to a form that is off, a failure nobody foresaw. Each is answered in
the one error shape or captured, spoils no other request, and loses nothing."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from leadflow.adapters.store import tables
from leadflow.api import routes_inquiries
from leadflow.api.app import create_app
from leadflow.api.deps import Runtime
from leadflow.api.schemas import parse_object
from leadflow.bootstrap import bundled_playbook
from leadflow.config import Settings
from leadflow.errors import InvalidInput
from leadflow.services.capture import CaptureInquiry, CaptureSettings, capture, capture_in
from leadflow.services.forms import create_form, set_form_active
from leadflow.services.keys import create_key
from leadflow.services.uow import UnitOfWork

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

BTD = bundled_playbook("btd")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DEEP = b'{"email": "deep@acme.io", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"


class Api:
    def __init__(self, app: FastAPI, engine: Engine, capture_key: str, admin_key: str) -> None:
        self.app, self.engine = app, engine
        self.client = TestClient(app, raise_server_exceptions=False)
        self.key = {"Authorization": f"Bearer {capture_key}"}
        self.admin = {"Authorization": f"Bearer {admin_key}"}

    def post(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers={**self.key, **headers})

    def raw(self, path: str, content: bytes, **headers: str) -> Any:
        kind = {"Content-Type": "application/json"}
        return self.client.post(path, content=content, headers={**self.key, **kind, **headers})

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(table).order_by(table.c.id)))

    def count(self, table: Any) -> int:
        return len(self.rows(table))


@pytest.fixture
def api(engine: Engine) -> Iterator[Api]:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    with UnitOfWork(engine) as uow:
        capture_key = create_key(uow, "capture", "page", NOW).key
    with UnitOfWork(engine) as uow:
        admin_key = create_key(uow, "admin", "tests", NOW).key
    app = create_app(settings, engine=engine, playbook=BTD, clock=lambda: NOW)
    api = Api(app, engine, capture_key, admin_key)
    with api.client:
        yield api


def error_of(response: Any, status: int, code: str, where: str | None) -> str:
    """The one error shape; its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message", "where"]
    assert (body["error"]["code"], body["error"]["where"]) == (code, where)
    return str(body["error"]["message"])


def form(api: Api, **options: Any) -> str:
    with UnitOfWork(api.engine) as uow:
        return create_form(uow, "Contact us", NOW, source="website", **options).key


# ------------------------------------------------------------------ bodies


def test_a_body_nested_too_deep_is_kept_and_spoils_no_request_beside_it(api: Api) -> None:
    """Captured together, a body that would exhaust the parser's recursion is that
    request's own 422; the requests beside it are captured."""
    runtime: Runtime = api.app.state.runtime
    key = api.key["Authorization"].split()[1]
    good = [json.dumps({"email": f"p{i}@corp{i}.io"}).encode() for i in range(2)]
    items: list[routes_inquiries.Item] = [(key, good[0], None), (key, DEEP, None)]
    items.append((key, good[1], None))
    outcomes = routes_inquiries._handle_together(runtime, items)

    assert isinstance(outcomes[1], InvalidInput) and outcomes[1].where == "body"
    assert "more than 32 levels deep" in outcomes[1].message
    for outcome in (outcomes[0], outcomes[2]):
        assert not isinstance(outcome, BaseException), outcome
        assert outcome[0][0].inquiry_id is not None
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.payload) == ("unparsable_payload", DEEP.decode())

    # over HTTP too
    deep = error_of(api.raw("/api/v1/inquiries", DEEP), 422, "invalid_input", "body")
    assert "levels deep" in deep
    activity = b'{"type": "page_view", "email": "p0@corp0.io", "details": {"d": '
    activity += b"[" * 5000 + b"]" * 5000 + b"}}"
    error_of(api.raw("/api/v1/activities", activity), 422, "invalid_input", "body")


def test_a_number_out_of_range_is_an_unreadable_body_kept_as_sent(api: Api) -> None:
    text = b'{"email": "inf@acme.io", "budget": 1e400}'
    message = error_of(api.raw("/api/v1/inquiries", text), 422, "invalid_input", "body")
    assert "1e400 is out of range" in message
    [kept] = api.rows(tables.quarantine)
    assert (kept.reason, kept.payload) == ("unparsable_payload", text.decode())
    assert api.count(tables.inquiries) == 0


def test_nul_characters_are_quarantined_or_refused_never_a_failure(api: Api) -> None:
    """PostgreSQL stores no NUL in text: every path keeps or refuses it alike, and the
    quarantine keeps it as \\x00."""
    one = api.post("/api/v1/inquiries", {"email": "nul@acme.io", "source": "a\u0000b"})
    assert one.status_code == 202, one.text
    assert "inquiries.source contains a NUL character" in one.json()["error"]
    unreadable = b'{"email": "raw@acme.io"}\x00'
    error_of(api.raw("/api/v1/inquiries", unreadable), 422, "invalid_input", "body")
    nobody = api.client.post("/f/%00", data={"email": "x@acme.io"}, follow_redirects=False)
    error_of(nobody, 404, "not_found", None)
    kept = api.rows(tables.quarantine)
    assert [k.reason for k in kept] == ["database", "unparsable_payload", "unknown_form"]
    assert kept[0].source == "a\\x00b" and "a\\u0000b" in kept[0].payload
    assert kept[1].payload == '{"email": "raw@acme.io"}\\x00'
    assert kept[2].form_key == "\\x00"

    # a form post with a file: its bytes kept with the NUL escaped, the lead captured
    key = form(api)
    files = {"cv": ("cv.bin", b"%PDF\x00\x01", "application/octet-stream")}
    posted = api.client.post(
        f"/f/{key}", data={"email": "cv@acme.io"}, files=files, follow_redirects=False
    )
    assert posted.status_code == 200, posted.text
    [inquiry] = api.rows(tables.inquiries)
    assert "%PDF\\x00" in inquiry.payload and "\x00" not in inquiry.payload

    refused = api.post("/api/v1/activities", {"type": "page\u0000view", "email": "cv@acme.io"})
    assert "NUL" in error_of(refused, 422, "invalid_input", "type")
    assert api.count(tables.activities) == 0


def test_32_levels_of_arrays_and_objects_are_read_33_are_not() -> None:
    assert parse_object(b'{"x": ' + b"[" * 31 + b"]" * 31 + b"}")[1]["x"]
    with pytest.raises(InvalidInput, match="more than 32 levels deep"):
        parse_object(b'{"x": ' + b"[" * 32 + b"]" * 32 + b"}")
    with pytest.raises(InvalidInput, match="more than 32 levels deep"):
        parse_object(b'{"x": ' + b'{"y": ' * 40 + b"1" + b"}" * 40 + b"}")


# ------------------------------------------------------------------ forms


def test_a_charset_that_is_no_charset_reads_the_post_as_utf8(api: Api) -> None:
    key = form(api)
    for charset in ("base64", "rot13", "zlib", "idna", "punycode", "undefined", "utf-16"):
        posted = api.client.post(
            f"/f/{key}",
            content=f"email=c.{charset}%40acme.io&first_name=Zo%C3%AB&_charset_={charset}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
        )
        assert posted.status_code == 200, (charset, posted.text)
    names = {row.first_name for row in api.rows(tables.people)}
    assert names == {"Zoë"} and api.count(tables.inquiries) == 7


def test_a_return_address_that_is_no_address_goes_to_the_thank_you_page(api: Api) -> None:
    key = form(api, thank_you_url="https://example.com/thanks")
    for ret in ("http://[::1", "https://[bad/x"):
        posted = api.client.post(
            f"/f/{key}", data={"email": "v6@acme.io", "retURL": ret}, follow_redirects=False
        )
        assert posted.status_code == 303, posted.text
        assert posted.headers["location"] == "https://example.com/thanks"
    assert api.count(tables.inquiries) == 2
    made = api.client.post(
        "/api/v1/forms", json={"name": "x", "thank_you_url": "http://[::1"}, headers=api.admin
    )
    error_of(made, 422, "invalid_input", "thank_you_url")


def test_spam_to_a_form_that_is_off_is_not_kept_and_a_multi_select_keeps_each_value(
    api: Api,
) -> None:
    key = form(api)
    with UnitOfWork(api.engine) as uow:
        set_form_active(uow, key, False)
    bot = api.client.post(
        f"/f/{key}",
        data={"email": "bot@spam.io", "website_url": "http://spam"},
        follow_redirects=False,
    )
    error_of(bot, 404, "not_found", None)  # answered as any post to a form that is off
    nobody = api.client.post(
        "/f/nope", data={"email": "bot2@spam.io", "website_url": "x"}, follow_redirects=False
    )
    error_of(nobody, 404, "not_found", None)
    several = api.client.post(
        f"/f/{key}",
        content="email=multi%40acme.io&interest=a&interest=b&interest=c",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    error_of(several, 404, "not_found", None)
    [kept] = api.rows(tables.quarantine)
    assert kept.fields == {"email": "multi@acme.io", "interest": "a;b;c"}
    spam = [e for e in api.rows(tables.events) if e.type == "form.spam"]
    assert [e.data["form_key"] for e in spam] == [key, "nope"]


# ------------------------------------------------------------------ idempotency


def test_a_key_used_for_an_unreadable_body_is_not_used_again_for_another(api: Api) -> None:
    first = api.raw("/api/v1/inquiries", b"{bad", **{"Idempotency-Key": "ku"})
    assert "item 1" in error_of(first, 422, "invalid_input", "body")
    again = api.raw("/api/v1/inquiries", b"{bad", **{"Idempotency-Key": "ku"})
    assert "item 1" in error_of(again, 422, "invalid_input", "body")
    other = api.raw("/api/v1/inquiries", b"{bad2", **{"Idempotency-Key": "ku"})
    error_of(other, 409, "conflict", "Idempotency-Key")
    captured = api.post("/api/v1/inquiries", {"email": "ok@acme.io"}, **{"Idempotency-Key": "kc"})
    assert captured.status_code == 201
    reused = api.raw("/api/v1/inquiries", b"{bad3", **{"Idempotency-Key": "kc"})
    error_of(reused, 409, "conflict", "Idempotency-Key")
    batch = {"inquiries": [{"email": "b1@acme.io"}, {"email": "b2@acme.io"}]}
    assert api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "kb"}).status_code == 200
    by_batch = api.raw("/api/v1/inquiries", b"{bad4", **{"Idempotency-Key": "kb"})
    error_of(by_batch, 409, "conflict", "Idempotency-Key")
    assert api.count(tables.quarantine) == 1


def test_a_batch_whose_keys_were_used_for_other_inquiries_keeps_nothing(api: Api) -> None:
    first = {"inquiries": [{"email": f"a{i}@alpha.io"} for i in range(3)]}
    assert api.post("/api/v1/inquiries", first, **{"Idempotency-Key": "kd"}).status_code == 200
    batch = {"inquiries": [{"email": "a0@alpha.io"}, *({"email": f"b{i}@beta.io"} for i in (1, 2))]}
    refused = api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "kd"})
    said = error_of(refused, 409, "conflict", "Idempotency-Key")
    assert "'kd' (item 1 of its batch)" in said
    assert (api.count(tables.inquiries), api.count(tables.people)) == (3, 3)


def test_a_single_key_and_a_batch_key_never_share_a_request(api: Api) -> None:
    """A key names one request: a single inquiry's key used before by a batch (or a
    batch's by a single inquiry) is a 409, and a single key spelt like a batch item's
    ('b1:0') is a key of its own, not that item's."""
    batch = {"inquiries": [{"email": "b1a@q.io"}]}
    assert api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "b1"}).status_code == 200
    again = api.post("/api/v1/inquiries", batch, **{"Idempotency-Key": "b1"})
    assert [d["status"] for d in again.json()["data"]] == ["repeated"]
    single = api.post("/api/v1/inquiries", {"email": "b1a@q.io"}, **{"Idempotency-Key": "b1"})
    assert "used for a batch" in error_of(single, 409, "conflict", "Idempotency-Key")
    assert api.count(tables.inquiries) == 1
    spelt = api.post("/api/v1/inquiries", {"email": "b1a@q.io"}, **{"Idempotency-Key": "b1:0"})
    assert (spelt.status_code, spelt.json()["status"]) == (201, "captured")
    assert api.count(tables.inquiries) == 2

    one = {"email": "s1@q.io"}
    assert api.post("/api/v1/inquiries", one, **{"Idempotency-Key": "s1"}).status_code == 201
    as_batch = api.post("/api/v1/inquiries", {"inquiries": [one]}, **{"Idempotency-Key": "s1"})
    assert "used for a single inquiry" in error_of(as_batch, 409, "conflict", "Idempotency-Key")
    two = {"inquiries": [{"email": "s2@q.io"}, {"email": "s3@q.io"}]}
    refused = api.post("/api/v1/inquiries", two, **{"Idempotency-Key": "s1"})
    error_of(refused, 409, "conflict", "Idempotency-Key")
    assert api.count(tables.inquiries) == 3  # b1's item, b1:0's, s1's

    # The mark of a batch's items comes in no header; should a key carry it, it is refused.
    capture_key = api.key["Authorization"].removeprefix("Bearer ")
    marked = (capture_key, b'{"email": "m@q.io"}', "b1 \u203a 0")
    [outcome] = routes_inquiries._handle_together(api.app.state.runtime, [marked])
    assert isinstance(outcome, InvalidInput) and outcome.where == "Idempotency-Key"

    bad = api.raw("/api/v1/inquiries", b"{bad", **{"Idempotency-Key": "u1"})
    error_of(bad, 422, "invalid_input", "body")
    after = api.post("/api/v1/inquiries", {"inquiries": [one]}, **{"Idempotency-Key": "u1"})
    error_of(after, 409, "conflict", "Idempotency-Key")
    assert (api.count(tables.inquiries), api.count(tables.quarantine)) == (3, 1)


def test_a_retry_must_send_the_same_json_types(api: Api) -> None:
    key = {"Idempotency-Key": "kt"}
    first = api.post("/api/v1/inquiries", {"email": "t@acme.io", "contact_me_now": 1}, **key)
    assert first.status_code == 201
    same = api.raw("/api/v1/inquiries", b'{"contact_me_now":1,"email":"t@acme.io"}', **key)
    assert same.status_code == 200 and same.json()["status"] == "repeated"
    other = api.post("/api/v1/inquiries", {"email": "t@acme.io", "contact_me_now": True}, **key)
    error_of(other, 409, "conflict", "Idempotency-Key")
    nobody = api.post("/api/v1/inquiries", {"first_name": "Nobody"}, **{"Idempotency-Key": "kq"})
    retry = api.post("/api/v1/inquiries", {"first_name": "Nobody"}, **{"Idempotency-Key": "kq"})
    assert nobody.json()["error"] == retry.json()["error"]


# ------------------------------------------------------------------ races and failures


def test_two_captures_of_one_new_person_at_once_make_one_person(engine: Engine) -> None:
    """The first capture holds its new person uncommitted while the second runs: on
    PostgreSQL the second's key waits for the first and is refused when it commits; tried
    again, the second finds the first's person (on SQLite it waits for the write lock)."""
    settings = CaptureSettings()

    def inquiry(raw: str) -> CaptureInquiry:
        fields = {"email": "twice@gmail.com", "first_name": "Tam", "company": "Acme Inc"}
        return CaptureInquiry(fields, raw, "website", "form", NOW, form_key=None)

    results: list[Any] = []
    with UnitOfWork(engine) as first:
        capture_in(first.store, BTD, inquiry("first"), settings)

        def second() -> None:
            with UnitOfWork(engine) as uow:
                results.append(capture(uow, BTD, inquiry("second"), settings))

        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(1.0)  # the second is waiting on the first by now
        first.commit()
    racer.join(timeout=60)
    [result] = results
    assert not result.quarantined, result.error
    with engine.connect() as connection:
        people = connection.execute(select(tables.people.c.id)).all()
        kept = connection.execute(select(tables.quarantine.c.id)).all()
    assert (len(people), len(kept), result.person_id) == (1, 0, people[0].id)


def test_an_unforeseen_failure_is_answered_in_the_one_shape(api: Api) -> None:
    def boom() -> None:
        raise RuntimeError("nobody foresaw this")

    api.app.add_api_route("/api/v1/boom", boom)
    api.app.add_api_route("/boom", boom)
    assert "failed" in error_of(api.client.get("/api/v1/boom"), 500, "internal_error", None)
    page = api.client.get("/boom")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text


def test_a_batch_of_a_persons_activities_rates_them_once(api: Api) -> None:
    assert api.post("/api/v1/inquiries", {"email": "act@acme.io"}).status_code == 201
    rated = len([e for e in api.rows(tables.events) if e.type == "lead.rated"])
    batch = {"activities": [{"type": "page_view", "email": "act@acme.io"}] * 50}
    answered = api.post("/api/v1/activities", batch)
    assert answered.status_code == 200, answered.text
    assert api.count(tables.activities) == 50
    after = len([e for e in api.rows(tables.events) if e.type == "lead.rated"])
    assert after == rated + 1
    assert len({item["engagement"] for item in answered.json()["data"]}) == 1


def test_a_value_no_member_of_a_union_takes_is_refused_at_its_field(api: Api) -> None:
    refused = api.post("/api/v1/activities", {"type": "page_view", "phone": 4155550100.5})
    error_of(refused, 422, "invalid_input", "phone")


def test_what_a_failed_capture_wrote_is_not_committed_by_the_next_in_its_turn(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadflow.services import identity

    find = identity.find_person

    def fails_for_boom(store: Any, who: Any, *args: Any, **kwargs: Any) -> Any:
        if who.norm.email == "boom@acme.io":
            raise RuntimeError("nobody foresaw this")
        return find(store, who, *args, **kwargs)

    monkeypatch.setattr(identity, "find_person", fails_for_boom)
    runtime: Runtime = api.app.state.runtime
    key = api.key["Authorization"].split()[1]
    boom, ok = (json.dumps({"email": e}).encode() for e in ("boom@acme.io", "ok@acme.io"))
    outcomes = routes_inquiries._handle_together(runtime, [(key, boom, "kx"), (key, ok, None)])
    assert isinstance(outcomes[0], RuntimeError) and not isinstance(outcomes[1], BaseException)
    assert [row.payload for row in api.rows(tables.inquiries)] == [ok.decode()]


def test_an_email_or_phone_of_another_json_type_is_read_as_any_other_value(api: Api) -> None:
    """Whatever the field is called (``email``, ``e_mail``, ``Email``): a number where an
    address belongs is an address that cannot be read, as the text ``"5"`` would be, so the
    inquiry is kept in the quarantine when nothing else tells who it is, and the rest of its
    batch is captured; a phone sent as a JSON number is read as its digits."""
    items: list[dict[str, Any]] = [
        {"email": 5, "first_name": "Ann"},
        {"e_mail": 5, "first_name": "Bo"},
        {"Email": True, "first_name": "Cy"},
        {"phone": 4155550100.0, "first_name": "Di"},
        {"email": "eve@acme.io", "phone": 4155550100.5},
    ]
    answered = api.post("/api/v1/inquiries", {"inquiries": items})
    assert answered.status_code == 200, answered.text
    data = answered.json()["data"]
    assert [item["status"] for item in data] == [
        "quarantined",
        "quarantined",
        "quarantined",
        "captured",
        "captured",
    ]
    assert data[0]["error"] == data[1]["error"]
    assert "email: '5' is not a valid address" in data[0]["error"]
    assert "email: 'True' is not a valid address" in data[2]["error"]
    people = api.rows(tables.people)
    assert [(p.email, p.phone) for p in people] == [
        (None, "+14155550100"),
        ("eve@acme.io", None),
    ]
