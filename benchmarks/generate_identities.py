"""Generate labelled inquiries: realistic people, several records each, and who is who.

Each true person works at a company (with a domain and a legal form, written
with or without it), has a business, free-mail or shared role address (or
none), a phone number valid for its country (US, CA, GB, DE, FR, NL, AU), and
sometimes a CRM id. Every person has one *base* record; the duplicates are
extra records of the same person, each tied to it by one kind of link:

- ``email``: the same address, often in other case or with stray spaces;
- ``phone``: the same number in another format, the email missing or another;
- ``external_id``: the same CRM ``id``, email and phone missing or different;
- ``fuzzy_name``: only the name and company tie it: a typo (one edit), a
  nickname or the formal name, the company with or without its legal form,
  the email missing or a personal one, the phone missing or another number.

On top of the link, any record may get names in other case, stray spaces or
the company in other case. Some small companies have a shared role address
(info@, sales@...) that several *different* people use: they must not merge.
Nicknames and legal forms come from ``identity_data.py``, written without
looking at leadflow's tables, so some are ones leadflow knows and some not.

Writes a CSV that ``leadflow import`` reads (``id, first_name, last_name,
email, phone, company, website, title``, the btd playbook's fields made by
``generate_leads.py``, and ``record_ref``, which is no identity field) and a
labels CSV (``record_ref, person, link, variations``). Rows are shuffled, so
a variant may come before its base record, as in real files.

    .venv/bin/python benchmarks/generate_identities.py 20000 -o benchmarks/out/identities.csv
    .venv/bin/python benchmarks/generate_identities.py 1000000 -o benchmarks/out/ids-1m.csv

The same seed always gives the same files.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

import generate_leads as leads
from identity_people import Person, make_people
from identity_render import Render

COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "website", "title")
LINKS = {"email": 40, "phone": 20, "external_id": 30, "fuzzy_name": 25}
"""Relative weights of the kinds of duplicate, among those a person allows."""


@dataclass(frozen=True)
class Generated:
    inquiries: pl.DataFrame
    labels: pl.DataFrame
    people: int
    links: Counter[str]
    variations: Counter[str]
    records_per_person: Counter[int]


def generate(rows: int, dup_rate: float = 0.20, seed: int = 7) -> Generated:
    """``rows`` inquiries of which ``dup_rate`` are extra records of a person, shuffled."""
    rng = random.Random(seed)
    n_dups = round(rows * dup_rate)
    world = make_people(rows - n_dups, rng)
    persons = world.persons
    render = Render(rng, world)
    values: list[list[str]] = [[] for _ in COLUMNS]
    owners: list[int] = []
    links: list[str] = []
    variations: list[str] = []

    def add(person: Person, link: str) -> None:
        row, changed = render.record(person, link)
        for column, value in zip(values, row, strict=True):
            column.append(value)
        owners.append(person.pid)
        links.append(link)
        variations.append("+".join(changed))

    for person in persons:
        add(person, "base")
    for pid in sorted(rng.choices(range(len(persons)), k=n_dups)):
        add(persons[pid], _link(persons[pid], rng))
    order = list(range(rows))
    rng.shuffle(order)
    return _assemble(values, owners, links, variations, order, rng.randrange(2**31))


def _link(person: Person, rng: random.Random) -> str:
    allowed = {
        "email": person.email is not None,
        "phone": person.phone is not None,
        "external_id": person.crm_id is not None,
        "fuzzy_name": True,
    }
    kinds = [kind for kind in LINKS if allowed[kind]]
    return rng.choices(kinds, weights=[LINKS[k] for k in kinds])[0]


def _assemble(
    values: list[list[str]],
    owners: list[int],
    links: list[str],
    variations: list[str],
    order: list[int],
    seed: int,
) -> Generated:
    rows = len(order)
    index = pl.Series(order, dtype=pl.UInt32)
    refs = pl.select(
        pl.format("R{}", pl.int_range(1, rows + 1).cast(pl.String).str.zfill(7))
    ).to_series()
    frame = pl.DataFrame(dict(zip(COLUMNS, values, strict=True))).select(pl.all().gather(index))
    frame = pl.concat(
        [pl.DataFrame({"record_ref": refs}), frame, facts(rows, seed)], how="horizontal"
    )
    labels = pl.DataFrame(
        {
            "record_ref": refs,
            "person": pl.Series(owners).gather(index),
            "link": pl.Series(links).gather(index),
            "variations": pl.Series(variations).gather(index),
        }
    ).with_columns(person=pl.format("P{}", pl.col("person").cast(pl.String).str.zfill(7)))
    tally: Counter[str] = Counter()
    for text in variations:
        tally.update(text.split("+") if text else ())
    return Generated(
        inquiries=frame,
        labels=labels,
        people=len(set(owners)),
        links=Counter(links),
        variations=tally,
        records_per_person=Counter(Counter(owners).values()),
    )


def facts(n: int, seed: int) -> pl.DataFrame:
    """The btd playbook's fields, as messy as ``generate_leads.py`` makes them."""
    seeds = random.Random(seed)

    def next_seed() -> int:
        return seeds.randrange(2**31) * 100

    def column(name: str, values: leads.Weights, blank: float) -> pl.Series:
        return leads.with_blanks(
            leads.pick(values, n, next_seed()).alias(name), blank, n, next_seed()
        )

    return pl.DataFrame(
        [
            column("budget", leads.BUDGET, 0.15),
            leads.timeframes(n, next_seed()),
            column("decision_role", leads.DECISION_ROLE, 0.15),
            column("contact_me_now", leads.CONTACT_ME_NOW, 0.20),
        ]
    )


def describe(result: Generated) -> str:
    """What was generated: counts per kind of link and variation."""
    rows = result.inquiries.height
    lines = [
        f"{rows:,} inquiries of {result.people:,} people "
        f"({rows - result.people:,} duplicates, {(rows - result.people) / max(rows, 1):.1%})",
        "records per person: "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(result.records_per_person.items())),
        "links: " + ", ".join(f"{k} {v:,}" for k, v in result.links.most_common()),
        "variations (records): "
        + ", ".join(f"{k} {v:,}" for k, v in result.variations.most_common()),
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("rows", type=int, help="How many inquiries to write.")
    parser.add_argument("-o", "--output", type=Path, required=True, help="CSV file to write.")
    parser.add_argument(
        "--labels", type=Path, help="Labels CSV (default: OUTPUT with .labels.csv)."
    )
    parser.add_argument(
        "--dup-rate", type=float, default=0.20, help="Share of rows that are duplicates (0.20)."
    )
    parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("rows must be 1 or more")
    if not 0 <= args.dup_rate < 1:
        parser.error("--dup-rate must be at least 0 and below 1")
    return args


def labels_path(output: Path) -> Path:
    return output.with_name(output.name.removesuffix(".csv") + ".labels.csv")


def main(argv: Sequence[str] | None = None) -> int:
    """Write the inquiries and their labels; say what they hold and how long it took."""
    args = parse_args(argv)
    started = time.perf_counter()
    result = generate(args.rows, args.dup_rate, args.seed)
    labels = args.labels or labels_path(args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result.inquiries.write_csv(args.output)
    result.labels.write_csv(labels)
    seconds = time.perf_counter() - started
    print(describe(result), file=sys.stderr)
    print(f"wrote {args.output} and {labels} in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
