"""Settings of the hub: one object, read from ``LEDGERLINK_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``~/.local/share/ledgerlink`` on Linux (the platform's user data folder elsewhere)."""
    return user_data_path("ledgerlink", appauthor=False)


class Settings(BaseSettings):
    """Where the hub keeps its data.

    ``LEDGERLINK_DATA_DIR`` — the data directory (SQLite database, key file, emulator state).
    ``LEDGERLINK_DATABASE_URL`` — a database URL; set it to a ``postgresql://`` URL to use
    PostgreSQL. Default: ``sqlite:///<data dir>/ledgerlink.db``.
    ``LEDGERLINK_SYSTEM_DATABASE_URL`` — the durable-workflow (DBOS) database. Default:
    ``sqlite:///<data dir>/workflows.db``; in scale-out, the same PostgreSQL server.
    ``LEDGERLINK_SYSTEM_DATABASE_SCHEMA`` — the schema of DBOS's tables on PostgreSQL
    (default ``dbos``); lets several hubs share one PostgreSQL database.
    ``LEDGERLINK_KEY_FILE`` — the key that encrypts ERP credentials. Default:
    ``<data dir>/secret.key`` (created by ``ledgerlink init``, mode 0600; back it up).
    ``LEDGERLINK_DATABASE_PRE_PING`` — test pooled PostgreSQL connections before each use
    (default off; turn it on where idle connections are cut, e.g. behind a proxy).
    """

    model_config = SettingsConfigDict(env_prefix="LEDGERLINK_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    system_database_url: str | None = None
    system_database_schema: str | None = None
    key_file: Path | None = None
    database_pre_ping: bool = False

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'ledgerlink.db'}"

    @property
    def effective_system_database_url(self) -> str:
        if self.system_database_url:
            return self.system_database_url
        return f"sqlite:///{self.data_dir / 'workflows.db'}"

    @property
    def effective_key_file(self) -> Path:
        return self.key_file or self.data_dir / "secret.key"
