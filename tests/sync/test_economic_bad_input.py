"""Bad input through the engine, against the e-conomic emulator over real HTTP, on both
databases: a currency the agreement lacks, quantity 0, a too long heading, a closed accounting
year, a revoked grant and a 5xx storm.

Every failure must end as a failed transaction whose step carries the ERP's own text and a
hint, with nothing half-written (no draft with the correlation reference, no half customer, the
PSA invoice untouched), and a retry after the cause is fixed must succeed without duplicates.
Unknown product numbers are covered in ``test_economic_end_to_end``.

Emulator-level proofs referenced here (raw HTTP, no engine):
``tests/emulators/test_economic_api.py::test_annotated_errors_on_drafts`` (quantity 0),
``::test_draft_required_properties_and_length_limits`` (heading of 251 characters) and
``::test_closed_and_missing_accounting_years_block_drafts_and_booking``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.connectors._kit.errors import classify_response
from ledgerlink.connectors.contract import Permanent
from ledgerlink.connectors.economic.errors import ECONOMIC_ERRORS
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind, text_line
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import (
    EntityType,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferView,
)
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_rows
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import table
from tests.sync.test_economic_end_to_end import World, correlation, transfer, world

__all__ = ["world"]

AUGUST = (date(2026, 8, 1), date(2026, 8, 31))
SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
CLOSED_YEAR_HINT = "accounting year of the invoice date is closed"
LONG_HEADING = (
    "Warehouse management system, August 2026: integration of the hand scanners, the label "
    "printers and the carrier booking service, migration of the article master data from the "
    "old system, training of the warehouse staff on both shifts, and the go-live weekend with "
    "on-site support in Aarhus and Kolding"
)


# helpers ------------------------------------------------------------------------------------


def uow(world: World) -> UnitOfWork:
    return UnitOfWork(world.engine.database)


def legal_entity_id(world: World) -> int:
    with uow(world) as work:
        return work.connections.get(world.connection_id).legal_entity_id


def post_from_project(
    world: World,
    project_number: str,
    *,
    period: tuple[date, date],
    heading: str | None = None,
    extra_lines: Sequence[InvoiceLine] = (),
) -> Invoice:
    """Draft a project's uninvoiced work of ``period`` (plus ``extra_lines``), and post it."""
    invoice_date = period[1]
    draft = invoicing.draft_invoice(
        uow(world),
        invoicing.DraftRequest(
            legal_entity_id=legal_entity_id(world),
            project_number=project_number,
            period=period,
            invoice_date=invoice_date,
            heading=heading,
        ),
    )
    if extra_lines:
        with uow(world) as work:
            stored = work.invoices.get(require_id(draft))
            stored.add_lines(extra_lines)
            work.invoices.save(stored)
            work.commit()
    return invoicing.post_invoice(uow(world), require_id(draft), posting_date=invoice_date)


def stored_invoice(world: World, invoice: Invoice) -> Invoice:
    with uow(world) as work:
        return work.invoices.get(require_id(invoice))


def newest_transfer(world: World, invoice: Invoice) -> Transfer:
    return table.integration_log(
        world.engine, world.connection_id, invoice_id=require_id(invoice), limit=1
    )[0]


def posted_bodies(world: World, path: str) -> list[dict[str, Any]]:
    """The bodies the connector POSTed to ``path`` (from the emulator's request journal)."""
    return [
        entry.body
        for entry in world.emulator.journal.entries
        if entry.method == "POST" and entry.path == path and isinstance(entry.body, dict)
    ]


