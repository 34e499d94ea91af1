"""Builders of domain objects for the connector tests: they ship with the package now
(:mod:`ledgerlink.connectors.testing.builders`); this module re-exports them for the tests that
import them from here."""

from __future__ import annotations

from ledgerlink.connectors.testing.builders import (
    INVOICE_DATE,
    contact,
    credit_note,
    customer,
    dkk,
    employee,
    invoice,
    line_products,
    outgoing,
    project,
    work_line,
)

__all__ = [
    "INVOICE_DATE",
    "contact",
    "credit_note",
    "customer",
    "dkk",
    "employee",
    "invoice",
    "line_products",
    "outgoing",
    "project",
    "work_line",
]
