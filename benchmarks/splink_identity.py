"""Splink (DuckDB) on the labelled identities that ``eval_identity.py`` scores leadflow on.

Splink is not a dependency of leadflow: it runs in a virtual environment of
its own, under ``benchmarks/out/`` (which git ignores), created once::

    python3 -m venv benchmarks/out/.venv-splink
    benchmarks/out/.venv-splink/bin/pip install splink     # 5.0.0 with duckdb 2.0.0 here
    benchmarks/out/.venv-splink/bin/python benchmarks/splink_identity.py \\
        benchmarks/out/identities-100000-seed7.csv

(``eval_identity.py --rows 100000 --seed 7`` writes that CSV and its labels.)
Only the standard library, duckdb and splink are imported; the scores come
from ``identity_metrics.py``, the same code that scores leadflow.

The model, as Splink's documentation recommends for deduplication:

- Cleaning in DuckDB SQL: names, email and company lower-cased and trimmed;
  the phone as its last 9 digits (so "+44 (0)20 ...", "0044 20 ..." and
  "020 ..." agree); the company without punctuation and without a common
  legal form at the end (inc, incorporated, llc, ltd, limited, corp,
  corporation, co, company, plc, llp, gmbh, ag, kg, sa, sas, sarl, bv, nv,
  pty); blanks as NULL.
- Comparisons: ``ExactMatch(id)``, ``EmailComparison(email)`` (with term
  frequency adjustments, so an address many records share weighs less),
  ``ExactMatch(phone)``, ``NameComparison`` of first and of last name
  (Jaro-Winkler 0.92/0.88/0.7, term-frequency adjusted exact match),
  ``JaroWinklerAtThresholds(company, [0.92, 0.8])``.
- Blocking for predictions: same email, same phone, same id, same company and
  last name, same company and first name, same last name and first letter of
  the first name.
- Training: the probability that two records match from deterministic rules
  (same email, same phone; recall 0.7), u by random sampling (1e7 pairs,
  seeded), m by expectation maximisation in two sessions (blocked on company,
  then on email), each leaving its blocking columns untrained.
- ``--drop-role-emails`` blanks role addresses (info@, sales@, contact@...,
  the first part of the address being one of :data:`ROLES`) in the cleaning:
  a variant for comparison, not the default, since it is leadflow's idea.
- Decision: clusters of pairs with match probability at least 0.9 (the
  threshold chosen before looking at the labels); the figures at other
  thresholds are printed for context.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from identity_metrics import (
    breakdown,
    describe_tally,
    pairwise,
    read_labels,
    read_rows,
    record_lines,
)

ROLES = "info sales contact office hello enquiries support admin team marketing"
THRESHOLD = 0.9
SWEEP = (0.5, 0.8, 0.95, 0.99)
LEGAL_FORMS = (
    "inc incorporated llc ltd limited corp corporation co company plc llp gmbh ag kg sa sas "
    "sarl bv nv pty"
)

CLEAN = """
CREATE TABLE clean AS
WITH raw AS (SELECT * FROM read_csv('{path}', all_varchar = true, header = true)),
c AS (
  SELECT record_ref,
    NULLIF(TRIM(id), '') AS id,
    NULLIF(LOWER(TRIM(first_name)), '') AS first_name,
    NULLIF(LOWER(TRIM(last_name)), '') AS last_name,
    NULLIF(LOWER(TRIM(email)), '') AS email,
    REGEXP_REPLACE(REGEXP_REPLACE(COALESCE(phone, ''), '\\s*(x|ext\\.?)\\s*\\d+$', ''),
                   '[^0-9]', '', 'g') AS digits,
    TRIM(REGEXP_REPLACE(REGEXP_REPLACE(LOWER(COALESCE(company, '')), '&', ' and ', 'g'),
                        '[^a-z0-9 ]', '', 'g')) AS company0
  FROM raw
)
SELECT record_ref, id, first_name, last_name,
  CASE WHEN {drop_roles} AND SPLIT_PART(email, '@', 1) IN ({roles}) THEN NULL ELSE email END
    AS email,
  CASE WHEN LENGTH(digits) >= 9 THEN RIGHT(digits, 9) END AS phone,
  NULLIF(TRIM(REGEXP_REPLACE(company0, '(\\s+({forms}))+$', '')), '') AS company
FROM c
"""


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_ref",
        comparisons=[
            cl.ExactMatch("id"),
            cl.EmailComparison("email").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            cl.JaroWinklerAtThresholds("company", [0.92, 0.8]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("id"),
            block_on("company", "last_name"),
            block_on("company", "first_name"),
            block_on("last_name", "substr(first_name, 1, 1)"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def train(linker: Linker) -> None:
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.7
    )
    training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("company"))
    training.estimate_parameters_using_expectation_maximisation(block_on("email"))


def clusters(linker: Linker, df_predict, threshold: float) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = linker.clustering.cluster_pairwise_predictions_at_threshold(
        df_predict, threshold_match_probability=threshold
    )
    return {row["record_ref"]: row["cluster_id"] for row in found.as_record_list()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("input", type=Path, help="The CSV of generate_identities.py.")
    parser.add_argument("--labels", type=Path, help="Its labels (default: INPUT.labels.csv).")
    parser.add_argument(
        "--drop-role-emails",
        action="store_true",
        help="Blank role addresses (info@, sales@...) before Splink sees them.",
    )
    args = parser.parse_args(argv)
    labels_path = args.labels or args.input.with_name(
        args.input.name.removesuffix(".csv") + ".labels.csv"
    )
    labels = read_labels(labels_path)
    truth = {ref: label.person for ref, label in labels.items()}

    started = time.perf_counter()
    db_api = DuckDBAPI()
    roles = ", ".join(f"'{r}'" for r in ROLES.split())
    forms = "|".join(LEGAL_FORMS.split())
    sql = CLEAN.format(path=args.input, forms=forms, roles=roles, drop_roles=args.drop_role_emails)
    db_api.duckdb_con.execute(sql)
    linker = Linker(db_api.register("clean"), settings(), log_level="WARNING")
    train(linker)
    trained = time.perf_counter()
    df_predict = linker.inference.predict(threshold_match_probability=min(SWEEP))
    found = clusters(linker, df_predict, THRESHOLD)
    done = time.perf_counter()

    scores = pairwise(truth, found)
    print(f"Splink on {len(labels):,} records: {done - started:.1f} s in all")
    print(f"  cleaning + training {trained - started:.1f} s, then {done - trained:.1f} s")
    print(f"threshold {THRESHOLD}: {scores.line()}")
    for threshold in SWEEP:
        other = pairwise(truth, clusters(linker, df_predict, threshold))
        print(f"threshold {threshold}: {other.line()}")
    shown = record_lines(read_rows(args.input), labels)
    missed, wrong = breakdown(labels, found)
    total_missed = scores.true_pairs - scores.correct_pairs
    total_wrong = scores.predicted_pairs - scores.correct_pairs
    print("\n".join(["", *describe_tally("missed pairs", missed, shown, total_missed, 1)]))
    print("\n".join(["", *describe_tally("wrong pairs", wrong, shown, total_wrong, 2)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
