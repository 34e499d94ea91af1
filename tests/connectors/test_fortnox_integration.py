"""Fortnox end to end through the engine, on both databases: the Swedish legal entity connects
with OAuth2 (authorization code on a loopback redirect, tokens in the token store), imports
the articles as product numbers, and a posted invoice is transferred to the Fortnox emulator
over real HTTP — exactly once, with its customer created, the totals agreeing under Fortnox's
whole-krona rounding, and balancing bringing back booked and paid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.fortnox.connector import parse_status_cursor, status_cursor
from ledgerlink.connectors.registry import spec_for
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import Invoice, LineKind
from ledgerlink.domain.transfers import (
    ProductNumberPrinciples,
    StepKind,
    StepStatus,
    TransferStatus,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.psa import invoicing
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections, pulls, table
from ledgerlink.sync.engine import DeferPolicy, Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from tests.contract.registry import FORTNOX_CLIENT, FORTNOX_SECRET, fortnox_values
from tests.sample import load_sample_data

QUICK_RETRY = RetryPolicy(attempts=3, timeout=5, wait_initial=0.01, wait_max=0.05, wait_jitter=0)
PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "WORK",
        LineKind.EXPENSE: "EXP",
        LineKind.TRAVEL: "TRAVEL",
        LineKind.MILEAGE: "MILEAGE",
    },
    default="EXP",
)


@dataclass
class World:
    engine: Engine
    emulator: FortnoxEmulator
    base_url: str
    connection_id: int
    invoice: Invoice

    def invoices(self, correlation: str) -> list[dict[str, Any]]:
        state = self.emulator.state
        with state.lock:
            return [
                dict(i)
                for i in state.company.table("invoices").values()
                if i.get("ExternalInvoiceReference1") == correlation
            ]

    def posts(self, path: str) -> int:
        return self.emulator.journal.count("POST", path)


def user_approves(url: str) -> None:
    """The user opens the printed URL and approves; the browser follows the redirect to the
    command's loopback receiver."""
    with httpx2.Client(timeout=10, follow_redirects=True) as browser:
        browser.get(f"{url}&approve=yes").raise_for_status()


@contextmanager
def connected_world(database: Database, tmp_path: Path) -> Iterator[World]:
    """The Swedish entity connected to a fresh Fortnox emulator, articles imported and the
    product-number principles set, with its posted August invoice of project P-200."""
    emulator = FortnoxEmulator(client_id=FORTNOX_CLIENT, client_secret=FORTNOX_SECRET)
    with running(emulator.app) as base_url:
        uow = UnitOfWork(database)
        entity, _ = load_sample_data(uow, country="SE", currency="SEK")
        draft = invoicing.draft_invoice(
            uow,
            invoicing.DraftRequest(
                legal_entity_id=require_id(entity),
                project_number="P-200",  # Svensson Bygg AB, Stockholm, billed in SEK
                period=(date(2026, 8, 1), date(2026, 8, 31)),
                invoice_date=date(2026, 8, 31),
            ),
        )
        posted = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 8, 31))
        secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
        engine = Engine(
            database,
            ConnectorProvider(
                secrets, environment=hub_environment(database, secrets, retry=QUICK_RETRY)
            ),
            defer=DeferPolicy(first_wait=0.01, max_runs=2),
        )
        connection, info = connections.connect_with_oauth(
            engine,
            secrets,
            spec_for("fortnox"),
            fortnox_values(base_url),
            legal_entity_id=require_id(entity),
            show_url=user_approves,
            timeout=10,
        )
        assert (info.company_name, info.base_currency) == ("Nordlys Konsult AB", "SEK")
        connection_id = require_id(connection)
        connections.import_products(engine, connection_id)
        connections.configure(engine, connection_id, principles=PRINCIPLES)
        try:
            yield World(engine, emulator, base_url, connection_id, posted)
        finally:
            engine.connectors.close()


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    with connected_world(database, tmp_path) as connected:
        yield connected


