"""Retry decisions (table-driven) and the stamina-based retry loop."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
import pytest
import stamina

from ledgerlink.connectors._kit.retry import (
    FailureKind,
    FailureOutcome,
    ResponseOutcome,
    RetryPolicy,
    Verdict,
    backoff_hook,
    call_with_retries,
    decide,
    outcome_of_exception,
    parse_retry_after,
)
from ledgerlink.connectors.contract import AuthExpired, Permanent, Transient, Uncertain

NOW = datetime(2025, 1, 6, 12, 0, 0, tzinfo=UTC)
NOT_SENT = FailureOutcome(FailureKind.NOT_SENT)
NO_ANSWER = FailureOutcome(FailureKind.NO_ANSWER)


@pytest.mark.parametrize(
    ("method", "outcome", "verdict"),
    [
        ("GET", ResponseOutcome(200), Verdict.OK),
        ("POST", ResponseOutcome(201), Verdict.OK),
        ("DELETE", ResponseOutcome(204), Verdict.OK),
        # connection refused / DNS: the server never saw it, safe for any method
        ("GET", NOT_SENT, Verdict.TRANSIENT),
        ("POST", NOT_SENT, Verdict.TRANSIENT),
        # read timeout / reset after sending
        ("GET", NO_ANSWER, Verdict.TRANSIENT),
        ("PUT", NO_ANSWER, Verdict.TRANSIENT),
        ("POST", NO_ANSWER, Verdict.UNCERTAIN),
        ("PATCH", NO_ANSWER, Verdict.UNCERTAIN),
        ("GET", ResponseOutcome(429), Verdict.TRANSIENT),
        ("POST", ResponseOutcome(429), Verdict.TRANSIENT),
        ("GET", ResponseOutcome(500), Verdict.TRANSIENT),
        ("GET", ResponseOutcome(503), Verdict.TRANSIENT),
        ("POST", ResponseOutcome(500), Verdict.UNCERTAIN),
        ("POST", ResponseOutcome(502), Verdict.UNCERTAIN),
        ("GET", ResponseOutcome(501), Verdict.PERMANENT),
        ("GET", ResponseOutcome(401), Verdict.AUTH_EXPIRED),
        ("POST", ResponseOutcome(401), Verdict.AUTH_EXPIRED),
        ("POST", ResponseOutcome(400), Verdict.PERMANENT),
        ("GET", ResponseOutcome(403), Verdict.PERMANENT),
        ("GET", ResponseOutcome(404), Verdict.PERMANENT),
        ("PUT", ResponseOutcome(409), Verdict.PERMANENT),
        ("POST", ResponseOutcome(422), Verdict.PERMANENT),
        ("POST", ResponseOutcome(415), Verdict.PERMANENT),
        ("POST", ResponseOutcome(408), Verdict.TRANSIENT),
    ],
)
def test_decide(method: str, outcome: ResponseOutcome | FailureOutcome, verdict: Verdict) -> None:
    decision = decide(method, outcome, now=NOW)
    assert decision.verdict is verdict
    assert decision.should_retry is (verdict is Verdict.TRANSIENT)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("Mon, 06 Jan 2025 12:00:30 GMT", 30.0),
        ("Mon, 06 Jan 2025 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_429_carries_the_servers_wait() -> None:
    decision = decide("POST", ResponseOutcome(429, "Mon, 06 Jan 2025 12:01:00 GMT"), now=NOW)
    assert decision.retry_after == 60.0


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx2.ConnectError("refused"), FailureKind.NOT_SENT),
        (httpx2.ConnectTimeout("slow dns"), FailureKind.NOT_SENT),
        (httpx2.PoolTimeout("pool"), FailureKind.NOT_SENT),
        (httpx2.ReadTimeout("read"), FailureKind.NO_ANSWER),
        (httpx2.ReadError("reset"), FailureKind.NO_ANSWER),
        (httpx2.RemoteProtocolError("server disconnected"), FailureKind.NO_ANSWER),
        (httpx2.WriteError("broken pipe"), FailureKind.NO_ANSWER),
    ],
)
def test_transport_errors_say_whether_the_request_was_sent(
    error: httpx2.TransportError, kind: FailureKind
) -> None:
    assert outcome_of_exception(error).kind is kind


def test_hook_retries_only_transient_and_honours_retry_after() -> None:
    hook = backoff_hook(RetryPolicy(max_retry_after=30))
    assert hook(Transient("x")) is True
    assert hook(Transient("x", retry_after=12)) == 12
    assert hook(Transient("x", retry_after=0)) == 0.05  # never spin
    assert hook(Transient("x", retry_after=31)) is False  # too long: the engine reschedules
    assert hook(Uncertain("x")) is False
    assert hook(Permanent("x")) is False
    assert hook(AuthExpired("x")) is False
    assert hook(ValueError("bug")) is False


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> object:
    with stamina.set_testing(True, attempts=3):
        yield


def test_transient_is_retried_until_it_succeeds() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Transient("503")
        return "ok"

    assert call_with_retries(flaky) == "ok"
    assert len(calls) == 3


def test_the_last_transient_propagates_after_the_attempts() -> None:
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise Transient("still down")

    with pytest.raises(Transient):
        call_with_retries(down)
    assert len(calls) == 3


@pytest.mark.parametrize("error", [Uncertain("lost"), Permanent("bad"), AuthExpired("revoked")])
def test_other_errors_propagate_immediately(error: Exception) -> None:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        call_with_retries(fail)
    assert len(calls) == 1
