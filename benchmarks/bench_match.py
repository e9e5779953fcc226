"""How long does it take to find the person behind one new inquiry among N existing people?

Loads N synthetic people (with their email and phone keys and company blocks) into a
fresh SQLite database through the store's tables, then times
``leadflow.services.identity.find_person`` for a mix of new inquiries: exact email hits,
phone hits, similar names at the same company (fuzzy), and strangers (misses).

    .venv/bin/python benchmarks/bench_match.py --people 1000000 --probes 10000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from leadflow.adapters.identity.normalise import normalise
from leadflow.adapters.store import tables as t
from leadflow.adapters.store.engine import make_engine, upgrade
from leadflow.services.identity import Identity, find_person
from leadflow.services.uow import UnitOfWork

NOW = datetime(2026, 11, 23, tzinfo=UTC)
FIRST = [
    "ann",
    "bob",
    "carla",
    "dev",
    "elif",
    "femi",
    "greta",
    "hiro",
    "ines",
    "jon",
    "kira",
    "liam",
    "maya",
    "noah",
    "olu",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tara",
]
LAST = [
    "adler",
    "baker",
    "costa",
    "dubois",
    "evans",
    "fischer",
    "garcia",
    "hughes",
    "ito",
    "jansen",
    "khan",
    "larsen",
    "meyer",
    "novak",
    "okafor",
    "patel",
    "rossi",
    "silva",
]
BATCH = 50_000


def person(i: int) -> dict[str, str]:
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    company = f"company{i // 40}"  # about 40 people per company: realistic blocks
    return {
        "first": first,
        "last": last,
        "email": f"{first}.{last}.{i}@{company}.example",
        "phone": f"+1{2000000000 + i}",
        "company": company,
    }


def load(database: Path, people: int) -> None:
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with engine.begin() as connection:
        for start in range(1, people + 1, BATCH):
            ids = range(start, min(start + BATCH, people + 1))
            rows = [person(i) for i in ids]
            connection.execute(
                insert(t.people),
                [
                    {
                        "id": i,
                        "created_at": NOW,
                        "updated_at": NOW,
                        "facts": {},
                        "inquiry_count": 1,
                        "email": r["email"],
                        "phone": r["phone"],
                        "first_name": r["first"],
                        "last_name": r["last"],
                        "name_key": f"{r['first']} {r['last']}",
                        "company": r["company"],
                        "company_key": r["company"],
                    }
                    for i, r in zip(ids, rows, strict=True)
                ],
            )
            connection.execute(
                insert(t.person_keys),
                [
                    {"kind": kind, "value": r[kind], "person_id": i}
                    for i, r in zip(ids, rows, strict=True)
                    for kind in ("email", "phone")
                ],
            )
            connection.execute(
                insert(t.person_blocks),
                [
                    {"block": f"company:{r['company']}", "person_id": i}
                    for i, r in zip(ids, rows, strict=True)
                ],
            )
            print(f"  loaded {ids[-1]:,} people", end="\r", flush=True)
    print()
    engine.dispose()


def probes(people: int, count: int, rng: random.Random) -> list[tuple[str, Identity]]:
    out = []
    for _ in range(count):
        i = rng.randint(1, people)
        p = person(i)
        kind = rng.choice(["email", "phone", "fuzzy", "miss"])
        if kind == "email":
            norm = normalise(p["email"].upper(), None, p["first"], p["last"], None, None)
        elif kind == "phone":
            norm = normalise(None, p["phone"], p["first"], p["last"], None, None)
        elif kind == "fuzzy":
            norm = normalise(
                f"other.{i}@elsewhere.example",
                None,
                p["first"],
                p["last"] + "e",
                p["company"],
                None,
            )
        else:
            norm = normalise(f"stranger.{i}@nowhere.example", None, "zed", "zulu", "nocorp", None)
        out.append((kind, Identity(norm, None)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    database = args.out / f"match-{args.people}.db"
    if not database.exists():
        started = time.perf_counter()
        load(database, args.people)
        print(f"loaded {args.people:,} people in {time.perf_counter() - started:.1f}s")
    engine = make_engine(f"sqlite:///{database}")
    rng = random.Random(0)
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    with UnitOfWork(engine) as uow:
        for _kind, who in probes(args.people, 200, rng):  # warm-up
            find_person(uow.store, who)
        for kind, who in probes(args.people, args.probes, rng):
            started = time.perf_counter_ns()
            match = find_person(uow.store, who)
            timings.setdefault(kind, []).append((time.perf_counter_ns() - started) / 1e6)
            found[kind] = found.get(kind, 0) + (match is not None)
    every = sorted(x for xs in timings.values() for x in xs)
    print(f"\n{args.people:,} people; {args.probes:,} new inquiries matched on SQLite")
    print("| kind | inquiries | matched | median ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("email", "phone", "fuzzy", "miss"):
        xs = sorted(timings.get(kind, []))
        if xs:
            p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
            print(
                f"| {kind} | {len(xs):,} | {found[kind]:,} | {statistics.median(xs):.2f} | "
                f"{p99:.2f} |"
            )
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
    print(
        f"| all | {len(every):,} | {sum(found.values()):,} | {statistics.median(every):.2f} | "
        f"{p99:.2f} |"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
