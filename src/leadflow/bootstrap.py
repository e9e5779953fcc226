"""The one place where leadflow's parts are put together. Nothing happens at import."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from leadflow.adapters.playbook_file import load_playbook, parse_playbook
from leadflow.config import Settings
from leadflow.domain.playbook import Playbook

BUNDLED_PLAYBOOKS = ("btd", "bant", "man", "b2b-saas")
DEFAULT_PLAYBOOK = "b2b-saas"


def bundled_playbook(name: str = DEFAULT_PLAYBOOK) -> Playbook:
    """One of the example playbooks that ship inside the package."""
    source = resources.files("leadflow.playbooks").joinpath(f"{name}.yaml")
    return parse_playbook(source.read_text(encoding="utf-8"), f"leadflow:playbooks/{name}.yaml")


def load_active_playbook(path: Path | None = None, settings: Settings | None = None) -> Playbook:
    """The playbook named on the command line, else ``LEADFLOW_PLAYBOOK``, else the bundled one."""
    chosen = path or (settings or Settings()).playbook
    return load_playbook(chosen) if chosen is not None else bundled_playbook()
