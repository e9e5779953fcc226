"""``/api/v1/webhooks`` on SQLite and PostgreSQL: admin keys only, the secret shown once,
rep scopes, removal keeps the log, the delivery log with its filters, one error shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import test_api  # pytest puts this folder on sys.path
from test_api import NOW, READY, Api, assert_error

from leadflow.services import webhooks
from leadflow.services.uow import UnitOfWork

api = test_api.api  # the API fixture of test_api.py: an admin key, a capture key, a client


def add(api: Api, **body: Any) -> dict[str, Any]:
    response = api.client.post("/api/v1/webhooks", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_webhook_is_added_with_its_secret_once_and_listed_without(api: Api) -> None:
    rep = api.client.post(
        "/api/v1/reps", json={"name": "Ann Lee", "email": "ann@acme.io"}, headers=api.admin
    ).json()
    made = add(api, url="https://crm.example.com/hook", events=["lead.routed"], rep="ann@acme.io")
    assert len(made.pop("secret")) == 64
    assert made == {
        "id": made["id"],
        "url": "https://crm.example.com/hook",
        "events": ["lead.routed"],
        "rep_id": rep["id"],
        "active": True,
        "created_at": "2026-11-23T09:00:00Z",
    }
    listed = api.client.get("/api/v1/webhooks", headers=api.admin).json()
    assert listed == {"data": [made], "count": 1}
    removed = api.client.delete(f"/api/v1/webhooks/{made['id']}", headers=api.admin)
    assert removed.status_code == 200 and removed.json() == {**made, "active": False}
    assert api.client.get("/api/v1/webhooks", headers=api.admin).json()["count"] == 0
    every = api.client.get("/api/v1/webhooks?all=true", headers=api.admin).json()
    assert every["data"] == [{**made, "active": False}]


def test_the_delivery_log_shows_what_was_sent(api: Api) -> None:
    made = add(api, url="http://127.0.0.1:9/nobody-listens", events=["lead.captured"])
    for n in range(3):
        captured = api.post("/api/v1/inquiries", {**READY, "email": f"lead{n}@acme.io"})
        assert captured.status_code in (200, 201), captured.text
    with UnitOfWork(api.engine) as uow, httpx.Client() as client:
        report = webhooks.deliver_due(uow, NOW, client, limit=1)  # one attempt, refused
    assert report.retried == 1
    path = f"/api/v1/webhooks/{made['id']}/deliveries"
    log = api.client.get(path, headers=api.admin).json()
    assert log["count"] == 3
    assert [d["status"] for d in log["data"]] == ["pending", "pending", "pending"]
    oldest = log["data"][-1]
    assert oldest["attempts"] == 1 and "ConnectError" in oldest["last_error"]
    assert json.loads(oldest["body"])["event"] == "lead.captured"
    assert oldest["next_attempt_at"] == "2026-11-23T09:00:10Z"
    newest = api.client.get(f"{path}?limit=1", headers=api.admin).json()
    assert newest == {"data": [log["data"][0]], "count": 1}
    none = api.client.get(f"{path}?status=delivered", headers=api.admin).json()
    assert none == {"data": [], "count": 0}


def test_refusals_come_in_the_one_error_shape(api: Api) -> None:
    made = add(api, url="https://crm.example.com/hook", events=["lead.captured"])
    admin = api.admin
    bad_event = {"url": "https://a.io/h", "events": ["lead.routd"]}
    refused = api.client.post("/api/v1/webhooks", json=bad_event, headers=admin)
    assert (
        "did you mean 'lead.routed'"
        in assert_error(refused, 422, "invalid_input", "events")["message"]
    )
    bad_url = {"url": "ftp://a.io/h", "events": ["lead.routed"]}
    assert_error(
        api.client.post("/api/v1/webhooks", json=bad_url, headers=admin),
        422,
        "invalid_input",
        "url",
    )
    no_rep = {"url": "https://a.io/h", "events": ["lead.routed"], "rep": "nobody@acme.io"}
    assert_error(
        api.client.post("/api/v1/webhooks", json=no_rep, headers=admin), 404, "not_found", None
    )
    assert_error(api.client.delete("/api/v1/webhooks/999", headers=admin), 404, "not_found", None)
    assert_error(
        api.client.get("/api/v1/webhooks/999/deliveries", headers=admin), 404, "not_found", None
    )
    wrong = api.client.get(f"/api/v1/webhooks/{made['id']}/deliveries?status=lost", headers=admin)
    assert_error(wrong, 422, "invalid_input", "status")
    for method, url in (
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("DELETE", f"/api/v1/webhooks/{made['id']}"),
        ("GET", f"/api/v1/webhooks/{made['id']}/deliveries"),
    ):
        body = {"url": "https://a.io/h", "events": ["lead.routed"]} if method == "POST" else None
        assert_error(
            api.client.request(method, url, json=body, headers=api.capture), 403, "forbidden", None
        )
        assert_error(api.client.request(method, url, json=body), 401, "unauthorized", None)
    assert api.client.get("/api/v1/webhooks", headers=admin).json()["count"] == 1
