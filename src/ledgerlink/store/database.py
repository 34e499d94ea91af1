"""The database: engine, sessions and migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    # In WAL mode NORMAL is durable against a crash of the process (a commit is in the WAL
    # when COMMIT returns); only a power loss may lose the last commits. FULL would fsync on
    # every commit, the largest part of a transfer's cost on SQLite.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE: take the write lock at the start. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another writer committed meanwhile
    # (SQLite cannot wait for a stale WAL snapshot); waiting at BEGIN honours busy_timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass
class StatementCount:
    """SQL statements sent to the database inside a :meth:`Database.count_statements` block."""

    statements: int = 0
    commits: int = 0
    texts: list[str] = field(default_factory=list)


def _create_private(path: Path) -> None:
    """Create a SQLite file 0600 (in a new folder 0700) whatever the umask: it holds sealed
    credentials and business data. SQLite gives its -wal and -shm files the same mode."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class Database:
    """One database (URL) with its engine, session factory and Alembic migrations."""

    def __init__(self, url: str, *, echo: bool = False, pre_ping: bool = False) -> None:
        """``pre_ping``: test each pooled PostgreSQL connection before use (one more round
        trip per checkout; worth it only where connections are cut while idle, e.g. behind
        a proxy that drops them)."""
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            _create_private(Path(parsed.database))
        self.engine: Engine = create_engine(
            self.url, echo=echo, pool_pre_ping=pre_ping and not self.is_sqlite
        )
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    @contextmanager
    def count_statements(self) -> Iterator[StatementCount]:
        """Count the statements (and commits) this process sends inside the block — the
        budgets of design §8 are counted, not timed."""
        count = StatementCount()

        def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
            count.statements += 1
            count.texts.append(text)

        def commit(_conn: Any) -> None:
            count.commits += 1

        event.listen(self.engine, "before_cursor_execute", statement)
        event.listen(self.engine, "commit", commit)
        try:
            yield count
        finally:
            event.remove(self.engine, "before_cursor_execute", statement)
            event.remove(self.engine, "commit", commit)

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
