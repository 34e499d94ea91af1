"""The ERP half of ``ledgerlink demo``, the same for every ERP: connect, import product numbers,
set principles, transfer with a progress bar, let the "ERP user" book and register payments,
pull balancing, and show the transfer table and the integration log.

:mod:`.demo_erp` supplies a :class:`DemoErp` for any ERP (from its spec and its emulator): how to
connect, which product numbers to use, and what its ERP user does. An OAuth2 ERP is connected
as ``ledgerlink connect`` does it: the authorization-code flow on a loopback redirect, the
tokens kept in the hub's token store (and refreshed from there); the emulator's ``consent``
answers the authorize page, and without one (a real ERP) the user opens the printed address.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from ledgerlink.cli import integration
from ledgerlink.connectors.contract import ConnectionInfo
from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import CredentialKind
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Connection, ProductNumberPrinciples, TransferStatus
from ledgerlink.sync import connections, pulls, table, transfers
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.workflows import WorkerOptions, Workers


@dataclass(frozen=True)
class DemoErp:
    """One ERP as the demo meets it. ``erp_user`` books (the documents whose correlation
    references it is given) and pays in the ERP (emulators only); ``epilogue`` shows anything
    the ERP side adds (e.g. FinancialHost's audit check). ``credentials`` and ``settings`` are
    the spec's setup values by name plus any further settings (a division); ``consent``
    answers an OAuth2 ERP's authorize URL in the user's place (emulators only)."""

    title: str
    erp: str
    credentials: dict[str, str]
    settings: dict[str, Any]
    principles: ProductNumberPrinciples
    where: str
    erp_user: Callable[[Console, Collection[str]], None] | None = None
    epilogue: Callable[[Console], None] | None = None
    consent: Callable[[str], None] | None = None
    notes: tuple[str, ...] = field(default=())


def run_erp_demo(
    engine: Engine,
    secrets: SecretBox,
    console: Console,
    erp: DemoErp,
    entity_id: int,
    demo_dir: Path,
) -> None:
    """Steps 5–9 of the demo."""
    console.rule(f"5. Connect to {erp.title}")
    connection, info, kept = _connect(engine, secrets, console, erp, entity_id)
    connection_id = require_id(connection)
    console.print(f"Connected to {info.account_id} ({info.company_name}) at {erp.where} — {kept}.")
    for note in erp.notes:
        console.print(note)
    products = connections.import_products(engine, connection_id)
    console.print(f"Imported {products.total} product numbers ({products.changed} new or changed).")
    connections.configure(engine, connection_id, principles=erp.principles)
    console.print(
        "Principles: "
        + ", ".join(f"{kind} → {number}" for kind, number in erp.principles.to_json().items())
    )

    console.rule("6. Transfer")
    waiting = transfers.select_documents(engine, connection_id)
    if not waiting:
        console.print(f"Nothing to transfer: every posted document is in {erp.title} already.")
    else:
        workers = Workers(
            engine, WorkerOptions(system_database_url=f"sqlite:///{demo_dir / 'workflows.db'}")
        )
        workers.start()
        try:
            with Progress(console=console) as progress:
                task = progress.add_task(f"Transferring to {erp.title}", total=len(waiting))
                results = transfers.transfer_documents(
                    engine,
                    workers,
                    connection_id,
                    waiting,
                    progress=lambda done, _: progress.update(task, completed=done),
                )
        finally:
            workers.stop()
        counts: dict[str, int] = {}
        for status in results.values():
            counts[status.value] = counts.get(status.value, 0) + 1
        console.print(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items())))

    if erp.erp_user is not None:
        console.rule(f"7. In {erp.title}: book the drafts, register two payments")
        agreed, differing = _agreed(engine, connection_id)
        erp.erp_user(console, agreed)
        if differing:
            console.print(
                f"Left {differing} draft(s) unbooked: their totals differ from the PSA's "
                "('ledgerlink transfers list --view attention')."
            )

    console.rule("8. Balancing")
    report = pulls.pull_balancing(engine, connection_id)
    console.print(
        f"Read {report.read} invoices from {erp.title}: {report.applied} changed, "
        f"{report.unchanged} unchanged."
    )

    console.rule("9. Transfer table and integration log")
    console.print(integration.transfer_grid(table.transfer_table(engine, connection_id)))
    with engine.uow() as uow:
        numbers = {require_id(i): i.number for i in uow.invoices.list(entity_id)}
    console.print(integration.log_grid(table.integration_log(engine, connection_id), numbers))
    if erp.epilogue is not None:
        erp.epilogue(console)


def _connect(
    engine: Engine, secrets: SecretBox, console: Console, erp: DemoErp, entity_id: int
) -> tuple[Connection, ConnectionInfo, str]:
    """Connect as the spec says; the last item says where the credentials are kept."""
    spec = spec_for(erp.erp)
    if spec.credential_kind is not CredentialKind.OAUTH2:
        connection, info = connections.connect(
            engine,
            secrets,
            legal_entity_id=entity_id,
            erp=erp.erp,
            credentials=erp.credentials,
            settings=erp.settings,
        )
        return connection, info, "credentials stored encrypted"
    names = {f.name for f in spec.setup}
    values = {
        name: str(value)
        for name, value in {**erp.credentials, **erp.settings}.items()
        if name in names
    }

    def show_url(url: str) -> None:
        console.print(f"Open this address, log in to {erp.title} and grant access:\n  {url}")

    connection, info = connections.connect_with_oauth(
        engine,
        secrets,
        spec,
        values,
        legal_entity_id=entity_id,
        show_url=erp.consent or show_url,
        timeout=30.0 if erp.consent else 300.0,
        extra_settings={k: v for k, v in erp.settings.items() if k not in names},
    )
    return connection, info, "access granted, its OAuth2 tokens kept encrypted in the token store"


def _agreed(engine: Engine, connection_id: int) -> tuple[set[str], int]:
    """The correlation references of the documents in the ERP whose last transfer succeeded
    (totals agree), and how many documents in the ERP need attention instead."""
    agreed: set[str] = set()
    differing = 0
    for row in table.transfer_table(engine, connection_id):
        if row.erp is None:
            continue
        if row.latest is not None and row.latest.status is TransferStatus.SUCCESSFUL:
            agreed.add(row.erp.correlation)
        else:
            differing += 1
    return agreed, differing
