"""The client builder over real HTTP (a tiny local server): logging with secrets redacted,
user agent, limiter; and the requestor's classification and retries."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Generator, Iterator
from decimal import Decimal

import httpx2
import pytest
import stamina
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from ledgerlink import __version__
from ledgerlink.connectors._kit.errors import ErrorTable
from ledgerlink.connectors._kit.http import (
    BARE_429_PAUSE,
    build_client,
    redact_headers,
    redact_url,
    server_pause,
)
from ledgerlink.connectors._kit.limiter import LimiterKey, SlidingWindowLimiter, Window
from ledgerlink.connectors._kit.requestor import Requestor, decode_json, encode_json
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import AuthExpired, Permanent, Transient, Uncertain
from ledgerlink.emulators._kit.ratelimit import (
    LimitKind,
    LimitWindow,
    RateLimitMiddleware,
    RateLimits,
    bearer_token,
)
from ledgerlink.emulators._kit.serve import running
from tests.connectors.echo_app import make_echo_app

SECRET = "super-secret-grant-4711"


class HeaderAuth(httpx2.Auth):
    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response]:
        request.headers["X-AgreementGrantToken"] = SECRET
        request.headers["Authorization"] = f"Bearer {SECRET}"
        yield request


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Counter[str]]]:
    app, calls = make_echo_app()
    with running(app) as base_url:
        yield base_url, calls


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


def test_secrets_never_reach_the_logs(server: tuple[str, Counter[str]]) -> None:
    base_url, _ = server
    with capture_logs() as logs, build_client(base_url=base_url, auth=HeaderAuth()) as client:
        response = client.get("/hello", params={"api_key": SECRET, "page": "2"})
    assert response.status_code == 200
    assert logs, "the exchange is logged"
    assert SECRET not in repr(logs)
    assert "server-secret-value" not in repr(logs)
    sent = next(e for e in logs if e["event"] == "http.request")
    assert sent["headers"]["x-agreementgranttoken"] == "***"
    assert sent["headers"]["authorization"] == "***"
    assert sent["url"] == "/hello?api_key=***&page=2"
    answered = next(e for e in logs if e["event"] == "http.response")
    assert answered["status"] == 200
    assert answered["method"] == "GET"
    assert answered["elapsed_ms"] >= 0


def test_user_agent_names_ledgerlink(server: tuple[str, Counter[str]]) -> None:
    base_url, _ = server
    with build_client(base_url=base_url, auth=None) as client:
        request = client.build_request("GET", "/ua")
    assert request.headers["user-agent"] == f"ledgerlink/{__version__}"


def test_the_limiter_is_asked_before_each_request(server: tuple[str, Counter[str]]) -> None:
    base_url, _ = server
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = SlidingWindowLimiter(
        windows=(Window(max_calls=2, seconds=60, margin=0),), clock=lambda: now[0], sleep=sleep
    )
    key = LimiterKey("test", "c")
    with build_client(base_url=base_url, auth=None, limiter=limiter, limiter_key=key) as client:
        for _ in range(3):
            client.get("/limited")
    assert slept == [30.0, 30.0]  # 2 per 60 s, spent evenly: any 3 calls span 60 s


def test_a_429_pauses_the_limiter_for_retry_after(server: tuple[str, Counter[str]]) -> None:
    base_url, _ = server
    limiter = SlidingWindowLimiter(windows=(Window(max_calls=100, seconds=1),))
    key = LimiterKey("test", "c429")
    with build_client(base_url=base_url, auth=None, limiter=limiter, limiter_key=key) as client:
        client.get("/busy", params={"status": "429", "retry_after": "20"})
    assert limiter.try_acquire(key) > 19


def test_redaction_helpers() -> None:
    assert redact_headers({"X-AppSecretToken": "a", "Accept": "json", "api-key": "k"}) == {
        "X-AppSecretToken": "***",
        "Accept": "json",
        "api-key": "***",
    }
    assert redact_url(httpx2.URL("https://h/p?password=x&q=1")) == "/p?password=***&q=1"
    assert redact_url(httpx2.URL("https://h/p")) == "/p"


def requestor(base_url: str) -> Requestor:
    client = build_client(base_url=base_url, auth=None)
    return Requestor(client=client, errors=ErrorTable(erp="test"), retry=RetryPolicy(attempts=3))


def test_requestor_retries_transient_get_until_it_succeeds(
    server: tuple[str, Counter[str]],
) -> None:
    base_url, calls = server
    response = requestor(base_url).request(
        "GET", "/flaky", params={"status": "503", "fail_times": "2"}
    )
    assert response.status_code == 200
    assert calls["/flaky"] == 3


def test_requestor_post_5xx_is_uncertain_and_not_retried(
    server: tuple[str, Counter[str]],
) -> None:
    base_url, calls = server
    with pytest.raises(Uncertain):
        requestor(base_url).request("POST", "/create", params={"status": "500"}, body={"a": 1})
    assert calls["/create"] == 1


@pytest.mark.parametrize(("status", "error"), [(401, AuthExpired), (400, Permanent)])
def test_requestor_classifies_client_errors(
    server: tuple[str, Counter[str]], status: int, error: type[Exception]
) -> None:
    base_url, _ = server
    with pytest.raises(error, match="as requested"):
        requestor(base_url).request("GET", f"/e{status}", params={"status": str(status)})


def test_requestor_429_gives_transient_with_the_wait(server: tuple[str, Counter[str]]) -> None:
    base_url, _ = server
    with pytest.raises(Transient) as caught:
        requestor(base_url).request(
            "GET", "/slowdown", params={"status": "429", "retry_after": "900"}
        )
    assert caught.value.retry_after == 900.0


def test_connection_refused_is_transient() -> None:
    with running(Starlette()) as base_url:
        pass  # the server is gone: nothing listens on that port any more
    with pytest.raises(Transient, match="never reached"):
        requestor(base_url).request("POST", "/nobody", body={})


def test_json_is_exact_decimal_both_ways() -> None:
    body = {"price": Decimal("10.10"), "qty": Decimal("-0.5"), "n": 3, "ok": True, "s": "ø"}
    encoded = encode_json(body)
    assert encoded == '{"price":10.10,"qty":-0.5,"n":3,"ok":true,"s":"ø"}'.encode()
    assert decode_json(b'{"a": 0.1, "b": 2}') == {"a": Decimal("0.1"), "b": 2}
    with pytest.raises(TypeError):
        encode_json({"x": 0.1})


# server rate-limit signals ----------------------------------------------------------------

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("status", "headers", "pause"),
    [
        (200, {}, None),
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"Retry-After": "Thu, 01 Jan 2026 00:00:30 GMT"}, 30.0),
        (429, {}, BARE_429_PAUSE),  # Fortnox: no headers at all
        (429, {"Retry-After": "soon"}, BARE_429_PAUSE),
        # Exact: a minutely 429 carries only the minutely family, reset in epoch ms.
        (
            429,
            {
                "X-RateLimit-Minutely-Limit": "60",
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": str(int((NOW + 42.5) * 1000)),
            },
            42.5,
        ),
        # Exact: the daily quota is used up on a successful answer: pause until it resets.
        (
            200,
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int((NOW + 3600) * 1000)),
                "X-RateLimit-Minutely-Remaining": "12",
                "X-RateLimit-Minutely-Reset": str(int((NOW + 20) * 1000)),
            },
            3600.0,
        ),
        (200, {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(int(NOW + 9))}, None),
        (200, {"RateLimit-Remaining": "0", "RateLimit-Reset": "12"}, 12.0),  # delta seconds
        (200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW + 9))}, 9.0),
        (200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW - 5))}, 0.0),
        (200, {"X-RateLimit-Remaining": "0"}, None),  # no reset: nothing to go by
        (429, {"Retry-After": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}, 60),
    ],
)
def test_server_pause_reads_the_server_s_signals(
    status: int, headers: dict[str, str], pause: float | None
) -> None:
    assert server_pause(status, headers, now=NOW) == (
        pytest.approx(pause) if pause is not None else None
    )


def test_exact_style_headers_pause_the_limiter_until_the_reset() -> None:
    # The hook reads the real clock, so the emulator does too; its hour began 100 s ago.
    began = time.time() - 100.0
    limits = RateLimits(
        [LimitWindow(3, 3600, kind=LimitKind.FIXED, headers="X-RateLimit-Minutely", offset=began)]
    )
    app = Starlette(routes=[Route("/me", lambda _: JSONResponse({"ok": True}))])
    app.add_middleware(RateLimitMiddleware, limits=limits, token=bearer_token)
    limiter = SlidingWindowLimiter()
    key = LimiterKey("exact", "division-1")
    with (
        running(app) as base_url,
        build_client(
            base_url=base_url,
            auth=None,
            headers={"Authorization": "Bearer t1"},
            limiter=limiter,
            limiter_key=key,
        ) as client,
    ):
        statuses = [client.get("/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    # The third answer said Remaining 0 until the period's end.
    assert limiter.try_acquire(key) == pytest.approx(began + 3600 - time.time(), abs=1.0)
