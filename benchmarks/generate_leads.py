"""Generate N synthetic, messy leads for the btd playbook (and optionally b2b-saas).

The values look like real web-form data: random case and stray spaces
(``" APPROVED "``), spaces or hyphens in choices (``"decision-maker"``),
blanks in every field, garbage (``"soon"``, ``"n/a"``, ``"-5"``, ``"1,000"``,
``"30.5"``) and booleans spelled every way (``yes``, ``Y``, ``true``, ``1``).

Usage::

    python benchmarks/generate_leads.py 1000000 -o benchmarks/out/leads.csv --seed 7
    python benchmarks/generate_leads.py 10000 -o leads-b2b.csv --b2b

Every column is drawn at once with :meth:`polars.Series.sample` (weights are
expressed by repeating a value), so a million rows take a second or two and
the same seed always gives the same file. Import :func:`generate` (btd
columns) or :func:`generate_b2b` (btd columns plus the b2b-saas fields) from
tests or other benchmarks.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

Weights = Mapping[str, int]
"""Raw values and their relative weights (whole numbers)."""

BLANKS: Weights = {"": 8, " ": 1, "  ": 1}

BUDGET: Weights = {
    "approved": 10,
    "Approved": 8,
    " APPROVED ": 3,
    "approved ": 2,
    "planned": 10,
    "Planned": 8,
    "PLANNED": 2,
    " planned": 2,
    "none": 8,
    "None": 4,
    "NONE": 1,
    "n/a": 2,
    "tbd": 2,
    "maybe": 1,
    "not sure": 1,
    "yes": 1,
}

DECISION_ROLE: Weights = {
    "decision_maker": 8,
    "Decision Maker": 8,
    "decision-maker": 5,
    "DECISION MAKER": 2,
    " decision maker ": 2,
    "Decision - Maker": 1,
    "influencer": 8,
    "Influencer": 6,
    "INFLUENCER ": 2,
    "researcher": 8,
    "Researcher": 6,
    " research": 1,
    "CEO": 1,
    "student": 1,
    "other": 1,
    "n/a": 1,
}

CONTACT_ME_NOW: Weights = {
    "yes": 6,
    "Yes": 4,
    "Y": 3,
    "true": 2,
    "TRUE": 1,
    "1": 2,
    "no": 14,
    "No": 8,
    "N": 4,
    "false": 4,
    "0": 4,
    "off": 1,
    "maybe": 1,
    "please": 1,
}

TIMEFRAME_GARBAGE: Weights = {
    "soon": 3,
    "ASAP": 2,
    "n/a": 3,
    "-5": 2,
    "-1": 1,
    "1,000": 2,
    "30.5": 2,
    "90.0": 1,
    " 90 ": 2,
    "2 weeks": 2,
    "next year": 1,
    "Q3": 1,
    "1e3": 1,
    "365 ": 1,
}

SOURCE: Weights = {
    "website": 10,
    "Website": 4,
    "webinar": 5,
    "Webinar ": 2,
    "referral": 4,
    "Referral": 2,
    "partner": 3,
    "event": 3,
    "Trade Show": 2,
    "paid_search": 4,
    "Paid Search": 2,
    "paid-search": 1,
    "social": 3,
    "purchased list": 2,
    "LIST": 1,
    "other": 1,
}


def _names(text: str) -> tuple[str, ...]:
    """Comma-separated names as a tuple."""
    return tuple(name.strip() for name in text.split(","))


FIRST_NAMES = _names(
    "Anna, Ben, Chloe, David, Emma, Farid, Grace, Hugo, Ines, Jonas, Kira, Liam, Mia, Noah, "
    "Olga, Pablo, Quinn, Rosa, Sam, Tara, Umar, Vera, Will, Xia, Yusuf, Zoe, José, Łukasz, "
    "Søren, Aoife, Chidi, Mei, Priya, Ravi, Sofía, Tomás, Yuki, Amara, Björn, Elif, Mary Ann"
)
LAST_NAMES = _names(
    "Smith, Jones, Müller, García, Rossi, Dubois, Nowak, Kowalski, Silva, Santos, Kim, Lee, "
    "Chen, Wang, Patel, Singh, Okafor, Nguyen, Novak, Jansen, de Vries, O'Brien, Murphy, "
    "Schmidt, Fischer, Weber, Hansen, Larsen, Andersson, Popescu, Horváth, Ivanova, Cohen, "
    "Haddad, Tanaka, Sato, Brown, Taylor, Smith-Jones, van der Berg"
)
COMPANY_NAMES = _names(
    "Acme, Globex, Initech, Umbrella, Stark Industries, Wayne Enterprises, Wonka, Tyrell, "
    "Cyberdyne, Soylent, Hooli, Vandelay, Pied Piper, Dunder Mifflin, Aperture, Black Mesa, "
    "Blue Sun, Oscorp, Gringotts, Monarch, Nakatomi, Northwind, Contoso, Fabrikam, Litware, "
    "Adventure Works, Tailspin, Wingtip, Proseware, ACME, acme, initech"
)
COMPANY_SUFFIXES: Weights = {
    " Inc": 4,
    " Inc.": 2,
    " LLC": 2,
    " Ltd": 2,
    " GmbH": 2,
    " AG": 1,
    " S.A.": 1,
    " B.V.": 1,
    " Corp": 2,
    " Group": 1,
    " & Co": 1,
    "": 5,
}
DOMAINS: Weights = {
    "example.com": 6,
    "gmail.com": 5,
    "outlook.com": 2,
    "yahoo.com": 2,
    "example.org": 2,
    "corp.example": 1,
    "mail.example.de": 1,
}
EMAIL_GARBAGE: Weights = {"n/a": 3, "none": 1, "test@": 1, "asdf": 1, "@example.com": 1}

B2B_COLUMNS: dict[str, Weights] = {
    "product": {
        "starter": 8,
        "Starter": 4,
        "self-serve": 2,
        "Self Serve": 1,
        "team": 1,
        "enterprise": 6,
        "Enterprise": 4,
        "platform": 2,
        "ENTERPRISE ": 1,
        "both": 1,
    },
    "industry": {
        "software": 6,
        "SaaS": 3,
        "Software ": 2,
        "financial services": 2,
        "fintech": 2,
        "Banking": 1,
        "insurance": 1,
        "healthcare": 3,
        "Health Care": 1,
        "manufacturing": 3,
        "retail": 3,
        "education": 2,
        "government": 1,
        "other": 2,
        "crypto": 1,
    },
    "company_size": {
        "1": 2,
        "4": 2,
        "12": 4,
        "40": 4,
        "85": 3,
        "150": 4,
        "300": 4,
        "750": 3,
        "999": 1,
        "1000": 2,
        "1,200": 2,
        "5000": 2,
        "12,000": 1,
        "50-100": 2,
        "lots": 1,
        "0": 1,
        "-3": 1,
        "250.5": 1,
    },
    "seniority": {
        "executive": 3,
        "C-Level": 2,
        "VP": 2,
        "director": 4,
        "Head of": 1,
        "manager": 6,
        "Manager": 3,
        "individual contributor": 3,
        "IC": 2,
        "student": 2,
        "intern": 1,
    },
    "country": {
        "us": 4,
        "USA": 4,
        "United States": 3,
        "ca": 2,
        "Canada": 1,
        "uk": 2,
        "UK": 2,
        "England": 1,
        "gb": 1,
        "de": 2,
        "Germany": 2,
        "Deutschland": 1,
        "fr": 2,
        "France": 1,
        "nl": 1,
        "au": 1,
        "other": 2,
        "Brazil": 1,
        "India": 1,
    },
    "is_customer": {"yes": 2, "no": 10, "Y": 1, "N": 3, "true": 1, "false": 2, "0": 2},
    "lead_source": SOURCE,
    "need": {
        "confirmed": 4,
        "Confirmed": 2,
        "exploring": 6,
        "Exploring ": 2,
        "none": 3,
        "No Need": 1,
        "urgent": 1,
    },
}


def weighted(values: Weights) -> pl.Series:
    """A pool in which each value appears as many times as its weight."""
    return pl.Series([value for value, weight in values.items() for _ in range(weight)])


def pick(values: Weights | Sequence[str], n: int, seed: int) -> pl.Series:
    """``n`` values drawn with replacement, deterministically for ``seed``."""
    pool = weighted(values) if isinstance(values, Mapping) else pl.Series(list(values))
    return pool.sample(n, with_replacement=True, seed=seed)


def with_blanks(column: pl.Series, share: float, n: int, seed: int) -> pl.Series:
    """Replace about ``share`` of ``column`` with blank or whitespace-only values."""
    blank = pick(BLANKS, n, seed + 1)
    draws = pl.int_range(0, 1000, eager=True).sample(n, with_replacement=True, seed=seed)
    mask = draws < round(share * 1000)
    return pl.select(pl.when(mask).then(blank).otherwise(column)).to_series().alias(column.name)


def timeframes(n: int, seed: int) -> pl.Series:
    """Days until purchase: whole numbers 0..730, some garbage, some blanks.

    The first half year is three times as likely as later, and round answers
    (30, 60, 90, 180, 365 days) are common, as on real forms.
    """
    pool = pl.concat(
        [
            pl.int_range(0, 731, eager=True),
            pl.int_range(0, 181, eager=True),
            pl.int_range(0, 181, eager=True),
            pl.Series([30, 60, 90, 180, 365] * 40, dtype=pl.Int64),
        ]
    )
    days = pool.sample(n, with_replacement=True, seed=seed).cast(pl.String)
    mixed = mix(12, pick(TIMEFRAME_GARBAGE, n, seed + 1), days, seed + 2)
    return with_blanks(mixed.alias("timeframe_days"), 0.15, n, seed + 3)


def percent(n: int, seed: int) -> pl.Series:
    """``n`` whole numbers from 0 to 99, uniformly, deterministically for ``seed``."""
    return pl.int_range(0, 100, eager=True).sample(n, with_replacement=True, seed=seed)


def mix(share: int, odd: pl.Series, usual: pl.Series, seed: int) -> pl.Series:
    """``usual``, with about ``share`` percent of its values taken from ``odd`` instead."""
    draws = percent(len(usual), seed)
    return pl.select(pl.when(draws < share).then(odd).otherwise(usual)).to_series()


def emails(first: pl.Series, last: pl.Series, seed: int) -> pl.Series:
    """first.last[NN]@domain from the names, some in capitals, some garbage."""
    n = len(first)
    frame = pl.DataFrame(
        {
            "first": first,
            "last": last,
            "number": percent(n, seed),
            "domain": pick(DOMAINS, n, seed + 1),
        }
    )
    email = frame.select(
        pl.concat_str(
            pl.col("first").str.to_lowercase().str.replace_all(" ", ""),
            pl.lit("."),
            pl.col("last").str.to_lowercase().str.replace_all(r"[ ']", ""),
            pl.when(pl.col("number") < 60).then(pl.col("number").cast(pl.String)),
            pl.lit("@"),
            pl.col("domain"),
            ignore_nulls=True,
        )
    ).to_series()
    email = mix(5, email.str.to_uppercase(), email, seed + 2)
    return mix(3, pick(EMAIL_GARBAGE, n, seed + 3), email, seed + 4).alias("email")


def people(n: int, seed: int) -> pl.DataFrame:
    """First name, last name, e-mail and company, with messy case and some blanks."""
    first = pick(FIRST_NAMES, n, seed)
    last = pick(LAST_NAMES, n, seed + 1)
    company = pl.select(
        pl.concat_str(pick(COMPANY_NAMES, n, seed + 2), pick(COMPANY_SUFFIXES, n, seed + 3))
    ).to_series()
    return pl.DataFrame(
        [
            with_blanks(mix(8, first.str.to_uppercase(), first, seed + 10), 0.05, n, seed + 20),
            with_blanks(mix(8, last.str.to_lowercase(), last, seed + 30), 0.08, n, seed + 40),
            with_blanks(emails(first, last, seed + 50), 0.10, n, seed + 60),
            with_blanks(company, 0.15, n, seed + 70),
        ],
        schema=["first_name", "last_name", "email", "company"],
    )


def generate(n: int, seed: int = 7) -> pl.DataFrame:
    """``n`` messy leads with the btd fields plus id, names, e-mail, company and source."""
    seeds = random.Random(seed)

    def next_seed() -> int:
        return seeds.randrange(2**31) * 100

    ids = pl.select(
        pl.format("L{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(8)).alias("id")
    ).to_series()
    columns = [
        ids,
        *people(n, next_seed()).get_columns(),
        with_blanks(pick(BUDGET, n, next_seed()).alias("budget"), 0.15, n, next_seed()),
        timeframes(n, next_seed()),
        with_blanks(
            pick(DECISION_ROLE, n, next_seed()).alias("decision_role"), 0.15, n, next_seed()
        ),
        with_blanks(
            pick(CONTACT_ME_NOW, n, next_seed()).alias("contact_me_now"), 0.20, n, next_seed()
        ),
        with_blanks(pick(SOURCE, n, next_seed()).alias("source"), 0.10, n, next_seed()),
    ]
    return pl.DataFrame(columns)


def generate_b2b(n: int, seed: int = 7) -> pl.DataFrame:
    """The btd leads of :func:`generate` plus the other fields of the b2b-saas playbook."""
    base = generate(n, seed)
    seeds = random.Random(seed + 1)
    extra = [
        with_blanks(
            pick(values, n, seeds.randrange(2**31)).alias(name), 0.15, n, seeds.randrange(2**31)
        )
        for name, values in B2B_COLUMNS.items()
        if name != "lead_source"
    ]
    source = base["source"].alias("lead_source")
    return base.drop("source").with_columns(*extra, source)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("rows", type=int, help="How many leads to write.")
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write.")
    parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
    parser.add_argument(
        "--b2b", action="store_true", help="Add the fields of the b2b-saas playbook."
    )
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("rows must be 0 or more")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Write the leads and say how long it took (on standard error)."""
    args = parse_args(argv)
    started = time.perf_counter()
    frame = generate_b2b(args.rows, args.seed) if args.b2b else generate(args.rows, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(args.output)
    seconds = time.perf_counter() - started
    print(f"wrote {frame.height:,} leads to {args.output} in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
