"""The in-process sliding-window limiter, with a fake clock."""

from __future__ import annotations

import pytest

from ledgerlink.connectors._kit.limiter import LimiterKey, SlidingWindowLimiter, Window


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


KEY = LimiterKey("fortnox", "cred-1")


def limiter(clock: FakeClock, *windows: Window) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(windows=windows, clock=clock, sleep=clock.sleep)


def test_calls_within_the_window_pass_and_the_next_waits_for_the_oldest() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=3, seconds=5))
    assert [rl.try_acquire(KEY) for _ in range(3)] == [0, 0, 0]
    clock.now += 2
    assert rl.try_acquire(KEY) == pytest.approx(3.0)
    clock.now += 3
    assert rl.try_acquire(KEY) == 0


def test_window_slides_rather_than_resets() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=2, seconds=10))
    rl.try_acquire(KEY)
    clock.now += 6
    rl.try_acquire(KEY)
    clock.now += 5  # first call left the window, second still in it
    assert rl.try_acquire(KEY) == 0
    assert rl.try_acquire(KEY) == pytest.approx(5.0)


def test_every_window_must_fit() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=60, seconds=60), Window(max_calls=2, seconds=86400))
    rl.try_acquire(KEY)
    rl.try_acquire(KEY)
    assert rl.try_acquire(KEY) == pytest.approx(86400.0)


def test_keys_have_separate_budgets() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=1, seconds=5))
    assert rl.try_acquire(KEY) == 0
    assert rl.try_acquire(LimiterKey("fortnox", "cred-2")) == 0
    assert rl.try_acquire(LimiterKey("exact", "cred-1")) == 0
    assert rl.try_acquire(KEY) > 0


def test_acquire_sleeps_until_a_slot_frees() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=1, seconds=5))
    rl.acquire(KEY)
    rl.acquire(KEY)
    assert clock.slept == [pytest.approx(5.0)]


def test_server_requested_pause_wins() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(max_calls=100, seconds=1))
    rl.defer(KEY, 30)
    assert rl.try_acquire(KEY) == pytest.approx(30.0)
    rl.acquire(KEY)
    assert sum(clock.slept) == pytest.approx(30.0)


def test_key_for_a_secret_keeps_no_secret() -> None:
    key = LimiterKey.for_secret("economic", "grant-token-value")
    assert "grant-token-value" not in repr(key)
    assert key == LimiterKey.for_secret("economic", "grant-token-value")
    assert key != LimiterKey.for_secret("economic", "another")


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        Window(max_calls=0, seconds=1)
