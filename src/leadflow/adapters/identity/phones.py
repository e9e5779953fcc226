"""Phone numbers: phonenumbers decides, fast paths may only agree.

:func:`normalise_phone` is phonenumbers: ``parse`` in the default region,
accepted when the number is *possible* for its country (its length fits)
and complete, formatted as E.164. A local number without its area code
("555-0100") is refused: phonenumbers calls it possible, but every area has
its own 555-0100. Extensions are accepted and dropped, as E.164 has no
place for them. A number the region cannot read that starts with "00" is
read again as international ("0044 20 ..." is "+44 20 ..."): 00 is the
international prefix in most of the world, written also where the region
dials another (011 in the US). Which numbers are *valid* (assigned ranges) is not checked:
that needs the full range tables and changes every month. A placeholder is refused: a
national number of one digit repeated ("000-000-0000", "5555555555") or of consecutive
digits ("123-456-7890"), which people type into a form that insists on a phone; taken as
a number, it would join everyone who typed it into one person. A number of country code
1 must have the North American plan's shape, its area code and exchange each starting
with 2-9: "030 1234567", a Berlin number written in a US deployment, has ten digits but is
nobody's number in North America.

The library costs about 20-50 microseconds a number, too much for a million
rows, so :func:`phone_fast` computes its answer with Polars for the shapes
below, read from phonenumbers' source (``phonenumberutil.parse``) and
tables from its metadata; everything else goes to the library. Only digits
and the separators space . - ( ) may appear (at most 64 characters), so
no extension, letter, second number or RFC 3966 syntax can be involved.

- International: "+", a country code (the first 1-3 digits that are one;
  codes are prefix-free), then the national number N.
- National, in the default region R: digits N, when R is its code's main
  region, N does not start with R's international prefix (no IDD) nor with
  the country code itself (phonenumbers would consider taking it as one).
- US also: "1" and 10 digits starting 2-9 (NANP).

For N, phonenumbers strips the national prefix when the country's prefix
pattern matches at the start and the rest matches the country's general
number pattern; then checks the length. So the fast path takes N as it is
when the prefix pattern does not match, N minus the matched prefix when it
matches (non-empty) and the rest fully matches the general pattern, and
nothing otherwise; then accepts when the country lists the length as
possible and not only local. The answer is "+", the code and that number.
Countries whose prefix rule rewrites digits (a transform rule) or whose
patterns use syntax outside a small subset that Python and Rust read alike
are left to the library. Property tests in
``tests/unit/test_normalise_fast.py`` compare both on generated numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult

from leadflow.domain.values import clean, shown

if TYPE_CHECKING:
    import polars as pl

PHONE_SHAPE = r"[0-9 ().+\-]{1,64}"
"""Characters (and length) a phone may have to be considered by a fast path."""
PHONE_SEPARATORS = r"[ ().\-]"
INTERNATIONAL_PATTERN = r"\+[1-9][0-9]{3,19}"
NATIONAL_PATTERN = r"[0-9]{4,24}"
NANP_PATTERN = r"1[2-9][0-9]{9}"
"""For region US: "1", then a 10-digit number (after removing separators)."""

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "no known country code",
    NumberParseException.NOT_A_NUMBER: "no phone number in it",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_LENGTH_REASONS = {
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
    ValidationResult.INVALID_COUNTRY_CODE: "no known country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
}

# Regex syntax Python's re and Rust's regex read alike on ASCII digits:
# digits, groups, alternation, classes, repetition, "$", and "\d" outside
# classes (rewritten to [0-9], which the inputs are made of anyway).
_PORTABLE = re.compile(r"(?:[0-9()?:|{},$\-]|\\d|\[[0-9\-]+\])*")


def _placeholders() -> frozenset[str]:
    """National numbers nobody has: one digit repeated, or a run of consecutive digits
    up or down (wrapping from 9 to 0), of every length a national number may have."""
    found: set[str] = set()
    up, down = "0123456789" * 3, "9876543210" * 3
    for length in range(2, 18):
        found.update(digit * length for digit in "0123456789")
        if length >= 6:  # shorter runs are parts of real numbers
            for start in range(10):
                found.update((up[start : start + length], down[start : start + length]))
    return frozenset(found)


NANP_NUMBER = r"[2-9][0-9]{2}[2-9][0-9]{6}"
"""A complete national number of country code 1: area code and exchange start with 2-9."""

PLACEHOLDERS = _placeholders()
"""National numbers refused as placeholders (see the module's text)."""


def _national(e164: str, code: int | None) -> str:
    """The national number of an E.164 number of country code ``code``."""
    return e164[1 + len(str(code)) :]


def phone_issue(text: str, reason: str) -> str:
    return f"phone: '{shown(text)}' is not a phone number ({reason})"


def check_region(region: str) -> str:
    """The region in upper case; a region phonenumbers does not know is a settings error."""
    upper = region.upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r} (expected e.g. 'US', 'GB', 'DE')")
    return upper


