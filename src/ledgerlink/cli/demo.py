"""``ledgerlink demo``: the main job, end to end on the shipped sample data.

It is safe to run again: the sample import is an upsert, only uninvoiced work is drafted,
and the credit note is made once — a second run adds nothing.

It ends with the web console's address; ``--serve`` keeps the console running there, with the
ERP's emulator, until Ctrl+C. That console listens on loopback only and over plain HTTP: a
generated self-signed certificate would meet the person rehearsing with a browser warning to
click through, which teaches the wrong habit, and nothing outside this machine can reach
127.0.0.1 to read the traffic. Its cookies are therefore not marked Secure (a browser would
not send them back over http). It signs in as ``admin`` with a password made at each start
and printed once, never stored but as the argon2 hash.
"""

from __future__ import annotations

import calendar
import secrets as token_source
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from ledgerlink.cli import render
from ledgerlink.cli.demo_transfer import DemoErp, run_erp_demo
from ledgerlink.cli.serve import Listening, run_hub
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.invoices import DocumentType, Invoice, InvoiceStatus
from ledgerlink.domain.users import Role
from ledgerlink.psa import invoicing
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import WorkerOptions
from ledgerlink.web.users import Passwords, add_user, set_active, set_password, set_role

#: The months the sample data covers; each is billed on its last day.
DEMO_MONTHS = ((2026, 8), (2026, 9), (2026, 10))
#: Where the demo's web console listens (loopback, plain HTTP: see the module docstring).
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 8000
#: The demo console's user (role admin).
DEMO_USER = "admin"


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def run_demo(
    database: Database,
    console: Console,
    *,
    demo_dir: Path | None = None,
    erp: Callable[[Path], AbstractContextManager[DemoErp]] | None = None,
    company: tuple[str, str] = ("DK", "DKK"),
    serve: bool = False,
    port: int = DEMO_PORT,
) -> list[Invoice]:
    """Load the sample consultancy, bill three months, credit one invoice, show the result;
    then, with ``erp``, transfer everything to that ERP and pull balancing back. The sample
    legal entity is the one of ``company`` (country, currency): the ERP company's. Last the
    web console's address; with ``serve`` the console runs there until Ctrl+C (the ERP's
    emulator with it)."""
    database.migrate()
    console.rule("1. Sample data")
    uow = UnitOfWork(database)
    entity, reports = load_sample_data(uow, country=company[0], currency=company[1])
    console.print(
        f"Legal entity {entity.code} — {entity.name} ({entity.country}, {entity.currency})"
    )
    for report in reports:
        render.import_report(console, report)

    console.rule("2. Draft and post invoices")
    entity_id = require_id(entity)
    with uow:
        projects = uow.projects.list(entity_id)
    drafted = 0
    for year, month in DEMO_MONTHS:
        month_end = _month_end(year, month)
        for project in projects:
            request = invoicing.DraftRequest(
                legal_entity_id=entity_id,
                project_number=project.number,
                period=(date(year, month, 1), month_end),
                invoice_date=month_end,
            )
            try:
                draft = invoicing.draft_invoice(uow, request)
            except ValidationError as error:
                if "no uninvoiced" in str(error):
                    continue
                raise
            posted = invoicing.post_invoice(uow, require_id(draft), posting_date=month_end)
            drafted += 1
            console.print(
                f"Invoice {posted.number}: {project.number} {month_end:%B %Y}, "
                f"{render.amount(posted.current_totals().gross)} {posted.currency}"
            )
    if not drafted:
        console.print("Nothing new to invoice: every billable registration is already invoiced.")

    console.rule("3. A credit note")
    with uow:
        invoices = uow.invoices.list(entity_id)
    if any(i.document_type is DocumentType.CREDIT_NOTE for i in invoices):
        console.print("The demo credit note exists already.")
    else:
        first = next(i for i in invoices if i.status is InvoiceStatus.POSTED)
        # Credit two hours of the first line: a partial credit, as after a customer complaint
        # at the end of the last month billed.
        credit_date = _month_end(*DEMO_MONTHS[-1])
        credit = invoicing.credit_invoice(
            uow,
            require_id(first),
            invoice_date=credit_date,
            quantities={1: min(first.lines[0].quantity, Decimal(2))},
        )
        credit = invoicing.post_invoice(uow, require_id(credit), posting_date=credit_date)
        console.print(
            f"Credit note {credit.number} credits line 1 of invoice {first.number} partially: "
            f"{render.amount(credit.current_totals().gross)} {credit.currency}"
        )

    console.rule("4. Invoices")
    with uow:
        invoices = uow.invoices.list(entity_id)
        customers = {require_id(c): c for c in uow.customers.list(entity_id)}
    console.print(render.invoices_table(invoices, customers))
    credit_notes = [i for i in invoices if i.is_credit_note]
    for invoice in invoices[:1] + credit_notes[:1]:
        render.show_invoice(console, invoice, customers)
    web = WebConsole(serve=serve, port=port)
    if erp is not None and demo_dir is not None:
        _transfer(database.url, demo_dir, console, erp, entity_id, web)
    elif demo_dir is not None:
        web.show(database, demo_dir, console)
    return invoices


def _transfer(
    database_url: str,
    demo_dir: Path,
    console: Console,
    erp: Callable[[Path], AbstractContextManager[DemoErp]],
    entity_id: int,
    web: WebConsole,
) -> None:
    database = Database(database_url)
    secrets = SecretBox.from_key_file(demo_dir / "secret.key", create=True)
    engine = Engine(
        database, ConnectorProvider(secrets, environment=hub_environment(database, secrets))
    )
    try:
        with erp(demo_dir) as target:
            run_erp_demo(engine, secrets, console, target, entity_id, demo_dir)
            # Inside: the console's transfers and pulls reach the ERP's emulator.
            web.show(database, demo_dir, console)
    finally:
        engine.connectors.close()
        database.dispose()


class WebConsole:
    """The demo's last step: the web console's address, and with ``serve`` the console."""

    def __init__(self, *, serve: bool, port: int) -> None:
        self.serve = serve
        self.listening = Listening(host=DEMO_HOST, port=port, secure_cookies=False)

    def show(self, database: Database, demo_dir: Path, console: Console) -> None:
        console.rule("Web console")
        url = self.listening.url
        if not self.serve:
            console.print(
                f"The web console of this demo: {url} — 'ledgerlink demo --serve' (with the "
                "same --erp) keeps it running there."
            )
            return
        password = token_source.token_urlsafe(12)
        _admin(database, password)
        console.print(f"Web console: {url}", soft_wrap=True)
        console.print(
            f"Sign in as '{DEMO_USER}' with the one-time password {password} "
            "(a new one at each --serve). Ctrl+C stops it.",
            soft_wrap=True,
        )
        run_hub(
            database,
            SecretBox.from_key_file(demo_dir / "secret.key", create=True),
            self.listening,
            worker_options=WorkerOptions(
                system_database_url=f"sqlite:///{demo_dir / 'workflows.db'}",
                receipts_dir=demo_dir / "receipts",
            ),
        )


def _admin(database: Database, password: str) -> None:
    """The demo's admin user, active, with ``password`` (made or reset)."""

    def uow() -> UnitOfWork:
        return UnitOfWork(database)

    passwords = Passwords()
    try:
        set_password(uow, passwords, DEMO_USER, password)
    except NotFoundError:
        add_user(uow, passwords, DEMO_USER, Role.ADMIN, password)
        return
    set_role(uow, DEMO_USER, Role.ADMIN)
    set_active(uow, DEMO_USER, active=True)
