"""Use cases of predictive scoring on CSV files: train, evaluate, score, judge form questions.

The database holds no outcomes yet, so the training data is a CSV file of past leads
with their outcome (``--data``). CSV files are read with every value as text and the
delimiter sniffed (comma, semicolon, tab or pipe); the placeholder values named with
``missing`` (``Select``, a dropdown nobody touched) are read as not answered. A file to
score is read as ``leadflow rate`` reads it (blank lines skipped) and written as it does:
its values as read, with the model's columns added.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import sklearn

from leadflow import __version__
from leadflow.adapters.csv_files import (
    csv_error,
    read_text_csv,
    sniff_delimiter,
    without_blank_rows,
    write_header,
)
from leadflow.adapters.files import check_writable, replacing
from leadflow.adapters.model_file import read_model, write_model
from leadflow.analytics.predict.bundle import Bundle, make_header
from leadflow.analytics.predict.data import (
    Prepared,
    blank_placeholders,
    check_columns,
    encode,
    fill_rates,
    prepare,
)
from leadflow.analytics.predict.evaluation import Evaluation, evaluate
from leadflow.analytics.predict.factors import contributions, describe
from leadflow.analytics.predict.questions import QuestionReport, question_values
from leadflow.analytics.predict.training import Progress, TrainOptions, _quiet, train
from leadflow.errors import InvalidInput

PREDICTION = "predicted_conversion"
FACTORS = "top_factors"
VERSION = "model_version"
CHUNK = 50_000  # rows scored at a time, to bound memory when explaining


@dataclass(frozen=True)
class DataSpec:
    """Which file, which outcome, which columns and which order."""

    path: Path
    target: str
    exclude: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    order_by: str | None = None
    file_order: bool = False

    @property
    def order(self) -> str | None:
        return self.order_by if self.order_by else ("file order" if self.file_order else None)


@dataclass(frozen=True)
class ScoreSummary:
    rows: int
    version: str
    mean: float
    output: str
    blank: int = 0  # blank lines skipped


def load(spec: DataSpec) -> Prepared:
    if spec.order_by and spec.file_order:
        raise InvalidInput("give either --order-by or --file-order, not both")
    frame = blank_placeholders(read_text_csv(spec.path), spec.missing)
    return prepare(
        frame,
        spec.target,
        exclude=spec.exclude,
        order_by=spec.order_by,
        file_order=spec.file_order,
        source=str(spec.path),
    )


def train_file(
    spec: DataSpec,
    output: Path,
    now: datetime,
    options: TrainOptions | None = None,
    progress: Progress = _quiet,
    database: Collection[Path] = (),
) -> Bundle:
    """Train on every labelled row of the file and write the model file (never over
    ``database``: refused before the training, as anything ``output`` cannot be)."""
    check_writable(output, database)
    prepared = load(spec)
    fitted = train(
        prepared.features,
        prepared.matrix(),
        prepared.y,
        ordered=prepared.ordered,
        options=options,
        progress=progress,
    )
    header = make_header(
        prepared,
        fitted,
        missing=spec.missing,
        order=spec.order,
        trained_at=now,
        versions={"leadflow": __version__, "scikit-learn": sklearn.__version__},
    )
    bundle = Bundle(fitted, {**header, "excluded": list(spec.exclude)})
    write_model(bundle, output, database)
    return bundle


def evaluate_file(
    spec: DataSpec,
    *,
    folds: int = 5,
    test_fraction: float = 0.25,
    top_fraction: float = 0.1,
    seed: int = 0,
    progress: Progress = _quiet,
) -> tuple[Prepared, Evaluation]:
    if not 0 < test_fraction < 1:
        raise InvalidInput("must be between 0 and 1 (e.g. 0.25)", where="--test-fraction")
    if not 0 < top_fraction <= 1:
        raise InvalidInput("must be between 0 and 1 (e.g. 0.1)", where="--top")
    prepared = load(spec)
    result = evaluate(
        prepared,
        folds=folds,
        test_fraction=test_fraction,
        top_fraction=top_fraction,
        seed=seed,
        progress=progress,
    )
    return prepared, result


def questions_file(
    spec: DataSpec,
    *,
    folds: int = 4,
    seed: int = 0,
    min_gain: float = 0.002,
    progress: Progress = _quiet,
) -> QuestionReport:
    """Fill rate and added value of every column of the lead form."""
    prepared = load(spec)
    filled = fill_rates(prepared.frame, [prepared.target])
    return question_values(
        prepared, filled, folds=folds, seed=seed, min_gain=min_gain, progress=progress
    )


def score_file(
    model: Path,
    input_file: Path,
    output: Path,
    *,
    factors: int = 3,
    column: str = PREDICTION,
    version: str | None = None,
    progress: Progress = _quiet,
    database: Collection[Path] = (),
) -> ScoreSummary:
    """Add ``predicted_conversion`` (and ``top_factors``, ``model_version``) to every row.

    ``column`` names the prediction's column; ``version``, when given, refuses a model
    file of another version. ``output`` is never written over ``database``.
    """
    check_writable(output, database)
    bundle = read_model(model)
    if version is not None and bundle.version != version:
        raise InvalidInput(
            f"the model file has version {bundle.version}, the playbook names {version}",
            where=str(model),
        )
    frame, blank = without_blank_rows(read_text_csv(input_file))
    check_columns(frame.columns, bundle.features, str(input_file))
    names = [f.name for f in bundle.features]
    clean = blank_placeholders(frame.select(names), bundle.placeholders)
    predicted = np.zeros(frame.height)
    explained: list[str] = []
    for start in range(0, frame.height, CHUNK):
        progress(f"scoring rows {start + 1}-{min(start + CHUNK, frame.height)}")
        part = clean.slice(start, CHUNK)
        x = encode(part, bundle.features)
        p = bundle.fitted.predict(x)
        predicted[start : start + len(p)] = p
        if factors > 0:
            effects = contributions(bundle.fitted, x, p)
            explained.extend(describe(part, bundle.fitted, effects, factors))
    added = [pl.Series(column, np.round(predicted, 4))]
    if factors > 0:
        added.append(pl.Series(FACTORS, explained, dtype=pl.String))
    added.append(pl.Series(VERSION, [bundle.version] * frame.height, dtype=pl.String))
    result = frame.drop([s.name for s in added], strict=False).with_columns(added)
    _write(result, output, sniff_delimiter(input_file), database)
    mean = float(predicted.mean()) if frame.height else 0.0
    return ScoreSummary(frame.height, bundle.version, mean, str(output), blank)


def _write(frame: pl.DataFrame, output: Path, delimiter: str, database: Collection[Path]) -> None:
    try:
        with replacing(output, database) as handle:  # the header as written, names repeated
            write_header(handle, frame.columns, delimiter)
            frame.write_csv(handle, separator=delimiter, include_header=False)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise csv_error(error, output, locate=False) from None


def describe_model(model: Path) -> dict[str, object]:
    """The model file's header, checked (the model itself is not unpickled)."""
    from leadflow.adapters.model_file import read_header

    header, _ = read_header(model)
    return header
