"""The ``ledgerlink`` command. Thin: it parses, calls a use-case, and shows the result."""

from __future__ import annotations

import calendar
import logging
import os
import re
import shutil
import sys
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import structlog
import typer
from pydantic import ValidationError as PydanticError
from rich.console import Console

from ledgerlink import __version__
from ledgerlink.cli import demo_erp, expenses, integration, render
from ledgerlink.cli.context import Group, State, UserError, state_of
from ledgerlink.cli.demo import run_demo
from ledgerlink.cli.emulate import emulate_app
from ledgerlink.cli.report import report_app
from ledgerlink.cli.serve import agents_app, serve
from ledgerlink.cli.users import users_app
from ledgerlink.cli.worker import worker
from ledgerlink.domain.billing import Grouping, RateSource
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, NotFoundError, ValidationError
from ledgerlink.domain.invoices import DocumentType, Invoice, InvoiceStatus, remaining_quantities
from ledgerlink.domain.money import to_decimal
from ledgerlink.domain.parties import Customer, LegalEntity
from ledgerlink.financialhost.cli import host_app
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import ImportKind, import_file
from ledgerlink.psa.sample import load_sample_data, sample_projects
from ledgerlink.psa.setup import create_legal_entity, find_legal_entity
from ledgerlink.settings import Settings
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork

app = typer.Typer(
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: it rewraps docstring paragraphs to the terminal and shows no
    # <bool> for flags (rich markup mode keeps a docstring's line breaks in command lists).
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},
    help="ledgerlink: keeps a PSA (customers, projects, time, invoices) and its ERP in step.",
)
invoices_app = typer.Typer(
    cls=Group, no_args_is_help=True, help="Draft, post, credit and list invoices."
)
sample_app = typer.Typer(cls=Group, no_args_is_help=True, help="The shipped sample data.")
app.add_typer(invoices_app, name="invoices")
app.add_typer(sample_app, name="sample")
app.add_typer(integration.connect_app, name="connect")
app.add_typer(integration.connections_app, name="connections")
app.add_typer(integration.sync_app, name="sync")
app.add_typer(integration.transfers_app, name="transfers")
app.add_typer(expenses.expenses_app, name="expenses")
app.add_typer(emulate_app, name="emulate")
app.add_typer(host_app, name="host")
app.add_typer(agents_app, name="agents")
app.add_typer(users_app, name="users")
app.add_typer(report_app, name="report")
app.command()(serve)
app.command()(worker)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ledgerlink {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data directory (default: LEDGERLINK_DATA_DIR or the user data folder)."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="Database URL, e.g. postgresql://user@host/db (default: SQLite in the data dir)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Log every ERP call and retry to stderr, and show the traceback of an "
            "unexpected error.",
        ),
    ] = False,
) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    try:
        settings = Settings(**overrides)
    except PydanticError as error:
        problem = error.errors()[0]
        name = "LEDGERLINK_" + "_".join(str(part) for part in problem["loc"]).upper()
        raise UserError(f"{name}: {problem['msg']}") from None
    ctx.obj = State(settings=settings, console=_console(), verbose=verbose)
    # Structured logs (HTTP calls, retries, steps) go to stderr: errors only, unless --verbose;
    # what failed is the command's own one-line error.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.ERROR
        ),
        # Resolve stderr when a logger is made, not now: it may be replaced (tests, pipes).
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
    )


