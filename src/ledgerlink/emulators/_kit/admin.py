"""Admin routes every emulator shares: the fault injector and the request journal.

``GET/PUT/DELETE {prefix}/faults`` — read, replace (a rule object, a list of rule objects, or
``{"seed": n, "rules": [...]}``) and clear the fault rules. ``GET/DELETE {prefix}/journal`` —
read and clear the request journal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.params import Depends
from starlette.responses import JSONResponse, Response

from ledgerlink.emulators._kit.faults import FaultInjector, FaultRule
from ledgerlink.emulators._kit.journal import RequestJournal
from ledgerlink.emulators._kit.jsonio import loads

__all__ = ["ADMIN_PREFIX", "kit_admin_router"]

ADMIN_PREFIX = "/_emulator"


def kit_admin_router(
    *,
    faults: FaultInjector,
    journal: RequestJournal,
    dependencies: Sequence[Depends] = (),
    error: Callable[[Request, int, str], Response] | None = None,
) -> APIRouter:
    """Routes for faults and journal, guarded by ``dependencies`` (e.g. the emulator's auth);
    ``error(request, status, message)`` renders a refused request in the ERP's envelope."""
    router = APIRouter(prefix=ADMIN_PREFIX, dependencies=list(dependencies))

    def bad_request(request: Request, message: str) -> Response:
        if error is not None:
            return error(request, 400, message)
        return JSONResponse({"message": message}, status_code=400)

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return faults.to_json()

    @router.put("/faults")
    async def put_faults(request: Request) -> Response:
        try:
            document = loads(await request.body() or b"{}")
            seed: int | None = None
            if isinstance(document, dict) and "rules" in document:
                seed = document.get("seed")
                raw_rules = document["rules"]
            else:
                raw_rules = document if isinstance(document, list) else [document]
            rules = [FaultRule.from_json(_floats(rule)) for rule in raw_rules]
        except (TypeError, ValueError) as problem:
            return bad_request(request, f"invalid fault rules: {problem}")
        faults.replace(rules, seed=seed)
        return JSONResponse(faults.to_json())

    @router.delete("/faults", status_code=204)
    async def delete_faults() -> Response:
        faults.clear()
        return Response(status_code=204)

    @router.get("/journal")
    async def get_journal() -> dict[str, Any]:
        return {"entries": [entry.to_json() for entry in journal.entries]}

    @router.delete("/journal", status_code=204)
    async def delete_journal() -> Response:
        journal.clear()
        return Response(status_code=204)

    return router


def _floats(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise TypeError("a fault rule must be a JSON object")
    # Rates and durations are probabilities and seconds, not money: floats are right here.
    return {
        key: float(value) if type(value).__name__ == "Decimal" else value
        for key, value in rule.items()
    }
