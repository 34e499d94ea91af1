"""The operations FinancialHost executes, as versioned pydantic schemas (design §10).

This is a closed allow-list: the host serves exactly :data:`OPERATIONS` under
``POST /v1/ops/{name}``, validates every body against its request model and rejects anything
else. There is no pass-through to the ERP. The models are ERP-neutral: the host's plugin maps
them to NAV pages or Visma ADK records.

Money travels as decimal strings with a currency code; never floats. Credit notes carry the
PSA's signs (negative quantities and totals); a plugin turns them into the ERP's credit
document.

Reads answer at once. Writes are **jobs**: the host persists them before it touches the ERP,
answers with a :class:`JobOutcome` and, if the ERP cannot be reached, retries them later
(store-and-forward). A write's ``idempotency_key`` identifies the business effect: the same key
never creates twice, and the same key with a different body is a conflict.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from ledgerlink.wire.relay import AuditAnchor

WIRE_VERSION = "1"

#: A decimal amount, serialised as a string so no float ever touches it.
Amount = Annotated[Decimal, PlainSerializer(str, return_type=str, when_used="json")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, Field(pattern=r"^([A-Z]{2})?$")]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=200)]
Cursor = Annotated[str | None, Field(default=None, max_length=500)]
Limit = Annotated[int, Field(default=500, ge=1, le=1000)]


class WireModel(BaseModel):
    """Strict, closed schemas: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# shared records ----------------------------------------------------------------------------------


class CustomerFields(WireModel):
    number: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=250)
    address_lines: tuple[str, ...] = Field(default=(), max_length=4)
    postal_code: str = ""
    city: str = ""
    country: Country = ""
    currency: str = ""
    vat_number: str = ""
    registration_number: str = ""
    ean: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    payment_terms_days: int = Field(default=30, ge=0, le=365)
    salesperson: str = ""  # initials
    blocked: bool = False


class WireCustomer(CustomerFields):
    """A PSA customer to create or update in the ERP."""

    currency: Currency


class ErpCustomerRecord(CustomerFields):
    """A customer as the ERP holds it (import and linking); no currency means the base one."""

    external_id: str
    updated: date | None = None


class WireContact(WireModel):
    name: str = Field(min_length=1, max_length=250)
    email: str = ""
    phone: str = ""
    title: str = ""


class WireEmployee(WireModel):
    initials: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=250)
    email: str = ""
    department: str = ""


class WireProject(WireModel):
    number: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=250)
    customer_number: str = ""
    active: bool = True


class WireProduct(WireModel):
    number: str
    name: str
    unit: str = ""
    department: str = ""
    barred: bool = False


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class LineKind(enum.StrEnum):
    """What the line bills. ``text`` lines carry no amount; the others carry a product number."""

    WORK = "work"
    EXPENSE = "expense"
    TRAVEL = "travel"
    MILEAGE = "mileage"
    PRODUCT = "product"
    TEXT = "text"


class WireLine(WireModel):
    kind: LineKind
    description: str = Field(max_length=2000)
    product_number: str = ""  # empty on text lines
    quantity: Amount = Decimal(0)
    unit: str = ""
    unit_price: Amount = Decimal(0)
    discount_percent: Amount = Field(default=Decimal(0), ge=0, le=100)
    day: date | None = None  # for the date-prefixed line option
    project_number: str = ""
    department: str = ""  # invoice/employee department number (a dimension)
    #: The VAT rate the PSA applied to the line (0 for reverse charge, export and exempt
    #: lines); ``None``: not stated, the ERP's own VAT set-up decides. A plugin whose ERP
    #: takes a VAT code per line sends the code of this rate, so the ERP computes the PSA's VAT.
    vat_percent: Amount | None = Field(default=None, ge=0, le=100)


class WireDocument(WireModel):
    """A posted PSA invoice or credit note, resolved to ERP references by the hub."""

    kind: DocumentKind
    correlation: str = Field(min_length=1, max_length=35)  # searchable in the ERP
    psa_number: str = ""
    customer_number: str = Field(min_length=1)
    contact_ref: str = ""  # the external id contact.upsert returned
    salesperson: str = ""  # initials
    currency: Currency
    invoice_date: date
    due_date: date
    heading: str = ""
    customer_reference: str = ""
    requisition_number: str = ""
    ean: str = ""
    project_number: str = ""
    department: str = ""
    original_correlation: str = ""  # a credit note's invoice, when known
    lines: tuple[WireLine, ...] = Field(min_length=1, max_length=1000)
    expected_net: Amount
    expected_gross: Amount