def assert_failed_cleanly(
    world: World,
    invoice: Invoice,
    before: Invoice,
    *,
    kind: StepKind,
    erp_text: str,
) -> Transfer:
    """The newest transfer of ``invoice`` failed at step ``kind`` with the ERP's own words
    (``erp_text``) and a hint; nothing of the document reached the ERP or the store's links;
    the transfer table lists it as failed; the PSA invoice is exactly as ``before``."""
    log = newest_transfer(world, invoice)
    assert log.status is TransferStatus.FAILED
    step = log.step(kind)
    assert step is not None and step.status is StepStatus.FAILED
    assert erp_text.casefold() in step.erp_text.casefold(), step.erp_text
    assert step.message and step.hint
    assert kind.value in log.message

    assert world.drafts(correlation(invoice)) == []
    booked = world.api.get(
        "/invoices/booked", params={"filter": f"references.other$eq:{correlation(invoice)}"}
    ).json()
    assert booked["collection"] == []
    rows = table.transfer_table(
        world.engine, world.connection_id, table.TableFilter(views=(TransferView.FAILED,))
    )
    assert [r.invoice.number for r in rows] == [invoice.number]

    with uow(world) as work:
        assert work.invoices.get(require_id(invoice)) == before
        key = work.external_keys.get(world.connection_id, EntityType.INVOICE, require_id(invoice))
        assert key is None or not key.external_id
        assert require_id(invoice) not in work.erp_documents.for_connection(world.connection_id)
    assert before.status is InvoiceStatus.POSTED
    return log


def assert_retry_made_exactly_one_draft(world: World, invoice: Invoice) -> dict[str, Any]:
    """The retry ran as a new workflow (``…:retry-1``), succeeded, and the ERP holds exactly
    one draft with the document's correlation reference, with the PSA's gross total."""
    log = newest_transfer(world, invoice)
    assert log.status is TransferStatus.SUCCESSFUL
    assert log.workflow_id.endswith(":retry-1")
    (draft,) = world.drafts(correlation(invoice))
    assert Decimal(str(draft["grossAmount"])) == invoice.current_totals().gross.amount
    with uow(world) as work:
        key = work.external_keys.get(world.connection_id, EntityType.INVOICE, require_id(invoice))
    assert key is not None and key.external_id == str(draft["draftInvoiceNumber"])
    return draft


# currency missing in the ERP ----------------------------------------------------------------


SWISS_CUSTOMER: dict[str, object] = {
    "number": "1004",
    "name": "Alpenblick Treuhand AG",
    "address1": "Bahnhofstrasse 21",
    "postal_code": "8001",
    "city": "Zürich",
    "country": "CH",
    "currency": "CHF",
    "payment_terms": "net 30",
}


def post_chf_invoice(world: World, *, customer_number: str, new_customer: bool) -> Invoice:
    """Two days of work on a new CHF project P-400 of ``customer_number`` (first imported as
    the Swiss customer when ``new_customer``), posted as an invoice in CHF."""
    rows: dict[ImportKind, list[tuple[int, dict[str, object]]]] = {
        ImportKind.CUSTOMERS: [(1, SWISS_CUSTOMER)] if new_customer else [],
        ImportKind.PROJECTS: [
            (
                1,
                {
                    "number": "P-400",
                    "name": "Reporting in CHF",
                    "customer_number": customer_number,
                    "hourly_rate": "165.00",
                    "currency": "CHF",
                },
            )
        ],
        ImportKind.REGISTRATIONS: [
            (
                line,
                {
                    "ref": f"CH-{line}",
                    "date": day,
                    "employee_initials": "AH",
                    "project_number": "P-400",
                    "minutes": minutes,
                    "task": "Reporting",
                },
            )
            for line, (day, minutes) in enumerate(
                (("2026-08-11", "450"), ("2026-08-12", "195")), start=1
            )
        ],
    }
    for kind, kind_rows in rows.items():
        if kind_rows:
            report = import_rows(
                uow(world),
                legal_entity_id=legal_entity_id(world),
                kind=kind,
                rows=kind_rows,
                source="test",
            )
            assert report.committed, report.errors
    invoice = post_from_project(world, "P-400", period=AUGUST)
    assert invoice.currency == "CHF"
    return invoice


def add_chf_to_the_agreement(world: World) -> None:
    """The fix: the ERP user adds the currency (with its rate) to the agreement."""
    added = world.api.post(
        "/_emulator/currencies",
        json={"code": "CHF", "name": "Schweizerfranc", "isoNumber": "756", "exchangeRate": 780},
    )
    assert added.status_code == 201, added.text
    assert world.api.get("/currencies/CHF").json()["name"] == "Schweizerfranc"


