"""Rate-limit windows for emulators: the ERP's real limits, per token, with its real signals.

:class:`RateLimits` holds the windows (sliding: at most N in any P seconds; fixed: N per
period, reset at a boundary) and counts per token; :class:`RateLimitMiddleware` puts them in
front of any Starlette/FastAPI app (``app.add_middleware(RateLimitMiddleware, limits=...,
token=...)``) and answers 429 when a request does not fit. A refused request is not counted.

Signals are per window: a window with ``headers=None`` sends none (Fortnox: a bare 429); with
a prefix such as ``"X-RateLimit"`` or ``"X-RateLimit-Minutely"`` it sends ``<prefix>-Limit``,
``-Remaining`` and ``-Reset`` (epoch milliseconds, Exact Online) on every answer, and a 429
carries only the headers of the windows that refused it (Exact's minutely 429 has no daily
headers). ``retry_after=True`` adds ``Retry-After`` (whole seconds) to a 429.

This is a server: it keeps exact per-request timestamps for sliding windows (a deque per token),
as an ERP's counter would; the O(1) client-side math lives in the hub.
"""

from __future__ import annotations

import enum
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "Admission",
    "LimitKind",
    "LimitWindow",
    "RateLimitMiddleware",
    "RateLimits",
    "bearer_token",
    "header_token",
]

ADMIN_PREFIX = "/_emulator"


class LimitKind(enum.StrEnum):
    """How a window counts."""

    SLIDING = "sliding"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class LimitWindow:
    """At most ``max_calls`` per ``seconds`` per token, ``sliding`` or ``fixed`` (periods start
    at ``offset + k·seconds`` since the epoch); ``headers`` is the signal header prefix or
    ``None`` for no headers."""

    max_calls: int
    seconds: float
    kind: LimitKind = LimitKind.SLIDING
    headers: str | None = None
    offset: float = 0.0

    def __post_init__(self) -> None:
        if self.max_calls < 1 or self.seconds <= 0:
            raise ValueError("a window needs at least one call and a positive length")


@dataclass(slots=True)
class _Count:
    """One token's count in one window: admitted times (sliding) or period start and count."""

    times: deque[float] = field(default_factory=deque)
    period_start: float = -math.inf
    count: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict on one request: admitted or not, and the headers to answer with."""

    admitted: bool
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: float | None = None


class RateLimits:
    """Windows and per-token counts; thread-safe; the clock (epoch seconds) is injectable."""

    def __init__(
        self,
        windows: Sequence[LimitWindow],
        *,
        retry_after: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.windows = tuple(windows)
        self.retry_after = retry_after
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], _Count] = {}
        self.admitted = 0
        self.refused = 0

    def admit(self, token: str) -> Admission:
        """Count one request of ``token`` if every window has room; else refuse it."""
        with self._lock:
            now = self._clock()
            counts = [self._count(token, i, window, now) for i, window in enumerate(self.windows)]
            full = [
                i for i, (w, c) in enumerate(zip(self.windows, counts, strict=True))
                if self._used(w, c) >= w.max_calls
            ]  # fmt: skip
            if full:
                self.refused += 1
                shown = full
                waits = [self._reset(self.windows[i], counts[i], now) - now for i in full]
                wait = max(waits)
            else:
                self.admitted += 1
                for window, count in zip(self.windows, counts, strict=True):
                    if window.kind is LimitKind.SLIDING:
                        count.times.append(now)
                    else:
                        count.count += 1
                shown = list(range(len(self.windows)))
                wait = 0.0
            headers = tuple(
                header for i in shown for header in self._headers(self.windows[i], counts[i], now)
            )
            if full and self.retry_after:
                headers += (("Retry-After", str(max(1, math.ceil(wait)))),)
            return Admission(not full, headers, wait if full else None)

    def configure(self, windows: Sequence[LimitWindow], *, retry_after: bool) -> None:
        """Replace the windows (an administrator changing the limits); counts start over."""
        with self._lock:
            self.windows = tuple(windows)
            self.retry_after = retry_after
            self._counts.clear()

    def reset_counts(self) -> None:
        """Forget every token's count (an admin action between test runs)."""
        with self._lock:
            self._counts.clear()
            self.admitted = self.refused = 0

    def _count(self, token: str, index: int, window: LimitWindow, now: float) -> _Count:
        count = self._counts.setdefault((token, index), _Count())
        if window.kind is LimitKind.SLIDING:
            while count.times and count.times[0] <= now - window.seconds:
                count.times.popleft()
        else:
            start = _period_start(window, now)
            if start != count.period_start:
                count.period_start, count.count = start, 0
        return count

    @staticmethod
    def _used(window: LimitWindow, count: _Count) -> int:
        return len(count.times) if window.kind is LimitKind.SLIDING else count.count

    @staticmethod
    def _reset(window: LimitWindow, count: _Count, now: float) -> float:
        if window.kind is LimitKind.FIXED:
            return count.period_start + window.seconds
        if len(count.times) < window.max_calls:
            return now
        # The next slot frees when the call that filled the window leaves it.
        return count.times[len(count.times) - window.max_calls] + window.seconds

    def _headers(self, window: LimitWindow, count: _Count, now: float) -> list[tuple[str, str]]:
        if window.headers is None:
            return []
        remaining = max(window.max_calls - self._used(window, count), 0)
        reset_ms = math.ceil(self._reset(window, count, now) * 1000)
        return [
            (f"{window.headers}-Limit", str(window.max_calls)),
            (f"{window.headers}-Remaining", str(remaining)),
            (f"{window.headers}-Reset", str(reset_ms)),
        ]


def _period_start(window: LimitWindow, now: float) -> float:
    return window.offset + math.floor((now - window.offset) / window.seconds) * window.seconds


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    value = _header(scope, b"authorization")
    if value is None or not value.lower().startswith("bearer "):
        return None
    return value[7:].strip() or None


def header_token(name: str) -> Callable[[Scope], str | None]:
    """A token extractor reading the header ``name`` (e.g. ``X-AgreementGrantToken``)."""
    wanted = name.lower().encode("latin-1")

    def token(scope: Scope) -> str | None:
        return _header(scope, wanted) or None

    return token


def _default_body(_admission: Admission) -> Mapping[str, Any]:
    return {"message": "Too many requests.", "httpStatusCode": 429}


class RateLimitMiddleware:
    """ASGI middleware enforcing :class:`RateLimits` per token (see the module docstring).

    ``token`` extracts the budget's token from the request; requests without one, and the
    admin routes, are not limited. ``body`` builds the JSON of a 429 (the ERP's envelope).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: RateLimits,
        token: Callable[[Scope], str | None] = bearer_token,
        body: Callable[[Admission], Mapping[str, Any]] = _default_body,
        exempt_prefix: str = ADMIN_PREFIX,
    ) -> None:
        self.app = app
        self.limits = limits
        self.token = token
        self.body = body
        self.exempt_prefix = exempt_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        token = self.token(scope)
        if token is None:
            await self.app(scope, receive, send)
            return
        admission = self.limits.admit(token)
        extra = [(name.encode("latin-1"), value.encode()) for name, value in admission.headers]
        if not admission.admitted:
            payload = json.dumps(self.body(admission)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"content-length", str(len(payload)).encode()),
                        *extra,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return
        if not extra:
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
