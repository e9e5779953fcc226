"""Working hours: the written format, its normal form, an error for each mistake, and
working time (SLA deadlines) across weekends, breaks and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.domain.working_hours import (
    Block,
    WorkingHours,
    add_working_time,
    is_working,
    parse_hours,
    working_minutes_between,
)
from leadflow.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Europe/Berlin Mon-Fri 09:00-17:00", "Europe/Berlin Mon-Fri 09:00-17:00"),
        ("  UTC  mon-FRI 09:00-17:00 ", "UTC Mon-Fri 09:00-17:00"),
        (
            "America/New_York Mon-Thu 08:00-16:30;Fri 08:00-12:00",
            "America/New_York Mon-Thu 08:00-16:30; Fri 08:00-12:00",
        ),
        ("Asia/Tokyo Fri,Mon,Wed,Mon 10:00-18:00", "Asia/Tokyo Mon,Wed,Fri 10:00-18:00"),
        ("UTC Mon,Tue,Wed,Sat,Sun 00:00-24:00", "UTC Mon-Wed,Sat,Sun 00:00-24:00"),
    ],
)
def test_hours_are_read_and_written_in_a_normal_form(text: str, normal: str) -> None:
    hours = parse_hours(text)
    assert str(hours) == normal
    assert parse_hours(normal) == hours


def test_the_blocks_hold_days_and_minutes() -> None:
    hours = parse_hours("Europe/Berlin Mon-Fri 09:00-12:30; Sat 10:00-24:00")
    assert hours.timezone == "Europe/Berlin"
    assert hours.blocks == (Block((0, 1, 2, 3, 4), 540, 750), Block((5,), 600, 1440))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Europe/Berlin", "is not working hours"),
        ("", "is not working hours"),
        ("Mars/Olympus Mon 09:00-17:00", "not a time zone"),
        ("../../etc/passwd Mon 09:00-17:00", "not a time zone"),
        ("UTC 09:00-17:00", "write days and hours"),
        ("UTC Mo 09:00-17:00", "'Mo' is not a day"),
        ("UTC Fri-Mon 09:00-17:00", "from Monday to Sunday"),
        ("UTC Mon 9-5", "not a span of hours"),
        ("UTC Mon 09:00-25:00", "not on the clock"),
        ("UTC Mon 09:60-10:00", "not on the clock"),
        ("UTC Mon 17:00-09:00", "end must be after the start"),
        ("UTC Mon 09:00-09:00", "end must be after the start"),
        ("UTC Mon 09:00-12:00; ", "write days and hours"),
    ],
)
def test_each_mistake_is_named(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        parse_hours(text, where="--hours")
    assert caught.value.where == "--hours"


# ---------------------------------------------------------------- working time

UTC_OFFICE = parse_hours("UTC Mon-Fri 09:00-17:00")
BERLIN_OFFICE = parse_hours("Europe/Berlin Mon-Fri 09:00-17:00")
BERLIN_ALWAYS = parse_hours("Europe/Berlin Mon-Sun 00:00-24:00")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (utc(2026, 11, 23, 9, 0), True),  # Monday, the first minute
        (utc(2026, 11, 23, 8, 59, 59), False),
        (utc(2026, 11, 27, 16, 59, 59), True),  # Friday, the last second
        (utc(2026, 11, 27, 17, 0), False),  # the end is not within
        (utc(2026, 11, 28, 12, 0), False),  # Saturday
    ],
)
def test_is_working_includes_the_start_and_not_the_end(at: datetime, working: bool) -> None:
    assert is_working(UTC_OFFICE, at) is working


def test_is_working_reads_the_clock_of_the_hours_zone() -> None:
    # 08:30 UTC is 09:30 in Berlin in winter, 10:30 in summer; 16:30 UTC is after 17:00 there.
    assert is_working(BERLIN_OFFICE, utc(2026, 11, 23, 8, 30))
    assert not is_working(BERLIN_OFFICE, utc(2026, 11, 23, 16, 30))
    assert not is_working(BERLIN_OFFICE, utc(2026, 7, 6, 15, 30))
    # Sunday 23:30 UTC is Monday 00:30 in Tokyo
    tokyo_night = parse_hours("Asia/Tokyo Mon 00:00-01:00")
    assert is_working(tokyo_night, utc(2026, 11, 22, 15, 30))
    assert is_working(parse_hours("UTC Sun 23:00-24:00"), utc(2026, 11, 22, 23, 59, 59))


def test_working_time_skips_the_weekend() -> None:
    # The module's example: 4h from Friday 16:00 on Mon-Fri 09:00-17:00 is Monday 12:00.
    assert add_working_time(UTC_OFFICE, utc(2026, 11, 27, 16, 0), 240) == utc(2026, 11, 30, 12, 0)
    assert working_minutes_between(UTC_OFFICE, utc(2026, 11, 27, 16), utc(2026, 11, 30, 12)) == 240
    # Friday evening to Monday 09:00 holds no working time at all.
    assert working_minutes_between(UTC_OFFICE, utc(2026, 11, 27, 17), utc(2026, 11, 30, 9)) == 0


def test_working_time_ends_exactly_at_the_end_of_the_day_when_it_fits() -> None:
    assert add_working_time(UTC_OFFICE, utc(2026, 11, 27, 16, 0), 60) == utc(2026, 11, 27, 17, 0)
    assert add_working_time(UTC_OFFICE, utc(2026, 11, 27, 16, 0), 61) == utc(2026, 11, 30, 9, 1)


def test_working_time_follows_split_days_and_breaks() -> None:
    lunch = parse_hours("UTC Mon-Fri 09:00-12:00; Mon-Fri 13:00-17:00")
    assert add_working_time(lunch, utc(2026, 11, 23, 11, 30), 60) == utc(2026, 11, 23, 13, 30)
    assert working_minutes_between(lunch, utc(2026, 11, 23, 9), utc(2026, 11, 23, 17)) == 420
    short_friday = parse_hours("America/New_York Mon-Thu 08:00-16:30; Fri 08:00-12:00")
    new_york = ZoneInfo("America/New_York")
    friday_11 = datetime(2026, 11, 27, 11, 0, tzinfo=new_york)
    assert add_working_time(short_friday, friday_11, 120) == datetime(
        2026, 11, 30, 9, 0, tzinfo=new_york
    )


@pytest.mark.parametrize(
    ("start", "first"),
    [
        (utc(2026, 11, 28, 10, 0), utc(2026, 11, 30, 9, 0)),  # Saturday: Monday morning
        (utc(2026, 11, 27, 17, 0), utc(2026, 11, 30, 9, 0)),  # Friday at closing time
        (utc(2026, 11, 23, 8, 59), utc(2026, 11, 23, 9, 0)),  # just before opening
        (utc(2026, 11, 24, 10, 15), utc(2026, 11, 24, 10, 15)),  # at work: itself
    ],
)
def test_zero_minutes_is_the_first_working_moment(start: datetime, first: datetime) -> None:
    assert add_working_time(UTC_OFFICE, start, 0) == first


def test_working_time_crosses_the_spring_change_in_berlin() -> None:
    # Clocks go forward on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2.
    friday = berlin(2026, 3, 27, 16, 0)
    due = add_working_time(BERLIN_OFFICE, friday, 120)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due == utc(2026, 3, 30, 8, 0)
    assert working_minutes_between(BERLIN_OFFICE, friday, due) == 120


def test_working_time_crosses_the_autumn_change_in_berlin() -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is UTC+2, Monday UTC+1.
    friday = berlin(2026, 10, 23, 16, 30)
    due = add_working_time(BERLIN_OFFICE, friday, 60)
    assert due == berlin(2026, 10, 26, 9, 30)
    assert due == utc(2026, 10, 26, 8, 30)


def test_a_day_of_a_clock_change_has_the_hours_that_really_pass() -> None:
    # Round the clock, working time is elapsed time: 23 hours on 29 March, 25 on 25 October.
    spring = (berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0))
    autumn = (berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0))
    assert working_minutes_between(BERLIN_ALWAYS, *spring) == 23 * 60
    assert working_minutes_between(BERLIN_ALWAYS, *autumn) == 25 * 60
    saturday_noon = berlin(2026, 3, 28, 12, 0)
    assert add_working_time(BERLIN_ALWAYS, saturday_noon, 24 * 60) == berlin(2026, 3, 29, 13, 0)


def test_nothing_lies_between_an_end_and_an_earlier_start() -> None:
    start = utc(2026, 11, 24, 12, 0)
    assert working_minutes_between(UTC_OFFICE, start, start) == 0
    assert working_minutes_between(UTC_OFFICE, start, utc(2026, 11, 23, 12, 0)) == 0


HOURS = [
    UTC_OFFICE,
    BERLIN_OFFICE,
    BERLIN_ALWAYS,
    parse_hours("America/New_York Mon-Thu 08:00-16:30; Fri 08:00-12:00"),
    parse_hours("Asia/Kolkata Mon,Wed,Fri 10:00-18:00; Sat 09:30-10:00"),
    parse_hours("Australia/Lord_Howe Mon-Fri 01:00-03:00; Sun 00:00-24:00"),
    parse_hours("Europe/Berlin Sun 01:30-03:30; Mon-Sat 09:00-17:00"),
]
MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(hours=st.sampled_from(HOURS), start=MOMENTS, minutes=st.integers(0, 20_000))
def test_working_minutes_between_undoes_add_working_time(
    hours: WorkingHours, start: datetime, minutes: int
) -> None:
    due = add_working_time(hours, start, minutes)
    assert due >= start
    assert working_minutes_between(hours, start, due) == minutes


@given(
    hours=st.sampled_from(HOURS),
    start=MOMENTS,
    minutes=st.integers(0, 5_000),
    more=st.integers(1, 5_000),
)
def test_more_working_time_is_later_and_adds_up(
    hours: WorkingHours, start: datetime, minutes: int, more: int
) -> None:
    first = add_working_time(hours, start, minutes)
    later = add_working_time(hours, start, minutes + more)
    assert later > first
    assert add_working_time(hours, first, more) == later


@given(hours=st.sampled_from(HOURS), start=MOMENTS, minutes=st.integers(1, 5_000))
def test_a_deadline_falls_within_working_hours_or_at_the_end_of_them(
    hours: WorkingHours, start: datetime, minutes: int
) -> None:
    due = add_working_time(hours, start, minutes)
    just_before = due - timedelta(seconds=1)
    assert is_working(hours, just_before)


def test_overlapping_spans_of_one_day_are_refused() -> None:
    with pytest.raises(InvalidInput, match="two spans of Mon overlap"):
        parse_hours("UTC Mon 09:00-12:00; Mon 11:00-13:00")
    with pytest.raises(InvalidInput, match="two spans of Wed overlap"):
        parse_hours("UTC Mon-Fri 09:00-12:00; Wed 08:00-10:00")
    assert len(parse_hours("UTC Mon 09:00-12:00; Mon 12:00-13:00").blocks) == 2  # touching
