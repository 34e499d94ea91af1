"""Invoices and credit notes, and their lifecycle.

    draft ──post──▶ posted ──credit note posted──▶ partially credited ──▶ credited

A draft can be edited freely. Posting gives it the next number of the legal entity's series,
a posting date and frozen totals; from then on every change is refused (``ImmutableError``)
and corrections are made with a credit note that references it. A credit note is itself
drafted and posted; it may credit whole lines or parts of their quantities, never more than
what is left to credit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerlink.domain.errors import ImmutableError, ValidationError
from ledgerlink.domain.money import Money, RoundingPoint, total
from ledgerlink.domain.parties import optional_text
from ledgerlink.domain.vat import (
    DEFAULT_VAT_RATES,
    VatCategory,
    VatLine,
    VatRateTable,
    VatTreatment,
    document_vat,
)


class LineKind(enum.StrEnum):
    """What a line bills; the ERP product number is chosen per kind (product-number principle)."""

    WORK = "work"
    EXPENSE = "expense"
    TRAVEL = "travel"
    MILEAGE = "mileage"
    PRODUCT = "product"
    TEXT = "text"


class DocumentType(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    PARTIALLY_CREDITED = "partially_credited"
    CREDITED = "credited"

    @property
    def is_posted(self) -> bool:
        return self is not InvoiceStatus.DRAFT


@dataclass(frozen=True, kw_only=True)
class InvoiceLine:
    """One line. Its net amount is quantity × unit price × (1 − discount %), rounded half up.

    Text lines carry only a description. On a credit note, quantities are negative and
    ``credits_position`` names the line of the original invoice that is credited.
    """

    id: int | None = None
    kind: LineKind
    description: str
    quantity: Decimal = Decimal(0)
    unit: str = ""
    unit_price: Money
    discount_percent: Decimal = Decimal(0)
    vat_category: VatCategory = VatCategory.STANDARD
    project_id: int | None = None
    employee_id: int | None = None
    product_number: str = ""
    credits_position: int | None = None
    time_registration_ids: tuple[int, ...] = ()
    expense_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(
            self,
            "description",
            optional_text(self.description, "line description", max_length=2000),
        )
        set_(self, "unit", optional_text(self.unit, "line unit", max_length=20))
        if self.kind is LineKind.TEXT:
            if not self.description:
                raise ValidationError("a text line needs a description")
            if self.quantity != 0 or not self.unit_price.is_zero() or self.discount_percent != 0:
                raise ValidationError("a text line has no quantity, price or discount")
            return
        if self.quantity == 0:
            raise ValidationError(f"line '{self.description}': quantity must not be 0")
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise ValidationError(f"line '{self.description}': discount must be 0–100 %")
        if self.unit_price.amount < 0:
            raise ValidationError(
                f"line '{self.description}': unit price must not be negative; "
                "use a negative quantity for a deduction"
            )

    @property
    def net_amount(self) -> Money:
        factor = self.quantity * (1 - self.discount_percent / 100)
        return self.unit_price.multiply(factor, at=RoundingPoint.LINE_AMOUNT)


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """Net, VAT per category and gross of a document (frozen on the document at posting)."""

    net: Money
    vat_lines: tuple[VatLine, ...]
    vat: Money
    gross: Money


# Fields that may still change once a document is posted: its store id, and the status
# moving on to (partially) credited.
_MUTABLE_AFTER_POSTING = frozenset({"id", "status"})


@dataclass(kw_only=True)
class Invoice:
    """An invoice or credit note of a legal entity to a customer, in the customer's currency.

    ``tax_date`` is the day whose VAT rates apply (the invoice date; for a credit note the
    date of the invoice it credits). ``revision`` counts content changes of the draft, so a
    transfer of a re-posted revision is a new transfer.
    """

    id: int | None = None
    legal_entity_id: int
    customer_id: int
    document_type: DocumentType = DocumentType.INVOICE
    number: int | None = None
    currency: str
    invoice_date: date
    due_date: date
    posting_date: date | None = None
    tax_date: date | None = None
    seller_country: str
    vat_treatment: VatTreatment = VatTreatment.DOMESTIC
    heading: str = ""
    message: str = ""
    requisition_number: str = ""
    customer_reference: str = ""
    internal_reference: str = ""
    contact_id: int | None = None
    project_id: int | None = None
    credits_invoice_id: int | None = None
    revision: int = 1
    lines: tuple[InvoiceLine, ...] = ()
    totals: DocumentTotals | None = None
    status: InvoiceStatus = InvoiceStatus.DRAFT  # last, so a posted invoice loads completely

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "heading", optional_text(self.heading, "heading", max_length=500))
        set_(self, "message", optional_text(self.message, "message", max_length=4000))
        for name, length in (
            ("requisition_number", 100),
            ("customer_reference", 100),
            ("internal_reference", 100),
        ):
            set_(
                self,
                name,
                optional_text(getattr(self, name), name.replace("_", " "), max_length=length),
            )
        if self.tax_date is None:
            set_(self, "tax_date", self.invoice_date)
        if self.due_date < self.invoice_date:
            raise ValidationError("the due date is before the invoice date")
        for line in self.lines:
            self._check_line(line)
        if self.document_type is DocumentType.CREDIT_NOTE and self.credits_invoice_id is None:
            raise ValidationError("a credit note must reference the invoice it credits")

    def __setattr__(self, name: str, value: Any) -> None:
        status = self.__dict__.get("status")
        if (
            status is not None
            and status.is_posted
            and (
                name not in _MUTABLE_AFTER_POSTING
                or (name == "status" and not InvoiceStatus(value).is_posted)
            )
        ):
            raise ImmutableError(
                f"{self.describe()} is posted and cannot be changed; "
                "make the correction with a credit note"
            )
        object.__setattr__(self, name, value)

    # reading --------------------------------------------------------------------------------
    def describe(self) -> str:
        kind = "credit note" if self.document_type is DocumentType.CREDIT_NOTE else "invoice"
        return f"{kind} {self.number}" if self.number is not None else f"draft {kind} #{self.id}"

    @property
    def is_credit_note(self) -> bool:
        return self.document_type is DocumentType.CREDIT_NOTE

    def compute_totals(self, table: VatRateTable = DEFAULT_VAT_RATES) -> DocumentTotals:
        amount_lines = [line for line in self.lines if line.kind is not LineKind.TEXT]
        net = total((line.net_amount for line in amount_lines), self.currency)
        assert self.tax_date is not None
        vat_lines = document_vat(
            ((line.vat_category, line.net_amount) for line in amount_lines),
            country=self.seller_country,
            day=self.tax_date,
            treatment=self.vat_treatment,
            currency=self.currency,
            table=table,
        )
        vat = total((v.vat for v in vat_lines), self.currency)
        return DocumentTotals(net=net, vat_lines=vat_lines, vat=vat, gross=net + vat)

    def current_totals(self) -> DocumentTotals:
        """Frozen totals of a posted document; freshly computed ones for a draft."""
        return self.totals if self.totals is not None else self.compute_totals()

    # editing a draft ------------------------------------------------------------------------
    def _check_line(self, line: InvoiceLine) -> None:
        if line.unit_price.currency != self.currency:
            raise ValidationError(
                f"line '{line.description}' is in {line.unit_price.currency}; "
                f"the document is in {self.currency}"
            )
        if self.document_type is DocumentType.INVOICE and line.credits_position is not None:
            raise ValidationError("only credit note lines can credit another line")

    def add_lines(self, lines: Iterable[InvoiceLine]) -> None:
        new_lines = tuple(lines)
        for line in new_lines:
            self._check_line(line)
        self.lines = self.lines + new_lines
        self.revision += 1

    def remove_line(self, position: int) -> InvoiceLine:
        """Remove the line at 1-based ``position`` and return it."""
        if not 1 <= position <= len(self.lines):
            raise ValidationError(f"{self.describe()} has no line {position}")
        removed = self.lines[position - 1]
        self.lines = self.lines[: position - 1] + self.lines[position:]
        self.revision += 1
        return removed

    def update_header(self, **changes: Any) -> None:
        """Change header fields of a draft (heading, message, dates, references …)."""
        allowed = {
            "invoice_date", "due_date", "heading", "message", "requisition_number",
            "customer_reference", "internal_reference", "contact_id",
        }  # fmt: skip
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))} on an invoice")
        for name, value in changes.items():
            setattr(self, name, value)
        if self.document_type is DocumentType.INVOICE:
            self.tax_date = self.invoice_date
        self.__post_init__()
        self.revision += 1

    # lifecycle ------------------------------------------------------------------------------
    def post(
        self, *, number: int, posting_date: date, table: VatRateTable = DEFAULT_VAT_RATES
    ) -> None:
        """Number the draft, freeze its totals and make it immutable."""
        if self.status is not InvoiceStatus.DRAFT:
            raise ImmutableError(f"{self.describe()} is already posted")
        if not any(line.kind is not LineKind.TEXT for line in self.lines):
            raise ValidationError(f"{self.describe()} has no lines with an amount; nothing to post")
        if posting_date < self.invoice_date:
            raise ValidationError(
                f"the posting date {posting_date} is before the invoice date "
                f"{self.invoice_date} of {self.describe()}; post on or after the invoice date"
            )
        totals = self.compute_totals(table)
        if self.is_credit_note and totals.gross.amount > 0:
            raise ValidationError("a credit note must not have a positive total")
        if not self.is_credit_note and totals.gross.amount < 0:
            raise ValidationError(
                "the invoice total is negative; make a credit note of the invoice instead"
            )
        self.number = number
        self.posting_date = posting_date
        self.totals = totals
        self.status = InvoiceStatus.POSTED

    def record_credits(self, credited: Mapping[int, Decimal]) -> None:
        """Set the status from the quantities credited so far per line position."""
        if self.is_credit_note or not self.status.is_posted:
            raise ValidationError("only posted invoices are credited")
        remaining = remaining_quantities(self, credited)
        if all(quantity == 0 for quantity in remaining.values()):
            self.status = InvoiceStatus.CREDITED
        elif any(credited.values()):
            self.status = InvoiceStatus.PARTIALLY_CREDITED
        else:
            self.status = InvoiceStatus.POSTED


def remaining_quantities(invoice: Invoice, credited: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Per 1-based line position with an amount: quantity still open for crediting."""
    return {
        position: line.quantity - credited.get(position, Decimal(0))
        for position, line in enumerate(invoice.lines, start=1)
        if line.kind is not LineKind.TEXT
    }


