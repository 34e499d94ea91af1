"""Transfer use-cases the command line and the web console share (design §8): pick the
documents to transfer, start and run them, ignore them, and queue the ones a posting starts.

Each takes the engine (the transfer runner and its database) and, where transfers run, a
:class:`Runner` — the durable queue (:class:`~ledgerlink.sync.workflows.Workers`) or, in
tests, the engine itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.transfers import Transfer, TransferStatus, TransferView
from ledgerlink.sync import automatic, table
from ledgerlink.sync.engine import Engine

Progress = Callable[[int, int], None]


class Runner(Protocol):
    """Runs started transfers to their end (or until deferred) and reports each status."""

    def run(
        self, transfers: Sequence[Transfer], *, progress: Progress | None = None
    ) -> dict[int, TransferStatus]: ...


class DirectRunner:
    """Runs transfers in this thread, without the durable queue (:meth:`Engine.transfer_many`):
    for tests, benchmarks and scripts that need no recovery."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run(
        self, transfers: Sequence[Transfer], *, progress: Progress | None = None
    ) -> dict[int, TransferStatus]:
        return self.engine.transfer_many([require_id(t) for t in transfers], progress=progress)


class Submitting(Protocol):
    """Puts transfers on the durable queue without running them (a posting process)."""

    def submit(self, transfers: Sequence[Transfer]) -> int: ...


def select_documents(
    engine: Engine, connection_id: int, numbers: Sequence[int] | None = None
) -> list[int]:
    """The documents to transfer: the numbered ones, or every non-transferred and failed one.
    An unknown number is an error naming it."""
    rows = table.transfer_table(engine, connection_id)
    if not numbers:
        wanted = (TransferView.NON_TRANSFERRED, TransferView.FAILED)
        return [require_id(r.invoice) for r in rows if r.view in wanted]
    by_number = {r.invoice.number: r for r in rows}
    missing = sorted(set(numbers) - by_number.keys(), key=lambda n: n or 0)
    if missing:
        raise NotFoundError(f"no posted document numbered {', '.join(str(n) for n in missing)}")
    wanted_numbers = set(numbers)
    # In the table's order (posting order), whatever order they were named in: drafts reach
    # the ERP in posting order.
    return [require_id(r.invoice) for r in rows if r.invoice.number in wanted_numbers]


def transfer_documents(
    engine: Engine,
    runner: Runner,
    connection_id: int,
    invoice_ids: Sequence[int],
    *,
    progress: Progress | None = None,
) -> dict[int, TransferStatus]:
    """Start a transfer of each document and run them (invoice id → status; ``PENDING`` for
    one the ERP asked to wait for longer than the runner follows — a worker resumes it)."""
    if not invoice_ids:
        return {}
    transfers = engine.start_transfers(connection_id, invoice_ids)
    by_transfer = runner.run(transfers, progress=progress)
    return {t.invoice_id: by_transfer[require_id(t)] for t in transfers}


def ignore_documents(
    engine: Engine, connection_id: int, numbers: Sequence[int], *, ignored: bool = True
) -> int:
    """Ignore (or let in again) the numbered documents of the connection's legal entity."""
    ids = _document_ids(engine, connection_id, numbers)
    return table.set_ignored(engine, connection_id, ids, ignored=ignored)


def resolve_documents(engine: Engine, connection_id: int, numbers: Sequence[int]) -> int:
    """Resolve the numbered documents that need attention (their last transfer failed or
    partially failed, totals that differ included): the user fixed or accepted what it left."""
    return table.resolve(engine, connection_id, _document_ids(engine, connection_id, numbers))


def _document_ids(engine: Engine, connection_id: int, numbers: Sequence[int]) -> list[int]:
    """The ids of the numbered documents of the connection's legal entity; an unknown number is
    an error naming it."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        ids = []
        for number in numbers:
            found = uow.invoices.by_number(connection.legal_entity_id, number)
            if found is None:
                raise NotFoundError(f"there is no document {number}")
            ids.append(require_id(found))
    return ids


@dataclass(frozen=True, slots=True)
class Queued:
    """What posting a document started: the ERPs it goes to, and whether the durable queue
    took them now (else the worker's next round starts them)."""

    erps: tuple[str, ...]
    queued: bool


def queue_on_posting(engine: Engine, submitter: Submitting, invoice_id: int) -> Queued:
    """Start the transfers of a just-posted document to every connection with automatic
    transfer, and put them on the queue for a running worker."""
    try:
        transfers = automatic.transfers_on_posting(engine, invoice_id)
    except ValidationError:
        return Queued((), False)
    if not transfers:
        return Queued((), False)
    queued = submitter.submit(transfers)
    with engine.uow() as uow:
        names = tuple(uow.connections.get(t.connection_id).erp for t in transfers)
    return Queued(names, queued == len(transfers))