class DocumentResult(WireModel):
    external_id: str
    correlation: str
    currency: str
    net: Amount
    vat: Amount
    gross: Amount
    document_number: str = ""  # the ERP's number, once it has one (draft or posted)
    booked_number: str = ""


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"
    BOOKED = "booked"
    DELETED = "deleted"


class StatusRecord(WireModel):
    correlation: str
    external_id: str
    status: DocumentStatus
    booked_number: str = ""
    currency: str = ""
    gross: Amount | None = None
    remainder: Amount | None = None
    paid: bool = False
    due_date: date | None = None
    #: The ERP's posting date of a booked document. Optional: a host older than this field
    #: sends none, and the hub then shows no date.
    booked_on: date | None = None


class ExpenseRecord(WireModel):
    external_id: str
    day: date
    currency: str
    amount: Amount
    amount_in_base_currency: Amount
    text: str = ""
    voucher_number: str = ""
    project_number: str = ""
    account: str = ""


class ChangeRecord(WireModel):
    """An ERP-side change reported through the callback (e.g. the NAV change log)."""

    sequence: int
    entity: str  # customer, contact, employee, sales_document, …
    table_id: int | None = None
    record_key: str
    change: Literal["insert", "modify", "delete"]
    changed_at: datetime


# requests and results ----------------------------------------------------------------------------


class Empty(WireModel):
    pass


class ConnectionTest(WireModel):
    #: The audit record count the hub holds for this host: the answer carries that record's
    #: MAC, so the hub can tell whether the chain still runs through what it saw.
    audit_held_count: int | None = Field(default=None, ge=0, le=2**63 - 1)  # a SQLite integer


class ConnectionInfo(WireModel):
    system: str  # "nav" | "visma"
    company_name: str
    account_id: str
    base_currency: str
    erp_version: str = ""
    host_version: str = ""
    capabilities: tuple[str, ...] = ()  # operation names the plugin supports
    audit: AuditAnchor | None = None  # the host's audit head, for the hub to keep


class CustomerFind(WireModel):
    number: str = Field(min_length=1)


class CustomerFound(WireModel):
    customer: ErpCustomerRecord | None = None


class PageRequest(WireModel):
    cursor: Cursor = None
    limit: Limit = 500


class CustomerPage(WireModel):
    items: tuple[ErpCustomerRecord, ...]
    cursor: str | None
    more: bool = False


class ProductsRead(WireModel):
    source: Literal["items", "gl_accounts"] | None = None  # None: the host's setting


class ProductList(WireModel):
    items: tuple[WireProduct, ...]


class DocumentFind(WireModel):
    correlation: str = Field(min_length=1, max_length=35)


class DocumentFound(WireModel):
    document: DocumentResult | None = None


class StatusPage(WireModel):
    items: tuple[StatusRecord, ...]
    cursor: str | None
    more: bool = False


class ExpensePage(WireModel):
    items: tuple[ExpenseRecord, ...]
    cursor: str | None
    more: bool = False


class ChangePage(WireModel):
    items: tuple[ChangeRecord, ...]
    cursor: str | None
    more: bool = False


class JobQuery(WireModel):
    idempotency_key: IdempotencyKey


class HealthReport(WireModel):
    status: Literal["ok", "degraded"]
    erp_reachable: bool
    erp_error: str = ""
    queue_depth: int
    oldest_pending_seconds: float | None = None
    host_version: str
    wire_version: str = WIRE_VERSION
    certificate_expires: datetime | None = None


class VersionInfo(WireModel):
    host_version: str
    wire_version: str = WIRE_VERSION
    plugin: str
    erp_version: str = ""


class CustomerUpsert(WireModel):
    idempotency_key: IdempotencyKey
    customer: WireCustomer


class ContactUpsert(WireModel):
    idempotency_key: IdempotencyKey
    customer_number: str = Field(min_length=1)
    contact: WireContact


class EmployeeEnsure(WireModel):
    idempotency_key: IdempotencyKey
    employee: WireEmployee


