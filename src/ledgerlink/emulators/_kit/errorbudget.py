"""An error budget: a client that makes too many failing calls is blocked for a while.

:class:`ErrorBudget` counts the answers with a counted status (e.g. 400, 401, 403, 404) per
key — whose budget it is, as the ERP counts: app, user, company, endpoint — in a sliding
window; once more than ``max_errors`` fall in ``seconds``, the key is blocked for
``block_seconds`` and every request of it gets ``429`` without reaching the app.
:class:`ErrorBudgetMiddleware` puts it in front of an app; requests without a key (the admin
routes, calls without a token) are not counted. The clock (epoch seconds) is injectable.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ErrorBudget", "ErrorBudgetMiddleware"]


class ErrorBudget:
    """Per key: the times of its recent errors and until when it is blocked (thread-safe)."""

    def __init__(
        self,
        *,
        max_errors: int,
        seconds: float,
        block_seconds: float,
        statuses: Collection[int] = (400, 401, 403, 404),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_errors = max_errors
        self.seconds = seconds
        self.block_seconds = block_seconds
        self.statuses = frozenset(statuses)
        self._clock = clock
        self._lock = threading.Lock()
        self._errors: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}

    def blocked_until(self, key: str) -> float | None:
        """When the block of ``key`` ends, or ``None`` when it is not blocked."""
        with self._lock:
            until = self._blocked.get(key)
            if until is not None and until <= self._clock():
                del self._blocked[key]
                return None
            return until

    def record(self, key: str, status: int) -> None:
        """Count an answer of ``status`` to ``key``; block the key when it is over budget."""
        if status not in self.statuses:
            return
        with self._lock:
            now = self._clock()
            errors = self._errors.setdefault(key, deque())
            errors.append(now)
            while errors and errors[0] <= now - self.seconds:
                errors.popleft()
            if len(errors) > self.max_errors:
                self._blocked[key] = now + self.block_seconds
                errors.clear()

    def reset(self) -> None:
        """Forget every count and block."""
        with self._lock:
            self._errors.clear()
            self._blocked.clear()


class ErrorBudgetMiddleware:
    """ASGI middleware applying an :class:`ErrorBudget`: ``key(scope)`` names the budget
    (``None``: not counted); ``body(until)`` is the JSON of the 429 while blocked."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        budget: ErrorBudget,
        key: Callable[[Scope], str | None],
        body: Callable[[float], Mapping[str, Any]],
    ) -> None:
        self.app = app
        self.budget = budget
        self.key = key
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.key(scope) if scope["type"] == "http" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        until = self.budget.blocked_until(key)
        if until is not None:
            payload = json.dumps(self.body(until)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.budget.record(key, int(message["status"]))
            await send(message)

        await self.app(scope, receive, counting)
