"""Fortnox refusing bad input, through the engine against the emulator (issue 13 item 7): each
case ends in a failed transfer whose integration-log row carries Fortnox's own text and a hint
that says what to fix, and a retry after the fix transfers the document — once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from ledgerlink.domain.transfers import (
    EntityType,
    StepKind,
    StepStatus,
    TransferStatus,
    TransferStep,
)
from ledgerlink.store.database import Database
from ledgerlink.sync import connections, table
from tests.connectors.test_fortnox_integration import World, connected_world, transfer


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    with connected_world(database, tmp_path) as connected:
        yield connected


def failed_step(world: World, kind: StepKind) -> TransferStep:
    """The newest transfer's failed ``kind`` step (the log row the user reads)."""
    newest = table.integration_log(world.engine, world.connection_id)[0]
    assert newest.status is TransferStatus.FAILED, [(s.kind, s.message) for s in newest.steps]
    (step,) = [s for s in newest.steps if s.kind is kind]
    assert step.status is StepStatus.FAILED
    return step


def transferred_once(world: World) -> None:
    """A retry transfers the document; the ERP then holds exactly one."""
    status = transfer(world)
    newest = table.integration_log(world.engine, world.connection_id)[0]
    assert status is TransferStatus.SUCCESSFUL, [(s.kind, s.message, s.hint) for s in newest.steps]
    assert len(world.invoices(f"LL-NORDLYSSE-{world.invoice.number}")) == 1


def test_a_customer_number_fortnox_keeps_reserved_is_refused_until_the_customer_is_renumbered(
    world: World,
) -> None:
    books = world.emulator.state
    with books.lock:  # a Fortnox customer 1002 existed once and was deleted
        books.company.used_customer_numbers.append("1002")
    assert transfer(world) is TransferStatus.FAILED
    step = failed_step(world, StepKind.CUSTOMER)
    assert "Kundnummer 1002 används redan" in step.erp_text
    assert "reserved" in step.hint and "link the PSA customer" in step.hint
    assert world.posts("/3/invoices") == 0

    # The fix: the customer made in Fortnox under a free number, the PSA customer linked to it.
    with books.lock:
        books.company.table("customers")["1102"] = {
            "CustomerNumber": "1102",
            "Name": "Svensson Bygg AB",
            "Country": "Sverige",
            "CountryCode": "SE",
            "Currency": "SEK",
            "VATType": "SEVAT",
            "Active": True,
            "_modified": "2026-09-01 09:00:00",
        }
        books.company.used_customer_numbers.append("1102")
    with world.engine.uow() as uow:
        uow.external_keys.link(
            world.connection_id, EntityType.CUSTOMER, world.invoice.customer_id, "1102"
        )
        uow.commit()
    transferred_once(world)
    assert world.invoices(f"LL-NORDLYSSE-{world.invoice.number}")[0]["CustomerNumber"] == "1102"
    assert world.posts("/3/customers") == 1  # only the refused one


def test_an_account_fortnox_does_not_have_is_refused_until_the_setting_names_one(
    world: World,
) -> None:
    connections.configure(world.engine, world.connection_id, settings={"vat_accounts": {12: 3099}})
    assert transfer(world) is TransferStatus.FAILED
    step = failed_step(world, StepKind.INVOICE)
    assert step.erp_text.endswith("Kan inte hitta kontot.")
    assert "vat_accounts" in step.hint and "chart of accounts" in step.hint

    connections.configure(world.engine, world.connection_id, settings={"vat_accounts": {12: 3002}})
    transferred_once(world)


def test_a_custom_vat_rate_without_an_account_is_refused_by_easyvat_until_it_has_one(
    world: World,
) -> None:
    connections.configure(world.engine, world.connection_id, settings={"vat_accounts": {}})
    assert transfer(world) is TransferStatus.FAILED
    step = failed_step(world, StepKind.INVOICE)
    assert "custom VAT rate and EasyVat" in step.erp_text
    assert "EasyVat" in step.hint and "vat_accounts" in step.hint

    connections.configure(world.engine, world.connection_id, settings={"vat_accounts": {12: 3002}})
    transferred_once(world)


def test_an_invoice_dated_in_the_locked_period_is_refused_until_the_period_is_unlocked(
    world: World,
) -> None:
    admin = f"{world.base_url}/_emulator/lockedperiod"
    httpx2.put(admin, json={"EndDate": "2026-08-31"}).raise_for_status()
    assert transfer(world) is TransferStatus.FAILED
    step = failed_step(world, StepKind.INVOICE)
    assert "2026-08-31" in step.erp_text and "2026-08-31" in step.message
    assert "unlock the period" in step.hint
    assert world.posts("/3/invoices") == 0

    httpx2.put(admin, json={"EndDate": "2026-07-31"}).raise_for_status()
    transferred_once(world)
