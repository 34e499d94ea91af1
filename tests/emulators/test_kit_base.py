"""The emulator base: an emulator assembled from it answers every error in its ERP's envelope,
journals and faults its API, guards the shared admin routes, runs its own middleware inside
the fault injector, and writes its state file at start and after writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ledgerlink.emulators._kit.base import Emulator, ErrorEnvelope, Routes
from ledgerlink.emulators._kit.state import EmulatorState

KEY = {"X-Key": "k"}
ADMIN = {"X-Admin": "a"}


class AcmeError(Exception):
    """The ERP's own error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AcmeErrors(ErrorEnvelope):
    """Acme answers ``{"Error": {"Message", "Status"}}`` (faults included)."""

    def render(self, request: Request, status: int, message: str) -> Response:
        return JSONResponse({"Error": {"Message": message, "Status": status}}, status_code=status)

    def acme(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, AcmeError)
        return self.render(request, error.status, error.message)

    def injected(self, request: Request, status: int, message: str) -> Response:
        return self.render(request, status, f"Acme: {message}")


class AcmeState(EmulatorState):
    def __init__(self, path: Path | None) -> None:
        super().__init__(path=path)
        self.items: dict[str, int] = {}
        self.add_part("items", dump=lambda: dict(self.items), load=self._load)

    def _load(self, data: dict[str, int]) -> None:
        self.items = dict(data)


def acme(request: Request) -> Acme:
    emulator: Acme = request.app.state.emulator
    return emulator


api = APIRouter()


@api.get("/items/{number}")
async def get_item(request: Request, number: int) -> dict[str, Any]:
    state = acme(request).state
    with state.lock:
        if str(number) not in state.items:
            raise AcmeError(404, f"Item {number} does not exist.")
        return {"number": number, "price": state.items[str(number)]}


@api.post("/items/{number}")
async def put_item(request: Request, number: int) -> dict[str, Any]:
    state = acme(request).state
    price = int((await request.json())["price"])
    with state.change():
        state.items[str(number)] = price
    return {"number": number, "price": price}


public = APIRouter()


@public.get("/status")
async def status() -> dict[str, str]:
    return {"status": "up"}


async def api_key(request: Request) -> None:
    if request.headers.get("x-key") != "k":
        raise AcmeError(401, "Missing or wrong X-Key.")


async def admin_key(request: Request) -> None:
    if request.headers.get("x-admin") != "a":
        raise AcmeError(401, "Admin routes need X-Admin.")


async def not_blocked(request: Request) -> None:
    if "x-blocked" in request.headers:
        raise AcmeError(403, "Blocked.")


class Counting:
    """ERP middleware (think: a rate-limit window) that counts the requests it sees."""

    def __init__(self, app: ASGIApp, *, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])
        await self.app(scope, receive, send)


class Acme(Emulator):
    state: AcmeState

    def __init__(self, *, state_file: Path | None = None) -> None:
        super().__init__(state=AcmeState(state_file))
        self.seen: list[str] = []
        errors = AcmeErrors()
        self.app = self.assemble(
            title="Acme (test)",
            errors=errors,
            handlers={AcmeError: errors.acme},
            admin_dependencies=[Depends(admin_key)],
            routers=[Routes(api, dependencies=[Depends(api_key)]), public],
            middleware=[Middleware(Counting, seen=self.seen)],
            dependencies=[Depends(not_blocked)],
        )


@pytest.fixture
def emulator() -> Acme:
    return Acme()


@pytest.fixture
def http(emulator: Acme) -> Iterator[TestClient]:
    with TestClient(emulator.app) as client:
        yield client


def test_routes_answer_and_router_dependencies_guard_only_their_router(http: TestClient) -> None:
    assert http.post("/items/7", json={"price": 70}, headers=KEY).json() == {
        "number": 7,
        "price": 70,
    }
    assert http.get("/items/7", headers=KEY).json()["price"] == 70
    refused = http.get("/items/7")
    assert refused.status_code == 401
    assert refused.json() == {"Error": {"Message": "Missing or wrong X-Key.", "Status": 401}}
    assert http.get("/status").json() == {"status": "up"}
    assert http.get("/status", headers={"X-Blocked": "1"}).status_code == 403


