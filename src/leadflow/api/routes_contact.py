"""The links in nurture emails, and what mail providers report back.

::

    GET  /u/{token}                unsubscribe from email (one click) and show the choices
    GET  /u/{token}/preferences    the preference page: email, calls, mail, nothing at all
    POST /u/{token}/preferences    save the choices (a plain HTML form)
    GET  /t/{token}/{n}            a tracked link: records the click, redirects (302)
    GET  /t/{token}/open.gif       the open pixel: records the open, a 1x1 GIF
    POST /api/v1/bounces           {"email": ..., "hard": true} (admin key)

The token in the path is the only key: it names one email sent to one person, is
random (128 bits) and is never shown anywhere else. The pages work without JavaScript.
"""

from __future__ import annotations

import contextlib
import html
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.errors import NotFound
from leadflow.services import contact

router = APIRouter(tags=["contact"])

PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


class BounceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    hard: bool = Field(True, description="A hard bounce opts the address out of email.")


def _page(prefs: contact.Preferences, saved: str) -> HTMLResponse:
    boxes = "\n".join(
        f'<label><input type="checkbox" name="{channel}" value="yes"'
        f"{'' if prefs.opted_out.get(channel) else ' checked'}> {html.escape(label)}</label><br>"
        for channel, label in contact.CHANNELS.items()
        if channel != "any"
    )
    nothing = " checked" if prefs.opted_out.get("any") else ""
    who = html.escape(prefs.email or "you")
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Your contact preferences</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}} .saved{{background:#e8f5e9;padding:.5rem 1rem;border-radius:.3rem}}</style>
</head><body>
<h1>How may we contact {who}?</h1>
{f'<p class="saved">{html.escape(saved)}</p>' if saved else ""}
<form method="post" action="/u/{html.escape(prefs.token)}/preferences">
<p>{boxes}</p>
<p><label><input type="checkbox" name="nothing" value="yes"{nothing}>
 Nothing at all: do not contact me</label></p>
<p><button type="submit">Save my choices</button></p>
</form></body></html>"""
    return HTMLResponse(body)


def _unsubscribe(runtime: Runtime, token: str) -> contact.Preferences:
    with runtime.uow() as uow:
        return contact.unsubscribe(uow, token, runtime.clock())


def _preferences(runtime: Runtime, token: str) -> contact.Preferences:
    with runtime.uow() as uow:
        return contact.preferences(uow, token)


def _save(runtime: Runtime, token: str, wanted: dict[str, bool]) -> contact.Preferences:
    with runtime.uow() as uow:
        return contact.set_preferences(uow, token, wanted, runtime.clock())


def _click(runtime: Runtime, token: str, n: int) -> str:
    with runtime.uow() as uow:
        return contact.clicked(uow, runtime.playbook, token, n, runtime.capture, runtime.clock())


def _open(runtime: Runtime, token: str) -> None:
    with runtime.uow() as uow:
        contact.opened(uow, runtime.playbook, token, runtime.capture, runtime.clock())


def _bounce(runtime: Runtime, body: BounceBody) -> int:
    with runtime.uow() as uow:
        return contact.bounced(uow, body.email, body.hard, runtime.clock())


@router.get("/u/{token}", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe(token: str, runtime: RuntimeDep) -> HTMLResponse:
    prefs = await runtime.run(_unsubscribe, runtime, token)
    return _page(prefs, "You will get no more emails from us. Choose anything else below.")


@router.get("/u/{token}/preferences", response_class=HTMLResponse, include_in_schema=False)
async def preference_page(token: str, runtime: RuntimeDep) -> HTMLResponse:
    return _page(await runtime.run(_preferences, runtime, token), "")


@router.post("/u/{token}/preferences", response_class=HTMLResponse, include_in_schema=False)
async def save_preferences(
    token: str,
    runtime: RuntimeDep,
    email: Annotated[str | None, Form()] = None,
    call: Annotated[str | None, Form()] = None,
    mail: Annotated[str | None, Form()] = None,
    nothing: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    wanted = {
        "email": email == "yes",
        "call": call == "yes",
        "mail": mail == "yes",
        "any": nothing != "yes",
    }
    prefs = await runtime.run(_save, runtime, token, wanted)
    return _page(prefs, "Your choices are saved.")


@router.get("/t/{token}/open.gif", include_in_schema=False)
async def open_pixel(token: str, runtime: RuntimeDep) -> Response:
    with contextlib.suppress(NotFound):  # an unknown token still gets its pixel
        await runtime.run(_open, runtime, token)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/{token}/{n}", include_in_schema=False)
async def tracked_link(token: str, n: int, runtime: RuntimeDep) -> RedirectResponse:
    return RedirectResponse(await runtime.run(_click, runtime, token, n), status_code=302)


@router.post("/api/v1/bounces", summary="Report a bounced email (admin)", responses=ERROR_RESPONSES)
async def bounce(body: BounceBody, runtime: RuntimeDep, _key: AdminKey) -> dict[str, object]:
    """A provider's bounce: a hard one opts the address out of email and stops its track."""
    person_id = await runtime.run(_bounce, runtime, body)
    return {"person_id": person_id, "email_opted_out": body.hard}
