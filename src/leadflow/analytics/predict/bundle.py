"""A trained model with what it needs to be used and trusted later: the model file's content.

The header is plain JSON (readable with any tool): target, features with their known
answers, placeholders read as missing, how the model was chosen and validated, when it
was trained, with which versions. The version is the first 12 hex digits of the SHA-256
of the fitted model's bytes, so two different models never share it; it is the version
recorded beside every prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from leadflow.analytics.predict.data import Dropped, Feature, Prepared, encode
from leadflow.analytics.predict.training import Fitted

FORMAT = 1


@dataclass
class Bundle:
    """A fitted model and its header; ``version`` is set when the model file is written."""

    fitted: Fitted
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.header.get("version", ""))

    @property
    def features(self) -> tuple[Feature, ...]:
        return self.fitted.features

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(self.header.get("missing", ()))


def make_header(
    prepared: Prepared,
    fitted: Fitted,
    *,
    missing: Sequence[str],
    order: str | None,
    trained_at: datetime,
    versions: dict[str, str],
) -> dict[str, Any]:
    """Everything about a trained model but its bytes (the version is added on writing)."""
    train_p = fitted.predict(encode(prepared.frame, fitted.features))
    return {
        "format": FORMAT,
        "target": prepared.target,
        "model": fitted.name,
        "calibration": fitted.calibration.method,
        "validation": fitted.validation,
        "cv_auc": {name: round(float(np.mean(v)), 4) for name, v in fitted.fold_auc.items()},
        "rows": len(prepared.y),
        "positive_rate": round(float(prepared.y.mean()), 4),
        "mean_prediction": round(float(train_p.mean()), 4),
        "order": order,
        "missing": list(missing),
        "features": [feature_json(f) for f in fitted.features],
        "dropped": [{"name": d.name, "reason": d.reason} for d in prepared.dropped],
        "trained_at": trained_at.isoformat(timespec="seconds"),
        "versions": versions,
    }


def feature_json(feature: Feature) -> dict[str, Any]:
    out: dict[str, Any] = {"name": feature.name, "kind": feature.kind}
    if feature.kind == "category":
        out["categories"] = list(feature.categories)
    return out


def feature_from_json(data: dict[str, Any]) -> Feature:
    kind = data["kind"]
    if kind not in ("number", "category"):
        raise ValueError(f"unknown feature kind {kind!r}")
    return Feature(str(data["name"]), kind, tuple(str(c) for c in data.get("categories", ())))


def dropped_from_json(data: Sequence[dict[str, Any]]) -> tuple[Dropped, ...]:
    return tuple(Dropped(str(d["name"]), str(d["reason"])) for d in data)
