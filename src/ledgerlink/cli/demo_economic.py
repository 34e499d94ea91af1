"""The e-conomic half of ``ledgerlink demo``: connect, import product numbers, set principles,
transfer with a progress bar, let the "ERP user" book and register payments, pull balancing,
and show the transfer table and the integration log.

By default it rehearses against the e-conomic emulator on loopback (state kept in the demo
directory, so a second run meets the same agreement and transfers nothing twice); with
``--economic-url`` and the two tokens it uses an e-conomic that is already running — the real
one included (then nothing is booked or paid on its behalf).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from rich.console import Console
from rich.progress import Progress

from ledgerlink.cli import integration
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import ProductNumberPrinciples, TransferView
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.sync import connections, pulls, table
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import WorkerOptions, Workers

PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "WORK-DEV",
        LineKind.EXPENSE: "EXP",
        LineKind.TRAVEL: "TRAVEL",
        LineKind.MILEAGE: "MILEAGE",
    },
    default="EXP",
)
APP_SECRET, GRANT, APP_PUBLIC = "demo-app-secret", "demo-grant", "demo-app-public"


@dataclass(frozen=True)
class EconomicTarget:
    """Where the demo sends its invoices; ``url`` None: the emulator on loopback."""

    url: str | None = None
    app_secret_token: str = ""
    agreement_grant_token: str = ""


@dataclass(frozen=True)
class _Live:
    url: str
    app_secret_token: str
    agreement_grant_token: str
    emulated: bool


@contextmanager
def _economic(target: EconomicTarget, demo_dir: Path) -> Iterator[_Live]:
    if target.url:
        yield _Live(target.url, target.app_secret_token, target.agreement_grant_token, False)
        return
    emulator = EconomicEmulator(
        app_secret_token=APP_SECRET,
        agreement_grant_token=GRANT,
        app_public_token=APP_PUBLIC,
        state_file=demo_dir / "economic-emulator.json",
    )
    with running(emulator.app) as url:
        yield _Live(url, APP_SECRET, _grant_as_the_customer(url, emulator), True)


def _grant_as_the_customer(url: str, emulator: EconomicEmulator) -> str:
    """Walk the app-grant flow as the customer would in a browser: open the installation URL,
    sign in, and take the token from the redirect."""
    redirect = "http://127.0.0.1:1/granted"
    with httpx2.Client(base_url=url, timeout=10) as browser:
        page = browser.get(
            "/secure/api1/requestaccess.aspx",
            params={"appPublicToken": APP_PUBLIC, "redirectUrl": redirect},
        )
        page.raise_for_status()
        answer = browser.post(
            "/secure/api1/requestaccess.aspx",
            data={
                "appPublicToken": APP_PUBLIC,
                "redirectUrl": redirect,
                "agreementNumber": str(emulator.state.main.number),
                "userId": "demo",
                "password": "demo",
            },
        )
    location = answer.headers.get("location", "")
    token = parse_qs(urlsplit(location).query).get("token", [""])[0]
    if answer.status_code != 302 or not token:
        raise RuntimeError(f"the emulator's grant page did not grant access: {answer.text[:200]}")
    return token


def run_economic_demo(
    database_url: str, demo_dir: Path, console: Console, target: EconomicTarget, entity_id: int
) -> None:
    """Steps 5–9 of the demo (see the module docstring)."""
    from ledgerlink.store.database import Database  # noqa: PLC0415

    database = Database(database_url)
    secrets = SecretBox.from_key_file(demo_dir / "secret.key", create=True)
    engine = Engine(database, ConnectorProvider(secrets))
    try:
        with _economic(target, demo_dir) as live:
            _run(engine, secrets, console, live, entity_id, demo_dir)
    finally:
        engine.connectors.close()
        database.dispose()


def _run(
    engine: Engine,
    secrets: SecretBox,
    console: Console,
    live: _Live,
    entity_id: int,
    demo_dir: Path,
) -> None:
    console.rule("5. Connect to e-conomic")
    connection, info = connections.connect(
        engine,
        secrets,
        legal_entity_id=entity_id,
        erp="economic",
        credentials={
            "app_secret_token": live.app_secret_token,
            "agreement_grant_token": live.agreement_grant_token,
        },
        settings={"base_url": live.url, "app_public_token": APP_PUBLIC},
    )
    connection_id = require_id(connection)
    where = "the e-conomic emulator" if live.emulated else live.url
    console.print(
        f"Connected to agreement {info.account_id} ({info.company_name}) at {where} "
        "— credentials stored encrypted."
    )
    total, changed, _ = connections.import_products(engine, connection_id)
    console.print(f"Imported {total} product numbers ({changed} new or changed).")
    connections.configure(engine, connection_id, principles=PRINCIPLES)
    console.print(
        "Principles: "
        + ", ".join(f"{kind} → {number}" for kind, number in PRINCIPLES.to_json().items())
    )

    console.rule("6. Transfer")
    rows = table.transfer_table(engine, connection_id)
    waiting = [r for r in rows if r.view in (TransferView.NON_TRANSFERRED, TransferView.FAILED)]
    if not waiting:
        console.print("Nothing to transfer: every posted document is in e-conomic already.")
    else:
        transfers = [engine.start_transfer(connection_id, require_id(r.invoice)) for r in waiting]
        workers = Workers(
            engine, WorkerOptions(system_database_url=f"sqlite:///{demo_dir / 'workflows.db'}")
        )
        workers.start()
        try:
            with Progress(console=console) as progress:
                task = progress.add_task("Transferring to e-conomic", total=len(transfers))
                results = workers.run(
                    transfers, progress=lambda done, _: progress.update(task, completed=done)
                )
        finally:
            workers.stop()
        counts: dict[str, int] = {}
        for status in results.values():
            counts[status.value] = counts.get(status.value, 0) + 1
        console.print(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())))

    if live.emulated:
        console.rule("7. In e-conomic: book the drafts, register two payments")
        _book_and_pay(console, live)

    console.rule("8. Balancing")
    report = pulls.pull_balancing(engine, connection_id)
    console.print(f"Read {report.read} booked invoices from e-conomic; {report.applied} updated.")

    console.rule("9. Transfer table and integration log")
    console.print(integration.transfer_grid(table.transfer_table(engine, connection_id)))
    with engine.uow() as uow:
        numbers = {require_id(i): i.number for i in uow.invoices.list(entity_id)}
    console.print(integration.log_grid(table.integration_log(engine, connection_id), numbers))


def _json(response: httpx2.Response) -> Any:
    response.raise_for_status()
    return json.loads(response.text, parse_float=Decimal)


def _book_and_pay(console: Console, live: _Live) -> None:
    """Do what the ERP user does: book our drafts, and pay the two oldest invoices."""
    headers = {
        "X-AppSecretToken": live.app_secret_token,
        "X-AgreementGrantToken": live.agreement_grant_token,
    }
    ours = re.compile(r"^LL-")
    with httpx2.Client(base_url=live.url, headers=headers, timeout=30) as api:
        drafts = _json(api.get("/invoices/drafts", params={"pagesize": "1000"}))["collection"]
        booked = 0
        for draft in sorted(drafts, key=lambda d: d["draftInvoiceNumber"]):
            if ours.match(draft.get("references", {}).get("other", "")):
                api.post(
                    f"/_emulator/invoices/drafts/{draft['draftInvoiceNumber']}/book"
                ).raise_for_status()
                booked += 1
        invoices = _json(
            api.get("/invoices/booked", params={"pagesize": "1000", "sort": "bookedInvoiceNumber"})
        )["collection"]
        paid = 0
        for invoice in [i for i in invoices if i.get("grossAmount", 0) > 0][:2]:
            remainder = invoice.get("remainder", 0)
            if remainder > 0:
                api.post(
                    f"/_emulator/invoices/booked/{invoice['bookedInvoiceNumber']}/payments",
                    json={"amount": str(remainder)},
                ).raise_for_status()
                paid += 1
    console.print(f"Booked {booked} drafts; registered {paid} full payments.")
