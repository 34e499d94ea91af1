"""Expense export (design §1; issue 13, Fortnox): PSA expenses → ERP vouchers, each with its
receipt attached, for a connection whose connector declares ``expense_export``.

Each expense is one transaction of the integration log (:class:`~ledgerlink.domain.
expense_exports.ExpenseExport`) with two steps: ``voucher`` and ``receipt``. Exactly once, as
a transfer: the voucher step records its start and commits it *before* it sends, so a run that
follows a crash, a lost answer or a failure looks the correlation up first; after an
:class:`~ledgerlink.connectors.contract.Uncertain` answer it looks up at once and, when the ERP
does not have the voucher, leaves the export pending for the next run (which looks up again
before it creates). The voucher becomes the expense's external key in the same commit as the
step's outcome, and an expense with a key is never sent again. The receipt step likewise
records its start before it uploads, and a later attempt asks the connector to look first.

What waits for whom: a pending export goes on by itself in the next run (the worker's round);
a failed one (the voucher refused: an account or project the ERP does not have, a currency it
cannot book) or a partially failed one (the voucher is there, the receipt is not) waits for the
user, who fixes the cause and exports again (``retry_failed``): a retry is a new transaction,
the old one stays in the log as it was.

A run stops early when the ERP is unavailable (:class:`Transient`, the requestor's retries
spent) or no longer accepts the login (:class:`AuthExpired`): the other expenses would meet
the same answer. Anything else a connector raises is a bug: the step fails with its text.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import structlog

from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    ErpConnector,
    ExpenseExport,
    ExpenseReceipt,
    ExportedExpense,
    OutgoingExpense,
    Transient,
    Uncertain,
    expense_export_of,
)
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, NotFoundError
from ledgerlink.domain.expense_exports import (
    ExpenseExport as ExportRecord,
)
from ledgerlink.domain.expense_exports import (
    ExpenseExportStep,
    ExportStepKind,
    expense_correlation,
    export_status,
)
from ledgerlink.domain.parties import Employee
from ledgerlink.domain.transfers import Connection, EntityType, StepStatus, TransferStatus
from ledgerlink.domain.work import Expense, Project
from ledgerlink.store.expense_exports import ExportCandidate
from ledgerlink.store.uow import UnitOfWork

log = structlog.get_logger("ledgerlink.sync.expense_export")
_T = TypeVar("_T")

#: Reads a receipt by the expense's ``receipt_file``; raises :class:`OSError` when it cannot.
ReceiptSource = Callable[[str], ExpenseReceipt]


@dataclass(frozen=True, slots=True)
class ReceiptFiles:
    """Receipts as files: an expense's ``receipt_file`` is a path, a relative one under
    ``base`` (the hub's receipts folder, or the folder an import came from)."""

    base: Path

    def path(self, name: str) -> Path:
        given = Path(name)
        return given if given.is_absolute() else self.base / given

    def __call__(self, name: str) -> ExpenseReceipt:
        path = self.path(name)
        kind, _ = mimetypes.guess_type(path.name)
        return ExpenseReceipt(
            name=path.name,
            content=path.read_bytes(),
            content_type=kind or "application/octet-stream",
        )


@dataclass
class ExportReport:
    """What a run did. ``exported``: vouchers made (or found, made by an earlier attempt);
    ``receipts``: receipts attached; ``failed``: exports that need the user (with what to
    do in ``failures``); ``pending``: exports the next run goes on with; ``stopped``: why the
    run ended before the last expense ("" when it did not); ``enabled``: whether the
    connection exports expenses at all."""

    enabled: bool = True
    read: int = 0
    exported: int = 0
    receipts: int = 0
    failed: int = 0
    pending: int = 0
    failures: list[str] = field(default_factory=list)
    stopped: str = ""


class _Stop(Exception):
    """Internal: end the run after recording this expense (the ERP unavailable, or the
    login no longer accepted): ``outcome`` is the expense's, ``reason`` why the run ends."""

    def __init__(self, outcome: _Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


@dataclass
class _Context:
    """What one run reads once: the connection, its connector, who and what the expenses
    name, the keys already linked."""

    connection: Connection
    entity_code: str
    export: ExpenseExport
    employees: dict[int, Employee]
    projects: dict[int, Project]
    project_refs: dict[int, str]
    voucher_refs: dict[int, str]

    @property
    def connection_id(self) -> int:
        return require_id(self.connection)


def export_expenses(
    uow: Callable[[], UnitOfWork],
    connectors: Callable[[Connection], ErpConnector],
    connection_id: int,
    *,
    receipts: ReceiptSource,
    retry_failed: bool = False,
    only: Collection[int] | None = None,
) -> ExportReport:
    """Export the connection's expenses that are not exported yet (and go on with pending
    exports; with ``retry_failed``, retry failed and partially failed ones too); ``only``
    limits the run to these expense ids. Nothing happens when the connector does not export
    expenses (its capabilities, narrowed by the connection's setup)."""
    with uow() as work:
        connection = work.connections.get(connection_id)
    export = expense_export_of(connectors(connection))
    if export is None:
        return ExportReport(enabled=False)
    report = ExportReport()
    with uow() as work:
        entity = work.legal_entities.get(connection.legal_entity_id)
        candidates = work.expense_exports.candidates(
            connection_id,
            connection.legal_entity_id,
            since=export.expense_export_start(),
            retry_failed=retry_failed,
            only=only,
        )
        ctx = _context(work, connection, entity.code, export, candidates)
    for candidate in candidates:
        report.read += 1
        try:
            outcome = _export_one(uow, ctx, candidate, receipts)
        except _Stop as stop:
            outcome, report.stopped = stop.outcome, stop.reason
        _count(report, candidate.expense, outcome)
        if report.stopped:
            break
    log.info(
        "expense export finished",
        connection=connection_id,
        exported=report.exported,
        failed=report.failed,
        pending=report.pending,
    )
    return report


def ignore_expenses(
    uow: Callable[[], UnitOfWork],
    connection_id: int,
    expense_ids: Collection[int],
    *,
    ignored: bool,
) -> int:
    """Keep expenses out of the connection's export (or let them in again); returns how many
    changed. An exported expense stays exported."""
    changed = 0
    with uow() as work:
        connection = work.connections.get(connection_id)
        found = work.expense_exports.expenses(connection.legal_entity_id, expense_ids)
        unknown = sorted(set(expense_ids) - {require_id(e) for e in found})
        if unknown:
            raise NotFoundError(
                f"expense #{unknown[0]} is not an expense of {connection.describe()}'s legal entity"
            )
        for expense_id in expense_ids:
            key = work.external_keys.get(connection_id, EntityType.EXPENSE, expense_id)
            if key is not None and key.external_id:
                continue
            if (key is not None and key.ignored) == ignored:
                continue
            work.external_keys.set_ignored(connection_id, EntityType.EXPENSE, expense_id, ignored)
            changed += 1
        work.commit()
    return changed


def export_log(
    uow: Callable[[], UnitOfWork],
    connection_id: int,
    *,
    expense_id: int | None = None,
    limit: int = 50,
) -> list[ExportRecord]:
    """The integration log of expense exports, newest first."""
    with uow() as work:
        return work.expense_exports.list(connection_id, expense_id=expense_id, limit=limit)


# one expense -------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: TransferStatus
    steps: list[ExpenseExportStep]
    message: str


def _context(
    work: UnitOfWork,
    connection: Connection,
    entity_code: str,
    export: ExpenseExport,
    candidates: list[ExportCandidate],
) -> _Context:
    connection_id = require_id(connection)
    employees = {require_id(e): e for e in work.employees.list(connection.legal_entity_id)}
    projects: dict[int, Project] = {}
    for project_id in {c.expense.project_id for c in candidates}:
        projects[project_id] = work.projects.get(project_id)
    keys = work.external_keys.for_locals(
        connection_id,
        [(EntityType.PROJECT, p) for p in projects]
        + [(EntityType.EXPENSE, require_id(c.expense)) for c in candidates],
    )
    refs = {
        (entity, local): key.external_id for (entity, local), key in keys.items() if key.external_id
    }
    return _Context(
        connection=connection,
        entity_code=entity_code,
        export=export,
        employees=employees,
        projects=projects,
        project_refs={p: r for (e, p), r in refs.items() if e is EntityType.PROJECT},
        voucher_refs={x: r for (e, x), r in refs.items() if e is EntityType.EXPENSE},
    )


def _outgoing(ctx: _Context, expense: Expense, correlation: str) -> OutgoingExpense:
    employee = ctx.employees.get(expense.employee_id)
    project = ctx.projects[expense.project_id]
    return OutgoingExpense(
        expense=expense,
        correlation=correlation,
        employee_name=employee.name if employee is not None else "",
        # The ERP's project when ledgerlink linked one, else the PSA's number (the reference
        # product: the PSA project number must match an ERP project).
        project_ref=ctx.project_refs.get(require_id(project), project.number),
        department=project.department,
    )


def _export_one(
    uow: Callable[[], UnitOfWork],
    ctx: _Context,
    candidate: ExportCandidate,
    receipts: ReceiptSource,
) -> _Outcome:
    expense = candidate.expense
    expense_id = require_id(expense)
    correlation = expense_correlation(ctx.entity_code, expense_id)
    linked = ctx.voucher_refs.get(expense_id, "")
    latest = candidate.latest
    with uow() as work:
        if latest is not None and latest.status is TransferStatus.PENDING:
            export_id = require_id(latest)
        else:
            attempt = latest.attempt + 1 if latest is not None else 0
            export_id = work.expense_exports.start(
                ctx.connection_id, expense_id, attempt=attempt, correlation=correlation
            )
        earlier = (
            0 if linked else work.expense_exports.begin_step(export_id, ExportStepKind.VOUCHER)
        )
        work.commit()  # the evidence that the ERP may be reached, before anything is sent

    steps: list[ExpenseExportStep] = []
    stop: str = ""
    voucher: ExportedExpense | None = None
    try:
        voucher, step = _voucher_step(ctx, expense, correlation, linked, earlier)
    except _Failed as failed:
        step, stop = failed.step, failed.stop
    steps.append(step)
    if voucher is None:
        return _finish(
            uow,
            ctx,
            export_id=export_id,
            expense_id=expense_id,
            steps=steps,
            voucher=None,
            stop=stop,
        )

    receipt_before = 0
    if expense.receipt_file:
        with uow() as work:
            if not linked:
                work.external_keys.link(
                    ctx.connection_id, EntityType.EXPENSE, expense_id, voucher.external_id
                )
            receipt_before = work.expense_exports.begin_step(export_id, ExportStepKind.RECEIPT)
            work.commit()
        linked = voucher.external_id
    try:
        steps.append(_receipt_step(ctx, expense, voucher, receipts, receipt_before))
    except _Failed as failed:
        steps.append(failed.step)
        stop = failed.stop
    return _finish(
        uow,
        ctx,
        export_id=export_id,
        expense_id=expense_id,
        steps=steps,
        voucher=None if linked else voucher,
        stop=stop,
    )


class _Failed(Exception):
    """Internal: a step ended without success; ``stop`` says why the run ends ("" if not)."""

    def __init__(self, step: ExpenseExportStep, stop: str = "") -> None:
        super().__init__(step.message)
        self.step, self.stop = step, stop


def _voucher_step(
    ctx: _Context, expense: Expense, correlation: str, linked: str, earlier: int
) -> tuple[ExportedExpense, ExpenseExportStep]:
    kind = ExportStepKind.VOUCHER
    if linked:
        voucher = ExportedExpense(external_id=linked, number=linked, correlation=correlation)
        return voucher, _step(kind, StepStatus.SUCCESSFUL, f"already ERP voucher {linked}", linked)
    outgoing = _outgoing(ctx, expense, correlation)
    export = ctx.export

    def send() -> tuple[ExportedExpense, bool]:
        found = export.find_expense(outgoing) if earlier else None
        if found is not None:
            return found, False
        try:
            return export.export_expense(outgoing), True
        except Uncertain as lost:
            again = export.find_expense(outgoing)
            if again is None:
                raise _Failed(
                    _step(
                        kind,
                        StepStatus.PENDING,
                        f"{lost.message}; the ERP does not have the voucher (yet)",
                        erp_text=lost.erp_text,
                        hint="Nothing to do: the next run looks the voucher up before it "
                        "sends it again, so it is never booked twice.",
                    )
                ) from lost
            return again, False

    found, created = _guarded(ctx, kind, send)
    verb = "created" if created else "found (an earlier attempt had reached the ERP)"
    step = _step(
        kind,
        StepStatus.SUCCESSFUL,
        f"{verb} ERP voucher {found.number} with correlation {correlation}",
        found.external_id,
    )
    return found, step


def _receipt_step(
    ctx: _Context,
    expense: Expense,
    voucher: ExportedExpense,
    receipts: ReceiptSource,
    earlier: int,
) -> ExpenseExportStep:
    kind = ExportStepKind.RECEIPT
    if not expense.receipt_file:
        return _step(kind, StepStatus.SKIPPED, "the expense has no receipt file")
    try:
        receipt = receipts(expense.receipt_file)
    except OSError as error:
        raise _Failed(
            _step(
                kind,
                StepStatus.FAILED,
                f"the receipt file {expense.receipt_file} cannot be read: "
                f"{error.strerror or error}",
                hint="Put the receipt where the expense says (a relative path is read from the "
                "receipts folder), then export again: the voucher is not booked twice, only "
                "the receipt is attached.",
            )
        ) from None

    def attach() -> str:
        try:
            return ctx.export.attach_receipt(voucher, receipt, look_first=earlier > 0)
        except Uncertain as lost:
            raise _Failed(
                _step(
                    kind,
                    StepStatus.PENDING,
                    f"{lost.message}; the next run looks for the receipt before it sends it",
                    erp_text=lost.erp_text,
                    hint="Nothing to do: the receipt is attached by the next run, once.",
                )
            ) from lost

    file_id = _guarded(ctx, kind, attach)
    return _step(
        kind,
        StepStatus.SUCCESSFUL,
        f"attached {receipt.name} to ERP voucher {voucher.number}",
        file_id,
    )


def _guarded(ctx: _Context, kind: ExportStepKind, action: Callable[[], _T]) -> _T:
    """Run a step's ERP calls, turning what the connector raises into the step's outcome
    (design §6): Permanent fails the step with the ERP's text and hint; Transient (and an
    Uncertain read) leaves it pending and AuthExpired fails it, both ending the run; anything
    else is a bug and fails the step saying so."""
    try:
        return action()
    except _Failed:
        raise
    except (Transient, Uncertain) as error:
        raise _Failed(
            _step(
                kind,
                StepStatus.PENDING,
                f"{error.message}; trying again in the next run",
                erp_text=error.erp_text,
                hint="Nothing to do: the export resumes by itself, and nothing is sent twice.",
            ),
            stop="the ERP is not available now",
        ) from error
    except AuthExpired as error:
        raise _Failed(
            _explained(kind, error), stop="the ERP no longer accepts the login"
        ) from error
    except ConnectorError as error:
        raise _Failed(_explained(kind, error)) from error
    except LedgerlinkError as error:
        raise _Failed(_step(kind, StepStatus.FAILED, str(error))) from error
    except Exception as error:
        log.exception("unexpected error in an expense export step", step=kind.value)
        text = str(error) or repr(error)
        raise _Failed(
            _step(
                kind,
                StepStatus.FAILED,
                f"unexpected error in the {ctx.connection.erp} connector: "
                f"{type(error).__name__}: {text}",
                hint="This is a fault in ledgerlink, not in your data: report it with this "
                "text. The expense can be exported again; nothing is sent twice.",
            )
        ) from error


def _explained(kind: ExportStepKind, error: ConnectorError) -> ExpenseExportStep:
    return _step(kind, StepStatus.FAILED, error.message, erp_text=error.erp_text, hint=error.hint)


def _step(
    kind: ExportStepKind,
    status: StepStatus,
    message: str,
    external_id: str = "",
    *,
    erp_text: str = "",
    hint: str = "",
) -> ExpenseExportStep:
    return ExpenseExportStep(
        kind=kind,
        status=status,
        message=message,
        erp_text=erp_text,
        hint=hint,
        external_id=external_id,
    )


def _finish(
    uow: Callable[[], UnitOfWork],
    ctx: _Context,
    *,
    export_id: int,
    expense_id: int,
    steps: list[ExpenseExportStep],
    voucher: ExportedExpense | None,
    stop: str,
) -> _Outcome:
    """One commit: the voucher's key (when not written yet), the steps and the status."""
    status = export_status(steps)
    failed = [s for s in steps if s.status is not StepStatus.SUCCESSFUL and s.message]
    message = "; ".join(
        f"{s.kind.value}: {s.message}" for s in failed if s.status is not StepStatus.SKIPPED
    )
    with uow() as work:
        if voucher is not None:
            work.external_keys.link(
                ctx.connection_id, EntityType.EXPENSE, expense_id, voucher.external_id
            )
        work.expense_exports.record(export_id, steps, status=status, message=message)
        work.commit()
    outcome = _Outcome(status, steps, message)
    if stop:
        raise _Stop(outcome, stop)
    return outcome


def _count(report: ExportReport, expense: Expense, outcome: _Outcome) -> None:
    by_kind = {s.kind: s for s in outcome.steps}
    voucher = by_kind.get(ExportStepKind.VOUCHER)
    receipt = by_kind.get(ExportStepKind.RECEIPT)
    if voucher is not None and voucher.status is StepStatus.SUCCESSFUL:
        report.exported += 1
    if receipt is not None and receipt.status is StepStatus.SUCCESSFUL:
        report.receipts += 1
    if outcome.status is TransferStatus.PENDING:
        report.pending += 1
    elif outcome.status in (TransferStatus.FAILED, TransferStatus.PARTIALLY_FAILED):
        report.failed += 1
        what = f"{expense.day} {expense.description}"
        for step in outcome.steps:
            if step.status is StepStatus.FAILED:
                text = step.message
                if step.erp_text and step.erp_text not in text:
                    text += f" — ERP: {step.erp_text}"
                if step.hint:
                    text += f" — {step.hint}"
                report.failures.append(f"{what}: {text}")
