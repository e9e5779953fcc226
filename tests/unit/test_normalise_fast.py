"""The fast paths only ever give the libraries' own answers.

For every email the Polars fast path accepts, email-validator must accept
it too, with the same normal form; for every phone the fast paths accept,
phonenumbers must parse it, call it possible and format the same E.164.
Hypothesis builds the inputs near the edges of the fast shapes: odd case,
every atext character, label and length limits, special-use and Punycode
domains; real example numbers of every region in every format, with digits
changed, national prefixes added, separators moved.
"""

from __future__ import annotations

import string

import email_validator
import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.adapters.identity.emails import _is_fast, email_fast, normalise_email
from leadflow.adapters.identity.phones import national_tables, normalise_phone, phone_fast

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
LDH = string.ascii_letters + string.digits + "-"
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
COMMON_REGIONS = ["US", "GB", "DE", "FR", "IN", "AU", "CA", "NL", "ES", "IT", "JP", "BR", "CN"]


# ---------------------------------------------------------------- emails


def _label() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(LDH, min_size=1, max_size=12),
        st.sampled_from(
            ["a" * 63, "b" * 64, "xn--bcher-kva", "ab--cd", "a--b", "-a", "a-", "例え"]
        ),
    )


def _tld() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["com", "COM", "co.uk", "io", "museum", "c", "x" * 63, "y" * 64]),
        st.sampled_from(["test", "localhost", "local", "onion", "arpa", "invalid", "TEST"]),
        st.sampled_from(["1com", "com1", "xn--p1ai", "c-m", "Com"]),
    )


def email_texts() -> st.SearchStrategy[str]:
    atom = st.text(ATEXT, min_size=1, max_size=10)
    local = st.one_of(
        st.lists(atom, min_size=1, max_size=4).map(".".join),
        st.sampled_from(["a" * 64, "b" * 65, ".a", "a.", "a..b", '"a b"', "ü", "a b"]),
    )
    domain = st.tuples(st.lists(_label(), min_size=0, max_size=4), _tld()).map(
        lambda parts: ".".join([*parts[0], parts[1]])
    )
    plain = st.tuples(local, domain).map(lambda p: f"{p[0]}@{p[1]}")
    long = st.integers(230, 260).map(lambda n: "a@" + "b." * ((n - 6) // 2) + "com")
    return st.one_of(plain, plain, long, st.text(ATEXT + "@.", max_size=20))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(email_texts(), min_size=1, max_size=30))
def test_email_fast_path_agrees_with_email_validator(texts: list[str]) -> None:
    fast = pl.DataFrame({"t": texts}).select(email_fast(pl.col("t")))["t"].to_list()
    for text, mine in zip(texts, fast, strict=True):
        if mine is None:
            continue
        valid = email_validator.validate_email(text, check_deliverability=False)
        assert valid.normalized.lower() == mine, text


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(email_texts(), min_size=1, max_size=30))
def test_one_address_agrees_with_email_validator_and_the_vectorised_path(
    texts: list[str],
) -> None:
    fast = pl.DataFrame({"t": texts}).select(email_fast(pl.col("t")))["t"].to_list()
    for text, vectorised in zip(texts, fast, strict=True):
        assert _is_fast(text) is (vectorised is not None), text
        address, issue = normalise_email(text)
        if not text.strip():
            assert (address, issue) == (None, None)  # nothing given is not an error
            continue
        try:
            valid = email_validator.validate_email(text, check_deliverability=False)
        except email_validator.EmailNotValidError:
            assert address is None and issue is not None, text
        else:
            assert (address, issue) == (valid.normalized.lower(), None), text


def test_email_fast_path_takes_the_common_shapes() -> None:
    texts = ["bob@example.com", "Bob.Smith+news@Acme.CO.UK", "o'neil@x-y.io", "a_b@c.museum"]
    fast = pl.DataFrame({"t": texts}).select(email_fast(pl.col("t")))["t"].to_list()
    assert fast == [t.lower() for t in texts]
    assert all(_is_fast(t) for t in texts)
    assert not any(_is_fast(t) for t in ["bob@example.test", "a@b--c.com", "bob@x.com\n"])


# ---------------------------------------------------------------- phones


def _example(region: str, kind: phonenumbers.PhoneNumberType) -> phonenumbers.PhoneNumber | None:
    return phonenumbers.example_number_for_type(region, kind)


