"""Email through SMTP, with the ``LEADFLOW_SMTP_*`` settings.

::

    send_email(settings, "ann@acme.io", "A lead for you", "Bo Lee (grade A) ...")

    with Mailbox(settings) as mailbox:          # one connection for many emails
        mailbox.send("ann@acme.io", "A lead for you", "...")
        mailbox.send("bo@acme.io", "Welcome", "text...", html="<p>text...</p>")

An email is plain text, or, given ``html``, ``multipart/alternative``: the text first,
then the HTML, so a mail client shows the richest part it can.

The connection is plain (``none``), upgraded (``starttls``) or TLS from the start
(``ssl``); leadflow logs in when a username is set. Whatever goes wrong (no server
configured, refused connection, refused login or recipient) becomes a
:class:`MailError` that says what and where, and never contains the password: the
messages are built from the server's replies, which could echo what they were sent, so
the password is scrubbed from them too.

A :class:`MailError` is ``permanent`` when sending the same email again cannot help
(the server refused the recipient or the message with a 5xx reply, or the address
cannot be written in a header); the outbox then stops retrying it. A connection or
login failure is not permanent: it is the server's or the settings' fault, not the
email's, and the next attempt may succeed.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType
from typing import Self

from leadflow.config import Settings
from leadflow.errors import LeadflowError

TIMEOUT = 10.0
"""Seconds to wait for the SMTP server at each step (connect, each command)."""


class MailError(LeadflowError):
    """An email could not be sent; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def message(
    settings: Settings,
    to: str | Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
) -> EmailMessage:
    """The email, From ``LEADFLOW_SMTP_FROM``: plain text, with ``html`` as an alternative
    part when given. A line break in the subject (a lead's name comes from a web form)
    becomes a space, so no header can be injected."""
    recipients = [to] if isinstance(to, str) else list(to)
    mail = EmailMessage()
    try:
        mail["From"] = settings.smtp_from
        mail["To"] = ", ".join(recipients)
        mail["Subject"] = " ".join(subject.split())
    except ValueError as error:  # an address that cannot be a header
        problem = f"cannot write the email to {', '.join(recipients)}: {error}"
        raise MailError(problem, permanent=True) from None
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail


def send_email(
    settings: Settings,
    to: str | Sequence[str],
    subject: str,
    text: str,
    timeout: float = TIMEOUT,
    html: str | None = None,
) -> None:
    """Send one email on a connection of its own; :class:`MailError` if it cannot be."""
    with Mailbox(settings, timeout) as mailbox:
        mailbox.send(to, subject, text, html)


class Mailbox:
    """One SMTP connection, opened (and logged in) at the first :meth:`send` and kept for
    the next ones; a send that fails closes it, and the next send opens a new one."""

    def __init__(self, settings: Settings, timeout: float = TIMEOUT) -> None:
        if not settings.smtp_host:
            raise MailError("no SMTP server is configured: set LEADFLOW_SMTP_HOST")
        self.settings, self.timeout = settings, timeout
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            smtp, self._smtp = self._smtp, None
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(
        self, to: str | Sequence[str], subject: str, text: str, html: str | None = None
    ) -> None:
        """Send one email (with an HTML alternative when given); :class:`MailError` if it
        cannot be."""
        mail = message(self.settings, to, subject, text, html)
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise self._error(error) from None

    def _open(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = _connect(settings, self.timeout)
        try:
            if settings.smtp_username:
                smtp.login(settings.smtp_username, self._password())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _password(self) -> str:
        secret = self.settings.smtp_password
        return secret.get_secret_value() if secret is not None else ""

    def _error(self, error: Exception) -> MailError:
        where = self.where
        if isinstance(error, smtplib.SMTPAuthenticationError):
            text, permanent = f"the SMTP server {where} refused the login: {_said(error)}", False
        elif isinstance(error, smtplib.SMTPRecipientsRefused):
            refused = "; ".join(
                f"{address} ({_reply(code, said)})"
                for address, (code, said) in error.recipients.items()
            )
            permanent = all(code >= 500 for code, _ in error.recipients.values())
            text = f"the SMTP server {where} refused the recipient {refused}"
        elif isinstance(error, smtplib.SMTPResponseException):
            permanent = error.smtp_code >= 500 and not isinstance(
                error,
                smtplib.SMTPSenderRefused,  # LEADFLOW_SMTP_FROM: the settings' fault
            )
            text = f"the SMTP server {where} refused the email: {_said(error)}"
        else:
            text, permanent = f"cannot send email through {where}: {error}", False
        return MailError(self._scrub(text), permanent)

    def _scrub(self, text: str) -> str:
        password = self._password()
        return text.replace(password, "********") if password else text


def _connect(settings: Settings, timeout: float) -> smtplib.SMTP:
    host, port = settings.smtp_host or "", settings.smtp_port
    if settings.smtp_tls == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_tls == "starttls":
        try:
            smtp.starttls(context=ssl.create_default_context())
        except smtplib.SMTPNotSupportedError:
            smtp.close()
            raise smtplib.SMTPNotSupportedError(
                "the server does not offer STARTTLS (LEADFLOW_SMTP_TLS=starttls); "
                "use 'ssl' for port 465, or 'none' for a relay on this machine"
            ) from None
        except BaseException:
            smtp.close()
            raise
    return smtp


def _said(error: smtplib.SMTPResponseException) -> str:
    return _reply(error.smtp_code, error.smtp_error)


def _reply(code: int, said: bytes | str) -> str:
    text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
    return f"{code} {text}"
