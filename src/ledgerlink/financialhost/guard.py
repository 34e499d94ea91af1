"""The host's front door, as ASGI middleware: every request passes here before any route runs.

In order: an address refused ``refusal_limit`` times in the current interval is answered 429
until the interval ends; the caller's address must be on the allow-list, and a host in agent
mode takes operations only through the agent (403); the body must fit the size limit (413)
and arrive within ``body_timeout_seconds`` (408); the request must carry a valid signature
from a known key inside the time window (401); the operation must be on this host's allow-list
(403); the body must be UTF-8 (422); at most ``max_in_flight`` signed requests run at once
(503 with Retry-After, so a slow ERP cannot pile up requests); its nonce and transaction id
must be new (401). Each refusal is answered with the wire error body and audited; a refused
request never reaches a route, so it can have no ERP side effect. Answers to signed requests
are signed in turn, after their audit record is written. ERP callbacks have their own door:
loopback (or ``callback_allowed_ips``), the callback secret, and a body that is a change batch.

The caller's address is the TCP peer's. ``X-Forwarded-For`` is read only from a proxy named in
``trusted_proxies``; the audit log records the peer as ``address`` and the header only as
``forwarded_for``. Audit and nonce writes (SQLite, fsync'd) run on worker threads, never on the
event loop.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.wire import callback
from ledgerlink.wire.operations import ErrorBody, ErrorCode, FieldProblem, WireError
from ledgerlink.wire.signing import (
    H_KEY_ID,
    H_TRANSACTION,
    SignatureRejected,
    SignedRequest,
    SigningKey,
    body_digest,
    sign_response,
    verify_request,
)

OPS_PREFIX = "/v1/ops/"
#: Scope key the agent sets on requests the hub's relay delivered (never set by a server).
RELAYED = "ledgerlink.relayed"
#: How relayed requests are named in the audit log.
RELAY_ADDRESS = "hub-relay"
OPEN_PATHS = frozenset({"/health", "/openapi.json"})
REFUSED = "request.refused"
#: What a caller is asked to wait when ``max_in_flight`` requests are running.
BUSY_RETRY_SECONDS = 5
#: Refusals that say "wait", not "wrong": they do not count toward an address's limit.
_NOT_COUNTED = frozenset({"rate_limited", "busy"})
#: Addresses tracked at once; past that, new ones are tallied together as "*".
_MAX_TRACKED = 10_000


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    status: int
    code: ErrorCode
    reason: str
    message: str
    retry_after: int | None = None
    field_errors: tuple[FieldProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a request. ``peer``: the TCP peer (or the hub relay); ``address``: what the
    allow-lists check (the peer, or the client a trusted proxy names); ``forwarded_for``: the
    ``X-Forwarded-For`` header as sent, trusted or not."""

    peer: str
    address: str
    forwarded_for: str = ""

    def audit_fields(self) -> dict[str, str]:
        fields = {"address": self.peer}
        if self.forwarded_for:
            fields["forwarded_for"] = self.forwarded_for[:200]
        return fields


def caller_of(scope: Scope, headers: Mapping[str, str], settings: HostSettings) -> Caller:
    if scope.get(RELAYED):
        return Caller(RELAY_ADDRESS, RELAY_ADDRESS)
    client = scope.get("client")
    peer = client[0] if client else ""
    forwarded = headers.get("x-forwarded-for", "")
    if not (forwarded and settings.trusts_proxy(peer)):
        return Caller(peer, peer, forwarded)
    # The nearest hop that is not one of our proxies is the client; hops left of it were
    # written by the client itself and prove nothing.
    hops = [hop.strip() for hop in forwarded.split(",")]
    address = next((hop for hop in reversed(hops) if not settings.trusts_proxy(hop)), hops[0])
    return Caller(peer, address, forwarded)


