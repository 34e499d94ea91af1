"""Exact Online emulator: 60 calls a minute and 5,000 a day per app × division, both header
families on every answer (resets in epoch ms), a minutely 429 with the minutely headers only,
and the daily cap."""

from __future__ import annotations

from ledgerlink.emulators.exact.seed import SISTER
from tests.emulators.exact_support import DIVISION, START, message, session

ITEMS = f"{DIVISION}/logistics/Items"
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MINUTELY = tuple(name.replace("RateLimit", "RateLimit-Minutely") for name in DAILY)


def test_every_answer_carries_both_header_families_with_epoch_millisecond_resets() -> None:
    s = session()
    answer = s.get(ITEMS)
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert answer.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert int(answer.headers["X-RateLimit-Minutely-Reset"]) == (START + 60) * 1000
    assert answer.headers["X-RateLimit-Limit"] == "5000"
    assert answer.headers["X-RateLimit-Remaining"] == "4999"
    assert int(answer.headers["X-RateLimit-Reset"]) == (START // 86_400 + 1) * 86_400 * 1000


def test_the_61st_call_in_a_minute_is_429_with_minutely_headers_only() -> None:
    s = session()
    for _ in range(60):
        assert s.get(ITEMS).status_code == 200
    refused = s.get(ITEMS)
    assert refused.status_code == 429
    assert message(refused)
    assert all(name in refused.headers for name in MINUTELY)
    assert not any(name in refused.headers for name in DAILY)
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    # Another division has a budget of its own; the next minute this one has again.
    assert s.get(f"/api/v1/{SISTER}/logistics/Items").status_code == 200
    s.clock.now += 60
    assert s.get(ITEMS).headers["X-RateLimit-Minutely-Remaining"] == "59"


def test_the_daily_cap_holds_across_minutes_until_the_next_day() -> None:
    s = session(daily_limit=5)
    for minute in range(5):
        s.clock.now = START + 60 * minute
        assert s.get(ITEMS).status_code == 200
    s.clock.now = START + 540
    refused = s.get(ITEMS)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Limit" not in refused.headers
    s.clock.now = (START // 86_400 + 1) * 86_400
    assert s.refresh().status_code == 200  # the token endpoint is not rate-limited
    assert s.get(ITEMS).status_code == 200


def test_more_than_10_errors_an_hour_on_one_endpoint_block_it_for_an_hour() -> None:
    s = session()
    missing = f"{DIVISION}/crm/Accounts(guid'00000000-0000-0000-0000-000000000000')"
    for _ in range(11):
        assert s.get(missing).status_code == 404
    blocked = s.get(f"{DIVISION}/crm/Accounts")
    assert blocked.status_code == 429
    assert "too many errors" in message(blocked)
    assert s.get(ITEMS).status_code == 200  # another endpoint
    s.clock.now += 3600
    s.refresh()
    assert s.get(f"{DIVISION}/crm/Accounts").status_code == 200
