"""What a person says about being contacted, and what they do with the emails they get.

Every nurture email has a token (``touches.token``). Its unsubscribe link opts the person
out of email and stops their nurture track; the preference page lets them choose per
channel (email, calls, mail, or nothing at all); a tracked link records an
``email_click`` and an open an ``email_open`` activity, each rating the lead again
(which may promote it to sales at once). A hard bounce opts the address out of email.
Each opt-out is logged (``contact.opted_out``) and sent to the webhooks subscribed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import Record, Store
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput, NotFound
from leadflow.services import opt_outs
from leadflow.services.activities import RecordActivity, record_activity
from leadflow.services.capture import CaptureSettings
from leadflow.services.uow import UnitOfWork

CHANNELS = {
    "email": "Emails",
    "call": "Phone calls",
    "mail": "Letters and parcels",
    "any": "Nothing at all: do not contact me",
}


@dataclass(frozen=True)
class Preferences:
    token: str
    email: str | None
    opted_out: Mapping[str, bool]


def _touch(store: Store, token: str) -> Record:
    touch = NurtureStore(store.connection).touch(token)
    if touch is None:
        raise NotFound("this link is not known (it may have been mistyped)")
    return touch


def opt_out(store: Store, person_id: int, channel: str, source: str, now: datetime) -> None:
    """Record that the person wants no more ``channel`` and do what it asks
    (``opt_outs.honour``): their nurture emails still in the outbox are withdrawn (they
    would arrive after the opt-out), their open call and mail tasks for the channel (a
    nurture step's, the qualification call's) cancelled with why, and their track stopped
    when that leaves nurture nothing to send (no email, or nothing at all)."""
    if channel not in CHANNELS:
        raise InvalidInput(f"'{channel}' is not a channel: {', '.join(CHANNELS)}", "channel")
    NurtureStore(store.connection).opt_out_many([(person_id, channel)], now, source)
    opt_outs.honour(store, {person_id: [channel]}, now, source)


def unsubscribe(uow: UnitOfWork, token: str, now: datetime) -> Preferences:
    """The unsubscribe link: no more email to this person; their track stops."""
    touch = _touch(uow.store, token)
    prefs = NurtureStore(uow.store.connection).preferences_of(int(touch.person_id))
    if not prefs.get("email"):
        opt_out(uow.store, int(touch.person_id), "email", "unsubscribe link", now)
    uow.commit()
    return preferences(uow, token)


def preferences(uow: UnitOfWork, token: str) -> Preferences:
    touch = _touch(uow.store, token)
    person = uow.store.person(int(touch.person_id))
    prefs = NurtureStore(uow.store.connection).preferences_of(int(touch.person_id))
    return Preferences(token, person.email if person else None, prefs)


def set_preferences(
    uow: UnitOfWork, token: str, wanted: Mapping[str, bool], now: datetime
) -> Preferences:
    """The preference page: ``wanted[channel]`` True to keep hearing by it."""
    touch = _touch(uow.store, token)
    person_id = int(touch.person_id)
    ns = NurtureStore(uow.store.connection)
    current = ns.preferences_of(person_id)
    for channel in CHANNELS:
        out = not wanted.get(channel, channel != "any")
        if channel == "any":
            out = not wanted.get("any", True)
        if out and not current.get(channel):
            opt_out(uow.store, person_id, channel, "preference page", now)
        elif not out and current.get(channel):
            ns.set_preference(person_id, channel, False, now, "preference page")
    uow.commit()
    return preferences(uow, token)


def clicked(
    uow: UnitOfWork, pb: Playbook, token: str, n: int, settings: CaptureSettings, now: datetime
) -> str:
    """A tracked link: record the click, rate the lead again; where to send the browser."""
    touch = _touch(uow.store, token)
    links = list(touch.links or [])
    if not 0 <= n < len(links):
        raise NotFound("this link is not known (it may have been mistyped)")
    _activity(uow, pb, touch, "email_click", {"url": links[n]}, settings, now)
    return str(links[n])


def opened(
    uow: UnitOfWork, pb: Playbook, token: str, settings: CaptureSettings, now: datetime
) -> None:
    touch = _touch(uow.store, token)
    _activity(uow, pb, touch, "email_open", {}, settings, now)


def _activity(
    uow: UnitOfWork,
    pb: Playbook,
    touch: Record,
    kind: str,
    details: Mapping[str, object],
    settings: CaptureSettings,
    now: datetime,
) -> None:
    cmd = RecordActivity(
        kind,
        now,
        person_id=int(touch.person_id),
        source=f"nurture:{touch.track}" if touch.track else "email",
        details={**details, "subject": touch.subject},
    )
    record_activity(uow.store, pb, cmd, settings, now)
    uow.commit()


def bounced(uow: UnitOfWork, email: str, hard: bool, now: datetime) -> int:
    """A bounce reported by the mail provider; a hard one opts the address out of email.
    The person's id."""
    from leadflow.adapters.identity.emails import normalise_email

    address, issue = normalise_email(email)
    if address is None:
        raise InvalidInput(issue or f"'{email}' is not an email address", "email")
    person_id = uow.store.person_by_key("email", address)
    if person_id is None:
        raise NotFound(f"no person with email {address}")
    data = {"email": address, "hard": hard}
    uow.store.append_event("email.bounced", now, person_id, None, data)
    if hard:
        opt_out(uow.store, person_id, "email", "hard bounce", now)
    uow.commit()
    return person_id
