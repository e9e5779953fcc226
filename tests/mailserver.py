"""A real SMTP server (aiosmtpd) on 127.0.0.1 for email tests: it keeps what it is sent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from leadflow.config import Settings

USER, PASSWORD = "bo", "s3cret-Pa55"


class Inbox:
    """What the SMTP server received; ``refuse`` are recipients it answers 550 for."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []
        self.sessions: set[int] = set()
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        self.sessions.add(id(session))
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    if isinstance(data, LoginPassword) and data.login == USER.encode():
        if data.password == PASSWORD.encode():
            return AuthResult(success=True)
        # A careless server that repeats what it was sent: leadflow must not pass it on.
        said = f"535 5.7.8 bad password {data.password.decode()}"
        return AuthResult(success=False, handled=False, message=said)
    return AuthResult(success=False, handled=False)  # aiosmtpd answers 535


def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """A running server that takes the login ``bo`` / :data:`PASSWORD` (or none)."""
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,  # loopback only: AUTH without TLS, as a local relay would
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_settings(controller: Controller, **more: Any) -> Settings:
    """Settings that send through ``controller``, plain, from leads@acme.io."""
    values = {"smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_tls": "none"}
    return Settings(**{**values, "smtp_from": "leads@acme.io", **more})


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")  # SMTP sends CRLF line ends
