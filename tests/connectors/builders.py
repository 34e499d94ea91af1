"""Builders of domain objects for the connector tests (valid defaults, keyword overrides)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerlink.connectors.contract import OutgoingDocument
from ledgerlink.domain.invoices import (
    DocumentType,
    Invoice,
    InvoiceLine,
    LineKind,
    text_line,
)
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address, Contact, Customer, Employee

INVOICE_DATE = date(2026, 3, 2)


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


def customer(**changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "legal_entity_id": 1,
        "number": "100",
        "name": "Hansen Byg A/S",
        "address": Address(
            lines=("Havnegade 1", "2. sal"), postal_code="1058", city="København K", country="DK"
        ),
        "registration_number": "13585628",
        "currency": "DKK",
        "email": "bogholderi@hansenbyg.dk",
        "phone": "+45 33 12 34 56",
    }
    return Customer(**(fields | changes))


def contact(**changes: Any) -> Contact:
    fields: dict[str, Any] = {"customer_id": 1, "name": "Mette Hansen", "email": "mh@hansenbyg.dk"}
    return Contact(**(fields | changes))


def employee(**changes: Any) -> Employee:
    fields: dict[str, Any] = {"legal_entity_id": 1, "initials": "AB", "name": "Anna Berg"}
    return Employee(**(fields | changes))


def work_line(**changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Consulting, March",
        "quantity": Decimal("7.5"),
        "unit": "hours",
        "unit_price": dkk("850.00"),
    }
    return InvoiceLine(**(fields | changes))


def invoice(*lines: InvoiceLine, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "legal_entity_id": 1,
        "customer_id": 1,
        "currency": "DKK",
        "invoice_date": INVOICE_DATE,
        "due_date": date(2026, 4, 1),
        "seller_country": "DK",
        "heading": "Consulting March 2024",
        "message": "Thank you for your business.",
        "requisition_number": "PO-4711",
        "lines": lines or (work_line(), text_line("Travel included", "DKK")),
    }
    return Invoice(**(fields | changes))


def credit_note(*lines: InvoiceLine, **changes: Any) -> Invoice:
    fields: dict[str, Any] = {
        "document_type": DocumentType.CREDIT_NOTE,
        "credits_invoice_id": 7,
        "heading": "Credit note for invoice 1000",
    }
    return invoice(*(lines or (work_line(quantity=Decimal("-2")),)), **(fields | changes))


def outgoing(document: Invoice | None = None, **changes: Any) -> OutgoingDocument:
    doc = document if document is not None else invoice()
    products = tuple("" if line.kind is LineKind.TEXT else "1" for line in doc.lines)
    fields: dict[str, Any] = {
        "invoice": doc,
        "correlation": "ll:1:42:1",
        "customer_ref": "100",
        "line_products": products,
        "psa_reference": "INV-1000",
    }
    return OutgoingDocument(**(fields | changes))
