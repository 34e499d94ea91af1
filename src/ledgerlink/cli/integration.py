"""Commands of the integration: connect, connections, sync (pulls), transfers (the worker's
command is in :mod:`ledgerlink.cli.worker`)."""

from __future__ import annotations

import errno
import inspect
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from ledgerlink.cli.context import Group, State, UserError, state_of
from ledgerlink.cli.render import Column, Grid, step_text
from ledgerlink.connectors._kit.requestor import decode_json, encode_json
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import ConnectionInfo
from ledgerlink.connectors.registry import all_specs
from ledgerlink.connectors.spec import ConnectorSpec, CredentialKind
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import DocumentType, Invoice, LineKind
from ledgerlink.domain.transfers import (
    Connection,
    CustomerMaster,
    ProductNumberPrinciples,
    TransferStatus,
    TransferView,
)
from ledgerlink.psa.setup import find_legal_entity
from ledgerlink.sync import automatic, pulls, table, transfers
from ledgerlink.sync import connections as setup
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, erp_title, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import Submitter, WorkerOptions, Workers

connect_app = typer.Typer(cls=Group, no_args_is_help=True, help="Connect a legal entity to an ERP.")
connections_app = typer.Typer(cls=Group, no_args_is_help=True, help="List and set up connections.")
sync_app = typer.Typer(cls=Group, no_args_is_help=True, help="Pull from the ERP.")
transfers_app = typer.Typer(cls=Group, no_args_is_help=True, help="The transfer table and log.")

