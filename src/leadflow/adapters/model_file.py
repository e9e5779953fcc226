"""Model files: a versioned, checked container for a trained predictive model.

Layout (one file)::

    leadflow-model 1\\n          magic line and format number
    {"version": ..., ...}\\n      the header: one line of JSON (see ``bundle.make_header``)
    <joblib bytes>               the fitted scikit-learn model and its calibration

The header's ``payload_sha256`` is checked on loading, so a truncated or altered file
is refused with a clear error instead of failing somewhere inside scikit-learn. The
payload is a Python pickle: load model files only from sources you trust (the checksum
detects damage, it is not a signature). A model trained with another minor version of
scikit-learn is refused; train it again.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import joblib
import sklearn

from leadflow.adapters.files import replacing
from leadflow.analytics.predict.bundle import FORMAT, Bundle, feature_from_json
from leadflow.analytics.predict.training import Fitted
from leadflow.errors import InvalidInput

MAGIC = b"leadflow-model"


def write_model(bundle: Bundle, path: Path, database: Collection[Path] = ()) -> str:
    """Write the model file (atomically, never over ``database``: ``files.replacing``)
    and return its version."""
    payload = io.BytesIO()
    fitted = bundle.fitted
    joblib.dump(
        {
            "name": fitted.name,
            "model": fitted.model,
            "calibration": fitted.calibration,
            "fold_auc": fitted.fold_auc,
            "validation": fitted.validation,
        },
        payload,
        compress=3,
    )
    data = payload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    header = {"version": digest[:12], **bundle.header, "payload_sha256": digest}
    header["versions"] = {**header.get("versions", {}), "scikit-learn": sklearn.__version__}
    bundle.header = header
    try:
        with replacing(path, database) as out:
            out.write(MAGIC + f" {FORMAT}\n".encode())
            out.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
            out.write(data)
    except OSError as error:
        message = f"cannot write the model file: {error.strerror}"
        raise InvalidInput(message, where=str(path)) from None
    return str(header["version"])


def read_header(path: Path) -> tuple[dict[str, Any], bytes]:
    """The header and the payload bytes, after checking the magic line, format and checksum."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput("no such model file", where=where) from None
    except OSError as error:
        raise InvalidInput(f"cannot read the model file: {error.strerror}", where=where) from None
    first, _, rest = raw.partition(b"\n")
    if not first.startswith(MAGIC + b" "):
        raise InvalidInput(
            "not a leadflow model file (make one with 'leadflow model train')", where=where
        )
    version = first[len(MAGIC) + 1 :].decode("ascii", "replace").strip()
    if version != str(FORMAT):
        raise InvalidInput(
            f"model file format {version}; this leadflow reads format {FORMAT}", where=where
        )
    line, _, payload = rest.partition(b"\n")
    try:
        header = json.loads(line)
        expected = str(header["payload_sha256"])
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("the model file's header is damaged", where=where) from None
    if hashlib.sha256(payload).hexdigest() != expected:
        raise InvalidInput(
            "the model file is damaged: its checksum does not match "
            "(it was changed or cut short); train or copy it again",
            where=where,
        )
    return header, payload


def read_model(path: Path) -> Bundle:
    """Load a model file written by :func:`write_model`; refuse anything else clearly."""
    header, payload = read_header(path)
    where = str(path)
    trained_with = str(header.get("versions", {}).get("scikit-learn", "?"))
    if _minor(trained_with) != _minor(sklearn.__version__):
        raise InvalidInput(
            f"the model was trained with scikit-learn {trained_with}, this installation has "
            f"{sklearn.__version__}: train it again",
            where=where,
        )
    try:
        features = tuple(feature_from_json(f) for f in header["features"])
        stored = joblib.load(io.BytesIO(payload))
        fitted = Fitted(
            name=stored["name"],
            model=stored["model"],
            calibration=stored["calibration"],
            features=features,
            fold_auc=stored["fold_auc"],
            validation=stored["validation"],
        )
    except Exception as error:  # anything in an unpickled payload: report, do not crash
        raise InvalidInput(f"the model cannot be loaded: {error}", where=where) from None
    return Bundle(fitted, header)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])
