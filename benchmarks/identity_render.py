"""How one record writes a person: the base record plainly, a duplicate with variations.

Each variation that changes something is named in the record's labels, so
the evaluation can say which kinds of variation the matcher misses.
"""

from __future__ import annotations

import random

import identity_data as data
from identity_people import STYLES, Company, Person, World, format_phone

P_NICKNAME = {"email": 0.12, "phone": 0.15, "external_id": 0.15, "fuzzy_name": 0.35}
P_TYPO = {"email": 0.08, "phone": 0.10, "external_id": 0.10, "fuzzy_name": 0.35}
P_SUFFIX = {"email": 0.25, "phone": 0.25, "external_id": 0.25, "fuzzy_name": 0.5}
P_NAME_CASE = 0.12
P_SPACES = 0.08
P_COMPANY_CASE = 0.12
WEBSITES = ("https://www.{}", "www.{}", "{}", "http://{}/", "https://{}/about")

Row = tuple[str, str, str, str, str, str, str, str]
"""id, first_name, last_name, email, phone, company, website, title ("" is blank)."""


class Render:
    def __init__(self, rng: random.Random, world: World) -> None:
        self.rng = rng
        self.world = world

    def record(self, p: Person, link: str) -> tuple[Row, list[str]]:
        """One record of ``p`` tied to its base by ``link``, and the variations applied."""
        rng = self.rng
        website = rng.choice(WEBSITES).format(p.company.domain) if p.website else ""
        company = _company(p.company, p.company.written)
        phone = "" if p.phone is None else format_phone(p.company.country, p.phone, p.style)
        changed = ["role_address"] if p.role else []
        if link == "base":
            row = (p.crm_id or "", p.first, p.last, p.email or "", phone, company, website, p.title)
            return row, changed
        first, last = self._names(p, link, changed)
        email, phone, crm = self._identifiers(p, link, changed)
        company = self._company(p.company, link, changed)
        return (crm, first, last, email, phone, company, website, p.title), changed

    def _names(self, p: Person, link: str, changed: list[str]) -> tuple[str, str]:
        rng = self.rng
        first, last = p.first, p.last
        if p.alt_first is not None and rng.random() < P_NICKNAME[link]:
            first = p.alt_first
            changed.append("nickname")
        if rng.random() < P_TYPO[link]:
            if rng.random() < 0.5:
                first = typo(first, rng)
            else:
                last = typo(last, rng)
            changed.append("typo")
        if rng.random() < P_NAME_CASE:
            case = str.upper if rng.random() < 0.6 else str.lower
            first, last = case(first), case(last)
            changed.append("name_case")
        if rng.random() < P_SPACES:
            first, last = rng.choice(((f" {first}", last), (f"{first} ", f" {last} ")))
            changed.append("spaces")
        return first, last

    def _identifiers(self, p: Person, link: str, changed: list[str]) -> tuple[str, str, str]:
        """email, phone, id as this record gives them."""
        rng = self.rng
        crm = p.crm_id or ""
        if link == "email":
            assert p.email is not None
            email = self._email_variant(p.email, changed)
            phone = self._same_phone(p, changed, rng.random() < 0.5)
            return email, phone, crm if rng.random() < 0.3 else ""
        if link == "phone":
            email = self._other_email(p, changed, 0.65)
            phone = self._same_phone(p, changed, True, differ=True)
            return email, phone, crm if rng.random() < 0.3 else ""
        if link == "external_id":
            email = self._other_email(p, changed, 0.5)
            return email, self._other_phone(p, changed, 0.6), crm
        email = self._other_email(p, changed, 0.6)
        phone = self._other_phone(p, changed, 0.4 if email else 0.0)
        return email, phone, ""

    def _email_variant(self, email: str, changed: list[str]) -> str:
        rng = self.rng
        if rng.random() < 0.35:
            if rng.random() < 0.4:
                email = email.upper()
            else:
                local, _, domain = email.partition("@")
                parts = ".".join(part.capitalize() for part in local.split("."))
                email = f"{parts}@{domain.capitalize()}"
            changed.append("email_case")
        if rng.random() < 0.15:
            email = rng.choice((f" {email}", f"{email} ", f"  {email}  "))
            changed.append("email_spaces")
        return email

    def _same_phone(self, p: Person, changed: list[str], keep: bool, differ: bool = False) -> str:
        if p.phone is None or not keep:
            return ""
        draw = STYLES[p.company.country]
        style = draw(self.rng)
        while differ and style == p.style:
            style = draw(self.rng)
        if style != p.style:
            changed.append("phone_format")
        return format_phone(p.company.country, p.phone, style)

    def _other_email(self, p: Person, changed: list[str], blank: float) -> str:
        if self.rng.random() < blank:
            changed.append("no_email")
            return ""
        changed.append("other_email")
        return self.world.emails.personal(p)

    def _other_phone(self, p: Person, changed: list[str], blank: float) -> str:
        if self.rng.random() < blank:
            changed.append("no_phone")
            return ""
        changed.append("other_phone")
        number = self.world.phones.new(p.company.country)
        return format_phone(p.company.country, number, p.style)

    def _company(self, company: Company, link: str, changed: list[str]) -> str:
        rng = self.rng
        written = company.written
        if rng.random() < P_SUFFIX[link]:
            others = [form for form in company.forms if form != written]
            if written is not None and (not others or rng.random() < 0.6):
                written = None
            else:
                written = rng.choice(others)
            changed.append("company_suffix")
        text = _company(company, written)
        if rng.random() < P_COMPANY_CASE:
            text = text.upper() if rng.random() < 0.5 else text.lower()
            changed.append("company_case")
        return text


def _company(company: Company, written: str | None) -> str:
    if written is None:
        return company.name
    return f"{company.name}{written}" if written.startswith(",") else f"{company.name} {written}"


def typo(name: str, rng: random.Random) -> str:
    """One slip of the keyboard: a letter dropped, doubled wrongly, swapped or mistyped."""
    positions = [i for i in range(1, len(name)) if name[i].isalpha()]
    if not positions:
        return name + "e"
    i = rng.choice(positions)
    c = name[i]
    near = data.KEYBOARD_NEIGHBOURS.get(c.lower(), "e")
    wrong = rng.choice(near)
    wrong = wrong.upper() if c.isupper() else wrong
    op = rng.random()
    if op < 0.3 and len(name) > 3:
        return name[:i] + name[i + 1 :]
    if op < 0.55:
        return name[:i] + wrong + name[i:]
    if op < 0.8 and i + 1 < len(name) and name[i + 1] != c and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + c + name[i + 2 :]
    return name[:i] + wrong + name[i + 1 :]
