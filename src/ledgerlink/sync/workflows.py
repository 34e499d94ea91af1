"""Durable transfers on DBOS (design §8).

A transfer is a DBOS workflow whose id is the transfer's workflow id
(``transfer:{connection}:{document}:{revision}``), so enqueueing the same transfer twice runs it
once. Each step of :class:`~ledgerlink.sync.engine.Engine` is a DBOS step: a worker that dies
is recovered by the next one from the last finished step, and the step it was in runs again —
which the engine makes safe by looking the correlation reference up first. The queue is
partitioned by connection: one connection's transfers run one after the other, in posting order,
while connections run side by side.

The transfers one command starts run as a *batch* workflow per connection
(``batch:{connection}:{digest}``), a DBOS step per :data:`~ledgerlink.sync.engine.BATCH`
of them (:meth:`Engine.run_batch`, which shares their reads and writes): one queue turn and a
few checkpoints for many transfers, and their order kept. A transfer posted on its own runs as
its own workflow. Either way the partition runs one workflow of a connection at a time, so a
transfer found in two workflows (a batch and its own, queued by ``settle_stranded``) runs in
one and is found finished by the other.

DBOS registers workflows on module-level functions and keeps one instance per process; the
engine those functions use is therefore held by :class:`Runtime` for the process's lifetime.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig, SetEnqueueOptions, SetWorkflowID, WorkflowHandle
from dbos._registrations import get_dbos_func_name  # the name DBOS registered, for its client
from sqlalchemy.exc import SQLAlchemyError

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Transfer, TransferStatus
from ledgerlink.store.workers import WorkerIdentity, WorkerRegistry
from ledgerlink.sync import automatic, expense_export, pulls
from ledgerlink.sync.engine import BATCH, Engine

QUEUE = "ledgerlink-transfers"
#: The executor id DBOS gives a process that names none (every worker before executor ids).
LEGACY_EXECUTOR = "local"


class Runtime:
    """The process's engine and DBOS instance."""

    engine: ClassVar[Engine | None] = None
    launched: ClassVar[bool] = False
    #: Where the expense export reads receipts (None: this process exports no expenses).
    receipts: ClassVar[expense_export.ReceiptSource | None] = None
    #: Whether a transfer's workflow takes the ones queued behind it along (``_run``).
    fold: ClassVar[bool] = True

    @classmethod
    def require(cls) -> Engine:
        if cls.engine is None:
            raise RuntimeError("the transfer runtime is not started (Workers.start)")
        return cls.engine


#: A transfer's later runs have the id of its first plus ``/run-{n}`` (see transfer_workflow).
RUN_SEPARATOR = "/run-"
#: What a deferred run returns: ``deferred <seconds> <id of the next run>``.
DEFERRED = "deferred"
_FINISHED = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")


@DBOS.step()
def _run(transfer_id: int, connection_id: int, run: int) -> tuple[str, float | None]:
    """Run the transfer — on its first run together with the transfers of its connection
    queued alone behind it (see :func:`_queued_alone`), as one batch. Those that finish have
    their own workflows cancelled before they leave the queue: one run and one queue turn for
    what was posted one by one while the connection was busy. A crash in between is safe:
    the recovered step runs the same batch again and finds its finished transfers in the log;
    a folded transfer whose workflow was not cancelled finds itself finished when it runs."""
    engine = Runtime.require()
    along = _queued_alone(engine, transfer_id, connection_id) if run == 1 else {}
    results = engine.run_batch(sorted({transfer_id, *along}), run=run)
    finished = [flow for other, flow in along.items() if results[other].resume_after is None]
    if finished:
        DBOS.cancel_workflows(finished)
    own = results[transfer_id]
    return own.status.value, own.resume_after


