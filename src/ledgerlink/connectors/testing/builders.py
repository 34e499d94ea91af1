"""Builders of the domain objects a connector is handed (valid defaults, keyword overrides):
for the contract suite and for any connector's own tests.

Each builder returns a valid object with Danish defaults; ``**changes`` replaces fields, so a
test names only what it is about: ``customer(number="4242")``, ``invoice(currency="EUR")``.
"""

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
from ledgerlink.domain.work import Project

INVOICE_DATE = date(2026, 3, 2)


def dkk(amount: str) -> Money:
    """``amount`` Danish kroner."""
    return Money.of(amount, "DKK")


def customer(**changes: Any) -> Customer:
    """A Danish business customer, number 100."""
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
    """A contact person at customer 1."""
    fields: dict[str, Any] = {"customer_id": 1, "name": "Mette Hansen", "email": "mh@hansenbyg.dk"}
    return Contact(**(fields | changes))


def employee(**changes: Any) -> Employee:
    """An employee known by initials AB."""
    fields: dict[str, Any] = {"legal_entity_id": 1, "initials": "AB", "name": "Anna Berg"}
    return Employee(**(fields | changes))


def project(**changes: Any) -> Project:
    """A customer project of customer 1, numbered with digits (every ERP takes those)."""
    fields: dict[str, Any] = {
        "legal_entity_id": 1,
        "number": "7100",
        "name": "Kontorombygning",
        "customer_id": 1,
        "currency": "DKK",
    }
    return Project(**(fields | changes))


def work_line(**changes: Any) -> InvoiceLine:
    """7.5 hours of consulting at DKK 850.00."""
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Consulting, March",
        "quantity": Decimal("7.5"),
        "unit": "hours",
        "unit_price": dkk("850.00"),
    }
    return InvoiceLine(**(fields | changes))


def invoice(*lines: InvoiceLine, **changes: Any) -> Invoice:
    """A posted DKK invoice; by default one work line and one text line."""
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
    """A credit note for invoice 7; by default one work line of -2 hours."""
    fields: dict[str, Any] = {
        "document_type": DocumentType.CREDIT_NOTE,
        "credits_invoice_id": 7,
        "heading": "Credit note for invoice 1000",
    }
    return invoice(*(lines or (work_line(quantity=Decimal("-2")),)), **(fields | changes))


def line_products(document: Invoice, product: str) -> tuple[str, ...]:
    """``product`` on every line of ``document`` but its text lines (which take none)."""
    return tuple("" if line.kind is LineKind.TEXT else product for line in document.lines)


def outgoing(document: Invoice | None = None, **changes: Any) -> OutgoingDocument:
    """``document`` (default :func:`invoice`) resolved for the ERP: customer ``100``, product
    ``1`` on every line but text lines, correlation ``ll:1:42:1``."""
    doc = document if document is not None else invoice()
    fields: dict[str, Any] = {
        "invoice": doc,
        "correlation": "ll:1:42:1",
        "customer_ref": "100",
        "line_products": line_products(doc, "1"),
        "psa_reference": "INV-1000",
    }
    return OutgoingDocument(**(fields | changes))
