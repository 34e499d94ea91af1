"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Float, Numeric, inspect

from ledgerlink.store.database import Database, DatabaseNotReadyError
from ledgerlink.store.tables import Base


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert database.schema_revision() == database.head_revision()


def test_no_money_or_quantity_column_is_a_float(database: Database) -> None:
    columns = [
        (table, column["name"], column["type"])
        for table in inspect(database.engine).get_table_names()
        for column in inspect(database.engine).get_columns(table)
    ]
    assert columns
    floats = [(t, c) for t, c, kind in columns if isinstance(kind, Float | Numeric)]
    assert floats == []


def test_an_empty_database_asks_for_init(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(DatabaseNotReadyError, match="ledgerlink init"):
        database.ensure_ready()
    database.migrate()
    database.ensure_ready()


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'twice.db'}")
    database.migrate()
    database.migrate()
    assert database.schema_revision() == database.head_revision()
