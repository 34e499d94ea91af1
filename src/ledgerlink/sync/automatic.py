"""Automatic transfer (design §4, step 3): a posted document goes to every connection of its
legal entity that has automatic transfer switched on.

Posting starts the transfers at once (:func:`transfers_on_posting`); the worker's rounds start
whatever posting could not (:func:`waiting_transfers`: the process died after posting, or the
connection was switched to automatic later). Both return transfers whose workflow ids are
their idempotency keys, so a document started by both runs once.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.transfers import (
    Connection,
    EntityType,
    StepStatus,
    Transfer,
    TransferView,
)
from ledgerlink.sync import table
from ledgerlink.sync.engine import Engine


def automatic_connections(engine: Engine, legal_entity_id: int | None = None) -> list[Connection]:
    """Active connections with automatic transfer on (of one legal entity, or all)."""
    with engine.uow() as uow:
        return [
            c
            for c in uow.connections.list()
            if c.automatic_transfer
            and c.active
            and (legal_entity_id is None or c.legal_entity_id == legal_entity_id)
        ]


def transfers_on_posting(engine: Engine, invoice_id: int) -> list[Transfer]:
    """Start the transfers of a just-posted document; a draft or an ignored document starts
    none."""
    with engine.uow() as uow:
        invoice = uow.invoices.get(invoice_id)
    if not invoice.status.is_posted:
        return []
    started = []
    for connection in automatic_connections(engine, invoice.legal_entity_id):
        try:
            started.append(engine.start_transfer(require_id(connection), invoice_id))
        except ValidationError:  # ignored for this connection: the user said so
            continue
    return started


def waiting_transfers(engine: Engine) -> list[Transfer]:
    """Transfers to start for posted documents of automatic connections that are not
    transferred yet (failed ones wait for the user: retrying is a decision)."""
    started = []
    for connection in automatic_connections(engine):
        connection_id = require_id(connection)
        rows = table.transfer_table(
            engine, connection_id, table.TableFilter(views=(TransferView.NON_TRANSFERRED,))
        )
        started += engine.start_transfers(connection_id, [require_id(r.invoice) for r in rows])
    return started


@dataclass(frozen=True, slots=True)
class ProjectReport:
    """What one round of project pushes did for one connection."""

    pushed: int = 0
    failures: tuple[str, ...] = ()


def push_new_projects(engine: Engine, connection_id: int) -> ProjectReport:
    """Projects follow on creation: push every active project of the connection's legal entity
    that has no ERP project yet and whose customer is in the ERP (the others follow with
    their customer's first invoice). Nothing happens when the ERP takes no projects."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        linked = set(uow.external_keys.for_type(connection_id, EntityType.PROJECT))
        customer_keys = uow.external_keys.for_type(connection_id, EntityType.CUSTOMER)
        customers = {local for local, key in customer_keys.items() if key.external_id}
        waiting = [
            p
            for p in uow.projects.list(connection.legal_entity_id)
            if p.active and require_id(p) not in linked and p.customer_id in customers
        ]
    if not waiting or not engine.connectors(connection).capabilities.project_push:
        return ProjectReport()
    pushed, failures = 0, []
    for project in waiting:
        outcome = engine.push_project(connection_id, require_id(project))
        if outcome.status is StepStatus.SUCCESSFUL:
            pushed += 1
        else:
            failures.append(f"{project.number}: {outcome.message}")
    return ProjectReport(pushed, tuple(failures))
