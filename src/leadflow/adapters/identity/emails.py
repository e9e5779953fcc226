"""Email addresses: email-validator decides, a fast path may only agree.

:func:`normalise_email` is email-validator, syntax only (no DNS look-up):
it defines what is valid and what the normal form is. It costs about 50
microseconds an address, too much for a million rows and a fifteenth of a
capture, so both paths, the vectorised one (:func:`email_fast`) and the
one-address one, first recognise the common shape below and lower-case it
themselves; everything else goes to the library.

The fast shape was derived from email-validator's source (``syntax.py``):
ASCII only, checked on the trimmed text before lower-casing: dot-separated
atoms of RFC 5322 ``atext``, an "@", dot-separated LDH labels of at most 63
characters, an alphabetic top-level label of 2 to 63 letters; the local part
at most 64 and the whole at most 254 characters; no "--" in the domain
(email-validator refuses "ab--" labels and decodes "xn--" ones); not at or
under a special-use name (``test``, ``localhost``, ...). For such an address
email-validator returns the local part unchanged and the domain in lower
case, so its normal form lower-cased is the text lower-cased. Property tests
(``tests/unit/test_normalise_fast.py``) hold both paths to that.

Policy: internationalised addresses (SMTPUTF8) are accepted; quoted local
parts, display names ("Bob <bob@x.com>") and IP-address domains are not,
as email-validator's defaults have it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import email_validator

from leadflow.domain.values import clean, shown

if TYPE_CHECKING:
    import polars as pl

_ATOM = r"[A-Za-z0-9!#\$%&'\*\+/=\?\^_`\{\|\}~\-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
EMAIL_FAST_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
"""The shape of an address the fast path may lower-case without asking email-validator."""
EMAIL_LOCAL_MAX = 64
EMAIL_MAX = 254
RESERVED_EMAIL_DOMAINS = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
"""Special-use names email-validator refuses, with every name under them."""

ROLE_LOCAL_PARTS = frozenset(
    {
        "accounting", "accounts", "admin", "administrator", "billing", "bookings", "careers",
        "contact", "contactus", "customerservice", "do-not-reply", "donotreply", "enquiries",
        "enquiry", "events", "feedback", "finance", "hello", "help", "helpdesk", "hi", "hr",
        "info", "information", "inquiries", "inquiry", "invoices", "jobs", "legal", "mail",
        "marketing", "media", "no-reply", "no_reply", "noreply", "office", "orders", "press",
        "privacy", "purchasing", "recruiting", "reception", "sales", "security", "service",
        "support", "team", "webmaster",
    }
)  # fmt: skip
"""Local parts that name a function, not a person: several people may share such an address."""


def email_issue(text: str, reason: str) -> str:
    return f"email: '{shown(text)}' is not a valid address ({reason})"


def normalise_email(raw: object) -> tuple[str | None, str | None]:
    """The address lower-cased as email-validator normalises it, or ``None`` and the issue."""
    text = clean(raw)
    if text is None:
        return None, None
    if _is_fast(text):
        return text.lower(), None
    try:
        valid = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return None, email_issue(text, str(error))
    return valid.normalized.lower(), None


def email_parts(email: str | None) -> tuple[str | None, str | None]:
    """A normalised address split at its "@" (it has exactly one, never quoted)."""
    if email is None:
        return None, None
    local, _, domain = email.rpartition("@")
    return local, domain


def is_role_address(email: str | None) -> bool:
    """Whether a normalised address's local part, before any "+tag", is a role."""
    local, _ = email_parts(email)
    return local is not None and local.split("+", 1)[0] in ROLE_LOCAL_PARTS


def role_block(email: str) -> str:
    """The block of a role address's people other than the one its key belongs to:
    colleagues share info@ and sales@, each findable by it."""
    return f"role:{email}"


# An address's domain is, or is under, a special-use name (lower case, after the "@").
_RESERVED = r"(?:@|\.)(?:" + "|".join(re.escape(n) for n in RESERVED_EMAIL_DOMAINS) + ")$"
_FAST_SHAPE = re.compile(EMAIL_FAST_PATTERN)
_RESERVED_AT_END = re.compile(_RESERVED)


def _is_fast(text: str) -> bool:
    """Whether one trimmed address has the fast shape, the tests of :func:`email_fast`
    on one string: email-validator would return it lower-cased (about 2 us against 50)."""
    return (
        len(text) <= EMAIL_MAX
        and _FAST_SHAPE.fullmatch(text) is not None
        and text.index("@") <= EMAIL_LOCAL_MAX
        and "--" not in text[text.index("@") :]
        and _RESERVED_AT_END.search(text.lower()) is None
    )


def email_fast(text: pl.Expr) -> pl.Expr:
    """The lower-cased address where email-validator provably agrees, else null.

    ``text`` is trimmed (``clean`` in Polars). Each test reads it once; an
    address of the fast shape has exactly one "@" and no line break, which
    the simpler tests after the first rely on.
    """
    import polars as pl  # on first use: a command that never needs it starts 0.18 s sooner

    lower = text.str.to_lowercase()
    ok = (
        text.str.contains(f"^(?:{EMAIL_FAST_PATTERN})$")
        & (text.str.len_bytes() <= EMAIL_MAX)
        & text.str.contains(f"^[^@]{{1,{EMAIL_LOCAL_MAX}}}@")
        & ~text.str.contains("@[^@]*--")
        & ~lower.str.contains(_RESERVED)
    )
    return pl.when(ok.fill_null(False)).then(lower)
