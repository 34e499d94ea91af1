"""Transfers the console started, running in the background while the page polls the
integration log (issue 14 item 3: progress while a transfer runs).

A job runs :func:`ledgerlink.sync.transfers.transfer_documents` with the console's runner — the
durable queue when ``ledgerlink serve`` runs it — in a thread of its own; the request that
started it returns at once. Jobs live in this process only: what they started is in the
database (the integration log) whatever happens to the process.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledgerlink.domain.transfers import TransferStatus
from ledgerlink.sync import transfers
from ledgerlink.sync.engine import Engine

Background = Callable[[Callable[[], None]], None]

_log = logging.getLogger(__name__)


@dataclass
class Job:
    """One press of Transfer: the documents, how far the runner got, and the outcome."""

    id: str
    connection_id: int
    user_id: int
    invoice_ids: tuple[int, ...]
    started_at: datetime
    done: int = 0
    total: int = 0
    finished: bool = False
    statuses: dict[int, TransferStatus] = field(default_factory=dict)
    error: str = ""


class Jobs:
    """The console's transfer jobs. ``background`` runs a callable (a thread pool by default;
    tests pass one that runs it at once)."""

    def __init__(
        self, engine: Engine, runner: transfers.Runner, background: Background | None = None
    ) -> None:
        self._engine = engine
        self._runner = runner
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._background = background or self._submit

    def _submit(self, work: Callable[[], None]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="console-transfer")
        self._pool.submit(work)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def start(self, connection_id: int, user_id: int, invoice_ids: Sequence[int]) -> Job:
        job = Job(
            id=secrets.token_urlsafe(12),
            connection_id=connection_id,
            user_id=user_id,
            invoice_ids=tuple(invoice_ids),
            started_at=datetime.now(UTC),
            total=len(invoice_ids),
        )
        with self._lock:
            self._jobs[job.id] = job
        self._background(lambda: self._run(job))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job) -> None:
        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        try:
            job.statuses = transfers.transfer_documents(
                self._engine, self._runner, job.connection_id, job.invoice_ids, progress=progress
            )
            job.done = job.total
        except Exception as error:  # shown on the page; the log has the transfers' own story
            _log.exception("console transfer job failed")
            job.error = f"{type(error).__name__}: {error}"
        finally:
            job.finished = True
