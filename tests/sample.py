"""The sample data for tests, loaded once per test process and database kind, then copied.

``load_sample_data`` imports the sample files through the importers — about 800 time
registrations, row by row — which costs about a second of CPU, and a few hundred tests start
from it. The importers and the sample loader have their own tests (tests/psa, the demo's);
here the first load in a process runs the real loader on an empty database, the rows it left
are kept, and every later empty database of the same kind gets those rows inserted in bulk
(a statement per table; on PostgreSQL the id sequences are moved past them). A database that
is not empty gets the real loader, as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select, text

from ledgerlink.domain.parties import LegalEntity
from ledgerlink.psa import sample
from ledgerlink.psa.importing import ImportReport
from ledgerlink.store.database import Database
from ledgerlink.store.tables import Base, LegalEntityRow
from ledgerlink.store.uow import UnitOfWork

#: (dialect, country, currency) → the rows the real loader left, table by table.
_SNAPSHOTS: dict[tuple[str, str, str], list[tuple[Table, list[dict[str, Any]]]]] = {}


def load_sample_data(
    uow: UnitOfWork, *, country: str = "DK", currency: str = "DKK"
) -> tuple[LegalEntity, list[ImportReport]]:
    """As :func:`ledgerlink.psa.sample.load_sample_data` (the reports are empty when the
    rows were copied)."""
    database: Database = uow._database
    key = (database.engine.dialect.name, country, currency)
    if not _empty(database):
        return sample.load_sample_data(uow, country=country, currency=currency)
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        loaded = sample.load_sample_data(uow, country=country, currency=currency)
        _SNAPSHOTS[key] = _rows_of(database)
        return loaded
    _insert(database, snapshot)
    code = sample.sample_legal_entity(country=country, currency=currency).code
    with uow:
        entity = uow.legal_entities.by_code(code)
    assert entity is not None
    return entity, []


def _empty(database: Database) -> bool:
    with database.engine.connect() as connection:
        return not connection.execute(select(func.count()).select_from(LegalEntityRow)).scalar()


def _rows_of(database: Database) -> list[tuple[Table, list[dict[str, Any]]]]:
    found = []
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row) for row in connection.execute(table.select()).mappings()]
            if rows:
                found.append((table, rows))
    return found


def _insert(database: Database, snapshot: list[tuple[Table, list[dict[str, Any]]]]) -> None:
    with database.engine.begin() as connection:
        for table, rows in snapshot:
            connection.execute(table.insert(), rows)
        if database.engine.dialect.name == "postgresql":
            for table, _ in snapshot:
                if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT max(id) FROM {table.name}))"
                        )
                    )
