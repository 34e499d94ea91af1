"""The agent relay: how a FinancialHost in outbound agent mode takes its work from the hub.

In agent mode no one connects to the customer's server. The host (the *agent*) calls the hub
over HTTPS instead, and the hub hands it the very requests it would otherwise have sent: each
job is a complete wire request, signed by the hub (:mod:`ledgerlink.wire.signing`). The agent
runs it through its own front door, so the signature, replay, allow-list and audit rules are
the same in both modes, and posts back the host's answer, which is signed too.

The agent's own calls are signed the same way with the same per-agent key, over these paths
(the agent id is part of the signed path)::

    POST /agent/v1/{agent_id}/lease       LeaseRequest  → LeaseAnswer (held up to wait_seconds)
    POST /agent/v1/{agent_id}/results     RelayResult   → ResultAck (410: the hub gave up)
    POST /agent/v1/{agent_id}/heartbeat   Heartbeat     → HeartbeatAck

A job is offered to one agent once. If its answer does not come back before the job's
deadline the hub reports the outcome as unknown to its caller, which looks the result up again
(writes are jobs on the host, found by their idempotency key), so nothing runs twice.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PREFIX = "/agent/v1"
#: The longest a lease request is held open: below the common 60 s idle limit of proxies.
MAX_WAIT_SECONDS = 25.0

AgentId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]


def lease_path(agent_id: str) -> str:
    return f"{PREFIX}/{agent_id}/lease"


def results_path(agent_id: str) -> str:
    return f"{PREFIX}/{agent_id}/results"


def heartbeat_path(agent_id: str) -> str:
    return f"{PREFIX}/{agent_id}/heartbeat"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LeaseRequest(_Model):
    """Ask for work; the hub answers at once when it has some, else within ``wait_seconds``."""

    wait_seconds: float = Field(default=20.0, ge=0, le=MAX_WAIT_SECONDS)
    max_jobs: int = Field(default=1, ge=1, le=20)


class RelayJob(_Model):
    """One hub request for the host, exactly as the hub signed it."""

    job_id: str = Field(min_length=1, max_length=64)
    method: str = Field(pattern=r"^[A-Z]{3,7}$")
    path: str = Field(min_length=1, max_length=200, pattern=r"^/")
    query: str = ""
    headers: dict[str, str]
    body_b64: str
    deadline: datetime

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_b64)


class LeaseAnswer(_Model):
    jobs: list[RelayJob]


class RelayResult(_Model):
    """The host's answer to a job: status, headers (its signature among them) and body."""

    job_id: str = Field(min_length=1, max_length=64)
    status: int = Field(ge=100, le=599)
    headers: dict[str, str]
    body_b64: str

    @property
    def body(self) -> bytes:
        return base64.b64decode(self.body_b64)


class ResultAck(_Model):
    accepted: bool


class AuditAnchor(_Model):
    """The host's audit head for the hub to keep: ``count`` records, the newest one's MAC;
    and the MAC of record ``held_count`` (the count the hub last acknowledged), so the hub can
    tell whether the chain still runs through what it saw."""

    count: int = Field(ge=0)
    mac: str = Field(max_length=64)
    held_count: int | None = Field(default=None, ge=0)
    held_mac: str = Field(default="", max_length=64)


class Heartbeat(_Model):
    """What the agent reports about itself every few seconds (fact sheet §6.8)."""

    version: str
    plugin: str
    erp_reachable: bool
    erp_problem: str = ""
    jobs_pending: int = Field(ge=0)
    oldest_pending_seconds: float = Field(default=0.0, ge=0)
    certificate_expires: datetime | None = None
    audit: AuditAnchor | None = None


class HeartbeatAck(_Model):
    received_at: datetime
    #: The audit count the hub now holds for the agent (its next heartbeat sends that
    #: record's MAC).
    audit_count: int | None = None


def encode_body(body: bytes) -> str:
    return base64.b64encode(body).decode("ascii")
