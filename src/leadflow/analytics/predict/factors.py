"""The top factors behind each lead's prediction.

Method (the same for every kind of model): for each question the lead answered, predict
again as if that question had been left blank, and take the difference. ``+0.12`` means
the answer raised this lead's predicted conversion by 12 points compared with not
answering; ``-0.08`` that it lowered it. Questions the lead left blank have no factor.
It costs one extra prediction per feature, and it says what the model does, not why
the world is so: answers that travel together (a source and an origin) share credit
unevenly.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from leadflow.analytics.predict.data import Matrix
from leadflow.analytics.predict.training import Fitted

MIN_EFFECT = 0.005  # smaller differences are not worth naming


def contributions(fitted: Fitted, x: Matrix, base: Matrix | None = None) -> Matrix:
    """Per lead and feature: prediction minus the prediction with that feature blank."""
    predicted = fitted.predict(x) if base is None else base
    out = np.zeros_like(x)
    for j in range(x.shape[1]):
        answered = ~np.isnan(x[:, j])
        if not answered.any():
            continue
        blanked = x[answered].copy()
        blanked[:, j] = np.nan
        out[answered, j] = predicted[answered] - fitted.predict(blanked)
    return out


def describe(frame: pl.DataFrame, fitted: Fitted, effects: Matrix, top: int = 3) -> list[str]:
    """``Name=answer +0.12; ...``: each lead's largest effects, biggest first."""
    names = [f.name for f in fitted.features]
    values = [frame[name].to_list() for name in names]
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :top]
    out: list[str] = []
    for row in range(effects.shape[0]):
        parts = []
        for j in order[row]:
            effect = float(effects[row, j])
            if abs(effect) < MIN_EFFECT:
                break
            parts.append(f"{names[j]}={values[j][row]} {effect:+.2f}")
        out.append("; ".join(parts))
    return out
