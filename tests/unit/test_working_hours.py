"""Working hours: the written format, its normal form, and an error for each mistake."""

from __future__ import annotations

import pytest

from leadflow.domain.working_hours import Block, parse_hours
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
