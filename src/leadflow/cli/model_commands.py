"""``leadflow model``: predictive scoring learnt from past outcomes, and form-question value.

Reports go to standard output; progress and messages to standard error.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from leadflow.cli.main import app, err, out
from leadflow.errors import InvalidInput

if TYPE_CHECKING:
    from leadflow.analytics.predict.training import Progress
    from leadflow.services.model_files import DataSpec

model_app = typer.Typer(
    help="Predictive scoring: train on past outcomes, evaluate, score leads, judge form questions.",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")

Target = Annotated[
    str,
    typer.Option(help="The outcome: won, converted, or a column name (values 1/0, yes/no, ...)."),
]
Data = Annotated[
    Path | None,
    typer.Option("--data", metavar="FILE.csv", help="Past leads with their outcome (CSV)."),
]
Exclude = Annotated[
    list[str] | None,
    typer.Option(
        help="Columns not to learn from, comma-separated; * matches any text. Repeatable.",
    ),
]
Missing = Annotated[
    list[str] | None,
    typer.Option(help="Values that mean 'not answered' (e.g. Select), comma-separated."),
]
OrderBy = Annotated[
    str | None,
    typer.Option(help="Column giving the time order (numbers or ISO dates): validate forward."),
]
FileOrder = Annotated[
    bool, typer.Option(help="Rows are in time order, earliest first: validate forward.")
]
Folds = Annotated[int, typer.Option(min=2, max=20, help="Folds for validation.")]
Seed = Annotated[int, typer.Option(help="Seed for the folds and the models.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")]
Format = Annotated[str, typer.Option("--format", help="table (for people) or json.")]


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or [] for v in item.split(",") if v.strip())


def _spec(
    target: str,
    data: Path | None,
    exclude: list[str] | None,
    missing: list[str] | None,
    order_by: str | None,
    file_order: bool,
) -> DataSpec:
    from leadflow.services.model_files import DataSpec

    if data is None:
        raise InvalidInput(
            "the database records no outcomes yet: give past leads with their outcome "
            "as --data FILE.csv",
            where="--data",
        )
    return DataSpec(data, target, _split(exclude), _split(missing), order_by, file_order)


def _progress(quiet: bool) -> tuple[Progress, object]:
    if quiet or not err.is_terminal:
        return (lambda _: None), None
    status = err.status("working")
    status.start()
    return (lambda message: status.update(escape(message))), status


def _stop(status: object) -> None:
    if status is not None:
        status.stop()  # type: ignore[attr-defined]


@model_app.command("train")
def model_train(
    target: Target,
    output: Annotated[Path, typer.Option("--output", "-o", help="The model file to write.")],
    data: Data = None,
    exclude: Exclude = None,
    missing: Missing = None,
    order_by: OrderBy = None,
    file_order: FileOrder = False,
    folds: Folds = 5,
    seed: Seed = 0,
    quiet: Quiet = False,
) -> None:
    """Train a model on past outcomes: choose a candidate on folds, calibrate, write MODEL."""
    from leadflow.analytics.predict.training import TrainOptions
    from leadflow.cli.model_render import print_trained
    from leadflow.cli.render import database_files
    from leadflow.services.model_files import train_file

    spec = _spec(target, data, exclude, missing, order_by, file_order)
    progress, status = _progress(quiet)
    try:
        options = TrainOptions(folds=folds, seed=seed)
        bundle = train_file(spec, output, datetime.now(UTC), options, progress, database_files())
    finally:
        _stop(status)
    if not quiet:
        print_trained(err, bundle, str(output))


@model_app.command("evaluate")
def model_evaluate(
    target: Target,
    data: Data = None,
    exclude: Exclude = None,
    missing: Missing = None,
    order_by: OrderBy = None,
    file_order: FileOrder = False,
    folds: Folds = 5,
    test_fraction: Annotated[
        float, typer.Option(help="With a time order: the latest share of leads held out.")
    ] = 0.25,
    top: Annotated[float, typer.Option(help="Precision among this top share of leads.")] = 0.1,
    seed: Seed = 0,
    fmt: Format = "table",
    quiet: Quiet = False,
) -> None:
    """Judge the model and a plain logistic regression on held-out leads, side by side."""
    from leadflow.cli.model_render import print_evaluation
    from leadflow.services.model_files import evaluate_file

    spec = _spec(target, data, exclude, missing, order_by, file_order)
    progress, status = _progress(quiet)
    try:
        prepared, result = evaluate_file(
            spec,
            folds=folds,
            test_fraction=test_fraction,
            top_fraction=top,
            seed=seed,
            progress=progress,
        )
    finally:
        _stop(status)
    if fmt == "json":
        out.print_json(json.dumps({"target": prepared.target, **asdict(result)}))
    elif fmt == "table":
        print_evaluation(out, prepared, result)
    else:
        raise InvalidInput(f"'{fmt}' is not a format: use table or json", where="--format")


@model_app.command("score")
def model_score(
    input_file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="Leads to score.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="A model file from 'train'.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The scored CSV to write.")],
    factors: Annotated[
        int, typer.Option(min=0, max=20, help="Top factors per lead (0: none).")
    ] = 3,
    quiet: Quiet = False,
) -> None:
    """Add predicted_conversion (0-1), top_factors and model_version to every row."""
    from leadflow.cli.render import database_files
    from leadflow.services.model_files import score_file

    progress, status = _progress(quiet)
    try:
        summary = score_file(
            model, input_file, output, factors=factors, progress=progress, database=database_files()
        )
    finally:
        _stop(status)
    if not quiet:
        err.print(
            f"Scored {summary.rows:,} leads with model {summary.version} "
            f"(mean predicted conversion {summary.mean:.3f}) "
            f"into [bold]{escape(summary.output)}[/]."
            + (f" {summary.blank:,} blank lines skipped." if summary.blank else "")
        )


@model_app.command("questions")
def model_questions(
    target: Target,
    data: Data = None,
    exclude: Exclude = None,
    missing: Missing = None,
    order_by: OrderBy = None,
    file_order: FileOrder = False,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Folds for validation.")] = 4,
    min_gain: Annotated[
        float, typer.Option(help="AUC a question must add to earn its place.")
    ] = 0.002,
    seed: Seed = 0,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    quiet: Quiet = False,
) -> None:
    """Each form question: how often it is answered, what it adds to predicting the outcome."""
    from leadflow.cli.model_render import print_questions
    from leadflow.services.model_files import questions_file

    if fmt not in ("table", "csv", "json"):
        raise InvalidInput(f"'{fmt}' is not a format: use table, csv or json", where="--format")
    spec = _spec(target, data, exclude, missing, order_by, file_order)
    progress, status = _progress(quiet)
    try:
        report = questions_file(spec, folds=folds, seed=seed, min_gain=min_gain, progress=progress)
    finally:
        _stop(status)
    print_questions(out, report, fmt)


@model_app.command("show")
def model_show(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="A model file.")],
) -> None:
    """Print a model file's header (version, target, features, validation) as JSON."""
    from leadflow.services.model_files import describe_model

    out.print_json(json.dumps(describe_model(model)))
