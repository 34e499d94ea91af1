"""The emulators' rate-limit windows: sliding and fixed, per token, with Fortnox's bare 429 and
Exact Online's two header families (epoch-millisecond resets, only the minutely family on a
minutely 429). A fake clock drives the windows; requests go through the ASGI stack."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledgerlink.emulators._kit.ratelimit import (
    LimitKind,
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    header_token,
)

MIDNIGHT = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_app(limits: RateLimits) -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    def items() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/_emulator/journal")
    def journal() -> dict[str, bool]:
        return {"admin": True}

    app.add_middleware(RateLimitMiddleware, limits=limits, token=header_token("Access-Token"))
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock(MIDNIGHT + 12 * 3600 + 30.0)  # 12:00:30


def get(client: TestClient, token: str = "t1") -> tuple[int, dict[str, str]]:
    response = client.get("/items", headers={"Access-Token": token})
    return response.status_code, {k: v for k, v in response.headers.items() if "rate" in k}


def test_fortnox_sliding_window_answers_a_bare_429(clock: Clock) -> None:
    limits = RateLimits([LimitWindow(25, 5.0)], clock=clock)
    with TestClient(make_app(limits)) as client:
        answers = []
        for _ in range(26):
            answers.append(get(client))
            clock.now += 0.1
        assert [status for status, _ in answers] == [200] * 25 + [429]
        assert all(headers == {} for _, headers in answers)
        response = client.get("/items", headers={"Access-Token": "t1"})
        assert "retry-after" not in response.headers
        assert get(client, "t2")[0] == 200  # another token, another budget
        clock.now = MIDNIGHT + 12 * 3600 + 35.0  # the first call has left the window ...
        assert get(client)[0] == 200
        assert get(client)[0] == 429  # ... the second not yet
        clock.now += 0.1
        assert get(client)[0] == 200
    assert limits.refused == 3
    assert limits.admitted == 28


def test_refused_calls_do_not_count(clock: Clock) -> None:
    limits = RateLimits([LimitWindow(2, 10.0)], clock=clock)
    with TestClient(make_app(limits)) as client:
        assert [get(client)[0] for _ in range(2)] == [200, 200]
        for _ in range(5):
            clock.now += 1
            assert get(client)[0] == 429
        clock.now += 5.01  # 10.01 s after the two admitted calls
        assert [get(client)[0] for _ in range(3)] == [200, 200, 429]


def test_exact_headers_both_families_and_only_the_minutely_on_a_minutely_429(
    clock: Clock,
) -> None:
    limits = RateLimits(
        [
            LimitWindow(3, 60, kind=LimitKind.FIXED, headers="X-RateLimit-Minutely"),
            LimitWindow(5, 86_400, kind=LimitKind.FIXED, headers="X-RateLimit"),
        ],
        clock=clock,
    )
    minute_end = str(int((MIDNIGHT + 12 * 3600 + 60) * 1000))
    day_end = str(int((MIDNIGHT + 86_400) * 1000))
    with TestClient(make_app(limits)) as client:
        status, headers = get(client)
        assert status == 200
        assert headers == {
            "x-ratelimit-minutely-limit": "3",
            "x-ratelimit-minutely-remaining": "2",
            "x-ratelimit-minutely-reset": minute_end,
            "x-ratelimit-limit": "5",
            "x-ratelimit-remaining": "4",
            "x-ratelimit-reset": day_end,
        }
        get(client)
        assert get(client)[1]["x-ratelimit-minutely-remaining"] == "0"
        status, headers = get(client)
        assert status == 429
        assert headers == {
            "x-ratelimit-minutely-limit": "3",
            "x-ratelimit-minutely-remaining": "0",
            "x-ratelimit-minutely-reset": minute_end,
        }
        clock.now += 30  # 12:01:00, a new minute
        assert [get(client)[0] for _ in range(3)] == [200, 200, 429]
        status, headers = get(client)
        assert status == 429  # now the daily quota refuses (and the minutely one)
        assert headers["x-ratelimit-remaining"] == "0"
        assert headers["x-ratelimit-reset"] == day_end
        clock.now = MIDNIGHT + 86_400 + 1  # tomorrow
        assert get(client)[1]["x-ratelimit-remaining"] == "4"


def test_retry_after_admin_routes_and_anonymous_calls(clock: Clock) -> None:
    limits = RateLimits([LimitWindow(1, 10.0)], retry_after=True, clock=clock)
    with TestClient(make_app(limits)) as client:
        assert get(client)[0] == 200
        clock.now += 2.5
        refused = client.get("/items", headers={"Access-Token": "t1"})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "8"  # 7.5 s, rounded up
        assert refused.json() == {"message": "Too many requests.", "httpStatusCode": 429}
        assert client.get("/_emulator/journal", headers={"Access-Token": "t1"}).status_code == 200
        assert client.get("/items").status_code == 200  # no token: the app's business
    limits.reset_counts()
    assert (limits.admitted, limits.refused) == (0, 0)