def _queued_alone(engine: Engine, transfer_id: int, connection_id: int) -> dict[int, str]:
    """The connection's pending transfers (oldest first, up to a batch) whose own workflow is
    still waiting in the queue on its first run — transfer id → workflow id. Only while a
    connection runs one transfer at a time (``per_connection`` 1): then none of them can have
    started elsewhere, because this workflow holds the connection's turn."""
    if not Runtime.fold:
        return {}
    with engine.uow() as uow:
        waiting = uow.transfers.pending(connection_id, limit=BATCH)
    others = {require_id(t): t.workflow_id for t in waiting if t.id != transfer_id}
    if not others:
        return {}
    queued = {
        w.workflow_id
        for w in DBOS.list_workflows(
            workflow_ids=list(others.values()),
            status="ENQUEUED",
            load_input=False,
            load_output=False,
        )
    }
    return {t: flow for t, flow in others.items() if flow in queued}


@DBOS.workflow()
def transfer_workflow(transfer_id: int, connection_id: int, run: int = 1) -> str:
    """One run of a transfer's plan, as one DBOS step: the engine records each step's outcome
    in our own database, and a recovered run looks up before it creates. A deferred run hands
    the transfer back to the queue — the next run is enqueued with the wait as its delay, so no
    worker thread sleeps through it. Returns the status, or ``deferred <wait> <next run's id>``.
    """
    status, wait = _run(transfer_id, connection_id, run)
    if wait is None:
        return status
    first = (DBOS.workflow_id or f"transfer-{transfer_id}").split(RUN_SEPARATOR)[0]
    following = f"{first}{RUN_SEPARATOR}{run + 1}"
    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None
    with (
        SetWorkflowID(following),
        SetEnqueueOptions(queue_partition_key=_partition(connection_id), delay_seconds=wait),
    ):
        queue.enqueue(transfer_workflow, transfer_id, connection_id, run + 1)
    return f"{DEFERRED} {wait} {following}"


@DBOS.step()
def _run_batch(transfer_ids: list[int], run: int) -> list[tuple[int, str, float | None]]:
    results = Runtime.require().run_batch(transfer_ids, run=run)
    return [(i, r.status.value, r.resume_after) for i, r in results.items()]


@DBOS.workflow()
def batch_workflow(
    connection_id: int, transfers: list[tuple[int, str]], run: int = 1
) -> dict[str, str]:
    """Transfers of one connection — (transfer id, its workflow id) in posting order — as a
    DBOS step per :data:`BATCH` of them. When the ERP defers one, it and every one after it
    go on in a next run of the batch, queued with the wait as its delay (no worker sleeps
    through it). Returns transfer id → status, or ``deferred <wait> <next run's id>``."""
    outputs: dict[str, str] = {}
    for start in range(0, len(transfers), BATCH):
        chunk = transfers[start : start + BATCH]
        results = _run_batch([t for t, _ in chunk], run)
        waits = [wait for _, _, wait in results if wait is not None]
        for transfer_id, status, wait in results:
            if wait is None:
                outputs[str(transfer_id)] = status
        if not waits:
            continue
        waiting = {t for t, _, w in results if w is not None}
        rest = [t for t in chunk if t[0] in waiting] + transfers[start + BATCH :]
        first = (DBOS.workflow_id or f"batch-{connection_id}").split(RUN_SEPARATOR)[0]
        following = f"{first}{RUN_SEPARATOR}{run + 1}"
        queue = DBOS.retrieve_queue(QUEUE)
        assert queue is not None
        with (
            SetWorkflowID(following),
            SetEnqueueOptions(
                queue_partition_key=_partition(connection_id), delay_seconds=max(waits)
            ),
        ):
            queue.enqueue(batch_workflow, connection_id, rest, run + 1)
        for transfer_id, _ in rest:
            outputs[str(transfer_id)] = f"{DEFERRED} {max(waits)} {following}"
        break
    return outputs


#: The streams a worker round runs per connection, besides transfers.
ROUND_STREAMS = ("projects", "balancing", "expenses", "expense_export")


