"""The connector contract suite: every connector, against its emulator, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from ledgerlink.connectors.contract import (
    Connector,
    ErpConnector,
    Permanent,
    PostingStatus,
)
from ledgerlink.domain.invoices import LineKind
from tests.connectors.builders import credit_note, customer, invoice, outgoing, work_line
from tests.contract.registry import CASES, ErpCase


@dataclass
class Live:
    case: ErpCase
    base_url: str
    connector: ErpConnector


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    case: ErpCase = request.param
    with case.start(tmp_path) as (location, connector):
        yield Live(case, location, connector)


def products_for(live: Live, document: object) -> tuple[str, ...]:
    lines = document.lines  # type: ignore[attr-defined]
    return tuple("" if line.kind is LineKind.TEXT else live.case.product for line in lines)


def test_verify_connects(live: Live) -> None:
    assert isinstance(live.connector, Connector)
    info = live.connector.verify()
    assert info.company_name
    assert info.account_id
    assert len(info.base_currency) == 3


def test_import_products(live: Live) -> None:
    assert live.connector.capabilities.product_import
    numbers = {p.number for p in live.connector.products()}
    assert live.case.product in numbers


def test_customer_find_link_and_create(live: Live) -> None:
    c = live.connector
    existing = c.find_customer(live.case.existing_customer)
    assert existing is not None and existing.name
    assert c.find_customer("999999998") is None
    assert c.capabilities.customer_push
    created = c.create_customer(customer(number=live.case.new_customer_number))
    found = c.find_customer(live.case.new_customer_number)
    assert found is not None
    assert found.external_id == created.external_id
    assert found.name == "Hansen Byg A/S"
    c.update_customer(
        created.external_id,
        customer(number=live.case.new_customer_number, name="Hansen Byg Holding A/S"),
    )
    updated = c.find_customer(live.case.new_customer_number)
    assert updated is not None and updated.name == "Hansen Byg Holding A/S"
    assert any(x.external_id == created.external_id for x in c.customers(None).items)


def test_transfer_invoice_and_credit_note_and_read_back_totals(live: Live) -> None:
    c = live.connector
    inv = invoice()
    doc = outgoing(
        inv, customer_ref=live.case.existing_customer, line_products=products_for(live, inv)
    )
    result = c.create_document(doc)
    totals = inv.compute_totals()
    assert result.net == totals.net  # 7.5 × 850.00
    assert result.gross == totals.gross
    assert result.vat == totals.vat
    assert result.correlation == doc.correlation

    note = credit_note(work_line(quantity=Decimal("-2")))
    credit = outgoing(
        note,
        correlation="ll:1:43:1",
        customer_ref=live.case.existing_customer,
        line_products=products_for(live, note),
    )
    assert c.capabilities.credit_note_push
    credited = c.create_document(credit)
    assert credited.net == note.compute_totals().net
    assert credited.gross.amount < 0


def test_idempotent_re_transfer_finds_the_document(live: Live) -> None:
    c = live.connector
    inv = invoice()
    doc = outgoing(
        inv,
        correlation="ll:re:1",
        customer_ref=live.case.existing_customer,
        line_products=products_for(live, inv),
    )
    assert c.find_document(doc.correlation) is None
    created = c.create_document(doc)
    found = c.find_document(doc.correlation)
    assert found is not None
    assert found.external_id == created.external_id
    assert found.gross == created.gross


def test_balancing_after_booking_and_payment(live: Live) -> None:
    c = live.connector
    inv = invoice()
    doc = outgoing(
        inv,
        correlation="ll:bal:1",
        customer_ref=live.case.existing_customer,
        line_products=products_for(live, inv),
    )
    created = c.create_document(doc)
    booked_number = live.case.book(live.base_url, created.external_id)

    first = c.statuses(None)
    mine = [u for u in first.items if u.correlation == doc.correlation]
    assert len(mine) == 1
    assert mine[0].status is PostingStatus.BOOKED
    assert mine[0].booked_number == booked_number
    assert mine[0].paid is False
    assert mine[0].remainder == created.gross
    found = c.find_document(doc.correlation)
    assert found is not None and found.booked_number == booked_number

    live.case.pay(live.base_url, booked_number, str(created.gross.amount))
    second = c.statuses(first.cursor)
    paid = [u for u in second.items if u.correlation == doc.correlation]
    assert len(paid) == 1 and paid[0].paid
    assert paid[0].remainder is not None and paid[0].remainder.is_zero()
    third = c.statuses(second.cursor)
    assert not [u for u in third.items if u.correlation == doc.correlation]


def test_bad_input_is_permanent_with_the_erp_text(live: Live) -> None:
    inv = invoice()
    doc = outgoing(
        inv,
        correlation="ll:bad:1",
        customer_ref=live.case.existing_customer,
        line_products=tuple(
            "" if line.kind is LineKind.TEXT else "NO-SUCH-PRODUCT" for line in inv.lines
        ),
    )
    with pytest.raises(Permanent) as caught:
        live.connector.create_document(doc)
    assert caught.value.erp_text
    assert caught.value.hint
    assert caught.value.field_errors
