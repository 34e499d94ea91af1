"""Reaching a FinancialHost that runs in outbound agent mode: no connection goes to the
customer's server; the connector's signed requests wait in the hub's relay until the host (the
agent) fetches them, and its signed answers come back the same way (:mod:`ledgerlink.wire.relay`).

:class:`RelayTransport` is an httpx transport, so the connector and its signing client work
unchanged: a request goes in, the host's answer comes out. When no answer comes in time the
transport says what happened in httpx's own terms, which the connector's error table already
classifies: the agent never took the request → :class:`httpx2.ConnectError` (not sent, safe
to retry); the agent took it but its answer did not come → :class:`httpx2.ReadTimeout` (a write
may have taken effect: the connector looks it up before any retry).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx2

from ledgerlink.wire.relay import encode_body
from ledgerlink.wire.signing import WINDOW_SECONDS

#: Headers the host needs of a relayed request (the signature's among them).
_FORWARDED = ("content-type", "user-agent")
#: A relayed request must reach the host well inside the signature window.
_MAX_TRAVEL = timedelta(seconds=WINDOW_SECONDS - 60)


class RelayJobState(Protocol):
    @property
    def state(self) -> str: ...

    @property
    def response(self) -> dict[str, Any] | None: ...


class RelayQueue(Protocol):
    """The hub's relay as the connector needs it (implemented by the store)."""

    def submit(self, agent_id: str, request: dict[str, Any], *, deadline: datetime) -> str: ...

    def outcome(self, job_id: str) -> RelayJobState: ...

    def abandon(self, job_id: str) -> RelayJobState: ...

    def agent(self, agent_id: str) -> Any: ...


class AuditAnchors(Protocol):
    """The audit anchors the hub keeps for hosts it calls directly (implemented by the store;
    agents' come with their heartbeat)."""

    def held(self, host: str) -> int | None: ...

    def keep(
        self, host: str, *, count: int, mac: str, held_count: int | None, held_mac: str
    ) -> str: ...


def _last_seen(relay: RelayQueue, agent_id: str) -> str:
    seen = relay.agent(agent_id)
    moment: datetime | None = getattr(seen, "last_seen", None)
    if moment is None:
        return "it has never called the hub"
    return f"it last called the hub at {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


class RelayTransport(httpx2.BaseTransport):
    """Sends each request through the relay to agent ``agent_id`` and waits for the answer
    (polling every ``poll_seconds``, for the request's read timeout)."""

    def __init__(
        self,
        relay: RelayQueue,
        agent_id: str,
        *,
        poll_seconds: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._relay = relay
        self._agent_id = agent_id
        self._poll = poll_seconds
        self._sleep = sleep
        self._clock = clock

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        timeout = request.extensions.get("timeout", {}).get("read") or 60.0
        body = request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower().startswith("x-fh-") or k.lower() in _FORWARDED
        }
        wait = timedelta(seconds=float(timeout))
        job_id = self._relay.submit(
            self._agent_id,
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query.decode("ascii"),
                "headers": headers,
                "body_b64": encode_body(body),
            },
            deadline=datetime.now(UTC) + min(wait, _MAX_TRAVEL),
        )
        ends = self._clock() + float(timeout)
        while True:
            outcome = self._relay.outcome(job_id)
            if outcome.response is not None:
                return _response(outcome.response, request)
            if self._clock() >= ends:
                break
            self._sleep(self._poll)
        last = self._relay.abandon(job_id)
        if last.response is not None:  # the answer came while we gave up
            return _response(last.response, request)
        if last.state == "pending":
            raise httpx2.ConnectError(
                f"FinancialHost agent '{self._agent_id}' did not fetch the request within "
                f"{float(timeout):g} s ({_last_seen(self._relay, self._agent_id)})",
                request=request,
            )
        raise httpx2.ReadTimeout(
            f"FinancialHost agent '{self._agent_id}' fetched the request but its answer did not "
            f"come back within {float(timeout):g} s",
            request=request,
        )


def _response(answer: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(
        int(answer["status"]),
        headers=dict(answer.get("headers", {})),
        content=base64.b64decode(answer.get("body_b64", "")),
        request=request,
    )
