"""The JSON API's request and response bodies (pydantic models: the OpenAPI document's schemas).

PSA records come in with the columns of the file import (README "Importing"), as JSON values:
text, amounts as decimal strings ("950.00"), ``billable`` true/false. The models check only the
JSON shape; every rule (required values, formats, references) is the import's own, run by
:func:`ledgerlink.psa.importing.import_rows`, so the API accepts exactly what a file would.
Amounts in answers are decimal strings too, never JSON numbers (no binary floating point).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ledgerlink.domain.billing import Grouping, RateSource
from ledgerlink.domain.invoices import DocumentType, Invoice, InvoiceStatus
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import (
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferView,
)
from ledgerlink.store.repositories import Change
from ledgerlink.sync.table import TransferRow


def _utc(moment: datetime) -> datetime:
    """SQLite gives back the naive UTC times it was given; answers always carry the zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: A moment in time, with its zone (RFC 3339 date-time).
Moment = Annotated[datetime, AfterValidator(_utc)]
#: A value of an import column (the import checks it; this only bounds what is read).
Text = Annotated[str, StringConstraints(max_length=1000)]
#: An amount or quantity: a decimal string such as "950.00".
Amount = Annotated[
    str,
    StringConstraints(max_length=40),
    Field(description='A decimal number as a string, e.g. "950.00".', examples=["950.00"]),
]


class _Record(BaseModel):
    """A PSA record in; unknown keys are refused as the import refuses unknown columns."""

    model_config = ConfigDict(extra="forbid")


class CustomerIn(_Record):
    """A customer, upserted by ``number``."""

    number: Text
    name: Text
    country: Text = Field(description="ISO 3166 country code, e.g. DK.")
    currency: Text = Field(description="ISO 4217 currency code, e.g. DKK.")
    address1: Text | None = None
    address2: Text | None = None
    address3: Text | None = None
    postal_code: Text | None = None
    city: Text | None = None
    vat_number: Text | None = None
    registration_number: Text | None = None
    ean: Text | None = None
    payment_terms: Text | None = Field(default=None, description="e.g. 'net 30'.")
    email: Text | None = None
    phone: Text | None = None
    website: Text | None = None


class ContactIn(_Record):
    """A contact person of a customer, upserted by customer and name."""

    customer_number: Text
    name: Text
    email: Text | None = None
    phone: Text | None = None
    title: Text | None = None


class EmployeeIn(_Record):
    """An employee, upserted by ``initials``."""

    initials: Text
    name: Text
    email: Text | None = None
    department: Text | None = None


class ProjectIn(_Record):
    """A project of a customer, upserted by ``number``."""

    number: Text
    name: Text
    customer_number: Text
    manager_initials: Text | None = None
    department: Text | None = None
    hourly_rate: Amount | None = None
    currency: Text | None = Field(default=None, description="Default: the customer's.")


class RegistrationIn(_Record):
    """A time registration, upserted by ``ref`` (without one, always a new registration)."""

    date: Text = Field(description="YYYY-MM-DD.")
    employee_initials: Text
    project_number: Text
    ref: Text | None = None
    minutes: int | Text | None = Field(default=None, description="Minutes, or give hours.")
    hours: Amount | None = None
    task: Text | None = None
    billable: bool | None = None
    hourly_rate: Amount | None = None
    comment: Text | None = None


class ExpenseIn(_Record):
    """An expense, upserted by ``ref`` (without one, always a new expense)."""

    date: Text = Field(description="YYYY-MM-DD.")
    employee_initials: Text
    project_number: Text
    description: Text
    unit_price: Amount
    ref: Text | None = None
    type: Text | None = Field(default=None, description="expense, travel or mileage.")
    quantity: Amount | None = None
    unit: Text | None = None
    currency: Text | None = Field(default=None, description="Default: the project's.")
    vat_category: Text | None = None
    billable: bool | None = None
    receipt_file: Text | None = Field(
        default=None,
        description="The name of a file in the hub's receipts folder (a bare name, no path).",
    )


class RecordOut(BaseModel):
    """What storing one record did."""

    kind: str = Field(description="customers, contacts, employees, projects, …")
    change: Change
    key: dict[str, str] = Field(description="The record's natural key, as stored.")


# invoices ---------------------------------------------------------------------------------------


