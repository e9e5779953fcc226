"""``/api/v1/reps`` on SQLite and PostgreSQL: admin keys only, the service's checks in the
one error shape, PATCH changes only what it is given, deactivation keeps the rep."""

from __future__ import annotations

from typing import Any

import test_api  # pytest puts this folder on sys.path
from test_api import Api, assert_error

api = test_api.api  # the API fixture of test_api.py: an admin key, a capture key, a client

ANN = {
    "name": "Ann Lee",
    "email": "Ann.Lee@Acme.io",
    "team": "emea",
    "capacity": 20,
    "territories": ["DE", "AT"],
    "working_hours": "Europe/Berlin mon-fri 09:00-17:00",
}


def add(api: Api, body: dict[str, Any] = ANN) -> dict[str, Any]:
    response = api.client.post("/api/v1/reps", json=body, headers=api.admin)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_rep_is_added_read_and_listed(api: Api) -> None:
    made = add(api)
    assert made["email"] == "ann.lee@acme.io"
    assert made["working_hours"] == "Europe/Berlin Mon-Fri 09:00-17:00"
    assert (made["capacity"], made["territories"], made["active"]) == (20, ["DE", "AT"], True)
    assert made["away_from"] is None and made["created_at"].startswith("2026-11-23T09:00")
    one = api.client.get(f"/api/v1/reps/{made['id']}", headers=api.admin)
    assert one.status_code == 200 and one.json() == made
    listed = api.client.get("/api/v1/reps", headers=api.admin).json()
    assert listed == {"data": [made], "count": 1}


def test_capture_keys_and_no_key_are_refused(api: Api) -> None:
    made = add(api)
    path = f"/api/v1/reps/{made['id']}"
    for method, url, body in (
        ("GET", "/api/v1/reps", None),
        ("POST", "/api/v1/reps", {**ANN, "email": "other@acme.io"}),
        ("GET", path, None),
        ("PATCH", path, {"team": "amer"}),
        ("POST", f"{path}/deactivate", None),
    ):
        denied = api.client.request(method, url, json=body, headers=api.capture)
        assert_error(denied, 403, "forbidden", None)
        assert_error(api.client.request(method, url, json=body), 401, "unauthorized", None)
    unchanged = api.client.get("/api/v1/reps?all=true", headers=api.admin).json()
    assert unchanged == {"data": [made], "count": 1}


def test_refusals_come_in_the_one_error_shape(api: Api) -> None:
    made = add(api)
    admin = api.admin
    assert_error(
        api.client.post("/api/v1/reps", json={**ANN, "email": "ANN.LEE@acme.io"}, headers=admin),
        409,
        "conflict",
        None,
    )
    bad = {**ANN, "email": "x@acme.io", "working_hours": "Europe/Berlin Fri-Mon 09:00-17:00"}
    error = assert_error(
        api.client.post("/api/v1/reps", json=bad, headers=admin),
        422,
        "invalid_input",
        "working_hours",
    )
    assert "Monday to Sunday" in error["message"]
    for body, where in (
        ({"name": "B"}, "email"),
        ({"name": "B", "email": "b@acme.io", "capacity": -2}, "capacity"),
        ({"name": "B", "email": "b@acme.io", "away_from": "2026-12-24"}, "away_until"),
        ({"name": "B", "email": "b@acme.io", "colour": "red"}, "colour"),
    ):
        response = api.client.post("/api/v1/reps", json=body, headers=admin)
        assert_error(response, 422, "invalid_input", where)
    assert_error(api.client.get("/api/v1/reps/999", headers=admin), 404, "not_found", None)
    missing = api.client.patch("/api/v1/reps/999", json={"team": "x"}, headers=admin)
    assert_error(missing, 404, "not_found", None)
    nulled = api.client.patch(f"/api/v1/reps/{made['id']}", json={"name": None}, headers=admin)
    assert_error(nulled, 422, "invalid_input", "name")
    assert api.client.get("/api/v1/reps", headers=admin).json()["data"] == [made]


def test_patch_changes_only_what_it_is_given(api: Api) -> None:
    made = add(api)
    response = api.client.patch(
        f"/api/v1/reps/{made['id']}",
        json={"capacity": None, "away_from": "2026-12-24", "away_until": "2027-01-01"},
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed == {
        **made,
        "capacity": None,
        "away_from": "2026-12-24",
        "away_until": "2027-01-01",
    }


def test_a_deactivated_rep_is_listed_only_with_all(api: Api) -> None:
    ann = add(api)
    bob = add(api, {"name": "Bob", "email": "bob@acme.io"})
    gone = api.client.post(f"/api/v1/reps/{bob['id']}/deactivate", headers=api.admin)
    assert gone.status_code == 200 and gone.json()["active"] is False
    active = api.client.get("/api/v1/reps", headers=api.admin).json()
    assert [r["id"] for r in active["data"]] == [ann["id"]]
    every = api.client.get("/api/v1/reps", params={"all": "true"}, headers=api.admin).json()
    assert [r["id"] for r in every["data"]] == [ann["id"], bob["id"]]
    assert every["count"] == 2


def test_the_reps_endpoints_are_in_the_openapi_document(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/reps"]) == {"get", "post"}
    assert set(paths["/api/v1/reps/{rep_id}"]) == {"get", "patch"}
    assert set(paths["/api/v1/reps/{rep_id}/deactivate"]) == {"post"}
