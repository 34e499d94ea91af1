"""Client-side rate limiting per (ERP, credential): the window math and the in-process limiter.

A :class:`RateLimiter` is asked before every request (the client builder does that) and told
when the server itself asked for a pause (429 / ``Retry-After`` / ``X-RateLimit-*``): server
signals win. Whose budget a request spends and what that budget is travel together in a
:class:`LimiterKey` (ERP, credential fingerprint, the ERP's :class:`Window` s).

The math is one pure function, :func:`reserve`: (state, now, windows) → (new state, wait). It
*reserves* the earliest moment every window admits, so a caller told to wait ``w`` seconds owns
the slot at ``now + w`` and callers are served in the order they asked. The state is O(1) per
window, so the same function serves the in-process :class:`SlidingWindowLimiter` here and the
database-backed limiter every worker process shares (``ledgerlink.sync.ratelimit``):

* a **sliding** window ("at most N in any P seconds") is a GCRA: one theoretical arrival time
  (TAT) per window, emission interval ``T`` and tolerance ``τ = (burst - 1)·T``. Any N+1
  consecutive admitted requests span at least ``N·T - τ = (N - burst + 1)·T``, and ``T`` is
  chosen so that this is ``P + margin``: N+1 requests never fit in P. The price of a burst is
  the long-run rate, ``(N - burst + 1) / (P + margin)``;
* a **fixed** window ("N per period, reset at a boundary", e.g. a day) is a counter and the
  start of the period it counts.

Times in the state are integer microseconds since the epoch: exact arithmetic, and the same
numbers in every process (wall-clock time, because fixed windows reset at calendar boundaries
and processes share the state).
"""

from __future__ import annotations

import enum
import hashlib
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

__all__ = [
    "LimiterKey",
    "LimiterState",
    "RateLimiter",
    "Reservation",
    "SlidingWindowLimiter",
    "Window",
    "WindowKind",
    "defer",
    "reserve",
]

MICROS = 1_000_000
#: Default allowance for the difference between when we reserve a slot and when the server
#: counts the request (scheduling, commit, network): 5 % of a 5-second window.
DEFAULT_MARGIN = 0.25
#: Without an explicit burst, a window whose even spacing (P / N) is at most this many seconds
#: is a *rate* and is spent evenly; a longer one is a *quota* (e.g. 50,000 a day) and allows
#: half of it at once, because spacing a daily quota evenly would make every call wait seconds.
RATE_SPACING = 1.0
_MAX_ROUNDS = 64


class WindowKind(enum.StrEnum):
    """How an ERP counts its window."""

    SLIDING = "sliding"
    """At most ``max_calls`` in any ``seconds``-long interval."""
    FIXED = "fixed"
    """At most ``max_calls`` per period; periods start at ``offset + k·seconds`` (epoch)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Spec:
    """A window in integer microseconds (derived once per :class:`Window`)."""

    interval: int
    tolerance: int
    period: int
    offset: int
    margin: int


@dataclass(frozen=True, slots=True)
class Window:
    """One limit of an ERP: ``max_calls`` per ``seconds``, sliding or fixed.

    ``margin`` (seconds) is kept free for jitter between our clock and the server's counting.
    ``burst`` (sliding only) is how many calls may go back to back; ``None`` chooses 1 for a
    rate and half the window for a quota (see :data:`RATE_SPACING`). ``offset`` (fixed only)
    moves the period boundaries, e.g. ``-3600`` for a day that starts at 00:00 UTC+1.
    """

    max_calls: int
    seconds: float
    kind: WindowKind = WindowKind.SLIDING
    burst: int | None = None
    margin: float = DEFAULT_MARGIN
    offset: float = 0.0
    _spec: _Spec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_calls < 1 or self.seconds <= 0:
            raise ValueError("a window needs at least one call and a positive length")
        if self.margin < 0:
            raise ValueError("a window's margin must not be negative")
        if self.kind is WindowKind.FIXED and self.margin >= self.seconds:
            raise ValueError("a fixed window's margin must be shorter than its period")
        burst = self.effective_burst
        if not 1 <= burst <= self.max_calls:
            raise ValueError(f"burst must be between 1 and max_calls ({self.max_calls})")
        period = _micros(self.seconds)
        margin = _micros(self.margin)
        # Ceiling division: N+1 calls must span at least P + margin, never a microsecond less.
        interval = -(-(period + margin) // (self.max_calls - burst + 1))
        spec = _Spec(
            interval=interval,
            tolerance=(burst - 1) * interval,
            period=period,
            offset=_micros(self.offset),
            margin=margin,
        )
        object.__setattr__(self, "_spec", spec)

    @property
    def effective_burst(self) -> int:
        """The burst in use (``burst``, or the default for a rate or a quota)."""
        if self.burst is not None:
            return self.burst
        if self.kind is WindowKind.FIXED or self.seconds / self.max_calls <= RATE_SPACING:
            return 1
        return max(1, self.max_calls // 2)

    @property
    def ident(self) -> str:
        """A stable name for this window's entry in a stored state."""
        name = f"{self.kind.value} {self.max_calls}/{self.seconds:g}s"
        return f"{name}@{self.offset:g}" if self.kind is WindowKind.FIXED and self.offset else name

    @property
    def rate(self) -> float:
        """Long-run calls per second this window admits (after margin and burst)."""
        if self.kind is WindowKind.FIXED:
            return self.max_calls / self.seconds
        return MICROS / self._spec.interval

    def earliest(self, mark: tuple[int, int] | None, at: int) -> int:
        """The first moment at or after ``at`` (µs) this window admits one more call."""
        spec = self._spec
        if self.kind is WindowKind.SLIDING:
            tat = mark[0] if mark else 0
            return max(at, tat - spec.tolerance)
        start, count = mark if mark else (0, 0)
        # The state may already count a later period (a slot reserved ahead): never go back.
        at = max(at, start)
        begins = _period_start(at, spec)
        if begins == start and count >= self.max_calls:
            return begins + spec.period + spec.margin
        return max(at, begins + spec.margin)

    def take(self, mark: tuple[int, int] | None, at: int) -> tuple[int, int]:
        """The window's mark after a call admitted at ``at`` (µs)."""
        spec = self._spec
        if self.kind is WindowKind.SLIDING:
            tat = mark[0] if mark else 0
            return (max(tat, at) + spec.interval, 0)
        begins = _period_start(at, spec)
        if mark and mark[0] == begins:
            return (begins, mark[1] + 1)
        return (begins, 1)


