"""How the CLI shows things: tables for people (:class:`Grid`), JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ledgerlink.domain.invoices import Invoice, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Customer
from ledgerlink.psa.importing import ImportReport


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot show {type(value).__name__} as JSON")


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a :class:`Grid`. A ``fixed`` column (amounts, numbers, statuses, dates,
    codes) is never cut or wrapped; the others wrap. ``right`` aligns right (amounts)."""

    header: str
    fixed: bool = False
    right: bool = False


class Grid:
    """A table for people. Fixed columns keep their whole values; text columns wrap to fit
    the width; when even that does not fit, each row is shown as lines of "column value"
    (vertical layout). In a terminal it has a box; piped, it is plain text. Without rows it
    shows its headers and the ``empty`` line."""

    def __init__(self, *columns: Column | str, title: str | None = None, empty: str = "") -> None:
        self.columns = tuple(c if isinstance(c, Column) else Column(c) for c in columns)
        self.title = title
        self.empty = empty
        self.rows: list[tuple[Text, ...]] = []

    def add_row(self, *cells: str | Text) -> None:
        """Add a row; a ``str`` cell is shown as it is (no rich markup)."""
        self.rows.append(tuple(c if isinstance(c, Text) else Text(c) for c in cells))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self._table(boxed=console.is_terminal)
        needed = Measurement.get(console, options.update_width(10**6), table).minimum
        if needed <= options.max_width or not self.rows:
            yield table
        else:
            yield from self._vertical()
        if not self.rows and self.empty:
            yield Text(self.empty)

    def _table(self, *, boxed: bool) -> Table:
        table = Table(
            title=self.title,
            box=box.HEAVY_HEAD if boxed else None,
            show_edge=boxed,
            pad_edge=boxed,
        )
        for index, column in enumerate(self.columns):
            widest = max([cell_len(column.header), *(row[index].cell_len for row in self.rows)])
            table.add_column(
                column.header,
                justify="right" if column.right else "left",
                no_wrap=column.fixed,
                min_width=widest if column.fixed else None,
            )
        for row in self.rows:
            table.add_row(*row)
        return table

    def _vertical(self) -> RenderResult:
        if self.title:
            yield Text(self.title, style="bold")
        for row in self.rows:
            record = Table.grid(padding=(0, 2))
            record.add_column(style="dim", no_wrap=True)
            record.add_column(overflow="fold")
            for column, cell in zip(self.columns, row, strict=True):
                record.add_row(column.header, cell)
            yield Text("")
            yield record


def step_text(message: str, erp_text: str, hint: str) -> str:
    """A logged step as one line: what happened, the ERP's own text, what to do."""
    text = message
    if erp_text and erp_text not in text:
        text += f" — ERP: {erp_text}"
    return f"{text} — {hint}" if hint else text


def amount(money: Money | None) -> str:
    return "" if money is None else f"{money.amount:,}"


def invoice_summary(invoice: Invoice, customers: Mapping[int, Customer]) -> dict[str, Any]:
    totals = invoice.current_totals()
    customer = customers.get(invoice.customer_id)
    return {
        "id": invoice.id,
        "number": invoice.number,
        "type": invoice.document_type.value,
        "status": invoice.status.value,
        "customer_number": customer.number if customer else None,
        "customer_name": customer.name if customer else None,
        "invoice_date": invoice.invoice_date,
        "posting_date": invoice.posting_date,
        "due_date": invoice.due_date,
        "currency": invoice.currency,
        "heading": invoice.heading,
        "net": totals.net,
        "vat": totals.vat,
        "gross": totals.gross,
        "credits_invoice_id": invoice.credits_invoice_id,
        "revision": invoice.revision,
    }


def invoice_detail(invoice: Invoice, customers: Mapping[int, Customer]) -> dict[str, Any]:
    totals = invoice.current_totals()
    return {
        **invoice_summary(invoice, customers),
        "tax_date": invoice.tax_date,
        "vat_treatment": invoice.vat_treatment.value,
        "message": invoice.message,
        "requisition_number": invoice.requisition_number,
        "customer_reference": invoice.customer_reference,
        "internal_reference": invoice.internal_reference,
        "project_id": invoice.project_id,
        "lines": [
            {
                "position": position,
                "kind": line.kind.value,
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
                "vat_category": line.vat_category.value,
                "net": line.net_amount,
                "credits_position": line.credits_position,
                "time_registrations": len(line.time_registration_ids),
                "expenses": len(line.expense_ids),
            }
            for position, line in enumerate(invoice.lines, start=1)
        ],
        "vat_lines": [
            {"category": v.category.value, "percent": v.percent, "net": v.net, "vat": v.vat}
            for v in totals.vat_lines
        ],
    }


