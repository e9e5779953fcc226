"""Web forms that post straight to leadflow, including Salesforce Web-to-Lead forms.

A form has a public key (its address is ``/f/<key>``), the source its inquiries
count for, an optional thank-you page, a map from posted names to fields (for
Web-to-Lead custom fields, whose names are ids like ``00N5e00000abcde``) and a
honeypot field that people never see and bots fill in.

:func:`submit` takes one post: an unknown form key is quarantined and refused; a
filled honeypot is logged and dropped, and answered exactly like a real post so a
bot learns nothing; anything else goes through :func:`capture` like every inquiry.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from difflib import get_close_matches
from urllib.parse import urlsplit

from leadflow.adapters.store.repository import Record, utc
from leadflow.domain.playbook import Playbook
from leadflow.domain.values import clean, column_key
from leadflow.errors import InvalidInput, NotFound
from leadflow.services.capture import (
    IDENTITY_ALIASES,
    Captured,
    CaptureInquiry,
    CaptureSettings,
    capture,
    read_names,
)
from leadflow.services.uow import UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_HONEYPOT = "website_url"
# Web-to-Lead fields that steer the post rather than describe the person.
CONTROL_FIELDS = frozenset(
    {"oid", "orgid", "retURL", "debug", "debugEmail", "encoding", "submit", "captcha_settings"}
)
CONTROL_FIELDS_LOWER = frozenset(name.lower() for name in CONTROL_FIELDS) | {
    "g-recaptcha-response",
    "_charset_",
}
# Web-to-Lead names whose leadflow name differs; the rest (first_name, last_name, email,
# company, title, phone, mobile, lead_source, description, industry, ...) keep theirs.
WEB_TO_LEAD = {
    "url": "website",
    "employees": "company_size",
    "campaign_id": "campaign",
    "zip": "postal_code",
    "emailoptout": "do_not_email",  # the "Email Opt Out" box: value 1 when ticked
    "donotcall": "do_not_call",
}


# Names a real person fills in (every name an identity field is read under, Web-to-Lead's
# own): a honeypot named so would throw their posts away.
PERSON_FIELDS = (
    frozenset(IDENTITY_ALIASES)
    | frozenset(WEB_TO_LEAD)
    | frozenset(WEB_TO_LEAD.values())
    | {"lead_source", "description", "industry", "street", "city", "state", "country"}
)


@dataclass(frozen=True)
class Form:
    key: str
    name: str
    source: str
    thank_you_url: str | None
    field_map: Mapping[str, str]
    honeypot: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class FormPost:
    """One post as received: its fields (in order) and the body text exactly as sent."""

    form_key: str
    fields: list[tuple[str, str]]
    raw: str
    received_at: datetime


@dataclass(frozen=True)
class FormReceived:
    """What to tell the sender: the same for a capture, a quarantine and a bot."""

    redirect: str | None
    result: Captured | None = None  # None when the honeypot caught a bot
    spam: bool = False
    fields: dict[str, str] = field(default_factory=dict)


def _form(row: Record) -> Form:
    return Form(
        key=row.key,
        name=row.name,
        source=row.source,
        thank_you_url=row.thank_you_url,
        field_map=dict(row.field_map or {}),
        honeypot=row.honeypot,
        active=bool(row.active),
        created_at=utc(row.created_at),  # type: ignore[arg-type]
    )


def safe_url(url: str | None) -> str | None:
    """An http(s) address or a path on this site; anything else (javascript:...) is None."""
    url = clean(url)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1": not an address at all
        return None
    if parts.scheme in ("http", "https") and parts.netloc:
        return url
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def unread_targets(pb: Playbook, field_map: Mapping[str, str]) -> list[str]:
    """What is wrong with a form's map, for the playbook ``pb``: each target that neither a
    playbook field (by its name or one of its ``columns:``), a person's detail (email,
    phone, name, company, ...) nor an opt-out (``do_not_email``...) is, in words, with the
    nearest name when one is near.

    Such a value is kept with the inquiry, but no rule reads it: most often a typo. Not
    refused, as a map may name a field the playbook's next version adds."""
    known = read_names(pb)
    said = []
    for posted, target in field_map.items():
        if column_key(target) in known:
            continue
        near = get_close_matches(column_key(target), list(known), n=1, cutoff=0.75)
        hint = f"; did you mean '{known[near[0]]}'?" if near else ""
        said.append(
            f"'{posted}={target}': '{target}' is no field of playbook '{pb.name}' and no"
            f" contact detail, so no rule reads it (it is kept with each inquiry){hint}"
        )
    return said


