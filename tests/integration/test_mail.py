"""Email reaches a real SMTP server (aiosmtpd) on loopback; failures become MailError."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from leadflow.adapters.mail import Mailbox, MailError, send_email
from leadflow.config import Settings
from mailserver import PASSWORD, Inbox, body, free_port  # tests/ is on sys.path
from mailserver import smtp_settings as _settings


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
        smtp_port=free_port(),
        smtp_tls="none",
        smtp_username="bo",
        smtp_password=PASSWORD,
    )
    with pytest.raises(MailError, match=r"cannot send email through 127\.0\.0\.1:\d+: .*refused"):
        send_email(closed, "a@b.io", "s", "t")
    with pytest.raises(MailError, match="cannot write the email to") as caught:
        send_email(_settings(controller), "not an\naddress", "s", "t")
    assert caught.value.permanent
