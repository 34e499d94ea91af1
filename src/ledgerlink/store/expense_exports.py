"""Expense exports and their steps: the integration log of PSA expenses exported to an ERP
(see :mod:`ledgerlink.domain.expense_exports`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from ledgerlink.domain.errors import NotFoundError
from ledgerlink.domain.expense_exports import ExpenseExport, ExpenseExportStep, ExportStepKind
from ledgerlink.domain.transfers import EntityType, StepStatus, TransferStatus
from ledgerlink.domain.work import Expense

# The expense row's reading is the expense repository's; shared, not copied.
from ledgerlink.store.repositories import _expense as expense_from_row
from ledgerlink.store.tables import (
    ExpenseExportRow,
    ExpenseExportStepRow,
    ExpenseRow,
    ExternalKeyRow,
    utcnow,
)

#: Statuses of an export the next run goes on with by itself (the voucher is in the ERP or
#: may be): pending. A failed or partially failed export waits for the user's retry.
_OPEN = (TransferStatus.PENDING.value,)
_NEEDS_USER = (TransferStatus.FAILED.value, TransferStatus.PARTIALLY_FAILED.value)


def _step(row: ExpenseExportStepRow) -> ExpenseExportStep:
    return ExpenseExportStep(
        id=row.id,
        kind=ExportStepKind(row.kind),
        status=StepStatus(row.status),
        attempts=row.attempts,
        message=row.message,
        erp_text=row.erp_text,
        hint=row.hint,
        external_id=row.external_id,
        finished_at=row.finished_at,
    )


def _export(row: ExpenseExportRow) -> ExpenseExport:
    return ExpenseExport(
        id=row.id,
        connection_id=row.connection_id,
        expense_id=row.expense_id,
        attempt=row.attempt,
        correlation=row.correlation,
        status=TransferStatus(row.status),
        message=row.message,
        started_at=row.started_at,
        finished_at=row.finished_at,
        steps=[_step(s) for s in row.steps],
    )


@dataclass(frozen=True, slots=True)
class ExportCandidate:
    """An expense to export (or to go on exporting) and its latest export, if any."""

    expense: Expense
    latest: ExpenseExport | None


class ExpenseExportRepository:
    """Expense exports with their steps (one transaction per attempt)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def candidates(
        self,
        connection_id: int,
        legal_entity_id: int,
        *,
        since: date | None = None,
        retry_failed: bool = False,
        only: Collection[int] | None = None,
    ) -> list[ExportCandidate]:
        """The expenses a run works on, oldest first: those not exported and not ignored on
        the connection (dated ``since`` or later), and those whose latest export is still
        pending; with ``retry_failed`` also those whose latest export failed or partially
        failed (the receipt is missing). Reads the expenses that are not done, never the
        connection's whole history."""
        key = aliased(ExternalKeyRow)
        keyless = (
            select(ExpenseRow)
            .outerjoin(
                key,
                and_(
                    key.connection_id == connection_id,
                    key.entity_type == EntityType.EXPENSE.value,
                    key.local_id == ExpenseRow.id,
                ),
            )
            .where(ExpenseRow.legal_entity_id == legal_entity_id, key.id.is_(None))
        )
        if since is not None:
            keyless = keyless.where(ExpenseRow.day >= since)
        wanted = set(only) if only is not None else None
        if wanted is not None:
            keyless = keyless.where(ExpenseRow.id.in_(wanted))
        rows = {row.id: row for row in self._session.scalars(keyless)}
        # Exported (keyed) expenses whose latest export is not finished: pending, or partially
        # failed when the user retries. Few rows: only exports that are not done.
        statuses = _OPEN + (_NEEDS_USER if retry_failed else ())
        unfinished = select(ExpenseExportRow.expense_id).where(
            ExpenseExportRow.connection_id == connection_id,
            ExpenseExportRow.status.in_(statuses),
        )
        if wanted is not None:
            unfinished = unfinished.where(ExpenseExportRow.expense_id.in_(wanted))
        more = set(self._session.scalars(unfinished)) - set(rows)
        if more:
            ignored = self._session.scalars(
                select(ExternalKeyRow.local_id).where(
                    ExternalKeyRow.connection_id == connection_id,
                    ExternalKeyRow.entity_type == EntityType.EXPENSE.value,
                    ExternalKeyRow.local_id.in_(more),
                    ExternalKeyRow.ignored.is_(True),
                )
            )
            more -= set(ignored)
        if more:
            for row in self._session.scalars(select(ExpenseRow).where(ExpenseRow.id.in_(more))):
                rows[row.id] = row
        latest = self.latest(connection_id, list(rows))
        chosen: list[ExportCandidate] = []
        for row in sorted(rows.values(), key=lambda r: (r.day, r.id)):
            last = latest.get(row.id)
            if last is not None and last.status.value in _NEEDS_USER and not retry_failed:
                continue
            if last is not None and last.status is TransferStatus.SUCCESSFUL:
                continue  # done (its key is written with it)
            chosen.append(ExportCandidate(expense_from_row(row), last))
        return chosen

    def latest(self, connection_id: int, expense_ids: Sequence[int]) -> dict[int, ExpenseExport]:
        """The latest export of each of these expenses on the connection, with its steps."""
        if not expense_ids:
            return {}
        newest = (
            select(func.max(ExpenseExportRow.id))
            .where(
                ExpenseExportRow.connection_id == connection_id,
                ExpenseExportRow.expense_id.in_(expense_ids),
            )
            .group_by(ExpenseExportRow.expense_id)
        )
        rows = self._session.scalars(
            select(ExpenseExportRow)
            .where(ExpenseExportRow.id.in_(newest))
            .options(selectinload(ExpenseExportRow.steps))
        )
        return {row.expense_id: _export(row) for row in rows}

    def start(self, connection_id: int, expense_id: int, *, attempt: int, correlation: str) -> int:
        """Record a new export (pending) and return its id."""
        row = ExpenseExportRow(
            connection_id=connection_id,
            expense_id=expense_id,
            attempt=attempt,
            correlation=correlation,
            status=TransferStatus.PENDING.value,
            message="",
        )
        self._session.add(row)
        self._session.flush()
        return row.id

    def get(self, export_id: int) -> ExpenseExport:
        row = self._session.get(ExpenseExportRow, export_id)
        if row is None:
            raise NotFoundError(f"there is no expense export #{export_id}")
        return _export(row)

    def begin_step(self, export_id: int, kind: ExportStepKind) -> int:
        """Mark a step as started (one more attempt) before it calls the ERP; the caller
        commits, so a crash afterwards leaves evidence that the ERP may have been reached.
        Returns how often this step had been started before for the same expense on the same
        connection, in this export or an earlier one."""
        export = self._session.get(ExpenseExportRow, export_id)
        if export is None:
            raise ValueError(f"there is no expense export #{export_id}")
        before = self._session.scalar(
            select(func.coalesce(func.sum(ExpenseExportStepRow.attempts), 0))
            .join(ExpenseExportRow, ExpenseExportRow.id == ExpenseExportStepRow.export_id)
            .where(
                ExpenseExportRow.connection_id == export.connection_id,
                ExpenseExportRow.expense_id == export.expense_id,
                ExpenseExportStepRow.kind == kind.value,
            )
        )
        own = next((s for s in export.steps if s.kind == kind.value), None)
        if own is None:
            export.steps.append(
                ExpenseExportStepRow(
                    kind=kind.value,
                    status=StepStatus.PENDING.value,
                    attempts=1,
                    message="",
                    erp_text="",
                    hint="",
                    external_id="",
                )
            )
        else:
            own.status = StepStatus.PENDING.value
            own.attempts += 1
        self._session.flush()
        return int(before or 0)

    def record(
        self,
        export_id: int,
        steps: Sequence[ExpenseExportStep],
        *,
        status: TransferStatus,
        message: str = "",
    ) -> None:
        """Write the outcome of a run: its steps (attempt counts kept; a step not begun is
        added) and the transaction's status (finished unless pending)."""
        export = self._session.get(ExpenseExportRow, export_id)
        if export is None:
            raise ValueError(f"there is no expense export #{export_id}")
        now = utcnow()
        mine = {s.kind: s for s in export.steps}
        for step in steps:
            row = mine.get(step.kind.value)
            if row is None:
                row = ExpenseExportStepRow(
                    kind=step.kind.value,
                    attempts=0 if step.status is StepStatus.SKIPPED else 1,
                )
                export.steps.append(row)
            row.status = step.status.value
            row.message = step.message
            row.erp_text = step.erp_text
            row.hint = step.hint
            row.external_id = step.external_id
            row.finished_at = None if step.status is StepStatus.PENDING else now
        export.status = status.value
        export.message = message
        export.finished_at = None if status is TransferStatus.PENDING else now
        self._session.flush()

    def expenses(self, legal_entity_id: int, expense_ids: Collection[int]) -> list[Expense]:
        """The expenses of the legal entity with these ids (an id of another is left out)."""
        if not expense_ids:
            return []
        rows = self._session.scalars(
            select(ExpenseRow).where(
                ExpenseRow.legal_entity_id == legal_entity_id,
                ExpenseRow.id.in_(set(expense_ids)),
            )
        )
        return [expense_from_row(row) for row in rows]

    def list(
        self, connection_id: int, *, expense_id: int | None = None, limit: int = 100
    ) -> list[ExpenseExport]:
        """Exports of the connection, newest first, with their steps."""
        query = (
            select(ExpenseExportRow)
            .where(ExpenseExportRow.connection_id == connection_id)
            .options(selectinload(ExpenseExportRow.steps))
        )
        if expense_id is not None:
            query = query.where(ExpenseExportRow.expense_id == expense_id)
        query = query.order_by(ExpenseExportRow.id.desc()).limit(limit)
        return [_export(row) for row in self._session.scalars(query)]
