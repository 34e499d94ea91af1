"""The engine against the e-conomic emulator over real HTTP, on both databases: transfers,
exactly once after lost answers, bad input explained, retry after the fix, balancing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.requestor import decode_json, encode_json
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.spec import ConnectorEnvironment
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import Invoice, LineKind
from ledgerlink.domain.transfers import (
    EntityType,
    ProductNumberPrinciples,
    StepKind,
    StepStatus,
    TransferStatus,
    TransferView,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.psa import invoicing
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections, pulls, table
from ledgerlink.sync.engine import DeferPolicy, Engine
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.secrets import SecretBox
from tests.sample import load_sample_data

APP, GRANT = "app-secret", "grant-token"
#: The connector retries quickly, and a deferred transfer runs once more before it fails.
QUICK_RETRY = RetryPolicy(attempts=3, timeout=5, wait_initial=0.01, wait_max=0.05, wait_jitter=0)
QUICK_DEFER = DeferPolicy(first_wait=0.01, max_runs=2)
HEADERS = {"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT}
PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "WORK-DEV",
        LineKind.EXPENSE: "EXP",
        LineKind.TRAVEL: "TRAVEL",
        LineKind.MILEAGE: "MILEAGE",
    },
    default="EXP",
)


@dataclass
class World:
    engine: Engine
    emulator: EconomicEmulator
    api: httpx2.Client
    connection_id: int
    invoices: list[Invoice]

    def drafts(self, correlation: str = "") -> list[dict[str, Any]]:
        params = {"pagesize": "1000"}
        if correlation:
            params["filter"] = f"references.other$eq:{correlation}"
        body = self.api.get("/invoices/drafts", params=params).json()
        return list(body["collection"])


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    emulator = EconomicEmulator(app_secret_token=APP, agreement_grant_token=GRANT)
    with (
        running(emulator.app) as base_url,
        httpx2.Client(base_url=base_url, headers=HEADERS, timeout=10) as api,
    ):
        uow = UnitOfWork(database)
        entity, _ = load_sample_data(uow)
        posted = []
        for project in ("P-101", "P-200"):
            draft = invoicing.draft_invoice(
                uow,
                invoicing.DraftRequest(
                    legal_entity_id=require_id(entity),
                    project_number=project,
                    period=(date(2026, 8, 1), date(2026, 8, 31)),
                    invoice_date=date(2026, 8, 31),
                ),
            )
            posted.append(
                invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 8, 31))
            )
        secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
        engine = Engine(
            database,
            ConnectorProvider(secrets, environment=ConnectorEnvironment(retry=QUICK_RETRY)),
            defer=QUICK_DEFER,
        )
        connection, _ = connections.connect(
            engine,
            secrets,
            legal_entity_id=require_id(entity),
            erp="economic",
            credentials={"app_secret_token": APP, "agreement_grant_token": GRANT},
            settings={"base_url": base_url},
        )
        connection_id = require_id(connection)
        connections.import_products(engine, connection_id)
        connections.configure(engine, connection_id, principles=PRINCIPLES)
        yield World(engine, emulator, api, connection_id, posted)
        engine.connectors.close()


def transfer(world: World, invoice: Invoice) -> TransferStatus:
    started = world.engine.start_transfer(world.connection_id, require_id(invoice))
    return world.engine.transfer_now(require_id(started))


def correlation(invoice: Invoice) -> str:
    return f"LL-NORDLYS-{invoice.number}"


def test_a_posted_invoice_becomes_one_draft_with_the_customer_created(world: World) -> None:
    invoice = world.invoices[0]
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL

    (draft,) = world.drafts(correlation(invoice))
    assert draft["customer"]["customerNumber"] == 1001
    assert draft["grossAmount"] is not None
    customer = world.api.get("/customers/1001").json()
    assert customer["name"] == "Havnens Logistik A/S"
    (log,) = table.integration_log(world.engine, world.connection_id)
    kinds = {s.kind: s.status for s in log.steps}
    assert kinds[StepKind.CUSTOMER] is StepStatus.SUCCESSFUL
    assert kinds[StepKind.INVOICE] is StepStatus.SUCCESSFUL
    assert kinds[StepKind.TOTALS] is StepStatus.SUCCESSFUL
    rows = table.transfer_table(world.engine, world.connection_id)
    views = {r.invoice.number: r.view for r in rows}
    assert views[invoice.number] is TransferView.TRANSFERRED
    assert views[world.invoices[1].number] is TransferView.NON_TRANSFERRED


def test_transferring_again_sends_nothing(world: World) -> None:
    invoice = world.invoices[0]
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    world.emulator.journal.clear()

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    assert world.emulator.journal.count(method="POST") == 0
    assert len(world.drafts(correlation(invoice))) == 1


def test_a_lost_answer_after_the_draft_was_made_leaves_exactly_one_draft(world: World) -> None:
    invoice = world.invoices[1]
    world.emulator.faults.set(
        "/invoices/drafts", methods=frozenset({"POST"}), drop_after_commit_rate=1.0
    )
    try:
        status = transfer(world, invoice)
    finally:
        world.emulator.faults.clear()
    assert status is TransferStatus.SUCCESSFUL
    assert len(world.drafts(correlation(invoice))) == 1
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.INVOICE)
    assert step is not None and "found" in step.message


def test_an_unknown_product_fails_with_a_hint_and_the_retry_after_the_fix_succeeds(
    world: World,
) -> None:
    invoice = world.invoices[0]
    connections.configure(
        world.engine,
        world.connection_id,
        principles=ProductNumberPrinciples(by_kind={LineKind.WORK: "WORK-DEV"}),
    )
    assert transfer(world, invoice) is TransferStatus.FAILED
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.INVOICE)
    assert step is not None and step.status is StepStatus.FAILED
    assert "principle" in step.message and step.hint
    assert world.drafts(correlation(invoice)) == []
    rows = table.transfer_table(
        world.engine, world.connection_id, table.TableFilter(views=(TransferView.FAILED,))
    )
    assert [r.invoice.number for r in rows] == [invoice.number]

    connections.configure(world.engine, world.connection_id, principles=PRINCIPLES)
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    assert len(world.drafts(correlation(invoice))) == 1
    newest = table.integration_log(world.engine, world.connection_id)[0]
    assert newest.workflow_id.endswith(":retry-1")


def test_a_revoked_grant_fails_the_transfer_and_says_to_reconnect(world: World) -> None:
    world.api.post("/_emulator/grants/revoke").raise_for_status()
    assert transfer(world, world.invoices[0]) is TransferStatus.FAILED
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.CUSTOMER)
    assert step is not None and step.status is StepStatus.FAILED
    assert "connect" in (step.hint + step.message).lower()


def test_a_5xx_storm_fails_the_transfer_and_a_later_retry_sends_it_once(world: World) -> None:
    invoice = world.invoices[0]
    world.emulator.faults.set("/", error_rate=1.0, error_status=503)
    try:
        assert transfer(world, invoice) is TransferStatus.FAILED
    finally:
        world.emulator.faults.clear()
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    assert len(world.drafts(correlation(invoice))) == 1


def test_balancing_brings_back_the_booked_number_remainder_and_paid_state(world: World) -> None:
    first, second = world.invoices
    for invoice in (first, second):
        assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    drafts = {d["references"]["other"]: d for d in world.drafts()}
    booked = []
    for invoice in (first, second):
        number = drafts[correlation(invoice)]["draftInvoiceNumber"]
        response = world.api.post(f"/_emulator/invoices/drafts/{number}/book")
        response.raise_for_status()
        booked.append(response.json())
    paid_gross = booked[0]["grossAmount"]
    world.api.post(
        f"/_emulator/invoices/booked/{booked[0]['bookedInvoiceNumber']}/payments",
        json={"amount": str(paid_gross)},
    ).raise_for_status()

    report = pulls.pull_balancing(world.engine, world.connection_id)
    assert report.applied == 2
    rows = {r.invoice.number: r for r in table.transfer_table(world.engine, world.connection_id)}
    first_erp, second_erp = rows[first.number].erp, rows[second.number].erp
    assert first_erp is not None and second_erp is not None
    assert first_erp.status == "booked" and first_erp.paid
    assert first_erp.booked_number == str(booked[0]["bookedInvoiceNumber"])
    assert second_erp.status == "booked" and not second_erp.paid
    assert second_erp.remainder == second.current_totals().gross
    # The date e-conomic booked each with: the booked invoice's ``date``.
    assert [first_erp.booked_on, second_erp.booked_on] == [
        date.fromisoformat(b["date"]) for b in booked
    ]

    # Incremental: the paid invoice is not read again; the open one is, until it is paid —
    # and reading what we know already changes nothing and is not counted as a change.
    again = pulls.pull_balancing(world.engine, world.connection_id)
    assert (again.read, again.applied, again.unchanged) == (1, 0, 1)


def test_ignored_documents_are_not_transferred(world: World) -> None:
    invoice = world.invoices[0]
    table.set_ignored(world.engine, world.connection_id, [require_id(invoice)], ignored=True)
    rows = table.transfer_table(
        world.engine, world.connection_id, table.TableFilter(views=(TransferView.IGNORED,))
    )
    assert [r.invoice.number for r in rows] == [invoice.number]
    with pytest.raises(Exception, match="ignored"):
        world.engine.start_transfer(world.connection_id, require_id(invoice))
    table.set_ignored(world.engine, world.connection_id, [require_id(invoice)], ignored=False)
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    with UnitOfWork(world.engine.database) as uow:
        key = uow.external_keys.get(world.connection_id, EntityType.INVOICE, require_id(invoice))
    assert key is not None and key.external_id and not key.ignored


# one owner of retries, one request per invoice -------------------------------------------------


def test_a_failing_get_costs_the_policy_attempts_and_the_transfer_is_handed_back(
    world: World,
) -> None:
    invoice = world.invoices[0]
    started = world.engine.start_transfer(world.connection_id, require_id(invoice))
    world.emulator.journal.clear()
    world.emulator.faults.set("/customers", methods={"GET"}, error_rate=1.0, error_status=503)
    try:
        result = world.engine.run_transfer(require_id(started))
    finally:
        world.emulator.faults.clear()
    assert result.deferred  # back to the queue, not looped here
    # Exactly one layer retried: the connector's requestor, QUICK_RETRY.attempts times.
    assert world.emulator.journal.count("GET", "/customers") == QUICK_RETRY.attempts
    assert world.emulator.journal.count() == QUICK_RETRY.attempts
    again = world.engine.run_transfer(require_id(started), run=2)
    assert again.status is TransferStatus.SUCCESSFUL
    assert len(world.drafts(correlation(invoice))) == 1


def test_a_long_server_wait_is_not_slept_but_handed_back_with_that_wait(world: World) -> None:
    invoice = world.invoices[0]
    started = world.engine.start_transfer(world.connection_id, require_id(invoice))
    world.emulator.faults.set(
        "/invoices/drafts", methods={"POST"}, rate_limit_rate=1.0, retry_after=120
    )
    try:
        result = world.engine.run_transfer(require_id(started))
    finally:
        world.emulator.faults.clear()
    assert result.deferred and result.resume_after == 120.0
    assert world.emulator.journal.count("POST", "/invoices/drafts") == 1
    (log,) = table.integration_log(world.engine, world.connection_id)
    step = log.step(StepKind.INVOICE)
    assert step is not None and step.status is StepStatus.PENDING
    assert "trying again in 2 min" in step.message


def test_one_request_per_invoice_once_the_customer_and_employee_exist(world: World) -> None:
    invoice = world.invoices[0]
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    uow = UnitOfWork(world.engine.database)
    draft = invoicing.credit_invoice(uow, require_id(invoice), invoice_date=date(2026, 9, 1))
    credit_note = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
    world.emulator.journal.clear()
    assert transfer(world, credit_note) is TransferStatus.SUCCESSFUL
    calls = [(e.method, e.path) for e in world.emulator.journal.entries]
    assert calls == [("POST", "/invoices/drafts")]  # totals from the POST's answer
    (created,) = world.drafts(correlation(credit_note))
    assert Decimal(str(created["grossAmount"])) == credit_note.current_totals().gross.amount


# preview ------------------------------------------------------------------------------------------


def test_a_preview_shows_the_exact_requests_and_sends_and_records_nothing(
    world: World, database: Database
) -> None:
    invoice = world.invoices[0]
    world.emulator.journal.clear()
    with database.count_statements() as count:
        steps = world.engine.preview(world.connection_id, require_id(invoice))
    assert not [t for t in count.texts if t.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert world.emulator.journal.count() == world.emulator.journal.count("GET")  # reads only
    assert table.integration_log(world.engine, world.connection_id) == []
    by_kind = {s.kind: s for s in steps}
    assert list(by_kind) == [
        StepKind.CUSTOMER,
        StepKind.EMPLOYEE,
        StepKind.INVOICE,
        StepKind.TOTALS,
    ]
    (customer,) = by_kind[StepKind.CUSTOMER].requests
    assert (customer.method, customer.path) == ("POST", "/customers")
    assert "creates it if missing" in by_kind[StepKind.EMPLOYEE].summary

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    sent = {e.path: e.body for e in world.emulator.journal.entries if e.method == "POST"}
    assert sent["/customers"] == decode_json(encode_json(customer.body))

    # Once every reference exists, the previewed draft is exactly the one then sent.
    uow = UnitOfWork(database)
    draft = invoicing.credit_invoice(uow, require_id(invoice), invoice_date=date(2026, 9, 1))
    credit_note = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 9, 1))
    steps = world.engine.preview(world.connection_id, require_id(credit_note))
    (planned,) = next(s for s in steps if s.kind is StepKind.INVOICE).requests
    assert "already linked" in steps[0].summary
    world.emulator.journal.clear()
    assert transfer(world, credit_note) is TransferStatus.SUCCESSFUL
    (posted,) = [e.body for e in world.emulator.journal.entries if e.method == "POST"]
    assert posted == decode_json(encode_json(planned.body))