@DBOS.step()
def _pull_step(connection_id: int, stream: str) -> str:
    engine = Runtime.require()
    if stream == "projects":
        pushed = automatic.push_new_projects(engine, connection_id)
        return f"projects: {pushed.pushed} pushed; " + "; ".join(pushed.failures)
    if stream == "expense_export":
        if Runtime.receipts is None:
            return "expense export: not run by this worker (no receipts folder)"
        exported = expense_export.export_expenses(
            engine.uow, engine.connectors, connection_id, receipts=Runtime.receipts
        )
        return (
            f"expense export: {exported.exported} exported, {exported.failed} failed, "
            f"{exported.pending} pending"
        )
    pull = {"balancing": pulls.pull_balancing, "expenses": pulls.pull_expenses}[stream]
    report = pull(engine, connection_id)
    return f"{report.stream}: {report.read} read, {report.applied} applied"


@DBOS.workflow()
def pull_workflow(connection_id: int, stream: str) -> str:
    """One round of one stream: ``projects`` (push new projects), ``balancing`` or
    ``expenses`` (incremental pulls; the cursor is stored with each batch, so a pull recovered
    after a crash goes on where it stopped)."""
    return _pull_step(connection_id, stream)


def _partition(connection_id: int) -> str:
    return f"connection-{connection_id}"


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """``system_database_url``: DBOS's own database (SQLite next to the app database in the
    embedded setup, PostgreSQL in scale-out) and, on PostgreSQL, the schema of its tables
    (``None``: DBOS's default ``dbos``). ``per_connection`` transfers of one connection run at
    a time — 1 by default: one after the other in the order queued, so drafts reach the ERP in
    posting order and the ERP's numbers follow the PSA's (connections run side by side, up to
    ``concurrency`` transfers per worker)."""

    system_database_url: str
    system_database_schema: str | None = None
    per_connection: int = 1
    concurrency: int = 8
    polling_interval: float = 0.2
    #: how often a worker says it is alive and looks for dead workers to recover; a worker
    #: on another host not seen for ``stale_after`` is taken for dead.
    heartbeat: float = 15.0
    stale_after: float = 60.0
    #: where the expense export reads relative receipt file names (None: no export here)
    receipts_dir: Path | None = None
    #: seconds a stopping worker gives its running workflows to finish (see Workers.stop)
    stop_grace: int = 10


