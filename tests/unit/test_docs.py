"""Every setting and every CLI command is documented (a test fails when one is not)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import typer.main

from leadflow.cli.main import app
from leadflow.config import Settings
from leadflow.domain.schema import StageType
from leadflow.domain.stages import DEFAULT_STAGES, EVENTS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"LEADFLOW_{name.upper()}" not in text]
    assert not missing, f"docs/settings.md does not mention: {missing}"


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands = sorted(group.commands)  # type: ignore[attr-defined]
    assert commands, "the CLI has no commands"
    missing = [name for name in commands if f"## `leadflow {name}" not in text]
    assert not missing, f"docs/cli.md has no section for: {missing}"


def test_every_stage_type_event_and_default_stage_is_documented() -> None:
    text = (DOCS / "playbook.md").read_text(encoding="utf-8")
    names = [*get_args(StageType), *EVENTS, *(s.name for s in DEFAULT_STAGES)]
    missing = [name for name in names if f"| `{name}` |" not in text]
    assert not missing, f"docs/playbook.md does not list: {missing}"
