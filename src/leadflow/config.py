"""Settings: one class, read from the environment (``LEADFLOW_*``) or a ``.env`` file.

Every setting is listed in ``docs/settings.md``; a test fails when one is not. A value
that is not valid is an ``InvalidInput`` naming its variable (``LEADFLOW_DEFAULT_REGION:
unknown phone region 'XX' ...``), whichever command or server reads the settings, so
the CLI reports it as it reports any error it refuses: one line, exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadflow.errors import InvalidInput


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    def __init__(self, **values: Any) -> None:
        """Read the settings (``values`` win over the environment); an invalid one is an
        ``InvalidInput`` whose ``where`` is its variable."""
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise _invalid(error) from None

    database_url: str = Field(
        "sqlite:///leadflow.db",
        description="Where leadflow keeps its data: sqlite:///FILE or postgresql+psycopg://...",
    )
    database_connect_timeout: int = Field(
        10,
        ge=2,
        description="Seconds to wait for a PostgreSQL server to answer a new connection"
        " (at least 2, the least libpq waits); a connect_timeout in the URL wins.",
    )
    playbook: Path | None = Field(
        None,
        description="The active playbook file. When unset, the bundled b2b-saas playbook is used.",
    )
    default_region: str = Field(
        "US",
        description="Country (ISO 3166 alpha-2) for phone numbers written without +country code,"
        " when the inquiry gives no country of its own.",
    )
    match_name_threshold: float = Field(
        90.0,
        ge=50,
        le=100,
        description="How similar two names must be (0-100) to join people within one company.",
    )
    match_phone_name_floor: float = Field(
        70.0,
        ge=0,
        le=100,
        description="How similar two names must be (0-100) for a shared phone number to join"
        " them; 0 joins whatever the names.",
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

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        """A region phonenumbers knows, upper-cased ("de" is DE); checked here, not at the
        first phone number, where an import or a capture would fail half-way."""
        from leadflow.adapters.identity.phones import check_region

        return check_region(region)


def _invalid(error: ValidationError) -> InvalidInput:
    """The settings' problems as one error: ``where`` is the variable when there is one."""
    problems = [(_variable(e), _problem(e)) for e in error.errors()]
    if len(problems) == 1:
        where, problem = problems[0]
        return InvalidInput(problem, where=where)
    return InvalidInput("; ".join(f"{where}: {problem}" for where, problem in problems))


def _variable(error: ErrorDetails) -> str:
    return "LEADFLOW_" + str(error["loc"][0]).upper() if error["loc"] else "settings"


def _problem(error: ErrorDetails) -> str:
    """What is wrong: a validator's own words, else pydantic's and the value (never a
    secret's)."""
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    name = str(error["loc"][0]) if error["loc"] else ""
    field = Settings.model_fields.get(name)
    if field is not None and field.annotation in (SecretStr, SecretStr | None):
        return error["msg"]
    return f"{error['msg']}, got {error['input']!r}"
