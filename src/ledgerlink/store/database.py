"""The database: engine, sessions and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledgerlink.domain.errors import LedgerlinkError


class DatabaseNotReadyError(LedgerlinkError):
    """The database has not been initialised or is behind the code's schema."""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy's default driver is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite starts transactions lazily on its own, which breaks SAVEPOINT (releasing one
    # would commit) — so we switch that off and emit BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE: take the write lock at the start. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer committed meanwhile
    # (SQLite cannot wait for a stale WAL snapshot); waiting at BEGIN honours busy_timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One database (URL) with its engine, session factory and Alembic migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url, echo=echo, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()

    # migrations -----------------------------------------------------------------------------
    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(files("ledgerlink.store") / "migrations"))
        return config

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (creates every table on an empty database)."""
        config = self._alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def schema_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def ensure_ready(self) -> None:
        """Raise a clear error when ``ledgerlink init`` has not been run or a migration is due."""
        current = self.schema_revision()
        if current is None:
            raise DatabaseNotReadyError(
                f"the database at {make_url(self.url).render_as_string()} is empty; "
                "run 'ledgerlink init' first"
            )
        if current != self.head_revision():
            raise DatabaseNotReadyError(
                "the database schema is older than this version of ledgerlink; "
                "run 'ledgerlink init' to migrate it"
            )