def test_a_currency_missing_in_the_erp_fails_cleanly_and_the_retry_after_adding_it_succeeds(
    world: World,
) -> None:
    invoice = post_chf_invoice(world, customer_number="1004", new_customer=True)
    before = stored_invoice(world, invoice)
    assert world.api.get("/currencies/CHF").status_code == 404  # the cause, not assumed

    assert transfer(world, invoice) is TransferStatus.FAILED

    # e-conomic refuses the customer (POST /customers requires an existing currency), so the
    # transfer stops before any draft is attempted.
    log = assert_failed_cleanly(
        world, invoice, before, kind=StepKind.CUSTOMER, erp_text="currency does not exist"
    )
    step = log.step(StepKind.CUSTOMER)
    assert step is not None and "currency" in step.hint.lower()
    assert log.step(StepKind.INVOICE) is None
    assert world.emulator.journal.count(method="POST", path_prefix="/invoices") == 0
    assert world.api.get("/customers/1004").status_code == 404  # no half customer
    with uow(world) as work:
        customer_key = work.external_keys.get(
            world.connection_id, EntityType.CUSTOMER, before.customer_id
        )
    assert customer_key is None

    add_chf_to_the_agreement(world)

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    draft = assert_retry_made_exactly_one_draft(world, invoice)
    assert draft["currency"] == "CHF"
    assert Decimal(str(draft["exchangeRate"])) == Decimal(780)
    customer = world.api.get("/customers/1004").json()
    assert (customer["name"], customer["currency"]) == ("Alpenblick Treuhand AG", "CHF")
    assert world.emulator.journal.count(method="POST", path_prefix="/customers") == 2  # 400, 201
    assert stored_invoice(world, invoice) == before


def test_an_invoice_in_a_currency_missing_in_the_erp_is_refused_at_the_draft(
    world: World,
) -> None:
    """A known (DKK) customer billed from a CHF project: the customer goes through, e-conomic
    refuses the draft's currency, and no draft is left behind."""
    invoice = post_chf_invoice(world, customer_number="1001", new_customer=False)
    before = stored_invoice(world, invoice)

    assert transfer(world, invoice) is TransferStatus.FAILED

    log = assert_failed_cleanly(
        world, invoice, before, kind=StepKind.INVOICE, erp_text="currency: currency does not exist"
    )
    step = log.step(StepKind.INVOICE)
    assert step is not None and "currency" in step.hint.lower()
    customer = log.step(StepKind.CUSTOMER)
    assert customer is not None and customer.status is StepStatus.SUCCESSFUL
    assert world.drafts() == []

    add_chf_to_the_agreement(world)

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    draft = assert_retry_made_exactly_one_draft(world, invoice)
    assert (draft["currency"], draft["customer"]["customerNumber"]) == ("CHF", 1001)
    assert world.emulator.journal.count(method="POST", path_prefix="/customers") == 1
    assert stored_invoice(world, invoice) == before


# quantity 0 -------------------------------------------------------------------------------


def test_the_domain_cannot_represent_quantity_0_with_an_amount() -> None:
    """So the mapping's refusal of such a line (``nonzero_quantity``) is a safety net the
    engine never reaches; the only 0-quantity lines are text lines, with amount 0."""
    with pytest.raises(ValidationError, match="quantity must not be 0"):
        InvoiceLine(
            kind=LineKind.WORK,
            description="Development",
            quantity=Decimal(0),
            unit_price=Money.of("1150.00", "DKK"),
        )
    text = text_line("Includes the on-site visit of 14 September", "DKK")
    assert text.quantity == 0 and text.net_amount.is_zero()


