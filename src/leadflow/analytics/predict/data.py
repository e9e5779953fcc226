"""A table of leads made ready for a model: target, time order, typed and encoded features.

The input is a Polars frame of text (as :func:`leadflow.adapters.csv_files.read_text_csv`
reads a file). Everything here is pure: no files, no clock.

- **Missing**: blank cells, and the placeholder values the caller names (a form's
  untouched dropdown, ``Select``), are *not answered*.
- **Target**: ``won``, ``converted`` or a column name; values such as 1/0, yes/no,
  true/false, won/lost. Rows with a blank target (an outcome not known yet) are left out.
- **Features**: every other column, less the excluded ones, the order column and
  columns that cannot help: never filled, the same answer for everyone, or an
  identifier (every value different). Numbers stay numbers; anything else is a
  category whose answers given by fewer than ``min_count`` leads pool as *other*.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from leadflow.domain.values import column_key
from leadflow.errors import InvalidInput

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int8]

POSITIVE = frozenset({"1", "1.0", "true", "t", "yes", "y", "won", "converted", "win"})
NEGATIVE = frozenset({"0", "0.0", "false", "f", "no", "n", "lost", "not converted", "loss"})
TARGET_ALIASES = {
    "won": ("won", "is_won", "outcome"),
    "converted": ("converted", "is_converted", "conversion"),
}
MAX_CATEGORIES = 250  # gradient boosting takes at most 255 categories per feature
ROW_OFFSET = 2  # a frame's row 0 is line 2 of its file, after the header


@dataclass(frozen=True)
class Feature:
    """One input column as the model sees it."""

    name: str
    kind: Literal["number", "category"]
    categories: tuple[str, ...] = ()  # known answers, most frequent first; the rest are "other"


@dataclass(frozen=True)
class Dropped:
    """A column the model does not use, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Prepared:
    """Leads with a known outcome, earliest first when the order is known."""

    frame: pl.DataFrame  # the labelled rows, text, placeholders as null
    target: str
    y: Labels
    ordered: bool
    features: tuple[Feature, ...]
    dropped: tuple[Dropped, ...]
    unlabelled: int  # rows left out because their outcome is blank

    def matrix(self) -> Matrix:
        return encode(self.frame, self.features)


def blank_placeholders(frame: pl.DataFrame, placeholders: Sequence[str]) -> pl.DataFrame:
    """Strip every value; blanks and the placeholder values (exact, after stripping) become null."""
    missing = ["", *placeholders]
    return frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(missing))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in frame.columns
    )


def resolve_column(columns: Sequence[str], name: str, what: str) -> str:
    """The column called ``name``: exactly, then ignoring case, spaces and punctuation."""
    if name in columns:
        return name
    by_key = {column_key(c): c for c in reversed(columns)}
    aliases = TARGET_ALIASES.get(name.lower(), ()) if what == "--target" else ()
    for candidate in (name, *aliases):
        if column_key(candidate) in by_key:
            return by_key[column_key(candidate)]
    shown = ", ".join(columns[:40]) + (" ..." if len(columns) > 40 else "")
    raise InvalidInput(f"no column '{name}' in the file (its columns: {shown})", where=what)


def expand_columns(columns: Sequence[str], names: Sequence[str], what: str) -> list[str]:
    """Columns named in a list, where ``*`` in a name matches any text (``Asymmetrique*``)."""
    found: list[str] = []
    for name in names:
        if "*" in name:
            matched = [c for c in columns if fnmatch.fnmatchcase(c.lower(), name.lower())]
            if not matched:
                raise InvalidInput(f"'{name}' matches no column of the file", where=what)
            found.extend(matched)
        else:
            found.append(resolve_column(columns, name, what))
    return list(dict.fromkeys(found))


def target_labels(values: pl.Series, where: str) -> tuple[Labels, npt.NDArray[np.bool_]]:
    """0/1 per row and which rows have an outcome; an unknown value is an error at its line."""
    text = values.str.to_lowercase()
    known = text.is_not_null().to_numpy()
    good = text.is_in(list(POSITIVE | NEGATIVE)) | text.is_null()
    if not good.all():
        row = int(good.arg_min() or 0)
        raise InvalidInput(
            f"line {row + ROW_OFFSET}: target '{values[row]}' is not an outcome "
            "(use 1/0, yes/no, true/false or won/lost; leave it blank when not known)",
            where=where,
        )
    labels = text.is_in(list(POSITIVE)).fill_null(False).to_numpy().astype(np.int8)
    return labels, known


def order_key(values: pl.Series, where: str) -> pl.Series:
    """A sortable key from numbers or ISO 8601 dates; a blank or other value is an error."""
    numbers = values.cast(pl.Float64, strict=False)
    if numbers.null_count() == 0:
        return numbers
    dates = values.str.to_datetime(strict=False, time_zone="UTC")
    bad = dates.is_null()
    if bad.any():
        row = int(bad.arg_max() or 0)
        shown = "blank" if values[row] is None else f"'{values[row]}'"
        raise InvalidInput(
            f"line {row + ROW_OFFSET}: {shown} is not a number or an ISO 8601 date", where=where
        )
    return dates


