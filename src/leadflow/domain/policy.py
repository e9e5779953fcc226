"""The contact policy: whether a message may reach a person now, and if not, why and when.

::

    contact_policy:
      email_opt_in: newsletter_ok       # a yes/no field: no marketing email without a yes
      do_not_email: do_not_email        # yes/no fields the person (or sales) set
      do_not_call: do_not_call
      do_not_contact: do_not_contact
      contact_me_now: contact_me_now    # the hand-raise: sales may call at once
      caps:
        - {channel: email, side: marketing, max: 2, per: 7d}
        - {channel: call, side: sales, max: 1, per: 1d}
        - {channel: any, stage: prospect, max: 3, per: 7d}
      quiet_hours: {start: "20:00", end: "08:00", timezone_field: timezone}

:func:`decide` answers one of three ways. **send**; **skip**, when the person said no to
the channel (a do-not flag, an opt-out through the preference page, no opt-in where one
is needed): sending later would be as wrong as now; **defer**, when a cap is reached or
it is night where the person is: the message waits until the moment it would be allowed
(the oldest touch in the cap's window leaves it, or the quiet hours end), with the
reason. Caps count every touch of the person, marketing's and sales', that matches the
cap's channel, side and stage. A person who raised a hand (``contact_me_now``) may be
called by sales at once: caps do not hold a sales call back then, quiet hours still do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.domain.schema import ContactPolicySpec

Where = tuple[str | int, ...]
Report = Callable[[Where, str], None]
Action = Literal["send", "defer", "skip"]

_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def delay(text: str) -> timedelta:
    """``30m``, ``12h``, ``3d``, ``2w`` as a timedelta (the schema checked the shape)."""
    match = _DELAY.match(text)
    assert match is not None, text
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class Cap:
    channel: str  # email | call | mail | any
    side: str  # marketing | sales | any
    stage: str | None
    max: int
    per: timedelta

    def counts(self, touch: Touch) -> bool:
        return (
            self.channel in ("any", touch.channel)
            and self.side in ("any", touch.side)
            and (self.stage is None or self.stage == touch.stage)
        )

    def words(self) -> str:
        what = "message" if self.channel == "any" else self.channel
        what = what if self.max == 1 else f"{what}s"
        side = "" if self.side == "any" else f"{self.side} "
        stage = f" in stage {self.stage}" if self.stage else ""
        return f"at most {self.max} {side}{what} per {_span(self.per)}{stage}"


@dataclass(frozen=True)
class Quiet:
    start: time
    end: time
    timezone_field: str | None
    default_timezone: str


@dataclass(frozen=True)
class Policy:
    email_opt_in: str | None = None
    do_not_email: str | None = None
    do_not_call: str | None = None
    do_not_contact: str | None = None
    contact_me_now: str | None = None
    caps: tuple[Cap, ...] = ()
    quiet: Quiet | None = None


@dataclass(frozen=True)
class Touch:
    """A message that reached the person (or a call made): what counts against caps."""

    channel: str
    side: str
    stage: str | None
    at: datetime


@dataclass(frozen=True)
class Consent:
    """What the person agreed to, from their facts and their preferences."""

    email: bool = True
    call: bool = True
    mail: bool = True
    anything: bool = True
    hand_raised: bool = False
    why_not: Mapping[str, str] | None = None  # channel -> why it is refused

    def allows(self, channel: str) -> tuple[bool, str]:
        why = self.why_not or {}
        if not self.anything:
            return False, why.get("any", "asked not to be contacted")
        if channel in ("email", "event") and not self.email:
            return False, why.get("email", "does not want email")
        if channel == "call" and not self.call:
            return False, why.get("call", "asked not to be called")
        if channel == "mail" and not self.mail:
            return False, why.get("mail", "does not want mail")
        return True, ""

    def notes(self) -> tuple[str, ...]:
        """What a rep must be told before contacting the person."""
        if not self.anything:
            return ("Do not contact",)
        notes = []
        if not self.call:
            notes.append("Do not call")
        if not self.email:
            notes.append("Do not email")
        if self.hand_raised:
            notes.append("Asked to be contacted now")
        return tuple(notes)


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    until: datetime | None = None


YES = ("true", "yes", "y", "1", "x", "on")
"""What a yes/no consent field says yes with (any case, spaces around)."""


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().casefold() in YES


OPT_OUT_NAMES: Mapping[str, tuple[str, ...]] = {
    "email": (
        "do_not_email",
        "email_opt_out",  # Salesforce's label, "Email Opt Out"
        "emailoptout",  # Salesforce Web-to-Lead's field, "emailOptOut"
        "hasoptedoutofemail",  # Salesforce's API name, "HasOptedOutOfEmail"
        "has_opted_out_of_email",
        "unsubscribed_from_all_email",  # HubSpot's label
        "opted_out_of_all_email",  # HubSpot's former label
        "hs_email_optout",  # HubSpot's internal name
    ),
    "call": ("do_not_call", "donotcall"),  # Salesforce: "Do Not Call", "DoNotCall", "doNotCall"
    "any": ("do_not_contact", "donotcontact"),
}
"""Names (as ``values.column_key`` reads them) under which other systems and their exports
carry a person's opt-out of a channel. Captured with a yes, each opts the person out
whatever the playbook says; it also fills the contact policy's field for the channel."""


