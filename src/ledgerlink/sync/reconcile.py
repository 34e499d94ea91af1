"""The reconciliation report (issue 14 item 7): per connection and period, the PSA's posted
documents against what the ERP holds for them — by customer and by status (not sent, sent,
booked, paid; with the ERP's remainder) — and every difference with its document.

The ERP's side is what the transfers recorded (``erp_documents``: the ERP's own gross total,
read back after each create) and what balancing pulled since (posting status, remainder,
paid); nothing here calls the ERP, so the report is only as fresh as the last balancing pull.
A posted document that is not in the ERP counts as "not sent" (never transferred, failed, or
ignored).

Two halves: :func:`read_documents` reads the facts of each document in one unit of work, and
:func:`reconcile` — pure — computes the report from them. Money stays :class:`Money`, summed
per currency (a report never adds kroner to euros).
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ledgerlink.connectors.contract import PostingStatus
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import DocumentType, InvoiceStatus
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import EntityType, TransferView, transfer_view
from ledgerlink.store.integration import ErpDocumentState
from ledgerlink.store.uow import UnitOfWork

#: The statuses of a posted document (credited ones included: a credit note is its own
#: document, and the invoice it credits stays in the books).
POSTED = (InvoiceStatus.POSTED, InvoiceStatus.PARTIALLY_CREDITED, InvoiceStatus.CREDITED)


class ReconcileStatus(enum.StrEnum):
    """Where a posted document stands in the ERP."""

    NOT_SENT = "not_sent"  # not in the ERP: never transferred, failed, or ignored
    SENT = "sent"  # in the ERP as a draft, not booked yet
    BOOKED = "booked"  # booked in the ERP, not paid
    PAID = "paid"
    DELETED = "deleted"  # the ERP deleted the document we sent

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class DifferenceKind(enum.StrEnum):
    """Why a document's two sides do not agree."""

    NOT_SENT = "not_sent"
    IGNORED = "ignored"
    AMOUNT = "amount"  # the ERP's gross differs from the PSA's
    CURRENCY = "currency"  # the ERP holds it in another currency
    DELETED = "deleted"
    UNKNOWN = "unknown"  # in the ERP, but its total was never recorded

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """Posting dates from ``start`` to ``end``, both included; ``None`` leaves a side open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValidationError(
                f"the period starts ({self.start}) after it ends ({self.end}); swap the dates"
            )

    @property
    def bounds(self) -> tuple[date, date] | None:
        if self.start is None and self.end is None:
            return None
        return (self.start or date.min, self.end or date.max)

    def describe(self) -> str:
        if self.start is None and self.end is None:
            return "all posting dates"
        if self.start is None:
            return f"posted up to {self.end}"
        if self.end is None:
            return f"posted from {self.start}"
        return f"posted {self.start} to {self.end}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentFacts:
    """What the store knows of one posted document on one connection (the report's input)."""

    invoice_id: int
    number: int
    document_type: DocumentType
    posting_date: date | None
    customer_number: str
    customer_name: str
    psa_gross: Money
    erp: ErpDocumentState | None
    external_id: str  # the ERP's id from the external key ('' when not transferred)
    view: TransferView
    transfer_id: int | None  # the newest transfer of the document (for its log)

    def describe(self) -> str:
        kind = "credit note" if self.document_type is DocumentType.CREDIT_NOTE else "invoice"
        return f"{kind} {self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    """A document in the report: its status and both sides."""

    facts: DocumentFacts
    status: ReconcileStatus
    erp_gross: Money | None  # None: not in the ERP, or its total unknown
    remainder: Money | None  # the ERP's open amount, when balancing told it
    difference: Money | None  # PSA − ERP (None when they cannot be subtracted)
    kind: DifferenceKind | None  # None: the two sides agree
    explanation: str

    @property
    def currency(self) -> str:
        return self.facts.psa_gross.currency


@dataclass(frozen=True, slots=True, kw_only=True)
class Amounts:
    """Sums over some documents in one currency."""

    currency: str
    documents: int
    psa_gross: Money
    erp_gross: Money  # the ERP's gross of those in the ERP (in this currency)
    difference: Money  # psa_gross − erp_gross
    remainder: Money | None  # the ERP's open amounts; None: balancing told none of them

    @classmethod
    def zero(cls, currency: str) -> Amounts:
        nothing = Money.zero(currency)
        return cls(
            currency=currency,
            documents=0,
            psa_gross=nothing,
            erp_gross=nothing,
            difference=nothing,
            remainder=None,
        )

    def plus(self, line: DocumentLine) -> Amounts:
        """These sums with ``line`` added (a line in this currency; the ERP's side only where
        the ERP still holds the document in this currency)."""
        nothing = Money.zero(self.currency)
        held = line.status is not ReconcileStatus.DELETED
        erp = line.erp_gross if held and line.erp_gross is not None else nothing
        known = line.remainder if held else None
        remainder = self.remainder
        if known is not None and known.currency == self.currency:
            remainder = known if remainder is None else remainder + known
        psa_gross = self.psa_gross + line.facts.psa_gross
        erp_gross = self.erp_gross + (erp if erp.currency == self.currency else nothing)
        return Amounts(
            currency=self.currency,
            documents=self.documents + 1,
            psa_gross=psa_gross,
            erp_gross=erp_gross,
            difference=psa_gross - erp_gross,
            remainder=remainder,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusTotals:
    status: ReconcileStatus
    amounts: Amounts


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerTotals:
    """One customer's documents in one currency; ``by_status`` holds each status's gross
    (the PSA's for not sent, the ERP's for the others)."""

    customer_number: str
    customer_name: str
    amounts: Amounts
    by_status: dict[ReconcileStatus, Money]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciliation:
    """The report of one connection over one period."""

    connection_id: int
    period: Period
    documents: tuple[DocumentLine, ...]
    totals: tuple[Amounts, ...]  # one per currency
    by_status: tuple[StatusTotals, ...]  # per status and currency, statuses in their order
    by_customer: tuple[CustomerTotals, ...]  # per customer number and currency

    @property
    def differences(self) -> tuple[DocumentLine, ...]:
        return tuple(line for line in self.documents if line.kind is not None)

    @property
    def agrees(self) -> bool:
        return not self.differences


UowFactory = Callable[[], UnitOfWork]


def reconciliation(uow: UowFactory, connection_id: int, period: Period) -> Reconciliation:
    """The report of ``connection_id`` over ``period`` (see the module docstring)."""
    return reconcile(connection_id, period, read_documents(uow, connection_id, period))


def read_documents(uow: UowFactory, connection_id: int, period: Period) -> list[DocumentFacts]:
    """The facts of every document the connection's legal entity posted in ``period``."""
    with uow() as work:
        connection = work.connections.get(connection_id)
        invoices = work.invoices.list(
            connection.legal_entity_id, statuses=POSTED, period=period.bounds
        )
        keys = work.external_keys.for_type(connection_id, EntityType.INVOICE)
        latest = work.transfers.latest(connection_id)
        erp = work.erp_documents.for_connection(connection_id)
        customers = {require_id(c): c for c in work.customers.list(connection.legal_entity_id)}
    facts = []
    for invoice in invoices:
        invoice_id = require_id(invoice)
        if invoice.number is None:  # posted documents have one; a draft is no one's concern
            continue
        key = keys.get(invoice_id)
        last = latest.get(invoice_id)
        customer = customers.get(invoice.customer_id)
        facts.append(
            DocumentFacts(
                invoice_id=invoice_id,
                number=invoice.number,
                document_type=invoice.document_type,
                posting_date=invoice.posting_date,
                customer_number=customer.number if customer else "",
                customer_name=customer.name if customer else "",
                psa_gross=invoice.current_totals().gross,
                erp=erp.get(invoice_id),
                external_id=key.external_id if key else "",
                view=transfer_view(key=key, latest=last.status if last else None),
                transfer_id=last.id if last else None,
            )
        )
    return facts


# the pure half ----------------------------------------------------------------------------------


def document_line(facts: DocumentFacts) -> DocumentLine:
    """One document's status, both sides and what differs (pure)."""
    erp, ours = facts.erp, facts.psa_gross
    if erp is None:
        if facts.external_id:
            # Transferred (the key says so), but the ERP's total was never recorded.
            return DocumentLine(
                facts=facts,
                status=ReconcileStatus.SENT,
                erp_gross=None,
                remainder=None,
                difference=None,
                kind=DifferenceKind.UNKNOWN,
                explanation=(
                    f"in the ERP as {facts.external_id}, but its total was not recorded; "
                    "transfer it again to read it back"
                ),
            )
        ignored = facts.view is TransferView.IGNORED
        return DocumentLine(
            facts=facts,
            status=ReconcileStatus.NOT_SENT,
            erp_gross=None,
            remainder=None,
            difference=ours,
            kind=DifferenceKind.IGNORED if ignored else DifferenceKind.NOT_SENT,
            explanation=(
                "ignored: it will not be sent"
                if ignored
                else "the last transfer failed; see the log"
                if facts.view is TransferView.FAILED
                else "posted, not transferred yet"
            ),
        )
    if erp.status == PostingStatus.DELETED.value:
        status = ReconcileStatus.DELETED
    elif erp.paid:
        status = ReconcileStatus.PAID
    elif erp.status == PostingStatus.BOOKED.value:
        status = ReconcileStatus.BOOKED
    else:
        status = ReconcileStatus.SENT
    remainder = erp.remainder
    if remainder is None and status is ReconcileStatus.PAID:
        remainder = Money.zero(erp.gross.currency)
    if status is ReconcileStatus.DELETED:
        return DocumentLine(
            facts=facts,
            status=status,
            erp_gross=erp.gross,
            remainder=remainder,
            difference=ours,
            kind=DifferenceKind.DELETED,
            explanation=f"deleted in the ERP ({erp.external_id}); the PSA still has it",
        )
    if erp.gross.currency != ours.currency:
        return DocumentLine(
            facts=facts,
            status=status,
            erp_gross=erp.gross,
            remainder=remainder,
            difference=None,
            kind=DifferenceKind.CURRENCY,
            explanation=f"the ERP holds it in {erp.gross.currency}, the PSA in {ours.currency}",
        )
    difference = ours - erp.gross
    return DocumentLine(
        facts=facts,
        status=status,
        erp_gross=erp.gross,
        remainder=remainder,
        difference=difference,
        kind=None if difference.is_zero() else DifferenceKind.AMOUNT,
        explanation=""
        if difference.is_zero()
        else f"the ERP's total is {erp.gross}, the PSA's {ours} ({_signed(difference)})",
    )


def _signed(money: Money) -> str:
    return f"+{money}" if money.amount > 0 else str(money)


def reconcile(
    connection_id: int, period: Period, documents: Iterable[DocumentFacts]
) -> Reconciliation:
    """The report from the documents' facts (pure: no I/O)."""
    lines = tuple(
        sorted(
            (document_line(facts) for facts in documents),
            key=lambda line: (line.facts.posting_date or date.min, line.facts.number),
        )
    )
    totals: dict[str, Amounts] = {}
    statuses: dict[tuple[ReconcileStatus, str], Amounts] = {}
    customers: dict[tuple[str, str], tuple[str, Amounts, dict[ReconcileStatus, Money]]] = {}
    for line in lines:
        currency = line.currency
        totals[currency] = totals.get(currency, Amounts.zero(currency)).plus(line)
        key = (line.status, currency)
        statuses[key] = statuses.get(key, Amounts.zero(currency)).plus(line)
        who = (line.facts.customer_number, currency)
        name, amounts, by_status = customers.get(
            who, (line.facts.customer_name, Amounts.zero(currency), {})
        )
        side = line.facts.psa_gross if line.erp_gross is None else line.erp_gross
        if side.currency == currency:
            by_status[line.status] = by_status.get(line.status, Money.zero(currency)) + side
        customers[who] = (name, amounts.plus(line), by_status)
    order = list(ReconcileStatus)
    return Reconciliation(
        connection_id=connection_id,
        period=period,
        documents=lines,
        totals=tuple(totals[c] for c in sorted(totals)),
        by_status=tuple(
            StatusTotals(status=status, amounts=amounts)
            for (status, _), amounts in sorted(
                statuses.items(), key=lambda item: (order.index(item[0][0]), item[0][1])
            )
        ),
        by_customer=tuple(
            CustomerTotals(
                customer_number=number,
                customer_name=name,
                amounts=amounts,
                by_status=by_status,
            )
            for (number, _), (name, amounts, by_status) in sorted(customers.items())
        ),
    )


# CSV (the console's download and the CLI's --csv) -----------------------------------------------

#: A CSV cell starting with one of these is a formula to a spreadsheet: a customer's name
#: must never run as one (OWASP "CSV injection").
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "connection",
    "document",
    "number",
    "posting date",
    "customer number",
    "customer",
    "status",
    "currency",
    "PSA gross",
    "ERP gross",
    "difference",
    "ERP remainder",
    "ERP id",
    "ERP number",
    "difference kind",
    "explanation",
)


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA) else value


def _amount(money: Money | None) -> str:
    return "" if money is None else str(money.amount)


def csv_rows(report: Reconciliation) -> list[list[str]]:
    """One row per document: both sides as plain decimals with the currency beside them."""
    rows = []
    for line in report.documents:
        facts, erp = line.facts, line.facts.erp
        rows.append(
            [
                str(report.connection_id),
                facts.document_type.value,
                str(facts.number),
                facts.posting_date.isoformat() if facts.posting_date else "",
                _text(facts.customer_number),
                _text(facts.customer_name),
                line.status.value,
                line.currency,
                _amount(facts.psa_gross),
                _amount(line.erp_gross),
                _amount(line.difference),
                _amount(line.remainder),
                _text(erp.external_id if erp else facts.external_id),
                _text(erp.booked_number if erp else ""),
                line.kind.value if line.kind else "",
                _text(line.explanation),
            ]
        )
    return rows


def to_csv(reports: Sequence[Reconciliation]) -> str:
    """The reports' documents as CSV (one header)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        writer.writerows(csv_rows(report))
    return out.getvalue()