def test_zero_amount_lines_transfer_with_equal_totals_and_no_quantity_0_is_ever_sent(
    world: World,
) -> None:
    free = InvoiceLine(
        kind=LineKind.WORK,
        description="Onboarding workshop (free of charge)",
        quantity=Decimal(3),
        unit="hours",
        unit_price=Money.zero("DKK"),
    )
    text = text_line("Includes the on-site visit of 14 September", "DKK")
    invoice = post_from_project(world, "P-100", period=SEPTEMBER, extra_lines=(text, free))
    amounts = [line.net_amount.amount for line in invoice.lines]
    assert amounts[-2:] == [Decimal(0), Decimal(0)] and invoice.lines[-2].quantity == 0

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL

    log = newest_transfer(world, invoice)
    totals = log.step(StepKind.TOTALS)
    assert totals is not None and totals.status is StepStatus.SUCCESSFUL
    (listed,) = world.drafts(correlation(invoice))
    draft = world.api.get(f"/invoices/drafts/{listed['draftInvoiceNumber']}").json()
    assert Decimal(str(draft["grossAmount"])) == invoice.current_totals().gross.amount
    assert Decimal(str(draft["netAmount"])) == invoice.current_totals().net.amount
    assert len(draft["lines"]) == len(invoice.lines)

    (body,) = posted_bodies(world, "/invoices/drafts")
    sent = body["lines"]
    assert all(Decimal(str(line["quantity"])) != 0 for line in sent if "quantity" in line)
    position = len(sent) - 1  # the text line: a description only, no quantity, no product
    assert sent[-2] == {
        "lineNumber": position,
        "sortKey": position,
        "description": text.description,
    }
    assert Decimal(str(sent[-1]["quantity"])) == Decimal(3)
    assert Decimal(str(sent[-1]["unitNetPrice"])) == Decimal(0)

    # Were a quantity 0 ever sent, e-conomic would refuse it and the user would be told which
    # line and what to do: the engine's own body with one quantity set to 0, sent raw.
    zeroed = copy.deepcopy(body)
    zeroed["lines"][0]["quantity"] = 0
    refused = world.api.post("/invoices/drafts", json=zeroed)
    assert refused.status_code == 400
    (line_error,) = refused.json()["errors"]["lines"]
    assert line_error["arrayIndex"] == 0
    assert "cannot be 0" in line_error["quantity"]["errors"][0]["message"]
    error = classify_response(ECONOMIC_ERRORS, refused)
    assert isinstance(error, Permanent)
    assert "cannot be 0" in error.erp_text
    assert error.hint.startswith("Line 1:") and "quantity 0" in error.hint
    assert len(world.drafts(correlation(invoice))) == 1


# too long heading ---------------------------------------------------------------------------


def test_a_too_long_heading_is_shortened_at_a_word_and_the_log_says_so(world: World) -> None:
    assert 250 < len(LONG_HEADING) <= 500
    invoice = post_from_project(world, "P-100", period=AUGUST, heading=LONG_HEADING)
    assert invoice.heading == LONG_HEADING

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL

    (draft,) = world.drafts(correlation(invoice))
    heading = draft["notes"]["heading"]
    assert len(heading) <= 250
    assert heading.endswith("…")
    kept = heading.removesuffix("…")
    assert LONG_HEADING.startswith(kept)
    assert LONG_HEADING[len(kept)] in " ,.;:-–"  # cut at a word boundary
    step = newest_transfer(world, invoice).step(StepKind.INVOICE)
    assert step is not None and step.status is StepStatus.SUCCESSFUL
    assert "heading" in step.message and "shortened" in step.message
    assert str(len(LONG_HEADING)) in step.message and "250" in step.message
    assert stored_invoice(world, invoice).heading == LONG_HEADING

    # Sent raw, the full heading is refused by e-conomic (and nothing is created).
    (body,) = posted_bodies(world, "/invoices/drafts")
    raw = copy.deepcopy(body)
    raw["notes"]["heading"] = LONG_HEADING
    refused = world.api.post("/invoices/drafts", json=raw)
    assert refused.status_code == 400
    (problem,) = refused.json()["errors"]["notes"]["heading"]["errors"]
    assert "too long" in problem["message"]
    assert len(world.drafts(correlation(invoice))) == 1


