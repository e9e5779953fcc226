"""Record what people do (page views, downloads, email replies, webinars, calls...).

An activity is tied to a person by ``person_id``, email, phone or a source's
external id, stored, logged, and the lead is rated again: engagement decays
with time, so each activity can move a prospect towards sales.

A phone number or a role address (info@, sales@) can be several people's (a
switchboard, a family's line, colleagues: see ``identity``): an activity that only it
would find is refused as ambiguous (``Conflict`` at ``phone`` or ``email``), never
credited to whichever of them gave it first; another identifier it gives that finds one
person decides instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadflow.adapters.identity.normalise import normalise_email, normalise_phone
from leadflow.adapters.store.repository import Event, Store
from leadflow.domain.moments import as_utc, stamp
from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import activity_key
from leadflow.domain.values import clean
from leadflow.errors import Conflict, InvalidInput, NotFound
from leadflow.services import identity
from leadflow.services.capture import CaptureSettings, rerate_many

ACTIVITY_TYPES = (
    "page_view",
    "pricing_page_view",
    "content_download",
    "email_open",
    "email_click",
    "email_reply",
    "webinar_registered",
    "webinar_attended",
    "community_post",
    "call",
    "meeting",
    "trial_signup",
)

CLOCK_SKEW = timedelta(minutes=5)
"""How far after now an activity's ``at`` may be: a sender's clock that runs a little ahead
is taken as now; anything later has not happened yet and is refused."""


@dataclass(frozen=True)
class RecordActivity:
    type: str
    at: datetime
    person_id: int | None = None
    email: str | None = None
    phone: str | int | None = None
    external_id: str | None = None  # "source:id"
    source: str | None = None
    details: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Recorded:
    activity_id: int
    person_id: int
    grade: str
    route: str
    engagement: float
    scored: bool  # whether the playbook gives this type of activity points


def find_person_for(
    store: Store,
    cmd: RecordActivity,
    settings: CaptureSettings,
    keys: identity.KeyIndex | None = None,
) -> int:
    """The person an activity belongs to, by id; else by a source's external id, email or
    phone, in the order the matching rules try them (``identity.find_person``), so an
    activity goes to the person an inquiry with the same identifiers would join.

    An identifier several people gave (a phone, a role address) finds none of them, as
    one nobody gave: the next is tried. Only when none finds one person is the activity
    refused, as ambiguous (``Conflict`` at the first such identifier) if one was.
    ``keys``: where identifiers are looked up, when not the store itself
    (:class:`KnownKeys`)."""
    if cmd.person_id is not None:
        if store.person(cmd.person_id) is None:
            raise NotFound(f"no person {cmd.person_id}")
        return cmd.person_id
    unusable: list[tuple[str, str]] = []
    nobody: list[str] = []  # the identifiers that found no one, said
    shared: list[tuple[str, str, int]] = []  # field, identifier said, how many people
    for field, kind, value in _identifiers(cmd, settings, unusable):
        people = identity.people_behind(keys or store, kind, value)
        if len(people) == 1:
            return people[0]
        said = f"{_SAID[kind]} {value}"
        if people:
            shared.append((field, said, len(people)))
        else:
            nobody.append(said)
    if shared:
        raise Conflict(_shared(nobody, shared), where=shared[0][0])
    if nobody:
        raise NotFound(f"no person with {' or '.join(nobody)}")
    if unusable:
        field, issue = unusable[0]
        raise InvalidInput(issue, where=field)
    raise InvalidInput("an activity needs person_id, email, phone or external_id")


class KnownKeys:
    """The store's identifiers, with the owners of a batch's one-person identifiers (an
    external id, an email not a role address) read together beforehand: an import of
    activities looks up a thousand rows' people in one query instead of one a row. The
    owners cannot change meanwhile: recording activities makes and merges no one."""

    def __init__(self, store: Store, cmds: Sequence[RecordActivity]) -> None:
        self.store = store
        wanted = []
        for cmd in cmds:
            if cmd.person_id is not None:
                continue
            if cmd.external_id:
                wanted.append(("external", cmd.external_id))
            email, _ = normalise_email(cmd.email)
            if email and identity.shared_block("email", email) is None:
                wanted.append(("email", email))
        owners = store.key_owners(wanted)
        self.owners: dict[tuple[str, str], int | None] = {k: owners.get(k) for k in wanted}

    def person_by_key(self, kind: str, value: str) -> int | None:
        try:
            return self.owners[(kind, value)]
        except KeyError:
            return self.store.person_by_key(kind, value)

    def people_sharing(self, kind: str, value: str, block: str) -> list[int]:
        return self.store.people_sharing(kind, value, block)


_SAID = {"external": "external id", "email": "email", "phone": "phone"}
_INSTEAD = {"email": "external_id", "phone": "their own email or external_id"}
"""What to give instead of a shared identifier: one the matching rules try before it."""


def _identifiers(
    cmd: RecordActivity, settings: CaptureSettings, unusable: list[tuple[str, str]]
) -> Iterator[tuple[str, str, str]]:
    """The identifiers an activity gives, in the matching rules' order, as (field, key
    kind, value), each read only once the one before has found no one; those that cannot
    be read are put in ``unusable`` (field, why)."""
    if cmd.external_id:
        yield "external_id", "external", cmd.external_id
    email, email_issue = normalise_email(cmd.email)
    if email:
        yield "email", "email", email
    elif email_issue:
        unusable.append(("email", email_issue))
    phone, phone_issue = normalise_phone(cmd.phone, settings.region)
    if phone:
        yield "phone", "phone", phone
    elif phone_issue:
        unusable.append(("phone", phone_issue))


def _shared(nobody: Sequence[str], shared: Sequence[tuple[str, str, int]]) -> str:
    """Why identifiers several people gave find none of them, and what to give instead.
    Their ids are not named: a capture key, safe to embed in a public page, never learns
    leadflow's ids (the web's search by the identifier lists them for a person signed in)."""
    said = "; ".join(f"{what} belongs to {count:,} people" for _, what, count in shared)
    said += f": give {_INSTEAD[shared[0][0]]} (or person_id, with an admin key)"
    return f"no person with {' or '.join(nobody)}; {said}" if nobody else said


def record_activity(
    store: Store, pb: Playbook, cmd: RecordActivity, settings: CaptureSettings, now: datetime
) -> Recorded:
    """Store the activity and rate the lead again at once (as of now: ``at`` is never
    later, see :func:`store_activity`)."""
    activity_id, person_id, _at = store_activity(store, cmd, settings, now)
    return rate_recorded(store, pb, [(activity_id, person_id, cmd.type)], settings, now)[0]


def rate_recorded(
    store: Store,
    pb: Playbook,
    stored: Sequence[tuple[int, int, str]],
    settings: CaptureSettings,
    now: datetime,
) -> list[Recorded]:
    """Rate each person of these stored activities (id, person, type) once, after all of
    theirs, and answer for each activity with its person's rating.

    A batch of a person's activities is rated once, not once per activity: a rating reads
    all of the person's activities, so rating after each would cost the batch's size times
    the person's history."""
    moment = as_utc(now)
    people = {person: moment for _, person, _ in stored}
    ratings = rerate_many(store, pb, people, "activity", settings.runtime())
    return [
        Recorded(
            activity_id,
            person,
            ratings[person].grade,
            ratings[person].route,
            ratings[person].engagement,
            pb.scores(kind),
        )
        for activity_id, person, kind in stored
    ]