def consent_fields(policy: Policy) -> dict[str, str]:
    """The field the policy names for each opt-out channel (``email``, ``call``, ``any``)."""
    named = {"email": policy.do_not_email, "call": policy.do_not_call, "any": policy.do_not_contact}
    return {channel: field for channel, field in named.items() if field is not None}


def consent_of(
    policy: Policy, facts: Mapping[str, object], opted_out: Collection[str] = ()
) -> Consent:
    """The person's consent: the policy's fields in their facts, and the channels they
    opted out of (``email``, ``call``, ``mail``, ``any``) through the preference page."""
    why: dict[str, str] = {}
    anything = not ("any" in opted_out or _flag(facts, policy.do_not_contact))
    if not anything:
        why["any"] = "asked not to be contacted"
    email = "email" not in opted_out and not _flag(facts, policy.do_not_email)
    if not email:
        why["email"] = "unsubscribed from email"
    elif policy.email_opt_in is not None and not truthy(facts.get(policy.email_opt_in)):
        email = False
        why["email"] = "has not opted in to email"
    call = "call" not in opted_out and not _flag(facts, policy.do_not_call)
    if not call:
        why["call"] = "asked not to be called"
    mail = "mail" not in opted_out
    if not mail:
        why["mail"] = "does not want mail"
    raised = policy.contact_me_now is not None and truthy(facts.get(policy.contact_me_now))
    return Consent(email, call, mail, anything, raised, why)


def _flag(facts: Mapping[str, object], name: str | None) -> bool:
    return name is not None and truthy(facts.get(name))


def decide(
    policy: Policy,
    consent: Consent,
    channel: str,
    side: str,
    stage: str | None,
    now: datetime,
    touches: Sequence[Touch],
    timezone: str | None = None,
) -> Decision:
    """May a ``channel`` message from ``side`` reach the person in ``stage`` at ``now``?"""
    allowed, why = consent.allows(channel)
    if not allowed:
        return Decision("skip", why)
    if channel == "webhook":
        return Decision("send")
    if policy.quiet is not None and channel in ("email", "call", "event"):
        ends = quiet_until(policy.quiet, now, timezone)
        if ends is not None:
            return Decision("defer", "quiet hours where the person is", ends)
    if consent.hand_raised and side == "sales":
        return Decision("send", "asked to be contacted now")
    touch = Touch(channel, side, stage, now)
    latest: Decision | None = None
    for cap in policy.caps:
        if not cap.counts(touch):
            continue
        inside = sorted(t.at for t in touches if cap.counts(t) and now - cap.per < t.at <= now)
        if len(inside) >= cap.max:
            until = inside[len(inside) - cap.max] + cap.per
            if latest is None or (latest.until is not None and until > latest.until):
                latest = Decision("defer", f"cap: {cap.words()}", until)
    return latest or Decision("send")


def quiet_until(quiet: Quiet, now: datetime, timezone: str | None) -> datetime | None:
    """When the quiet hours around ``now`` end where the person is; None outside them."""
    try:
        zone = ZoneInfo(timezone or quiet.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(quiet.default_timezone)
    local = now.astimezone(zone)
    clock = local.time()
    start, end = quiet.start, quiet.end
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def compile_policy(spec: ContactPolicySpec, fields: Collection[str], problem: Report) -> Policy:
    for name in ("email_opt_in", "do_not_email", "do_not_call", "do_not_contact", "contact_me_now"):
        value = getattr(spec, name)
        if value is not None and value not in fields:
            problem(("contact_policy", name), f"'{value}' is not a field")
    caps = tuple(Cap(c.channel, c.side, c.stage, c.max, delay(c.per)) for c in spec.caps)
    quiet = None
    if spec.quiet_hours is not None:
        q = spec.quiet_hours
        try:
            ZoneInfo(q.default_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problem(
                ("contact_policy", "quiet_hours", "default_timezone"),
                f"'{q.default_timezone}' is not a time zone",
            )
        if q.timezone_field is not None and q.timezone_field not in fields:
            problem(
                ("contact_policy", "quiet_hours", "timezone_field"),
                f"'{q.timezone_field}' is not a field",
            )
        try:
            quiet = Quiet(
                time.fromisoformat(q.start),
                time.fromisoformat(q.end),
                q.timezone_field,
                q.default_timezone,
            )
        except ValueError as error:
            problem(("contact_policy", "quiet_hours"), f"not a time of day: {error}")
    return Policy(
        spec.email_opt_in,
        spec.do_not_email,
        spec.do_not_call,
        spec.do_not_contact,
        spec.contact_me_now,
        caps,
        quiet,
    )


def _span(per: timedelta) -> str:
    seconds = int(per.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds} seconds"
