"""Client-side rate limiting per (ERP, credential).

A :class:`RateLimiter` is asked before every request (the client builder does that) and told
when the server itself asked for a pause (429 / ``Retry-After``): server signals win. This
module has the in-process :class:`SlidingWindowLimiter`; a database-backed limiter shared by
all workers implements the same protocol later.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LimiterKey:
    """Whose budget a request spends: one ERP and one credential (by fingerprint)."""

    erp: str
    credential: str

    @classmethod
    def for_secret(cls, erp: str, secret: str) -> LimiterKey:
        """Key a credential by a fingerprint, so the secret itself is never kept or logged."""
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
        return cls(erp, digest)


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``max_calls`` within any ``seconds``-long sliding window."""

    max_calls: int
    seconds: float

    def __post_init__(self) -> None:
        if self.max_calls < 1 or self.seconds <= 0:
            raise ValueError("a window needs at least one call and a positive length")


class RateLimiter(Protocol):
    """What the HTTP client needs from a limiter."""

    def acquire(self, key: LimiterKey) -> None:
        """Block until one more call for ``key`` fits every window."""
        ...

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """The server asked for a pause: no call for ``key`` for ``seconds``."""
        ...


class SlidingWindowLimiter:
    """In-process sliding-window limiter; thread-safe; time and sleep are injectable."""

    def __init__(
        self,
        *,
        windows: Sequence[Window],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = tuple(windows)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._calls: dict[LimiterKey, deque[float]] = {}
        self._paused_until: dict[LimiterKey, float] = {}

    def try_acquire(self, key: LimiterKey) -> float:
        """Take a slot and return 0, or take nothing and return the seconds to wait."""
        with self._lock:
            now = self._clock()
            wait = max(self._paused_until.get(key, now) - now, 0.0)
            calls = self._calls.setdefault(key, deque())
            longest = max((w.seconds for w in self._windows), default=0.0)
            while calls and calls[0] <= now - longest:
                calls.popleft()
            for window in self._windows:
                recent = [t for t in calls if t > now - window.seconds]
                if len(recent) >= window.max_calls:
                    # The slot frees when the oldest call that still counts leaves the window.
                    oldest = recent[len(recent) - window.max_calls]
                    wait = max(wait, oldest + window.seconds - now)
            if wait > 0:
                return wait
            calls.append(now)
            return 0.0

    def acquire(self, key: LimiterKey) -> None:
        while (wait := self.try_acquire(key)) > 0:
            self._sleep(wait)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)
