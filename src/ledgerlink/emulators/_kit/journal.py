"""A request journal: what was called, with which body, and how the emulator answered."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JournalEntry", "JournalMiddleware", "RequestJournal"]

ADMIN_PREFIX = "/_emulator"


@dataclass(frozen=True)
class JournalEntry:
    """One request: ``body`` is the parsed JSON (or the text, or ``None`` when empty).

    ``status`` is the status the application answered (``None`` if it never answered);
    ``dropped`` is true when the connection was aborted by an injected fault.
    """

    method: str
    path: str
    query: str
    body: Any
    status: int | None
    dropped: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (the admin route's format)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "dropped": self.dropped,
        }


class RequestJournal:
    """Thread-safe, append-only (until cleared) list of :class:`JournalEntry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    @property
    def entries(self) -> list[JournalEntry]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def record(self, entry: JournalEntry) -> None:
        """Append ``entry``."""
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many entries match ``method`` (any if ``None``) and start with ``path_prefix``."""
        wanted = method.upper() if method else None
        return sum(
            1
            for entry in self.entries
            if (wanted is None or entry.method == wanted) and entry.path.startswith(path_prefix)
        )


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class JournalMiddleware:
    """ASGI middleware recording every non-admin HTTP request in a :class:`RequestJournal`."""

    def __init__(self, app: ASGIApp, *, journal: RequestJournal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        status: int | None = None
        recorded = False

        def record(*, dropped: bool) -> None:
            nonlocal recorded
            recorded = True
            self.journal.record(
                JournalEntry(
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    body=_decode(b"".join(chunks)),
                    status=status,
                    dropped=dropped,
                )
            )

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Record before the client can read the end of the answer, so a client that
                # has its answer always finds its request in the journal.
                record(dropped=False)
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        except Exception:
            if not recorded:
                record(dropped=True)
            raise
        finally:
            if not recorded:
                record(dropped=False)
