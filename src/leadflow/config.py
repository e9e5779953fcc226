"""Settings: one class, read from the environment (``LEADFLOW_*``) or a ``.env`` file.

Every setting is listed in ``docs/settings.md``; a test fails when one is not.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    playbook: Path | None = Field(
        None,
        description="The active playbook file. When unset, the bundled b2b-saas playbook is used.",
    )
