"""Capture one inquiry: keep it, find its person, update the facts, rate the lead.

Every source (the API, web forms, imported files, replays from quarantine)
comes through :func:`capture`, so the same definition applies to all:

1. An ``Idempotency-Key`` seen before returns the first result, untouched.
2. The payload is stored exactly as received, before any cleaning.
3. Identity is normalised (email, phone, names, company, domain); an inquiry
   with no email, no phone and no external id goes to the quarantine.
4. The person is found (``identity.find_person``) or created; a join is
   recorded as a merge that ``unmerge`` can undo.
5. The person's facts become the latest non-blank value of each playbook
   field; an opt-out the inquiry carries (``emailOptOut``, ``HasOptedOutOfEmail``,
   ``DoNotCall``...) is kept whatever the playbook's fields (``opt_outs``); the
   lead is rated with the active playbook; the rating, its
   reasons and the playbook version are stored and logged as events, and
   ``lead.captured`` and ``lead.rated`` are queued for the webhooks that
   subscribe to them (in the same transaction; nothing when none does).

A value the database refuses rolls the inquiry back and quarantines it with
the error, so nothing is lost.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from difflib import get_close_matches
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from leadflow.adapters.identity.countries import country_of, region_of
from leadflow.adapters.identity.emails import is_role_address
from leadflow.adapters.identity.names import former_name_block, sharing_a_word, split_full_name
from leadflow.adapters.identity.normalise import Normalised, normalise
from leadflow.adapters.store.leads import LeadStore
from leadflow.adapters.store.repository import Event, PersonRow, Store, dumps
from leadflow.domain.funnel import gaps
from leadflow.domain.playbook import Playbook
from leadflow.domain.policy import OPT_OUT_NAMES
from leadflow.domain.rating import Activity, Rating, evaluate
from leadflow.domain.values import clean, column_key
from leadflow.errors import Conflict, InvalidInput
from leadflow.services import handoff, identity, opt_outs, webhooks
from leadflow.services.handoff import Runtime, now_utc
from leadflow.services.handoff_notify import publish
from leadflow.services.uow import UnitOfWork

IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e_mail", "email_address", "mail"),
    "phone": ("phone", "phone_number", "telephone", "tel", "mobile", "mobile_phone", "cell"),
    "first_name": ("first_name", "firstname", "given_name", "forename"),
    "last_name": ("last_name", "lastname", "surname", "family_name"),
    "name": ("name", "full_name", "contact_name"),
    "company": ("company", "company_name", "organisation", "organization", "account_name"),
    "website": ("website", "url", "company_website", "web_site", "domain"),
    "title": ("title", "job_title"),
    "external_id": ("external_id", "id", "record_id"),
    "campaign": ("campaign", "utm_campaign", "campaign_name"),
}
IDENTITY_ALIASES = {alias: name for name, aliases in IDENTITY_FIELDS.items() for alias in aliases}
"""Each name an identity field is read under (``e_mail``, ``tel``...), to the field's."""

# Columns the database bounds, with what an inquiry puts in them. Checked before anything
# is written, alike on SQLite (which would store any length) and PostgreSQL (which would
# refuse the statement); an import checks the same, column by column (``bulk_prepare``).
LIMITS: tuple[tuple[str, str, int], ...] = (
    ("external_id", "inquiries.external_id", 200),
    ("campaign", "inquiries.campaign", 200),
    ("ext_key", "person_keys.value", 400),
    ("email", "people.email", 320),
    ("phone", "people.phone", 32),
    ("first_name", "people.first_name", 200),
    ("last_name", "people.last_name", 200),
    ("name_key", "people.name_key", 400),
    ("company", "people.company", 300),
    ("company_key", "people.company_key", 300),
    ("domain", "accounts.domain", 253),
)


TEXTS: tuple[tuple[str, str], ...] = (
    *((column, where) for column, where, _ in LIMITS),
    ("source", "inquiries.source"),
    ("form_key", "inquiries.form_key"),
)
"""Every text an inquiry stores beside its payload and fields, checked for NUL
characters, which PostgreSQL refuses in text (and SQLite is held to alike)."""


