"""Rate one lead given on the command line, for ``leadflow explain``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime

from leadflow.domain.playbook import Playbook
from leadflow.domain.rating import Activity, Rating, days_ago, rate
from leadflow.errors import InvalidInput


def parse_facts(pb: Playbook, items: Sequence[str]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise InvalidInput(f"'{item}': write a fact as field=value", where="--set")
        if name not in pb.fields:
            close = difflib.get_close_matches(name, list(pb.fields), n=1)
            hint = (
                f" (did you mean '{close[0]}'?)" if close else f" (fields: {', '.join(pb.fields)})"
            )
            raise InvalidInput(f"'{name}' is not a field of the playbook{hint}", where="--set")
        facts[name] = value
    return facts


def parse_activities(pb: Playbook, items: Sequence[str], now: datetime) -> list[Activity]:
    known = list(pb.engagement.activities) if pb.engagement else []
    found = []
    for item in items:
        kind, _, ago = item.partition(":")
        if kind not in known:
            types = ", ".join(known) or "none"
            raise InvalidInput(
                f"'{kind}' is not an activity type of the playbook (types: {types})",
                where="--activity",
            )
        try:
            days = float(ago) if ago else 0.0
        except ValueError:
            raise InvalidInput(f"'{item}': days ago must be a number", where="--activity") from None
        if days < 0:
            raise InvalidInput(f"'{item}': days ago cannot be negative", where="--activity")
        found.append(Activity(kind, days_ago(now, days)))
    return found


def explain_lead(
    pb: Playbook, facts: Sequence[str], activities: Sequence[str], now: datetime
) -> Rating:
    return rate(pb, parse_facts(pb, facts), parse_activities(pb, activities, now), now=now)