def normalise_phone(raw: object, region: str = "US") -> tuple[str | None, str | None]:
    """The number in E.164 ("+14155550100"), or ``None`` and the issue.

    A number without a "+" is read as dialled in ``region``; a whole number sent as a JSON
    number (``4155550100.0``) is read as its digits.
    """
    region = check_region(region)
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = clean(raw)
    if text is None:
        return None, None
    found, issue = _parse(text, text, region)
    if found is None and text.startswith("00"):
        # "00" is the international prefix in most of the world, and people write it
        # where their region dials another (011 in the US): read it as "+" then.
        again, _ = _parse("+" + text[2:], text, region)
        if again is not None:
            return again, None
    return found, issue


def _parse(text: str, shown: str, region: str) -> tuple[str | None, str | None]:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        return None, phone_issue(shown, _PARSE_REASONS.get(error.error_type, "unreadable"))
    verdict = phonenumbers.is_possible_number_with_reason(number)
    if verdict != ValidationResult.IS_POSSIBLE:
        return None, phone_issue(shown, _LENGTH_REASONS.get(verdict, "not possible"))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = _national(e164, number.country_code)
    if national in PLACEHOLDERS:
        return None, phone_issue(shown, "a placeholder, not anyone's number")
    if number.country_code == 1 and not re.fullmatch(NANP_NUMBER, national):
        reason = "not a North American number: its area code and exchange start with 2-9"
        return None, phone_issue(shown, reason)
    return e164, None


# ---------------------------------------------------------------- tables


def portable(pattern: str | None) -> str | None:
    """``pattern`` for Polars (``\\d`` as ``[0-9]``), or ``None`` when not provably alike."""
    if pattern is None or not _PORTABLE.fullmatch(pattern):
        return None
    return pattern.replace("\\d", "[0-9]")


@dataclass(frozen=True, slots=True)
class PhoneTables:
    """What the fast paths need from phonenumbers' metadata, per country code.

    ``codes``: every country calling code, as text. ``complete``:
    "code:length" for each national-number length possible, not only local,
    in a country the fast paths may handle. ``prefix``: one pattern over
    "code|N" matching "code|" and the national prefix at the start of N.
    ``general``: one pattern over "code|rest" that fully matches when the
    rest is a number of the country's general pattern.
    """

    codes: frozenset[str]
    complete: frozenset[str]
    prefix: str | None
    general: str


@cache
def phone_tables() -> PhoneTables:
    """Built on first use (it loads every country's metadata), then kept."""
    codes: set[str] = set()
    complete: set[str] = set()
    prefixes: list[str] = []
    generals: list[str] = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        codes.add(str(code))
        meta = _main_metadata(code)
        if meta is None or meta.national_prefix_transform_rule:
            continue
        prefix = meta.national_prefix_for_parsing or None
        desc = meta.general_desc
        general = None if desc is None else portable(desc.national_number_pattern)
        if general is None or (prefix is not None and portable(prefix) is None):
            continue
        if prefix is not None:
            prefixes.append(rf"{code}\|(?:{portable(prefix)})")
        generals.append(rf"{code}\|(?:{general})")
        for length in range(2, 18):  # parse refuses shorter or longer national numbers
            # Only the length matters for a possible-number check of unknown type.
            probe = PhoneNumber(country_code=code, national_number=int("5" * length))
            if phonenumbers.is_possible_number_with_reason(probe) == ValidationResult.IS_POSSIBLE:
                complete.add(f"{code}:{length}")
    return PhoneTables(
        codes=frozenset(codes),
        complete=frozenset(complete),
        prefix="^(?:" + "|".join(prefixes) + ")" if prefixes else None,
        general="^(?:" + "|".join(generals) + ")$",
    )


def _main_metadata(code: int) -> PhoneMetadata | None:
    region = phonenumbers.region_code_for_country_code(code)
    return PhoneMetadata.metadata_for_region_or_calling_code(code, region)


@dataclass(frozen=True, slots=True)
class NationalTables:
    """A region whose national format the fast path reads: its code and international prefix."""

    code: str
    idd: str | None