IDENTIFYING = {"email": "email", "phone": "phone", "external_id": "external id"}
"""The identity fields that tell who an inquiry is from: with none, it is quarantined."""


def identity_mapped_away(field_map: Mapping[str, str]) -> list[str]:
    """What is wrong with a form's map that takes an identifying posted name (``email``,
    ``phone``, ``external_id`` or one of their other names: ``e_mail``, ``mobile``,
    ``id``...) to another field, in words: those posts give no email (phone, id) through
    it, and a post with none of them is quarantined as ``no_identity``. Not refused: the
    form may post another name for it."""
    said = []
    for posted, target in field_map.items():
        field_name = IDENTITY_ALIASES.get(column_key(posted))
        if field_name not in IDENTIFYING or IDENTITY_ALIASES.get(column_key(target)) == field_name:
            continue
        what = IDENTIFYING[field_name]
        said.append(
            f"'{posted}={target}': the {what} posted as '{posted}' is read as '{target}', not"
            f" as the person's {what}; a post with no email, phone or id is quarantined"
            f" (no_identity), so a form that sends its {what} as '{posted}' needs it unmapped"
        )
    return said


def new_form_key() -> str:
    """A form's key: 16 URL-safe characters (about 96 random bits), never beginning with
    '-', which the CLI would read as an option after ``forms deactivate``."""
    while (key := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return key


def create_form(
    uow: UnitOfWork,
    name: str,
    now: datetime,
    source: str | None = None,
    thank_you_url: str | None = None,
    field_map: Mapping[str, str] | None = None,
    honeypot: str = DEFAULT_HONEYPOT,
) -> Form:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a form needs a name", where="name")
    if thank_you_url is not None and safe_url(thank_you_url) is None:
        raise InvalidInput(
            f"'{thank_you_url}' is not an http(s) address or a /path", where="thank_you_url"
        )
    for posted, target in (field_map or {}).items():
        if not posted.strip() or not target.strip():
            raise InvalidInput(f"'{posted}={target}': both names are needed", where="field_map")
    trap = honeypot.strip() or DEFAULT_HONEYPOT
    mapped = {k.strip() for k in field_map or {}} | {v.strip() for v in (field_map or {}).values()}
    if trap.lower() in PERSON_FIELDS | CONTROL_FIELDS_LOWER or trap in mapped:
        raise InvalidInput(
            f"'{trap}' is a field people fill in (or the form maps it): as the honeypot it"
            " would throw their posts away; name a hidden field nobody fills, such as"
            f" '{DEFAULT_HONEYPOT}'",
            where="honeypot",
        )
    values = {
        "key": new_form_key(),
        "name": name,
        "source": (source or "").strip() or f"form:{name}",
        "thank_you_url": thank_you_url,
        "field_map": {k.strip(): v.strip() for k, v in (field_map or {}).items()},
        "honeypot": trap,
        "active": True,
        "created_at": now,
    }
    uow.store.insert_form(values)
    uow.commit()
    row = uow.store.form_by_key(str(values["key"]))
    assert row is not None
    return _form(row)


def list_forms(uow: UnitOfWork) -> list[Form]:
    return [_form(row) for row in uow.store.forms()]


def set_form_active(uow: UnitOfWork, key: str, active: bool) -> Form:
    """Switch a form off (its posts go to the quarantine as an unknown form) or on again."""
    if uow.store.form_by_key(key) is None:
        raise NotFound(f"no form with key '{key}' (see 'leadflow forms list')")
    uow.store.set_form_active(key, active)
    uow.commit()
    row = uow.store.form_by_key(key)
    assert row is not None
    return _form(row)


def translate(form: Form, posted: list[tuple[str, str]]) -> dict[str, str]:
    """Posted names to leadflow fields: the form's map first, then Web-to-Lead names.

    Control fields and the honeypot are dropped; a name posted more than once (a
    multi-select) keeps every value, joined with ';' as Web-to-Lead does.
    """
    return _joined(
        (form.field_map.get(name) or WEB_TO_LEAD.get(name.lower(), name), value)
        for name, value in posted
        if name.lower() not in CONTROL_FIELDS_LOWER and name != form.honeypot
    )


def for_replay(
    uow: UnitOfWork, form_key: str | None, posted: Mapping[str, object]
) -> tuple[dict[str, object], str | None]:
    """A post kept because its form was unknown or switched off, read as its form reads
    it now: the fields (the form's map, control fields and the honeypot dropped) and the
    form's source. A form still unknown or off reads Web-to-Lead names only and gives no
    source."""
    row = uow.store.form_by_key(form_key) if form_key else None
    form = _form(row) if row is not None else None
    if form is None or not form.active:
        form = Form("", "", "", None, {}, DEFAULT_HONEYPOT, False, datetime.min)
    pairs = [(str(name), "" if value is None else str(value)) for name, value in posted.items()]
    fields: dict[str, object] = dict(translate(form, pairs))
    return fields, form.source or None


def _value(posted: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in posted if key == name and value.strip()), None)