class DraftInvoiceIn(_Record):
    """Draft an invoice of a project's uninvoiced billable work in a period."""

    project_number: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    period_start: date
    period_end: date
    invoice_date: date
    grouping: Grouping = Grouping.EMPLOYEE
    rate_source: RateSource = RateSource.REGISTRATION
    include_expenses: bool = True
    heading: Annotated[str, StringConstraints(max_length=500)] | None = None
    message: Annotated[str, StringConstraints(max_length=4000)] = ""
    requisition_number: Annotated[str, StringConstraints(max_length=100)] = ""
    customer_reference: Annotated[str, StringConstraints(max_length=100)] = ""


class PostInvoiceIn(_Record):
    """Post a draft invoice or credit note (it gets its number)."""

    posting_date: date
    release_sources: bool = Field(
        default=False,
        description="Only for a credit note completing a full credit: the invoice's "
        "registrations and expenses become invoiceable again.",
    )


class CreditInvoiceIn(_Record):
    """Draft a credit note of a posted invoice: all that is still open, or some lines."""

    invoice_date: date
    quantities: (
        dict[Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,5}$")], Amount] | None
    ) = Field(
        default=None,
        description='Quantity to credit per line position (1-based), e.g. {"1": "2.5"}.',
    )
    heading: Annotated[str, StringConstraints(max_length=500)] | None = None


class MoneyOut(BaseModel):
    amount: str = Field(description="Decimal string.", examples=["1234.50"])
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=str(money.amount), currency=money.currency)


class InvoiceLineOut(BaseModel):
    position: int
    kind: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    vat_category: str
    product_number: str


class InvoiceOut(BaseModel):
    """An invoice or credit note."""

    id: int
    document_type: DocumentType
    status: InvoiceStatus
    number: int | None
    legal_entity_id: int
    customer_id: int
    project_id: int | None
    credits_invoice_id: int | None
    currency: str
    invoice_date: date
    due_date: date
    posting_date: date | None
    heading: str
    net: str
    vat: str
    gross: str
    lines: list[InvoiceLineOut]

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        assert invoice.id is not None
        totals = invoice.current_totals()
        return cls(
            id=invoice.id,
            document_type=invoice.document_type,
            status=invoice.status,
            number=invoice.number,
            legal_entity_id=invoice.legal_entity_id,
            customer_id=invoice.customer_id,
            project_id=invoice.project_id,
            credits_invoice_id=invoice.credits_invoice_id,
            currency=invoice.currency,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            posting_date=invoice.posting_date,
            heading=invoice.heading,
            net=str(totals.net.amount),
            vat=str(totals.vat.amount),
            gross=str(totals.gross.amount),
            lines=[
                InvoiceLineOut(
                    position=position,
                    kind=line.kind.value,
                    description=line.description,
                    quantity=str(line.quantity),
                    unit=line.unit,
                    unit_price=str(line.unit_price.amount),
                    discount_percent=str(line.discount_percent),
                    vat_category=line.vat_category.value,
                    product_number=line.product_number,
                )
                for position, line in enumerate(invoice.lines, start=1)
            ],
        )


# transfer state ---------------------------------------------------------------------------------


class ConnectionOut(BaseModel):
    """A connection to an ERP (never its credentials)."""

    id: int
    legal_entity_id: int
    erp: str
    company_name: str
    active: bool
    automatic_transfer: bool
    verified_at: Moment | None


class TransferRowOut(BaseModel):
    """One row of the transfer table."""

    invoice_id: int
    number: int | None
    document_type: DocumentType
    customer_number: str
    customer_name: str
    posting_date: date | None
    gross: str
    currency: str
    view: TransferView
    attention: str = Field(description="What needs a user ('' when nothing).")
    erp_draft: str = Field(description="The ERP's id of the draft ('' before a transfer).")
    erp_number: str = Field(description="The ERP's number of the booked document ('' before).")
    erp_status: str = Field(description="The ERP's posting status, as balancing last read it.")
    erp_posting_date: date | None = Field(
        description="The ERP's posting date of the booked document (null: not booked, or the "
        "ERP has not told it)."
    )
    remainder: str | None = Field(description="The ERP's open amount (decimal string).")
    paid: bool
    last_transfer_id: int | None
    last_transfer_status: TransferStatus | None
    message: str

    @classmethod
    def of(cls, row: TransferRow) -> TransferRowOut:
        assert row.invoice.id is not None
        erp, latest = row.erp, row.latest
        gross = row.invoice.current_totals().gross
        return cls(
            invoice_id=row.invoice.id,
            number=row.invoice.number,
            document_type=row.invoice.document_type,
            customer_number=row.customer_number,
            customer_name=row.customer_name,
            posting_date=row.invoice.posting_date,
            gross=str(gross.amount),
            currency=gross.currency,
            view=row.view,
            attention=row.attention,
            erp_draft=row.external_id,
            erp_number=erp.booked_number if erp else "",
            erp_status=erp.status if erp else "",
            erp_posting_date=erp.booked_on if erp else None,
            remainder=None if erp is None or erp.remainder is None else str(erp.remainder.amount),
            paid=bool(erp and erp.paid),
            last_transfer_id=latest.id if latest else None,
            last_transfer_status=latest.status if latest else None,
            message=latest.message if latest else "",
        )


