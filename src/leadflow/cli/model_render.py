"""How ``leadflow model`` shows a trained model, an evaluation and the form-question report."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leadflow.analytics.predict.bundle import Bundle
from leadflow.analytics.predict.data import Prepared
from leadflow.analytics.predict.evaluation import Evaluation, mean_sd
from leadflow.analytics.predict.questions import NOTHING, QuestionReport


def _f(value: float, digits: int = 3) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def print_trained(console: Console, bundle: Bundle, path: str) -> None:
    h = bundle.header
    cv = ", ".join(f"{name} {auc:.3f}" for name, auc in h["cv_auc"].items())
    console.print(
        f"Trained [bold]{escape(h['model'])}[/] on {h['rows']:,} leads "
        f"(target {escape(h['target'])}, {h['positive_rate']:.1%} positive), "
        f"{len(h['features'])} features; calibration {h['calibration']}."
    )
    console.print(f"Validation AUC on {escape(h['validation'])}: {cv}.")
    if h["dropped"]:
        names = ", ".join(f"{d['name']} ({d['reason']})" for d in h["dropped"])
        console.print(f"[dim]Not used: {escape(names)}[/]")
    console.print(f"Wrote model [bold]{bundle.version}[/] to [bold]{escape(path)}[/].")


def print_evaluation(console: Console, prepared: Prepared, result: Evaluation) -> None:
    model, base = result.model, result.baseline
    chosen = ", ".join(sorted(set(result.chosen)))
    console.print(
        f"[bold]Evaluation[/] of target {escape(prepared.target)} on {result.rows:,} leads "
        f"({model.scores.base_rate:.1%} positive), {len(prepared.features)} features"
    )
    console.print(f"Split: {escape(result.split)}")
    console.print(f"Held-out leads: {result.held_out:,}. Model chosen: {escape(chosen)}.\n")
    table = Table(show_edge=False)
    table.add_column("figure")
    table.add_column("model", justify="right")
    table.add_column("baseline (one-hot logistic)", justify="right")
    table.add_row("ROC AUC", _f(model.scores.auc), _f(base.scores.auc))
    if len(model.fold_auc) > 1:
        m, s = mean_sd(model.fold_auc)
        b, t = mean_sd(base.fold_auc)
        table.add_row("ROC AUC per fold", f"{m:.3f} ± {s:.3f}", f"{b:.3f} ± {t:.3f}")
    table.add_row("calibration error (ECE)", _f(model.scores.ece), _f(base.scores.ece))
    table.add_row("Brier score", _f(model.scores.brier), _f(base.scores.brier))
    top = f"precision, top {model.scores.top_fraction:.0%}"
    table.add_row(top, _f(model.scores.precision_top), _f(base.scores.precision_top))
    console.print(table)
    deciles = Table(title="Lift by decile (1 = highest predictions)", show_edge=False)
    for name in ("decile", "leads", "model rate", "model lift", "baseline rate", "baseline lift"):
        deciles.add_column(name, justify="right")
    for d, e in zip(model.scores.deciles, base.scores.deciles, strict=True):
        deciles.add_row(
            str(d.decile),
            f"{d.leads:,}",
            f"{d.rate:.1%}",
            f"{d.lift:.2f}",
            f"{e.rate:.1%}",
            f"{e.lift:.2f}",
        )
    console.print()
    console.print(deciles)


def print_questions(console: Console, report: QuestionReport, fmt: str) -> None:
    columns = ["question", "filled", "auc_loss", "loss_sd", "verdict", "note"]
    rows: list[list[object]] = [
        [q.name, round(q.filled, 4), _r(q.auc_loss), _r(q.loss_sd), q.verdict, q.note]
        for q in report.questions
    ]
    if fmt == "json":
        console.print_json(json.dumps({**asdict(report), "add_nothing": report.add_nothing}))
        return
    if fmt == "csv":
        from leadflow.cli.store_commands import _emit

        _emit(columns, rows, "csv")
        return
    console.print(
        f"[bold]Form questions[/]: {escape(report.model)} validated on {report.validation}, "
        f"ROC AUC {report.auc:.3f} with every question. A question adds if leaving it out "
        f"costs at least {report.min_gain:.3f} AUC."
    )
    table = Table(show_edge=False)
    for name in ("question", "filled", "AUC lost without it", "verdict"):
        table.add_column(name, justify="left" if name in ("question", "verdict") else "right")
    for q in report.questions:
        loss = "-" if q.auc_loss is None else f"{q.auc_loss:+.4f} ± {q.loss_sd or 0:.4f}"
        verdict = q.verdict + (f": {q.note}" if q.note else "")
        style = "yellow" if q.verdict == NOTHING else ""
        table.add_row(
            escape(q.name),
            f"{q.filled:.0%}",
            loss,
            f"[{style}]{escape(verdict)}[/]" if style else escape(verdict),
        )
    console.print(table)
    if report.add_nothing:
        console.print(
            "\nThese questions cost form completions and add nothing to predicting the "
            f"outcome: [bold]{escape(', '.join(report.add_nothing))}[/]."
        )
        if report.auc_without_named is not None:
            change = report.auc_without_named - report.auc
            console.print(
                f"Without all of them together: ROC AUC {report.auc_without_named:.3f} "
                f"({change:+.4f})."
            )
    else:
        console.print("\nEvery question adds to predicting the outcome.")


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