@st.composite
def phone_texts(draw: st.DrawFn, region: str) -> str:
    """A real example number of some region, reformatted and mutated."""
    where = draw(st.sampled_from([region, region, *COMMON_REGIONS, *REGIONS]))
    kind = draw(
        st.sampled_from(
            [
                phonenumbers.PhoneNumberType.FIXED_LINE,
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.TOLL_FREE,
            ]
        )
    )
    number = _example(where, kind) or _example(where, phonenumbers.PhoneNumberType.FIXED_LINE)
    if number is None:
        return draw(st.text("0123456789 +-()", max_size=16))
    style = draw(
        st.sampled_from(
            [
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.E164,
            ]
        )
    )
    text = phonenumbers.format_number(number, style)
    chars = list(text)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(chars) - 1))
        if chars[i].isdigit():
            chars[i] = draw(st.sampled_from("0123456789"))
    text = "".join(chars)
    edit = draw(st.sampled_from(["none", "none", "drop", "add", "zero", "seps", "idd"]))
    if edit == "drop":
        text = text[:-1]
    elif edit == "add":
        text += draw(st.sampled_from("0123456789"))
    elif edit == "zero" and text.startswith("+"):
        head, _, tail = text.partition(" ")
        text = f"{head} (0){tail}"
    elif edit == "seps":
        text = "".join(c + draw(st.sampled_from(["", "", " ", "-", ".", "(", ")"])) for c in text)
    elif edit == "idd":
        text = draw(st.sampled_from(["00", "011", "0011", "1"])) + text.lstrip("+")
    return text


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_phone_fast_path_agrees_with_phonenumbers(data: st.DataObject) -> None:
    region = data.draw(st.sampled_from(COMMON_REGIONS + REGIONS[:: len(REGIONS) // 20]))
    texts = data.draw(st.lists(phone_texts(region), min_size=1, max_size=30))
    fast = phone_fast(pl.DataFrame({"phone": texts}), "phone", region).to_list()
    for text, mine in zip(texts, fast, strict=True):
        if mine is None:
            continue
        number = phonenumbers.parse(text, region)
        verdict = phonenumbers.is_possible_number_with_reason(number)
        assert verdict == phonenumbers.ValidationResult.IS_POSSIBLE, (region, text)
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == mine
        assert normalise_phone(text, region) == (mine, None)


@pytest.mark.parametrize(
    ("region", "text", "expected"),
    [
        ("US", "(415) 555-0100", "+14155550100"),
        ("US", "415.555.0100", "+14155550100"),
        ("US", "1-415-555-0100", "+14155550100"),
        ("US", "+1 (415) 555-0100", "+14155550100"),
        ("US", "+44 20 7946 0958", "+442079460958"),
        ("US", "+44 (0)20 7946 0958", "+442079460958"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("DE", "030 1234567", "+49301234567"),
        ("FR", "01 42 68 53 00", "+33142685300"),
    ],
)
def test_phone_fast_path_takes_the_common_shapes(region: str, text: str, expected: str) -> None:
    fast = phone_fast(pl.DataFrame({"phone": [text]}), "phone", region).to_list()
    assert fast == [expected]
    assert normalise_phone(text, region) == (expected, None)


@pytest.mark.parametrize(
    ("region", "text"),
    [
        ("US", "000-000-0000"),
        ("US", "(555) 555-5555"),
        ("US", "+1 111 111 1111"),
        ("US", "123-456-7890"),
        ("US", "+1 987 654 3210"),
        ("GB", "07777 777777"),
        ("GB", "+44 0000 000000"),
        ("DE", "0123 456789"),
        ("FR", "01 23 45 67 89"),
        ("US", "0000000000"),
    ],
)
def test_a_placeholder_is_nobodys_number_on_either_path(region: str, text: str) -> None:
    """Typed into a form that insists on a phone, it would join all who typed it."""
    assert phone_fast(pl.DataFrame({"phone": [text]}), "phone", region).to_list() == [None]
    phone, issue = normalise_phone(text, region)
    assert phone is None
    assert issue is not None and "a placeholder" in issue


@pytest.mark.parametrize(
    ("region", "text"),
    [
        ("US", "030 1234567"),  # a Berlin number, its country code left out
        ("US", "415 155 0123"),
        ("US", "+1 041 555 0123"),
        ("US", "1 415 055 0123"),
        ("GB", "+1 123 555 0100"),
    ],
)
def test_a_number_of_code_1_has_the_north_american_shape(region: str, text: str) -> None:
    assert phone_fast(pl.DataFrame({"phone": [text]}), "phone", region).to_list() == [None]
    phone, issue = normalise_phone(text, region)
    assert phone is None
    assert issue is not None and "not a North American number" in issue


def test_nanp_assumptions_hold_in_this_phonenumbers() -> None:
    """The US-only "1" + 10 digits rule relies on these facts of the US metadata."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert meta is not None
    assert meta.country_code == 1
    assert meta.national_prefix_for_parsing == "1"
    assert meta.international_prefix == "011"
    assert tuple(meta.general_desc.possible_length) == (10,)
    assert national_tables("US") is not None