CUSTOMER_MASTER_HELP = (
    "Which system is the customer master: psa (customers go to the ERP with their first "
    "invoice), erp (import and link them), both (NAV)."
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (a list) for scripts.")]
ConnectionOption = Annotated[
    int | None, typer.Option("--connection", "-c", help="Connection id (default: the only one).")
]


def secrets_of(state: State) -> SecretBox:
    return SecretBox.from_key_file(state.settings.effective_key_file, create=True)


#: Verifying a connection: one attempt, so an unreachable ERP is said at once; the person who
#: typed the command tries again (the worker's transfers and pulls keep the default retries).
VERIFY_ONCE = RetryPolicy(attempts=1)


def engine_of(state: State, *, retry: RetryPolicy | None = None) -> Engine:
    state.database.ensure_ready()
    secrets = secrets_of(state)
    environment = hub_environment(state.database, secrets, retry=retry)
    return Engine(state.database, ConnectorProvider(secrets, environment=environment))


def workers_of(state: State, engine: Engine) -> Workers:
    state.settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Workers(
        engine,
        WorkerOptions(
            system_database_url=state.settings.effective_system_database_url,
            system_database_schema=state.settings.system_database_schema,
            receipts_dir=state.settings.data_dir / "receipts",
        ),
    )


def _connection(engine: Engine, connection_id: int | None) -> Connection:
    with engine.uow() as uow:
        if connection_id is not None:
            return uow.connections.get(connection_id)
        found = uow.connections.list()
    if len(found) != 1:
        raise UserError(
            "no connection yet; connect one with 'ledgerlink connect <ERP>' "
            "('ledgerlink connect --help' lists them)"
            if not found
            else "there are several connections; choose one with --connection"
        )
    return found[0]


# connect ----------------------------------------------------------------------------------------
def _connect_command(spec: ConnectorSpec) -> Callable[..., None]:
    """``ledgerlink connect <erp>``, with an option per setup field of the spec."""

    def command(ctx: typer.Context, **given: Any) -> None:
        state = state_of(ctx)
        entity = find_legal_entity(state.uow(), given.pop("legal_entity"))
        customer_master: CustomerMaster = given.pop("customer_master")
        automatic_transfer: bool = given.pop("automatic")
        extra = _settings(given.pop("setting"))
        timeout: float = given.pop("timeout")
        port: int = given.pop("redirect_port", 0)
        values = {name: _field_value(spec, name, value) for name, value in given.items()}
        show_url = partial(_show_grant_url, spec)
        if spec.credential_kind is CredentialKind.OAUTH2:
            try:
                connection, info = setup.connect_with_oauth(
                    engine_of(state, retry=VERIFY_ONCE),
                    secrets_of(state),
                    spec,
                    values,
                    legal_entity_id=require_id(entity),
                    show_url=show_url,
                    timeout=timeout,
                    port=port,
                    extra_settings=extra,
                    customer_master=customer_master,
                    automatic_transfer=automatic_transfer,
                )
            except OSError as error:
                if port and error.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise UserError(
                        f"--redirect-port {port}: cannot listen on 127.0.0.1:{port} "
                        f"({error.strerror}); free the port or register another"
                    ) from None
                raise
            _say_connected(state, spec, entity.code, connection, info)
            return
        credentials, settings = spec.split(values)
        flow = spec.authorize
        if flow is not None and not credentials.get(flow.credential):
            credentials |= setup.grant_via_loopback(
                spec, values, show_url=show_url, timeout=timeout
            )
        connection, info = setup.connect(
            engine_of(state, retry=VERIFY_ONCE),
            secrets_of(state),
            legal_entity_id=require_id(entity),
            erp=spec.name,
            credentials=credentials,
            settings={**settings, **extra},
            customer_master=customer_master,
            automatic_transfer=automatic_transfer,
        )
        _say_connected(state, spec, entity.code, connection, info)

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    ]
    for field in spec.setup:
        secret_prompt = field.secret and field.required
        option = typer.Option(
            field.default,
            *field.cli_flags,
            help=field.label + (f" One of: {', '.join(field.choices)}." if field.choices else ""),
            prompt=f"{field.name.replace('_', ' ')}" if secret_prompt else False,
            hide_input=field.secret,
            show_default=not field.secret and field.default is not None,
        )
        kind: Any = (Path | None) if field.from_file else (str | None)
        parameters.append(inspect.Parameter(field.name, keyword, default=option, annotation=kind))
    parameters += [
        inspect.Parameter(
            "legal_entity",
            keyword,
            default=typer.Option(None, help="Legal entity code."),
            annotation=str | None,
        ),
        inspect.Parameter(
            "customer_master",
            keyword,
            default=typer.Option(CustomerMaster.PSA.value, help=CUSTOMER_MASTER_HELP),
            annotation=CustomerMaster,
        ),
        inspect.Parameter(
            "automatic",
            keyword,
            default=typer.Option(
                False, "--automatic/--manual", help="Transfer invoices when posted."
            ),
            annotation=bool,
        ),
        inspect.Parameter(
            "setting",
            keyword,
            default=typer.Option(None, help="Connector setting NAME=JSON, e.g. layout_number=19."),
            annotation=list[str] | None,
        ),
        inspect.Parameter(
            "timeout",
            keyword,
            default=typer.Option(300.0, help="Seconds to wait for a grant in the browser."),
            annotation=float,
        ),
    ]
    if spec.credential_kind is CredentialKind.OAUTH2:
        parameters.append(
            inspect.Parameter(
                "redirect_port",
                keyword,
                default=typer.Option(
                    0,
                    "--redirect-port",
                    min=0,
                    max=65535,
                    help="Loopback port of the OAuth2 redirect, http://127.0.0.1:PORT/callback: "
                    "the redirect URI registered with the ERP's app (0 picks a free port, "
                    "for an app that accepts any loopback port).",
                ),
                annotation=int,
            )
        )
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__doc__ = (
        f"Connect a legal entity to {spec.display_name} and verify the connection. {spec.summary}"
    )
    return command


def _show_grant_url(spec: ConnectorSpec, url: str) -> None:
    typer.echo(f"Open this address, log in to {spec.display_name} and grant access:\n  {url}")


def _say_connected(
    state: State, spec: ConnectorSpec, code: str, connection: Connection, info: ConnectionInfo
) -> None:
    currency = f", {info.base_currency}" if info.base_currency else ""
    state.console.print(
        f"Connected {code} to {spec.display_name} {spec.account_label} {info.account_id} "
        f"({info.company_name}{currency}) as connection {connection.id}."
    )


def _field_value(spec: ConnectorSpec, name: str, value: Any) -> str:
    field = next(f for f in spec.setup if f.name == name)
    if value is None:
        if field.required:
            raise UserError(f"{field.cli_flags[0]} is required for {spec.display_name}")
        return ""
    if field.from_file:
        try:
            return Path(value).read_text(encoding="utf-8")
        except OSError as error:
            raise UserError(
                f"{field.cli_flags[0]}: cannot read {value}: {error.strerror}"
            ) from None
    text = str(value)
    if field.choices and text not in field.choices:
        raise UserError(f"{field.cli_flags[0]} must be one of: {', '.join(field.choices)}")
    return text


for _spec in all_specs():
    connect_app.command(_spec.name, help=None)(_connect_command(_spec))


