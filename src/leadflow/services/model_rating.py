"""A playbook criterion on a model's prediction: ``predicted_conversion >= 0.6``.

A playbook that names a model file (``model: {file: conversion.lfm}``) and declares the
number field it fills (``predicted_conversion`` by default) gets that field from the
model before rating: every row is scored, and the prediction and ``model_version`` are
added as columns, so each rating in the output carries the model version beside the
playbook's. ``model: {version: ...}`` refuses any other model file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leadflow.domain.playbook import Playbook


@contextmanager
def with_predictions(pb: Playbook, source: Path) -> Iterator[tuple[Path, int]]:
    """The file to rate: ``source`` itself, or a scored copy when the playbook has a model;
    and the blank lines the scoring skipped (the copy has none)."""
    ref = pb.spec.model
    if ref is None:
        yield source, 0
        return
    from leadflow.services.model_files import score_file

    with tempfile.TemporaryDirectory(prefix="leadflow-") as folder:
        scored = Path(folder) / source.name
        scoring = score_file(
            Path(ref.file),
            source,
            scored,
            factors=0,
            column=ref.field,
            version=ref.version,
        )
        yield scored, scoring.blank