@dataclass(slots=True)
class _Tally:
    """Refusals of one address for one reason in one interval, after the first."""

    started: float
    count: int = 0
    first_at: str = ""
    last_at: str = ""
    fields: Mapping[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        return {
            **(self.fields or {}),
            "count": self.count,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }


class RefusalLog:
    """Refused requests: rate-limited per address and aggregated in the audit log.

    The first refusal of an address for a reason is written at once (``count`` 1); the others
    within ``interval`` seconds are counted and written as one record with their ``count`` when
    the interval ends, so a flood of 1,000 makes two records, not 1,000. After ``limit``
    refusals in an interval an address is answered 429 until the interval ends. ``observer``
    (the alerter) hears of every refusal as it happens.
    """

    def __init__(
        self,
        audit: AuditLog,
        *,
        limit: int,
        interval: float,
        observer: Callable[[str, Mapping[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self._limit = limit
        self._interval = interval
        self._observer = observer
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` is heard again, while it is over the limit."""
        now = self._clock()
        with self._lock:
            started, count = self._windows.get(address, (now, 0))
        left = started + self._interval - now
        return max(1, math.ceil(left)) if count >= self._limit and left > 0 else None

    def refused(self, address: str, reason: str, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Count one refusal; return the records to write now (the first of its address and
        reason in this interval, and the count of that pair's ended interval)."""
        now, at = self._clock(), datetime.now(UTC).isoformat()
        if self._observer is not None:
            self._observer(REFUSED, fields)
        with self._lock:
            if reason not in _NOT_COUNTED:
                if address not in self._windows and len(self._windows) >= _MAX_TRACKED:
                    address = "*"
                started, count = self._windows.get(address, (now, 0))
                if now - started >= self._interval:
                    started, count = now, 0
                self._windows[address] = (started, count + 1)
            key = (address, reason)
            if key not in self._tallies and len(self._tallies) >= _MAX_TRACKED:
                key = ("*", reason)
            tally = self._tallies.get(key)
            if tally is not None and now - tally.started < self._interval:
                tally.count += 1
                tally.first_at = tally.first_at or at
                tally.last_at, tally.fields = at, fields
                return []
            self._tallies[key] = _Tally(started=now)
        ended = [tally.record()] if tally is not None and tally.count else []
        return [*ended, {**fields, "count": 1}]

    def write(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self._audit.append(REFUSED, **record)

    def flush(self, *, everything: bool = False) -> None:
        """Write the counts of ended intervals (of all, when ``everything``); forget addresses
        whose interval ended."""
        now = self._clock()
        with self._lock:
            ended = [
                key
                for key, tally in self._tallies.items()
                if everything or now - tally.started >= self._interval
            ]
            tallies = [self._tallies.pop(key) for key in ended]
            self._windows = {
                address: window
                for address, window in self._windows.items()
                if now - window[0] < self._interval
            }
        self.write([tally.record() for tally in tallies if tally.count])

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._sweep, name="refusal-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush(everything=True)

    def _sweep(self) -> None:
        while not self._stop.wait(min(1.0, self._interval)):
            self.flush()


class ReplayGuard:
    """Remembers nonces for the signature window and transaction ids for good."""

    def __init__(self, database: HostDatabase) -> None:
        self._db = database

    def remember(self, *, nonce: str, transaction_id: str, now: datetime, window: int) -> None:
        stamp = now.timestamp()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM seen_nonces WHERE expires_at < ?", (stamp,))
            if conn.execute("SELECT 1 FROM seen_nonces WHERE nonce = ?", (nonce,)).fetchone():
                raise SignatureRejected(
                    "replayed_nonce", "This nonce was used already: the request is a replay."
                )
            if conn.execute(
                "SELECT 1 FROM seen_transactions WHERE transaction_id = ?", (transaction_id,)
            ).fetchone():
                raise SignatureRejected(
                    "reused_transaction",
                    f"The transaction id {transaction_id} was used already; every request "
                    "needs a new one.",
                )
            # A nonce is kept past the window on both sides (clock skew either way).
            conn.execute(
                "INSERT INTO seen_nonces (nonce, expires_at) VALUES (?, ?)",
                (nonce, stamp + 2 * window),
            )
            conn.execute(
                "INSERT INTO seen_transactions (transaction_id, seen_at) VALUES (?, ?)",
                (transaction_id, now.isoformat()),
            )


async def _read_body(receive: Receive, limit: int, timeout: float) -> bytes:
    chunks, size = [], 0
    with anyio.move_on_after(timeout) as deadline:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refusal(
                    413,
                    ErrorCode.TOO_LARGE,
                    "too_large",
                    f"The body is over this host's limit of {limit} bytes.",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
    if deadline.cancelled_caught:
        raise Refusal(
            408,
            ErrorCode.TIMEOUT,
            "slow_body",
            f"The body did not arrive within {timeout:g} s; send it again at once.",
        )
    return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    """Header names in lower case; a repeated header's values joined by commas."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


def _not_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


class Guard:
    """ASGI middleware enforcing the rules in the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: HostSettings,
        keys: Callable[[], list[SigningKey]],
        callback_secrets: Callable[[], Mapping[str, str]],
        replay: ReplayGuard,
        audit: AuditLog,
        observer: Callable[[str, Mapping[str, Any]], None] | None = None,
    ) -> None:
        self._app = app
        self._settings = settings
        self._keys = keys
        self._callback_secrets = callback_secrets
        self._replay = replay
        self._audit = audit
        self.refusals = RefusalLog(
            audit,
            limit=settings.refusal_limit,
            interval=settings.refusal_interval_seconds,
            observer=observer,
        )
        self._in_flight = 0

    def start(self) -> None:
        self.refusals.start()

    def stop(self) -> None:
        self.refusals.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        headers = _headers(scope)
        caller = caller_of(scope, headers, self._settings)
        signed: SignedRequest | None = None
        try:
            wait = None if scope.get(RELAYED) else self.refusals.retry_after(caller.address)
            if wait is not None:
                raise Refusal(
                    429,
                    ErrorCode.RATE_LIMITED,
                    "rate_limited",
                    f"Too many refused requests from {caller.address}; try again in {wait} s.",
                    retry_after=wait,
                )
            if path == callback.PATH:
                body = await self._callback(caller, headers, receive)
            else:
                if not scope.get(RELAYED):
                    self._check_inbound(caller.address, path)
                body = await self._body(receive)
                if path not in OPEN_PATHS:
                    signed = self._authenticate(method, path, scope, headers, body)
                    self._check_operation(path)
                    if _not_utf8(body):
                        raise Refusal(
                            422, ErrorCode.INVALID, "not_utf8", "The body is not UTF-8 JSON."
                        )
                    self._take_slot()
        except Refusal as refusal:
            await self._refuse(
                send, refusal, caller=caller, method=method, path=path, headers=headers
            )
            return

        if signed is None:
            await self._app(scope, _replay(body), send)
            return
        try:  # the slot taken above is given back however this ends
            await self._remember(signed)
            await self._forward(
                scope, body=body, send=send, signed=signed, caller=caller, path=path
            )
        except Refusal as refusal:
            await self._refuse(
                send, refusal, caller=caller, method=method, path=path, headers=headers
            )
        finally:
            self._in_flight -= 1

    async def _body(self, receive: Receive) -> bytes:
        s = self._settings
        return await _read_body(receive, s.max_body_bytes, s.body_timeout_seconds)

    def _check_inbound(self, address: str, path: str) -> None:
        self._check_address(address)
        if self._settings.mode == "agent" and path not in OPEN_PATHS:
            raise Refusal(
                403,
                ErrorCode.FORBIDDEN,
                "agent_mode",
                "This host runs in agent mode: it takes operations only from the hub it calls.",
            )

    def _check_address(self, address: str, *, for_callback: bool = False) -> None:
        if not self._settings.allows(address, callback=for_callback):
            raise Refusal(
                403,
                ErrorCode.FORBIDDEN,
                "address_not_allowed",
                f"The address {address} is not on this host's allow-list.",
            )

    async def _callback(self, caller: Caller, headers: dict[str, str], receive: Receive) -> bytes:
        self._check_address(caller.address, for_callback=True)
        body = await self._body(receive)
        try:
            callback.verify_callback(headers=headers, body=body, secrets=self._callback_secrets())
        except SignatureRejected as rejected:
            raise Refusal(
                401, ErrorCode.UNAUTHENTICATED, rejected.reason, rejected.message
            ) from None
        try:
            callback.CallbackBatch.model_validate_json(body)
        except ValidationError as invalid:
            raise Refusal(
                422,
                ErrorCode.INVALID,
                "invalid_body",
                "The callback body is not a batch of changes.",
                field_errors=tuple(
                    FieldProblem(
                        path=".".join(str(p) for p in e["loc"]),
                        message=e["msg"][:200],
                        code=e["type"],
                    )
                    for e in invalid.errors()[:50]
                ),
            ) from None
        return body

    def _authenticate(
        self, method: str, path: str, scope: Scope, headers: dict[str, str], body: bytes
    ) -> SignedRequest:
        try:
            return verify_request(
                method=method,
                path=path,
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
                keys=self._keys(),
                now=datetime.now(UTC),
                window_seconds=self._settings.window_seconds,
            )
        except SignatureRejected as rejected:
            raise Refusal(
                401, ErrorCode.UNAUTHENTICATED, rejected.reason, rejected.message
            ) from None

    def _check_operation(self, path: str) -> None:
        name = path.removeprefix(OPS_PREFIX) if path.startswith(OPS_PREFIX) else ""
        if name not in self._settings.allowed_operations:
            raise Refusal(
                403,
                ErrorCode.FORBIDDEN,
                "operation_not_allowed",
                f"'{name or path}' is not an operation this host executes. Allowed: "
                f"{', '.join(self._settings.allowed_operations)}.",
            )

    def _take_slot(self) -> None:
        """Count one more signed request in progress, or refuse it while the ERP is saturated
        (its nonce is not spent: the same signed request may be sent again)."""
        limit = self._settings.max_in_flight
        if self._in_flight >= limit:
            raise Refusal(
                503,
                ErrorCode.ERP_UNAVAILABLE,
                "busy",
                f"The ERP is busy with {limit} requests; try again in {BUSY_RETRY_SECONDS} s.",
                retry_after=BUSY_RETRY_SECONDS,
            )
        self._in_flight += 1

    async def _remember(self, signed: SignedRequest) -> None:
        remember = partial(
            self._replay.remember,
            nonce=signed.nonce,
            transaction_id=signed.transaction_id,
            now=datetime.now(UTC),
            window=self._settings.window_seconds,
        )
        try:
            await anyio.to_thread.run_sync(remember)
        except SignatureRejected as rejected:
            raise Refusal(
                401, ErrorCode.UNAUTHENTICATED, rejected.reason, rejected.message
            ) from None

    async def _refuse(
        self,
        send: Send,
        refusal: Refusal,
        *,
        caller: Caller,
        method: str,
        path: str,
        headers: dict[str, str],
    ) -> None:
        records = self.refusals.refused(
            caller.address,
            refusal.reason,
            {
                **caller.audit_fields(),
                "method": method,
                "path": path[:200],
                "status": refusal.status,
                "reason": refusal.reason,
                "key_id": headers.get(H_KEY_ID.lower(), "")[:64],
                "transaction_id": headers.get(H_TRANSACTION.lower(), "")[:128],
            },
        )
        if records:
            await anyio.to_thread.run_sync(self.refusals.write, records)
        error = WireError(
            code=refusal.code, message=refusal.message, field_errors=refusal.field_errors
        )
        body = ErrorBody(error=error).model_dump_json().encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if refusal.retry_after is not None:
            response_headers.append((b"retry-after", str(refusal.retry_after).encode()))
        await send(
            {"type": "http.response.start", "status": refusal.status, "headers": response_headers}
        )
        await send({"type": "http.response.body", "body": body})

    async def _forward(
        self,
        scope: Scope,
        *,
        body: bytes,
        send: Send,
        signed: SignedRequest,
        caller: Caller,
        path: str,
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, _replay(body), capture)
        answer = b"".join(chunks)
        status = int(start.get("status", 500))
        await anyio.to_thread.run_sync(
            partial(
                self._audit.append,
                "request",
                **caller.audit_fields(),
                operation=path.removeprefix(OPS_PREFIX),
                key_id=signed.key_id,
                transaction_id=signed.transaction_id,
                request_digest=body_digest(body),
                status=status,
                answer_digest=body_digest(answer),
            )
        )
        key = next(k for k in self._keys() if k.key_id == signed.key_id)
        signature = sign_response(
            status=status, transaction_id=signed.transaction_id, body=answer, key=key
        )
        response_headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
        ]
        response_headers += [(k.lower().encode(), v.encode()) for k, v in signature.items()]
        response_headers.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": answer})


def _replay(body: bytes) -> Receive:
    """A ``receive`` that hands the app the body the guard read, then a disconnect."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
