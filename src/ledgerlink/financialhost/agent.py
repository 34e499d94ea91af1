"""Outbound agent mode (design §10, fact sheet §6.2): the host calls the hub, never the other
way round, so the customer opens no inbound port.

The agent long-polls the hub's relay for jobs (:mod:`ledgerlink.wire.relay`). Each job is a
request the hub signed, exactly as it would have sent it to an inbound host; the agent hands it
to the host's own application through the :class:`~.guard.Guard`, so signatures, replay
protection, the operation allow-list, store-and-forward and the audit log work as in inbound
mode. The host's signed answer goes back to the hub. The agent's own calls are signed with the
same key, and the hub's answers are checked, so a job only ever comes from the enrolled hub.

When the hub cannot be reached the agent waits and tries again (backing off to a minute); an
answer that cannot be delivered before its job's deadline is dropped and audited: the hub has
stopped waiting for it, and writes stay findable on the host by their idempotency key.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from ledgerlink.financialhost.guard import RELAYED
from ledgerlink.financialhost.server import Host, host_version
from ledgerlink.financialhost.settings import AgentSettings
from ledgerlink.wire import relay as wire
from ledgerlink.wire.client import AnswerNotAuthentic, SignedClient, WireAnswer, tls_context

#: The longest pause between two attempts to reach an unreachable hub.
MAX_BACKOFF_SECONDS = 60.0


class _Relayed:
    """Marks requests as delivered by the relay (the guard then skips the address check that
    only means something for inbound calls)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app({**scope, RELAYED: True}, receive, send)


@dataclass
class _HubState:
    reachable: bool = True
    failures: int = 0