class ProjectEnsure(WireModel):
    idempotency_key: IdempotencyKey
    project: WireProject


class DraftCreate(WireModel):
    idempotency_key: IdempotencyKey
    document: WireDocument


class ExpenseNotify(WireModel):
    idempotency_key: IdempotencyKey
    external_id: str = Field(min_length=1)
    state: Literal["taken", "deleted"]


class PushOutcome(WireModel):
    external_id: str
    created: bool = True


class Ack(WireModel):
    ok: bool = True


# jobs (store-and-forward) ------------------------------------------------------------------------


class JobState(enum.StrEnum):
    PENDING = "pending"  # accepted and stored; not yet done in the ERP (maybe waiting for it)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the ERP refused it; retrying the same body will not help


class FieldProblem(WireModel):
    path: str
    message: str
    code: str = ""
    value: str = ""


class ErrorCode(enum.StrEnum):
    """Why a request or a job failed, by what the caller should do."""

    UNAUTHENTICATED = "unauthenticated"  # 401: signature missing, wrong, expired or replayed
    FORBIDDEN = "forbidden"  # 403: address or operation not allowed
    TOO_LARGE = "too_large"  # 413
    TIMEOUT = "timeout"  # 408: the body did not arrive in time
    RATE_LIMITED = "rate_limited"  # 429: too many refused requests; wait Retry-After
    INVALID = "invalid"  # 422: the body does not match the operation's schema
    CONFLICT = "conflict"  # 409: idempotency key reused with another body
    NOT_FOUND = "not_found"  # 404: no such operation or job
    ERP_REJECTED = "erp_rejected"  # the ERP refused the data: fix it, then send again
    ERP_UNAVAILABLE = "erp_unavailable"  # the ERP cannot be reached now; the job waits
    INTERNAL = "internal"


class WireError(WireModel):
    code: ErrorCode
    message: str
    erp_text: str = ""
    hint: str = ""
    field_errors: tuple[FieldProblem, ...] = ()


class ErrorBody(WireModel):
    error: WireError


class JobOutcome(WireModel):
    job_id: str
    operation: str
    idempotency_key: str
    state: JobState
    attempts: int = 0
    accepted_at: datetime
    finished_at: datetime | None = None
    next_attempt_at: datetime | None = None
    result: dict[str, object] | None = None
    error: WireError | None = None
    last_problem: str = ""  # why the last attempt did not finish (ERP unavailable …)


# the allow-list ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """One allow-listed operation: its name (the URL path segment), schemas and kind."""

    name: str
    request: type[WireModel]
    result: type[WireModel]
    write: bool
    summary: str


_ALL = (
    Operation("connection.test", ConnectionTest, ConnectionInfo, False, "Test the ERP access"),
    Operation("host.health", Empty, HealthReport, False, "Host, queue and ERP health"),
    Operation("host.version", Empty, VersionInfo, False, "Host, wire and ERP versions"),
    Operation("customer.find", CustomerFind, CustomerFound, False, "Find a customer by number"),
    Operation("customers.read", PageRequest, CustomerPage, False, "Customers changed since"),
    Operation("products.read", ProductsRead, ProductList, False, "Items or G/L accounts"),
    Operation("document.find", DocumentFind, DocumentFound, False, "Find a draft or posting"),
    Operation("statuses.read", PageRequest, StatusPage, False, "Number/status/paid since"),
    Operation("expenses.read", PageRequest, ExpensePage, False, "Expense pool since"),
    Operation("changes.read", PageRequest, ChangePage, False, "ERP-side changes since"),
    Operation("job.status", JobQuery, JobOutcome, False, "Status of an accepted write"),
    Operation("customer.upsert", CustomerUpsert, PushOutcome, True, "Create or update"),
    Operation("contact.upsert", ContactUpsert, PushOutcome, True, "Create or update a contact"),
    Operation("employee.ensure", EmployeeEnsure, PushOutcome, True, "Ensure an employee"),
    Operation("project.ensure", ProjectEnsure, PushOutcome, True, "Ensure a project"),
    Operation("document.create_draft", DraftCreate, DocumentResult, True, "Draft invoice/credit"),
    Operation("expense.notify", ExpenseNotify, Ack, True, "An expense was taken or deleted"),
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in _ALL}