def refused_value(values: Mapping[str, str | None]) -> str | None:
    """Why the database would refuse an inquiry with these values (by :data:`TEXTS`'
    names): the first one too long, else the first with a NUL character; None if none."""
    for column, where, limit in LIMITS:
        value = values.get(column)
        if value is not None and len(value) > limit:
            return (
                f"the database would refuse the inquiry: {where} takes at most {limit}"
                f" characters, got {len(value)}"
            )
    for column, where in TEXTS:
        value = values.get(column)
        if value is not None and "\x00" in value:
            return f"the database would refuse the inquiry: {where} contains a NUL character"
    return None


@dataclass(frozen=True)
class CaptureInquiry:
    """One inquiry as it arrived: its parsed fields and the exact text received."""

    fields: Mapping[str, object]
    raw: str
    source: str
    channel: str
    received_at: datetime
    campaign: str | None = None
    form_key: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Captured:
    inquiry_id: int | None = None
    person_id: int | None = None
    grade: str | None = None
    route: str | None = None
    merged: str | None = None  # the rule that joined an existing person
    quarantine_id: int | None = None
    error: str | None = None
    repeated: bool = False  # an idempotent retry: this is the first result

    @property
    def quarantined(self) -> bool:
        return self.quarantine_id is not None


@dataclass
class CaptureSettings:
    region: str = "US"
    name_threshold: float = identity.DEFAULT_NAME_THRESHOLD
    phone_name_floor: float = identity.DEFAULT_PHONE_NAME_FLOOR
    now: Callable[[], datetime] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    email: bool = False  # an SMTP server is configured: reps are emailed their leads

    def runtime(self) -> Runtime:
        """The hand-off's clock and random generator (see ``services/handoff.py``)."""
        return Runtime(clock=self.now or now_utc, rng=self.rng, email=self.email)


