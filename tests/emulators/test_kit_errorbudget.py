"""The kit's error budget: too many failing answers per key in a window block the key."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import Response
from starlette.types import Scope

from ledgerlink.emulators._kit.errorbudget import ErrorBudget, ErrorBudgetMiddleware


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _key(scope: Scope) -> str | None:
    user = dict(scope["headers"]).get(b"x-user")
    return user.decode() if user else None


def test_more_than_the_budget_of_errors_blocks_the_key_for_the_block_time() -> None:
    clock = Clock()
    budget = ErrorBudget(max_errors=3, seconds=60, block_seconds=600, clock=clock)
    app = FastAPI()

    @app.get("/{status}")
    async def answer(status: int) -> Response:
        return Response(status_code=status)

    app.add_middleware(
        ErrorBudgetMiddleware, budget=budget, key=_key, body=lambda until: {"until": until}
    )
    client = TestClient(app)
    alice, bob = {"X-User": "alice"}, {"X-User": "bob"}
    for _ in range(3):
        assert client.get("/404", headers=alice).status_code == 404
    assert client.get("/500", headers=alice).status_code == 500  # not a counted status
    assert client.get("/204", headers=alice).status_code == 204
    clock.now += 61  # the first three left the window
    for _ in range(3):
        assert client.get("/400", headers=alice).status_code == 400
    assert client.get("/401", headers=alice).status_code == 401  # the fourth in 60 s
    blocked = client.get("/204", headers=alice)
    assert (blocked.status_code, blocked.json()) == (429, {"until": clock.now + 600})
    assert client.get("/204", headers=bob).status_code == 204
    assert client.get("/404").status_code == 404  # no key: never counted or blocked
    clock.now += 600
    assert client.get("/204", headers=alice).status_code == 204
