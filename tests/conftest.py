"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

PostgreSQL comes from ``LEDGERLINK_TEST_POSTGRES_URL`` (default: the machine's server at
127.0.0.1:5432, database ``test``). Each test session works in its own schema, so parallel
runs and other users of the database do not collide. Without a reachable server the
PostgreSQL half is skipped with the reason — except when ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ledgerlink.store.database import Database, normalise_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return normalise_url(os.environ.get("LEDGERLINK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "ledgerlink.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh, migrated schema on the PostgreSQL server (dropped at the end)."""
    base = postgres_base_url()
    schema = f"ll_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # any failure to reach or use the server
        admin.dispose()
        reason = f"PostgreSQL at {make_url(base).render_as_string()} is not usable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    database = Database(rendered)
    database.migrate()
    database.dispose()
    try:
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Database]:
    """A migrated, empty database — once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "ledgerlink.db"
        shutil.copy(sqlite_template, path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    db = Database(request.getfixturevalue("postgres_url"))
    # Emptied before the test, not after: a test that used ``postgres_url`` directly (worker
    # processes, say) leaves nothing behind for the next one either.
    reset_postgres(db)
    yield db
    db.dispose()


def reset_postgres(db: Database) -> None:
    """Bring the session's schema back to empty and migrated, with every identity at 1 again.

    ``TRUNCATE <every table> RESTART IDENTITY CASCADE`` costs about 70 ms per test here even
    on empty tables (each truncated table gets new files and catalog rows). Most tests touch a
    few tables, so one probe finds the tables that hold rows and the sequences that were used
    — by anything: this process, a CLI run, a worker process — and only those are emptied and
    restarted (about 10 ms). The deletes are one statement, so foreign keys (self-references,
    ``ON DELETE CASCADE``) are checked once at its end and the order does not matter.
    """
    with db.engine.begin() as connection:
        relations = connection.execute(
            text(
                "SELECT relkind, quote_ident(relname) FROM pg_class"
                " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'S')"
                " AND relname <> 'alembic_version'"
            )
        ).all()
        probes = [
            f"SELECT 't', '{name}' WHERE EXISTS (SELECT FROM {name})"
            if kind == "r"
            else f"SELECT 's', '{name}' FROM {name} WHERE is_called"
            for kind, name in relations
        ]
        if not probes:
            return
        dirty = connection.execute(text(" UNION ALL ".join(probes))).all()
        full = [name for kind, name in dirty if kind == "t"]
        used = [name for kind, name in dirty if kind == "s"]
        if full:
            deletes = ", ".join(f"d{i} AS (DELETE FROM {t})" for i, t in enumerate(full))
            connection.execute(text(f"WITH {deletes} SELECT 1"))
        for sequence in used:
            connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """The CLI configures logging for the process; give every test the defaults back."""
    yield
    structlog.reset_defaults()