def _settings(values: list[str] | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for value in values or []:
        name, sep, raw = value.partition("=")
        if not sep:
            raise UserError(f"--setting '{value}' is not NAME=VALUE")
        try:
            result[name.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            result[name.strip()] = raw
    return result


# connections ------------------------------------------------------------------------------------
@connections_app.command("list")
def connections_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """The connections, with their mode and last verification."""
    state = state_of(ctx)
    engine = engine_of(state)
    with engine.uow() as uow:
        found = uow.connections.list()
        codes = {e.id: e.code for e in uow.legal_entities.list()}
    rows = [
        {
            "id": c.id,
            "legal_entity": codes.get(c.legal_entity_id, ""),
            "erp": c.erp,
            "erp_name": erp_title(c.erp),
            "account": c.account_id,
            "company": c.company_name,
            "customer_master": c.customer_master.value,
            "transfer": "automatic" if c.automatic_transfer else "manual",
        }
        for c in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    grid = Grid(
        *(Column(name, fixed=True) for name in ("id", "legal entity", "ERP", "account")),
        "company",
        *(Column(name, fixed=True) for name in ("master", "transfer")),
        title="Connections",
        empty="No connections yet: connect one with 'ledgerlink connect <ERP>'.",
    )
    for row in rows:
        grid.add_row(
            *(str(row[key]) for key in ("id", "legal_entity", "erp_name", "account")),
            *(str(row[key]) for key in ("company", "customer_master", "transfer")),
        )
    state.console.print(grid)


@connections_app.command("products")
def connections_products(
    ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False
) -> None:
    """The product numbers imported from the ERP, with the principles that use each."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    products = setup.list_products(engine, require_id(current))
    if as_json:
        typer.echo(json.dumps([asdict(p) for p in products], indent=2, ensure_ascii=False))
        return
    grid = Grid(
        Column("number", fixed=True),
        "name",
        Column("unit", fixed=True),
        Column("barred", fixed=True),
        Column("used by", fixed=True),
        title=f"Product numbers from {erp_title(current.erp)}",
        empty="No product numbers imported yet: import them with 'ledgerlink sync products'.",
    )
    for product in products:
        grid.add_row(
            product.number,
            product.name,
            product.unit,
            "yes" if product.barred else "",
            ", ".join(product.principles),
        )
    state.console.print(grid)


@connections_app.command("principles")
def connections_principles(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    work: Annotated[str | None, typer.Option(help="Product number of work lines.")] = None,
    expense: Annotated[str | None, typer.Option(help="Product number of expense lines.")] = None,
    travel: Annotated[str | None, typer.Option(help="Product number of travel lines.")] = None,
    mileage: Annotated[str | None, typer.Option(help="Product number of mileage lines.")] = None,
    product: Annotated[str | None, typer.Option(help="Product number of product lines.")] = None,
    default: Annotated[str | None, typer.Option(help="For every kind not set.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the product-number principles per line kind, or set them with the options
    (numbers must be imported)."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    given = {
        LineKind.WORK: work,
        LineKind.EXPENSE: expense,
        LineKind.TRAVEL: travel,
        LineKind.MILEAGE: mileage,
        LineKind.PRODUCT: product,
    }
    if any(v is not None for v in given.values()) or default is not None:
        by_kind = dict(current.principles.by_kind)
        by_kind.update({k: v for k, v in given.items() if v is not None})
        principles = ProductNumberPrinciples(
            by_kind=by_kind, default=current.principles.default if default is None else default
        )
        setup.configure(engine, require_id(current), principles=principles)
    rows = setup.show_principles(engine, require_id(current))
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    erp = erp_title(current.erp)
    grid = Grid(
        Column("line kind", fixed=True),
        Column("product number", fixed=True),
        "product",
        title="Product-number principles",
    )
    for row in rows:
        if not row.number:
            name = "none: set one (or a default) before transferring such lines"
        elif not row.imported:
            name = f"not in {erp}: choose another"
        else:
            name = row.product_name + (" (the default)" if row.from_default else "")
        grid.add_row(row.kind, row.number or "—", name)
    state.console.print(grid)


@connections_app.command("set")
def connections_set(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    automatic: Annotated[
        bool | None,
        typer.Option("--automatic/--manual", help="Transfer invoices when posted, or on request."),
    ] = None,
    customer_master: Annotated[
        CustomerMaster | None, typer.Option(help=CUSTOMER_MASTER_HELP)
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option(help="Connector setting NAME=JSON, e.g. layout_number=19; repeatable."),
    ] = None,
) -> None:
    """Change automatic transfer, customer master or connector settings."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    updated = setup.configure(
        engine,
        require_id(current),
        settings=_settings(setting),
        customer_master=customer_master,
        automatic_transfer=automatic,
    )
    state.console.print(
        f"Connection {updated.id}: customer master {updated.customer_master.value}, "
        f"{'automatic' if updated.automatic_transfer else 'manual'} transfer"
    )


# sync (pulls) -----------------------------------------------------------------------------------
@sync_app.command("products")
def sync_products(ctx: typer.Context, connection: ConnectionOption = None) -> None:
    """Import product numbers from the ERP (the ERP is their master)."""
    state = state_of(ctx)
    engine = engine_of(state)
    report = setup.import_products(engine, require_id(_connection(engine, connection)))
    state.console.print(
        f"{report.total} product numbers ({report.changed} new or changed, "
        f"{report.removed} removed)"
    )
    for warning in report.warnings:
        state.console.print(f"warning: {warning}", markup=False)


@sync_app.command("customers")
def sync_customers(ctx: typer.Context, connection: ConnectionOption = None) -> None:
    """Import and link customers from the ERP."""
    state = state_of(ctx)
    engine = engine_of(state)
    report = setup.import_customers(engine, require_id(_connection(engine, connection)))
    state.console.print(
        f"customers: {len(report.linked)} linked, {len(report.created)} created, "
        f"{report.unchanged} unchanged, {len(report.rejected)} not imported"
    )
    for number, reason in report.rejected:
        state.console.print(f"  {number}: {reason}")


@sync_app.command("balancing")
def sync_balancing(ctx: typer.Context, connection: ConnectionOption = None) -> None:
    """Pull ERP invoice numbers, posting status, remainders and paid state."""
    state = state_of(ctx)
    engine = engine_of(state)
    report = pulls.pull_balancing(engine, require_id(_connection(engine, connection)))
    state.console.print(
        f"balancing: {report.read} read, {report.applied} changed, {report.unchanged} "
        f"unchanged, {report.skipped} not ours"
    )


@sync_app.command("expenses")
def sync_expenses(ctx: typer.Context, connection: ConnectionOption = None) -> None:
    """Import expense entries from the ERP's selected accounts."""
    state = state_of(ctx)
    engine = engine_of(state)
    report = pulls.pull_expenses(engine, require_id(_connection(engine, connection)))
    state.console.print(
        f"expenses: {report.read} read, {report.applied} new, {report.skipped} known"
    )


@sync_app.command("projects")
def sync_projects(ctx: typer.Context, connection: ConnectionOption = None) -> None:
    """Push the projects of customers already in the ERP that are not there yet."""
    state = state_of(ctx)
    engine = engine_of(state)
    report = automatic.push_new_projects(engine, require_id(_connection(engine, connection)))
    state.console.print(f"projects: {report.pushed} pushed, {len(report.failures)} failed")
    for failure in report.failures:
        state.console.print(f"  {failure}")
    if report.failures:
        raise typer.Exit(1)


# transfers --------------------------------------------------------------------------------------
@transfers_app.command("list")
def transfers_list(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    view: Annotated[
        list[TransferView] | None, typer.Option(help="Only this view; repeat for several.")
    ] = None,
    customer: Annotated[str | None, typer.Option(help="Customer number.")] = None,
    document_type: Annotated[
        DocumentType | None, typer.Option("--type", help="Only invoices or credit notes.")
    ] = None,
    posted_from: Annotated[
        str | None, typer.Option(help="Posted on or after (YYYY-MM-DD).")
    ] = None,
    posted_to: Annotated[str | None, typer.Option(help="Posted on or before (YYYY-MM-DD).")] = None,
    text: Annotated[str, typer.Option(help="Free text (heading, customer …).")] = "",
    as_json: JsonOption = False,
) -> None:
    """The transfer table."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    customer_id = None
    if customer:
        with engine.uow() as uow:
            found = uow.customers.by_number(current.legal_entity_id, customer)
        if found is None:
            raise UserError(f"there is no customer {customer}")
        customer_id = found.id
    period = None
    if posted_from or posted_to:
        period = (
            date.fromisoformat(posted_from) if posted_from else date.min,
            date.fromisoformat(posted_to) if posted_to else date.max,
        )
    rows = table.transfer_table(
        engine,
        require_id(current),
        table.TableFilter(
            views=tuple(view or ()),
            customer_id=customer_id,
            document_type=document_type,
            period=period,
            text=text,
        ),
    )
    if as_json:
        typer.echo(json.dumps([_row_json(r) for r in rows], indent=2))
        return
    state.console.print(transfer_grid(rows))


def _row_json(row: table.TransferRow) -> dict[str, Any]:
    erp = row.erp
    return {
        "invoice_id": row.invoice.id,
        "number": row.invoice.number,
        "type": row.invoice.document_type.value,
        "customer": row.customer_number,
        "gross": str(row.invoice.current_totals().gross.amount),
        "currency": row.invoice.currency,
        "view": row.view.value,
        "attention": row.attention,
        "erp_draft": row.external_id,
        "erp_number": erp.booked_number if erp else "",
        "erp_status": erp.status if erp else "",
        "remainder": None if erp is None or erp.remainder is None else str(erp.remainder.amount),
        "paid": bool(erp and erp.paid),
        "last_transfer": row.latest.status.value if row.latest else None,
        "message": row.latest.message if row.latest else "",
    }


def transfer_grid(rows: list[table.TransferRow]) -> Grid:
    grid = Grid(
        Column("number", fixed=True),
        Column("type", fixed=True),
        "customer",
        Column("gross", fixed=True, right=True),
        *(Column(name, fixed=True) for name in ("view", "ERP draft", "ERP no.", "status")),
        Column("attention", fixed=True),
        Column("remainder", fixed=True, right=True),
        Column("paid", fixed=True),
        title="Transfer table",
        empty="No documents: nothing is posted yet, or nothing matches.",
    )
    for row in rows:
        erp = row.erp
        gross = row.invoice.current_totals().gross
        grid.add_row(
            str(row.invoice.number),
            "credit note" if row.invoice.is_credit_note else "invoice",
            f"{row.customer_number} {row.customer_name}",
            f"{gross.amount:,.2f} {gross.currency}",
            row.view.value.replace("_", "-"),
            row.external_id,
            erp.booked_number if erp else "",
            erp.status if erp else "",
            row.attention,
            "" if erp is None or erp.remainder is None else f"{erp.remainder.amount:,.2f}",
            "yes" if erp and erp.paid else "",
        )
    return grid


@transfers_app.command("run")
def transfers_run(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    invoice: Annotated[
        list[int] | None, typer.Option(help="Invoice number; repeat (default: all not yet sent).")
    ] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show the exact requests each transfer would send; send nothing."
        ),
    ] = False,
) -> None:
    """Transfer the selected documents (default: every non-transferred and failed one)."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    if preview:
        _print_preview(state, engine, current, invoice)
        return
    statuses = run_transfers(state, engine, current, numbers=invoice)
    counts = {s: list(statuses.values()).count(s) for s in TransferStatus}
    state.console.print(
        ", ".join(f"{n} {_said(s)}" for s, n in counts.items() if n) or "nothing to transfer"
    )
    if counts[TransferStatus.PENDING]:
        state.console.print(
            "The ERP asked to wait; 'ledgerlink worker' resumes the waiting transfers."
        )
    if counts[TransferStatus.FAILED] or counts[TransferStatus.PARTIALLY_FAILED]:
        state.console.print("See 'ledgerlink transfers log' for what failed and how to fix it.")
        raise typer.Exit(1)


def _print_preview(
    state: State, engine: Engine, connection: Connection, numbers: list[int] | None
) -> None:
    connection_id = require_id(connection)
    selected = transfers.select_documents(engine, connection_id, numbers)
    if not selected:
        state.console.print("nothing to transfer")
        return
    with engine.uow() as uow:
        described = {i: uow.invoices.head(i).describe() for i in selected}
    for invoice_id in selected:
        state.console.print(f"[bold]{described[invoice_id]}[/bold] (preview: nothing is sent)")
        for step in engine.preview(connection_id, invoice_id):
            typer.echo(f"  {step.kind.value}: {step.summary}")
            for request in step.requests:
                typer.echo(f"    {request.method} {request.path}")
                body = json.dumps(decode_json(encode_json(request.body)), indent=2, default=str)
                typer.echo("\n".join(f"      {line}" for line in body.splitlines()))


def _said(status: TransferStatus) -> str:
    return "waiting" if status is TransferStatus.PENDING else status.value.replace("_", " ")


def run_transfers(
    state: State, engine: Engine, connection: Connection, *, numbers: list[int] | None = None
) -> dict[int, TransferStatus]:
    """Transfer the selected documents through the durable queue, with a progress bar."""
    connection_id = require_id(connection)
    selected = transfers.select_documents(engine, connection_id, numbers)
    if not selected:
        return {}
    workers = workers_of(state, engine)
    workers.start()
    try:
        with Progress(console=state.console, transient=False) as progress:
            task = progress.add_task("Transferring", total=len(selected))
            return transfers.transfer_documents(
                engine,
                workers,
                connection_id,
                selected,
                progress=lambda done, total: progress.update(task, completed=done),
            )
    finally:
        workers.stop()


@transfers_app.command("ignore")
def transfers_ignore(
    ctx: typer.Context,
    invoice: Annotated[list[int], typer.Option(help="Invoice number; repeat.")],
    connection: ConnectionOption = None,
    undo: Annotated[bool, typer.Option("--undo", help="Un-ignore.")] = False,
) -> None:
    """Keep documents out of transfers (or, with --undo, let them in again)."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    count = transfers.ignore_documents(engine, require_id(current), invoice, ignored=not undo)
    state.console.print(f"{count} document(s) {'un-ignored' if undo else 'ignored'}")


@transfers_app.command("resolve")
def transfers_resolve(
    ctx: typer.Context,
    invoice: Annotated[list[int], typer.Option(help="Invoice number; repeat.")],
    connection: ConnectionOption = None,
) -> None:
    """Take documents out of the attention view once their problem is fixed or accepted."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    count = transfers.resolve_documents(engine, require_id(current), invoice)
    state.console.print(f"{count} document(s) resolved")


@transfers_app.command("log")
def transfers_log(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    invoice: Annotated[int | None, typer.Option(help="Only this document (its number).")] = None,
    limit: Annotated[int, typer.Option(help="How many transfers, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The integration log: transactions and their steps, with the ERP's own error text."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    invoice_id = None
    numbers: dict[int, int | None] = {}
    with engine.uow() as uow:
        if invoice is not None:
            found = uow.invoices.by_number(current.legal_entity_id, invoice)
            if found is None:
                raise UserError(f"there is no document {invoice}")
            invoice_id = found.id
        for doc in uow.invoices.list(current.legal_entity_id):
            numbers[require_id(doc)] = doc.number
    logged = table.integration_log(engine, require_id(current), invoice_id=invoice_id, limit=limit)
    if as_json:
        typer.echo(json.dumps([_log_json(t, numbers) for t in logged], indent=2, default=str))
        return
    state.console.print(log_grid(logged, numbers))


def _log_json(transfer: Any, numbers: dict[int, int | None]) -> dict[str, Any]:
    return {
        "transfer": transfer.id,
        "document": numbers.get(transfer.invoice_id),
        "status": transfer.status.value,
        "steps": [
            {
                "step": step.kind.value,
                "status": step.status.value,
                "message": step.message,
                "erp_text": step.erp_text,
                "hint": step.hint,
            }
            for step in transfer.steps
        ],
    }


def log_grid(transfers: list[Any], numbers: dict[int, int | None]) -> Grid:
    grid = Grid(
        *(Column(name, fixed=True) for name in ("transfer", "document", "status", "step")),
        Column("step status", fixed=True),
        "message",
        title="Log",
        empty="Nothing logged yet: no transfer has run.",
    )
    for transfer in transfers:
        first = True
        for step in transfer.steps:
            text = step_text(step.message, step.erp_text, step.hint)
            grid.add_row(
                str(transfer.id) if first else "",
                str(numbers.get(transfer.invoice_id, "")) if first else "",
                transfer.status.value.replace("_", " ") if first else "",
                step.kind.value,
                step.status.value,
                text,
            )
            first = False
    return grid


def transfer_on_posting(state: State, invoice: Invoice) -> str:
    """Start the automatic transfers of a just-posted document and queue them for the
    worker; returns a line for the user ('' when no connection transfers automatically)."""
    engine = engine_of(state)
    try:
        options = workers_of(state, engine).options
        queued = transfers.queue_on_posting(engine, Submitter(options), require_id(invoice))
    finally:
        engine.connectors.close()
    if not queued.erps:
        return ""
    where = "queued for the worker" if queued.queued else "the worker's next round"
    erps = ", ".join(erp_title(name) for name in queued.erps)
    return f"Transfer to {erps}: {where} ('ledgerlink worker' sends it)."
