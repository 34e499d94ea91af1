"""The transfer table's legal-entity filter and the ERP's posting date (issue 14 item 3), and
the log page filtering through the use-case (item 4)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Connection
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.tables import ErpDocumentRow
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.secrets import SecretBox
from tests.support import legal_entity
from tests.web.support import Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def _options(page: str, name: str) -> list[tuple[str, bool]]:
    """The options of the select ``name``: (value, selected)."""
    found = re.search(rf'<select name="{name}">(.*?)</select>', page, re.DOTALL)
    if found is None:
        return []
    return [
        (value, bool(selected))
        for value, selected in re.findall(r'<option value="(\d+)"( selected)?', found.group(1))
    ]


def _second_entity(console: Console, tmp_path: Path) -> tuple[int, int, int]:
    """A second connection of the hub's legal entity (to another ERP), a Swedish legal entity
    with one connection, and one with none: (the Swedish entity, its connection, the entity
    without one)."""
    with UnitOfWork(console.database) as uow:
        home = uow.connections.get(console.connection_id).legal_entity_id
        uow.connections.save(Connection(legal_entity_id=home, erp="economic", credentials=""))
        sweden = uow.legal_entities.add(legal_entity(code="SVE", name="Svensk Konsult AB"))
        idle = uow.legal_entities.add(legal_entity(code="IDLE", name="Vilande ApS"))
        uow.commit()
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=False)
    connection, _ = connections.connect(
        console.hub.engine,
        secrets,
        legal_entity_id=require_id(sweden),
        erp="fake",
        credentials={"token": "t"},
        settings={},
    )
    return require_id(sweden), require_id(connection), require_id(idle)


def test_the_legal_entity_narrows_the_connection_picker(console: Console, tmp_path: Path) -> None:
    sweden, swedish_connection, idle = _second_entity(console, tmp_path)
    with UnitOfWork(console.database) as uow:
        home = uow.connections.get(console.connection_id).legal_entity_id
        home_connections = [str(c.id) for c in uow.connections.list(home)]
    assert len(home_connections) == 2
    with console.client(Role.VIEWER) as browser:
        first = browser.http.get("/transfers").text
        assert _options(first, "entity") == [(str(home), True), (str(sweden), False)]
        assert [v for v, _ in _options(first, "connection")] == home_connections
        # One connection: no picker, the connection is simply used.
        swedish = browser.http.get(f"/transfers?entity={sweden}").text
        assert _options(swedish, "entity") == [(str(home), False), (str(sweden), True)]
        assert _options(swedish, "connection") == []
        assert f'name="connection" value="{swedish_connection}"' in swedish
        assert "No documents in this view" in swedish
        # Another entity picked while the picker still held the first's connection.
        switched = browser.http.get(
            f"/transfers?entity={sweden}&connection={console.connection_id}"
        ).text
        assert f'name="connection" value="{swedish_connection}"' in switched
        # A connection alone names its entity; the forms keep the entity.
        by_connection = browser.http.get(f"/transfers?connection={swedish_connection}").text
        assert (str(sweden), True) in _options(by_connection, "entity")
        home_page = browser.http.get(f"/transfers?entity={home}").text
        assert f'name="entity" value="{home}"' in home_page
        assert (str(console.connection_id), True) in _options(home_page, "connection")
        refused = browser.http.get(f"/transfers?entity={idle}")
        assert refused.status_code == 404
        assert "has no connection" in refused.text
        assert browser.http.get("/transfers?entity=x").status_code == 400


def test_transferred_shows_the_erps_posting_date_in_the_readers_locale(
    console: Console,
) -> None:
    numbers = [invoice.number for invoice in console.hub.invoices]
    with console.client(Role.FINANCE) as browser:
        browser.post(
            "/transfers/transfer", {"connection": console.connection_id, "invoice": numbers}
        )
        with console.database.session() as session:
            session.execute(
                update(ErpDocumentRow)
                .where(ErpDocumentRow.invoice_id == console.hub.invoices[0].id)
                .values(booked_on=date(2026, 9, 3))
            )
            session.commit()
        danish = browser.http.get("/transfers?view=transferred", headers={"Accept-Language": "da"})
        english = browser.http.get("/transfers?view=transferred", headers={"Accept-Language": "en"})
    assert "<th>Posting date</th>" in danish.text
    assert "03.09.2026" in danish.text
    assert "03/09/2026" in english.text
    # The other document has no posting date yet: an empty cell, not "None".
    assert "None" not in danish.text


def test_the_log_page_filters_through_the_use_case(console: Console) -> None:
    with console.client(Role.FINANCE) as browser:
        for invoice in console.hub.invoices:
            browser.post(
                "/transfers/transfer",
                {"connection": console.connection_id, "invoice": [invoice.number]},
            )
        first, second = console.hub.invoices
        page = browser.http.get(f"/log?q=invoice+{first.number}")
        assert f"invoice {first.number}" in page.text
        assert f"invoice {second.number}" not in page.text
        assert "Svensson Bygg" in browser.http.get("/log?q=SVENSSON").text
        assert "Nothing logged" in browser.http.get("/log?status=failed").text
        backwards = browser.http.get("/log?from=2026-09-02&to=2026-09-01")
        assert backwards.status_code == 400
        assert "swap the dates" in backwards.text
        exported = browser.http.get(f"/log.csv?q=invoice+{second.number}")
        assert f"invoice {second.number}" in exported.text
        assert f"invoice {first.number}" not in exported.text