def transfer(world: World) -> TransferStatus:
    started = world.engine.start_transfer(world.connection_id, require_id(world.invoice))
    return world.engine.transfer_now(require_id(started))


def test_a_posted_invoice_goes_to_fortnox_once_and_balancing_brings_it_back(
    world: World,
) -> None:
    correlation = f"LL-NORDLYSSE-{world.invoice.number}"
    status = transfer(world)
    (log,) = table.integration_log(world.engine, world.connection_id)
    assert status is TransferStatus.SUCCESSFUL, [(s.kind, s.status, s.message) for s in log.steps]

    (made,) = world.invoices(correlation)
    assert made["CustomerNumber"] == "1002" and not made["Booked"]
    customer = world.emulator.state.company.table("customers")["1002"]
    assert (customer["Name"], customer["Country"]) == ("Svensson Bygg AB", "Sverige")
    # The project went first, as letters and digits, and the invoice names it.
    project = world.emulator.state.company.table("projects")["P200"]
    assert (project["Description"], made["Project"]) == ("ERP roll-out Sweden", "P200")
    assert made["InvoiceDate"] == "2026-08-31"  # the PSA's date, not the transfer's
    steps = {s.kind: s.status for s in log.steps}
    assert steps[StepKind.PROJECT] is StepStatus.SUCCESSFUL
    assert steps[StepKind.CUSTOMER] is StepStatus.SUCCESSFUL
    assert steps[StepKind.INVOICE] is StepStatus.SUCCESSFUL
    assert steps[StepKind.TOTALS] is StepStatus.SUCCESSFUL  # whole-krona RoundOff accepted

    # Transferring again sends nothing: one invoice, one customer, ever.
    transfer(world)
    assert len(world.invoices(correlation)) == 1
    assert world.posts("/3/invoices") == 1 and world.posts("/3/customers") == 1

    number = made["DocumentNumber"]
    admin = f"{world.base_url}/_emulator/invoices/{number}"
    httpx2.post(f"{admin}/bookkeep").raise_for_status()
    httpx2.post(f"{admin}/payments", json={}).raise_for_status()  # paid in full
    report = pulls.pull_balancing(world.engine, world.connection_id)
    assert report.applied == 1
    (row,) = table.transfer_table(world.engine, world.connection_id)
    assert row.erp is not None
    assert (row.erp.status, row.erp.booked_number, row.erp.paid) == ("booked", number, True)
    assert row.erp.booked_on == date(2026, 8, 31)  # Fortnox booked it on its invoice date
    assert pulls.pull_balancing(world.engine, world.connection_id).read == 0


def test_the_balancing_cursor_fits_the_hubs_column() -> None:
    marks = [f"{n:08x}" for n in range(100)]
    cursor = status_cursor("2026-12-07 19:01", marks)
    assert len(cursor) <= 200
    since, kept = parse_status_cursor(cursor)
    assert since == "2026-12-07 19:01" and kept <= set(marks) and len(kept) == 20
    assert parse_status_cursor(None) == (None, frozenset())


def test_a_credit_note_of_a_booked_invoice_references_it_through_the_engine(
    world: World, database: Database
) -> None:
    """The engine resolves the credited invoice's Fortnox number (its external key) into the
    outgoing credit note, and the connector sends it as ``CreditInvoiceReference``."""
    assert transfer(world) is TransferStatus.SUCCESSFUL
    (original,) = world.invoices(f"LL-NORDLYSSE-{world.invoice.number}")
    number = original["DocumentNumber"]
    httpx2.post(f"{world.base_url}/_emulator/invoices/{number}/bookkeep").raise_for_status()
    uow = UnitOfWork(database)
    draft = invoicing.credit_invoice(uow, require_id(world.invoice), invoice_date=date(2026, 9, 1))
    credit = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
    started = world.engine.start_transfer(world.connection_id, require_id(credit))
    assert world.engine.transfer_now(require_id(started)) is TransferStatus.SUCCESSFUL
    (made,) = world.invoices(f"LL-NORDLYSSE-{credit.number}")
    assert made["CreditInvoiceReference"] == number