class StepOut(BaseModel):
    """One step of a transfer, with the ERP's own text and a hint when it failed."""

    step: StepKind
    status: StepStatus
    attempts: int
    message: str
    erp_text: str
    hint: str
    external_id: str
    finished_at: Moment | None


class TransferOut(BaseModel):
    """One transaction of the integration log."""

    id: int
    connection_id: int
    invoice_id: int
    document_number: int | None
    revision: int
    status: TransferStatus
    message: str
    started_at: Moment | None
    finished_at: Moment | None
    resolved_at: Moment | None
    href: str = Field(description="Where to read this transfer again (poll while pending).")
    steps: list[StepOut]

    @classmethod
    def of(cls, transfer: Transfer, number: int | None, href: str) -> TransferOut:
        assert transfer.id is not None
        return cls(
            id=transfer.id,
            connection_id=transfer.connection_id,
            invoice_id=transfer.invoice_id,
            document_number=number,
            revision=transfer.revision,
            status=transfer.status,
            message=transfer.message,
            started_at=transfer.started_at,
            finished_at=transfer.finished_at,
            resolved_at=transfer.resolved_at,
            href=href,
            steps=[
                StepOut(
                    step=s.kind,
                    status=s.status,
                    attempts=s.attempts,
                    message=s.message,
                    erp_text=s.erp_text,
                    hint=s.hint,
                    external_id=s.external_id,
                    finished_at=s.finished_at,
                )
                for s in transfer.steps
            ],
        )


class TransferRequestIn(_Record):
    """Transfer the numbered posted documents (none: every non-transferred and failed one)."""

    numbers: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(
        default_factory=list, max_length=1000
    )


class TransfersStartedOut(BaseModel):
    """Transfers started (or already running or done) for the documents asked for."""

    queued: bool = Field(
        description="True: on the durable queue now; false: a worker's next round starts them."
    )
    transfers: list[TransferOut]


class TransferRowPage(BaseModel):
    """A page of the transfer table (ordered by document number)."""

    items: list[TransferRowOut]
    limit: int = Field(description="The page size asked for (or the default).")
    next: str | None = Field(
        description="The path and query of the following page; null on the last page."
    )


class TransferPage(BaseModel):
    """A page of the integration log (newest transfer first)."""

    items: list[TransferOut]
    limit: int = Field(description="The page size asked for (or the default).")
    next: str | None = Field(
        description="The path and query of the following page; null on the last page."
    )


# actions on selected documents ------------------------------------------------------------------

DocumentNumber = Annotated[int, Field(ge=1, le=2**53)]


class DocumentsIn(_Record):
    """The numbers of posted documents of the connection's legal entity."""

    numbers: list[DocumentNumber] = Field(min_length=1, max_length=1000)


class PreviewIn(_Record):
    """The numbers of posted documents to preview (at most 100 at a time)."""

    numbers: list[DocumentNumber] = Field(min_length=1, max_length=100)


class DocumentsChangedOut(BaseModel):
    """What an action changed, and the documents' rows of the transfer table after it."""

    changed: int = Field(description="How many documents the action changed.")
    documents: list[TransferRowOut]


class PlannedRequestOut(BaseModel):
    """A request a transfer would send to the ERP, exactly (it is not sent)."""

    method: str
    path: str = Field(description="The ERP API's path, relative to the connection's base URL.")
    purpose: str
    body: str | None = Field(
        description="The body exactly as it would be sent (JSON text; amounts as the ERP wants "
        "them); null: no body."
    )


class PreviewStepOut(BaseModel):
    """One step of a previewed transfer: what it would do, and its requests."""

    step: StepKind
    summary: str
    requests: list[PlannedRequestOut]


class DocumentPreviewOut(BaseModel):
    """What a transfer of one document would do, step by step."""

    invoice_id: int
    number: int | None
    title: str
    steps: list[PreviewStepOut]


class PreviewOut(BaseModel):
    """The previews of the documents asked for: nothing was sent, nothing recorded."""

    documents: list[DocumentPreviewOut]