def store_activity(
    store: Store,
    cmd: RecordActivity,
    settings: CaptureSettings,
    now: datetime,
    log: list[Event] | None = None,
    keys: identity.KeyIndex | None = None,
) -> tuple[int, int, datetime]:
    """Store and log an activity without rating; bulk imports rate each person once after.

    ``at`` up to :data:`CLOCK_SKEW` after ``now`` is stored as ``now``; later is refused,
    so no activity rates a lead as of a moment that has not come. With ``log``, its event
    is put there for the caller to log with others (one statement for a batch); ``keys``,
    as :func:`find_person_for` takes it."""
    kind = activity_key(clean(cmd.type) or "")
    if not kind:
        raise InvalidInput("an activity needs a type", where="type")
    at = happened_at(cmd.at, as_utc(now))
    person_id = find_person_for(store, cmd, settings, keys)
    activity_id = store.insert_activity(
        {
            "person_id": person_id,
            "type": kind,
            "at": at,
            "source": cmd.source,
            "payload": json.dumps(dict(cmd.details or {}), ensure_ascii=False, default=str),
        }
    )
    recorded = Event("activity.recorded", at, person_id, None, {"type": kind, "source": cmd.source})
    if log is None:
        store.append_events([recorded])
    else:
        log.append(recorded)
    return activity_id, person_id, at


def happened_at(at: datetime, now: datetime) -> datetime:
    """``at`` in UTC, no later than ``now``; InvalidInput when it is out of range or
    more than :data:`CLOCK_SKEW` in the future."""
    try:
        moment = as_utc(at)
    except (OverflowError, ValueError):
        raise InvalidInput(f"'at' {at.isoformat()} is out of range", where="at") from None
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(
            f"'at' {stamp(moment)} is in the future (now {stamp(now)});"
            " record an activity once it has happened",
            where="at",
        )
    return min(moment, now)
