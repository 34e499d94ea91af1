"""The rate limiter every worker process shares through the database (design §6).

:class:`DatabaseLimiter` implements the connectors' ``RateLimiter`` protocol: before each
request it reserves the budget's next slot with the kit's pure
:func:`~ledgerlink.connectors._kit.limiter.reserve` inside one short locked transaction of the
:class:`~ledgerlink.store.ratelimits.RateLimitStore`, then sleeps until that slot. A wait longer
than ``max_sleep`` is not slept and not reserved: the request fails with
:class:`~ledgerlink.connectors.contract.Transient` carrying the wait, so the engine hands the
transfer back to the queue instead of a worker sleeping through, say, a daily cap. A pause the
server asked for (:meth:`DatabaseLimiter.defer`) is stored in the same row, so every process
honours it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from ledgerlink.connectors._kit.limiter import (
    LimiterKey,
    LimiterState,
    Window,
    defer,
    reserve,
)
from ledgerlink.connectors.contract import Transient
from ledgerlink.store.ratelimits import RateLimitRecord, RateLimitStore

__all__ = ["DEFAULT_MAX_SLEEP", "DatabaseLimiter"]

#: Longest wait a worker sleeps out itself; anything longer goes back to the queue.
DEFAULT_MAX_SLEEP = 5.0


def _state(record: RateLimitRecord) -> LimiterState:
    return LimiterState(record.paused_until, record.marks)


def _record(state: LimiterState) -> RateLimitRecord:
    return RateLimitRecord(state.paused_until, state.marks)


class DatabaseLimiter:
    """A ``RateLimiter`` whose budgets live in the database (see the module docstring).

    A key's own windows are used; ``windows`` is the fallback for keys that carry none. The
    clock is wall-clock time because every process (on any machine) reads the same state: the
    machines' clocks must agree to well within the windows' margin (NTP does).
    """

    def __init__(
        self,
        store: RateLimitStore,
        *,
        windows: Sequence[Window] = (),
        max_sleep: float = DEFAULT_MAX_SLEEP,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_sleep < 0:
            raise ValueError("max_sleep must not be negative")
        self._store = store
        self._windows = tuple(windows)
        self.max_sleep = max_sleep
        self._clock = clock
        self._sleep = sleep

    def reserve(self, key: LimiterKey, *, max_wait: float = math.inf) -> tuple[float, float]:
        """Reserve ``key``'s next slot if it is no more than ``max_wait`` seconds away.

        Returns ``(slot, wait)``: the slot's time (clock seconds) and how far it was from now
        when the row was locked; nothing is reserved when ``wait > max_wait``.
        """
        windows = key.windows or self._windows

        def change(record: RateLimitRecord) -> tuple[RateLimitRecord | None, tuple[float, float]]:
            # The clock is read under the lock: a process that waited for the row must not
            # reserve with the moment it started waiting.
            now = self._clock()
            outcome = reserve(_state(record), now, windows, max_wait=max_wait)
            new = _record(outcome.state) if outcome.reserved else None
            return new, (now + outcome.wait, outcome.wait)

        return self._store.update(key.erp, key.credential, change)

    def acquire(self, key: LimiterKey) -> None:
        """Sleep until ``key``'s next slot, or raise :class:`Transient` (``retry_after`` set)
        when that slot is more than ``max_sleep`` seconds away."""
        slot, wait = self.reserve(key, max_wait=self.max_sleep)
        if wait > self.max_sleep:
            raise Transient(
                f"{key.erp}: rate limit: the next request fits in {wait:.1f} s",
                retry_after=wait,
                hint="The transfer resumes by itself when the ERP's rate limit allows it.",
            )
        # Sleep until the slot itself, not for `wait`: the commit took time too.
        remaining = slot - self._clock()
        if remaining > 0:
            self._sleep(remaining)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """No call for ``key`` in any process for ``seconds`` (the server asked for it)."""

        def change(record: RateLimitRecord) -> tuple[RateLimitRecord | None, None]:
            return _record(defer(_state(record), self._clock(), seconds)), None

        self._store.update(key.erp, key.credential, change)

    def state(self, key: LimiterKey) -> LimiterState:
        """What the database holds for ``key`` (for inspection and tests)."""
        return _state(self._store.read(key.erp, key.credential))