def plan_features(
    frame: pl.DataFrame, skip: Sequence[str], min_count: int = 10
) -> tuple[tuple[Feature, ...], tuple[Dropped, ...]]:
    """Which columns become features, typed, and which are dropped with the reason."""
    features: list[Feature] = []
    dropped: list[Dropped] = []
    for name in frame.columns:
        if name in skip:
            continue
        column = frame[name].drop_nulls()
        feature, reason = _type_column(name, column, frame.height - column.len(), min_count)
        if feature is not None:
            features.append(feature)
        else:
            dropped.append(Dropped(name, reason))
    return tuple(features), tuple(dropped)


def _type_column(
    name: str, column: pl.Series, blank: int, min_count: int
) -> tuple[Feature | None, str]:
    filled = column.len()
    if filled == 0:
        return None, "never filled"
    distinct = column.n_unique()
    if distinct == 1 and blank < min_count:
        return None, f"every lead gives the same answer ('{column[0]}')"
    numbers = column.cast(pl.Float64, strict=False)
    if numbers.null_count() == 0:
        whole = bool((numbers == numbers.round(0)).all())
        if whole and distinct == filled and filled >= 20:
            return None, "an identifier (every value is a different whole number)"
        return Feature(name, "number"), ""
    if distinct > max(50, filled // 2):
        return None, f"an identifier or free text ({distinct} different values)"
    counts = column.value_counts(sort=True, name="n")
    common = counts.filter(pl.col("n") >= min_count)[name].to_list()[:MAX_CATEGORIES]
    if not common:
        return None, f"no answer is given by {min_count} or more leads"
    others = filled - int(counts["n"][0])
    if len(common) == 1 and others < min_count and blank < min_count:
        return None, f"almost every lead gives the same answer ('{common[0]}'; {others} other)"
    return Feature(name, "category", tuple(str(v) for v in common)), ""


def encode(frame: pl.DataFrame, features: Sequence[Feature]) -> Matrix:
    """One float column per feature: numbers as written, categories as codes; NaN = not answered.

    A category's code is its index in ``Feature.categories``; any other answer gets the next
    code ("other"). A number that does not parse is read as not answered.
    """
    columns: list[pl.Expr] = []
    for f in features:
        if f.kind == "number":
            columns.append(pl.col(f.name).cast(pl.Float64, strict=False))
        else:
            codes = {v: float(i) for i, v in enumerate(f.categories)}
            columns.append(
                pl.when(pl.col(f.name).is_null())
                .then(None)
                .otherwise(
                    pl.col(f.name).replace_strict(
                        codes, default=float(len(f.categories)), return_dtype=pl.Float64
                    )
                )
                .alias(f.name)
            )
    if not columns:
        return np.empty((frame.height, 0), dtype=np.float64)
    out = frame.select(columns).to_numpy().astype(np.float64)
    return np.asarray(out, dtype=np.float64)


def prepare(
    frame: pl.DataFrame,
    target: str,
    *,
    exclude: Sequence[str] = (),
    order_by: str | None = None,
    file_order: bool = False,
    source: str = "the file",
) -> Prepared:
    """Pick the target and the order, keep the rows with an outcome, plan the features."""
    columns = frame.columns
    target_column = resolve_column(columns, target, "--target")
    excluded = expand_columns(columns, exclude, "--exclude")
    skip = [target_column, *excluded]
    labels, known = target_labels(frame[target_column], f"{source}: column '{target_column}'")
    if order_by is not None:
        order_column = resolve_column(columns, order_by, "--order-by")
        key = order_key(frame[order_column], f"{source}: column '{order_column}'")
        order = np.argsort(key.to_physical().to_numpy(), kind="stable")
        frame, labels, known = frame[order], labels[order], known[order]
        skip.append(order_column)
    labelled = frame.filter(pl.Series(known))
    y = labels[known]
    positives = int(y.sum())
    if positives < 2 or len(y) - positives < 2:
        raise InvalidInput(
            f"the target '{target_column}' needs at least 2 leads of each outcome; "
            f"it has {positives} positive and {len(y) - positives} negative",
            where=source,
        )
    features, dropped = plan_features(labelled, skip)
    if not features:
        raise InvalidInput("no column is left to learn from", where=source)
    return Prepared(
        frame=labelled,
        target=target_column,
        y=y,
        ordered=order_by is not None or file_order,
        features=features,
        dropped=dropped,
        unlabelled=frame.height - labelled.height,
    )


def fill_rates(frame: pl.DataFrame, skip: Sequence[str]) -> dict[str, float]:
    """The share of rows in which each column is answered (not blank, not a placeholder)."""
    rows = max(frame.height, 1)
    return {c: 1 - frame[c].null_count() / rows for c in frame.columns if c not in skip}


def check_columns(columns: Sequence[str], features: Sequence[Feature], where: str) -> None:
    """Refuse a file that lacks a column the model was trained on."""
    missing = [f.name for f in features if f.name not in columns]
    if missing:
        raise InvalidInput(
            f"the model needs the column(s) {', '.join(repr(m) for m in missing)}, "
            "which the file does not have (columns are matched by exact name)",
            where=where,
        )