def test_a_heading_within_the_limit_is_sent_unchanged_without_a_note(world: World) -> None:
    heading = LONG_HEADING[:250]
    invoice = post_from_project(world, "P-100", period=AUGUST, heading=heading)
    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    (draft,) = world.drafts(correlation(invoice))
    assert draft["notes"]["heading"] == heading.strip()
    step = newest_transfer(world, invoice).step(StepKind.INVOICE)
    assert step is not None and "shortened" not in step.message


# closed accounting year ---------------------------------------------------------------------


def test_a_date_in_a_closed_accounting_year_fails_cleanly_and_the_retry_after_reopening_succeeds(
    world: World,
) -> None:
    invoice = world.invoices[0]
    before = stored_invoice(world, invoice)
    year = str(invoice.invoice_date.year)
    world.api.post(f"/_emulator/accounting-years/{year}/close").raise_for_status()
    assert world.api.get(f"/accounting-years/{year}").json()["closed"] is True

    assert transfer(world, invoice) is TransferStatus.FAILED

    log = assert_failed_cleanly(world, invoice, before, kind=StepKind.INVOICE, erp_text="closed")
    step = log.step(StepKind.INVOICE)
    assert step is not None
    assert invoice.invoice_date.isoformat() in step.erp_text and year in step.erp_text
    assert CLOSED_YEAR_HINT in step.hint
    # The customer is a whole document of its own, created and linked once; the retry reuses it.
    customer = log.step(StepKind.CUSTOMER)
    assert customer is not None and customer.status is StepStatus.SUCCESSFUL

    reopened = world.api.post(f"/_emulator/accounting-years/{year}/open")
    reopened.raise_for_status()
    assert "closed" not in reopened.json()

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    draft = assert_retry_made_exactly_one_draft(world, invoice)
    assert draft["date"] == invoice.invoice_date.isoformat()
    assert world.emulator.journal.count(method="POST", path_prefix="/customers") == 1
    retried = newest_transfer(world, invoice).step(StepKind.CUSTOMER)
    assert retried is not None and "linked" in retried.message
    assert stored_invoice(world, invoice) == before


# revoked grant and 5xx storm: the cleanliness and retry halves ------------------------------


def test_a_revoked_grant_writes_nothing_and_the_retry_after_restoring_it_succeeds(
    world: World,
) -> None:
    invoice = world.invoices[0]
    before = stored_invoice(world, invoice)
    world.api.post("/_emulator/grants/revoke").raise_for_status()

    assert transfer(world, invoice) is TransferStatus.FAILED
    world.api.post("/_emulator/grants/restore").raise_for_status()  # to look around the ERP

    log = assert_failed_cleanly(
        world, invoice, before, kind=StepKind.CUSTOMER, erp_text="revoked the grant"
    )
    step = log.step(StepKind.CUSTOMER)
    assert step is not None and "401" in step.message and "reconnect" in step.hint.lower()
    assert world.emulator.journal.count(method="POST") == 0

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    assert_retry_made_exactly_one_draft(world, invoice)
    assert world.emulator.journal.count(method="POST", path_prefix="/customers") == 1


def test_a_5xx_storm_writes_nothing_and_says_to_try_again_later(world: World) -> None:
    invoice = world.invoices[1]
    before = stored_invoice(world, invoice)
    world.emulator.faults.set("/", error_rate=1.0, error_status=503)
    try:
        assert transfer(world, invoice) is TransferStatus.FAILED
    finally:
        world.emulator.faults.clear()

    log = assert_failed_cleanly(
        world, invoice, before, kind=StepKind.CUSTOMER, erp_text="temporarily unavailable"
    )
    step = log.step(StepKind.CUSTOMER)
    assert step is not None and "503" in step.message and "again later" in step.hint
    assert world.emulator.journal.count(method="GET", path_prefix="/customers") >= 2  # retried

    assert transfer(world, invoice) is TransferStatus.SUCCESSFUL
    assert_retry_made_exactly_one_draft(world, invoice)
