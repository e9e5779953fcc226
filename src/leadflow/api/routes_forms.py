"""Web forms: ``POST /f/{form_key}`` takes a plain HTML form post (no API key: forms
are public), including Salesforce Web-to-Lead posts; ``/api/v1/forms`` manages
forms with an admin key.

A post is answered with a 303 to ``retURL`` or the form's thank-you page, with
JSON when the sender asks for it (``Accept: application/json``), or with a
short thank-you page. A bot caught by the honeypot gets the very same answer.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from leadflow.adapters.store.repository import storable
from leadflow.api.deps import AdminKey, Runtime, RuntimeDep
from leadflow.api.errors import ERROR_RESPONSES
from leadflow.api.schemas import (
    FormCreate,
    FormPublic,
    FormReceivedPublic,
    FormsPublic,
)
from leadflow.errors import InvalidInput
from leadflow.services.forms import (
    Form,
    FormPost,
    FormReceived,
    create_form,
    list_forms,
    quarantine_raw,
    submit,
)

router = APIRouter(tags=["forms"])

FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")
        },
    }
}
THANKS = "<!doctype html><title>Thank you</title><p>Thank you. We received your message.</p>"


URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELDS = 1_000
CHARSET_FIELDS = ("_charset_", "encoding")  # HTML's own, and Web-to-Lead's


def read_urlencoded(raw: bytes, content_type: str) -> tuple[str, list[tuple[str, str]]]:
    """An urlencoded post as text and fields, in the charset it was sent in: the one
    ``Content-Type`` names, else the one the form names in a ``_charset_`` or (Web-to-Lead)
    ``encoding`` field, else UTF-8; and bytes that are not UTF-8 after all are read as
    windows-1252, what browsers send from a page in Latin-1 ("ISO-8859-1")."""
    pairs = [_pair(part) for part in raw.split(b"&") if part]
    if len(pairs) > MAX_FIELDS:
        raise HTTPException(400, f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")
    charset = _charset(content_type, pairs)
    try:
        fields = [(k.decode(charset), v.decode(charset)) for k, v in pairs]
    except UnicodeError:  # (also a codec such as idna that fails its own way)
        charset = "cp1252"
        fields = [(k.decode(charset, "replace"), v.decode(charset, "replace")) for k, v in pairs]
    return raw.decode(charset, errors="backslashreplace"), fields


def _pair(part: bytes) -> tuple[bytes, bytes]:
    """``name=value`` with ``+`` for spaces and ``%XX`` escapes, as bytes (not yet text)."""
    name, _, value = part.partition(b"=")
    return unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))


def _charset(content_type: str, pairs: list[tuple[bytes, bytes]]) -> str:
    declared = [
        part.split("=", 1)[1].strip().strip('"')
        for part in content_type.split(";")[1:]
        if part.strip().lower().startswith("charset=")
    ]
    declared += [
        v.decode("ascii", "replace")
        for k, v in pairs
        if k.decode("ascii", "replace").lower() in CHARSET_FIELDS
    ]
    for name in declared:
        try:
            codec = codecs.lookup(name.strip())
        except LookupError:
            continue
        if not _a_charset(codec):
            continue
        found = codec.name
        return "cp1252" if found in ("latin-1", "iso8859-1", "ascii") else found
    return "utf-8"


NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
"""Text codecs that are no form's charset: a post naming one is read as UTF-8."""


def _a_charset(codec: codecs.CodecInfo) -> bool:
    """Whether a browser could send a form in ``codec``: not base64, zlib, rot13 (codecs of
    bytes to bytes or text to text), nor the text codecs that are no charset, nor UTF-16
    or UTF-32 (a browser posts a form of such a page in UTF-8)."""
    name = codec.name.replace("_", "-")
    return (
        bool(getattr(codec, "_is_text_encoding", True))
        and name not in NOT_CHARSETS
        and not name.startswith(("utf-16", "utf-32"))
    )


def _submit(runtime: Runtime, post: FormPost) -> FormReceived:
    with runtime.uow() as uow:
        return submit(uow, runtime.playbook, post, runtime.capture)


