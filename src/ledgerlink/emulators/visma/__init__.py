"""The Visma Administration twin: the ADK emulated over a SQLite company folder.

Visma Administration has no HTTP API: FinancialHost's Visma plugin calls the ADK in-process.
Its emulator is therefore not an ASGI app but an implementation of the ADK interface
(:mod:`ledgerlink.interfaces.visma_adk`):

* :class:`~.adk.EmulatedAdk` — the ADK functions, field metadata, number series, totals,
  timestamps and Visma's error codes and texts (see :mod:`.adk`);
* :mod:`.admin` — the ERP user's side: create a (demo) company folder, book invoices, register
  payments, add projects, säljare and countries, inject licence faults, take the ERP offline.

A FinancialHost finds it by the name ``emulated`` (``[visma] adk = "emulated"``) through the
``ledgerlink.visma_adk`` entry point group, so the host never imports the emulators.
"""

from __future__ import annotations

from ledgerlink.emulators.visma.adk import EmulatedAdk
from ledgerlink.emulators.visma.admin import (
    LICENCE_FAULTS,
    AdminRefused,
    add_country,
    book_invoice,
    create_company,
    create_project,
    create_seller,
    is_company,
    register_payment,
    set_hold_after_add,
    set_licence_fault,
    set_offline,
)

__all__ = [
    "LICENCE_FAULTS",
    "AdminRefused",
    "EmulatedAdk",
    "add_country",
    "book_invoice",
    "create_company",
    "create_project",
    "create_seller",
    "is_company",
    "register_payment",
    "set_hold_after_add",
    "set_licence_fault",
    "set_offline",
]
