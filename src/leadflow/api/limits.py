"""What the capture paths take from outside: a body over ``LEADFLOW_MAX_BODY_BYTES`` is
refused (:class:`BodyLimit`), and pages of the sites ``LEADFLOW_CORS_ORIGINS`` names may
post captures from the browser (:class:`CaptureCORS`).

The capture paths (``/api/...`` and the forms' ``/f/...``) take a capture key that is
public by design, so without a limit anyone could store bodies of any size. A request
that says its length (``Content-Length``) is refused before its body is read; one sent in
chunks is refused when what arrived passes the limit. Either way the answer is the API's
one error shape, ``413 too_large`` at ``body``, and nothing of it is stored: the sender
is told at once and can split it. The web pages keep their own, smaller limit on uploads.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.api.errors import TooLarge, error_response

LIMITED = ("/api/", "/f/")


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes on the :data:`LIMITED` paths."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                error = self._error(int(value))
                response = error_response(413, "too_large", error.message, "body")
                await response(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise self._error(seen)
            return message

        await self.app(scope, limited, send)

    def _error(self, size: int) -> TooLarge:
        return TooLarge(
            f"the body is over {self.limit:,} bytes ({size:,} or more); send fewer inquiries"
            " a request, or raise LEADFLOW_MAX_BODY_BYTES",
            where="body",
        )


CAPTURE_PATHS = ("/api/v1/inquiries", "/api/v1/activities")


def origins(setting: str) -> list[str]:
    """``LEADFLOW_CORS_ORIGINS`` as a list: sites separated by commas, no trailing slash."""
    return [o.strip().rstrip("/") for o in setting.split(",") if o.strip()]


class CaptureCORS:
    """CORS for the two capture paths only, for the sites allowed: a page there may post
    with a capture key (``Authorization``, ``Content-Type``, ``Idempotency-Key``). No
    cookies are sent or needed, and every other path answers no browser of another site."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=allowed,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CAPTURE_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
