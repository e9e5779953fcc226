"""The one place where leadflow's parts are put together. Nothing happens at import.

The database and capture parts are imported only by the functions that need them,
and settings only where they are read, so commands that never touch a database
(rate, check, explain, docs) start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from leadflow.adapters.playbook_file import load_playbook, parse_playbook
from leadflow.domain.playbook import Playbook

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from leadflow.config import Settings
    from leadflow.services.capture import CaptureSettings
    from leadflow.services.uow import UnitOfWork

BUNDLED_PLAYBOOKS = ("btd", "bant", "man", "b2b-saas")
DEFAULT_PLAYBOOK = "b2b-saas"


def bundled_playbook(name: str = DEFAULT_PLAYBOOK) -> Playbook:
    """One of the example playbooks that ship inside the package."""
    source = resources.files("leadflow.playbooks").joinpath(f"{name}.yaml")
    return parse_playbook(source.read_text(encoding="utf-8"), f"leadflow:playbooks/{name}.yaml")


def load_active_playbook(path: Path | None = None, settings: Settings | None = None) -> Playbook:
    """The playbook named on the command line, else ``LEADFLOW_PLAYBOOK``, else the bundled one."""
    if path is None and settings is None:
        from leadflow.config import Settings

        settings = Settings()
    chosen = path or (settings.playbook if settings is not None else None)
    return load_playbook(chosen) if chosen is not None else bundled_playbook()


def engine_for(settings: Settings, *, migrate: bool = True) -> Engine:
    """The database engine, connected once (a database that cannot be reached is an
    error naming the setting) and with the schema brought up to date when asked."""
    from leadflow.adapters.store.engine import check_connection, make_engine, upgrade

    timeout = settings.database_connect_timeout
    engine = make_engine(settings.database_url, connect_timeout=timeout)
    check_connection(engine, timeout)
    if migrate:
        upgrade(engine)
    return engine


def uow_factory(engine: Engine) -> Callable[[], UnitOfWork]:
    from leadflow.services.uow import UnitOfWork

    return lambda: UnitOfWork(engine)


def capture_settings(settings: Settings) -> CaptureSettings:
    from leadflow.services.capture import CaptureSettings

    return CaptureSettings(
        region=settings.default_region.upper(),
        name_threshold=settings.match_name_threshold,
        phone_name_floor=settings.match_phone_name_floor,
        email=bool(settings.smtp_host),
    )
