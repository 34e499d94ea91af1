"""What FinancialHost asks of an ERP plugin (``nav``, ``visma``).

A plugin maps the wire contract's neutral operations to one local ERP and nothing else: the host
owns security, audit, the job queue and retries. A plugin says how a call failed by raising
:class:`ErpUnavailable` (nothing happened; the host keeps the job and tries again later) or
:class:`ErpRejected` (the ERP refused the data; the job fails with the ERP's own text and a hint).
Anything else is a bug and is treated as unavailable, so no accepted job is ever dropped.

Writes must be safe to repeat: upserts match on the ERP's natural key (customer number,
initials, project number) and a draft is looked up by its correlation reference
(:meth:`ErpPlugin.find_document`) before the host lets the plugin create it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from ledgerlink.wire.operations import (
    Ack,
    ConnectionInfo,
    CustomerPage,
    DocumentResult,
    ErpCustomerRecord,
    ExpensePage,
    FieldProblem,
    ProductList,
    PushOutcome,
    StatusPage,
    WireContact,
    WireCustomer,
    WireDocument,
    WireEmployee,
    WireProject,
)


class PluginError(Exception):
    """Base of the errors a plugin raises. ``erp_text`` is the ERP's own wording."""

    def __init__(
        self,
        message: str,
        *,
        erp_text: str = "",
        hint: str = "",
        field_errors: Sequence[FieldProblem] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.erp_text = erp_text
        self.hint = hint
        self.field_errors = tuple(field_errors)


class ErpUnavailable(PluginError):
    """The ERP could not be reached or was busy (service down, licence seats taken, timeout
    before anything was written). The same call may succeed later."""


class ErpRejected(PluginError):
    """The ERP refused the data or the setup is missing something (unknown currency, country,
    salesperson, project). Retrying the same data will not help."""


class ErpPlugin(Protocol):
    """One local ERP behind the host. Every method may raise :class:`PluginError`."""

    name: str  # "nav" | "visma"

    def supported(self) -> frozenset[str]:
        """The wire operation names this plugin implements (others are refused)."""
        ...

    def test(self) -> ConnectionInfo: ...

    def erp_version(self) -> str: ...

    def find_customer(self, number: str) -> ErpCustomerRecord | None: ...

    def customers(self, cursor: str | None, limit: int) -> CustomerPage: ...

    def products(self, source: Literal["items", "gl_accounts"] | None) -> ProductList: ...

    def find_document(self, correlation: str) -> DocumentResult | None: ...

    def statuses(self, cursor: str | None, limit: int) -> StatusPage: ...

    def expenses(self, cursor: str | None, limit: int) -> ExpensePage: ...

    def upsert_customer(self, customer: WireCustomer) -> PushOutcome: ...

    def upsert_contact(self, customer_number: str, contact: WireContact) -> PushOutcome: ...

    def ensure_employee(self, employee: WireEmployee) -> PushOutcome: ...

    def ensure_project(self, project: WireProject) -> PushOutcome: ...

    def create_draft(self, document: WireDocument) -> DocumentResult: ...

    def notify_expense(self, external_id: str, state: Literal["taken", "deleted"]) -> Ack: ...

    def close(self) -> None: ...
