"""The hub's relay endpoint for FinancialHost agents (:mod:`ledgerlink.wire.relay`).

Every call must be signed by the agent with its enrolled key, inside the signature window and
with a new nonce; anything else gets 401 and is logged. Answers are signed in turn, so the
agent knows the jobs it runs came from this hub. A lease is held open until a job arrives or
the agent's ``wait_seconds`` pass.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from ledgerlink.store.relay import RelayStore
from ledgerlink.wire import relay as wire
from ledgerlink.wire.operations import ErrorBody, ErrorCode, WireError
from ledgerlink.wire.signing import (
    SignatureRejected,
    SignedRequest,
    SigningKey,
    sign_response,
    verify_request,
)

log = structlog.get_logger("ledgerlink.relay")
_M = TypeVar("_M", bound=BaseModel)
#: How often old relay jobs are removed (by whichever process serves a lease).
PURGE_EVERY_SECONDS = 600.0
#: Larger agent calls are refused (a result carries one host answer: far below this).
MAX_BODY_BYTES = 16 * 1024 * 1024
#: How often a held lease looks for new jobs.
LEASE_POLL_SECONDS = 0.05


def _error(status: int, code: ErrorCode, message: str) -> Response:
    body = ErrorBody(error=WireError(code=code, message=message)).model_dump_json()
    return Response(body, status_code=status, media_type="application/json")


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class _Relay:
    """The endpoint's handlers (see :func:`relay_router`)."""

    def __init__(
        self, relay: RelayStore, keys: Callable[[str], list[SigningKey]], window_seconds: int
    ) -> None:
        self._relay = relay
        self._keys = keys
        self._window = window_seconds
        self._purged = 0.0

    async def _authenticate(self, request: Request, agent_id: str) -> tuple[SignedRequest, bytes]:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise _Refused(_error(413, ErrorCode.TOO_LARGE, "The body is over the relay's limit."))
        agent_keys = await run_in_threadpool(self._keys, agent_id)
        try:
            if not agent_keys:
                raise SignatureRejected("unknown_agent", f"No agent '{agent_id}' is enrolled.")
            signed = verify_request(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                keys=agent_keys,
                now=datetime.now(UTC),
                window_seconds=self._window,
            )
            fresh = await run_in_threadpool(
                self._relay.remember_nonce,
                signed.nonce,
                keep_for=timedelta(seconds=2 * self._window),
            )
            if not fresh:
                raise SignatureRejected("replayed_nonce", "This nonce was used already.")
        except SignatureRejected as rejected:
            log.warning(
                "agent request refused",
                agent_id=agent_id,
                path=request.url.path,
                reason=rejected.reason,
                address=request.client.host if request.client else "",
            )
            raise _Refused(_error(401, ErrorCode.UNAUTHENTICATED, rejected.message)) from None
        await run_in_threadpool(self._relay.seen, agent_id)
        return signed, body

    async def _signed(
        self, agent_id: str, status: int, model: BaseModel, signed: SignedRequest
    ) -> Response:
        body = model.model_dump_json().encode()
        agent_keys = await run_in_threadpool(self._keys, agent_id)
        key = next(k for k in agent_keys if k.key_id == signed.key_id)
        headers = sign_response(
            status=status, transaction_id=signed.transaction_id, body=body, key=key
        )
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    async def _accept(
        self, request: Request, agent_id: str, model: type[_M]
    ) -> tuple[SignedRequest, _M]:
        """The authenticated call and its body as ``model``; raises :class:`_Refused`."""
        signed, body = await self._authenticate(request, agent_id)
        try:
            return signed, model.model_validate_json(body or b"{}")
        except ValidationError as error:
            raise _Refused(_error(422, ErrorCode.INVALID, str(error))) from None

    async def lease(self, agent_id: str, request: Request) -> Response:
        """Hand out pending jobs, holding the call open up to ``wait_seconds`` for one."""
        try:
            signed, asked = await self._accept(request, agent_id, wire.LeaseRequest)
        except _Refused as refused:
            return refused.response
        if time.monotonic() - self._purged > PURGE_EVERY_SECONDS:
            self._purged = time.monotonic()
            await run_in_threadpool(self._relay.purge)
        ends = time.monotonic() + asked.wait_seconds
        while True:
            leased = await run_in_threadpool(self._relay.lease, agent_id, limit=asked.max_jobs)
            if leased or time.monotonic() >= ends or await request.is_disconnected():
                break
            await asyncio.sleep(LEASE_POLL_SECONDS)
        jobs = [
            wire.RelayJob(
                job_id=job.job_id,
                method=job.request["method"],
                path=job.request["path"],
                query=job.request.get("query", ""),
                headers=job.request["headers"],
                body_b64=job.request["body_b64"],
                deadline=job.deadline,
            )
            for job in leased
        ]
        return await self._signed(agent_id, 200, wire.LeaseAnswer(jobs=jobs), signed)

    async def results(self, agent_id: str, request: Request) -> Response:
        """Take the host's answer to a job (410 when its caller stopped waiting)."""
        try:
            signed, result = await self._accept(request, agent_id, wire.RelayResult)
        except _Refused as refused:
            return refused.response
        accepted = await run_in_threadpool(
            self._relay.answer,
            agent_id,
            result.job_id,
            {"status": result.status, "headers": result.headers, "body_b64": result.body_b64},
        )
        ack = wire.ResultAck(accepted=accepted)
        return await self._signed(agent_id, 200 if accepted else 410, ack, signed)

    async def heartbeat(self, agent_id: str, request: Request) -> Response:
        """Record what the agent reports about itself."""
        try:
            signed, beat = await self._accept(request, agent_id, wire.Heartbeat)
        except _Refused as refused:
            return refused.response
        await run_in_threadpool(self._relay.seen, agent_id, heartbeat=beat.model_dump(mode="json"))
        held = None
        if beat.audit is not None:
            held = await run_in_threadpool(
                self._relay.keep_audit, agent_id, **beat.audit.model_dump()
            )
        ack = wire.HeartbeatAck(received_at=datetime.now(UTC), audit_count=held)
        return await self._signed(agent_id, 200, ack, signed)


def relay_router(
    relay: RelayStore,
    keys: Callable[[str], list[SigningKey]],
    *,
    window_seconds: int = 300,
) -> APIRouter:
    """Routes under ``/agent/v1``; ``keys(agent_id)`` gives an enrolled agent's keys."""
    handlers = _Relay(relay, keys, window_seconds)
    router = APIRouter(prefix=wire.PREFIX)
    router.add_api_route("/{agent_id}/lease", handlers.lease, methods=["POST"])
    router.add_api_route("/{agent_id}/results", handlers.results, methods=["POST"])
    router.add_api_route("/{agent_id}/heartbeat", handlers.heartbeat, methods=["POST"])
    return router
