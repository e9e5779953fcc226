"""Benchmark identity normalisation: ``normalise_frame`` on a million messy inquiries.

Usage (from the repository root, after ``make install``)::

    .venv/bin/python benchmarks/bench_normalise.py --rows 1000000 --repeat 3

The rows look like what web forms and list imports deliver: about 70% US
phones in every common format, 20% international numbers ("+44 20 ...",
some with the "(0)" people write), the rest local-only numbers, extensions,
words and blanks; emails mostly plain, some with "+tags", capitals,
free-mail, role addresses, a few internationalised and a few invalid;
names in any case, companies with legal forms, websites as URLs or bare
hosts. Companies come from a pool, as real inquiries do.

Printed: the machine, rows per second (median of the repeats), and the share
of rows whose email or phone the fast paths left to the libraries, with the
number of distinct such values (the libraries see each distinct value once).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from importlib import metadata

import polars as pl

from leadflow.adapters.identity.emails import email_fast
from leadflow.adapters.identity.phones import phone_fast
from leadflow.adapters.identity.vectorised import normalise_frame
from leadflow.domain.values import STRIP_CHARS

FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Bob", "Liz", "Bill", "Mike", "Zoë", "José", "Anna-Lisa", "Seán",
    "Jürgen", "François", "Björn", "Ngozi", "Wei", "Priya", "Mohammed", "Yuki",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "O'Neil", "van der Berg", "McDonald", "Müller", "Dubois", "Rossi", "Nakamura",
    "Kim", "Patel", "Nguyen", "Ångström", "Søren", "de la Cruz", "Schmidt", "Kowalski", "Novak",
)  # fmt: skip
WORDS = (
    "acme", "globex", "initech", "umbrella", "stark", "wayne", "wonka", "soylent", "hooli",
    "vandelay", "cyberdyne", "tyrell", "gringotts", "oscorp", "aperture", "blue", "sky", "north",
    "river", "peak", "summit", "bright", "harbor", "atlas", "vertex",
)  # fmt: skip
LEGAL = ("", "", "", " Inc", ", Inc.", " LLC", " Ltd", " GmbH", " S.A.", " Corp", " Co.", " plc")
TLDS = ("com", "com", "com", "io", "co.uk", "de", "fr", "com.au", "net", "co")
FREE = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "gmx.de")
COUNTRIES = (
    ("+44", "20 {4} {4}"),
    ("+44", "7{3} {6}"),
    ("+44", "(0)20 {4} {4}"),
    ("+49", "30 {7}"),
    ("+49", "(0)89 {6}"),
    ("+33", "1 {2} {2} {2} {2}"),
    ("+33", "6 {2} {2} {2} {2}"),
    ("+61", "2 {4} {4}"),
    ("+61", "4{2} {3} {3}"),
    ("+91", "9{4} {5}"),
    ("+81", "3-{4}-{4}"),
    ("+34", "6{2} {3} {3}"),
    ("+39", "06 {4} {4}"),
    ("+31", "20 {3} {4}"),
    ("+46", "8-{3} {3} {2}"),
    ("+55", "11 9{4}-{4}"),
    ("+52", "55 {4} {4}"),
    ("+65", "6{3} {4}"),
    ("+1", "{3} {3} {4}"),
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _fill(rng: random.Random, template: str) -> str:
    out, i = [], 0
    while i < len(template):
        if template[i] == "{":
            end = template.index("}", i)
            out.append(_digits(rng, int(template[i + 1 : end])))
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


def _phone(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.70:
        area = str(rng.randint(2, 9)) + _digits(rng, 2)
        exchange = str(rng.randint(2, 9)) + _digits(rng, 2)
        line = _digits(rng, 4)
        fmt = rng.choice(
            [
                "({a}) {e}-{l}",
                "{a}-{e}-{l}",
                "{a}.{e}.{l}",
                "{a}{e}{l}",
                "+1 {a} {e} {l}",
                "1-{a}-{e}-{l}",
                "+1 ({a}) {e}-{l}",
                "{a} {e} {l}",
            ]
        )
        return fmt.format(a=area, e=exchange, l=line)
    if roll < 0.90:
        code, rest = rng.choice(COUNTRIES)
        return f"{code} {_fill(rng, rest)}"
    local = f"{_digits(rng, 3)}-{_digits(rng, 4)}"
    odd = (None, "", " ", "n/a", "555-0100", "call me", "(415) 555-0100 x12", "1-800-FLOWERS")
    return rng.choice([*odd, "+1 415 555 0100 ext 7", local, "0", "+999 123"])


def _company(rng: random.Random, pool: list[tuple[str, str]]) -> tuple[str, str]:
    return pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)]


def _email(rng: random.Random, first: str, last: str, domain: str) -> str | None:
    roll = rng.random()
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    local = local.encode("ascii", "ignore").decode() or "x"
    if roll < 0.03:
        return rng.choice([None, "", "  "])
    if roll < 0.05:
        return rng.choice(
            ["bob@@example.com", "no email", f"{local}@", f"{local}@{domain}.", "a b@x.com"]
        )
    if roll < 0.06:
        return rng.choice([f"{local}@bücher.de", f"jörg@{domain}", f"{local}@xn--bcher-kva.de"])
    if roll < 0.10:
        return f"{rng.choice(['info', 'sales', 'hello', 'support'])}@{domain}"
    if roll < 0.45:
        domain = rng.choice(FREE)
    if roll < 0.50:
        local = f"{local}+{rng.choice(['news', 'leads', 'x'])}"
    text = f"{local}{rng.randint(1, 99) if rng.random() < 0.3 else ''}@{domain}"
    return text.upper() if rng.random() < 0.05 else (text.title() if rng.random() < 0.1 else text)


def generate(rows: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    pool = []
    for i in range(max(1, rows // 20)):
        name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
        domain = f"{name.lower().replace(' ', '')}{i}.{rng.choice(TLDS)}"
        pool.append((name, domain))
    data: dict[str, list[str | None]] = {k: [] for k in ("email", "phone", "first_name")}
    data.update({"last_name": [], "company": [], "website": []})
    for _ in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, domain = _company(rng, pool)
        case = rng.random()
        data["first_name"].append(
            first.upper() if case < 0.1 else first.lower() if case < 0.2 else first
        )
        data["last_name"].append(last.upper() if case < 0.1 else last)
        data["email"].append(_email(rng, first, last, domain))
        data["phone"].append(_phone(rng))
        data["company"].append(company + rng.choice(LEGAL) if rng.random() < 0.9 else None)
        site = rng.random()
        data["website"].append(
            None
            if site < 0.6
            else rng.choice(
                [f"https://www.{domain}/", f"www.{domain}", domain, f"http://{domain}/about"]
            )
        )
    return pl.DataFrame(data, schema={k: pl.String for k in data})


def slow_path(frame: pl.DataFrame) -> dict[str, tuple[float, int]]:
    """Per field: the share of rows given and not taken by a fast path, and their distinct count."""
    texts = frame.select(pl.col("email", "phone").str.strip_chars(STRIP_CHARS))
    texts = texts.select(pl.when(pl.all().str.len_bytes() > 0).then(pl.all()).name.keep())
    slow = {
        "email": texts["email"].is_not_null()
        & texts.select(email_fast(pl.col("email")))["email"].is_null(),
        "phone": texts["phone"].is_not_null() & phone_fast(texts, "phone", "US").is_null(),
    }
    return {
        name: (float(mask.mean() or 0.0), texts.filter(mask)[name].n_unique())
        for name, mask in slow.items()
    }


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    frame = generate(args.rows, args.seed)
    print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s")
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = normalise_frame(frame, region="US")
        times.append(time.perf_counter() - started)
        assert result.height == frame.height
    slow = slow_path(frame)
    median = statistics.median(times)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {_cpu()}")
    print(
        f"python {platform.python_version()}, polars {pl.__version__}, "
        f"email-validator {metadata.version('email-validator')}, "
        f"phonenumbers {metadata.version('phonenumbers')}"
    )
    print(
        f"normalise_frame: {args.rows:,} rows, median {median:.2f} s (min {min(times):.2f} s) "
        f"= {args.rows / median:,.0f} rows/s"
    )
    for name, (share, distinct) in slow.items():
        print(
            f"slow path, {name}: {share:.2%} of rows, {distinct:,} distinct values to the library"
        )
    issues = result.select(
        email=pl.col("email_issue").is_not_null().mean(),
        phone=pl.col("phone_issue").is_not_null().mean(),
        domain=pl.col("domain").is_not_null().mean(),
    )
    print(
        f"rows with an email issue {issues['email'][0]:.2%}, phone issue "
        f"{issues['phone'][0]:.2%}, a company domain {issues['domain'][0]:.2%}"
    )


if __name__ == "__main__":
    main()