def invoices_table(invoices: Sequence[Invoice], customers: Mapping[int, Customer]) -> Grid:
    table = Grid(
        *(Column(name, fixed=True) for name in ("id", "number", "type", "status")),
        "customer",
        *(Column(name, fixed=True) for name in ("date", "posted", "currency")),
        *(Column(name, fixed=True, right=True) for name in ("net", "VAT", "gross")),
        title="Invoices and credit notes",
        empty="No invoices or credit notes.",
    )
    for invoice in invoices:
        totals = invoice.current_totals()
        customer = customers.get(invoice.customer_id)
        table.add_row(
            str(invoice.id),
            "" if invoice.number is None else str(invoice.number),
            "credit note" if invoice.is_credit_note else "invoice",
            invoice.status.value.replace("_", " "),
            f"{customer.number} {customer.name}" if customer else "?",
            invoice.invoice_date.isoformat(),
            invoice.posting_date.isoformat() if invoice.posting_date else "",
            invoice.currency,
            amount(totals.net),
            amount(totals.vat),
            amount(totals.gross),
        )
    return table


def show_invoice(console: Console, invoice: Invoice, customers: Mapping[int, Customer]) -> None:
    customer = customers.get(invoice.customer_id)
    totals = invoice.current_totals()
    kind = "Credit note" if invoice.is_credit_note else "Invoice"
    number = invoice.number if invoice.number is not None else f"(draft #{invoice.id})"
    console.print(f"[bold]{kind} {number}[/bold]  {invoice.status.value.replace('_', ' ')}")
    if customer:
        console.print(f"Customer: {customer.number} {customer.name}, {customer.country}")
    console.print(
        f"Invoice date {invoice.invoice_date}  due {invoice.due_date}"
        + (f"  posted {invoice.posting_date}" if invoice.posting_date else "")
        + f"  VAT: {invoice.vat_treatment.value.replace('_', ' ')}"
    )
    if invoice.heading:
        console.print(f"Heading: {invoice.heading}")
    for label, value in (
        ("Requisition", invoice.requisition_number),
        ("Your reference", invoice.customer_reference),
        ("Our reference", invoice.internal_reference),
        ("Message", invoice.message),
    ):
        if value:
            console.print(f"{label}: {value}")
    table = Grid(
        Column("#", fixed=True, right=True),
        Column("kind", fixed=True),
        "description",
        Column("qty", fixed=True, right=True),
        Column("unit", fixed=True),
        *(Column(name, fixed=True, right=True) for name in ("price", "disc %", "net")),
    )
    for position, line in enumerate(invoice.lines, start=1):
        is_text = line.kind is LineKind.TEXT
        table.add_row(
            str(position),
            line.kind.value,
            line.description,
            "" if is_text else str(line.quantity),
            line.unit,
            "" if is_text else amount(line.unit_price),
            "" if is_text or not line.discount_percent else str(line.discount_percent),
            "" if is_text else amount(line.net_amount),
        )
    console.print(table)
    for vat_line in totals.vat_lines:
        console.print(
            f"VAT {vat_line.category.value} {vat_line.percent} % of {amount(vat_line.net)}: "
            f"{amount(vat_line.vat)}"
        )
    console.print(
        f"[bold]Net {amount(totals.net)}  VAT {amount(totals.vat)}  "
        f"Total {amount(totals.gross)} {invoice.currency}[/bold]"
    )


#: Rejected rows an import report shows, one line each; ``--json`` lists every one.
REJECTED_ROWS_SHOWN = 20


def import_report(console: Console, report: ImportReport) -> None:
    """A summary line, then one line per rejected row (at most :data:`REJECTED_ROWS_SHOWN`)."""
    changes = ", ".join(f"{count} {change.value}" for change, count in report.changes.items())
    rejected = len(report.errors)
    if report.committed:
        summary = f"{report.kind.value}: {report.rows} rows read, {changes}"
        if rejected:
            summary += f"; {rejected} rejected rows not imported (the valid rows were kept)"
    else:
        summary = (
            f"{report.kind.value}: nothing imported — {rejected} of {report.rows} rows rejected"
        )
        summary += (
            " (fix them and import again, or use --partial to keep the valid rows)"
            if rejected < report.rows
            else " (fix them and import again)"
        )
    name = Path(report.source).name
    lines = [summary]
    lines += [f"{name} line {e.line}: {e.message}" for e in report.errors[:REJECTED_ROWS_SHOWN]]
    if rejected > REJECTED_ROWS_SHOWN:
        lines.append(
            f"… and {rejected - REJECTED_ROWS_SHOWN} more rejected rows (--json lists them all)"
        )
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def import_report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "kind": report.kind.value,
        "source": report.source,
        "rows": report.rows,
        "committed": report.committed,
        **{change.value: count for change, count in report.changes.items()},
        "rejected": [{"line": e.line, "reason": e.message} for e in report.errors],
    }
