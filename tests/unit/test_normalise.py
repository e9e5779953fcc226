"""Identity normalisation: the table path equals the single-row path, and the rules hold.

Hypothesis builds messy inquiries (odd case, padding, unicode, garbage,
IDN and Punycode domains, plus-addressing, quoted local parts, display
names, phones of many countries in many formats, extensions, letters,
URLs of every kind) and ``normalise_frame`` must give, row by row, exactly
what ``normalise`` gives. Table tests pin the rules themselves.
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from typing import Any

import phonenumbers
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.adapters.identity import domains
from leadflow.adapters.identity.names import split_full_name
from leadflow.adapters.identity.normalise import (
    FREE_MAIL_DOMAINS,
    NORMALISED_COLUMNS,
    Normalised,
    company_key,
    is_free_mail,
    name_key,
    normalise,
    normalise_email,
    normalise_frame,
    normalise_phone,
    registrable_domain,
)

FIELDS = ("email", "phone", "first_name", "last_name", "company", "website")
REGIONS = ["US", "US", "GB", "DE", "FR", "IN", "JP", "BR", "CA", "AU"]
PADS = ["", "", " ", "\t", "\xa0", "\n ", "  "]


def _padded(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(PADS), inner, st.sampled_from(PADS)).map("".join)


def _cased(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    styles = st.sampled_from([str, str.upper, str.lower, str.title, str.swapcase])
    return st.tuples(styles, inner).map(lambda p: p[0](p[1]))


def _blank_or_garbage() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(["", " ", "\t\n", "n/a", "-", "?"]), st.text())


def emails() -> st.SearchStrategy[str | None]:
    local = st.sampled_from(
        ["bob", "jane.doe", "info", "Sales", "no-reply", "o'neil", "a+b", "x_y", "jörg", "用户"]
    )
    tag = st.sampled_from(["", "", "+news", "+a.b", "+"])
    domain = st.sampled_from(
        [
            "acme.com", "ACME.co.uk", "gmail.com", "mail.acme.de", "bücher.de", "xn--bcher-kva.de",
            "yahoo.fr", "x.test", "localhost", "ab--cd.com", "acme", "acme.c", "[127.0.0.1]",
        ]
    )  # fmt: skip
    plain = st.tuples(local, tag, domain).map(lambda p: f"{p[0]}{p[1]}@{p[2]}")
    odd = st.sampled_from(
        [
            '"bob smith"@acme.com', "Bob <bob@acme.com>", "bob@@acme.com", "bob@acme.com.", "a@b",
            "bob＠acme.com", ".bob@acme.com", "bob..x@acme.com", "bob @acme.com", "@acme.com",
        ]
    )  # fmt: skip
    return st.one_of(_padded(_cased(plain)), _padded(odd), _blank_or_garbage())


@st.composite
def phones(draw: st.DrawFn) -> str | None:
    region = draw(st.sampled_from(["US", "GB", "DE", "FR", "IN", "JP", "BR", "CA", "AR", "CN"]))
    number = phonenumbers.example_number(region)
    assert number is not None
    style = draw(
        st.sampled_from(
            [
                phonenumbers.PhoneNumberFormat.NATIONAL,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.E164,
                phonenumbers.PhoneNumberFormat.RFC3966,
            ]
        )
    )
    real = phonenumbers.format_number(number, style)
    return draw(
        st.one_of(
            st.just(real),
            st.just(real + draw(st.sampled_from([" x12", " ext. 7", "#3", ";ext=9"]))),
            st.sampled_from(["(415) 555-0100", "415.555.0100", "1-415-555-0100", "555-0100"]),
            st.sampled_from(["+1 (415) 555-0100", "1-800-FLOWERS", "+44 (0)20 7946 0958"]),
            st.sampled_from(["４１５５５５０１００", "٤١٥٥٥٥٠١٠٠", "++44 20 7946 0958", "+0 123"]),
            st.text("0123456789 +-().x", max_size=18),
            _blank_or_garbage(),
        )
    )


def names() -> st.SearchStrategy[str | None]:
    typed = st.sampled_from(
        [
            "bob", "Robert", "o'neil", "anna-lisa", "van der berg", "McDonald", "Zoë", "İlker",
            "straße", "DE LA CRUZ", "liz", "Beth", "王伟", "jean  luc", "d’angelo", "mcdonald",
        ]
    )  # fmt: skip
    return st.one_of(_padded(_cased(typed)), _blank_or_garbage())


def companies() -> st.SearchStrategy[str | None]:
    base = st.sampled_from(
        ["Acme", "ACME", "The Acme Company", "Müller", "AT&T", "Procter & Gamble"]
    )
    suffix = st.sampled_from(["", ", Inc.", " Incorporated", " GmbH & Co. KG", " S.A.", " A/S"])
    return st.one_of(_padded(st.tuples(base, suffix).map("".join)), _blank_or_garbage())


def websites() -> st.SearchStrategy[str | None]:
    host = st.sampled_from(
        [
            "acme.com", "www.Acme.co.uk", "sub.acme.io", "gmail.com", "linkedin.com", "bücher.de",
            "xn--bcher-kva.de", "127.0.0.1", "localhost", "acme", "[::1]", "acme.com.", "a b.com",
        ]
    )  # fmt: skip
    prefix = st.sampled_from(["", "", "http://", "HTTPS://", "//", "ftp://user:pw@", "user@"])
    suffix = st.sampled_from(["", "/", "/about?x=1#top", ":8080/x", "?q", "#f"])
    url = st.tuples(prefix, host, suffix).map("".join)
    return st.one_of(_padded(url), _blank_or_garbage())


def _rows() -> st.SearchStrategy[list[dict[str, str | None]]]:
    row = st.fixed_dictionaries(
        {
            "email": emails(),
            "phone": phones(),
            "first_name": names(),
            "last_name": names(),
            "company": companies(),
            "website": websites(),
        }
    )
    return st.lists(row, min_size=1, max_size=15)


def _scalar(row: dict[str, Any], region: str) -> dict[str, Any]:
    return asdict(normalise(*(row[f] for f in FIELDS), region=region))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows(), region=st.sampled_from(REGIONS))
def test_frame_equals_single_row(rows: list[dict[str, str | None]], region: str) -> None:
    frame = pl.DataFrame(rows, schema={f: pl.String for f in FIELDS})
    out = normalise_frame(frame, region=region)
    assert out.columns == list(NORMALISED_COLUMNS)
    for row, got in zip(rows, out.iter_rows(named=True), strict=True):
        assert got == _scalar(row, region), row


# ---------------------------------------------------------------- the frame's contract


def test_frame_maps_columns_and_fills_absent_ones() -> None:
    frame = pl.DataFrame({"Mail": ["Bob@Acme.com", None], "Tel": [4155550100, None]})
    out = normalise_frame(frame, columns={"email": "Mail", "phone": "Tel"})
    assert out["email"].to_list() == ["bob@acme.com", None]
    assert out["phone"].to_list() == ["+14155550100", None]
    assert out["first_name"].to_list() == [None, None]
    assert out["role_address"].to_list() == [False, False]
    assert out.row(0, named=True) == _scalar(
        {"email": "Bob@Acme.com", "phone": 4155550100} | dict.fromkeys(FIELDS[2:]), "US"
    )


def test_frame_reads_other_types_as_the_single_row_path_does() -> None:
    frame = pl.DataFrame(
        {
            "phone": [math.nan, 4155550100.0, 1.5e-7, None],
            "first_name": [True, False, None, True],
            "company": [date(2024, 1, 5), None, date(2024, 1, 5), None],
            "email": pl.Series([None, "a@b.com", "a@b.com", None], dtype=pl.Categorical),
        }
    )
    out = normalise_frame(frame)
    for row, got in zip(frame.iter_rows(named=True), out.iter_rows(named=True), strict=True):
        assert got == _scalar(dict.fromkeys(FIELDS) | row, "US"), row
    assert out["phone_issue"][0] is None  # NaN is blank


def test_frame_of_nothing() -> None:
    assert normalise_frame(pl.DataFrame()).shape == (0, len(NORMALISED_COLUMNS))
    assert normalise_frame(pl.DataFrame({"email": []}, schema={"email": pl.String})).height == 0


def test_frame_refuses_unknown_columns_and_regions() -> None:
    with pytest.raises(ValueError, match="unknown identity columns"):
        normalise_frame(pl.DataFrame({"x": ["a"]}), columns={"mail": "x"})
    with pytest.raises(ValueError, match="unknown phone region"):
        normalise_frame(pl.DataFrame({"phone": ["1"]}), region="XX")


# ---------------------------------------------------------------- email and phone


def test_invalid_values_come_back_with_an_issue_not_an_exception() -> None:
    result = normalise("bob@@x", "call me", None, None, None, None)
    assert result.email is None and result.phone is None
    assert result.email_issue is not None
    assert result.email_issue.startswith("email: 'bob@@x' is not a valid address (")
    assert result.phone_issue == "phone: 'call me' is not a phone number (no phone number in it)"


@pytest.mark.parametrize("blank", [None, "", "   ", "\t\xa0\n", math.nan])
def test_blank_is_unknown_without_an_issue(blank: object) -> None:
    assert normalise_email(blank) == (None, None)
    assert normalise_phone(blank) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Bob.Smith+News@ACME.co.UK ", "bob.smith+news@acme.co.uk"),
        ("jörg@Bücher.de", "jörg@bücher.de"),
        ("jane@xn--bcher-kva.de", "jane@bücher.de"),
    ],
)
def test_email_is_validated_and_lower_cased(raw: str, expected: str) -> None:
    assert normalise_email(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "region", "expected", "issue"),
    [
        ("(415) 555-0100", "US", "+14155550100", None),
        ("+1 415 555 0100 x12", "US", "+14155550100", None),
        ("020 7946 0958", "GB", "+442079460958", None),
        ("555-0100", "US", None, "a local number without its area code"),
        ("12", "US", None, "too short"),
        # 00 is the international prefix of most of the world, written where 011 is dialled
        ("0044 20 7946 0958", "US", "+442079460958", None),
        ("00 49 30 901820", "US", "+4930901820", None),
        ("011 44 20 7946 0958", "US", "+442079460958", None),
        ("0044", "US", None, "too short"),
    ],
)
def test_phone_is_e164(raw: str, region: str, expected: str | None, issue: str | None) -> None:
    number, problem = normalise_phone(raw, region)
    assert number == expected
    assert (problem is None) == (issue is None)
    if issue is not None:
        assert problem == f"phone: '{raw}' is not a phone number ({issue})"


# ---------------------------------------------------------------- names and companies


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("o'neil", "O'Neil"),
        ("anna-lisa", "Anna-Lisa"),
        ("van der berg", "van der Berg"),
        ("VAN DER BERG", "van der Berg"),
        ("DE LA CRUZ", "de la Cruz"),
        ("mcdonald", "McDonald"),
        ("  jean   luc ", "Jean Luc"),
        ("JOHN", "John"),
        ("van", "Van"),
        ("McDonald", "McDonald"),
        ("DeVito", "DeVito"),
        ("王伟", "王伟"),
        ("  ", None),
    ],
)
def test_name_display(raw: str, shown: str | None) -> None:
    assert normalise(None, None, raw, raw, None, None).first_name == shown


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [
        ("Bob", "robert"),
        ("rob", "robert"),
        ("Robbie", "robert"),
        ("Bill", "william"),
        ("will", "william"),
        ("Liz", "elizabeth"),
        ("beth", "elizabeth"),
        ("Mike", "michael"),
        ("Kate", "katherine"),
        ("Chris", "chris"),
        ("Alex", "alex"),
    ],
)
def test_nicknames_map_to_the_formal_name(nickname: str, formal: str) -> None:
    assert name_key(nickname, "Smith") == f"{formal} smith"


def test_name_key_folds_case_accents_and_punctuation() -> None:
    assert name_key("Bob", "O'Neil") == name_key(" ROBERT ", "ONEIL") == "robert oneil"
    assert name_key("Zoë", "Ångström") == "zoe angstrom"
    assert name_key("Jean-Luc", "Straße") == "jean luc strasse"
    assert name_key(None, "Smith") == "smith"
    assert name_key("", " ") is None


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("John Smith", "John", "Smith"),
        ("Mary Ann van Berg", "Mary Ann van", "Berg"),
        ("Smith", None, "Smith"),
        ("Smith, John", "John", "Smith"),
        (" Smith ,  John ", "John", "Smith"),
        ("Smith, John A.", "John A.", "Smith"),
        ("van Berg, Mary Ann", "Mary Ann", "van Berg"),
        ("John Smith Jr.", "John", "Smith"),
        ("John Smith, Jr.", "John", "Smith"),
        ("Smith, John, Jr.", "John", "Smith"),
        ("Smith Jr., John", "John", "Smith"),
        ("Smith, John Jr", "John", "Smith"),
        ("John Smith III", "John", "Smith"),
        ("Ann Lee, Ph.D.", "Ann", "Lee"),
        ("Ann Lee MD", "Ann", "Lee"),
        ("Ann Lee, Esq., MBA", "Ann", "Lee"),
        ("Jr.", None, "Jr."),
        ("John V", "John", "V"),
        ("Henry IV", "Henry", "IV"),
        ("Smith, J.R.", "J.R.", "Smith"),
        ("J.R. Smith", "J.R.", "Smith"),
        ("Smith, John, Acme", "Smith, John,", "Acme"),
        ("Dr. Ann Lee", "Ann", "Lee"),
        ("dr ann lee", "ann", "lee"),
        ("Mrs Mary Ann van Berg", "Mary Ann van", "Berg"),
        ("Lee, Dr. Ann", "Ann", "Lee"),
        ("Prof. Dr. Ann Lee, PhD", "Ann", "Lee"),
        ("Dr. Smith", None, "Smith"),
        ("Lee, Dr.", None, "Lee"),
        ("Dr.", None, "Dr."),
        ("Drew Lee", "Drew", "Lee"),
    ],
)
def test_a_full_name_splits_into_first_and_last(full: str, first: str | None, last: str) -> None:
    """ "Last, First" with one comma; suffixes are not the last name, titles not the first."""
    assert split_full_name(full) == (first, last)


def test_a_full_name_in_either_order_gives_one_name_key() -> None:
    names = ("Smith, Bob", "Bob Smith Jr.", "Bob Smith", "Mr. Bob Smith")
    keys = {name_key(*split_full_name(n)) for n in names}
    assert keys == {"robert smith"}


@pytest.mark.parametrize(
    "raw",
    [
        "ACME, Inc.",
        "Acme Incorporated",
        "acme",
        "Acme LLC",
        "Acme L.L.C.",
        "ACME Ltd",
        "Acme Limited",
        "Acme GmbH",
        "Acme GmbH & Co. KG",
        "Acme AG",
        "Acme S.A.",
        "ACME S. A.",
        "Acme SAS",
        "Acme SARL",
        "Acme B.V.",
        "Acme N.V.",
        "Acme plc",
        "Acme Corp.",
        "Acme Corporation",
        "Acme Co.",
        "Acme & Co",
        "The Acme Company",
        "Acme Pty Ltd",
        "Acme Oy",
        "Acme AB",
        "Acme A/S",
        "Acme AS",
        "Acme S.p.A.",
        "Acme SRL",
        "Acme PLLC",
        "Acme P.C.",
        "Acme SE",
        "Acme e.K.",
        "Acme Ltée",
        "  ACME,  INC. ",
        "Âcmé",
    ],
)
def test_company_key_drops_legal_forms(raw: str) -> None:
    assert company_key(raw) == "acme"


def test_company_key_keeps_the_name() -> None:
    assert company_key("AB") == "ab"
    assert company_key("Procter & Gamble Co.") == "procter and gamble"
    assert company_key("AT&T Inc.") == "at and t"
    assert company_key(" ") is None


PLACEHOLDERS = [
    "N/A", "n/a", "NA", "n.a.", " N / A ", "None", "NULL", "nil", "-", "--", "?", "...",
    "Unknown", "not applicable", "Self-employed", "self employed", "SELF EMPLOYED",
    "Freelance", "freelancer", "Individual", "Private", "personal", "Student", "Retired",
    "Home", "test", "TBD",
]  # fmt: skip


@pytest.mark.parametrize("raw", PLACEHOLDERS)
def test_a_placeholder_company_is_no_company_on_both_paths(raw: str) -> None:
    """Neither shown nor keyed: stored as the person's company, or keyed for an account
    and a matching block, everyone who typed it would be one company."""
    one = normalise("ann@gmail.com", None, "Ann", "Lee", raw, None)
    assert (one.company, one.company_key) == (None, None)
    frame = normalise_frame(pl.DataFrame({"company": [raw, "Acme Inc."]}))
    assert frame.select("company", "company_key").rows() == [(None, None), ("Acme Inc.", "acme")]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Home Depot", "home depot"),
        ("Freelance Ltd", "freelance"),
        ("Self Storage Co.", "self storage"),
        ("Testa GmbH", "testa"),
        ("NAV", "nav"),
        ("3M", "3m"),
    ],
)
def test_a_company_that_only_contains_a_placeholder_word_is_kept(raw: str, key: str) -> None:
    assert (company_key(raw), normalise(None, None, None, None, raw, None).company) == (key, raw)


# ---------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.acme.co.uk/path", "acme.co.uk"),
        ("HTTP://Sub.Acme.COM:8080/x?y#z", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("//acme.de/x", "acme.de"),
        ("ftp://user:pw@files.acme.io", "acme.io"),
        ("bob@mail.acme.com", "acme.com"),
        ("https://xn--bcher-kva.de", "bücher.de"),
        ("gmail.com", "gmail.com"),
        ("localhost", None),
        ("http://127.0.0.1:8000", None),
        ("intranet", None),
        ("not a website", None),
        ("", None),
    ],
)
def test_registrable_domain(raw: str, domain: str | None) -> None:
    assert registrable_domain(raw) == domain


FREE_MAIL_SAMPLES = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.fr", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
    "protonmail.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru", "qq.com", "163.com",
    "zoho.com", "fastmail.com", "hey.com",
)  # fmt: skip


@pytest.mark.parametrize("domain", FREE_MAIL_SAMPLES)
def test_free_mail_never_defines_a_company(domain: str) -> None:
    assert is_free_mail(domain)
    assert normalise(f"jane@{domain}", None, None, None, None, None).domain is None
    assert normalise(None, None, None, None, None, f"https://{domain}/").domain is None


def test_free_mail_list_is_lower_case_registrable_domains() -> None:
    assert all(d == d.lower() and registrable_domain(d) == d for d in FREE_MAIL_DOMAINS)
    assert not is_free_mail("acme.com")
    assert not is_free_mail("yahooligans.example")


def test_domain_comes_from_the_website_else_the_email() -> None:
    both = normalise("jane@acme-mail.com", None, None, None, None, "https://www.acme.co.uk/")
    assert both.domain == "acme.co.uk"
    assert normalise("jane@acme.com", None, None, None, None, None).domain == "acme.com"
    platform = "https://www.linkedin.com/company/acme"
    assert normalise("jane@acme.com", None, None, None, None, platform).domain == "acme.com"
    assert normalise("jane@gmail.com", None, None, None, None, "n/a").domain is None
    assert normalise("bob@@acme.com", None, None, None, None, None).domain is None
    junk = "https://" + "x" * 300 + ".com"  # no name in the DNS has a label over 63
    assert normalise("jane@acme.com", None, None, None, None, junk).domain == "acme.com"


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("info@acme.com", True),
        ("Sales@Acme.com", True),
        ("sales+leads@acme.com", True),
        ("no-reply@acme.com", True),
        ("noreply@acme.com", True),
        ("hello@acme.com", True),
        ("support@gmail.com", True),
        ("jane@acme.com", False),
        ("jane.sales@acme.com", False),
        ("infos@acme.com", False),
        ("not an email", False),
        (None, False),
    ],
)
def test_role_addresses(email: str | None, role: bool) -> None:
    assert normalise(email, None, None, None, None, None).role_address is role


# ---------------------------------------------------------------- no network, nothing at import


def test_domains_never_touch_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access")

    domains._extractor.cache_clear()
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    try:
        assert registrable_domain("https://forums.bbc.co.uk/x") == "bbc.co.uk"
    finally:
        domains._extractor.cache_clear()


def test_import_builds_no_extractor() -> None:
    code = (
        "import sys, leadflow.adapters.identity.normalise, leadflow.adapters.identity.domains as d;"
        "print('tldextract' in sys.modules, d._extractor.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]


def test_normalised_is_frozen() -> None:
    result = normalise(None, None, None, None, None, None)
    assert result == Normalised(None, None, None, None, None, None, None, None, None, None, False)
    with pytest.raises(AttributeError):
        result.email = "x"  # type: ignore[misc]
