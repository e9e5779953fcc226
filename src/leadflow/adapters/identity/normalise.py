"""Normalisation for identity resolution: one inquiry's contact details as comparable facts.

A person is identified by email, then phone, then name and company (see
DESIGN.md, "Identity"), so each of those is brought to one form here:

- email: validated by email-validator (no DNS), lower-cased entirely;
- phone: E.164 by phonenumbers, read in the configured default region;
- names: a display form and a matching key (folded, nicknames mapped);
- company: a display form and a key without its legal form;
- domain: the company's registrable domain, from the website, else from the
  email, never a free-mail provider's;
- role_address: whether the email is a function's (info@, sales@), which
  several people may share, so it must not merge different names.

A value that cannot be read is ``None`` with an issue saying which field
and which value; nothing here raises on bad input.

:func:`normalise` handles one inquiry; :func:`normalise_frame` a whole table
with the same result row by row (the property tests in
``tests/unit/test_normalise.py`` hold the two to that). The parts live in
``emails``, ``phones``, ``names`` (people, companies), ``domains``
(websites, free-mail) and ``vectorised`` (the table).
"""

from __future__ import annotations

from dataclasses import dataclass

from leadflow.adapters.identity.domains import (
    FREE_MAIL_BRANDS,
    FREE_MAIL_DOMAINS,
    email_company_domain,
    is_free_mail,
    registrable_domain,
    website_company_domain,
    website_host,
)
from leadflow.adapters.identity.emails import email_parts, is_role_address, normalise_email
from leadflow.adapters.identity.names import (
    company_display,
    company_key,
    display_name,
    name_key,
)
from leadflow.adapters.identity.phones import normalise_phone
from leadflow.adapters.identity.vectorised import NORMALISED_COLUMNS, normalise_frame
from leadflow.domain.values import clean

__all__ = [
    "FREE_MAIL_BRANDS",
    "FREE_MAIL_DOMAINS",
    "NORMALISED_COLUMNS",
    "Normalised",
    "company_key",
    "is_free_mail",
    "name_key",
    "normalise",
    "normalise_email",
    "normalise_frame",
    "normalise_phone",
    "registrable_domain",
]


@dataclass(frozen=True, slots=True)
class Normalised:
    """One inquiry's identity facts (see the module docstring for each field)."""

    email: str | None
    email_issue: str | None
    phone: str | None
    phone_issue: str | None
    first_name: str | None
    last_name: str | None
    name_key: str | None
    company: str | None
    company_key: str | None
    domain: str | None
    role_address: bool


def normalise(
    email: object,
    phone: object,
    first_name: object,
    last_name: object,
    company: object,
    website: object,
    *,
    region: str = "US",
) -> Normalised:
    """Normalise one inquiry's contact details; ``region`` reads phones without a "+"."""
    address, email_problem = normalise_email(email)
    number, phone_problem = normalise_phone(phone, region)
    site = clean(website)
    host = None if site is None else website_host(site)
    _, email_domain = email_parts(address)
    domain = website_company_domain(host) or email_company_domain(email_domain)
    return Normalised(
        email=address,
        email_issue=email_problem,
        phone=number,
        phone_issue=phone_problem,
        first_name=display_name(first_name),
        last_name=display_name(last_name),
        name_key=name_key(first_name, last_name),
        company=company_display(company),
        company_key=company_key(company),
        domain=domain,
        role_address=is_role_address(address),
    )
