"""Commands of the integration: connect, connections, sync (pulls), transfers, worker."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from ledgerlink.cli.context import Group, State, UserError, state_of
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
from ledgerlink.sync import automatic, pulls, table
from ledgerlink.sync import connections as setup
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import ROUND_STREAMS, Submitter, WorkerOptions, Workers

connect_app = typer.Typer(cls=Group, no_args_is_help=True, help="Connect a legal entity to an ERP.")
connections_app = typer.Typer(cls=Group, no_args_is_help=True, help="List and set up connections.")
sync_app = typer.Typer(cls=Group, no_args_is_help=True, help="Pull from the ERP.")
transfers_app = typer.Typer(cls=Group, no_args_is_help=True, help="The transfer table and log.")

ConnectionOption = Annotated[
    int | None, typer.Option("--connection", "-c", help="Connection id (default: the only one).")
]


def secrets_of(state: State) -> SecretBox:
    return SecretBox.from_key_file(state.settings.effective_key_file, create=True)


def engine_of(state: State) -> Engine:
    state.database.ensure_ready()
    return Engine(
        state.database,
        ConnectorProvider(secrets_of(state), environment=hub_environment(state.database)),
    )


def workers_of(state: State, engine: Engine) -> Workers:
    state.settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Workers(
        engine,
        WorkerOptions(
            system_database_url=state.settings.effective_system_database_url,
            system_database_schema=state.settings.system_database_schema,
        ),
    )


def _connection(engine: Engine, connection_id: int | None) -> Connection:
    with engine.uow() as uow:
        if connection_id is not None:
            return uow.connections.get(connection_id)
        found = uow.connections.list()
    if len(found) != 1:
        raise UserError(
            "no connection yet; run 'ledgerlink connect economic'"
            if not found
            else "there are several connections; choose one with --connection"
        )
    return found[0]


# connect ----------------------------------------------------------------------------------------
def _wait_for_grant(grant_page: str, app_public_token: str, timeout: float) -> str:
    """The e-conomic app-grant flow: open the installation URL, log in; e-conomic redirects to
    a loopback address where this command waits for the ``token``."""
    received: dict[str, str] = {}

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            received["token"] = query.get("token", [""])[0]
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ledgerlink is connected; you can close this window.")

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Callback)
    redirect = f"http://127.0.0.1:{server.server_port}/granted"
    url = f"{grant_page.rstrip('/')}/secure/api1/requestaccess.aspx?" + urllib.parse.urlencode(
        {"appPublicToken": app_public_token, "redirectUrl": redirect}
    )
    typer.echo(f"Open this address, log in to e-conomic and grant access:\n  {url}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while "token" not in received and time.monotonic() < deadline:
        time.sleep(0.2)
    server.shutdown()
    if not received.get("token"):
        raise UserError("no grant arrived in time; run the command again")
    return received["token"]


@connect_app.command("economic")
def connect_economic(
    ctx: typer.Context,
    app_secret_token: Annotated[str, typer.Option(help="The app's X-AppSecretToken.")],
    grant_token: Annotated[
        str | None,
        typer.Option(help="The agreement's X-AgreementGrantToken (else the grant flow runs)."),
    ] = None,
    legal_entity: Annotated[str | None, typer.Option(help="Legal entity code.")] = None,
    url: Annotated[
        str, typer.Option(help="REST API base URL (an emulator's, to rehearse).")
    ] = "https://restapi.e-conomic.com",
    grant_page: Annotated[
        str | None, typer.Option(help="Where the grant page lives (default: secure.e-conomic.com).")
    ] = None,
    app_public_token: Annotated[str, typer.Option(help="The app's public token.")] = "",
    customer_master: Annotated[CustomerMaster, typer.Option()] = CustomerMaster.PSA,
    automatic: Annotated[
        bool, typer.Option("--automatic/--manual", help="Transfer invoices when posted.")
    ] = False,
    setting: Annotated[
        list[str] | None, typer.Option(help="Connector setting NAME=JSON, e.g. layout_number=19.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the grant.")] = 300,
) -> None:
    """Connect a legal entity to e-conomic and verify the connection (GET /self)."""
    state = state_of(ctx)
    entity = find_legal_entity(state.uow(), legal_entity)
    token = grant_token or _wait_for_grant(
        grant_page or "https://secure.e-conomic.com", app_public_token, timeout
    )
    settings = {"base_url": url, "app_public_token": app_public_token, **_settings(setting)}
    connection, info = setup.connect(
        engine_of(state),
        secrets_of(state),
        legal_entity_id=require_id(entity),
        erp="economic",
        credentials={"app_secret_token": app_secret_token, "agreement_grant_token": token},
        settings=settings,
        customer_master=customer_master,
        automatic_transfer=automatic,
    )
    state.console.print(
        f"Connected {entity.code} to e-conomic agreement {info.account_id} "
        f"({info.company_name}, {info.base_currency}) as connection {connection.id}."
    )


@connect_app.command("financialhost")
def connect_financialhost(
    ctx: typer.Context,
    erp: Annotated[str, typer.Option(help="The ERP behind the host: nav or visma.")],
    key_id: Annotated[str, typer.Option(help="The hub key's id ('ledgerlink host init').")],
    secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="The hub key's secret.")
    ],
    url: Annotated[
        str, typer.Option(help="The host's https:// address (a host that listens).")
    ] = "",
    certificate: Annotated[
        Path | None, typer.Option(help="PEM file of the host's certificate to trust.")
    ] = None,
    agent_id: Annotated[
        str, typer.Option(help="Instead of --url: the id of a host in agent mode.")
    ] = "",
    legal_entity: Annotated[str | None, typer.Option(help="Legal entity code.")] = None,
    customer_master: Annotated[CustomerMaster, typer.Option()] = CustomerMaster.PSA,
    automatic: Annotated[
        bool, typer.Option("--automatic/--manual", help="Transfer invoices when posted.")
    ] = False,
    setting: Annotated[list[str] | None, typer.Option(help="Connector setting NAME=JSON.")] = None,
) -> None:
    """Connect a legal entity to Dynamics NAV or Visma Administration through FinancialHost
    and verify it (connection.test). A host in agent mode must be running and calling this
    hub ('ledgerlink serve') while this command waits."""
    state = state_of(ctx)
    entity = find_legal_entity(state.uow(), legal_entity)
    settings: dict[str, Any] = {"erp_system": erp, **_settings(setting)}
    settings |= {"agent_id": agent_id} if agent_id else {"base_url": url}
    if certificate is not None:
        settings["tls_certificate"] = certificate.read_text(encoding="utf-8")
    connection, info = setup.connect(
        engine_of(state),
        secrets_of(state),
        legal_entity_id=require_id(entity),
        erp="financialhost",
        credentials={"key_id": key_id, "secret": secret},
        settings=settings,
        customer_master=customer_master,
        automatic_transfer=automatic,
    )
    state.console.print(
        f"Connected {entity.code} to {info.company_name} ({info.account_id}) through "
        f"FinancialHost as connection {connection.id}."
    )


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
def connections_list(ctx: typer.Context) -> None:
    """The connections, with their mode and last verification."""
    state = state_of(ctx)
    engine = engine_of(state)
    with engine.uow() as uow:
        found = uow.connections.list()
    grid = Table("id", "legal entity", "ERP", "account", "company", "master", "transfer")
    for c in found:
        grid.add_row(
            str(c.id),
            str(c.legal_entity_id),
            c.erp,
            c.account_id,
            c.company_name,
            c.customer_master.value,
            "automatic" if c.automatic_transfer else "manual",
        )
    state.console.print(grid)


@connections_app.command("principles")
def connections_principles(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    work: Annotated[str | None, typer.Option(help="Product number of work lines.")] = None,
    expense: Annotated[str | None, typer.Option()] = None,
    travel: Annotated[str | None, typer.Option()] = None,
    mileage: Annotated[str | None, typer.Option()] = None,
    product: Annotated[str | None, typer.Option()] = None,
    default: Annotated[str | None, typer.Option(help="For every kind not set.")] = None,
) -> None:
    """Set the product-number principle per line kind (numbers must be imported)."""
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
    by_kind = dict(current.principles.by_kind)
    by_kind.update({k: v for k, v in given.items() if v is not None})
    principles = ProductNumberPrinciples(
        by_kind=by_kind, default=current.principles.default if default is None else default
    )
    setup.configure(engine, require_id(current), principles=principles)
    for kind, number in principles.to_json().items():
        state.console.print(f"{kind}: {number or '—'}")


@connections_app.command("set")
def connections_set(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    automatic: Annotated[bool | None, typer.Option("--automatic/--manual")] = None,
    customer_master: Annotated[CustomerMaster | None, typer.Option()] = None,
    setting: Annotated[list[str] | None, typer.Option(help="NAME=JSON")] = None,
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
    total, changed, removed = setup.import_products(
        engine, require_id(_connection(engine, connection))
    )
    state.console.print(f"{total} product numbers ({changed} new or changed, {removed} removed)")


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
        f"balancing: {report.read} read, {report.applied} applied, {report.skipped} not ours"
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
    view: Annotated[list[TransferView] | None, typer.Option(help="Repeat for several.")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer number.")] = None,
    document_type: Annotated[DocumentType | None, typer.Option("--type")] = None,
    posted_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    posted_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    text: Annotated[str, typer.Option(help="Free text (heading, customer …).")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
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
        "erp_draft": row.external_id,
        "erp_number": erp.booked_number if erp else "",
        "erp_status": erp.status if erp else "",
        "remainder": None if erp is None or erp.remainder is None else str(erp.remainder.amount),
        "paid": bool(erp and erp.paid),
        "last_transfer": row.latest.status.value if row.latest else None,
        "message": row.latest.message if row.latest else "",
    }


def transfer_grid(rows: list[table.TransferRow]) -> Table:
    grid = Table(title="Transfer table")
    for name in ("number", "type", "customer", "gross", "view", "ERP draft", "ERP no.", "status"):
        grid.add_column(name, justify="right" if name == "gross" else "left")
    grid.add_column("remainder", justify="right")
    grid.add_column("paid")
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
) -> None:
    """Transfer the selected documents (default: every non-transferred and failed one)."""
    state = state_of(ctx)
    engine = engine_of(state)
    current = _connection(engine, connection)
    statuses = run_transfers(state, engine, current, numbers=invoice)
    counts = {s: list(statuses.values()).count(s) for s in TransferStatus}
    state.console.print(
        ", ".join(f"{n} {s.value.replace('_', ' ')}" for s, n in counts.items() if n)
        or "nothing to transfer"
    )
    if counts[TransferStatus.FAILED] or counts[TransferStatus.PARTIALLY_FAILED]:
        state.console.print("See 'ledgerlink transfers log' for what failed and how to fix it.")
        raise typer.Exit(1)


def run_transfers(
    state: State, engine: Engine, connection: Connection, *, numbers: list[int] | None = None
) -> dict[int, TransferStatus]:
    """Start transfers of the selected documents and wait with a progress bar."""
    connection_id = require_id(connection)
    rows = table.transfer_table(engine, connection_id)
    if numbers:
        selected = [r for r in rows if r.invoice.number in set(numbers)]
        missing = set(numbers) - {r.invoice.number for r in selected}
        if missing:
            raise UserError(f"no posted document numbered {', '.join(map(str, sorted(missing)))}")
    else:
        selected = [
            r for r in rows if r.view in (TransferView.NON_TRANSFERRED, TransferView.FAILED)
        ]
    if not selected:
        return {}
    transfers = [engine.start_transfer(connection_id, require_id(r.invoice)) for r in selected]
    workers = workers_of(state, engine)
    workers.start()
    try:
        with Progress(console=state.console, transient=False) as progress:
            task = progress.add_task("Transferring", total=len(transfers))
            return workers.run(
                transfers, progress=lambda done, total: progress.update(task, completed=done)
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
    ids = []
    with engine.uow() as uow:
        for number in invoice:
            found = uow.invoices.by_number(current.legal_entity_id, number)
            if found is None:
                raise UserError(f"there is no document {number}")
            ids.append(require_id(found))
    table.set_ignored(engine, require_id(current), ids, ignored=not undo)
    state.console.print(f"{len(ids)} document(s) {'un-ignored' if undo else 'ignored'}")


@transfers_app.command("log")
def transfers_log(
    ctx: typer.Context,
    connection: ConnectionOption = None,
    invoice: Annotated[int | None, typer.Option(help="Invoice number.")] = None,
    limit: Annotated[int, typer.Option()] = 50,
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
    state.console.print(
        log_grid(
            table.integration_log(engine, require_id(current), invoice_id=invoice_id, limit=limit),
            numbers,
        )
    )


def log_grid(transfers: list[Any], numbers: dict[int, int | None]) -> Table:
    grid = Table("transfer", "document", "status", "step", "step status", "message", title="Log")
    for transfer in transfers:
        first = True
        for step in transfer.steps:
            text = step.message
            if step.erp_text and step.erp_text not in text:
                text += f" — ERP: {step.erp_text}"
            if step.hint:
                text += f" — {step.hint}"
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


def worker(
    ctx: typer.Context,
    until_idle: Annotated[
        bool, typer.Option(help="Stop when no transfer or pull is waiting (after recovering).")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 30,
) -> None:
    """Run transfers and pulls until stopped: recovers the transfers a stopped worker left,
    runs the transfers queued by posting, and every round starts the transfers of posted
    documents of connections with automatic transfer and pulls balancing and expenses."""
    state = state_of(ctx)
    engine = engine_of(state)
    workers = workers_of(state, engine)
    workers.start()
    try:
        while True:
            round_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
            for transfer in automatic.waiting_transfers(engine):
                workers.enqueue(transfer)
            with engine.uow() as uow:
                every = uow.connections.list()
            for connection in every:
                for stream in ROUND_STREAMS:
                    workers.enqueue_pull(require_id(connection), stream, round_id)
            while until_idle and workers.pending_count():
                time.sleep(0.2)
            if until_idle:
                state.console.print("No transfers waiting; stopping.")
                return
            time.sleep(interval)
    finally:
        workers.stop()


def transfer_on_posting(state: State, invoice: Invoice) -> str:
    """Start the automatic transfers of a just-posted document and queue them for the
    worker; returns a line for the user ('' when no connection transfers automatically)."""
    engine = engine_of(state)
    try:
        transfers = automatic.transfers_on_posting(engine, require_id(invoice))
    finally:
        engine.connectors.close()
    if not transfers:
        return ""
    options = workers_of(state, engine).options
    queued = Submitter(options).submit(transfers)
    with engine.uow() as uow:
        names = ", ".join(uow.connections.get(t.connection_id).erp for t in transfers)
    where = "queued for the worker" if queued == len(transfers) else "the worker's next round"
    return f"Transfer to {names}: {where} ('ledgerlink worker' sends it)."
