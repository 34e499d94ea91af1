"""The worker loop (design §8), shared by ``ledgerlink worker`` and any other host process.

Every round: start the transfers of posted documents of connections with automatic
transfer, end the transfers no workflow will finish, and queue one pull of each stream per
connection. The durable queue runs them; a crashed worker's workflows are recovered when the
next worker starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ledgerlink.domain.entity import require_id
from ledgerlink.sync import automatic
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.workflows import ROUND_STREAMS, Workers


def worker_round(engine: Engine, workers: Workers) -> int:
    """One round; returns how many transfers it started."""
    started = automatic.waiting_transfers(engine)
    # Queues every pending transfer no workflow carries (the ones just started, and the ones
    # posting could not queue) — a connection's several as one batch, in posting order — and
    # ends the ones whose workflow died in an error.
    workers.settle_stranded()
    round_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
    with engine.uow() as uow:
        every = uow.connections.list()
    for connection in every:
        for stream in ROUND_STREAMS:
            workers.enqueue_pull(require_id(connection), stream, round_id)
    return len(started)


def run_worker(
    engine: Engine,
    workers: Workers,
    *,
    until_idle: bool = False,
    interval: float = 30.0,
    stop: threading.Event | None = None,
    idle_poll: float = 0.2,
    on_idle: Callable[[], None] | None = None,
) -> None:
    """Run rounds until ``stop`` is set (or, with ``until_idle``, until nothing is waiting
    after the first round). ``workers`` must be started (it recovers what a dead worker
    left)."""
    stopping = stop or threading.Event()
    while not stopping.is_set():
        worker_round(engine, workers)
        if until_idle:
            while workers.pending_count() and not stopping.is_set():
                stopping.wait(idle_poll)
            if on_idle is not None:
                on_idle()
            return
        stopping.wait(interval)
