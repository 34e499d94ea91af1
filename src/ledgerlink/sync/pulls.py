"""Periodic pulls per connection: balancing (ERP number, posting status and date, remainder,
paid) and expense entries. Each batch is stored together with its cursor in one transaction,
so a pull that dies halfway starts again where its last stored batch ended."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Connection, EntityType
from ledgerlink.store.integration import ImportedExpense
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.engine import Engine


@dataclass
class PullReport:
    """What a pull did: ``applied`` changed what we knew (a status, a new expense entry),
    ``unchanged`` told us what we knew already, ``skipped`` is not ours (a document we did
    not send) or known (an expense entry imported before)."""

    stream: str
    read: int = 0
    applied: int = 0
    unchanged: int = 0
    skipped: int = 0


def pull_balancing(engine: Engine, connection_id: int) -> PullReport:
    """Apply the ERP's status of the documents we sent; others are counted as skipped, and
    statuses we knew already as unchanged (only a real change counts as applied)."""
    report = PullReport("balancing")
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        cursor = uow.cursors.get(connection_id, report.stream)
    connector = engine.connectors(connection)
    if not connector.capabilities.balancing:  # planned away, as a transfer's steps are
        return report
    while True:
        batch = connector.statuses(cursor)
        with engine.uow() as uow:
            for update in batch.items:
                report.read += 1
                changed = uow.erp_documents.update_status(
                    connection_id,
                    update.correlation,
                    status=update.status.value,
                    booked_number=update.booked_number,
                    remainder=update.remainder,
                    paid=update.paid,
                    booked_on=update.booked_on,
                )
                if changed is None:
                    report.skipped += 1
                elif changed:
                    report.applied += 1
                else:
                    report.unchanged += 1
            if batch.cursor is not None:
                uow.cursors.set(connection_id, report.stream, batch.cursor)
            uow.commit()
        cursor = batch.cursor
        if not batch.more:
            return report


def pull_expenses(engine: Engine, connection_id: int) -> PullReport:
    """Import expense entries once each (by the ERP's entry id); VAT is always excluded."""
    report = PullReport("expenses")
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        cursor = uow.cursors.get(connection_id, report.stream)
    connector = engine.connectors(connection)
    if not connector.capabilities.expense_import:
        return report
    while True:
        batch = connector.expenses(cursor)
        with engine.uow() as uow:
            for entry in batch.items:
                report.read += 1
                project_id = _project_of(uow, connection, entry.project_ref)
                added = uow.erp_expenses.add_new(
                    connection_id,
                    ImportedExpense(
                        external_id=entry.external_id,
                        day=entry.day,
                        amount=entry.amount,
                        base_amount=entry.amount_in_base_currency,
                        text=entry.text,
                        voucher_number=entry.voucher_number,
                        project_id=project_id,
                        account=entry.account,
                    ),
                )
                report.applied += added
                report.skipped += not added
            if batch.cursor is not None:
                uow.cursors.set(connection_id, report.stream, batch.cursor)
            uow.commit()
        cursor = batch.cursor
        if not batch.more:
            return report


def _project_of(uow: UnitOfWork, connection: Connection, project_ref: str) -> int | None:
    """The PSA project an ERP entry names: by the ERP project it is linked to (an ERP may
    number it its own way, e.g. Fortnox's P200 for P-200), else by the PSA number."""
    if not project_ref:
        return None
    key = uow.external_keys.by_external_id(require_id(connection), EntityType.PROJECT, project_ref)
    if key is not None:
        return key.local_id
    found = uow.projects.by_number(connection.legal_entity_id, project_ref)
    return require_id(found) if found is not None else None
