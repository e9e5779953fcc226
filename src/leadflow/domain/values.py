"""How messy input becomes a typed fact.

One grammar, written once: the single-lead path (:func:`normalise`) and the
vectorised path (``leadflow.analytics.batch``) both use the patterns and the
word lists below, so a value means the same thing wherever it is rated.

A value that cannot be parsed is *unknown* and comes back with an issue that
says what was wrong; nothing here raises on bad input.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

FieldType = Literal["text", "number", "integer", "boolean", "date", "choice"]

# Characters trimmed from both ends of every value. Spelled out (rather than
# "whitespace") so Python and Polars agree on exactly the same set.
STRIP_CHARS = (
    " \t\n\r\x0b\x0c\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
)

# Runs of these become one underscore in a choice: "Decision - Maker" -> "decision_maker".
CHOICE_SEPARATORS = r"[\x20\x09\x0a\x0d\x0b\x0c\xa0_-]+"

NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
THOUSANDS_PATTERN = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

# The largest magnitude a number may have; beyond it a value is reported as out of range.
NUMBER_LIMIT = 1e15

TRUE_WORDS = ("yes", "y", "true", "t", "1", "on")
FALSE_WORDS = ("no", "n", "false", "f", "0", "off")

_NUMBER = re.compile(NUMBER_PATTERN)
_THOUSANDS = re.compile(THOUSANDS_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_SEPARATORS = re.compile(CHOICE_SEPARATORS)

Value = str | float | int | bool | date


@dataclass(frozen=True, slots=True)
class Parsed:
    """A normalised value, or ``None`` for unknown, with the issue when it was unparsable."""

    value: Value | None
    issue: str | None = None


MISSING = Parsed(None)


def clean(raw: object) -> str | None:
    """The raw value as trimmed text, or ``None`` when it is blank."""
    if raw is None:
        return None
    if isinstance(raw, float) and math.isnan(raw):
        return None
    text = raw if isinstance(raw, str) else str(raw)
    text = text.strip(STRIP_CHARS)
    return text or None


def choice_key(text: str) -> str:
    """The comparable form of a choice: lower case, separators folded to one underscore.

    Leading and trailing separators are kept (as one underscore), so "-1" stays
    distinct from "1"; surrounding spaces are trimmed before this is called.
    """
    return _SEPARATORS.sub("_", text.lower())


def column_key(name: str) -> str:
    """How a column or payload key is matched to a field: "Decision Role " is decision_role."""
    return choice_key(name.strip(STRIP_CHARS)).strip("_")


def parse_number(text: str) -> float | None:
    """The number written, or ``None`` when it is not a number.

    May be infinite for a huge exponent; callers bound it with :data:`NUMBER_LIMIT`.
    """
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    elif not _NUMBER.fullmatch(text):
        return None
    return float(text)


def parse_date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None


SHOWN_CHARS = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(text: str) -> str:
    """A value as a message quotes it: control characters (a NUL, a line break) written
    as escapes, and one longer than :data:`SHOWN_CHARS` cut, saying how long it was."""
    visible = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text[: SHOWN_CHARS + 1])
    if len(text) <= SHOWN_CHARS:
        return visible
    return f"{visible[:SHOWN_CHARS]}... ({len(text):,} characters)"


def unparsable(name: str, text: str, expected: str) -> str:
    """The one wording of an unparsable value, shared by both rating paths."""
    return f"{name}: '{text}' is not {expected}"


def bounds(low: float | None, high: float | None) -> tuple[float, float]:
    """A field's range, within the magnitude any number may have."""
    return (
        max(low, -NUMBER_LIMIT) if low is not None else -NUMBER_LIMIT,
        min(high, NUMBER_LIMIT) if high is not None else NUMBER_LIMIT,
    )


def out_of_range(name: str, text: str, low: float | None, high: float | None) -> str:
    return f"{name}: '{text}' is out of range ({range_words(low, high)})"


def range_words(low: float | None, high: float | None) -> str:
    """The declared range in words; any number is within ±:data:`NUMBER_LIMIT`."""

    def show(x: float) -> str:
        return f"{int(x):,}" if float(x).is_integer() else str(x)

    if low is not None and high is not None:
        return f"{show(low)} to {show(high)}"
    if low is not None:
        return f"{show(low)} or more"
    if high is not None:
        return f"{show(high)} or less"
    return f"within ±{show(NUMBER_LIMIT)}"