def draft_credit_note(
    invoice: Invoice,
    *,
    invoice_date: date,
    already_credited: Mapping[int, Decimal],
    quantities: Mapping[int, Decimal] | None = None,
    heading: str | None = None,
) -> Invoice:
    """Draft a credit note of a posted ``invoice``.

    ``quantities`` maps 1-based line positions to the (positive) quantity to credit; ``None``
    credits everything still open. ``already_credited`` is what earlier credit notes credited,
    per position. The credit note uses the invoice's VAT treatment and VAT date, so a full
    credit note negates the invoice exactly, to the cent.
    """
    if invoice.is_credit_note:
        raise ValidationError("a credit note cannot be credited")
    if not invoice.status.is_posted or invoice.id is None:
        raise ValidationError(
            f"{invoice.describe()} is not posted; delete or edit the draft instead"
        )
    remaining = remaining_quantities(invoice, already_credited)
    if quantities is None:
        wanted = {position: qty for position, qty in remaining.items() if qty != 0}
        if not wanted:
            raise ValidationError(f"{invoice.describe()} is already fully credited")
    else:
        wanted = dict(quantities)
    lines: list[InvoiceLine] = []
    for position, line in enumerate(invoice.lines, start=1):
        if line.kind is LineKind.TEXT:
            if quantities is None:
                lines.append(text_line(line.description, invoice.currency))
            continue
        if position not in wanted:
            continue
        quantity = wanted.pop(position)
        open_quantity = remaining[position]
        if quantity == 0 or abs(quantity) > abs(open_quantity) or quantity * open_quantity < 0:
            raise ValidationError(
                f"line {position} of {invoice.describe()}: {open_quantity} is left to credit, "
                f"not {quantity}"
            )
        lines.append(
            InvoiceLine(
                kind=line.kind,
                description=line.description,
                quantity=-quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                vat_category=line.vat_category,
                project_id=line.project_id,
                employee_id=line.employee_id,
                product_number=line.product_number,
                credits_position=position,
            )
        )
    if wanted:
        bad = ", ".join(str(p) for p in sorted(wanted))
        raise ValidationError(f"{invoice.describe()} has no line with an amount at position {bad}")
    return Invoice(
        legal_entity_id=invoice.legal_entity_id,
        customer_id=invoice.customer_id,
        document_type=DocumentType.CREDIT_NOTE,
        currency=invoice.currency,
        invoice_date=invoice_date,
        due_date=invoice_date,
        tax_date=invoice.tax_date,
        seller_country=invoice.seller_country,
        vat_treatment=invoice.vat_treatment,
        heading=heading if heading is not None else f"Credit note for invoice {invoice.number}",
        requisition_number=invoice.requisition_number,
        customer_reference=invoice.customer_reference,
        internal_reference=invoice.internal_reference,
        contact_id=invoice.contact_id,
        project_id=invoice.project_id,
        credits_invoice_id=invoice.id,
        lines=tuple(lines),
    )


def text_line(description: str, currency: str) -> InvoiceLine:
    """A line that carries only text."""
    return InvoiceLine(kind=LineKind.TEXT, description=description, unit_price=Money.zero(currency))


__all__ = [
    "DocumentTotals",
    "DocumentType",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LineKind",
    "draft_credit_note",
    "remaining_quantities",
    "text_line",
]
