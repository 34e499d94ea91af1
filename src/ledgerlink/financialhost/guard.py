"""The host's front door, as ASGI middleware: every request passes here before any route runs.

In order: the caller's address must be on the allow-list, and a host in agent mode takes
operations only through the agent (403); the body must fit the size limit
(413); the request must carry a valid signature from a known key inside the time window (401);
its nonce and transaction id must be new (401); the operation must be on this host's allow-list
(403). Each refusal is answered with the wire error body and written to the audit log; a refused
request never reaches a route, so it can have no ERP side effect. Answers to signed requests
are signed in turn. ERP callbacks have their own door: loopback (or ``callback_allowed_ips``)
and the callback secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.wire import callback
from ledgerlink.wire.operations import ErrorBody, ErrorCode, WireError
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


@dataclass(frozen=True, slots=True)
class Refusal(Exception):
    status: int
    code: ErrorCode
    reason: str
    message: str


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


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
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
    return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


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
    ) -> None:
        self._app = app
        self._settings = settings
        self._keys = keys
        self._callback_secrets = callback_secrets
        self._replay = replay
        self._audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        relayed = bool(scope.get(RELAYED))
        client = scope.get("client")
        address = RELAY_ADDRESS if relayed else (client[0] if client else "")
        headers = _headers(scope)
        signed: SignedRequest | None = None
        try:
            if path == callback.PATH:
                body = await self._callback(address, headers, receive)
            else:
                if not relayed:
                    self._check_inbound(address, path)
                body = await _read_body(receive, self._settings.max_body_bytes)
                if path not in OPEN_PATHS:
                    signed = self._authenticate(method, path, scope, headers, body)
                    self._check_operation(path)
        except Refusal as refusal:
            await self._refuse(
                send, refusal, address=address, method=method, path=path, headers=headers
            )
            return

        await self._forward(scope, body=body, send=send, signed=signed, address=address, path=path)

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

    async def _callback(self, address: str, headers: dict[str, str], receive: Receive) -> bytes:
        self._check_address(address, for_callback=True)
        body = await _read_body(receive, self._settings.max_body_bytes)
        try:
            callback.verify_callback(headers=headers, body=body, secrets=self._callback_secrets())
        except SignatureRejected as rejected:
            raise Refusal(
                401, ErrorCode.UNAUTHENTICATED, rejected.reason, rejected.message
            ) from None
        return body

    def _authenticate(
        self, method: str, path: str, scope: Scope, headers: dict[str, str], body: bytes
    ) -> SignedRequest:
        now = datetime.now(UTC)
        try:
            signed = verify_request(
                method=method,
                path=path,
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
                keys=self._keys(),
                now=now,
                window_seconds=self._settings.window_seconds,
            )
            self._replay.remember(
                nonce=signed.nonce,
                transaction_id=signed.transaction_id,
                now=now,
                window=self._settings.window_seconds,
            )
        except SignatureRejected as rejected:
            raise Refusal(
                401, ErrorCode.UNAUTHENTICATED, rejected.reason, rejected.message
            ) from None
        return signed

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

    async def _refuse(
        self,
        send: Send,
        refusal: Refusal,
        *,
        address: str,
        method: str,
        path: str,
        headers: dict[str, str],
    ) -> None:
        self._audit.append(
            "request.refused",
            address=address,
            method=method,
            path=path[:200],
            status=refusal.status,
            reason=refusal.reason,
            key_id=headers.get(H_KEY_ID.lower(), "")[:64],
            transaction_id=headers.get(H_TRANSACTION.lower(), "")[:128],
        )
        body = (
            ErrorBody(error=WireError(code=refusal.code, message=refusal.message))
            .model_dump_json()
            .encode()
        )
        await send(
            {
                "type": "http.response.start",
                "status": refusal.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _forward(
        self,
        scope: Scope,
        *,
        body: bytes,
        send: Send,
        signed: SignedRequest | None,
        address: str,
        path: str,
    ) -> None:
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        if signed is None:
            await self._app(scope, replay_body, send)
            return

        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, replay_body, capture)
        answer = b"".join(chunks)
        status = int(start.get("status", 500))
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
        self._audit.append(
            "request",
            address=address,
            operation=path.removeprefix(OPS_PREFIX),
            key_id=signed.key_id,
            transaction_id=signed.transaction_id,
            request_digest=body_digest(body),
            status=status,
            answer_digest=body_digest(answer),
        )
