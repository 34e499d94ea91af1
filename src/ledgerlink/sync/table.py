"""The transfer table: every posted document of a connection's legal entity, in one of the
views non-transferred / transferred / ignored / failed — and in the attention view while it
needs a user (failed, partially failed, totals that differ) — with filters; ignore and
un-ignore, resolve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import DocumentType, Invoice, InvoiceStatus
from ledgerlink.domain.transfers import (
    EntityType,
    Transfer,
    TransferStatus,
    TransferView,
    attention,
    transfer_view,
)
from ledgerlink.store.integration import ErpDocumentState
from ledgerlink.store.integration_log import LogSearch
from ledgerlink.sync.engine import Engine

POSTED = (InvoiceStatus.POSTED, InvoiceStatus.PARTIALLY_CREDITED, InvoiceStatus.CREDITED)


@dataclass(frozen=True, slots=True)
class TransferRow:
    """One row of the transfer table."""

    invoice: Invoice
    customer_number: str
    customer_name: str
    view: TransferView
    attention: str  # what the user must look at ("" when nothing): see domain.transfers
    external_id: str
    latest: Transfer | None
    erp: ErpDocumentState | None


@dataclass(frozen=True, slots=True)
class TableFilter:
    views: Sequence[TransferView] = ()
    customer_id: int | None = None
    document_type: DocumentType | None = None
    period: tuple[date, date] | None = None  # posting date
    text: str = ""


def transfer_table(
    engine: Engine, connection_id: int, where: TableFilter = TableFilter()
) -> list[TransferRow]:
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        invoices = uow.invoices.list(
            connection.legal_entity_id,
            statuses=POSTED,
            document_type=where.document_type,
            customer_id=where.customer_id,
            period=where.period,
            text=where.text or None,
        )
        keys = uow.external_keys.for_type(connection_id, EntityType.INVOICE)
        latest = uow.transfers.latest(connection_id)
        erp = uow.erp_documents.for_connection(connection_id)
        customers = {require_id(c): c for c in uow.customers.list(connection.legal_entity_id)}
    rows = []
    for invoice in invoices:
        invoice_id = require_id(invoice)
        key = keys.get(invoice_id)
        last = latest.get(invoice_id)
        view = transfer_view(key=key, latest=last.status if last else None)
        needs = attention(key=key, latest=last)
        wanted = view in where.views or (bool(needs) and TransferView.ATTENTION in where.views)
        if where.views and not wanted:
            continue
        customer = customers[invoice.customer_id]
        rows.append(
            TransferRow(
                invoice=invoice,
                customer_number=customer.number,
                customer_name=customer.name,
                view=view,
                attention=needs,
                external_id=key.external_id if key else "",
                latest=last,
                erp=erp.get(invoice_id),
            )
        )
    return rows


def set_ignored(
    engine: Engine, connection_id: int, invoice_ids: Sequence[int], *, ignored: bool
) -> int:
    """Ignore (or un-ignore) documents for a connection; a transferred one cannot be ignored."""
    with engine.uow() as uow:
        uow.connections.get(connection_id)
        for invoice_id in invoice_ids:
            invoice = uow.invoices.get(invoice_id)
            key = uow.external_keys.get(connection_id, EntityType.INVOICE, invoice_id)
            if ignored and key is not None and key.external_id:
                raise ValidationError(
                    f"{invoice.describe()} is already in the ERP ({key.external_id}); "
                    "it cannot be ignored"
                )
            uow.external_keys.set_ignored(connection_id, EntityType.INVOICE, invoice_id, ignored)
        uow.commit()
    return len(invoice_ids)


def resolve(engine: Engine, connection_id: int, invoice_ids: Sequence[int]) -> int:
    """Mark what the last transfer of each document left to fix as resolved by the user (the
    ERP draft was corrected, or the difference accepted): it leaves the attention view. A
    document that needs no attention is refused."""
    with engine.uow() as uow:
        keys = uow.external_keys.for_type(connection_id, EntityType.INVOICE)
        latest = uow.transfers.latest(connection_id)
        for invoice_id in invoice_ids:
            last = latest.get(invoice_id)
            if not attention(key=keys.get(invoice_id), latest=last):
                invoice = uow.invoices.head(invoice_id)
                raise ValidationError(
                    f"{invoice.describe()} needs no attention; nothing to resolve"
                )
            assert last is not None
            uow.transfers.resolve(require_id(last))
        uow.commit()
    return len(invoice_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFilter:
    """What the integration log is narrowed to (issue 14 item 4); an empty field narrows
    nothing. ``period``: the days (UTC) the transactions started, both included. ``text`` is
    found case-insensitively in the transaction number, the document ("invoice 1001"), the
    customer, the messages, and the steps' ERP text, hint and ERP id. ``statuses``: the
    transactions' statuses shown (none given: all). ``before``: only transactions older than
    that one (the next page of a log that ended there)."""

    transaction_id: int | None = None
    before: int | None = None
    invoice_id: int | None = None
    period: tuple[date, date] | None = None
    text: str = ""
    statuses: Sequence[TransferStatus] = ()

    def __post_init__(self) -> None:
        if self.period is not None and self.period[0] > self.period[1]:
            first, last = self.period
            raise ValidationError(
                f"the period ends ({last.isoformat()}) before it starts ({first.isoformat()}): "
                "swap the dates"
            )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A transaction of the log (with its steps) and the document it carried."""

    transfer: Transfer
    document: str  # e.g. "invoice 1001"
    number: int | None
    customer: str  # the customer's number and name


def _search(where: LogFilter) -> LogSearch:
    started_from = started_before = None
    if where.period is not None:
        first, last = where.period
        if first > date.min:
            started_from = datetime.combine(first, time.min, UTC)
        if last < date.max:
            started_before = datetime.combine(last + timedelta(days=1), time.min, UTC)
    return LogSearch(
        transfer_id=where.transaction_id,
        before_id=where.before,
        invoice_id=where.invoice_id,
        started_from=started_from,
        started_before=started_before,
        text=where.text.strip(),
        statuses=tuple(where.statuses),
    )


def log_entries(
    engine: Engine, connection_id: int, where: LogFilter = LogFilter(), *, limit: int = 50
) -> list[LogEntry]:
    """The connection's newest ``limit`` transactions that pass ``where`` (newest first),
    each with its steps and the document and customer it was for."""
    with engine.uow() as uow:
        found = uow.integration_log.search(connection_id, _search(where), limit=limit)
    return [
        LogEntry(
            transfer=f.transfer,
            document=f.document,
            number=f.number,
            customer=f"{f.customer_number} {f.customer_name}",
        )
        for f in found
    ]


def integration_log(
    engine: Engine,
    connection_id: int,
    *,
    invoice_id: int | None = None,
    limit: int = 50,
    where: LogFilter = LogFilter(),
) -> list[Transfer]:
    """Transactions (newest first) with their steps: the newest ``limit`` that pass
    ``where`` (and are of ``invoice_id`` when given)."""
    if invoice_id is not None:
        where = replace(where, invoice_id=invoice_id)
    return [e.transfer for e in log_entries(engine, connection_id, where, limit=limit)]
