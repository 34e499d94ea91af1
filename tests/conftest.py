"""Shared fixtures: a migrated database on SQLite and on PostgreSQL; the test kinds.

PostgreSQL comes from ``LEDGERLINK_TEST_POSTGRES_URL`` (default: the machine's server at
127.0.0.1:5432, database ``test``). Each test session (each pytest-xdist worker too) works in
its own schema, so parallel runs and other users of the database do not collide. Without a
reachable server the PostgreSQL half is skipped with the reason — except when ``CI=true``,
where that is a failure.

Every test gets one of three markers (design §11), by this rule, so nobody has to remember
them (a marker written on a test or module wins):

* ``e2e`` — the test starts real processes (``ledgerlink host serve``, ``emulate nav``,
  workers; kill -9): its module, or the test, is listed in ``E2E``;
* ``integration`` — otherwise, when it needs a database, a folder or a server: it asks for one
  of ``INTEGRATION_FIXTURES`` (directly or through other fixtures), or its module serves an
  emulator or app on a loopback thread or in-process ASGI and is listed in ``INTEGRATION``;
* ``unit`` — everything else: no I/O, milliseconds.

``pytest -m unit`` runs the fast part alone; ``-m "not e2e"`` all but the process tests.
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

KINDS = ("unit", "integration", "e2e")
#: Tests that start processes (node id prefixes: a module, or one test of it).
E2E = (
    "tests/cli/test_agent_cli.py",
    "tests/contract/",  # the NAV and Visma cases run FinancialHost processes
    "tests/emulators/test_cli_emulate.py",
    "tests/emulators/test_nav_cli.py",
    "tests/emulators/test_visma_adk.py::test_another_process_writes_to_the_same_company_file",
    "tests/financialhost/test_host_kill.py",
    "tests/financialhost/test_host_kill_nav.py",
    "tests/financialhost/test_host_lifecycle.py",
    "tests/financialhost/test_host_nav_store_forward.py",
    "tests/financialhost/test_nav_callback_e2e.py",
    "tests/sync/test_crash_recovery.py",
    "tests/sync/test_oauth_processes.py",
    "tests/sync/test_rate_limit_processes.py",
    "tests/test_import_contracts.py",  # runs lint-imports
)
#: Fixtures that mean a database, a folder or a server.
INTEGRATION_FIXTURES = frozenset(
    {"database", "postgres_url", "sqlite_template", "tmp_path", "tmp_path_factory", "base_url"}
)
#: Modules whose tests serve an emulator or app without one of those fixtures.
INTEGRATION = (
    "tests/cli/",  # the real command through Typer's runner, with its data folder
    "tests/connectors/test_economic_integration.py",
    "tests/connectors/test_kit_http.py",
    "tests/connectors/test_kit_oauth.py",
    "tests/emulators/test_kit_base.py",
    "tests/emulators/test_kit_faults_journal.py",
    "tests/emulators/test_kit_oauth.py",
    "tests/emulators/test_kit_ratelimit.py",
    "tests/emulators/test_nav_",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each test its kind (see the module docstring)."""
    for item in items:
        if any(item.get_closest_marker(kind) for kind in KINDS):
            continue
        if item.nodeid.startswith(E2E):
            kind = "e2e"
        elif item.nodeid.startswith(INTEGRATION) or INTEGRATION_FIXTURES.intersection(
            getattr(item, "fixturenames", ())
        ):
            kind = "integration"
        else:
            kind = "unit"
        item.add_marker(kind)


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