class Workers:
    """Starts DBOS in this process and runs transfers through its queue."""

    def __init__(self, engine: Engine, options: WorkerOptions) -> None:
        self.engine = engine
        self.options = options
        self.identity = WorkerIdentity.of_this_process()
        self.registry = WorkerRegistry(engine.database)
        self._beating = threading.Event()
        self._beat: threading.Thread | None = None

    def start(self) -> None:
        """Launch DBOS in this process as a worker of its own executor id, recover what dead
        workers left, and keep saying this one is alive until :meth:`stop`."""
        receipts = self.options.receipts_dir
        Runtime.receipts = None if receipts is None else expense_export.ReceiptFiles(receipts)
        Runtime.fold = self.options.per_connection == 1
        if Runtime.launched:
            Runtime.engine = self.engine
            return
        Runtime.engine = self.engine
        _follow_stderr(logging.getLogger("dbos"))  # handlers left by an earlier start
        config: DBOSConfig = {
            "name": "ledgerlink",
            "system_database_url": self.options.system_database_url,
            "log_level": "WARNING",
        }
        if self.options.system_database_schema:
            config["dbos_system_schema"] = self.options.system_database_schema
        engine = _sqlite_system_engine(self.options.system_database_url)
        if engine is not None:
            config["system_database_engine"] = engine
        # Each worker its own executor id: DBOS recovers at launch only its own id's pending
        # workflows, so a worker starting beside a running one never runs that one's work
        # again; the dead are recovered through the registry instead (recover_dead).
        config["executor_id"] = self.identity.executor_id
        DBOS(config=config)
        _follow_stderr(logging.getLogger("dbos"))
        self.registry.alive(self.identity)
        DBOS.launch()
        DBOS.register_queue(
            QUEUE,
            partition_concurrency=self.options.per_connection,
            worker_concurrency=self.options.concurrency,
            polling_interval_sec=self.options.polling_interval,
        )
        Runtime.launched = True
        # Workflows of executor 'local' were left by a worker from before executor ids.
        self.recover_dead(also=[LEGACY_EXECUTOR])
        self._beating.clear()
        self._beat = threading.Thread(target=self._keep_beating, name="worker-heartbeat")
        self._beat.daemon = True
        self._beat.start()

    def stop(self) -> None:
        """Stop taking work, give the workflows running here up to ``stop_grace`` seconds to
        finish, and leave. A worker that leaves something running (the grace ran out) stays
        in the registry: the next worker claims it once this process is gone (or, on another
        host, its beat is stale) and recovers what it left — nothing is stranded by a stop."""
        self._beating.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
        if Runtime.launched:
            DBOS.destroy(
                destroy_registry=False,
                workflow_completion_timeout_sec=self.options.stop_grace,
            )
            Runtime.launched = False
            if not self._left_running():
                self.registry.leave(self.identity)
        Runtime.engine = None
        Runtime.receipts = None

    def _left_running(self) -> bool:
        """Whether workflows of this worker are still pending in the system database."""
        client = DBOSClient(
            system_database_url=self.options.system_database_url,
            dbos_system_schema=self.options.system_database_schema or "dbos",
        )
        try:
            running: list[Any] = client.list_workflows(
                status="PENDING",
                executor_id=self.identity.executor_id,
                load_input=False,
                load_output=False,
            )
        except SQLAlchemyError:  # cannot tell: stay claimable
            return True
        finally:
            client.destroy()
        return bool(running)

    def recover_dead(self, also: Sequence[str] = ()) -> int:
        """Say this worker is alive, claim the workers that are not, and hand their pending
        workflows back to the queue (DBOS re-enqueues a workflow only while it is still
        pending under the dead executor's id, so a second claim does nothing). Returns how
        many workflows were recovered."""
        self.registry.alive(self.identity)
        dead = self.registry.claim_dead(
            self.identity, stale_after=timedelta(seconds=self.options.stale_after)
        )
        dead += [executor for executor in also if executor not in dead]
        if not dead:
            return 0
        return len(DBOS._recover_pending_workflows(dead))

    def _keep_beating(self) -> None:
        while not self._beating.wait(self.options.heartbeat):
            try:
                self.recover_dead()
            except Exception:  # a lost beat is retried at the next one
                logging.getLogger(__name__).warning("worker heartbeat failed", exc_info=True)

    def enqueue(self, transfer: Transfer) -> WorkflowHandle[str]:
        queue = DBOS.retrieve_queue(QUEUE)
        assert queue is not None
        with (
            SetWorkflowID(transfer.workflow_id),
            SetEnqueueOptions(queue_partition_key=_partition(transfer.connection_id)),
        ):
            return queue.enqueue(transfer_workflow, require_id(transfer), transfer.connection_id)

    def enqueue_pull(self, connection_id: int, stream: str, round_id: str) -> WorkflowHandle[str]:
        """Queue a pull behind the connection's transfers; ``round_id`` makes the workflow id
        (``pull:{connection}:{stream}:{round}``), so one round pulls each stream once."""
        queue = DBOS.retrieve_queue(QUEUE)
        assert queue is not None
        with (
            SetWorkflowID(f"pull:{connection_id}:{stream}:{round_id}"),
            SetEnqueueOptions(queue_partition_key=_partition(connection_id)),
        ):
            return queue.enqueue(pull_workflow, connection_id, stream)

    def run(
        self,
        transfers: Sequence[Transfer],
        *,
        progress: Callable[[int, int], None] | None = None,
        follow: float = 60.0,
    ) -> dict[int, TransferStatus]:
        """Enqueue ``transfers`` — a batch workflow per connection, in the order given — and
        wait for all of them; ``progress(done, total)``. See :meth:`wait` for ``follow``."""
        return self.wait(self.enqueue_all(transfers), progress=progress, follow=follow)

    def enqueue_all(self, transfers: Sequence[Transfer]) -> dict[int, str]:
        """Queue ``transfers``: a connection's several as one batch workflow, in the order
        given (one queued at a time could tie on DBOS's queue time and overtake each other);
        a single one as its own. Returns transfer id → workflow id."""
        handles: dict[int, str] = {}
        for connection_id in dict.fromkeys(t.connection_id for t in transfers):
            mine = [t for t in transfers if t.connection_id == connection_id]
            if len(mine) == 1:
                handles[require_id(mine[0])] = self.enqueue(mine[0]).workflow_id
                continue
            flow = self.enqueue_batch(connection_id, mine)
            handles.update({require_id(t): flow for t in mine})
        return handles

    def enqueue_batch(self, connection_id: int, transfers: Sequence[Transfer]) -> str:
        """Queue ``transfers`` of one connection as one batch workflow; its id is made of
        theirs, so queueing the same batch twice runs it once. Returns the id."""
        ids = [(require_id(t), t.workflow_id) for t in transfers]
        digest = hashlib.sha256("\n".join(w for _, w in ids).encode()).hexdigest()[:24]
        flow = f"batch:{connection_id}:{digest}"
        queue = DBOS.retrieve_queue(QUEUE)
        assert queue is not None
        with (
            SetWorkflowID(flow),
            SetEnqueueOptions(queue_partition_key=_partition(connection_id)),
        ):
            queue.enqueue(batch_workflow, connection_id, ids)
        return flow

    def wait(
        self,
        workflows: dict[int, str],
        *,
        progress: Callable[[int, int], None] | None = None,
        follow: float = 60.0,
    ) -> dict[int, TransferStatus]:
        """Wait for the transfers' workflows (transfer id → workflow id), one query per poll.

        A deferred transfer is followed to its next run when that run starts within
        ``follow`` seconds; otherwise it is reported ``PENDING`` (a worker resumes it). A
        workflow that ended in an error ends its transfer as failed (nothing is left pending).
        """
        results: dict[int, TransferStatus] = {}
        pending = dict(workflows)
        while pending:
            found = {
                w.workflow_id: w
                for w in DBOS.list_workflows(workflow_ids=list(pending.values()), load_input=False)
            }
            for transfer_id, workflow in list(pending.items()):
                status = found.get(workflow)
                if status is None or status.status not in _FINISHED:
                    continue
                if status.status != "SUCCESS":
                    reason = f"the transfer's workflow ended with {status.status}"
                    if status.error is not None:
                        reason += f": {type(status.error).__name__}: {status.error}"
                    results[transfer_id] = self.engine.abandon(transfer_id, reason)
                    del pending[transfer_id]
                    continue
                output = _output_for(status.output, transfer_id)
                if output is None:  # a batch that did not carry it: the log knows
                    results[transfer_id] = self.engine.status_of(transfer_id)
                    del pending[transfer_id]
                    continue
                if output.startswith(DEFERRED):
                    _, wait, following = output.split(" ", 2)
                    if float(wait) <= follow:
                        pending[transfer_id] = following
                        continue
                    results[transfer_id] = TransferStatus.PENDING
                else:
                    results[transfer_id] = TransferStatus(output)
                del pending[transfer_id]
            if progress is not None:
                # A batch's workflow answers when its last transfer is done; the log shows
                # each one as it ends (one more query, only while a batch runs).
                in_batches = [t for t, flow in pending.items() if flow.startswith("batch:")]
                ended = self.engine.finished_among(in_batches) if in_batches else 0
                progress(len(results) + ended, len(workflows))
            if pending:
                time.sleep(0.05)
        return results

    def settle_stranded(self) -> list[int]:
        """Settle the pending transfers no running workflow will finish (run by every worker
        round, after DBOS has recovered this process's workflows at ``start``): one whose
        process stopped before it was enqueued is enqueued now (a second enqueue of the same
        id is a no-op, so a process about to enqueue it loses nothing); one whose workflow
        ended in an error is ended failed with that error. Returns the transfers ended."""
        with self.engine.uow() as uow:
            waiting = uow.transfers.pending()
        if not waiting:
            return []
        flows: list[Any] = DBOS.list_workflows(
            workflow_id_prefix=[t.workflow_id for t in waiting],
            load_input=False,
            load_output=False,
        )
        batches: list[Any] = DBOS.list_workflows(
            workflow_id_prefix="batch:",
            status=["PENDING", "ENQUEUED", "DELAYED"],
            load_input=True,
            load_output=False,
        )
        in_batches = {
            transfer_id
            for b in batches
            for transfer_id, _ in (b.input["args"][1] if b.input else [])
        }
        ended, unqueued = [], []
        for transfer in waiting:
            if require_id(transfer) in in_batches:  # a live batch will run it
                continue
            mine = [
                f
                for f in flows
                if f.workflow_id == transfer.workflow_id
                or f.workflow_id.startswith(transfer.workflow_id + RUN_SEPARATOR)
            ]
            if not mine:
                unqueued.append(transfer)
                continue
            if any(f.status not in _FINISHED for f in mine):
                continue
            last = max(mine, key=lambda f: f.created_at or 0)
            reason = f"the transfer's workflow ended with {last.status}"
            if last.error is not None:
                reason += f": {type(last.error).__name__}: {last.error}"
            self.engine.abandon(require_id(transfer), reason)
            ended.append(require_id(transfer))
        self.enqueue_all(unqueued)
        return ended

    @staticmethod
    def pending_count() -> int:
        """Workflows enqueued, delayed (a deferred transfer's next run) or running in this
        system database (all processes)."""
        workflows: list[Any] = DBOS.list_workflows(
            status=["PENDING", "ENQUEUED", "DELAYED"], load_input=False, load_output=False
        )
        return len(workflows)


