"""The agent relay's storage: requests for FinancialHost agents that call in (outbound agent
mode, design §10). It lives in the hub's database because whichever hub process sends a
request and whichever process the agent's call reaches need not be the same.

Every method is one short transaction of its own: a caller waiting for an answer polls, and
an agent's lease must be visible to every other process at once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from ledgerlink.store.database import Database
from ledgerlink.store.tables import (
    HostAuditAnchorRow,
    RelayAgentRow,
    RelayJobRow,
    RelayNonceRow,
)

PENDING, LEASED, ANSWERED, ABANDONED = "pending", "leased", "answered", "abandoned"
#: Finished jobs are kept this long (for looking into a problem), then removed.
KEEP_FINISHED = timedelta(hours=24)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LeasedJob:
    job_id: str
    request: dict[str, Any]
    deadline: datetime


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """Where a job stands; ``response`` once the agent answered."""

    state: str
    response: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Agent:
    """An enrolled agent: ``credentials`` as sealed by the hub's secret box."""

    agent_id: str
    credentials: str
    last_seen: datetime | None
    heartbeat: dict[str, Any] | None
    heartbeat_at: datetime | None
    audit_count: int | None = None
    audit_problem: str = ""
    audit_problem_at: datetime | None = None


class RelayStore:
    """Jobs for agents, their answers, agents' heartbeats and agent request nonces."""

    def __init__(self, database: Database) -> None:
        self._db = database

    # the sending side (the connector's relay transport) ------------------------------------
    def submit(self, agent_id: str, request: dict[str, Any], *, deadline: datetime) -> str:
        """Queue ``request`` for ``agent_id``; it is offered until ``deadline``."""
        job_id = str(uuid.uuid4())
        with self._db.sessions.begin() as session:
            session.add(
                RelayJobRow(
                    id=job_id,
                    agent_id=agent_id,
                    state=PENDING,
                    request=json.dumps(request),
                    deadline=deadline,
                    created_at=_now(),
                )
            )
        return job_id

    def outcome(self, job_id: str) -> JobOutcome:
        with self._db.sessions.begin() as session:
            row = session.get(RelayJobRow, job_id)
            if row is None:
                return JobOutcome(ABANDONED)
            return JobOutcome(row.state, json.loads(row.response) if row.response else None)

    def abandon(self, job_id: str) -> JobOutcome:
        """Stop offering the job; return where it stood (``pending``: no agent ever saw it,
        ``leased``: an agent may have run it, ``answered``: the answer came just in time)."""
        with self._db.sessions.begin() as session:
            row = session.get(RelayJobRow, job_id, with_for_update=True)
            if row is None:
                return JobOutcome(ABANDONED)
            before = JobOutcome(row.state, json.loads(row.response) if row.response else None)
            if row.state in (PENDING, LEASED):
                row.state = ABANDONED
            return before

    # the agent's side (the hub's relay endpoint) -------------------------------------------
    def lease(self, agent_id: str, *, limit: int) -> list[LeasedJob]:
        """Hand up to ``limit`` pending jobs to the agent, oldest first; each is leased once."""
        now = _now()
        with self._db.sessions.begin() as session:
            rows = session.scalars(
                select(RelayJobRow)
                .where(
                    RelayJobRow.agent_id == agent_id,
                    RelayJobRow.state == PENDING,
                    RelayJobRow.deadline > now,
                )
                .order_by(RelayJobRow.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.state = LEASED
                row.leased_at = now
            return [
                LeasedJob(row.id, json.loads(row.request), _aware(row.deadline)) for row in rows
            ]

    def answer(self, agent_id: str, job_id: str, response: dict[str, Any]) -> bool:
        """Store the agent's answer; False when the job is not this agent's leased job (its
        caller gave up, or it was never leased)."""
        with self._db.sessions.begin() as session:
            done = session.execute(
                update(RelayJobRow)
                .where(
                    RelayJobRow.id == job_id,
                    RelayJobRow.agent_id == agent_id,
                    RelayJobRow.state == LEASED,
                )
                .values(state=ANSWERED, response=json.dumps(response), answered_at=_now())
            )
            return bool(getattr(done, "rowcount", 0))

    def remember_nonce(self, nonce: str, *, keep_for: timedelta) -> bool:
        """Remember an agent request's nonce; False if it was seen already (a replay)."""
        now = _now()
        with self._db.sessions.begin() as session:
            session.execute(delete(RelayNonceRow).where(RelayNonceRow.expires_at < now))
            if session.get(RelayNonceRow, nonce) is not None:
                return False
            session.add(RelayNonceRow(nonce=nonce, expires_at=now + keep_for))
            return True

    def enrol(self, agent_id: str, credentials: str) -> None:
        """Register the agent with its (sealed) key, or replace the key of a known one."""
        with self._db.sessions.begin() as session:
            row = session.get(RelayAgentRow, agent_id, with_for_update=True)
            if row is None:
                session.add(
                    RelayAgentRow(
                        agent_id=agent_id, credentials=credentials, enrolled_at=_now(), heartbeat=""
                    )
                )
            else:
                row.credentials = credentials
                # A new key is a new (or reinstalled) host: its audit log starts afresh.
                row.audit_count, row.audit_mac, row.audit_problem = None, None, ""
                row.audit_problem_at = None

    def seen(self, agent_id: str, *, heartbeat: dict[str, Any] | None = None) -> None:
        """Note that the agent called (and what its heartbeat said)."""
        now = _now()
        with self._db.sessions.begin() as session:
            row = session.get(RelayAgentRow, agent_id, with_for_update=True)
            if row is None:
                return
            row.last_seen = now
            if heartbeat is not None:
                row.heartbeat = json.dumps(heartbeat)
                row.heartbeat_at = now

    def keep_audit(
        self, agent_id: str, *, count: int, mac: str, held_count: int | None, held_mac: str
    ) -> int | None:
        """Compare the host's audit head with the anchor the hub holds and keep the new one;
        the first disagreement is kept as the agent's ``audit_problem``. ``held_mac`` is the
        host's MAC of record ``held_count``. Returns the count now held (None: no agent)."""
        with self._db.sessions.begin() as session:
            row = session.get(RelayAgentRow, agent_id, with_for_update=True)
            if row is None:
                return None
            problem = _audit_problem(row, count, mac, held_count, held_mac)
            if problem and not row.audit_problem:
                row.audit_problem, row.audit_problem_at = problem, _now()
            row.audit_count, row.audit_mac = count, mac
            return count

    def agent(self, agent_id: str) -> Agent | None:
        with self._db.sessions.begin() as session:
            row = session.get(RelayAgentRow, agent_id)
            if row is None:
                return None
            return Agent(
                row.agent_id,
                row.credentials,
                _aware(row.last_seen) if row.last_seen else None,
                json.loads(row.heartbeat) if row.heartbeat else None,
                _aware(row.heartbeat_at) if row.heartbeat_at else None,
                row.audit_count,
                row.audit_problem,
                _aware(row.audit_problem_at) if row.audit_problem_at else None,
            )

    def agents(self) -> list[Agent]:
        with self._db.sessions.begin() as session:
            ids = session.scalars(select(RelayAgentRow.agent_id).order_by(RelayAgentRow.agent_id))
            names = list(ids)
        return [agent for name in names if (agent := self.agent(name)) is not None]

    def purge(self) -> int:
        """Remove jobs finished (or past their deadline) more than a day ago."""
        cutoff = _now() - KEEP_FINISHED
        with self._db.sessions.begin() as session:
            result = session.execute(delete(RelayJobRow).where(RelayJobRow.deadline < cutoff))
            return int(getattr(result, "rowcount", 0))


class AuditAnchorStore:
    """The audit anchors of FinancialHosts the hub calls directly (inbound mode), by base URL:
    the same comparison as an agent's heartbeat (:meth:`RelayStore.keep_audit`)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def held(self, host: str) -> int | None:
        """The record count the hub holds for ``host`` (None: none yet)."""
        with self._db.sessions.begin() as session:
            row = session.get(HostAuditAnchorRow, host)
            return None if row is None else row.audit_count

    def keep(
        self, host: str, *, count: int, mac: str, held_count: int | None, held_mac: str
    ) -> str:
        """Compare ``host``'s audit head with the anchor held and keep the new one; returns the
        first disagreement ever seen for the host ("" if none)."""
        with self._db.sessions.begin() as session:
            row = session.get(HostAuditAnchorRow, host, with_for_update=True)
            if row is None:
                row = HostAuditAnchorRow(host=host, audit_problem="")
                session.add(row)
            problem = _audit_problem(row, count, mac, held_count, held_mac)
            if problem and not row.audit_problem:
                row.audit_problem, row.audit_problem_at = problem, _now()
            row.audit_count, row.audit_mac, row.seen_at = count, mac, _now()
            return row.audit_problem


def _audit_problem(
    row: RelayAgentRow | HostAuditAnchorRow,
    count: int,
    mac: str,
    held_count: int | None,
    held_mac: str,
) -> str:
    """What is wrong with the host's audit head given the anchor in ``row`` ("" if nothing)."""
    if row.audit_count is None:
        return ""
    if count < row.audit_count:
        return f"the host's audit count went backwards: {row.audit_count} -> {count} records"
    if count == row.audit_count and mac != row.audit_mac:
        return f"the host's audit chain disagrees: record {count} is not the one the hub saw"
    if held_count == row.audit_count and held_mac != row.audit_mac:
        return (
            f"the host's audit chain disagrees: record {held_count} is not the one the hub saw "
            "(rewritten or replaced)"
        )
    return ""