@cache
def national_tables(region: str) -> NationalTables | None:
    """``None`` when the region's national format is left to the library."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None or meta.country_code is None:
        return None
    if phonenumbers.region_code_for_country_code(meta.country_code) != region:
        return None  # parse would read it with this region's tables, is_possible with another's
    idd = meta.international_prefix
    if idd is not None and portable(idd) is None:
        return None
    code = str(meta.country_code)
    if not any(key.startswith(code + ":") for key in phone_tables().complete):
        return None
    return NationalTables(code=code, idd=portable(idd))


# ---------------------------------------------------------------- fast path


def phone_fast(frame: pl.DataFrame, column: str, region: str) -> pl.Series:
    """Per row of ``frame``, the E.164 number where phonenumbers provably agrees, else null.

    ``column`` holds trimmed text. Computed in stages, each intermediate
    column once, rather than as one expression that would repeat them.
    """
    import polars as pl  # on first use: a command that never needs it starts 0.18 s sooner

    tables = phone_tables()
    home = national_tables(region)
    text = pl.col(column)
    stage = frame.select(
        shape=text.str.contains(f"^(?:{PHONE_SHAPE})$").fill_null(False),
        bare=text.str.replace_all(PHONE_SEPARATORS, ""),
    )
    bare = pl.col("bare")
    international = pl.col("shape") & bare.str.contains(f"^(?:{INTERNATIONAL_PATTERN})$")
    national = pl.lit(False)
    if home is not None:
        national = pl.col("shape") & bare.str.contains(f"^(?:{NATIONAL_PATTERN})$")
        national = national & ~bare.str.starts_with(home.code)
        if home.idd is not None:
            national = national & ~bare.str.contains(f"^(?:{home.idd})")
    stage = stage.with_columns(
        international=international.fill_null(False), national=national.fill_null(False)
    )
    codes = sorted(tables.codes)
    heads = [bare.str.slice(1, n) for n in (1, 2, 3)]
    code = pl.when(heads[0].is_in(codes)).then(heads[0])
    for head in heads[1:]:
        code = code.when(head.is_in(codes)).then(head)
    home_code = pl.lit(home.code if home is not None else None, pl.String)
    stage = stage.with_columns(
        code=pl.when("international").then(code).when("national").then(home_code)
    )
    stage = stage.with_columns(
        number=pl.when("international")
        .then(bare.str.slice(pl.col("code").str.len_bytes() + 1))
        .when("national")
        .then(bare)
    )
    return _finish(stage, tables, region)


def _finish(stage: pl.DataFrame, tables: PhoneTables, region: str) -> pl.Series:
    """Strip the national prefix as phonenumbers would, check the length, format."""
    import polars as pl  # on first use: a command that never needs it starts 0.18 s sooner

    code, number = pl.col("code"), pl.col("number")
    matched = pl.lit(None, pl.String)
    if tables.prefix is not None:
        keyed = pl.concat_str([code, pl.lit("|"), number])
        matched = keyed.str.extract(f"({tables.prefix})", 1)
    stage = stage.with_columns(matched=matched)
    cut = pl.col("matched").str.len_bytes().cast(pl.Int64) - code.str.len_bytes() - 1
    rest = number.str.slice(cut)
    stripped = (cut > 0) & pl.concat_str([code, pl.lit("|"), rest]).str.contains(tables.general)
    stage = stage.with_columns(
        national_number=pl.when(pl.col("matched").is_null())
        .then(number)
        .when(stripped.fill_null(False))
        .then(rest)
    )
    nsn = pl.col("national_number")
    length = pl.concat_str([code, pl.lit(":"), nsn.str.len_bytes().cast(pl.String)])
    placeholder = nsn.is_in(sorted(PLACEHOLDERS)).fill_null(False)
    possible = length.is_in(sorted(tables.complete)).fill_null(False)
    nanp_shape = (code != "1") | nsn.str.contains(f"^(?:{NANP_NUMBER})$")
    accepted = possible & ~placeholder & nanp_shape.fill_null(False)
    result = pl.when(accepted).then(pl.concat_str([pl.lit("+"), code, nsn]))
    if region == "US":
        nanp = pl.col("shape") & pl.col("bare").str.contains(f"^(?:{NANP_PATTERN})$")
        nanp = nanp & pl.col("bare").str.slice(1).str.contains(f"^(?:{NANP_NUMBER})$")
        nanp = nanp & ~pl.col("bare").str.slice(1).is_in(sorted(PLACEHOLDERS))
        result = result.when(nanp.fill_null(False)).then(pl.lit("+") + pl.col("bare"))
    return stage.select(result.alias("phone")).to_series()


def phone_block(phone: str) -> str:
    """The block of a number's people other than the one its key belongs to: a
    switchboard's or a family's line is several people's, each findable by it."""
    return f"phone:{phone}"
