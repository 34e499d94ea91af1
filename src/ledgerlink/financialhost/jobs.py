"""Store-and-forward: accepted writes are stored before they touch the ERP and executed by one
worker, in the order they were accepted (a single writer per company: Visma allows one open
company per process, and NAV's Keys conflict less).

A job the ERP cannot take now (:class:`ErpUnavailable`, or any unexpected error) stays pending
and is tried again after an exponential backoff with jitter; a restart of the host resumes every
pending job. A job the ERP refuses (:class:`ErpRejected`) fails with the ERP's text. The same
idempotency key never makes a second job; the same key with another body is a conflict.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgerlink.financialhost.alerts import Alerter
from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.plugin import ErpRejected, PluginError
from ledgerlink.financialhost.settings import RetrySettings
from ledgerlink.wire.operations import ErrorCode, JobOutcome, JobState, WireError

#: Executes one job: (operation, body) -> result document. Raises PluginError.
Executor = Callable[[str, dict[str, Any]], dict[str, Any]]


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different body."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class Accepted:
    outcome: JobOutcome
    new: bool


class JobQueue:
    """The ``jobs`` table, and a condition that wakes waiters when a job changes."""

    def __init__(self, database: HostDatabase, audit: AuditLog, retry: RetrySettings) -> None:
        self._db = database
        self._audit = audit
        self._retry = retry
        self._changed = threading.Condition()

    def accept(
        self, *, operation: str, idempotency_key: str, digest: str, body: dict[str, Any]
    ) -> Accepted:
        """Store a write (or find the one stored under the same key)."""
        now = _now()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM jobs WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                if row["request_digest"] != digest or row["operation"] != operation:
                    raise IdempotencyConflict(
                        f"The idempotency key '{idempotency_key}' was used for another request "
                        f"(job {row['job_id']}); use a new key for new content."
                    )
                return Accepted(self._outcome(row), new=False)
            job_id = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO jobs (job_id, operation, idempotency_key, request_digest, body, "
                "state, accepted_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    operation,
                    idempotency_key,
                    digest,
                    json.dumps(body, sort_keys=True),
                    JobState.PENDING.value,
                    now.isoformat(),
                    now.isoformat(),
                ),
            )
            row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        self._audit.append(
            "job.accepted",
            job_id=job_id,
            operation=operation,
            idempotency_key=idempotency_key,
            request_digest=digest,
        )
        self._notify()
        return Accepted(self._outcome(row), new=True)

    def get(self, idempotency_key: str) -> JobOutcome | None:
        rows = self._db.query("SELECT * FROM jobs WHERE idempotency_key = ?", (idempotency_key,))
        return self._outcome(rows[0]) if rows else None

    def get_by_id(self, job_id: str) -> JobOutcome | None:
        rows = self._db.query("SELECT * FROM jobs WHERE job_id = ?", (job_id,))
        return self._outcome(rows[0]) if rows else None

    def pending(self) -> list[JobOutcome]:
        rows = self._db.query(
            "SELECT * FROM jobs WHERE state = ? ORDER BY accepted_at, rowid",
            (JobState.PENDING.value,),
        )
        return [self._outcome(r) for r in rows]

    def recent(self, limit: int = 50) -> list[JobOutcome]:
        rows = self._db.query("SELECT * FROM jobs ORDER BY accepted_at DESC LIMIT ?", (limit,))
        return [self._outcome(r) for r in rows]

    def depth(self) -> tuple[int, float | None]:
        rows = self._db.query(
            "SELECT COUNT(*) AS n, MIN(accepted_at) AS oldest FROM jobs WHERE state = ?",
            (JobState.PENDING.value,),
        )
        n, oldest = rows[0]["n"], rows[0]["oldest"]
        age = (_now() - datetime.fromisoformat(oldest)).total_seconds() if oldest else None
        return int(n), age

    def wait(self, job_id: str, timeout: float) -> JobOutcome | None:
        """Wait up to ``timeout`` seconds for the job to leave the pending state."""
        deadline = _now() + timedelta(seconds=timeout)
        with self._changed:
            while True:
                outcome = self.get_by_id(job_id)
                if outcome is None or outcome.state is not JobState.PENDING:
                    return outcome
                remaining = (deadline - _now()).total_seconds()
                if remaining <= 0:
                    return outcome
                self._changed.wait(min(remaining, 0.5))

    def next_due(self) -> tuple[str, str, dict[str, Any], int] | None:
        """The oldest pending job whose time has come: (job id, operation, body, attempts).
        Order is kept: a waiting older job blocks younger ones (they may depend on it, e.g. a
        customer before its invoice)."""
        rows = self._db.query(
            "SELECT job_id, operation, body, attempts, next_attempt_at FROM jobs "
            "WHERE state = ? ORDER BY accepted_at, rowid LIMIT 1",
            (JobState.PENDING.value,),
        )
        if not rows or datetime.fromisoformat(rows[0]["next_attempt_at"]) > _now():
            return None
        row = rows[0]
        return row["job_id"], row["operation"], json.loads(row["body"]), int(row["attempts"])

    def succeed(self, job_id: str, result: dict[str, Any]) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, finished_at = ?, "
                "result = ?, last_problem = '' WHERE job_id = ?",
                (JobState.SUCCEEDED.value, _now().isoformat(), json.dumps(result), job_id),
            )
        self._audit.append("job.succeeded", job_id=job_id, result=result)
        self._notify()

    def fail(self, job_id: str, error: WireError) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, finished_at = ?, "
                "error = ? WHERE job_id = ?",
                (JobState.FAILED.value, _now().isoformat(), error.model_dump_json(), job_id),
            )
        self._audit.append(
            "job.failed", job_id=job_id, erp_text=error.erp_text, message=error.message
        )
        self._notify()

    def defer(self, job_id: str, attempts: int, problem: str) -> datetime:
        delay = min(self._retry.maximum, self._retry.initial * 2 ** min(attempts, 30))
        delay *= 1 + random.uniform(0, self._retry.jitter)
        when = _now() + timedelta(seconds=delay)
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE jobs SET attempts = attempts + 1, next_attempt_at = ?, last_problem = ? "
                "WHERE job_id = ?",
                (when.isoformat(), problem, job_id),
            )
        self._audit.append("job.deferred", job_id=job_id, problem=problem, retry_at=when)
        self._notify()
        return when

    def retry_now(self) -> int:
        """Make every pending job due now (after the ERP is known to be back)."""
        with self._db.transaction() as conn:
            count = conn.execute(
                "UPDATE jobs SET next_attempt_at = ? WHERE state = ?",
                (_now().isoformat(), JobState.PENDING.value),
            ).rowcount
        self._notify()
        return int(count)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for_work(self, timeout: float) -> None:
        with self._changed:
            self._changed.wait(timeout)

    @staticmethod
    def _outcome(row: Any) -> JobOutcome:
        return JobOutcome(
            job_id=row["job_id"],
            operation=row["operation"],
            idempotency_key=row["idempotency_key"],
            state=JobState(row["state"]),
            attempts=row["attempts"],
            accepted_at=datetime.fromisoformat(row["accepted_at"]),
            finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
            next_attempt_at=(
                datetime.fromisoformat(row["next_attempt_at"])
                if row["state"] == JobState.PENDING.value
                else None
            ),
            result=json.loads(row["result"]) if row["result"] else None,
            error=WireError.model_validate_json(row["error"]) if row["error"] else None,
            last_problem=row["last_problem"],
        )


def plugin_error(error: PluginError) -> WireError:
    code = ErrorCode.ERP_REJECTED if isinstance(error, ErpRejected) else ErrorCode.ERP_UNAVAILABLE
    return WireError(
        code=code,
        message=error.message,
        erp_text=error.erp_text,
        hint=error.hint,
        field_errors=error.field_errors,
    )


class Worker:
    """Runs due jobs one at a time in a background thread until stopped."""

    def __init__(
        self, queue: JobQueue, execute: Executor, *, alerter: Alerter | None = None
    ) -> None:
        self._queue = queue
        self._execute = execute
        self._alerter = alerter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="financialhost-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue._notify()
        if self._thread:
            self._thread.join(timeout=30)

    def run_once(self) -> bool:
        """Execute the next due job, if any; return whether one ran."""
        due = self._queue.next_due()
        if due is None:
            return False
        job_id, operation, body, attempts = due
        try:
            result = self._execute(operation, body)
        except ErpRejected as error:
            self._queue.fail(job_id, plugin_error(error))
            if self._alerter:
                self._alerter.job_failed(
                    job_id=job_id, operation=operation, body=body, error=plugin_error(error)
                )
        except PluginError as error:
            problem = error.message + (f" (ERP said: {error.erp_text})" if error.erp_text else "")
            self._queue.defer(job_id, attempts, problem)
            self._unavailable(error.message, error.erp_text)
        except Exception as error:  # an accepted job is never dropped
            self._queue.defer(job_id, attempts, f"{type(error).__name__}: {error}")
            self._unavailable(f"{type(error).__name__}: {error}", "")
        else:
            self._queue.succeed(job_id, result)
            if self._alerter:
                self._alerter.erp_available()
        return True

    def _unavailable(self, message: str, erp_text: str) -> None:
        if self._alerter:
            waiting, oldest = self._queue.depth()
            self._alerter.erp_unavailable(
                message, erp_text=erp_text, waiting_jobs=waiting, waited_seconds=oldest
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.run_once():
                self._queue.wait_for_work(1.0)