def split_fields(
    pb: Playbook, fields: Mapping[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Identity fields (email, phone, name...) and playbook facts, from any spelling of names.

    An identity field is the first of its names with a value, a fact the last; a blank
    value (empty or only spaces) never hides another. Exports quote every field, so a
    blank ``Phone`` beside a ``Mobile`` is the usual case, not an odd one.
    """
    ident: dict[str, object] = {}
    facts: dict[str, object] = {}
    columns = pb.field_columns
    for key, value in fields.items():
        norm = column_key(str(key))
        owner = norm if norm in pb.fields else None
        if owner is None:
            owner = next((name for name, cols in columns.items() if norm in cols), None)
        if owner is not None:
            if owner not in facts or clean(value) is not None:
                facts[owner] = value
        elif norm in IDENTITY_ALIASES:
            name = IDENTITY_ALIASES[norm]
            if name not in ident or clean(ident[name]) is None:
                ident[name] = value
    return ident, facts


OPT_OUT_FIELDS = tuple(names[0] for names in OPT_OUT_NAMES.values())
"""leadflow's names of the opt-outs: do_not_email, do_not_call, do_not_contact."""


def read_names(pb: Playbook) -> dict[str, str]:
    """Every name a capture reads a value under (as ``column_key`` reads it), with the
    field it fills: a field of the playbook by its name or one of its ``columns:``, an
    identity field by any of its names (``split_fields``), and the names of the opt-outs,
    kept whatever the playbook (``opt_outs``)."""
    names = {column_key(n): n for n in pb.fields}
    for field_name, keys in pb.field_columns.items():
        names.update({key: field_name for key in keys})
    names.update(IDENTITY_ALIASES)
    for keys in pb.opt_out_names.values():
        names.update({key: key for key in keys if key not in names})
    return names


def unread_name(pb: Playbook, name: str) -> str | None:
    """Why no field is read under ``name`` (a typo, most often), in words: the nearest
    name a capture reads, and every field it reads; None when ``name`` is one
    (:func:`read_names`)."""
    names = read_names(pb)
    key = column_key(name)
    if key in names:
        return None
    near = get_close_matches(key, list(names), n=1, cutoff=0.75)
    hint = f" (did you mean '{names[near[0]]}'?)" if near else ""
    return (
        f"'{name}' is not a field a capture reads{hint}; identity fields:"
        f" {', '.join(IDENTITY_FIELDS)}; the playbook's: {', '.join(pb.fields)};"
        f" opt-outs: {', '.join(OPT_OUT_FIELDS)}"
    )


def refuse_yes_no_ids(pb: Playbook, fields: Mapping[str, object], where: str = "") -> None:
    """InvalidInput at the member (``where`` before its name) when one read as the
    external id (``split_fields``: a name of it no playbook field takes) is true or
    false: no source's id is a yes or a no, and stored as the text 'True' it would make
    one person of everyone sent with it."""
    for key, value in fields.items():
        if not isinstance(value, bool):
            continue
        norm = column_key(str(key))
        if IDENTITY_ALIASES.get(norm) != "external_id" or norm in pb.fields:
            continue
        if any(norm in keys for keys in pb.field_columns.values()):
            continue
        raise InvalidInput(
            "an external id must be text or a number, not true/false", where=f"{where}{key}"
        )


def _names(ident: Mapping[str, object]) -> tuple[object, object]:
    """First and last name; from the full name ("Smith, John", "John Smith Jr.") when
    neither is given (``names.split_full_name``)."""
    first, last = ident.get("first_name"), ident.get("last_name")
    full = clean(ident.get("name"))
    if full and not clean(first) and not clean(last):
        return split_full_name(full)
    return first, last


def identify(cmd: CaptureInquiry, ident: Mapping[str, object], region: str) -> identity.Identity:
    """Who the inquiry says it is; a phone without its country code is read in the
    inquiry's own country when it gives one that can be told, else in ``region``."""
    first, last = _names(ident)
    norm: Normalised = normalise(
        ident.get("email"),
        ident.get("phone"),
        first,
        last,
        ident.get("company"),
        ident.get("website"),
        region=region_of(country_of(cmd.fields)) or region,
    )
    external = clean(ident.get("external_id"))
    return identity.Identity(norm, f"{cmd.source}:{external}" if external else None)


def capture(
    uow: UnitOfWork, pb: Playbook, cmd: CaptureInquiry, settings: CaptureSettings
) -> Captured:
    """Capture, commit, and on a refused value quarantine instead (its own commit).

    A unique key refused once is tried again, in a new transaction: on PostgreSQL two
    captures of one new person or company (a double-clicked form, colleagues posting at
    once) both make it, and the second to commit is refused; tried again, it finds the
    first's. Refused twice, the inquiry goes to the quarantine."""
    for attempt in (1, 2):
        try:
            result = capture_in(uow.store, pb, cmd, settings)
            uow.commit()
            return result
        except IntegrityError as error:
            uow.rollback()
            if cmd.idempotency_key:
                first = _repeat(uow.store, cmd.idempotency_key, cmd.raw)
                if first is not None:
                    return first
            if attempt == 2:
                return _quarantine_after(uow, cmd, error)
        except (DBAPIError, StatementError) as error:
            uow.rollback()
            return _quarantine_after(uow, cmd, error)
    raise AssertionError("unreachable")


def refusal(error: Exception) -> str:
    """The database's own words for why it refused a statement (first line)."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def capture_guarded(
    store: Store, pb: Playbook, cmd: CaptureInquiry, settings: CaptureSettings
) -> tuple[Captured | None, str | None]:
    """:func:`capture_in` inside a savepoint: its result, or ``None`` and the refusal.

    For callers that capture many inquiries in one transaction (imports, replays):
    an inquiry the database refuses is rolled back alone.
    """
    savepoint = store.connection.begin_nested()
    try:
        result = capture_in(store, pb, cmd, settings)
    except (DBAPIError, StatementError) as error:
        savepoint.rollback()
        return None, refusal(error)
    savepoint.commit()
    return result, None


def _quarantine_after(uow: UnitOfWork, cmd: CaptureInquiry, error: Exception) -> Captured:
    message = f"the database refused the inquiry: {refusal(error)}"
    item = quarantine(uow.store, cmd, "database", message)
    uow.commit()
    return Captured(quarantine_id=item, error=message)


def quarantine(store: Store, cmd: CaptureInquiry, reason: str, error: str) -> int:
    return store.insert_quarantine(
        {
            "received_at": cmd.received_at,
            "channel": cmd.channel,
            "source": cmd.source,
            "campaign": cmd.campaign,
            "form_key": cmd.form_key,
            "payload": cmd.raw,
            "fields": _jsonable(cmd.fields),
            "reason": reason,
            "error": error,
            # (a key the database would refuse is left out: the item must be kept)
            "idempotency_key": key if (key := cmd.idempotency_key) and len(key) <= 200 else None,
        }
    )


BATCH_ITEM = " \u203a "
"""Between a batch's Idempotency-Key and an item's index in the key the item is kept
under: ``order-7 › 0``. No HTTP header carries a '›' (header values are Latin-1 text),
and the API refuses a key with one, so no single inquiry's key is ever a batch item's."""


def batch_item_key(key: str, index: int) -> str:
    """The key item ``index`` of a batch sent with Idempotency-Key ``key`` is kept under."""
    return f"{key}{BATCH_ITEM}{index}"


def _said(key: str) -> str:
    """A kept key as its sender wrote it: a batch item's names its batch's key."""
    batch, mark, index = key.rpartition(BATCH_ITEM)
    if mark:
        return f"the Idempotency-Key '{batch}' (item {index} of its batch)"
    return f"the Idempotency-Key '{key}'"


def _repeat(store: Store, key: str, raw: str) -> Captured | None:
    """The first result of a request with this key: its inquiry, or its quarantine item
    (and the inquiry that item became when it was replayed). Conflict when that request
    said something else than ``raw``: a key reused for a new inquiry must not swallow it
    (nor answer with the first inquiry's rating to whoever guesses the key). A key seen
    for the first time is a conflict too when it names another kind of request: a single
    inquiry's key that a batch used, or a batch's that a single inquiry (or an unreadable
    body) used."""
    row = store.inquiry_by_idempotency_key(key)
    if row is not None:
        _same_request(key, row.payload, raw, f"inquiry {row.id}")
    else:
        item = store.quarantine_by_idempotency_key(key)
        if item is None:
            _refuse_other_kind(store, key)
            return None
        _same_request(key, item.payload, raw, f"quarantined inquiry {item.id}")
        if item.inquiry_id is None:
            return Captured(quarantine_id=item.id, error=item.error, repeated=True)
        row = store.inquiry(item.inquiry_id)
        if row is None:
            return None
    state = store.rating(row.person_id) if row.person_id is not None else None
    return Captured(
        inquiry_id=row.id,
        person_id=row.person_id,
        grade=state.grade if state else None,
        route=state.route if state else None,
        repeated=True,
    )


def _refuse_other_kind(store: Store, key: str) -> None:
    """Conflict when the request a new ``key`` comes with is not the kind of request its
    sender's key was first used for. A batch is known by its first item, written first
    (a batch item's key is checked at its first item: a batch's keys are all checked
    before any item is captured)."""
    batch, mark, index = key.rpartition(BATCH_ITEM)
    if mark and index == "0":
        used = _used(store, batch)
        if used is not None:
            raise Conflict(
                f"the Idempotency-Key '{batch}' was used for a single inquiry ({used}), not"
                " a batch; a retry must send the same body, a new request needs a new key",
                where="Idempotency-Key",
            )
    elif not mark:
        used = _used(store, batch_item_key(key, 0))
        if used is not None:
            raise Conflict(
                f"the Idempotency-Key '{key}' was used for a batch ({used} is its first"
                " item), not a single inquiry; a retry must send the same body, a new"
                " request needs a new key",
                where="Idempotency-Key",
            )


def _used(store: Store, key: str) -> str | None:
    """What a request with ``key`` left, in words; None when none was kept under it."""
    row = store.inquiry_by_idempotency_key(key)
    if row is not None:
        return f"inquiry {row.id}"
    item = store.quarantine_by_idempotency_key(key)
    return None if item is None else f"quarantined inquiry {item.id}"


def _same_request(key: str, first: str, raw: str, what: str) -> None:
    """Conflict unless ``raw`` says what ``first`` said: the same JSON value (spaces and
    the order of members aside), else the same text."""
    if first == raw:
        return
    try:
        same = _canonical(first) == _canonical(raw)
    except ValueError:
        same = False
    if not same:
        raise Conflict(
            f"{_said(key)} was used for a different inquiry ({what});"
            " a retry must send the same body, a new inquiry needs a new key",
            where="Idempotency-Key",
        )


def _canonical(text: str) -> str:
    """A JSON text with its spaces and the order of its members set aside, but not its
    types: ``1`` is not ``true``, nor ``30`` ``30.0``."""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def refuse_reused_keys(store: Store, commands: Sequence[CaptureInquiry]) -> None:
    """Conflict if any of ``commands`` has an Idempotency-Key used before for another
    inquiry: checked for a whole batch before any of it is captured, so a 409 keeps
    nothing."""
    for cmd in commands:
        if cmd.idempotency_key:
            _repeat(store, cmd.idempotency_key, cmd.raw)


def capture_in(
    store: Store, pb: Playbook, cmd: CaptureInquiry, settings: CaptureSettings
) -> Captured:
    """Capture inside the caller's transaction (imports use it for many rows at once)."""
    if cmd.idempotency_key:
        first = _repeat(store, cmd.idempotency_key, cmd.raw)
        if first is not None:
            return first
    ident_fields, facts = split_fields(pb, cmd.fields)
    who = identify(cmd, ident_fields, settings.region)
    if not who.identifiable:
        problems = [p for p in (who.norm.email_issue, who.norm.phone_issue) if p]
        detail = "; ".join(problems) if problems else "the inquiry has no email, phone or id"
        error = f"cannot tell who this is: {detail}"  # (a retry is answered the same)
        item = quarantine(store, cmd, "no_identity", error)
        return Captured(quarantine_id=item, error=error)
    campaign = cmd.campaign or clean(ident_fields.get("campaign"))
    norm = who.norm
    refused = refused_value(
        {
            "external_id": clean(ident_fields.get("external_id")),
            "campaign": campaign,
            "ext_key": who.external,
            "email": norm.email,
            "phone": norm.phone,
            "first_name": norm.first_name,
            "last_name": norm.last_name,
            "name_key": norm.name_key,
            "company": norm.company,
            "company_key": norm.company_key,
            "domain": norm.domain,
            "source": cmd.source,
            "form_key": cmd.form_key,
        }
    )
    if refused is not None:
        item = quarantine(store, cmd, "database", refused)
        return Captured(quarantine_id=item, error=refused)
    at = cmd.received_at
    # The first write: on SQLite it takes the write lock, so the matching below sees
    # every committed person and no other capture can add one until this one commits.
    inquiry_id = store.insert_inquiry(
        {
            "received_at": at,
            "channel": cmd.channel,
            "source": cmd.source,
            "campaign": campaign,
            "form_key": cmd.form_key,
            "external_id": clean(ident_fields.get("external_id")),
            "idempotency_key": cmd.idempotency_key,
            "payload": cmd.raw,
            "fields": _jsonable(cmd.fields),
        }
    )
    known = _Known(store, who)
    match = identity.find_person(known, who, settings.name_threshold, settings.phone_name_floor)
    events: list[Event] = []
    person_id, facts_now, activities = _consolidate(known, facts, match, inquiry_id, at, events)
    # Kept before the hand-off, so that a rep told of the lead is told of the opt-out too;
    # honoured (logged, emails waiting withdrawn, tasks cancelled) once the lead has moved.
    said = opt_outs.source_of(cmd.channel, cmd.source)
    opted = opt_outs.record(store, {person_id: opt_outs.opted_out_in(pb, cmd.fields)}, at, said)
    # Where it came from (the form too: the reports' first touch); what it said is the
    # inquiry's own (payload and fields).
    captured = {
        "source": cmd.source,
        "channel": cmd.channel,
        "campaign": campaign,
        "form_key": cmd.form_key,
    }
    events.append(Event("inquiry.captured", at, person_id, inquiry_id, captured))
    rating, rated, env = rate_and_save(store, pb, person_id, facts_now, activities, at)
    runtime = settings.runtime()
    moved = handoff.on_rating(
        store, pb, person_id, rating, env, "inquiry", at, runtime, new=match is None
    )
    store.append_events([*events, rated, *moved.events])
    publish(store, pb, person_id, moved.events, moved.state.owner_rep_id, runtime)
    captured_data = {"inquiry_id": inquiry_id, "person_id": person_id, **captured}
    webhooks.enqueue_all(
        store, [("lead.captured", captured_data), ("lead.rated", _rated_data(rated))], at
    )
    opt_outs.honour(store, opted, at, said, end_tracks=False)
    return Captured(
        inquiry_id=inquiry_id,
        person_id=person_id,
        grade=rating.grade,
        route=rating.route,
        merged=match.rule if match else None,
    )


class _Known:
    """The people known, as matching one inquiry sees them: a :class:`identity.PeopleIndex`.

    The owners of all the inquiry's identifiers are read in one query, and the members of
    all its blocks in another, when first asked for; both are read under the capture's
    write lock (on SQLite), after the inquiry, and the owners are reused to add its keys.
    """

    def __init__(self, store: Store, who: identity.Identity) -> None:
        self.store, self.who = store, who
        self._owners: dict[tuple[str, str], int] | None = None
        self._blocks: dict[str, list[tuple[int, str | None]]] | None = None

    def owners(self) -> dict[tuple[str, str], int]:
        if self._owners is None:
            self._owners = self.store.key_owners(self.who.keys)
        return self._owners

    def person_by_key(self, kind: str, value: str) -> int | None:
        if (kind, value) not in self.who.keys:
            return self.store.person_by_key(kind, value)
        return self.owners().get((kind, value))

    def name_key_of(self, person_id: int) -> str | None:
        return self.store.name_key_of(person_id)

    def sharers(self, block: str) -> list[tuple[int, str | None]]:
        return self.store.sharers(block)

    def former_names(self, people: Sequence[int]) -> dict[int, list[str]]:
        return self.store.former_names(people)

    def emails_of(self, person_id: int) -> list[str]:
        return self.store.emails_of(person_id)

    def name_candidates(
        self, block: str, words: Sequence[str]
    ) -> list[tuple[list[int], list[str | None]]]:
        if self._blocks is None:
            self._blocks = self.store.members_of_blocks(self.who.blocks)
        if block not in self._blocks:
            return self.store.name_candidates(block, words)
        return [sharing_a_word(self._blocks[block], words)]


def _consolidate(
    known: _Known,
    facts: Mapping[str, object],
    match: identity.Match | None,
    inquiry_id: int,
    at: datetime,
    events: list[Event],
) -> tuple[int, dict[str, Any], list[Activity]]:
    """Fold the inquiry into the person it matched, or a new one; record a merge.

    Returns the person, their facts now and their activities (to rate them with).
    """
    store, who = known.store, known.who
    person: PersonRow | None = None
    if match is not None:
        person = store.person(match.person_id)
        assert person is not None
        merge: dict[str, Any] = {"rule": match.rule, "score": match.score, "detail": match.detail}
        store.insert_merge({"at": at, "inquiry_id": inquiry_id, "person_id": person.id, **merge})
        events.append(Event("person.merged", at, person.id, inquiry_id, merge))
    account_id = account_for(store, who, at)
    values = folded(person, who, facts, account_id, at)
    if person is None:
        person_id = store.insert_person({"created_at": at, **values})
        activities: list[Activity] = []  # a person made just now has none yet
    else:
        person_id = person.id
        store.update_person(person_id, values)
        activities = [Activity(kind, when) for kind, when in store.activities_of(person_id)]
    blocks = [*who.blocks, *_former_name(person, values)]
    add_identifiers(store, person_id, who.keys, blocks, known.owners())
    store.set_inquiry_person(inquiry_id, person_id, account_id)
    return person_id, values["facts"], activities


def _jsonable(facts: Mapping[str, object]) -> dict[str, object]:
    return json.loads(dumps(dict(facts)))  # type: ignore[no-any-return]


def new_person(store: Store, at: datetime) -> int:
    return store.insert_person(
        {"created_at": at, "updated_at": at, "facts": {}, "inquiry_count": 0}
    )


def account_for(store: Store, who: identity.Identity, at: datetime) -> int | None:
    """The inquiry's company: the account of its domain, else of its company's name;
    made when new. An account made by name alone (free-mail senders) takes the first
    domain given with its name, so the order inquiries come in makes no second account."""
    norm = who.norm
    if norm.domain:
        if not norm.company_key:
            found = store.account_by_domain(norm.domain)
        else:
            found, nameless = store.account_by_domain_or_name(norm.domain, norm.company_key)
            if found is None and nameless is not None:
                store.set_account_domain(nameless, norm.domain)
                return nameless
        if found is not None:
            return found
        return store.insert_account(
            {
                "domain": norm.domain,
                "name": norm.company,
                "name_key": norm.company_key,
                "created_at": at,
            }
        )
    if norm.company_key:
        found = store.account_by_name_key(norm.company_key)
        if found is not None:
            return found
        return store.insert_account(
            {"domain": None, "name": norm.company, "name_key": norm.company_key, "created_at": at}
        )
    return None


def contact_email(kept: str | None, given: str | None) -> str | None:
    """The address a person is written to: the first given, until a personal one comes
    after a role address."""
    if kept is None or (given is not None and is_role_address(kept) and not is_role_address(given)):
        return given or kept
    return kept


def folded(
    person: PersonRow | None,
    who: identity.Identity,
    facts: Mapping[str, object],
    account_id: int | None,
    at: datetime,
) -> dict[str, Any]:
    """A person's columns after one more inquiry: identifiers, names, company, facts.

    ``person`` is None for someone new. The first email and phone stay, but for a role
    address (info@), which the first personal address given replaces: nurture writes
    to the person. Names and company follow the latest inquiry that gives them; facts
    keep the latest non-blank value of each field.
    """
    norm = who.norm
    merged = dict(person.facts) if person is not None else {}
    merged.update({k: clean(v) for k, v in facts.items() if clean(v) is not None})
    return {
        "facts": merged,
        "updated_at": at,
        "inquiry_count": (person.inquiry_count if person is not None else 0) + 1,
        "email": contact_email(person.email if person is not None else None, norm.email),
        "phone": (person.phone if person is not None else None) or norm.phone,
        "first_name": norm.first_name or (person.first_name if person is not None else None),
        "last_name": norm.last_name or (person.last_name if person is not None else None),
        "name_key": norm.name_key or (person.name_key if person is not None else None),
        "company": norm.company or (person.company if person is not None else None),
        "company_key": norm.company_key or (person.company_key if person is not None else None),
        "account_id": account_id or (person.account_id if person is not None else None),
    }


def apply_inquiry(
    store: Store,
    person_id: int,
    who: identity.Identity,
    facts: Mapping[str, object],
    account_id: int | None,
    at: datetime,
) -> None:
    """Fold one inquiry into its stored person: identifiers, names, company, facts."""
    person = store.person(person_id)
    assert person is not None
    values = folded(person, who, facts, account_id, at)
    store.update_person(person_id, values)
    add_identifiers(store, person_id, who.keys, [*who.blocks, *_former_name(person, values)])


def _former_name(person: PersonRow | None, values: Mapping[str, Any]) -> list[str]:
    """The block of the name the person is called no more (:func:`folded` gives ``values``),
    if one: another name does not make them someone else."""
    old = person.name_key if person is not None else None
    return [former_name_block(old)] if old and old != values["name_key"] else []


def add_identifiers(
    store: Store,
    person_id: int,
    keys: Sequence[tuple[str, str]],
    blocks: Sequence[str],
    owners: Mapping[tuple[str, str], int] | None = None,
) -> None:
    """Give the person the identifiers nobody owns yet, and put them in ``blocks``; a
    phone (a switchboard, a family line) or a role address (info@) another person owns
    puts them in its block, so that it finds them too (``identity.find_person``)."""
    taken = store.add_keys(person_id, keys, owners)
    shared = [identity.shared_block(kind, value) for kind, value in taken]
    store.add_blocks(person_id, [*blocks, *(block for block in shared if block)])


def rerate(
    store: Store,
    pb: Playbook,
    person_id: int,
    now: datetime,
    event: str | None = None,
    runtime: Runtime | None = None,
) -> Rating:
    """Rate the person's current facts and activities; store and log the rating, and
    move the lead on by it (``event`` is what caused it: activity, answers, recontact)."""
    return rerate_many(store, pb, {person_id: now}, event, runtime)[person_id]


def rerate_many(
    store: Store,
    pb: Playbook,
    moments: Mapping[int, datetime],
    event: str | None = None,
    runtime: Runtime | None = None,
) -> dict[int, Rating]:
    """:func:`rerate` each of these people as of its moment, in the order given: what
    rating them one after another does, with the people, their activities and their
    lifecycles read together (a rating or a move reads and writes only its own person's)
    and every event logged in one statement (nothing in them reads the event log). An
    import of activities rates a thousand people a transaction."""
    runtime = runtime or Runtime()
    ids = list(moments)
    people, activities = store.people(ids), store.activities_of_many(ids)
    states = LeadStore(store.connection).lifecycles(ids) if len(ids) > 1 else {}
    ratings: dict[int, Rating] = {}
    logged: list[Event] = []
    for person_id, now in moments.items():
        facts = people[person_id].facts
        done = [Activity(kind, at) for kind, at in activities.get(person_id, ())]
        rating, rated, env = rate_and_save(store, pb, person_id, facts, done, now)
        moved = handoff.on_rating(
            store, pb, person_id, rating, env, event, now, runtime, state=states.get(person_id)
        )
        logged += [rated, *moved.events]
        publish(store, pb, person_id, moved.events, moved.state.owner_rep_id, runtime)
        webhooks.enqueue_all(store, [("lead.rated", _rated_data(rated))], now)
        ratings[person_id] = rating
    store.append_events(logged)
    return ratings


def rate_and_save(
    store: Store,
    pb: Playbook,
    person_id: int,
    facts: Mapping[str, Any],
    activities: list[Activity],
    now: datetime,
) -> tuple[Rating, Event, dict[str, object]]:
    """Rate these facts and activities and store the rating; the event to log for it,
    and the environment stage and team conditions read."""
    rating, env = evaluate(pb, facts, activities, now=now)
    store.save_rating(
        person_id,
        {
            "grade": rating.grade,
            "score": rating.score,
            "route": rating.route,
            "fit": rating.fit,
            "qualification": rating.qualification,
            "engagement": rating.engagement,
            "segment": rating.segment,
            "reasons": list(rating.reasons),
            "data_issues": list(rating.data_issues),
            "playbook_version": rating.playbook_version,
            "rated_at": now,
        },
    )
    data = {
        "grade": rating.grade,
        "route": rating.route,
        "score": rating.score,
        "playbook_version": rating.playbook_version,
        **gaps(pb, facts, rating.segment),
    }
    return rating, Event("lead.rated", now, person_id, None, data), env


def _rated_data(rated: Event) -> dict[str, Any]:
    """A ``lead.rated`` webhook's data: the person and the rating logged."""
    return {"person_id": rated.person_id, **(rated.data or {})}