def _keep_unreadable(runtime: Runtime, text: str, form_key: str, error: str) -> None:
    with runtime.uow() as uow:
        quarantine_raw(
            uow,
            text,
            channel="form",
            reason="unparsable_payload",
            error=error,
            at=runtime.clock(),
            form_key=form_key,
        )


@router.post(
    "/f/{form_key}",
    name="submit_form",
    summary="Post a web form (Salesforce Web-to-Lead compatible)",
    status_code=303,
    response_model=FormReceivedPublic,
    responses={
        200: {"description": "Received (JSON when asked for, else a thank-you page)"},
        303: {"description": "Received: go to retURL or the form's thank-you page"},
        **ERROR_RESPONSES,
    },
    openapi_extra=FORM_BODY,
)
async def submit_form(form_key: str, request: Request, runtime: RuntimeDep) -> Response:
    """Capture a form post. Web-to-Lead names (`first_name`, `last_name`, `email`,
    `company`, `title`, `phone`, `lead_source`, `description`, `retURL`, custom `00N...`
    ids mapped by the form's field map) work unchanged; control fields (`oid`, `retURL`,
    `debug`, `debugEmail`, `encoding`, `submit`) are not captured."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    text = raw.decode("utf-8", errors="backslashreplace")  # multipart's, and when unreadable
    try:
        if content_type.split(";")[0].strip().lower() == URLENCODED:
            text, fields = read_urlencoded(raw, content_type)
        else:  # multipart: Starlette reads each part in the charset the part names
            async with request.form() as form:
                fields = [
                    (k, str(v)) for k, v in form.multi_items() if not isinstance(v, UploadFile)
                ]
    except HTTPException as error:
        await runtime.run(_keep_unreadable, runtime, text, form_key, str(error.detail))
        raise InvalidInput(f"the form post cannot be read: {error.detail}", "body") from None
    # A NUL (an uploaded file's bytes) kept as \x00, as bytes that are not text are
    post = FormPost(form_key, fields, storable(text), runtime.clock())
    received = await runtime.run(_submit, runtime, post)
    if "application/json" in request.headers.get("accept", ""):
        body = FormReceivedPublic(redirect=received.redirect)
        return JSONResponse(body.model_dump(), status_code=200)
    if received.redirect:
        return RedirectResponse(received.redirect, status_code=303)
    return HTMLResponse(THANKS, status_code=200)


def _public(request: Request, form: Form) -> FormPublic:
    return FormPublic(
        key=form.key,
        name=form.name,
        source=form.source,
        thank_you_url=form.thank_you_url,
        field_map=dict(form.field_map),
        honeypot=form.honeypot,
        active=form.active,
        created_at=form.created_at,
        action=str(request.url_for("submit_form", form_key=form.key)),
    )


def _create(runtime: Runtime, body: FormCreate) -> Form:
    with runtime.uow() as uow:
        return create_form(
            uow,
            body.name,
            runtime.clock(),
            source=body.source,
            thank_you_url=body.thank_you_url,
            field_map=body.field_map,
            honeypot=body.honeypot,
        )


def _list(runtime: Runtime) -> list[Form]:
    with runtime.uow() as uow:
        return list_forms(uow)


@router.post(
    "/api/v1/forms",
    summary="Create a form (admin)",
    status_code=201,
    response_model=FormPublic,
    responses=ERROR_RESPONSES,
)
async def create_form_route(
    body: FormCreate, request: Request, runtime: RuntimeDep, _key: AdminKey
) -> FormPublic:
    """Create a form; point the HTML form's `action` at the `action` address it answers."""
    return _public(request, await runtime.run(_create, runtime, body))


@router.get(
    "/api/v1/forms",
    summary="List forms (admin)",
    response_model=FormsPublic,
    responses=ERROR_RESPONSES,
)
async def list_forms_route(request: Request, runtime: RuntimeDep, _key: AdminKey) -> FormsPublic:
    forms = [_public(request, form) for form in await runtime.run(_list, runtime)]
    return FormsPublic(data=forms, count=len(forms))
