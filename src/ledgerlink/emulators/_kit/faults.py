"""Fault injection for emulators: 5xx, 429, slow responses, resets and drops after the write.

A :class:`FaultInjector` holds rules keyed by path prefix and methods; :class:`FaultMiddleware`
applies the most specific matching rule to every request outside the admin prefix. Randomness
comes from one seeded :class:`random.Random`, so a run with the same seed and the same request
sequence injects the same faults.

``drop_after_commit`` lets the application perform the request (the write takes effect), then
starts the response and aborts the connection, so the client sees a transport error although
the server state changed: the "Uncertain" outcome that exactly-once logic has to reconcile.
``reset`` aborts the same way *before* the application runs. ``slow_seconds`` delays a request
before the application sees it; ``hold_seconds`` delays the answer *after* the application has
done the work — a client that dies in that window leaves a write it never heard of.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ConnectionDropped",
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "InjectedRenderer",
    "injected_response",
]

ADMIN_PREFIX = "/_emulator"


class ConnectionDropped(Exception):
    """Raised after a started response to make the server abort the connection."""


@dataclass(frozen=True)
class FaultRule:
    """What to inject on requests whose path starts with ``path_prefix``.

    ``methods`` empty means every method. Rates are probabilities in [0, 1].
    """

    path_prefix: str = ""
    methods: frozenset[str] = field(default_factory=frozenset)
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit_rate: float = 0.0
    retry_after: float | None = 1
    slow_seconds: float = 0.0
    drop_after_commit_rate: float = 0.0
    reset_rate: float = 0.0
    hold_seconds: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "rate_limit_rate", "drop_after_commit_rate", "reset_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if not 400 <= self.error_status <= 599:
            raise ValueError(f"error_status must be a 4xx or 5xx status, not {self.error_status}")
        if self.slow_seconds < 0 or self.hold_seconds < 0:
            raise ValueError("slow_seconds and hold_seconds must not be negative")
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to ``method path``."""
        return path.startswith(self.path_prefix) and (not self.methods or method in self.methods)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description (the admin route's format)."""
        data = asdict(self)
        data["methods"] = sorted(self.methods)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        """Build a rule from the admin route's format; unknown keys raise ``TypeError``."""
        values = dict(data)
        if "methods" in values:
            values["methods"] = frozenset(values["methods"])
        return cls(**values)


@dataclass(frozen=True)
class Decision:
    """The faults chosen for one request."""

    reset: bool = False
    error_status: int | None = None
    rate_limited: bool = False
    retry_after: float | None = None
    slow_seconds: float = 0.0
    drop_after_commit: bool = False
    hold_seconds: float = 0.0


class FaultInjector:
    """Thread-safe set of fault rules with deterministic (seeded) randomness."""

    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._seed = seed
        self._random = random.Random(seed)

    @property
    def rules(self) -> list[FaultRule]:
        """The active rules, most specific first."""
        with self._lock:
            return list(self._rules)

    @property
    def seed(self) -> int:
        """The seed the random source was last reset with."""
        return self._seed

    def set(
        self,
        path_prefix: str = "",
        *,
        methods: Iterable[str] = frozenset(),
        error_rate: float = 0.0,
        error_status: int = 503,
        rate_limit_rate: float = 0.0,
        retry_after: float | None = 1,
        slow_seconds: float = 0.0,
        drop_after_commit_rate: float = 0.0,
        reset_rate: float = 0.0,
        hold_seconds: float = 0.0,
    ) -> FaultRule:
        """Add a rule, replacing any rule with the same prefix and methods."""
        rule = FaultRule(
            path_prefix,
            frozenset(methods),
            error_rate,
            error_status,
            rate_limit_rate,
            retry_after,
            slow_seconds,
            drop_after_commit_rate,
            reset_rate,
            hold_seconds,
        )
        self.add(rule)
        return rule

    def add(self, rule: FaultRule) -> None:
        """Add ``rule``, replacing any rule with the same prefix and methods."""
        with self._lock:
            self._rules = [
                r
                for r in self._rules
                if (r.path_prefix, r.methods) != (rule.path_prefix, rule.methods)
            ]
            self._rules.append(rule)
            self._rules.sort(key=lambda r: (len(r.path_prefix), len(r.methods) > 0), reverse=True)

    def replace(self, rules: Iterable[FaultRule], *, seed: int | None = None) -> None:
        """Replace every rule (and optionally reseed)."""
        self.clear(seed=seed)
        for rule in rules:
            self.add(rule)

    def clear(self, *, seed: int | None = None) -> None:
        """Remove every rule; with ``seed`` also reset the random source."""
        with self._lock:
            self._rules = []
            if seed is not None:
                self._seed = seed
                self._random = random.Random(seed)

    def decide(self, method: str, path: str) -> Decision:
        """Choose the faults for one request (consumes randomness only when a rule matches)."""
        with self._lock:
            rule = next((r for r in self._rules if r.matches(method.upper(), path)), None)
            if rule is None:
                return Decision()
            draw = self._random.random
            reset = rule.reset_rate > 0 and draw() < rule.reset_rate
            error = rule.error_rate > 0 and draw() < rule.error_rate
            limited = rule.rate_limit_rate > 0 and draw() < rule.rate_limit_rate
            dropped = rule.drop_after_commit_rate > 0 and draw() < rule.drop_after_commit_rate
        return Decision(
            reset=reset,
            error_status=rule.error_status if error else None,
            rate_limited=limited,
            retry_after=rule.retry_after,
            slow_seconds=rule.slow_seconds,
            drop_after_commit=dropped,
            hold_seconds=rule.hold_seconds,
        )

    def to_json(self) -> dict[str, Any]:
        """The admin route's view of the injector."""
        return {"seed": self.seed, "rules": [rule.to_json() for rule in self.rules]}


def injected_response(_request: Request, status: int, message: str) -> Response:
    """The kit's own body for an injected 5xx or 429: ``{"message", "httpStatusCode"}``."""
    payload = json.dumps({"message": message, "httpStatusCode": status}).encode()
    return Response(payload, status_code=status, media_type="application/json; charset=utf-8")


InjectedRenderer = Callable[[Request, int, str], Response]
"""Renders an injected error (request, status, message) in an ERP's own envelope."""


class FaultMiddleware:
    """ASGI middleware applying a :class:`FaultInjector` (admin routes are never faulted)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        render: InjectedRenderer = injected_response,
    ) -> None:
        self.app = app
        self.injector = injector
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(scope["method"], scope["path"])
        if decision.slow_seconds:
            await asyncio.sleep(decision.slow_seconds)
        if decision.reset:
            await send({"type": "http.response.start", "status": 500, "headers": []})
            raise ConnectionDropped("injected connection reset")
        if decision.error_status is not None:
            message = "Injected fault: the service is temporarily unavailable."
            response = self.render(Request(scope), decision.error_status, message)
            await response(scope, receive, send)
            return
        if decision.rate_limited:
            response = self.render(Request(scope), 429, "Too many requests.")
            if decision.retry_after is not None:
                response.headers["retry-after"] = _seconds(decision.retry_after)
            await response(scope, receive, send)
            return
        if decision.hold_seconds and not decision.drop_after_commit:

            async def hold(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await asyncio.sleep(decision.hold_seconds)
                await send(message)

            await self.app(scope, receive, hold)
            return
        if not decision.drop_after_commit:
            await self.app(scope, receive, send)
            return

        async def swallow(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Starting the response is what makes the server close instead of answering 500.
                await send({**message, "headers": [(b"content-length", b"1")]})

        await self.app(scope, receive, swallow)
        raise ConnectionDropped("injected drop after the write was committed")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
