"""What the engine and every connector agree on (design §6).

A connector translates between these neutral types and one ERP API, nothing else. The engine
asks a connector's :class:`Capabilities`, never its class or ERP name, and handles its errors by
class: :class:`Transient` (retry later), :class:`Uncertain` (the write may have happened: look
the correlation reference up before trying again), :class:`Permanent` (the user must fix data or
setup; shown with the ERP's own text and a hint) and :class:`AuthExpired` (reconnect).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import TotalsRule
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.work import Expense, Project

# errors ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """One rejected field as the ERP reported it, e.g. ``lines[2].product`` E06000."""

    path: str
    message: str
    code: str = ""
    value: str = ""


class ConnectorError(Exception):
    """Base of the errors a connector raises. ``erp_text`` is the ERP's own wording,
    ``hint`` says what the user should do, ``status`` is the HTTP status if there was one;
    ``missing_products`` are the product numbers the ERP refused as unknown (the engine names
    them to the user)."""

    def __init__(
        self,
        message: str,
        *,
        erp_text: str = "",
        hint: str = "",
        status: int | None = None,
        field_errors: Sequence[FieldError] = (),
        missing_products: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.erp_text = erp_text
        self.hint = hint
        self.status = status
        self.field_errors = tuple(field_errors)
        self.missing_products = tuple(missing_products)

    def __str__(self) -> str:
        parts = [self.message]
        if self.erp_text and self.erp_text not in self.message:
            parts.append(f"ERP said: {self.erp_text}")
        if self.hint:
            parts.append(self.hint)
        return " — ".join(parts)


class Transient(ConnectorError):
    """Nothing happened in the ERP; the same request may succeed later (5xx before any effect,
    429, connection refused). ``retry_after`` is the server's wait in seconds, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        erp_text: str = "",
        hint: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, erp_text=erp_text, hint=hint, status=status)
        self.retry_after = retry_after


class Uncertain(ConnectorError):
    """A write was sent and no answer came back (timeout, reset after sending): it may have
    taken effect. Look the correlation reference up before sending it again."""


class Permanent(ConnectorError):
    """The ERP refused the request for a reason that retrying will not change: invalid data,
    missing setup (currency, product number), closed period, missing rights."""


class AuthExpired(ConnectorError):
    """The credentials are no longer accepted (revoked grant, expired refresh token)."""


# capabilities -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector supports, as data. The engine plans a transfer from this alone."""

    customer_push: bool = False
    customer_import: bool = False
    contact_push: bool = False  # pushed together with an invoice
    employee_push: bool = False  # as the invoice's internal reference
    project_push: bool = False
    product_import: bool = False
    invoice_push: bool = False
    credit_note_push: bool = False
    balancing: bool = False
    expense_import: bool = False
    #: PSA expenses go to the ERP as vouchers with their receipts (:class:`ExpenseExport`).
    expense_export: bool = False
    customer_master_modes: frozenset[CustomerMaster] = frozenset({CustomerMaster.PSA})
    dimensions: tuple[str, ...] = ()  # e.g. ("project",) — sent on invoice lines/headers
    max_heading_length: int | None = None
    max_line_description_length: int | None = None
    #: How the ERP rounds a document's totals (design §6 "Totals"): the totals check accepts
    #: what this rule gives and flags anything else.
    totals: TotalsRule = field(default_factory=TotalsRule)


# neutral data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """What ``verify`` learned about the account the credentials open."""

    company_name: str
    account_id: str  # agreement number, company id, database …
    base_currency: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ErpCustomer:
    """A customer as it exists in the ERP, for import and linking."""

    external_id: str
    number: str
    name: str
    currency: str = ""
    country: str = ""
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    vat_number: str = ""
    ean: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    barred: bool = False
    updated: date | None = None


@dataclass(frozen=True, slots=True)
class ErpProduct:
    """A product number imported from the ERP (the ERP is the master of product numbers)."""

    number: str
    name: str
    unit: str = ""
    department: str = ""  # department / dimension the ERP adds to lines with this product
    barred: bool = False


@dataclass(frozen=True, slots=True)
class OutgoingDocument:
    """A posted PSA invoice or credit note, resolved to ERP references by the engine.

    ``line_products`` has one product number per invoice line ("" for text lines);
    ``correlation`` is the reference written into the ERP's searchable field so a lost answer
    can be found again; ``credits_ref``, on a credit note, the ERP's id of the invoice it
    credits ("" when that invoice did not go to this ERP).
    """

    invoice: Invoice
    correlation: str
    customer_ref: str
    line_products: tuple[str, ...]
    contact_ref: str = ""
    salesperson_ref: str = ""
    project_ref: str = ""
    psa_reference: str = ""  # the PSA's own invoice reference, shown in the ERP
    credits_ref: str = ""


@dataclass(frozen=True, slots=True)
class ErpDocument:
    """A document as it exists in the ERP after a push, or found by its correlation."""

    external_id: str
    correlation: str
    net: Money
    vat: Money
    gross: Money
    booked_number: str = ""


class PostingStatus(enum.StrEnum):
    DRAFT = "draft"
    BOOKED = "booked"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """Balancing: what the ERP says about one document we sent."""

    correlation: str
    external_id: str
    status: PostingStatus
    booked_number: str = ""
    gross: Money | None = None
    remainder: Money | None = None
    paid: bool = False
    due_date: date | None = None
    booked_on: date | None = None  # the ERP's posting date of a booked document


