"""A rep's working hours: a time zone and the hours of each week, as one line of text.

::

    Europe/Berlin Mon-Fri 09:00-17:00
    America/New_York Mon-Thu 08:00-16:30; Fri 08:00-12:00
    Asia/Tokyo Mon,Wed,Fri 10:00-18:00

The time zone is an IANA name; then one or more blocks separated by ``;``, each a set
of days (``Mon``, a range ``Mon-Fri`` or a list ``Mon,Wed``) and a span ``HH:MM-HH:MM``
in that zone, its end after its start (``24:00`` ends a day; a span does not cross
midnight). Days are ``Mon Tue Wed Thu Fri Sat Sun``, in any case. :func:`parse_hours`
returns the hours with their text in a normal form, or says what is wrong and where.

SLAs count in working time: :func:`add_working_time` finds the moment a number of
working minutes after a start (``4h`` accepted at Friday 16:00 on Mon-Fri 09:00-17:00
is due Monday 12:00), :func:`working_minutes_between` measures the other way, and
:func:`is_working` says whether a moment falls within the hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadflow.errors import InvalidInput

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FORMAT = "'ZONE DAYS HH:MM-HH:MM[; DAYS HH:MM-HH:MM ...]', e.g. 'Europe/Berlin Mon-Fri 09:00-17:00'"
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Block:
    days: tuple[int, ...]  # 0 is Monday, as datetime.weekday()
    start: int  # minutes after midnight
    end: int  # minutes after midnight, after start; 1440 is midnight at the day's end

    def __str__(self) -> str:
        return f"{_days_text(self.days)} {_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True)
class WorkingHours:
    timezone: str
    blocks: tuple[Block, ...]

    def __str__(self) -> str:
        return f"{self.timezone} " + "; ".join(str(block) for block in self.blocks)


def parse_hours(text: str, where: str = "working_hours") -> WorkingHours:
    """The working hours ``text`` describes; InvalidInput (at ``where``) says what is wrong."""
    zone, _, rest = text.strip().partition(" ")
    if not zone or not rest.strip():
        raise InvalidInput(f"'{text}' is not working hours; write {FORMAT}", where)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"'{zone}' is not a time zone; use an IANA name like 'Europe/Berlin'", where
        ) from None
    blocks = tuple(_block(part.strip(), where) for part in rest.split(";"))
    _no_overlap(blocks, text, where)
    return WorkingHours(zone, blocks)


def _no_overlap(blocks: tuple[Block, ...], text: str, where: str) -> None:
    """Two spans of one day must not overlap: the time between would count twice."""
    for day in range(7):
        spans = sorted((b.start, b.end) for b in blocks if day in b.days)
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise InvalidInput(
                    f"'{text}': two spans of {DAYS[day]} overlap ({_clock(start)} is before "
                    f"{_clock(end)}); write each hour once",
                    where,
                )


def is_working(hours: WorkingHours, at: datetime) -> bool:
    """Whether ``at`` (aware) falls within the working hours."""
    local = at.astimezone(ZoneInfo(hours.timezone))
    minute = local.hour * 60 + local.minute + local.second / 60
    return any(local.weekday() in b.days and b.start <= minute < b.end for b in hours.blocks)


def _spans(hours: WorkingHours, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The working spans from ``start`` on, in time order, as aware UTC moments; the
    first may begin at ``start`` itself. Ends after ten years (hours always have a day)."""
    zone = ZoneInfo(hours.timezone)
    day = start.astimezone(zone).date()
    for offset in range(3700):
        today = day + timedelta(days=offset)
        midnight = datetime(today.year, today.month, today.day, tzinfo=zone)
        blocks = sorted((b for b in hours.blocks if today.weekday() in b.days), key=_start)
        for block in blocks:
            begin = _local(midnight, block.start, zone)
            end = _local(midnight, block.end, zone)
            if end <= start:
                continue
            yield max(begin, start), end


def _start(block: Block) -> int:
    return block.start


def _local(midnight: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after local midnight on the wall clock, as a UTC moment."""
    wall = midnight.replace(tzinfo=None) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def add_working_time(hours: WorkingHours, start: datetime, minutes: float) -> datetime:
    """The moment ``minutes`` of working time after ``start``; with 0, the first working
    moment at or after ``start``."""
    left = timedelta(minutes=minutes)
    for begin, end in _spans(hours, start.astimezone(UTC)):
        if end - begin >= left and (left > timedelta(0) or end > begin):
            return begin + left
        left -= end - begin
    raise ValueError(f"no working time within ten years in '{hours}'")  # pragma: no cover


def working_minutes_between(hours: WorkingHours, start: datetime, end: datetime) -> float:
    """How many working minutes lie between ``start`` and ``end`` (0 when end is first)."""
    total = timedelta(0)
    stop = end.astimezone(UTC)
    for begin, finish in _spans(hours, start.astimezone(UTC)):
        if begin >= stop:
            break
        total += min(finish, stop) - begin
    return total / timedelta(minutes=1)


def _block(text: str, where: str) -> Block:
    days, _, span = text.rpartition(" ")
    if not days.strip():
        raise InvalidInput(f"'{text}': write days and hours, e.g. 'Mon-Fri 09:00-17:00'", where)
    start, end = _span(span, where)
    return Block(_days(days.replace(" ", ""), where), start, end)


def _days(text: str, where: str) -> tuple[int, ...]:
    found: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        a = _day(first, where)
        b = _day(last, where) if dash else a
        if b < a:
            raise InvalidInput(f"'{part}': a range of days runs from Monday to Sunday", where)
        found.extend(day for day in range(a, b + 1) if day not in found)
    return tuple(sorted(found))


def _day(text: str, where: str) -> int:
    name = text.capitalize()
    if name not in DAYS:
        raise InvalidInput(f"'{text}' is not a day; use {', '.join(DAYS)}", where)
    return DAYS.index(name)


def _span(text: str, where: str) -> tuple[int, int]:
    match = _SPAN.match(text)
    if match is None:
        raise InvalidInput(f"'{text}' is not a span of hours like '09:00-17:00'", where)
    h1, m1, h2, m2 = (int(n) for n in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise InvalidInput(f"'{text}' has a time that is not on the clock", where)
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise InvalidInput(f"'{text}': the end must be after the start, on the same day", where)
    return start, end


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _days_text(days: tuple[int, ...]) -> str:
    """``Mon-Fri`` for a run of three or more days, ``Mon,Tue`` otherwise."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(
        f"{DAYS[run[0]]}-{DAYS[run[-1]]}" if len(run) > 2 else ",".join(DAYS[d] for d in run)
        for run in runs
    )
