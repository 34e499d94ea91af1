"""The database-backed limiter on SQLite and PostgreSQL: limiters in different processes (here,
separate instances with their own connections) share one budget, a slot too far away is handed
back as Transient without being reserved, and a server-requested pause reaches every limiter."""

from __future__ import annotations

import bisect
import threading

import pytest

from ledgerlink.connectors._kit.limiter import MICROS, LimiterKey, Window, WindowKind
from ledgerlink.connectors.contract import Transient
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.sync.ratelimit import DatabaseLimiter

START = 1_767_225_600.0 + 3600.0  # 2026-01-01T01:00:00Z
FORTNOX = LimiterKey("fortnox", "cred", (Window(25, 5.0),))


class FakeClock:
    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(database: Database, clock: FakeClock, **options: float) -> DatabaseLimiter:
    return DatabaseLimiter(RateLimitStore(database), clock=clock, sleep=clock.sleep, **options)


def test_two_limiters_share_one_budget(database: Database) -> None:
    clock = FakeClock()
    first, second = limiter(database, clock), limiter(database, clock)
    slots = [(first if n % 2 else second).reserve(FORTNOX)[0] for n in range(6)]
    assert slots == pytest.approx([START + n * 0.21 for n in range(6)])
    assert first.state(FORTNOX) == second.state(FORTNOX)


def test_acquire_sleeps_until_the_reserved_slot(database: Database) -> None:
    clock = FakeClock()
    shared = limiter(database, clock)
    for _ in range(3):
        shared.acquire(FORTNOX)
    assert clock.slept == [pytest.approx(0.21), pytest.approx(0.21)]


def test_a_long_wait_is_handed_back_not_slept_nor_reserved(database: Database) -> None:
    clock = FakeClock()
    daily = LimiterKey("exact", "division-1", (Window(2, 86_400, kind=WindowKind.FIXED),))
    shared = limiter(database, clock, max_sleep=5.0)
    shared.acquire(daily)
    shared.acquire(daily)
    before = shared.state(daily)
    with pytest.raises(Transient) as caught:
        shared.acquire(daily)
    assert caught.value.retry_after == pytest.approx(23 * 3600 + 0.25)
    assert clock.slept == []
    assert shared.state(daily) == before


def test_a_server_pause_reaches_every_limiter(database: Database) -> None:
    clock = FakeClock()
    first, second = limiter(database, clock), limiter(database, clock, max_sleep=60.0)
    first.defer(FORTNOX, 30.0)
    with pytest.raises(Transient, match=r"30\.0 s"):
        first.acquire(FORTNOX)
    second.acquire(FORTNOX)
    assert clock.slept == [pytest.approx(30.0)]


def test_a_key_without_windows_uses_the_limiter_s_windows(database: Database) -> None:
    clock = FakeClock()
    shared = DatabaseLimiter(
        RateLimitStore(database), windows=(Window(1, 10.0, margin=0.0),), clock=clock
    )
    bare = LimiterKey("economic", "grant")
    assert shared.reserve(bare)[1] == 0
    assert shared.reserve(bare)[1] == pytest.approx(10.0)


def test_concurrent_callers_never_overfill_the_window(database: Database) -> None:
    # Real clock, real connections, four threads reserving as fast as they can: the slots
    # handed out must respect the window however the transactions interleave.
    shared = DatabaseLimiter(RateLimitStore(database))
    key = LimiterKey("fortnox", "threads", (Window(5, 1.0, margin=0.05),))
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(15):
            slot, _wait = shared.reserve(key)
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(round(slot * MICROS) for slot in slots)
    span = round(1.05 * MICROS) - 2  # slots come back as float seconds: allow their rounding
    most = max(i + 1 - bisect.bisect_right(ordered, t - span) for i, t in enumerate(ordered))
    assert len(ordered) == 60
    assert most <= 5