@dataclass(frozen=True, slots=True)
class ErpExpense:
    """An expense entry read from the ERP (always excluding VAT)."""

    external_id: str
    day: date
    amount: Money
    amount_in_base_currency: Money
    text: str = ""
    voucher_number: str = ""
    project_ref: str = ""
    account: str = ""


@dataclass(frozen=True, slots=True)
class ExpenseReceipt:
    """The receipt of an expense as a file: its name and bytes."""

    name: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class OutgoingExpense:
    """A PSA expense resolved for export: ``correlation`` is written into the ERP's voucher
    so a lost answer can be found again; ``employee_name`` says whose outlay it is;
    ``project_ref`` is the ERP's project ("" for none) and ``department`` the PSA project's
    department (an ERP may book it as a cost centre)."""

    expense: Expense
    correlation: str
    employee_name: str
    project_ref: str = ""
    department: str = ""


@dataclass(frozen=True, slots=True)
class ExportedExpense:
    """The ERP's voucher of an exported expense: ``external_id`` identifies it for later
    calls (what the external key keeps), ``number`` is how the ERP's users name it."""

    external_id: str
    number: str
    correlation: str


_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Batch(Generic[_T]):
    """One incremental read: the items, and the cursor to store with them (``None``: no
    change to the stored cursor)."""

    items: tuple[_T, ...]
    cursor: str | None
    more: bool = False


@dataclass(frozen=True, slots=True)
class PushResult:
    """External id of something the connector created or found."""

    external_id: str
    created: bool = True
    extra: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """A write a transfer would send, for a preview: ``body`` is the exact JSON."""

    method: str
    path: str
    body: Any
    purpose: str = ""


# protocols ----------------------------------------------------------------------------------------


@runtime_checkable
class Connector(Protocol):
    """Every connector: what it can do and whether its credentials work."""

    capabilities: Capabilities

    def verify(self) -> ConnectionInfo: ...

    def close(self) -> None: ...


class CustomerSync(Protocol):
    def find_customer(self, number: str) -> ErpCustomer | None: ...

    def create_customer(self, customer: Customer) -> PushResult: ...

    def update_customer(self, external_id: str, customer: Customer) -> None: ...

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]: ...


class ContactPush(Protocol):
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult: ...


class EmployeePush(Protocol):
    def ensure_employee(self, employee: Employee) -> PushResult: ...


class ProjectPush(Protocol):
    def ensure_project(self, project: Project, customer_ref: str) -> PushResult: ...


class ProductImport(Protocol):
    def products(self) -> Sequence[ErpProduct]: ...


class InvoicePush(Protocol):
    def find_document(self, correlation: str) -> ErpDocument | None: ...

    def create_document(self, document: OutgoingDocument) -> ErpDocument: ...


class StatusPull(Protocol):
    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]: ...


class ExpenseImport(Protocol):
    def expenses(self, cursor: str | None) -> Batch[ErpExpense]: ...


class ExpenseExport(Protocol):
    """PSA expenses → ERP vouchers with the receipt attached (declared by
    ``Capabilities.expense_export``; get it with :func:`expense_export_of`).

    Exactly once: :meth:`find_expense` looks the correlation up; the caller asks it before
    :meth:`export_expense` whenever an earlier attempt may have reached the ERP, and after an
    :class:`Uncertain` one. :meth:`attach_receipt` is safe to call again: with ``look_first``
    it finds a receipt an earlier attempt uploaded or attached instead of sending it twice."""

    def expense_export_start(self) -> date | None:
        """Expenses dated before this day are not exported (``None``: all)."""
        ...

    def find_expense(self, expense: OutgoingExpense) -> ExportedExpense | None: ...

    def export_expense(self, expense: OutgoingExpense) -> ExportedExpense: ...

    def attach_receipt(
        self, voucher: ExportedExpense, receipt: ExpenseReceipt, *, look_first: bool
    ) -> str:
        """Upload the receipt and attach it to the voucher; returns the ERP's file id."""
        ...


def expense_export_of(connector: Connector) -> ExpenseExport | None:
    """The connector's :class:`ExpenseExport` when its capabilities declare one, else
    ``None``. Not part of :class:`ErpConnector` (only a connector that exports expenses has
    these methods); the capability is the promise that they are there."""
    if not connector.capabilities.expense_export:
        return None
    return cast(ExpenseExport, connector)


class Preview(Protocol):
    """The writes a transfer would send, rendered by the same mapping, without sending them.
    A preview may read what its mapping needs from the ERP (a customer's terms); it never
    writes."""

    def preview_customer(self, customer: Customer) -> list[PlannedRequest]: ...

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]: ...


class ErpConnector(
    Connector,
    Preview,
    CustomerSync,
    ContactPush,
    EmployeePush,
    ProjectPush,
    ProductImport,
    InvoicePush,
    StatusPull,
    ExpenseImport,
    Protocol,
):
    """The whole surface the engine may call. A connector implements every method; one its
    :class:`Capabilities` do not declare raises :class:`Permanent` ("not supported") and is
    never called by the engine."""
