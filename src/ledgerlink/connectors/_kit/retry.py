"""Retry classification (a pure function) and the retry loop built on stamina.

:func:`decide` answers, for one attempt, "what should the caller do now?" — in the style of
stripe-python's ``_should_retry``. It knows nothing about any ERP: it looks at the HTTP method,
at whether the request could have reached the server, and at the status and ``Retry-After``.
:func:`call_with_retries` retries only :class:`~ledgerlink.connectors.contract.Transient`;
an :class:`~ledgerlink.connectors.contract.Uncertain` outcome propagates at once, because only
the engine can look the correlation reference up before anything is sent again.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx2
import stamina

from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    Permanent,
    Transient,
    Uncertain,
)

_T = TypeVar("_T")

#: Methods whose repetition has the same effect as sending them once (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Verdict(enum.StrEnum):
    """What the caller should do after one attempt."""

    OK = "ok"
    TRANSIENT = "transient"
    UNCERTAIN = "uncertain"
    PERMANENT = "permanent"
    AUTH_EXPIRED = "auth_expired"


class FailureKind(enum.StrEnum):
    """How an attempt failed when no HTTP response came back."""

    NOT_SENT = "not_sent"
    """Connection refused, DNS failure, connect or pool timeout: the server never saw it."""
    NO_ANSWER = "no_answer"
    """Read timeout, reset or a half-sent body: the server may have acted on it."""


@dataclass(frozen=True, slots=True)
class ResponseOutcome:
    """The server answered with ``status`` (and maybe a ``Retry-After`` header value)."""

    status: int
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    """No response: the transport failed in the way ``kind`` describes."""

    kind: FailureKind
    detail: str = ""


Outcome = ResponseOutcome | FailureOutcome


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """The verdict of :func:`decide`, the server's wait (seconds) and why."""

    verdict: Verdict
    reason: str
    retry_after: float | None = None

    @property
    def should_retry(self) -> bool:
        return self.verdict is Verdict.TRANSIENT


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    Unparseable values give ``None`` (the header is optional at several ERPs); dates in the
    past give 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)


def decide(method: str, outcome: Outcome, *, now: datetime | None = None) -> RetryDecision:
    """Classify one attempt of ``method`` by its ``outcome`` (pure; see module docstring)."""
    idempotent = method.upper() in IDEMPOTENT_METHODS
    if isinstance(outcome, FailureOutcome):
        if outcome.kind is FailureKind.NOT_SENT:
            return RetryDecision(Verdict.TRANSIENT, "the request never reached the server")
        if idempotent:
            return RetryDecision(Verdict.TRANSIENT, "no answer to a request that is safe to repeat")
        return RetryDecision(
            Verdict.UNCERTAIN, "no answer after sending a write; it may have taken effect"
        )
    status = outcome.status
    if status < 400:
        return RetryDecision(Verdict.OK, f"HTTP {status}")
    if status == 429:
        return RetryDecision(
            Verdict.TRANSIENT,
            "rate limited (HTTP 429)",
            retry_after=parse_retry_after(outcome.retry_after, now=now),
        )
    if status == 401:
        return RetryDecision(Verdict.AUTH_EXPIRED, "credentials refused (HTTP 401)")
    if status == 408:
        return RetryDecision(Verdict.TRANSIENT, "the server timed out reading the request")
    if status in (501, 505):
        return RetryDecision(Verdict.PERMANENT, f"not supported by the server (HTTP {status})")
    if status >= 500:
        retry_after = parse_retry_after(outcome.retry_after, now=now)
        if idempotent:
            return RetryDecision(Verdict.TRANSIENT, f"server error (HTTP {status})", retry_after)
        return RetryDecision(
            Verdict.UNCERTAIN, f"server error (HTTP {status}) on a write; it may have taken effect"
        )
    return RetryDecision(Verdict.PERMANENT, f"refused (HTTP {status})")


def outcome_of_exception(error: httpx2.TransportError) -> FailureOutcome:
    """Map an httpx2 transport error to whether the request could have reached the server."""
    if isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout):
        return FailureOutcome(FailureKind.NOT_SENT, type(error).__name__)
    if isinstance(error, httpx2.UnsupportedProtocol | httpx2.ProxyError):
        return FailureOutcome(FailureKind.NOT_SENT, type(error).__name__)
    return FailureOutcome(FailureKind.NO_ANSWER, type(error).__name__)


def outcome_of_response(response: httpx2.Response) -> ResponseOutcome:
    """The status and ``Retry-After`` of ``response``."""
    return ResponseOutcome(response.status_code, response.headers.get("retry-after"))


_ERROR_CLASSES: dict[Verdict, type[ConnectorError]] = {
    Verdict.TRANSIENT: Transient,
    Verdict.UNCERTAIN: Uncertain,
    Verdict.PERMANENT: Permanent,
    Verdict.AUTH_EXPIRED: AuthExpired,
}


def error_class(verdict: Verdict) -> type[ConnectorError]:
    """The contract error class that says what the caller should do for ``verdict``."""
    if verdict is Verdict.OK:
        raise ValueError("an OK outcome is not an error")
    return _ERROR_CLASSES[verdict]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How hard :func:`call_with_retries` tries: attempts, total time, backoff with jitter, and
    the longest server-requested wait it will sit out (longer waits go back to the engine)."""

    attempts: int = 4
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 1.0
    max_retry_after: float = 5.0


def backoff_hook(policy: RetryPolicy) -> Callable[[BaseException], bool | float]:
    """stamina ``on`` hook: retry only :class:`Transient`; wait at least the server's
    ``retry_after`` (returned as the custom backoff), refuse waits beyond the policy."""

    def hook(error: BaseException) -> bool | float:
        if not isinstance(error, Transient):
            return False
        if error.retry_after is None:
            return True
        if error.retry_after > policy.max_retry_after:
            return False
        # A small floor so a "Retry-After: 0" storm does not spin.
        return max(error.retry_after, 0.05)

    return hook


def call_with_retries(fn: Callable[[], _T], *, policy: RetryPolicy | None = None) -> _T:
    """Call ``fn`` until it returns, retrying :class:`Transient` errors per ``policy``.

    Every other exception — :class:`Uncertain`, :class:`Permanent`, :class:`AuthExpired`,
    programming errors — propagates at once; after the last attempt the last Transient does.
    """
    effective = policy if policy is not None else RetryPolicy()
    for attempt in stamina.retry_context(
        on=backoff_hook(effective),
        attempts=effective.attempts,
        timeout=effective.timeout,
        wait_initial=effective.wait_initial,
        wait_max=effective.wait_max,
        wait_jitter=effective.wait_jitter,
    ):
        with attempt:
            return fn()
    raise AssertionError("stamina.retry_context ended without an outcome")  # pragma: no cover
