"""``ledgerlink expenses``: export PSA expenses to the ERP (Fortnox: a voucher per expense with
its receipt), see what the exports did, and keep expenses out of them. Thin adapters over
:mod:`ledgerlink.sync.expense_export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledgerlink.cli.context import Group, UserError, state_of
from ledgerlink.cli.integration import ConnectionOption, JsonOption, engine_of
from ledgerlink.cli.integration import _connection as chosen_connection
from ledgerlink.cli.render import Column, Grid, step_text, to_json
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError
from ledgerlink.domain.expense_exports import ExpenseExport
from ledgerlink.sync import expense_export
from ledgerlink.sync.registry import erp_title

expenses_app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    help="Export PSA expenses to the ERP (Fortnox: vouchers with their receipts).",
)

ExpenseOption = Annotated[
    list[int] | None,
    typer.Option(
        "--expense", "-e", help="Only this expense (its id, as the log shows); repeatable."
    ),
]


def receipts_folder(ctx: typer.Context, given: Path | None) -> Path:
    """Where relative receipt file names are read from: ``--receipts``, else the data
    folder's ``receipts``."""
    return given if given is not None else state_of(ctx).settings.data_dir / "receipts"


@expenses_app.command("export")
def expenses_export(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    receipts: Annotated[
        Path | None,
        typer.Option(help="Folder relative receipt files are read from [default: DATA/receipts]."),
    ] = None,
    expense: ExpenseOption = None,
    new_only: Annotated[
        bool,
        typer.Option("--new-only", help="Leave failed exports alone (the worker's round does)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Export the expenses not exported yet, and retry failed ones (after a fix): one voucher
    per expense with its receipt; nothing is ever sent twice."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = chosen_connection(engine, connection)
    report = expense_export.export_expenses(
        engine.uow,
        engine.connectors,
        require_id(current),
        receipts=expense_export.ReceiptFiles(receipts_folder(ctx, receipts)),
        retry_failed=not new_only,
        only=expense,
    )
    if as_json:
        typer.echo(to_json(_report_json(report)))
    elif not report.enabled:
        raise UserError(
            f"{current.describe()} does not export expenses: choose the voucher series with "
            "'ledgerlink connections set --setting expense_voucher_series=\"U\"' "
            f"(if {erp_title(current.erp)} supports expense export)"
        )
    else:
        state.console.print(
            f"expenses: {report.read} read, {report.exported} exported, {report.receipts} "
            f"receipts attached, {report.failed} failed, {report.pending} pending"
        )
        for failure in report.failures:
            state.console.print(f"  {failure}", markup=False)
        if report.stopped:
            state.console.print(f"stopped: {report.stopped}; run again later", markup=False)
    if report.failed or report.stopped:
        raise typer.Exit(1)


def _report_json(report: expense_export.ExportReport) -> dict[str, Any]:
    return {
        "enabled": report.enabled,
        "read": report.read,
        "exported": report.exported,
        "receipts": report.receipts,
        "failed": report.failed,
        "pending": report.pending,
        "failures": report.failures,
        "stopped": report.stopped,
    }


@expenses_app.command("log")
def expenses_log(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    expense: Annotated[int | None, typer.Option(help="Only this expense (its id).")] = None,
    limit: Annotated[int, typer.Option(help="How many exports, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The integration log of expense exports: each export and its steps (voucher, receipt),
    with the ERP's own error text and what to do."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = chosen_connection(engine, connection)
    logged = expense_export.export_log(
        engine.uow, require_id(current), expense_id=expense, limit=limit
    )
    if as_json:
        typer.echo(to_json([_export_json(e) for e in logged]))
        return
    state.console.print(_log_grid(logged))


def _export_json(export: ExpenseExport) -> dict[str, Any]:
    return {
        "export": export.id,
        "expense": export.expense_id,
        "attempt": export.attempt,
        "correlation": export.correlation,
        "status": export.status.value,
        "steps": [
            {
                "step": step.kind.value,
                "status": step.status.value,
                "message": step.message,
                "erp_text": step.erp_text,
                "hint": step.hint,
                "external_id": step.external_id,
            }
            for step in export.steps
        ],
    }


def _log_grid(exports: list[ExpenseExport]) -> Grid:
    grid = Grid(
        *(Column(name, fixed=True) for name in ("export", "expense", "status", "step")),
        Column("step status", fixed=True),
        "message",
        title="Expense exports",
        empty="Nothing logged yet: no expense has been exported.",
    )
    for export in exports:
        first = True
        for step in export.steps:
            text = step_text(step.message, step.erp_text, step.hint)
            grid.add_row(
                str(export.id) if first else "",
                str(export.expense_id) if first else "",
                export.status.value.replace("_", " ") if first else "",
                step.kind.value,
                step.status.value,
                text,
            )
            first = False
    return grid


@expenses_app.command("ignore")
def expenses_ignore(
    ctx: typer.Context,
    expense: Annotated[list[int], typer.Option("--expense", "-e", help="Expense id; repeatable.")],
    connection: ConnectionOption = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Let the expenses be exported again.")
    ] = False,
) -> None:
    """Keep expenses out of the export to this connection (e.g. one in a currency the ERP
    cannot book), or let them in again with --undo."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = chosen_connection(engine, connection)
    try:
        changed = expense_export.ignore_expenses(
            engine.uow, require_id(current), expense, ignored=not undo
        )
    except LedgerlinkError as error:
        raise UserError(str(error)) from None
    state.console.print(f"{changed} expense(s) {'let in again' if undo else 'ignored'}")
