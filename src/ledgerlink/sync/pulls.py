"""Periodic pulls per connection: balancing (ERP number, posting status, remainder, paid)
and expense entries. Each batch is stored together with its cursor in one transaction, so a
pull that dies halfway starts again where its last stored batch ended."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlink.domain.entity import require_id
from ledgerlink.store.integration import ImportedExpense
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
                project = (
                    uow.projects.by_number(connection.legal_entity_id, entry.project_ref)
                    if entry.project_ref
                    else None
                )
                added = uow.erp_expenses.add_new(
                    connection_id,
                    ImportedExpense(
                        external_id=entry.external_id,
                        day=entry.day,
                        amount=entry.amount,
                        base_amount=entry.amount_in_base_currency,
                        text=entry.text,
                        voucher_number=entry.voucher_number,
                        project_id=require_id(project) if project else None,
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
