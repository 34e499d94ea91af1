"""The transfer model: statuses from steps, the transfer table's views, principles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import Invoice, InvoiceLine, LineKind, text_line
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import (
    EntityType,
    ExternalKey,
    ProductNumberPrinciples,
    StepKind,
    StepStatus,
    TransferStatus,
    TransferStep,
    TransferView,
    correlation_reference,
    transfer_status,
    transfer_view,
    workflow_id,
)


def steps(**statuses: StepStatus) -> list[TransferStep]:
    return [TransferStep(kind=StepKind(k), status=s) for k, s in statuses.items()]


OK, FAIL, SKIP, WAIT = (
    StepStatus.SUCCESSFUL,
    StepStatus.FAILED,
    StepStatus.SKIPPED,
    StepStatus.PENDING,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"customer": OK, "contact": SKIP, "employee": OK, "invoice": OK}, "successful"),
        ({"customer": FAIL}, "failed"),
        ({"customer": OK, "invoice": FAIL}, "failed"),
        ({"customer": OK, "employee": FAIL, "invoice": OK}, "partially_failed"),
        ({"customer": OK, "invoice": OK, "totals": FAIL}, "partially_failed"),
        ({"customer": OK, "invoice": WAIT}, "pending"),
    ],
)
def test_the_transaction_status_follows_its_steps(
    given: dict[str, StepStatus], expected: str
) -> None:
    assert transfer_status(steps(**given)) is TransferStatus(expected)


def key(*, external_id: str = "", ignored: bool = False) -> ExternalKey:
    return ExternalKey(
        connection_id=1,
        entity_type=EntityType.INVOICE,
        local_id=7,
        external_id=external_id,
        ignored=ignored,
    )


def test_transfer_views() -> None:
    assert transfer_view(key=None, latest=None) is TransferView.NON_TRANSFERRED
    assert transfer_view(key=None, latest=TransferStatus.PENDING) is TransferView.NON_TRANSFERRED
    assert transfer_view(key=None, latest=TransferStatus.FAILED) is TransferView.FAILED
    partially = transfer_view(key=None, latest=TransferStatus.PARTIALLY_FAILED)
    assert partially is TransferView.FAILED
    assert transfer_view(key=key(external_id="12"), latest=None) is TransferView.TRANSFERRED
    assert transfer_view(key=key(ignored=True), latest=None) is TransferView.IGNORED


def test_workflow_ids_follow_the_design_and_retries_get_their_own() -> None:
    assert workflow_id(3, 42, 1) == "transfer:3:42:1"
    assert workflow_id(3, 42, 1, retry=2) == "transfer:3:42:1:retry-2"


def invoice(number: int | None = 1001) -> Invoice:
    return Invoice(
        id=1,
        legal_entity_id=1,
        customer_id=1,
        number=number,
        currency="DKK",
        invoice_date=date(2026, 10, 31),
        due_date=date(2026, 11, 30),
        seller_country="DK",
    )


def test_the_correlation_reference_is_plain_and_needs_no_escaping() -> None:
    assert correlation_reference("Nord-lys 2", invoice()) == "LL-NORDLYS2-1001"
    with pytest.raises(ValidationError, match="not posted"):
        correlation_reference("NORDLYS", invoice(number=None))


def line(kind: LineKind, product_number: str = "") -> InvoiceLine:
    return InvoiceLine(
        kind=kind,
        description="x",
        quantity=Decimal(1),
        unit_price=Money.of("10", "DKK"),
        product_number=product_number,
    )


def test_principles_pick_a_product_number_per_line_kind() -> None:
    principles = ProductNumberPrinciples(by_kind={LineKind.WORK: "WORK-DEV"}, default="EXP")
    assert principles.product_for(line(LineKind.WORK)) == "WORK-DEV"
    assert principles.product_for(line(LineKind.MILEAGE)) == "EXP"
    assert principles.product_for(line(LineKind.PRODUCT, "P-7")) == "P-7"
    assert principles.product_for(text_line("note", "DKK")) == ""
    with pytest.raises(ValidationError, match="principle for 'travel'"):
        ProductNumberPrinciples().product_for(line(LineKind.TRAVEL))


def test_principles_round_trip_and_reject_unknown_kinds() -> None:
    principles = ProductNumberPrinciples(
        by_kind={LineKind.WORK: "W", LineKind.TRAVEL: "T"}, default="D"
    )
    assert ProductNumberPrinciples.from_json(principles.to_json()) == principles
    with pytest.raises(ValidationError, match="'hours' is not a line kind"):
        ProductNumberPrinciples.from_json({"hours": "W"})
