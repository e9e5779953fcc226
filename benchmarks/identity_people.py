"""The true people behind ``generate_identities.py``, and how each record writes them.

Everything draws from one ``random.Random``, so a seed gives the same people
and records. Identifiers are unique per person: emails (a number appended on
a clash), phones (each country's numbers are handed out by a bijection, never
twice) and CRM ids; only role addresses are shared, on purpose.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import phonenumbers

import identity_data as data

COUNTRY_CODES = {"US": 1, "CA": 1, "GB": 44, "DE": 49, "FR": 33, "NL": 31, "AU": 61}
NUMBER_LENGTHS = {"US": (10,), "CA": (10,), "GB": (10,), "DE": (10, 11), "FR": (9,)}
NANP_STYLES = {
    "(AAA) EEE-NNNN": 25, "AAA-EEE-NNNN": 20, "AAA.EEE.NNNN": 8, "AAAEEENNNN": 10,
    "AAA EEE NNNN": 8, "+1 AAA EEE NNNN": 8, "+1 (AAA) EEE-NNNN": 5, "1-AAA-EEE-NNNN": 5,
    "+1AAAEEENNNN": 6, "+1-AAA-EEE-NNNN": 3, "AAA-EEE-NNNN x12": 2,
}  # fmt: skip
"""US and Canadian numbers as people write them (A area, E exchange, N line)."""
WORLD_STYLES = {"+C G": 45, "+CN": 15, "+C (0)G": 10, "00C G": 8, "0G": 7, "+C-G": 5}
"""Other numbers: C country code, G grouped national number, N without spaces."""


class Draw:
    """Draws one of ``weights``' keys by weight, cheaply (no table built per draw)."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.keys = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect(self.cumulative, rng.random() * self.total)]


STYLES = {"US": Draw(NANP_STYLES), "CA": Draw(NANP_STYLES)}
STYLES.update({c: Draw(WORLD_STYLES) for c in ("GB", "DE", "FR", "NL", "AU")})
BUSINESS_LOCAL = Draw(
    {"{f}.{l}": 50, "{i}{l}": 20, "{f}{l}": 8, "{f}": 7, "{f}_{l}": 5, "{l}.{f}": 5, "{f}.{j}": 5}
)
"""Local parts of company addresses: f first name, l last name, i and j their initials."""


