"""Email reaches a real SMTP server (aiosmtpd) on loopback; failures become MailError."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from leadflow.adapters.mail import Mailbox, MailError, send_email
from leadflow.config import Settings

PASSWORD = "s3cret-Pa55"


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
        message = message_from_bytes(envelope.original_content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        self.sessions.add(id(session))
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    if isinstance(data, LoginPassword) and data.login == b"bo":
        if data.password == PASSWORD.encode():
            return AuthResult(success=True)
        # A careless server that repeats what it was sent: leadflow must not pass it on.
        said = f"535 5.7.8 bad password {data.password.decode()}"
        return AuthResult(success=False, handled=False, message=said)
    return AuthResult(success=False, handled=False)  # aiosmtpd answers 535


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticate,
        auth_require_tls=False,  # loopback only: AUTH without TLS, as a local relay would
    )
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(controller: Controller, **more: Any) -> Settings:
    values = {"smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_tls": "none"}
    return Settings(**{**values, "smtp_from": "leads@acme.io", **more})


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")  # SMTP sends CRLF line ends


def test_an_email_reaches_the_server(smtp: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp
    send_email(_settings(controller), "ann@acme.io", "A lead for you: Bo Lee (A)", "Call Bo.\n")
    ((sender, recipients, message),) = inbox.received
    assert (sender, recipients) == ("leads@acme.io", ["ann@acme.io"])
    assert message["Subject"] == "A lead for you: Bo Lee (A)"
    assert (message["From"], message["To"]) == ("leads@acme.io", "ann@acme.io")
    assert message["Message-ID"].endswith("@acme.io>")
    assert body(message) == "Call Bo.\n"


def test_a_line_break_in_the_subject_cannot_inject_a_header(
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    send_email(_settings(controller), "ann@acme.io", "Bo\r\nBcc: eve@evil.io", "Hi ünïcode")
    ((_, recipients, message),) = inbox.received
    assert recipients == ["ann@acme.io"]
    assert message["Subject"] == "Bo Bcc: eve@evil.io" and message["Bcc"] is None
    assert body(message) == "Hi ünïcode\n"


def test_a_mailbox_sends_many_emails_on_one_connection(smtp: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp
    with Mailbox(_settings(controller, smtp_username="bo", smtp_password=PASSWORD)) as mailbox:
        for n in range(3):
            mailbox.send(f"rep{n}@acme.io", f"lead {n}", "text")
    assert [r for _, (r,), _ in inbox.received] == [f"rep{n}@acme.io" for n in range(3)]
    assert len(inbox.sessions) == 1


def test_a_login_is_used_and_a_wrong_one_refused_without_the_password(
    smtp: tuple[Controller, Inbox],
) -> None:
    controller, inbox = smtp
    right = _settings(controller, smtp_username="bo", smtp_password=PASSWORD)
    send_email(right, "a@b.io", "s", "t")
    assert len(inbox.received) == 1
    wrong = _settings(controller, smtp_username="bo", smtp_password="guess-Wh0")
    with pytest.raises(MailError, match=r"the SMTP server 127\.0\.0\.1:\d+ refused the login: 535"):
        send_email(wrong, "a@b.io", "s", "t")
    with pytest.raises(MailError) as caught:
        send_email(wrong, "a@b.io", "s", "t")
    assert "guess-Wh0" not in str(caught.value) and "bad password ********" in str(caught.value)
    assert not caught.value.permanent  # the settings' fault: the email may go later
    stranger = _settings(controller, smtp_username="cy", smtp_password=PASSWORD)
    with pytest.raises(MailError, match="refused the login: 535") as caught:
        send_email(stranger, "a@b.io", "s", "t")
    assert PASSWORD not in str(caught.value)
    assert len(inbox.received) == 1


def test_a_refused_recipient_is_a_permanent_failure(smtp: tuple[Controller, Inbox]) -> None:
    controller, inbox = smtp
    inbox.refuse.add("gone@acme.io")
    with Mailbox(_settings(controller)) as mailbox:
        with pytest.raises(MailError, match=r"refused the recipient gone@acme\.io \(550") as e:
            mailbox.send("gone@acme.io", "s", "t")
        assert e.value.permanent
        mailbox.send("ann@acme.io", "s", "t")  # the mailbox goes on after a failure
    assert [r for _, r, _ in inbox.received] == [["ann@acme.io"]]


def test_failures_are_clear(smtp: tuple[Controller, Inbox]) -> None:
    controller, _ = smtp
    with pytest.raises(MailError, match="LEADFLOW_SMTP_HOST"):
        send_email(Settings(smtp_host=None), "a@b.io", "s", "t")
    with pytest.raises(MailError, match=r"127\.0\.0\.1:\d+: the server does not offer STARTTLS"):
        send_email(_settings(controller, smtp_tls="starttls"), "a@b.io", "s", "t")
    closed = Settings(
        smtp_host="127.0.0.1",
        smtp_port=_free_port(),
        smtp_tls="none",
        smtp_username="bo",
        smtp_password=PASSWORD,
    )
    with pytest.raises(MailError, match=r"cannot send email through 127\.0\.0\.1:\d+: .*refused"):
        send_email(closed, "a@b.io", "s", "t")
    with pytest.raises(MailError, match="cannot write the email to") as caught:
        send_email(_settings(controller), "not an\naddress", "s", "t")
    assert caught.value.permanent
