"""Settings: one class, read from the environment (``LEADFLOW_*``) or a ``.env`` file.

Every setting is listed in ``docs/settings.md``; a test fails when one is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///leadflow.db",
        description="Where leadflow keeps its data: sqlite:///FILE or postgresql+psycopg://...",
    )
    playbook: Path | None = Field(
        None,
        description="The active playbook file. When unset, the bundled b2b-saas playbook is used.",
    )
    default_region: str = Field(
        "US",
        min_length=2,
        max_length=2,
        description="Country (ISO 3166 alpha-2) for phone numbers written without +country code.",
    )
    match_name_threshold: float = Field(
        90.0,
        ge=50,
        le=100,
        description="How similar two names must be (0-100) to join people within one company.",
    )
    smtp_host: str | None = Field(
        None, description="The SMTP server emails are sent through. When unset, no email is sent."
    )
    smtp_port: int = Field(
        587, ge=1, le=65535, description="The SMTP server's port (587 starttls, 465 ssl, 25)."
    )
    smtp_username: str | None = Field(None, description="The SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="The SMTP login's password.")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field(
        "starttls", description="How the SMTP connection is encrypted: none, starttls or ssl."
    )
    smtp_from: str = Field(
        "leadflow@localhost", description="The From address of the emails leadflow sends."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Where people reach this server: the base of unsubscribe and tracking links.",
    )
    dispatch_interval: float = Field(
        0.2,
        ge=0,
        description="Seconds between a server's runs that send due webhooks and emails; 0: none.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs the web pages' session cookies (32+ characters). When unset, a "
        "random key is generated on first use and kept in the database for every process.",
    )
    session_hours: float = Field(
        12, gt=0, le=24 * 30, description="Hours a web sign-in lasts before signing in again."
    )
    cors_origins: str = Field(
        "",
        description="Web sites (https://www.example.com, comma-separated; * for any) whose "
        "pages may post inquiries and activities to the API from the browser. Empty: none.",
    )
    max_body_bytes: int = Field(
        10_000_000,
        ge=10_000,
        description="The largest body a request to the API or a form may send, in bytes; "
        "a larger one is refused with 413.",
    )
