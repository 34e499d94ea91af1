"""``ledgerlink report``: reports over the store (issue 14 item 7: reconciliation)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from ledgerlink.cli.context import Group, State, UserError, state_of
from ledgerlink.cli.render import Column, Grid
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.money import Money
from ledgerlink.sync import reconcile
from ledgerlink.sync.reconcile import ReconcileStatus, Reconciliation
from ledgerlink.sync.registry import erp_title
from ledgerlink.web.api.reconciliation import ReconciliationOut

report_app = typer.Typer(cls=Group, no_args_is_help=True, help="Reports over the store.")


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} must be a date (YYYY-MM-DD), not '{value}'") from None


def _money(money: Money | None) -> str:
    return "" if money is None else str(money)


@report_app.command("reconcile")
def report_reconcile(
    ctx: typer.Context,
    connection: Annotated[
        int | None,
        typer.Option("--connection", "-c", help="Connection id (default: every connection)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First posting date, YYYY-MM-DD.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last posting date, YYYY-MM-DD.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (a list) for scripts.")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print one CSV line per document.")] = False,
) -> None:
    """PSA totals against the ERP's per connection, by customer and by status (not sent,
    sent, booked, paid, remainder), with every document that differs.

    The ERP's side is what transfers recorded and the last balancing pull brought back
    ('ledgerlink sync balancing' first for fresh paid states). Exit code 0 either way."""
    if as_json and as_csv:
        raise UserError("choose one of --json and --csv")
    state = state_of(ctx)
    period = reconcile.Period(start=_day(start, "--from"), end=_day(end, "--to"))
    with state.uow() as uow:
        wanted = (
            [uow.connections.get(connection)] if connection is not None else uow.connections.list()
        )
    if not wanted:
        raise UserError("no connection yet; connect one with 'ledgerlink connect <ERP>'")
    reports = [reconcile.reconciliation(state.uow, require_id(c), period) for c in wanted]
    if as_json:
        typer.echo(
            json.dumps(
                [ReconciliationOut.of(r).model_dump(mode="json") for r in reports],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if as_csv:
        typer.echo(reconcile.to_csv(reports), nl=False)
        return
    for wanted_connection, report in zip(wanted, reports, strict=True):
        title = (
            f"connection {report.connection_id} ({erp_title(wanted_connection.erp)}"
            f"{', ' + wanted_connection.company_name if wanted_connection.company_name else ''})"
            f", {report.period.describe()}"
        )
        _show(state, title, report)


def _show(state: State, title: str, report: Reconciliation) -> None:
    state.console.print(f"Reconciliation of {title}", markup=False, highlight=False)
    amounts = (
        Column("documents", fixed=True, right=True),
        Column("PSA gross", fixed=True, right=True),
        Column("ERP gross", fixed=True, right=True),
        Column("difference", fixed=True, right=True),
        Column("remainder", fixed=True, right=True),
    )
    by_status = Grid(
        Column("status", fixed=True),
        *amounts,
        title="By status",
        empty="No posted documents in this period.",
    )
    for row in report.by_status:
        a = row.amounts
        by_status.add_row(
            row.status.label,
            str(a.documents),
            *(_money(m) for m in (a.psa_gross, a.erp_gross, a.difference, a.remainder)),
        )
    for a in report.totals:
        by_status.add_row(
            "total",
            str(a.documents),
            *(_money(m) for m in (a.psa_gross, a.erp_gross, a.difference, a.remainder)),
        )
    state.console.print(by_status)
    by_customer = Grid(
        Column("customer", fixed=True),
        "name",
        *amounts,
        *(Column(s.label, fixed=True, right=True) for s in ReconcileStatus),
        title="By customer",
    )
    for customer in report.by_customer:
        a = customer.amounts
        by_customer.add_row(
            customer.customer_number,
            customer.customer_name,
            str(a.documents),
            *(_money(m) for m in (a.psa_gross, a.erp_gross, a.difference, a.remainder)),
            *(_money(customer.by_status.get(s)) for s in ReconcileStatus),
        )
    if report.by_customer:
        state.console.print(by_customer)
    if report.agrees:
        state.console.print(
            "No differences: every posted document is in the ERP with the PSA's total."
            if report.documents
            else "No differences."
        )
        return
    differences = Grid(
        Column("document", fixed=True),
        Column("customer", fixed=True),
        Column("status", fixed=True),
        Column("PSA gross", fixed=True, right=True),
        Column("ERP gross", fixed=True, right=True),
        Column("difference", fixed=True, right=True),
        "why",
        title=f"Differences ({len(report.differences)})",
    )
    for line in report.differences:
        differences.add_row(
            line.facts.describe(),
            line.facts.customer_number,
            line.status.label,
            _money(line.facts.psa_gross),
            _money(line.erp_gross),
            _money(line.difference),
            line.explanation,
        )
    state.console.print(differences)