@cache
def ascii_slug(text: str) -> str:
    """A name as it appears in an email address: "Zoë O'Brien-Lee" -> "zoeobrien-lee"."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("ł", "l").replace("ø", "o"))
    return "".join(
        c for c in folded.replace("ß", "ss") if c.isascii() and (c.isalnum() or c == "-")
    )


# ---------------------------------------------------------------- phones


class PhoneBook:
    """Unique valid numbers per country: national numbers, handed out once each."""

    def __init__(self, rng: random.Random) -> None:
        self.prefixes = {country: _prefixes(country, rng) for country in COUNTRY_CODES}
        self.issued = dict.fromkeys(COUNTRY_CODES, 0)
        self.step = {c: _coprime(len(p) * 10_000) for c, p in self.prefixes.items()}

    def new(self, country: str) -> str:
        prefixes = self.prefixes[country]
        capacity = len(prefixes) * 10_000
        k = self.issued[country]
        if k >= capacity:
            raise RuntimeError(f"out of {country} phone numbers ({capacity:,})")
        self.issued[country] = k + 1
        j = (k * self.step[country] + 7) % capacity
        return f"{prefixes[j // 10_000]}{j % 10_000:04d}"


def _prefixes(country: str, rng: random.Random, want: int = 300) -> list[str]:
    """National numbers less their last four digits, valid whatever those digits are."""
    code = COUNTRY_CODES[country]
    lengths = NUMBER_LENGTHS.get(country, (9,))
    found: set[str] = set()
    for _ in range(40_000):
        length = rng.choice(lengths)
        head = str(rng.randrange(10 ** (length - 5), 10 ** (length - 4)))
        if head in found:
            continue
        tails = (f"{rng.randrange(10_000):04d}" for _ in range(3))
        numbers = (phonenumbers.PhoneNumber(code, int(head + tail)) for tail in tails)
        if all(_personal(n, country) for n in numbers):
            found.add(head)
            if len(found) == want:
                break
    return sorted(found)


PERSONAL_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


def _personal(number: phonenumbers.PhoneNumber, country: str) -> bool:
    """Valid in ``country`` and a landline or mobile (not toll-free, premium, pager...)."""
    return (
        phonenumbers.is_valid_number_for_region(number, country)
        and phonenumbers.number_type(number) in PERSONAL_TYPES
    )


def _coprime(n: int) -> int:
    step = int(n * 0.6180339887) | 1
    while math.gcd(step, n) != 1:
        step += 2
    return step


def format_phone(country: str, national: str, style: str) -> str:
    if country in ("US", "CA"):
        a, e, n = national[:3], national[3:6], national[6:]
        return style.replace("AAA", a).replace("EEE", e).replace("NNNN", n)
    head = 3 if len(national) > 10 else (1 if len(national) == 9 else 2)
    rest = national[head:]
    groups = [national[:head]] + [rest[i : i + 4] for i in range(0, len(rest), 4)]
    grouped = ("-" if style == "+C-G" else " ").join(groups)
    text = style.replace("G", grouped).replace("N", national)
    return text.replace("C", str(COUNTRY_CODES[country]))


# ---------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class Company:
    name: str
    domain: str
    country: str
    forms: tuple[str, ...]  # spellings of its legal form
    written: str | None  # how the base record writes the legal form, if at all
    role: str | None  # a shared role address, if the company has one


@dataclass(frozen=True, slots=True)
class Person:
    pid: int
    first: str
    alt_first: str | None  # nickname or formal name
    last: str
    company: Company
    email: str | None
    role: bool
    phone: str | None  # national number in the company's country
    style: str
    crm_id: str | None
    title: str
    website: bool


def _zipf(n: int, offset: float) -> list[float]:
    return list(itertools.accumulate(1 / (rank + offset) for rank in range(n)))


def make_companies(n: int, rng: random.Random) -> list[Company]:
    countries = rng.choices(list(data.COUNTRIES), weights=list(data.COUNTRIES.values()), k=n)
    names: set[str] = set()
    domains: set[str] = set()
    companies = []
    small = n // 5  # companies are ranked by size (see make_people): the first fifth are big
    for rank, country in enumerate(countries):
        name = _company_name(rng)
        while name in names:
            name = _company_name(rng)
        names.add(name)
        words = name.split(" ")
        slug = ascii_slug("".join(words if rng.random() < 0.5 else words[:1]))
        tld = rng.choice(data.COUNTRY_TLDS[country])
        domain, n = f"{slug}.{tld}", 1
        while domain in domains:
            n += 1
            domain = f"{slug}{n}.{tld}"
        domains.add(domain)
        forms = data.LEGAL_FORMS[country]
        spellings = rng.choices([f[1] for f in forms], weights=[f[0] for f in forms])[0]
        written = rng.choice(spellings) if rng.random() < 0.55 else None
        # A shared inbox is a small firm's: several of its people write from it.
        role = rng.choice(data.ROLE_LOCAL_PARTS) if rank >= small and rng.random() < 0.2 else None
        companies.append(Company(name, domain, country, spellings, written, role))
    return companies


def _company_name(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.35:
        name = rng.choice(data.COMPANY_PREFIXES) + rng.choice(data.COMPANY_CORES)
    elif shape < 0.65:
        name = f"{rng.choice(data.COMPANY_PREFIXES)} {rng.choice(data.COMPANY_NOUNS)}"
    elif shape < 0.8:
        name = f"{rng.choice(data.LAST_NAMES)} & {rng.choice(data.LAST_NAMES)}"
    else:
        name = rng.choice(data.LAST_NAMES)
    return f"{name} {rng.choice(data.INDUSTRIES)}" if rng.random() < 0.6 else name


@dataclass(frozen=True, slots=True)
class World:
    """The people, and the books that hand out their new numbers and addresses."""

    persons: list[Person]
    phones: PhoneBook
    emails: Emails


def make_people(n: int, rng: random.Random) -> World:
    companies = make_companies(max(1, n // 7), rng)
    phones = PhoneBook(rng)
    employers = rng.choices(companies, cum_weights=_zipf(len(companies), 40), k=n)
    firsts = rng.choices(data.FIRST_NAMES, cum_weights=_zipf(len(data.FIRST_NAMES), 25), k=n)
    lasts = rng.choices(data.LAST_NAMES, cum_weights=_zipf(len(data.LAST_NAMES), 30), k=n)
    emails = Emails(rng)
    persons = []
    for pid, (company, first, last) in enumerate(zip(employers, firsts, lasts, strict=True)):
        alt = rng.choice(data.NICKNAMES[first]) if first in data.NICKNAMES else None
        if alt is not None and rng.random() < 0.3:
            first, alt = alt, first
        role = company.role is not None and rng.random() < 0.4
        email = emails.pick(first, last, company, role)
        has_phone = email is None or rng.random() < 0.7
        persons.append(
            Person(
                pid=pid,
                first=first,
                alt_first=alt,
                last=last,
                company=company,
                email=email,
                role=role,
                phone=phones.new(company.country) if has_phone else None,
                style=STYLES[company.country](rng),
                crm_id=str(10_000_000 + (pid * 7_919) % 89_999_999) if rng.random() < 0.3 else None,
                title=rng.choice(data.TITLES),
                website=rng.random() < 0.25,
            )
        )
    return World(persons, phones, emails)


class Emails:
    """Addresses that no two people share, except a company's role address."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()

    def pick(self, first: str, last: str, company: Company, role: bool) -> str | None:
        rng = self.rng
        if role:
            return f"{company.role}@{company.domain}"
        kind = rng.random()
        if kind < 0.06:
            return None
        f, g = ascii_slug(first), ascii_slug(last)
        if kind < 0.70:
            local = BUSINESS_LOCAL(rng).format(f=f, l=g, i=f[:1], j=g[:1])
            return self._unique(local, company.domain)
        local = rng.choice((f"{f}.{g}", f"{f}{g}", f"{f[:1]}{g}", f"{g}.{f}", f"{f}_{g}"))
        if rng.random() < 0.6:
            local += str(rng.randrange(1, 100))
        return self._unique(local, rng.choice(data.FREE_MAIL[company.country]))

    def personal(self, person: Person) -> str:
        """Another, personal address of someone (a second free-mail account)."""
        f, g = ascii_slug(person.first), ascii_slug(person.last)
        local = f"{f}.{g}{self.rng.randrange(1, 100)}"
        return self._unique(local, self.rng.choice(data.FREE_MAIL[person.company.country]))

    def _unique(self, local: str, domain: str) -> str:
        address = f"{local}@{domain}"
        n = 2
        while address in self.taken:
            address = f"{local}{n}@{domain}"
            n += 1
        self.taken.add(address)
        return address