def _output_for(output: Any, transfer_id: int) -> str | None:
    """A transfer's part of a workflow's output: a batch's is a dict by transfer id."""
    if isinstance(output, dict):
        found = output.get(str(transfer_id))
        return None if found is None else str(found)
    return str(output)


def _sqlite_system_engine(url: str) -> sa.Engine | None:
    """DBOS's engine for a SQLite system database, set up as DBOS sets up its own (IMMEDIATE
    transactions, 30 s busy timeout, foreign keys) plus WAL with ``synchronous=NORMAL``, as the
    app database (design §8): DBOS's default rollback journal fsyncs every enqueue, dequeue and
    checkpoint, the largest part of a durable transfer's cost on SQLite. None on PostgreSQL."""
    if not url.startswith("sqlite"):
        return None
    engine = sa.create_engine(url)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        dbapi_connection.execute("PRAGMA busy_timeout=30000")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


class Submitter:
    """Puts transfers on the queue from a process that runs no workers (the command that
    posted a document); a running ``ledgerlink worker`` picks them up at once."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options

    def submit(self, transfers: Sequence[Transfer]) -> int:
        """Enqueue ``transfers``; returns how many were queued. 0 when no worker has ever
        prepared the queue's database: the worker's next round starts them instead."""
        if not transfers:
            return 0
        try:
            client = DBOSClient(
                system_database_url=self.options.system_database_url,
                dbos_system_schema=self.options.system_database_schema or "dbos",
            )
        except (SQLAlchemyError, OSError):
            return 0
        queued = 0
        try:
            for transfer in transfers:
                client.enqueue(
                    {
                        "workflow_name": get_dbos_func_name(transfer_workflow),
                        "queue_name": QUEUE,
                        "workflow_id": transfer.workflow_id,
                        "queue_partition_key": _partition(transfer.connection_id),
                    },
                    require_id(transfer),
                    transfer.connection_id,
                )
                queued += 1
        except SQLAlchemyError:
            return queued
        finally:
            client.destroy()
        return queued


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced after start)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return


def _follow_stderr(logger: logging.Logger) -> None:
    for handler in list(logger.handlers):
        if type(handler) is logging.StreamHandler:
            replacement = _StderrHandler()
            replacement.setLevel(handler.level)
            replacement.setFormatter(handler.formatter)
            logger.removeHandler(handler)
            logger.addHandler(replacement)
