"""Candidate playbooks for the backtest page: the texts a candidate can start from (the
active playbook's own file, the example playbooks that ship with leadflow) and reading
the one written or uploaded.

A candidate starts as a copy of a playbook people know and is edited from there, so
each start is offered with its text; the active playbook's is offered only when its file
is at hand and still reads as the playbook running now (same content version).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from leadflow.adapters.playbook_file import parse_playbook
from leadflow.domain.playbook import Playbook
from leadflow.errors import InvalidInput, PlaybookError

ACTIVE = "active"


@dataclass(frozen=True)
class Start:
    key: str  # "active" or a bundled playbook's name
    label: str
    text: str


def bundled_starts(active: Playbook) -> list[Start]:
    """Every example playbook in the package, by name; the one running now says so."""
    folder = resources.files("leadflow.playbooks")
    starts = []
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".yaml"):
            continue
        name, text = item.name.removesuffix(".yaml"), item.read_text(encoding="utf-8")
        running = _version(text) == active.version
        label = f"{name} (example{', the active playbook' if running else ''})"
        starts.append(Start(name, label, text))
    return starts


def active_start(active: Playbook, path: Path | None, bundled: list[Start]) -> Start | None:
    """The active playbook's text: its file when it still reads as the playbook running
    (same version), else the bundled example it is; None when neither is."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        if text and _version(text) == active.version:
            return Start(ACTIVE, f"the active playbook ({path.name})", text)
    for start in bundled:
        if _version(start.text) == active.version:
            return Start(ACTIVE, f"the active playbook ({start.key})", start.text)
    return None


def _version(text: str) -> str | None:
    try:
        return parse_playbook(text).version
    except PlaybookError:
        return None


def read_candidate(text: str, name: str) -> Playbook:
    """The candidate compiled from ``text``; PlaybookError lists every problem with its
    line (``name`` is the file it is reported as)."""
    if not text.strip():
        raise InvalidInput("write a playbook or upload one: the candidate is empty", "candidate")
    return parse_playbook(text, name)


def upload_text(content: bytes, filename: str, limit: int) -> str:
    """An uploaded playbook file as text, or InvalidInput saying why it cannot be read."""
    if len(content) > limit:
        raise InvalidInput(f"larger than {limit // 1000:,} kB: is it a playbook?", filename)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not UTF-8 text (byte {error.start})", filename) from None