def _micros(seconds: float) -> int:
    return round(seconds * MICROS)


def _period_start(at: int, spec: _Spec) -> int:
    return spec.offset + (at - spec.offset) // spec.period * spec.period


@dataclass(frozen=True, slots=True)
class LimiterState:
    """What a budget remembers: a server-requested pause and one mark per window (by
    :attr:`Window.ident`): ``(TAT, 0)`` for a sliding window, ``(period start, count)`` for a
    fixed one; all times in µs since the epoch. Treat as immutable."""

    paused_until: int = 0
    marks: Mapping[str, tuple[int, int]] = field(default_factory=dict)


class Reservation(NamedTuple):
    """The outcome of :func:`reserve`: the state to keep, the wait in seconds and whether the
    slot was taken (``False``: the wait exceeded ``max_wait`` and nothing was reserved)."""

    state: LimiterState
    wait: float
    reserved: bool


def reserve(
    state: LimiterState,
    now: float,
    windows: Sequence[Window],
    *,
    max_wait: float = math.inf,
) -> Reservation:
    """Reserve the earliest slot at or after ``now`` (epoch seconds) that the pause and every
    window admit; the caller sends after waiting :attr:`Reservation.wait` seconds.

    A slot further than ``max_wait`` away is not taken (the state comes back unchanged), so a
    caller that will not wait holds nothing that later callers would have to wait behind.
    """
    start = _micros(now)
    at = max(start, state.paused_until)
    for _ in range(_MAX_ROUNDS):
        moved = False
        for window in windows:
            earliest = window.earliest(state.marks.get(window.ident), at)
            if earliest > at:
                at, moved = earliest, True
        if not moved:
            break
    else:  # pragma: no cover - every move lands where the moving window is satisfied
        raise RuntimeError("the rate-limit windows did not agree on a slot")
    wait = (at - start) / MICROS
    if wait > max_wait:
        return Reservation(state, wait, reserved=False)
    marks = {w.ident: w.take(state.marks.get(w.ident), at) for w in windows}
    return Reservation(LimiterState(state.paused_until, marks), wait, reserved=True)


def defer(state: LimiterState, now: float, seconds: float) -> LimiterState:
    """The state after the server asked for no call for ``seconds`` from ``now``."""
    until = _micros(now + max(seconds, 0.0))
    return LimiterState(max(state.paused_until, until), state.marks)


@dataclass(frozen=True, slots=True)
class LimiterKey:
    """Whose budget a request spends — one ERP and one credential (by fingerprint) — and what
    that budget is: the ERP's windows. Keys compare by ERP and credential only."""

    erp: str
    credential: str
    windows: tuple[Window, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        names = [w.ident for w in self.windows]
        if len(set(names)) != len(names):
            raise ValueError(f"a budget names each window once: {names}")

    @classmethod
    def for_secret(cls, erp: str, secret: str, *, windows: Sequence[Window] = ()) -> LimiterKey:
        """Key a credential by a fingerprint, so the secret itself is never kept or logged."""
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
        return cls(erp, digest, tuple(windows))


class RateLimiter(Protocol):
    """What the HTTP client needs from a limiter."""

    def acquire(self, key: LimiterKey) -> None:
        """Return when one more call for ``key`` fits every window (waiting if need be); a
        limiter that will not sleep that long raises ``Transient`` with ``retry_after``."""
        ...

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """The server asked for a pause: no call for ``key`` for ``seconds``."""
        ...


class SlidingWindowLimiter:
    """In-process limiter over :func:`reserve` (sliding and fixed windows); thread-safe; time
    and sleep are injectable. A key's own windows win over the ``windows`` given here."""

    def __init__(
        self,
        *,
        windows: Sequence[Window] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = tuple(windows)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._states: dict[LimiterKey, LimiterState] = {}

    def reserve(self, key: LimiterKey, *, max_wait: float = math.inf) -> float:
        """Reserve ``key``'s next slot (if no more than ``max_wait`` away); return the wait."""
        windows = key.windows or self._windows
        with self._lock:
            state = self._states.get(key, LimiterState())
            outcome = reserve(state, self._clock(), windows, max_wait=max_wait)
            self._states[key] = outcome.state
            return outcome.wait

    def try_acquire(self, key: LimiterKey) -> float:
        """Take a slot and return 0, or take nothing and return the seconds to wait."""
        return self.reserve(key, max_wait=0.0)

    def acquire(self, key: LimiterKey) -> None:
        """Reserve the next slot and sleep until it."""
        wait = self.reserve(key)
        if wait > 0:
            self._sleep(wait)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        """No call for ``key`` for ``seconds`` (slots already handed out stay handed out)."""
        with self._lock:
            state = self._states.get(key, LimiterState())
            self._states[key] = defer(state, self._clock(), seconds)