class Agent:
    """Fetches jobs from the hub for ``host`` and posts back its answers."""

    def __init__(self, host: Host, settings: AgentSettings, *, hub: SignedClient | None = None):
        if not settings.hub_url or not settings.agent_id:
            raise ValueError("agent mode needs [agent] hub_url and agent_id in the settings")
        self.host = host
        self.settings = settings
        self._hub = hub or SignedClient(
            settings.hub_url,
            keys=host.signing_keys(),
            verify=tls_context(verify=settings.verify),
            timeout=wire.MAX_WAIT_SECONDS + 15,
        )
        self._app = _Relayed(host.app)
        self._state = _HubState()
        self._audit_held: int | None = None  # the audit count the hub last acknowledged
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the agent in a background thread (with its own event loop)."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run()), name="financialhost-agent", daemon=True
        )
        self._thread.start()
        self.host.audit.append(
            "agent.started", hub=self.settings.hub_url, agent_id=self.settings.agent_id
        )

    def stop(self) -> None:
        """Stop fetching work; jobs already running finish first. Safe to call twice."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=wire.MAX_WAIT_SECONDS + 20)
        self._thread = None
        self._hub.close()
        self.host.audit.append("agent.stopped", agent_id=self.settings.agent_id)

    # the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Lease, run, answer, until :meth:`stop`; heartbeats on the side."""
        running: set[asyncio.Task[None]] = set()
        beat = asyncio.create_task(self._heartbeats())
        try:
            while not self._stop.is_set():
                free = self.settings.max_parallel - len(running)
                if free <= 0:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    continue
                for job in await self._lease(free):
                    task = asyncio.create_task(self._run_job(job))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            beat.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    async def _call(self, path: str, model: BaseModel) -> WireAnswer | None:
        """One signed call to the hub; None (after a pause) when the hub cannot be reached or
        its answer is not authentic."""
        body = model.model_dump_json().encode()
        try:
            answer = await asyncio.to_thread(self._hub.post, path, body)
        except (httpx2.TransportError, AnswerNotAuthentic) as error:
            await self._hub_failed(error)
            return None
        if answer.status == 401:
            await self._hub_failed(RuntimeError(_message(answer)))
            return None
        self._hub_back()
        return answer

    async def _lease(self, free: int) -> list[wire.RelayJob]:
        asked = wire.LeaseRequest(
            wait_seconds=min(self.settings.lease_seconds, wire.MAX_WAIT_SECONDS),
            max_jobs=free,
        )
        answer = await self._call(wire.lease_path(self.settings.agent_id), asked)
        if answer is None:
            return []
        if answer.status != 200:
            await self._pause(self.settings.poll_seconds)
            return []
        return list(wire.LeaseAnswer.model_validate(answer.body).jobs)

    async def _run_job(self, job: wire.RelayJob) -> None:
        if job.deadline <= datetime.now(UTC):
            return  # the hub stopped waiting before the job arrived
        result = await self.execute(job)
        await self._deliver(result, job.deadline)

    async def execute(self, job: wire.RelayJob) -> wire.RelayResult:
        """Run the hub's request through the host's own front door; return its answer."""
        transport = httpx2.ASGITransport(app=self._app, client=("hub-relay", 0))
        async with httpx2.AsyncClient(transport=transport, base_url="https://host.local") as http:
            response = await http.request(
                job.method,
                job.path + (f"?{job.query}" if job.query else ""),
                content=job.body,
                headers=job.headers,
                timeout=None,
            )
        return wire.RelayResult(
            job_id=job.job_id,
            status=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
            body_b64=wire.encode_body(response.content),
        )

    async def _deliver(self, result: wire.RelayResult, deadline: datetime) -> None:
        path = wire.results_path(self.settings.agent_id)
        while datetime.now(UTC) < deadline and not self._stop.is_set():
            answer = await self._call(path, result)
            if answer is not None:
                return  # 200 taken, 410 the hub stopped waiting: either way it is done
        self.host.audit.append(
            "agent.answer_undelivered", job_id=result.job_id, status=result.status
        )

    async def _heartbeats(self) -> None:
        while not self._stop.is_set():
            report = await asyncio.to_thread(self.host.health)
            beat = wire.Heartbeat(
                version=host_version(),
                plugin=self.host.plugin.name,
                erp_reachable=report.erp_reachable,
                erp_problem=report.erp_error,
                jobs_pending=report.queue_depth,
                oldest_pending_seconds=report.oldest_pending_seconds or 0.0,
                certificate_expires=report.certificate_expires,
                audit=await asyncio.to_thread(self._audit_anchor),
            )
            answer = await self._call(wire.heartbeat_path(self.settings.agent_id), beat)
            if answer is not None and answer.status == 200:
                self._audit_held = wire.HeartbeatAck.model_validate(answer.body).audit_count
            await self._pause(self.settings.heartbeat_seconds)

    def _audit_anchor(self) -> wire.AuditAnchor:
        """The audit head for the hub to keep, with the MAC of the record the hub holds."""
        anchor = self.host.audit.anchor()
        held = self._audit_held
        return wire.AuditAnchor(
            count=anchor.count,
            mac=anchor.mac,
            held_count=held,
            held_mac=self.host.audit.mac_at(held) if held else "",
        )

    # the hub's reachability -----------------------------------------------------------------
    async def _hub_failed(self, error: Exception) -> None:
        state = self._state
        state.failures += 1
        if state.reachable:
            state.reachable = False
            self.host.audit.append(
                "agent.hub_unreachable", hub=self.settings.hub_url, error=str(error)[:500]
            )
        wait = min(self.settings.poll_seconds * 2 ** min(state.failures, 10), MAX_BACKOFF_SECONDS)
        await self._pause(wait * (1 + random.random() * 0.2))

    def _hub_back(self) -> None:
        state = self._state
        if not state.reachable:
            self.host.audit.append("agent.hub_reachable", hub=self.settings.hub_url)
        state.reachable, state.failures = True, 0

    async def _pause(self, seconds: float) -> None:
        end = asyncio.get_running_loop().time() + seconds
        while not self._stop.is_set() and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(min(0.05, seconds))


def _message(answer: WireAnswer) -> str:
    error: Any = answer.body.get("error", {})
    return str(error.get("message", "")) if isinstance(error, dict) else str(answer.body)[:300]