# helpers ------------------------------------------------------------------------------------
def _console() -> Console:
    """Rich's console. Piped (and no COLUMNS), lines are not cut at 80 columns: a table row
    stays one line for grep and friends; tables are plain text there (render.Grid)."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(soft_wrap=False, width=100_000 if piped else None)


def _today() -> date:
    return datetime.now().astimezone().date()


def _month(value: str) -> tuple[date, date]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match:
        raise ValidationError(f"'{value}' is not a month in the form YYYY-MM")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        raise ValidationError(f"'{value}' is not a month in the form YYYY-MM")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _customers(uow: UnitOfWork, entity: LegalEntity) -> dict[int, Customer]:
    with uow:
        return {require_id(c): c for c in uow.customers.list(require_id(entity))}


def _fail(message: str) -> NoReturn:
    raise UserError(message)


def _parse_credit_lines(values: list[str]) -> dict[int, Decimal]:
    result: dict[int, Decimal] = {}
    for value in values:
        match = re.fullmatch(r"\s*(\d+)\s*(?:=\s*(\S+))?\s*", value)
        if not match:
            _fail(f"--line '{value}' is not POSITION or POSITION=QUANTITY")
        position = int(match[1])
        if match[2] is None:
            result[position] = Decimal(-1)  # resolved to the whole open quantity below
        else:
            result[position] = to_decimal(match[2])
    return result


# commands -----------------------------------------------------------------------------------
@app.command()
def init(
    ctx: typer.Context,
    legal_entity: Annotated[
        str | None, typer.Option(help="Code of a legal entity to create.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Its name.")] = None,
    country: Annotated[str | None, typer.Option(help="Its country (ISO code, e.g. DK).")] = None,
    currency: Annotated[str | None, typer.Option(help="Its currency (e.g. DKK).")] = None,
    vat_number: Annotated[str, typer.Option(help="Its VAT number.")] = "",
    registration_number: Annotated[str, typer.Option(help="Its CVR/org. number.")] = "",
    first_invoice_number: Annotated[
        int, typer.Option(help="First number of its invoice series.")
    ] = 1,
) -> None:
    """Create (or migrate) the database, and optionally a legal entity."""
    state = state_of(ctx)
    state.database.migrate()
    state.console.print(f"Database ready: {state.database.engine.url.render_as_string()}")
    integration.secrets_of(state)  # creates the key file that encrypts ERP credentials
    state.console.print(f"Credentials key: {state.settings.effective_key_file}")
    if legal_entity:
        if not (name and country and currency):
            _fail("--legal-entity needs --name, --country and --currency")
        entity = create_legal_entity(
            state.uow(),
            LegalEntity(
                code=legal_entity,
                name=name,
                country=country,
                currency=currency,
                vat_number=vat_number,
                registration_number=registration_number,
                next_invoice_number=first_invoice_number,
            ),
        )
        state.console.print(f"Legal entity {entity.code} ({entity.name}) created.")


@sample_app.command("load")
def sample_load(ctx: typer.Context) -> None:
    """Load the sample consultancy (idempotent)."""
    state = state_of(ctx)
    state.database.migrate()
    entity, reports = load_sample_data(state.uow())
    state.console.print(f"Sample legal entity {entity.code} ({entity.name})")
    for report in reports:
        render.import_report(state.console, report)


@app.command("import")
def import_(
    ctx: typer.Context,
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .json file (formats: README).")],
    legal_entity: Annotated[
        str | None, typer.Option(help="Legal entity code (default: the only one).")
    ] = None,
    partial: Annotated[
        bool, typer.Option(help="Keep the valid rows when some are rejected.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import customers, contacts, employees, projects, registrations or expenses."""
    state = state_of(ctx)
    entity = find_legal_entity(state.uow(), legal_entity)
    report = import_file(
        state.uow(), legal_entity_id=require_id(entity), kind=kind, path=file, partial=partial
    )
    if as_json:
        typer.echo(render.to_json(render.import_report_json(report)))
    else:
        render.import_report(state.console, report)
    if not report.committed:
        raise typer.Exit(1)


