"""The rate-limit window math (:func:`reserve`) and the in-process limiter, with a fake clock.

The properties are checked on the slots :func:`reserve` hands out — the moments callers send —
for arbitrary arrival patterns: no sliding window ever holds more than N of them, no fixed
period more than N, and a saturated budget runs at the rate the margin and burst leave.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlink.connectors._kit.limiter import (
    MICROS,
    LimiterKey,
    LimiterState,
    SlidingWindowLimiter,
    Window,
    WindowKind,
    defer,
    reserve,
)

DAY = 86_400.0
MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, now: float = MIDNIGHT + 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Run:
    """Slots (µs) handed out to callers arriving at the given times."""

    slots: list[int]
    refused: int = 0


def run(
    windows: list[Window],
    arrivals: list[float],
    *,
    max_wait: float = math.inf,
    defers: dict[int, float] | None = None,
) -> Run:
    state = LimiterState()
    result = Run([])
    for index, now in enumerate(arrivals):
        if defers and index in defers:
            state = defer(state, now, defers[index])
        outcome = reserve(state, now, windows, max_wait=max_wait)
        if not outcome.reserved:
            assert outcome.state == state
            result.refused += 1
            continue
        assert outcome.wait >= 0
        state = outcome.state
        result.slots.append(round(now * MICROS) + round(outcome.wait * MICROS))
    return result


def most_in_any_window(slots: list[int], seconds: float, margin: float = 0.0) -> int:
    ordered = sorted(slots)
    span = round(seconds * MICROS) + round(margin * MICROS)
    # Requests in (t - P, t] for each t that is a slot: the most any sliding window holds.
    return max(
        (i + 1 - bisect.bisect_right(ordered, t - span) for i, t in enumerate(ordered)), default=0
    )


arrival_gaps = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=3.0)), min_size=1, max_size=120
)


def arrivals_from(gaps: list[float], start: float = MIDNIGHT + 17.0) -> list[float]:
    times, now = [], start
    for gap in gaps:
        now += gap
        times.append(now)
    return times


@settings(max_examples=300, deadline=None)
@given(
    max_calls=st.integers(1, 30),
    seconds=st.floats(0.5, 60.0),
    burst_share=st.floats(0.0, 1.0),
    margin=st.floats(0.0, 0.5),
    gaps=arrival_gaps,
    max_wait=st.one_of(st.just(math.inf), st.floats(0.0, 10.0)),
)
def test_a_sliding_window_never_holds_more_than_n(
    *,
    max_calls: int,
    seconds: float,
    burst_share: float,
    margin: float,
    gaps: list[float],
    max_wait: float,
) -> None:
    burst = 1 + int(burst_share * (max_calls - 1))
    window = Window(max_calls, seconds, burst=burst, margin=margin)
    slots = run([window], arrivals_from(gaps), max_wait=max_wait).slots
    assert most_in_any_window(slots, seconds, margin) <= max_calls


@settings(max_examples=300, deadline=None)
@given(
    max_calls=st.integers(1, 20),
    seconds=st.floats(1.0, 30.0),
    offset=st.floats(-10.0, 10.0),
    margin=st.floats(0.0, 0.5),
    gaps=arrival_gaps,
)
def test_a_fixed_period_never_holds_more_than_n(
    max_calls: int, seconds: float, offset: float, margin: float, gaps: list[float]
) -> None:
    window = Window(max_calls, seconds, kind=WindowKind.FIXED, offset=offset, margin=margin)
    period, shift = round(seconds * MICROS), round(offset * MICROS)
    slots = run([window], arrivals_from(gaps)).slots
    per_period = Counter((slot - shift) // period for slot in slots)
    assert max(per_period.values()) <= max_calls
    # Nothing in the margin after a boundary, where a server whose clock runs behind ours is
    # still counting the previous period.
    assert all((slot - shift) % period >= round(margin * MICROS) for slot in slots)


@settings(max_examples=200, deadline=None)
@given(gaps=arrival_gaps, pauses=st.dictionaries(st.integers(0, 119), st.floats(0.0, 20.0)))
def test_several_windows_at_once_and_server_pauses(
    gaps: list[float], pauses: dict[int, float]
) -> None:
    sliding = Window(4, 2.0, margin=0.1)
    minutely = Window(10, 60.0, kind=WindowKind.FIXED, margin=0.1)
    daily = Window(25, DAY, kind=WindowKind.FIXED, margin=0.1)
    arrivals = arrivals_from(gaps)
    slots = run([sliding, minutely, daily], arrivals, defers=pauses).slots
    assert most_in_any_window(slots, 2.0, 0.1) <= 4
    assert max(Counter(slot // (60 * MICROS) for slot in slots).values()) <= 10
    assert max(Counter(slot // round(DAY * MICROS) for slot in slots).values()) <= 25
    for index, seconds in pauses.items():
        if index < len(arrivals):
            until = round((arrivals[index] + seconds) * MICROS)
            assert all(slot >= until for slot in slots[index:])


@settings(deadline=None)
@given(gaps=arrival_gaps)
def test_slots_are_handed_out_in_the_order_callers_asked(gaps: list[float]) -> None:
    slots = run([Window(5, 1.0), Window(7, 10.0, kind=WindowKind.FIXED)], arrivals_from(gaps))
    assert slots.slots == sorted(slots.slots)


def test_a_saturated_window_runs_at_the_rate_its_margin_leaves() -> None:
    window = Window(25, 5.0)  # Fortnox; default margin 0.25 s, burst 1
    slots = run([window], [MIDNIGHT] * 300).slots
    assert slots[0] == round(MIDNIGHT * MICROS)
    per_window = (len(slots) - 1) / ((slots[-1] - slots[0]) / MICROS) * 5.0
    assert per_window == pytest.approx(25 * 5.0 / 5.25, rel=1e-4)
    assert per_window / 25 > 0.95
    assert most_in_any_window(slots, 5.0, 0.25) == 25


def test_a_burst_goes_at_once_and_costs_long_run_rate() -> None:
    window = Window(25, 5.0, burst=5, margin=0.0)
    slots = run([window], [MIDNIGHT] * 60).slots
    first = round(MIDNIGHT * MICROS)
    assert slots[:5] == [first] * 5
    assert window.rate == pytest.approx(21 / 5.0, rel=1e-5)
    assert most_in_any_window(slots, 5.0) == 25


def test_a_fixed_window_resets_at_its_boundary() -> None:
    daily = Window(3, DAY, kind=WindowKind.FIXED, margin=0.5)
    state = LimiterState()
    now = MIDNIGHT + 20 * 3600.0
    waits = []
    for _ in range(4):
        outcome = reserve(state, now, [daily])
        state, waits = outcome.state, [*waits, outcome.wait]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(4 * 3600.0 + 0.5)  # tomorrow, after the margin
    assert state.marks[daily.ident] == (round((MIDNIGHT + DAY) * MICROS), 1)


def test_a_slot_too_far_away_is_not_taken() -> None:
    window = Window(1, 10.0, margin=0.0)
    first = reserve(LimiterState(), MIDNIGHT, [window])
    refused = reserve(first.state, MIDNIGHT, [window], max_wait=5.0)
    assert refused.wait == pytest.approx(10.0)
    assert not refused.reserved
    assert refused.state == first.state
    taken = reserve(first.state, MIDNIGHT + 6.0, [window], max_wait=5.0)
    assert taken.reserved
    assert taken.wait == pytest.approx(4.0)


def test_window_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="window"):
        Window(max_calls=0, seconds=1)
    with pytest.raises(ValueError, match="burst"):
        Window(5, 1.0, burst=6)
    with pytest.raises(ValueError, match="margin"):
        Window(5, 1.0, kind=WindowKind.FIXED, margin=1.0)
    with pytest.raises(ValueError, match="once"):
        LimiterKey("exact", "c", (Window(60, 60), Window(60, 60)))


def test_rates_are_spent_evenly_and_quotas_allow_half_at_once() -> None:
    assert Window(25, 5.0).effective_burst == 1
    assert Window(60, 60.0).effective_burst == 1
    assert Window(50_000, DAY).effective_burst == 25_000
    assert Window(5_000, DAY, kind=WindowKind.FIXED).effective_burst == 1
    assert Window(60, 60.0).ident != Window(60, 60.0, kind=WindowKind.FIXED).ident


# the in-process limiter -------------------------------------------------------------------

KEY = LimiterKey("fortnox", "cred-1")


def limiter(clock: FakeClock, *windows: Window) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(windows=windows, clock=clock, sleep=clock.sleep)


def test_acquire_sleeps_until_its_reserved_slot() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(3, 3.0, margin=0.0))
    for _ in range(4):
        rl.acquire(KEY)
    assert clock.slept == [pytest.approx(1.0)] * 3


def test_try_acquire_takes_nothing_when_it_would_wait() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(1, 5.0, margin=0.0))
    assert rl.try_acquire(KEY) == 0
    assert rl.try_acquire(KEY) == pytest.approx(5.0)
    assert rl.try_acquire(KEY) == pytest.approx(5.0)  # the refused call reserved nothing
    clock.now += 5
    assert rl.try_acquire(KEY) == 0


def test_keys_have_separate_budgets_and_carry_their_windows() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(1, 5.0))
    assert rl.try_acquire(KEY) == 0
    assert rl.try_acquire(LimiterKey("fortnox", "cred-2")) == 0
    assert rl.try_acquire(LimiterKey("exact", "cred-1")) == 0
    assert rl.try_acquire(KEY) > 0
    roomy = LimiterKey("dinero", "c", (Window(100, 60.0),))
    assert [rl.try_acquire(roomy) for _ in range(2)] == [0, pytest.approx(0.6025)]


def test_server_requested_pause_wins() -> None:
    clock = FakeClock()
    rl = limiter(clock, Window(100, 1.0))
    rl.defer(KEY, 30)
    assert rl.try_acquire(KEY) == pytest.approx(30.0)
    rl.acquire(KEY)
    assert sum(clock.slept) == pytest.approx(30.0)


def test_key_for_a_secret_keeps_no_secret() -> None:
    key = LimiterKey.for_secret("economic", "grant-token-value", windows=(Window(1, 1.0),))
    assert "grant-token-value" not in repr(key)
    assert key == LimiterKey.for_secret("economic", "grant-token-value")
    assert key != LimiterKey.for_secret("economic", "another")
    assert key.windows == (Window(1, 1.0),)
