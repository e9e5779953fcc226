"""How well does leadflow tell who is who? Pairwise precision and recall on labelled inquiries.

Generates a labelled set with ``generate_identities.py`` (or takes one), imports
it with the real command into a fresh SQLite database, as a user would::

    LEADFLOW_DATABASE_URL=sqlite:///benchmarks/out/eval-identity.db leadflow init
    LEADFLOW_DATABASE_URL=... leadflow import FILE.csv --source eval

then reads back which person each inquiry went to (``inquiries.person_id``,
the record found by the ``record_ref`` in ``inquiries.payload``) and scores
it against the labels: pairwise precision, recall and F1, and a breakdown of
the missed pairs and the wrong pairs by kind of link and variation, with
examples, plus the wrong merges by the rule that made them (``merges``).
Rows the import quarantined count as people of their own. Whatever import
path ``leadflow import`` takes is the one measured.

    .venv/bin/python benchmarks/eval_identity.py --rows 20000 --seed 7
    .venv/bin/python benchmarks/eval_identity.py --input X.csv --labels X.labels.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from rapidfuzz import fuzz

import generate_identities
from identity_metrics import (
    Label,
    Tally,
    breakdown,
    describe_tally,
    pairwise,
    read_labels,
    read_rows,
    record_lines,
)
from leadflow.adapters.identity.normalise import Normalised, normalise

ROOT = Path(__file__).resolve().parent.parent
TARGET_PRECISION = 0.98
TARGET_RECALL = 0.95


def run_import(csv_path: Path, db: Path, bin_dir: Path) -> tuple[float, str]:
    """A fresh database, ``leadflow init`` and ``leadflow import``; the import's seconds."""
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "LEADFLOW_DATABASE_URL": f"sqlite:///{db}"}
    leadflow = str(bin_dir / "leadflow")
    subprocess.run([leadflow, "init"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run(
        [leadflow, "import", str(csv_path), "--source", "eval"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started, done.stderr


def read_outcome(db: Path) -> tuple[dict[str, int], list[tuple[str, int, str, str]], Counter[str]]:
    """record_ref -> person, the merges in order (record_ref, person, rule, detail), quarantine."""
    with sqlite3.connect(db) as con:
        inquiries = con.execute("SELECT id, payload, person_id FROM inquiries ORDER BY id")
        person: dict[str, int] = {}
        ref_of: dict[int, str] = {}
        for inquiry_id, payload, person_id in inquiries:
            ref = json.loads(payload).get("record_ref")
            ref_of[inquiry_id] = ref
            if person_id is not None:
                person[ref] = person_id
        merges = [
            (ref_of[i], p, rule, detail)
            for i, p, rule, detail in con.execute(
                "SELECT inquiry_id, person_id, rule, detail FROM merges "
                "WHERE undone_at IS NULL ORDER BY inquiry_id"
            )
        ]
        quarantined = Counter(r for (r,) in con.execute("SELECT reason FROM quarantine"))
    return person, merges, quarantined


def wrong_merges(
    labels: Mapping[str, Label], person: Mapping[str, int], merges: list[tuple[str, int, str, str]]
) -> tuple[Counter[str], dict[str, list[str]]]:
    """Merges that joined an inquiry to a person none of whose earlier inquiries was its own."""
    seen: dict[int, set[str]] = defaultdict(set)
    merged = {ref: (rule, detail) for ref, _, rule, detail in merges}
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for ref in person:  # in inquiry order, as read
        pid, truth = person[ref], labels[ref].person
        if ref in merged and seen[pid] and truth not in seen[pid]:
            rule, detail = merged[ref]
            counts[rule] += 1
            if len(examples[rule]) < 3:
                examples[rule].append(f"{ref}: {detail}")
        seen[pid].add(truth)
    return counts, examples


def _norm(row: Mapping[str, str]) -> Normalised:
    fields = ("email", "phone", "first_name", "last_name", "company", "website")
    return normalise(*(row[f] for f in fields))


def cause(a: Mapping[str, str], b: Mapping[str, str], labels: Mapping[str, Label]) -> str:
    """Why leadflow's rules could not join two records of one person, pair by pair."""
    na, nb = _norm(a), _norm(b)
    for row, norm in ((a, na), (b, nb)):
        if not any((norm.email, norm.phone, row["id"])):
            return f"quarantined: no email or id, phone {_shape(row['phone'])}"
    if na.email and na.email == nb.email:
        return "same email, kept apart (role address, names disagree)"
    if na.phone and na.phone == nb.phone:
        return "same phone, kept apart"
    if a["id"] and a["id"] == b["id"]:
        return "same id, kept apart"
    digits_a, digits_b = _digits(a["phone"]), _digits(b["phone"])
    if digits_a and digits_b and digits_a[-9:] == digits_b[-9:]:
        unread = a["phone"] if na.phone is None else b["phone"]
        return f"same phone, one unreadable: {_shape(unread)}"
    shared = {k for k in (na.domain, na.company_key) if k} & {nb.domain, nb.company_key}
    if not shared:
        return "no shared block (company keys differ, domains differ or free-mail)"
    score = fuzz.ratio(na.name_key or "", nb.name_key or "")
    if score >= 90:
        return "joinable pair (name >= 90, same block), apart through order"
    why = sorted((labels[a["record_ref"]].variations | labels[b["record_ref"]].variations) & NAMES)
    return f"names below 90 ({'+'.join(why) or 'none'})"


NAMES = frozenset({"nickname", "typo"})


def _shape(phone: str) -> str:
    """What kind of phone text leadflow could not read (in its default region, US)."""
    text = phone.strip()
    if not text:
        return "missing"
    if text.startswith("00"):
        return "written with the 00 international prefix"
    if text.startswith("0"):
        return "in a foreign national format (no country code)"
    return "unreadable"


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def causes(
    missed: Tally, rows: Mapping[str, Mapping[str, str]], labels: Mapping[str, Label]
) -> Tally:
    """The missed pairs again, each under its :func:`cause` (every pair, not only examples)."""
    tally = Tally()
    for a, b in missed.pairs:
        tally.add([cause(rows[a], rows[b], labels)], a, b, keep=4)
    return tally


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path, labels_path = args.input, args.labels
    if csv_path is None:
        csv_path = args.out / f"identities-{args.rows}-seed{args.seed}.csv"
        labels_path = generate_identities.labels_path(csv_path)
        result = generate_identities.generate(args.rows, args.dup_rate, args.seed)
        result.inquiries.write_csv(csv_path)
        result.labels.write_csv(labels_path)
        print(generate_identities.describe(result))
    assert labels_path is not None
    labels = read_labels(labels_path)
    seconds, summary = run_import(csv_path, args.out / "eval-identity.db", args.bin)
    person, merges, quarantined = read_outcome(args.out / "eval-identity.db")
    report(labels, person, merges, quarantined, read_rows(csv_path), seconds)
    if args.verbose:
        print(summary)
    scores = pairwise({r: lab.person for r, lab in labels.items()}, person)
    met = scores.precision >= TARGET_PRECISION and scores.recall >= TARGET_RECALL
    return 0 if met or not args.check else 1


def report(
    labels: Mapping[str, Label],
    person: Mapping[str, int],
    merges: list[tuple[str, int, str, str]],
    quarantined: Counter[str],
    rows: Mapping[str, dict[str, str]],
    seconds: float,
) -> None:
    shown = record_lines(rows, labels)
    truth = {ref: label.person for ref, label in labels.items()}
    scores = pairwise(truth, person)
    print(f"\nleadflow import of {len(labels):,} inquiries: {seconds:.1f} s")
    print(f"people found {len(set(person.values())):,} (true {len(set(truth.values())):,})")
    print("quarantined: " + (", ".join(f"{k} {v:,}" for k, v in quarantined.items()) or "none"))
    print(scores.line())
    print(
        f"targets: precision >= {TARGET_PRECISION} "
        f"{'met' if scores.precision >= TARGET_PRECISION else 'MISSED'}, "
        f"recall >= {TARGET_RECALL} {'met' if scores.recall >= TARGET_RECALL else 'MISSED'}"
    )
    print("merges by rule: " + ", ".join(f"{k} {v:,}" for k, v in _rules(merges).most_common()))
    missed, wrong = breakdown(labels, person)
    total_missed = scores.true_pairs - scores.correct_pairs
    total_wrong = scores.predicted_pairs - scores.correct_pairs
    why = causes(missed, rows, labels)
    print("\n".join(["", *describe_tally("missed pairs, by cause", why, shown, total_missed)]))
    print("\n".join(["", *describe_tally("missed pairs", missed, shown, total_missed)]))
    print("\n".join(["", *describe_tally("wrong pairs", wrong, shown, total_wrong)]))
    counts, examples = wrong_merges(labels, person, merges)
    print(f"\nwrong merges by rule: {sum(counts.values()):,}")
    for rule, n in counts.most_common():
        print(f"  {rule:<12} {n:>6,}")
        for line in examples[rule]:
            print(f"      {line}")


def _rules(merges: list[tuple[str, int, str, str]]) -> Counter[str]:
    return Counter(rule for _, _, rule, _ in merges)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=20_000, help="Inquiries to generate (20,000).")
    parser.add_argument("--dup-rate", type=float, default=0.20, help="Duplicate share (0.20).")
    parser.add_argument("--seed", type=int, default=7, help="Generator seed (7).")
    parser.add_argument("--input", type=Path, help="Use this CSV instead of generating one.")
    parser.add_argument("--labels", type=Path, help="Its labels (default: INPUT.labels.csv).")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--bin", type=Path, default=ROOT / ".venv" / "bin")
    parser.add_argument("--verbose", action="store_true", help="Print the import's summary.")
    parser.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    args = parser.parse_args(argv)
    if args.input is not None and args.labels is None:
        args.labels = generate_identities.labels_path(args.input)
    return args


if __name__ == "__main__":
    sys.exit(main())
