"""Opt-outs: a person's no to a channel, kept however it reached leadflow.

A person opts out of a channel (``email``, ``call``, ``mail``, or ``any``: everything)
through the unsubscribe link, the preference page, a hard bounce (``services.contact``),
or an inquiry that says so: a Web-to-Lead form's ``emailOptOut`` box, a CRM export's
``HasOptedOutOfEmail`` or ``Do Not Call`` column, an API call's ``"DoNotCall": true``, the
contact policy's own ``do_not_email`` field (``Playbook.opt_out_names``). Each is kept per
channel in ``preferences``, with when and how, whatever fields the playbook has; only the
person takes it back, on the preference page. A later inquiry that says no (a CRM export's
unticked box) does not: it may be older news than the opt-out.

:func:`record` keeps the opt-outs; :func:`honour` then does what each asks, once:
``contact.opted_out`` is logged and sent to the webhooks subscribed, the person's nurture
emails still in the outbox are withdrawn (email, everything), their open call and mail
tasks cancelled, and, for an opt-out through leadflow's own links, their nurture track
stopped (email, everything). An inquiry's opt-out leaves the track to the worker, which
decides each step against the person's consent: an email step is skipped, with the reason,
a call step goes on unless calls were refused too, and no to everything ends the track at
its next pass. Both take many people at once (an import's slice) in a few statements.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from leadflow.adapters.store.nurture_store import NurtureStore
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain.playbook import Playbook
from leadflow.domain.policy import truthy
from leadflow.domain.values import column_key
from leadflow.services import webhooks

CHANNELS = ("email", "call", "mail", "any")
TASKS = {"call": ("call",), "mail": ("mail",), "any": ("call", "mail")}
"""The open tasks (``tasks.kind``) an opt-out of each channel cancels."""
WORDS = {"email": "email", "call": "calls", "mail": "mail", "any": "all contact"}
SILENCING = ("email", "any")
"""The opt-outs that leave nurture nothing to send: the person's track stops."""


def opted_out_in(pb: Playbook, fields: Mapping[str, object]) -> tuple[str, ...]:
    """The channels an inquiry's fields opt the person out of: those of which a name
    (``Playbook.opt_out_names``) has a yes (``1``, ``true``, ``yes``, ``on``, ``x``)."""
    said = {column_key(str(name)) for name, value in fields.items() if truthy(value)}
    if not said:
        return ()
    return tuple(channel for channel, names in pb.opt_out_names.items() if said & names)


def source_of(channel: str, source: str) -> str:
    """How an inquiry's opt-out came, as ``preferences.source`` keeps it (100 characters)."""
    return f"inquiry ({channel}: {source})"[:100]


def record(
    store: Store, wanted: Mapping[int, Collection[str]], at: datetime, source: str
) -> dict[int, list[str]]:
    """Keep that each person opted out of these channels; the channels each was not opted
    out of already (what :func:`honour` must act on)."""
    people = [person for person, channels in wanted.items() if channels]
    if not people:
        return {}
    ns = NurtureStore(store.connection)
    before = ns.opted_out(people)
    new = {
        person: [c for c in CHANNELS if c in wanted[person] and c not in before.get(person, ())]
        for person in people
    }
    new = {person: channels for person, channels in new.items() if channels}
    ns.opt_out_many([(p, c) for p, channels in new.items() for c in channels], at, source)
    return new


def honour(
    store: Store,
    done: Mapping[int, Sequence[str]],
    at: datetime,
    source: str,
    end_tracks: bool = True,
) -> list[Event]:
    """Do what these new opt-outs ask (see the module); log and send their events, and
    return them. With ``end_tracks`` false (an inquiry's opt-outs) the person's track goes
    on: the worker skips each step they said no to, and takes them out of it at its next
    pass when they said no to everything."""
    if not done:
        return []
    ns = NurtureStore(store.connection)
    events = [
        Event("contact.opted_out", at, person, None, _said(person, c, source))
        for person, channels in done.items()
        for c in channels
    ]
    silenced = [p for p, channels in done.items() if set(SILENCING) & set(channels)]
    if silenced:
        ns.withdraw_emails(silenced, f"withdrawn: the person opted out of email ({source})")
    for channel, kinds in TASKS.items():
        people = [p for p, channels in done.items() if channel in channels]
        if people:
            why = f"cancelled: the person opted out of {WORDS[channel]} ({source})"
            ns.cancel_tasks(people, kinds, why, at)
    active = ns.active_of(silenced) if silenced and end_tracks else {}
    left: list[dict[str, Any]] = []
    for person in silenced:
        current = active.get(person)
        if current is None:
            continue
        ended = {"status": "exited", "exit_reason": "unsubscribed", "exited_at": at}
        left.append({"id": int(current.id), **ended, "due_at": None})
        data = {"track": current.track, "enrollment_id": int(current.id), "reason": "unsubscribed"}
        events.append(Event("nurture.exited", at, person, None, data))
    ns.update_many(left)
    store.append_events(events)
    hooks = [(e.kind, {"person_id": e.person_id, **(e.data or {})}) for e in events]
    webhooks.enqueue_all(store, hooks, at)
    return events


def _said(person_id: int, channel: str, source: str) -> dict[str, Any]:
    return {"person_id": person_id, "channel": channel, "source": source}
