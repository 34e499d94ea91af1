"""Kit pieces over real HTTP: fault injector, request journal, running()."""

from __future__ import annotations

import socket
import time

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ledgerlink.emulators._kit.faults import FaultInjector, FaultMiddleware, FaultRule
from ledgerlink.emulators._kit.journal import JournalMiddleware, RequestJournal
from ledgerlink.emulators._kit.serve import running, running_all


class _Store:
    def __init__(self) -> None:
        self.writes = 0


def _app(store: _Store, faults: FaultInjector, journal: RequestJournal) -> Starlette:
    async def write(request: Request) -> JSONResponse:
        store.writes += 1
        return JSONResponse({"n": store.writes, "got": await request.json()}, status_code=201)

    async def read(_request: Request) -> JSONResponse:
        return JSONResponse({"writes": store.writes})

    app = Starlette(
        routes=[
            Route("/things", write, methods=["POST"]),
            Route("/things", read, methods=["GET"]),
            Route("/_emulator/ping", read, methods=["GET"]),
        ]
    )
    app.add_middleware(FaultMiddleware, injector=faults)
    app.add_middleware(JournalMiddleware, journal=journal)
    return app


@pytest.fixture
def kit() -> tuple[_Store, FaultInjector, RequestJournal, Starlette]:
    store, faults, journal = _Store(), FaultInjector(seed=1), RequestJournal()
    return store, faults, journal, _app(store, faults, journal)


def test_running_all_serves_each_app_on_its_own_port() -> None:
    def app(name: str) -> Starlette:
        async def who(_request: Request) -> JSONResponse:
            return JSONResponse({"app": name})

        return Starlette(routes=[Route("/who", who)])

    with running_all({"soap": app("soap"), "odata": app("odata")}) as urls:
        assert set(urls) == {"soap", "odata"} and urls["soap"] != urls["odata"]
        assert {name: httpx2.get(f"{url}/who").json()["app"] for name, url in urls.items()} == {
            "soap": "soap",
            "odata": "odata",
        }


def test_running_serves_on_loopback_and_stops(
    kit: tuple[_Store, FaultInjector, RequestJournal, Starlette],
) -> None:
    _store, _faults, _journal, app = kit
    with running(app) as url:
        assert url.startswith("http://127.0.0.1:")
        assert httpx2.get(f"{url}/things").json() == {"writes": 0}
        port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_error_and_rate_limit_faults(
    kit: tuple[_Store, FaultInjector, RequestJournal, Starlette],
) -> None:
    store, faults, journal, app = kit
    faults.set("/things", methods={"POST"}, error_rate=1.0, error_status=502)
    with running(app) as url:
        assert httpx2.post(f"{url}/things", json={}).status_code == 502
        assert httpx2.get(f"{url}/things").status_code == 200
        faults.set("/things", methods={"POST"}, rate_limit_rate=1.0, retry_after=7)
        limited = httpx2.post(f"{url}/things", json={})
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
        faults.clear()
        assert httpx2.post(f"{url}/things", json={"a": 1}).status_code == 201
    assert store.writes == 1
    assert [e.status for e in journal.entries] == [502, 200, 429, 201]
    assert journal.count("POST") == 3
    assert journal.count(path_prefix="/things") == 4
    assert journal.entries[-1].body == {"a": 1}


def test_drop_after_commit_performs_the_write_but_the_client_sees_a_transport_error(
    kit: tuple[_Store, FaultInjector, RequestJournal, Starlette],
) -> None:
    store, faults, journal, app = kit
    faults.set("/things", methods={"POST"}, drop_after_commit_rate=1.0)
    with running(app) as url:
        with pytest.raises(httpx2.TransportError):
            httpx2.post(f"{url}/things", json={"x": 1})
        assert store.writes == 1
        faults.set("/things", methods={"POST"}, reset_rate=1.0)
        with pytest.raises(httpx2.TransportError):
            httpx2.post(f"{url}/things", json={"x": 2})
        assert store.writes == 1
    assert [(e.status, e.dropped) for e in journal.entries] == [(201, True), (500, True)]


def test_slow_faults_delay_and_admin_paths_are_exempt(
    kit: tuple[_Store, FaultInjector, RequestJournal, Starlette],
) -> None:
    _store, faults, journal, app = kit
    faults.set("", slow_seconds=0.3, error_rate=1.0)
    with running(app) as url:
        started = time.monotonic()
        assert httpx2.get(f"{url}/things").status_code == 503
        assert time.monotonic() - started >= 0.3
        assert httpx2.get(f"{url}/_emulator/ping").status_code == 200
    assert journal.count(path_prefix="/_emulator") == 0


def test_a_held_answer_comes_after_the_write_so_a_client_that_gives_up_misses_it(
    kit: tuple[_Store, FaultInjector, RequestJournal, Starlette],
) -> None:
    store, faults, _journal, app = kit
    faults.set("/things", methods={"POST"}, hold_seconds=0.5)
    with running(app) as url:
        with pytest.raises(httpx2.TimeoutException):
            httpx2.post(f"{url}/things", json={"x": 1}, timeout=0.2)
        assert store.writes == 1  # done, although the client never heard of it
        started = time.monotonic()
        assert httpx2.post(f"{url}/things", json={"x": 2}).status_code == 201
        assert time.monotonic() - started >= 0.5
    assert store.writes == 2
    with pytest.raises(ValueError, match="negative"):
        FaultRule(hold_seconds=-1)


def test_faults_are_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.set(error_rate=0.5)
        return [injector.decide("GET", "/x").error_status is not None for _ in range(50)]

    assert pattern(3) == pattern(3)
    assert pattern(3) != pattern(4)
    assert 5 < sum(pattern(3)) < 45


def test_most_specific_rule_wins_and_rules_validate() -> None:
    injector = FaultInjector()
    injector.set("", error_rate=1.0)
    injector.set("/invoices", methods={"post"}, rate_limit_rate=1.0)
    assert injector.decide("POST", "/invoices/drafts").rate_limited
    assert injector.decide("POST", "/invoices/drafts").error_status is None
    assert injector.decide("GET", "/invoices").error_status == 503
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultRule(error_rate=1.5)
    rule = FaultRule.from_json({"path_prefix": "/a", "methods": ["get"], "reset_rate": 0.25})
    assert FaultRule.from_json(rule.to_json()) == rule
    injector.clear()
    assert injector.rules == []
