"""The one JSON error shape of the API, and the handlers that produce it.

Every refusal, whatever raised it, reads::

    {"error": {"code": "invalid_input", "message": "...", "where": "inquiries[3].email"}}

``code`` is stable and meant for programs; ``message`` is for people; ``where``
names the field, header or item at fault, or is null. Statuses: 401
``unauthorized``, 403 ``forbidden``, 404 ``not_found``, 409 ``conflict``, 413
``too_large``, 422 ``invalid_input``; anything else from the framework keeps its status
with code ``http_error``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from leadflow.errors import Conflict, Forbidden, InvalidInput, LeadflowError, NotFound


class NotAuthenticated(LeadflowError):
    """No key, a malformed one, an unknown one or a revoked one (401)."""


class NotAllowed(LeadflowError):
    """A valid key whose scope does not allow this (403)."""


class TooLarge(InvalidInput):
    """A request body over the server's limit (413); see ``api.limits``."""


class ErrorDetail(BaseModel):
    code: str
    message: str
    where: str | None = None


class ErrorPublic(BaseModel):
    """The one error shape."""

    error: ErrorDetail


STATUS: list[tuple[type[LeadflowError], int, str]] = [
    (TooLarge, 413, "too_large"),
    (InvalidInput, 422, "invalid_input"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (NotAuthenticated, 401, "unauthorized"),
    (NotAllowed, 403, "forbidden"),
    (Forbidden, 403, "forbidden"),
]
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": code} for _, status, code in STATUS
}


def error_response(
    status: int, code: str, message: str, where: str | None = None, **headers: str
) -> JSONResponse:
    body = ErrorPublic(error=ErrorDetail(code=code, message=message, where=where))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers or None)


UNION_MEMBERS = re.compile(r"(str|int|float|bool|bytes|none|[\w-]+\[.*\])")
"""How pydantic names the member of a union it tried (``phone: str | int`` refused at
``("phone", "str")``): not a part of the field's name."""


def where_of(loc: Sequence[int | str]) -> str | None:
    """``("body", "inquiries", 3, "email")`` as ``inquiries[3].email``."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    if len(parts) > 1 and isinstance(parts[-1], str) and UNION_MEMBERS.fullmatch(parts[-1]):
        parts = parts[:-1]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


JSON_WORDS = {
    # pydantic names the model class it wanted (``InquiryCreate``): say what JSON it takes.
    "model_type": "Input should be a JSON object",
    "model_attributes_type": "Input should be a JSON object",
    "dict_type": "Input should be a JSON object",
    "list_type": "Input should be a JSON array",
}


def invalid(errors: Sequence[Any]) -> InvalidInput:
    """One InvalidInput from pydantic's errors: the first one, and how many more there are."""
    first = errors[0]
    message = JSON_WORDS.get(first.get("type", ""), str(first["msg"]))
    if first.get("type") == "value_error" and "error" in first.get("ctx", {}):
        message = str(first["ctx"]["error"])  # a validator's own words, no "Value error, "
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return InvalidInput(message, where=where_of(first["loc"]))


def from_validation(error: ValidationError, prefix: Sequence[int | str] = ()) -> InvalidInput:
    errors = [{**e, "loc": (*prefix, *e["loc"])} for e in error.errors()]
    return invalid(errors)


async def _leadflow_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LeadflowError)
    found = ((status, code) for kind, status, code in STATUS if isinstance(error, kind))
    status, code = next(found, (400, "error"))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return error_response(status, code, error.message, error.where, **headers)


async def _request_validation(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":  # its place is a character of the body
        at = list(first.get("loc", ()))[-1]
        why = (first.get("ctx") or {}).get("error", "unreadable")
        message = f"the body is not valid JSON: {why} (character {at})"
        return error_response(422, "invalid_input", message, "body")
    found = invalid(errors)
    where = found.where or ("body" if tuple(first.get("loc", ())) == ("body",) else None)
    return error_response(422, "invalid_input", found.message, where)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    code = HTTP_CODES.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail), None, **(error.headers or {}))


FAILED = "the server failed to answer this request"
FAILED_PAGE = (
    "<!doctype html><title>Something went wrong</title>"
    "<p>Something went wrong on the server. Please try again in a moment.</p>"
)


async def _unexpected(request: Request, _error: Exception) -> Response:
    """A failure nobody foresaw (the server logs it): the API's one error shape, or a short
    page for a browser on the web pages or a form."""
    api = request.url.path.startswith("/api/")
    if api or "application/json" in request.headers.get("accept", ""):
        return error_response(500, "internal_error", FAILED)
    return HTMLResponse(FAILED_PAGE, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(LeadflowError, _leadflow_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