def test_every_error_the_kit_meets_is_in_the_erp_envelope(http: TestClient) -> None:
    assert http.get("/items/8", headers=KEY).json() == {
        "Error": {"Message": "Item 8 does not exist.", "Status": 404}
    }
    assert http.get("/nowhere").json() == {"Error": {"Message": "Not Found", "Status": 404}}
    wrong_method = http.delete("/status")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["Error"]["Status"] == 405
    unbound = http.get("/items/abc", headers=KEY)
    assert unbound.status_code == 404
    assert unbound.json()["Error"]["Message"] == "The resource /items/abc was not found."
    bad_rules = http.put("/_emulator/faults", json={"error_rate": 3}, headers=ADMIN)
    assert bad_rules.status_code == 400
    assert bad_rules.json()["Error"]["Message"].startswith("invalid fault rules")


def test_admin_routes_are_guarded_and_never_journaled_or_faulted(
    emulator: Acme, http: TestClient
) -> None:
    assert http.get("/_emulator/journal").status_code == 401
    rule = {"path_prefix": "", "error_rate": 1.0, "error_status": 503}
    assert http.put("/_emulator/faults", json=rule, headers=ADMIN).status_code == 200
    assert http.get("/_emulator/faults", headers=ADMIN).json()["rules"][0]["error_rate"] == 1.0
    faulted = http.get("/status")
    assert faulted.status_code == 503
    assert faulted.json() == {
        "Error": {
            "Message": "Acme: Injected fault: the service is temporarily unavailable.",
            "Status": 503,
        }
    }
    assert http.delete("/_emulator/faults", headers=ADMIN).status_code == 204
    journal = http.get("/_emulator/journal", headers=ADMIN).json()["entries"]
    assert [(e["method"], e["path"], e["status"]) for e in journal] == [("GET", "/status", 503)]
    assert emulator.journal.count(path_prefix="/_emulator") == 0


def test_erp_middleware_runs_inside_the_fault_injector_and_the_journal(
    emulator: Acme, http: TestClient
) -> None:
    emulator.faults.set("/status", rate_limit_rate=1.0, retry_after=3)
    limited = http.get("/status")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json()["Error"]["Message"] == "Acme: Too many requests."
    emulator.faults.clear()
    assert http.get("/status").status_code == 200
    # The injected 429 never reached the ERP's middleware; the journal saw both.
    assert emulator.seen == ["/status"]
    assert [e.status for e in emulator.journal.entries] == [429, 200]


def test_the_state_file_is_written_at_start_and_after_writes(tmp_path: Path) -> None:
    path = tmp_path / "acme.json"
    first = Acme(state_file=path)
    assert json.loads(path.read_text()) == {"items": {}}
    with TestClient(first.app) as http:
        http.post("/items/1", json={"price": 10}, headers=KEY)
    assert json.loads(path.read_text()) == {"items": {"1": 10}}
    second = Acme(state_file=path)
    with TestClient(second.app) as http:
        assert http.get("/items/1", headers=KEY).json()["price"] == 10
    second.close()


def test_the_default_envelope_is_plain_json() -> None:
    class Plain(Emulator):
        def __init__(self) -> None:
            super().__init__(state=EmulatorState(path=None))
            self.app = self.assemble(title="Plain", errors=ErrorEnvelope(), routers=[public])

    plain = Plain()
    plain.faults.set("/status", error_rate=1.0, error_status=502)
    with TestClient(plain.app) as http:
        assert http.get("/nowhere").json() == {"message": "Not Found"}
        faulted = http.get("/status")
    assert faulted.status_code == 502
    assert faulted.headers["content-type"] == "application/json; charset=utf-8"
    assert faulted.json() == {
        "message": "Injected fault: the service is temporarily unavailable.",
        "httpStatusCode": 502,
    }