@invoices_app.command("draft")
def invoices_draft(
    ctx: typer.Context,
    project: Annotated[str, typer.Option(help="Project number.")],
    month: Annotated[str | None, typer.Option(help="Bill this month, YYYY-MM.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    group: Annotated[
        Grouping, typer.Option(help="One work line per employee, per task, or one.")
    ] = Grouping.EMPLOYEE,
    rates: Annotated[
        RateSource, typer.Option(help="Hourly rates from the registrations or the project.")
    ] = RateSource.REGISTRATION,
    invoice_date: Annotated[str | None, typer.Option(help="Invoice date (default today).")] = None,
    expenses: Annotated[bool, typer.Option(help="Include billable expenses.")] = True,
    heading: Annotated[
        str | None, typer.Option(help="Heading (default: project and period).")
    ] = None,
    message: Annotated[str, typer.Option(help="Message to the customer.")] = "",
    requisition: Annotated[str, typer.Option(help="Requisition / PO number.")] = "",
    your_reference: Annotated[str, typer.Option(help="The customer's reference.")] = "",
    legal_entity: Annotated[str | None, typer.Option(help="Legal entity code.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Draft an invoice from a project's uninvoiced billable registrations and expenses."""
    state = state_of(ctx)
    if month and (date_from or date_to):
        _fail("use either --month or --from/--to")
    if month:
        period = _month(month)
    elif date_from and date_to:
        period = (_date(date_from, "--from"), _date(date_to, "--to"))
    else:
        _fail("say which period to bill: --month YYYY-MM, or --from and --to")
    entity = find_legal_entity(state.uow(), legal_entity)
    invoice = invoicing.draft_invoice(
        state.uow(),
        invoicing.DraftRequest(
            legal_entity_id=require_id(entity),
            project_number=project,
            period=period,
            invoice_date=_date(invoice_date, "--invoice-date") if invoice_date else _today(),
            grouping=group,
            rate_source=rates,
            include_expenses=expenses,
            heading=heading,
            message=message,
            requisition_number=requisition,
            customer_reference=your_reference,
        ),
    )
    _print_invoice(state, entity, invoice, as_json=as_json)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} '{value}' is not a date in the form YYYY-MM-DD")


def _print_invoice(state: State, entity: LegalEntity, invoice: Invoice, *, as_json: bool) -> None:
    customers = _customers(state.uow(), entity)
    if as_json:
        typer.echo(render.to_json(render.invoice_detail(invoice, customers)))
    else:
        render.show_invoice(state.console, invoice, customers)


def _load(
    state: State, invoice_id: int | None, number: int | None, legal_entity: str | None
) -> tuple[LegalEntity, Invoice]:
    entity = find_legal_entity(state.uow(), legal_entity)
    with state.uow() as uow:
        if number is not None:
            invoice = uow.invoices.by_number(require_id(entity), number)
            if invoice is None:
                raise NotFoundError(f"there is no invoice or credit note number {number}")
        elif invoice_id is not None:
            invoice = uow.invoices.get(invoice_id)
            if invoice.legal_entity_id != entity.id:
                raise NotFoundError(f"invoice #{invoice_id} does not belong to {entity.code}")
        else:
            _fail("name the invoice by its id, or by --number")
    return entity, invoice


InvoiceId = Annotated[int | None, typer.Argument(help="The invoice id (see 'invoices list').")]
NumberOption = Annotated[int | None, typer.Option("--number", help="Or the posted number.")]
LegalEntityOption = Annotated[str | None, typer.Option(help="Legal entity code.")]


@invoices_app.command("post")
def invoices_post(
    ctx: typer.Context,
    invoice_id: InvoiceId = None,
    posting_date: Annotated[str | None, typer.Option(help="Posting date (default today).")] = None,
    release_registrations: Annotated[
        bool,
        typer.Option(
            help="For a credit note completing a full credit: registrations become invoiceable."
        ),
    ] = False,
    legal_entity: LegalEntityOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Post a draft: it gets the next number and can no longer change."""
    state = state_of(ctx)
    entity, draft = _load(state, invoice_id, None, legal_entity)
    invoice = invoicing.post_invoice(
        state.uow(),
        require_id(draft),
        posting_date=_date(posting_date, "--posting-date") if posting_date else _today(),
        release_sources=release_registrations,
    )
    _print_invoice(state, entity, invoice, as_json=as_json)
    _transfer_on_posting(state, invoice, as_json=as_json)


@invoices_app.command("credit")
def invoices_credit(
    ctx: typer.Context,
    invoice_id: InvoiceId = None,
    number: NumberOption = None,
    line: Annotated[
        list[str] | None,
        typer.Option(
            help="Credit only line POSITION (all of it) or POSITION=QUANTITY; repeatable."
        ),
    ] = None,
    credit_date: Annotated[
        str | None, typer.Option("--date", help="Credit note date (default today).")
    ] = None,
    post: Annotated[bool, typer.Option(help="Post the credit note right away.")] = False,
    legal_entity: LegalEntityOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Draft a credit note of a posted invoice: all that is open, or chosen lines."""
    state = state_of(ctx)
    entity, invoice = _load(state, invoice_id, number, legal_entity)
    quantities = None
    if line:
        requested = _parse_credit_lines(line)
        with state.uow() as uow:
            already = uow.invoices.credited_quantities(require_id(invoice), include_drafts=True)
        open_quantities = remaining_quantities(invoice, already)
        quantities = {
            position: open_quantities.get(position, Decimal(0)) if quantity == -1 else quantity
            for position, quantity in requested.items()
        }
    day = _date(credit_date, "--date") if credit_date else _today()
    credit_note = invoicing.credit_invoice(
        state.uow(), require_id(invoice), invoice_date=day, quantities=quantities
    )
    if post:
        credit_note = invoicing.post_invoice(state.uow(), require_id(credit_note), posting_date=day)
    _print_invoice(state, entity, credit_note, as_json=as_json)
    if post:
        _transfer_on_posting(state, credit_note, as_json=as_json)


def _transfer_on_posting(state: State, invoice: Invoice, *, as_json: bool) -> None:
    """Automatic transfer: the posted document is on its way; posting never fails on it."""
    try:
        line = integration.transfer_on_posting(state, invoice)
    except LedgerlinkError as error:
        line = f"Not queued for transfer: {error}. 'ledgerlink worker' will start it."
    if line and not as_json:
        state.console.print(line)


@invoices_app.command("delete")
def invoices_delete(
    ctx: typer.Context,
    invoice_id: Annotated[int, typer.Argument(help="Id of the draft.")],
    legal_entity: LegalEntityOption = None,
) -> None:
    """Delete a draft; its registrations and expenses become invoiceable again."""
    state = state_of(ctx)
    _load(state, invoice_id, None, legal_entity)
    invoicing.delete_draft(state.uow(), invoice_id)
    state.console.print(f"Draft #{invoice_id} deleted.")


@invoices_app.command("list")
def invoices_list(
    ctx: typer.Context,
    status: Annotated[
        list[InvoiceStatus] | None, typer.Option(help="Only these statuses (repeatable).")
    ] = None,
    document_type: Annotated[
        DocumentType | None, typer.Option("--type", help="invoice or credit_note.")
    ] = None,
    customer: Annotated[str | None, typer.Option(help="Customer number.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Posted on or after (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Posted on or before (YYYY-MM-DD).")
    ] = None,
    search: Annotated[
        str | None, typer.Option(help="Customer name, heading or invoice number.")
    ] = None,
    legal_entity: LegalEntityOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List invoices and credit notes."""
    state = state_of(ctx)
    entity = find_legal_entity(state.uow(), legal_entity)
    customers = _customers(state.uow(), entity)
    customer_id = None
    if customer:
        matches = [c.id for c in customers.values() if c.number == customer]
        if not matches:
            raise NotFoundError(f"customer {customer} does not exist")
        customer_id = matches[0]
    period = None
    if date_from or date_to:
        period = (
            _date(date_from, "--from") if date_from else date.min,
            _date(date_to, "--to") if date_to else date.max,
        )
    with state.uow() as uow:
        invoices = uow.invoices.list(
            require_id(entity),
            statuses=status or (),
            document_type=document_type,
            customer_id=customer_id,
            period=period,
            text=search,
        )
    if as_json:
        typer.echo(render.to_json([render.invoice_summary(i, customers) for i in invoices]))
    else:
        state.console.print(render.invoices_table(invoices, customers))


@invoices_app.command("show")
def invoices_show(
    ctx: typer.Context,
    invoice_id: InvoiceId = None,
    number: NumberOption = None,
    legal_entity: LegalEntityOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one invoice or credit note with its lines and VAT."""
    state = state_of(ctx)
    entity, invoice = _load(state, invoice_id, number, legal_entity)
    _print_invoice(state, entity, invoice, as_json=as_json)


@app.command()
def demo(
    ctx: typer.Context,
    fresh: Annotated[bool, typer.Option(help="Start from an empty demo data directory.")] = False,
    psa_only: Annotated[bool, typer.Option(help="Stop after the PSA part.")] = False,
    erp: Annotated[
        str,
        typer.Option(
            help="The ERP to rehearse on: " + ", ".join(sorted(demo_erp.demo_erps())) + "."
        ),
    ] = next(iter(demo_erp.demo_erps())),
    setup: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=VALUE: use an ERP that is already running (the real one included) "
            "instead of its emulator, with these setup values (as 'ledgerlink connect' names "
            "them); nothing is booked or paid on its behalf. Repeat for each value."
        ),
    ] = None,
    keep_serving: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then keep the web console running (http://127.0.0.1, with the ERP's "
            "emulator) until Ctrl+C; a one-time admin password is printed.",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="The web console's port.")] = 8000,
) -> None:
    """Rehearse the main job on the sample data.

    Import, draft, post, credit, then connect to the ERP (its emulator on loopback; an
    on-premise ERP through a FinancialHost on loopback), transfer, book and pay in the ERP,
    pull balancing, show table and log.

    It uses its own data directory (<data dir>/demo-<erp>) unless --database-url is given, so
    it never touches your real data; running it again adds nothing twice.
    """
    state = state_of(ctx)
    settings = state.settings
    demo_erp.find(erp)  # an unknown ERP is refused before anything is made
    given = dict(_setup_value(value) for value in setup or [])
    demo_dir = settings.data_dir / f"demo-{erp}"
    if fresh:
        shutil.rmtree(demo_dir, ignore_errors=True)
    url = settings.database_url or f"sqlite:///{demo_dir / 'ledgerlink.db'}"
    database = Database(url)
    try:
        run_demo(
            database,
            state.console,
            demo_dir=demo_dir,
            erp=None
            if psa_only
            else partial(demo_erp.demo_erp, erp, projects=sample_projects(), given=given),
            company=demo_erp.company(erp),
            serve=keep_serving,
            port=port,
        )
    finally:
        database.dispose()


def _setup_value(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise UserError(f"--setup '{text}' is not NAME=VALUE")
    return name.strip(), value


def main() -> None:
    """Console-script entry point."""
    app()
