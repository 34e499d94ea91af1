"""The integration log searched (issue 14 item 4): a connection's transactions narrowed by
transaction number, document, start time, status and full text, in the database — so the
newest matches come back however long the log has grown, whoever asks (console or API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, case, cast, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ledgerlink.domain.invoices import DocumentType, InvoiceStatus
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.store.integration import TransferRepository
from ledgerlink.store.repositories import InvoiceHead
from ledgerlink.store.tables import CustomerRow, InvoiceRow, TransferRow, TransferStepRow


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSearch:
    """What the log is narrowed to; every field left empty narrows nothing. ``started_from``
    (inclusive) and ``started_before`` (exclusive) bound when a transaction started; ``text``
    is found, case-insensitively, in the transaction number, the document ("invoice 1001"),
    the customer's number and name, the transaction's message and its steps' kind, message,
    ERP text, hint and ERP id. ``before_id``: only transactions older than that one (a page
    of the log after the one that ended there)."""

    transfer_id: int | None = None
    before_id: int | None = None
    invoice_id: int | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    text: str = ""
    statuses: Sequence[TransferStatus] = ()


@dataclass(frozen=True, slots=True)
class LoggedTransfer:
    """A transaction of the log (with its steps) and the document it carried."""

    transfer: Transfer
    document: str  # e.g. "invoice 1001"
    number: int | None
    customer_number: str
    customer_name: str


def _escaped(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally anywhere (``%`` and ``_`` are
    what a user types in an error code, not wildcards)."""
    plain = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{plain}%"


class IntegrationLogRepository:
    """Searches the ``transfers`` of a connection with their steps, documents and customers."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def search(
        self, connection_id: int, where: LogSearch = LogSearch(), *, limit: int = 100
    ) -> list[LoggedTransfer]:
        """The newest ``limit`` transactions that match ``where``, newest first (three
        statements whatever the number of rows)."""
        query = (
            select(
                TransferRow.id,
                InvoiceRow.id,
                InvoiceRow.legal_entity_id,
                InvoiceRow.document_type,
                InvoiceRow.status,
                InvoiceRow.number,
                InvoiceRow.revision,
                CustomerRow.number,
                CustomerRow.name,
            )
            .join(InvoiceRow, InvoiceRow.id == TransferRow.invoice_id)
            .join(CustomerRow, CustomerRow.id == InvoiceRow.customer_id)
            .where(TransferRow.connection_id == connection_id)
        )
        if where.transfer_id is not None:
            query = query.where(TransferRow.id == where.transfer_id)
        if where.invoice_id is not None:
            query = query.where(TransferRow.invoice_id == where.invoice_id)
        if where.before_id is not None:
            query = query.where(TransferRow.id < where.before_id)
        if where.statuses:
            query = query.where(TransferRow.status.in_([s.value for s in where.statuses]))
        if where.started_from is not None:
            query = query.where(TransferRow.started_at >= where.started_from)
        if where.started_before is not None:
            query = query.where(TransferRow.started_at < where.started_before)
        if where.text.strip():
            query = query.where(self._text(where.text.strip()))
        found = self._session.execute(query.order_by(TransferRow.id.desc()).limit(limit)).all()
        if not found:
            return []
        transfers = TransferRepository(self._session).get_many([row[0] for row in found])
        logged = []
        for transfer, row in zip(transfers, found, strict=True):
            _, invoice_id, entity, kind, status, number, revision, customer, name = row
            head = InvoiceHead(
                invoice_id, entity, DocumentType(kind), InvoiceStatus(status), number, revision
            )
            logged.append(LoggedTransfer(transfer, head.describe(), number, customer, name))
        return logged

    @staticmethod
    def _text(text: str) -> ColumnElement[bool]:
        # lower() on both sides rather than ILIKE: the same SQL on both databases. SQLite's
        # lower() folds ASCII letters only, so there "Ø" and "ø" stay two letters.
        pattern = _escaped(text.lower())

        def found(column: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
            return func.lower(column).like(pattern, escape="\\")

        document = case(
            (InvoiceRow.document_type == DocumentType.CREDIT_NOTE.value, "credit note "),
            else_="invoice ",
        ).op("||")(func.coalesce(cast(InvoiceRow.number, String), ""))
        in_steps = (
            select(TransferStepRow.id)
            .where(
                TransferStepRow.transfer_id == TransferRow.id,
                or_(
                    found(TransferStepRow.kind),
                    found(TransferStepRow.message),
                    found(TransferStepRow.erp_text),
                    found(TransferStepRow.hint),
                    found(TransferStepRow.external_id),
                ),
            )
            .exists()
        )
        return or_(
            found(cast(TransferRow.id, String)),
            found(document),
            found(CustomerRow.number),
            found(CustomerRow.name),
            found(TransferRow.message),
            in_steps,
        )
