"""The one HTTP client builder every connector uses.

It sets timeouts, the user agent, auth, the rate limiter (asked before each request, told
about 429s) and structured logging of every exchange with secrets redacted. Transports are
the test seam (httpx style): tests pass none and talk to an emulator over real HTTP.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
import structlog

from ledgerlink import __version__
from ledgerlink.connectors._kit.limiter import LimiterKey, RateLimiter
from ledgerlink.connectors._kit.retry import parse_retry_after

USER_AGENT = f"ledgerlink/{__version__}"
REDACTED = "***"
_SECRET_NAME = re.compile(r"token|secret|authorization|password|key|cookie", re.IGNORECASE)
_STARTED = "ledgerlink.started"


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Seconds allowed to connect, to read the answer, to write the body and to get a pooled
    connection."""

    connect: float = 5.0
    read: float = 30.0
    write: float = 30.0
    pool: float = 10.0

    def to_httpx(self) -> httpx2.Timeout:
        return httpx2.Timeout(
            connect=self.connect, read=self.read, write=self.write, pool=self.pool
        )


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter name suggests a secret value."""
    return bool(_SECRET_NAME.search(name))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with every secret-looking value replaced by ``***``."""
    return {name: (REDACTED if is_secret_name(name) else value) for name, value in headers.items()}


def redact_url(url: httpx2.URL) -> str:
    """Path and query of ``url`` with secret-looking query values replaced by ``***``."""
    if not url.query:
        return url.path
    params = [
        f"{name}={REDACTED if is_secret_name(name) else value}"
        for name, value in url.params.multi_items()
    ]
    return f"{url.path}?{'&'.join(params)}"


#: Pause after a 429 that names no wait (Fortnox sends no headers at all): enough for a sliding
#: window to free a slot, short enough not to idle a connection for long.
BARE_429_PAUSE = 1.0
_REMAINING = re.compile(r"^(?P<family>(?:x-)?ratelimit(?:-[a-z0-9]+)*)-remaining$", re.IGNORECASE)
#: Reset values at or above these are epoch milliseconds / epoch seconds; below, delta seconds.
_EPOCH_MS, _EPOCH_S = 100_000_000_000, 1_000_000_000


def server_pause(
    status: int,
    headers: Mapping[str, str],
    *,
    now: float,
    bare_429: float = BARE_429_PAUSE,
) -> float | None:
    """Seconds the server's answer asks every caller of this budget to pause, or ``None``.

    * a 429's ``Retry-After`` (delta seconds or an HTTP date);
    * any header family ``[X-]RateLimit[-Name]-Remaining`` at 0 with its ``…-Reset``, e.g.
      Exact's daily ``X-RateLimit-*`` and minutely ``X-RateLimit-Minutely-*``: until the reset.
      A reset is read as epoch milliseconds (Exact), epoch seconds or delta seconds by size;
    * a 429 that says neither: ``bare_429``.

    The longest of these wins; ``now`` is epoch seconds. Pure: no I/O, no clock.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    pauses: list[float] = []
    if status == 429:
        current = datetime.fromtimestamp(now, UTC)
        retry_after = parse_retry_after(lowered.get("retry-after"), now=current)
        if retry_after is not None:
            pauses.append(retry_after)
    for name, value in lowered.items():
        match = _REMAINING.match(name)
        if match is None or _number(value) != 0:
            continue
        reset = _number(lowered.get(f"{match['family']}-reset"))
        if reset is not None:
            pauses.append(_until(reset, now))
    if pauses:
        return max(pauses)
    return bare_429 if status == 429 else None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _until(reset: float, now: float) -> float:
    if reset >= _EPOCH_MS:
        return max(reset / 1000 - now, 0.0)
    if reset >= _EPOCH_S:
        return max(reset - now, 0.0)
    return max(reset, 0.0)


def _hooks(
    *, erp: str, limiter: RateLimiter | None, limiter_key: LimiterKey | None
) -> dict[str, list[Any]]:
    log = structlog.get_logger("ledgerlink.http").bind(erp=erp)

    def on_request(request: httpx2.Request) -> None:
        if limiter is not None and limiter_key is not None:
            limiter.acquire(limiter_key)
        request.extensions[_STARTED] = time.perf_counter()
        log.debug(
            "http.request",
            method=request.method,
            url=redact_url(request.url),
            headers=redact_headers(request.headers),
        )

    def on_response(response: httpx2.Response) -> None:
        request = response.request
        started = request.extensions.get(_STARTED)
        elapsed_ms = (
            round((time.perf_counter() - started) * 1000, 1) if isinstance(started, float) else None
        )
        if limiter is not None and limiter_key is not None:
            pause = server_pause(response.status_code, response.headers, now=time.time())
            if pause:
                limiter.defer(limiter_key, pause)
        log.info(
            "http.response",
            method=request.method,
            url=redact_url(request.url),
            status=response.status_code,
            elapsed_ms=elapsed_ms,
            headers=redact_headers(response.headers),
        )

    return {"request": [on_request], "response": [on_response]}


def build_client(
    *,
    base_url: str,
    auth: httpx2.Auth | None,
    headers: Mapping[str, str] | None = None,
    timeout: Timeouts | None = None,
    user_agent: str = USER_AGENT,
    limiter: RateLimiter | None = None,
    limiter_key: LimiterKey | None = None,
    transport: httpx2.BaseTransport | None = None,
    erp: str = "",
) -> httpx2.Client:
    """A configured client for one ERP connection (see the module docstring).

    ``limiter`` is honoured only together with ``limiter_key`` (whose budget to spend). Without
    ``transport`` a plain HTTP transport without transport-level retries is used: retrying is
    :mod:`ledgerlink.connectors._kit.retry`'s job, where it can be classified.
    """
    all_headers = {"User-Agent": user_agent, "Accept": "application/json"}
    all_headers.update(headers or {})
    return httpx2.Client(
        base_url=base_url,
        auth=auth,
        headers=all_headers,
        timeout=(timeout or Timeouts()).to_httpx(),
        transport=transport if transport is not None else httpx2.HTTPTransport(retries=0),
        event_hooks=_hooks(erp=erp, limiter=limiter, limiter_key=limiter_key),
        follow_redirects=False,
        trust_env=False,
    )
