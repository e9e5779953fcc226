"""Which company a website or an email address points to: its registrable domain.

"https://www.acme.co.uk/about" and "jane@sales.acme.co.uk" both point to
``acme.co.uk``: the label just under the public suffix, found with
tldextract and the Public Suffix List snapshot bundled with it. The extractor
is built on first use, with no suffix-list URLs and no disk cache, so it
never touches the network or the file system beyond its own package.

Some domains never define a company. Free-mail domains (gmail.com,
yahoo.co.uk, ...) are shared by millions of strangers; a website on a
platform (linkedin.com/company/acme, acme.wixsite.com) says nothing about
the company's own domain either, so the email's domain is used instead.

A website is cut down to its host by :data:`HOST_PATTERN`, a regular
expression that Python and Polars read alike (ASCII classes only, no
case-insensitive flag), so both paths extract the same host; everything
after that runs in Python, once per distinct host.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import idna

from leadflow.domain.values import clean

if TYPE_CHECKING:
    from tldextract import TLDExtract

# Scheme ("https://") or "//", then user information up to the last "@" of
# the authority, then the host: up to a port, path, query or fragment.
HOST_PATTERN = r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://|//)?(?:[^/?#]*@)?([^/?#:@]*)"

FREE_MAIL_DOMAINS = frozenset(
    {
        "126.com", "163.com", "aim.com", "aol.com", "att.net", "bellsouth.net",
        "bigpond.com", "bk.ru", "bol.com.br", "btinternet.com", "charter.net", "comcast.net",
        "cox.net", "daum.net", "earthlink.net", "email.com", "fastmail.com", "fastmail.fm",
        "foxmail.com", "free.fr", "freenet.de", "gmail.com", "googlemail.com", "hanmail.net",
        "hey.com", "icloud.com", "inbox.ru", "interia.pl", "laposte.net", "libero.it",
        "list.ru", "live.com", "mac.com", "mail.com", "mail.ru", "me.com", "msn.com",
        "naver.com", "o2.pl", "onet.pl", "optusnet.com.au", "orange.fr", "pm.me",
        "proton.me", "protonmail.ch", "protonmail.com", "qq.com", "rediffmail.com",
        "rocketmail.com", "rogers.com", "sbcglobal.net", "seznam.cz", "sfr.fr", "shaw.ca",
        "sina.com", "sky.com", "sympatico.ca", "t-online.de", "terra.com.br", "tuta.io",
        "tutanota.com", "uol.com.br", "usa.com", "verizon.net", "virginmedia.com",
        "virgilio.it", "wanadoo.fr", "web.de", "wp.pl", "ya.ru", "yeah.net", "ymail.com",
        "zoho.com", "zohomail.com",
    }
)  # fmt: skip
"""Registrable domains of free-mail providers: an address there names a person, not a company."""

FREE_MAIL_BRANDS = frozenset({"gmx", "hotmail", "live", "outlook", "yahoo", "yandex"})
"""Providers free under every suffix: yahoo.com, yahoo.co.uk, gmx.de, hotmail.fr, ..."""

PLATFORM_DOMAINS = frozenset(
    {
        "bit.ly", "blogspot.com", "business.site", "facebook.com", "fb.com", "github.com",
        "gitlab.com", "godaddysites.com", "google.com", "instagram.com", "linkedin.com",
        "linktr.ee", "medium.com", "pinterest.com", "squarespace.com", "substack.com",
        "tiktok.com", "twitter.com", "weebly.com", "wix.com", "wixsite.com", "wordpress.com",
        "x.com", "yelp.com", "youtube.com",
    }
)  # fmt: skip
"""Sites that host many companies' pages: a website there is not the company's domain."""

_HOST = re.compile(HOST_PATTERN)
_LABEL_PUNCTUATION = frozenset("-_")


@cache
def _extractor() -> TLDExtract:
    """The one offline extractor: bundled suffix list, no URLs to fetch, no disk cache."""
    from tldextract import TLDExtract

    return TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def website_host(text: str) -> str:
    """The host part of a URL-like text, as typed (may be empty)."""
    match = _HOST.match(text)
    assert match is not None  # every part of the pattern is optional
    return match.group(1)


@lru_cache(maxsize=1 << 16)
def domain_of_host(host: str | None) -> str | None:
    """The registrable domain of a host, lower case, IDN labels in Unicode; ``None`` if none.

    Hosts without a public suffix ("localhost", "intranet", an IP address)
    have no registrable domain. Kept for the last 65,536 hosts: the suffix list's walk
    costs about 20 µs, and a company's people share their email's host.
    """
    if not host:
        return None
    lowered = unicodedata.normalize("NFC", host.lower())
    parts = _extractor().extract_str(lowered)
    if not parts.domain or not parts.suffix:
        return None
    labels = [_unicode_label(label) for label in f"{parts.domain}.{parts.suffix}".split(".")]
    if not all(labels) or not all(_is_label(label) for label in labels):
        return None
    domain = ".".join(labels)
    # No label of a name in the DNS is longer than 63 characters, nor a name than 253: a
    # website field of junk gives no domain (it would not fit ``accounts.domain`` either).
    if len(domain) > 253 or any(len(label) > 63 for label in labels):
        return None
    return domain


def _unicode_label(label: str) -> str:
    """A Punycode label ("xn--bcher-kva") in Unicode ("bücher"), as email-validator gives it."""
    if not label.startswith("xn--"):
        return label
    try:
        return idna.decode(label)
    except (idna.IDNAError, UnicodeError, ValueError):
        return label


def _is_label(label: str) -> bool:
    return all(c.isalnum() or c in _LABEL_PUNCTUATION for c in label)


def registrable_domain(host_or_url_or_email: object) -> str | None:
    """The registrable domain of a host, URL or email address, free-mail included.

    ``https://www.acme.co.uk/path`` -> ``acme.co.uk``; ``bob@mail.acme.com``
    -> ``acme.com``; ``gmail.com`` -> ``gmail.com`` (see :func:`is_free_mail`).
    """
    text = clean(host_or_url_or_email)
    return None if text is None else domain_of_host(website_host(text))


def is_free_mail(domain: str) -> bool:
    """Whether a registrable domain belongs to a free-mail provider."""
    return domain in FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in FREE_MAIL_BRANDS


def website_company_domain(host: str | None) -> str | None:
    """The company domain a website's host gives, unless free-mail or a hosting platform."""
    domain = domain_of_host(host)
    if domain is None or is_free_mail(domain) or domain in PLATFORM_DOMAINS:
        return None
    return domain


def email_company_domain(email_domain: str | None) -> str | None:
    """The company domain of a (validated) email's domain part, unless free-mail."""
    domain = domain_of_host(email_domain)
    if domain is None or is_free_mail(domain):
        return None
    return domain
