"""Pairwise precision and recall of a clustering against labels, and where it went wrong.

Standard library only, so the Splink script (in its own virtual environment)
scores its clusters with the very same code as ``eval_identity.py``.

A *pair* is two records. True pairs are pairs of the same person; predicted
pairs are pairs put in the same cluster. Counts come from cluster sizes
(n*(n-1)/2 per cluster, and per cell of the truth x prediction table), so
no pair is ever enumerated for the figures; only the breakdown enumerates
the missed and wrong pairs, which are few when the matcher is good.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


def pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        return (
            f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}  "
            f"(true pairs {self.true_pairs:,}, predicted {self.predicted_pairs:,}, "
            f"correct {self.correct_pairs:,})"
        )


def clusters_of(truth: Mapping[str, Hashable], predicted: Mapping[str, Hashable]) -> dict:
    """The predicted cluster of every labelled record; a record left out is alone."""
    return {ref: predicted.get(ref, ("alone", ref)) for ref in truth}


def pairwise(truth: Mapping[str, Hashable], predicted: Mapping[str, Hashable]) -> PairScores:
    """Score ``predicted`` (record -> cluster) against ``truth`` (record -> person)."""
    cluster = clusters_of(truth, predicted)
    true_pairs = sum(pairs(n) for n in Counter(truth.values()).values())
    predicted_pairs = sum(pairs(n) for n in Counter(cluster.values()).values())
    cells = Counter((truth[ref], cluster[ref]) for ref in truth)
    return PairScores(true_pairs, predicted_pairs, sum(pairs(n) for n in cells.values()))


@dataclass(frozen=True)
class Label:
    person: str
    link: str
    variations: frozenset[str]


def read_labels(path: Path) -> dict[str, Label]:
    with path.open(newline="", encoding="utf-8") as file:
        return {
            row["record_ref"]: Label(
                row["person"], row["link"], frozenset(filter(None, row["variations"].split("+")))
            )
            for row in csv.DictReader(file)
        }


def read_rows(csv_path: Path) -> dict[str, dict[str, str]]:
    """The generated inquiries by ``record_ref``."""
    with csv_path.open(newline="", encoding="utf-8") as file:
        return {row["record_ref"]: row for row in csv.DictReader(file)}


def record_lines(rows: Mapping[str, dict[str, str]], labels: Mapping[str, Label]) -> dict[str, str]:
    """A short line per record for the examples."""
    shown: dict[str, str] = {}
    for ref, row in rows.items():
        label = labels[ref]
        fields = [f"{row['first_name']!r} {row['last_name']!r}"]
        fields += [row[k] or "-" for k in ("email", "phone", "company")]
        fields.append(f"id={row['id'] or '-'}")
        shown[ref] = f"{ref} {label.person} {label.link:<11} | " + " | ".join(fields)
    return shown


@dataclass
class Tally:
    """Pairs counted under each kind, with a few examples of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    pairs: list[tuple[str, str]] = field(default_factory=list)  # one per add

    def add(self, kinds: Iterable[str], a: str, b: str, n: int = 1, keep: int = 3) -> None:
        self.pairs.append((a, b))
        for kind in kinds:
            self.counts[kind] += n
            if len(self.examples[kind]) < keep:
                self.examples[kind].append((a, b))


def pair_kinds(a: Label, b: Label) -> list[str]:
    """A pair's kinds: the links of its two records, and each variation of either."""
    links = "link " + "+".join(sorted({a.link, b.link}))
    return [links, *sorted(a.variations | b.variations)]


def breakdown(
    labels: Mapping[str, Label], predicted: Mapping[str, Hashable]
) -> tuple[Tally, Tally]:
    """Missed pairs (same person, apart) and wrong pairs (different people, together)."""
    cluster = clusters_of(labels, predicted)
    missed, wrong = Tally(), Tally()
    by_person: dict[str, list[str]] = defaultdict(list)
    by_cluster: dict[Hashable, list[str]] = defaultdict(list)
    for ref, label in labels.items():
        by_person[label.person].append(ref)
        by_cluster[cluster[ref]].append(ref)
    for refs in by_person.values():
        for a, b in itertools.combinations(refs, 2):
            if cluster[a] != cluster[b]:
                missed.add(pair_kinds(labels[a], labels[b]), a, b)
    for refs in by_cluster.values():
        groups: dict[str, list[str]] = defaultdict(list)
        for ref in refs:
            groups[labels[ref].person].append(ref)
        for x, y in itertools.combinations(groups.values(), 2):
            # One example pair per two people; every pair counted.
            wrong.add(pair_kinds(labels[x[0]], labels[y[0]]), x[0], y[0], len(x) * len(y))
    return missed, wrong


def describe_tally(
    title: str, tally: Tally, show: Mapping[str, str], total: int, examples: int = 2
) -> list[str]:
    """Lines for a report: each kind's count and share of ``total``, with examples."""
    lines = [f"{title}: {total:,}"]
    for kind, n in tally.counts.most_common():
        lines.append(f"  {kind:<28} {n:>8,}  ({n / max(total, 1):.1%})")
        for a, b in tally.examples[kind][:examples]:
            lines.append(f"      {show.get(a, a)}")
            lines.append(f"    ~ {show.get(b, b)}")
    return lines