def submit(
    uow: UnitOfWork, pb: Playbook, post: FormPost, settings: CaptureSettings
) -> FormReceived:
    # (no form's key holds a NUL, which PostgreSQL would refuse even to look up)
    row = uow.store.form_by_key(post.form_key) if "\x00" not in post.form_key else None
    form = _form(row) if row is not None else None
    if form is None or not form.active:
        # Its honeypot (the default one for a form nobody made) still catches bots: their
        # posts would become leads when the quarantine is replayed.
        honeypot = form.honeypot if form is not None else DEFAULT_HONEYPOT
        if _value(post.fields, honeypot) is not None:
            _spam(uow, post, honeypot)
        else:
            quarantine_raw(
                uow,
                post.raw,
                channel="form",
                reason="unknown_form",
                error=f"no active form with key '{post.form_key}'",
                at=post.received_at,
                form_key=post.form_key,
                fields=_joined(post.fields),
            )
        raise NotFound(f"no form '{post.form_key}'")
    redirect = safe_url(_value(post.fields, "retURL")) or form.thank_you_url
    if _value(post.fields, form.honeypot) is not None:
        _spam(uow, post, form.honeypot)
        return FormReceived(redirect, spam=True)
    fields = translate(form, post.fields)
    cmd = CaptureInquiry(
        fields=fields,
        raw=post.raw,
        source=form.source,
        channel="form",
        received_at=post.received_at,
        form_key=form.key,
    )
    return FormReceived(redirect, capture(uow, pb, cmd, settings), fields=fields)


def _spam(uow: UnitOfWork, post: FormPost, honeypot: str) -> None:
    uow.store.append_event(
        "form.spam", post.received_at, data={"form_key": post.form_key, "honeypot": honeypot}
    )
    uow.commit()
    log.info("form %s: honeypot %r filled; nothing captured", post.form_key, honeypot)


def _joined(posted: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Names and values, a name posted more than once (a multi-select) with every value
    joined by ';', as Web-to-Lead joins them."""
    found: dict[str, str] = {}
    for name, value in posted:
        found[name] = f"{found[name]};{value}" if found.get(name) else value
    return found


def quarantine_raw(
    uow: UnitOfWork,
    raw: str,
    *,
    channel: str,
    reason: str,
    error: str,
    at: datetime,
    source: str | None = None,
    form_key: str | None = None,
    fields: Mapping[str, object] | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Keep a post that cannot be captured at all (unreadable, or for no known form)."""
    item = uow.store.insert_quarantine(
        {
            "received_at": at,
            "channel": channel,
            "source": source,
            "form_key": form_key,
            "payload": raw,
            "fields": dict(fields) if fields is not None else None,
            "reason": reason,
            "error": error,
            "idempotency_key": idempotency_key,
        }
    )
    uow.commit()
    return item
