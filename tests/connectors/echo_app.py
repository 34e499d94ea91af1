"""A tiny ASGI server for the HTTP kit tests: answers with the status and headers asked for
in the query string, and counts calls. Served over real HTTP with ``running``."""

from __future__ import annotations

from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def make_echo_app() -> tuple[Starlette, Counter[str]]:
    calls: Counter[str] = Counter()

    async def echo(request: Request) -> JSONResponse:
        calls[request.url.path] += 1
        status = int(request.query_params.get("status", "200"))
        fail_times = int(request.query_params.get("fail_times", "0"))
        if fail_times and calls[request.url.path] > fail_times:
            status = 200
        headers = {}
        if "retry_after" in request.query_params:
            headers["Retry-After"] = request.query_params["retry_after"]
        headers["X-Secret-Token"] = "server-secret-value"
        body = {"message": "as requested", "method": request.method}
        return JSONResponse(body, status_code=status, headers=headers)

    routes = [Route("/{name}", echo, methods=["GET", "POST", "PUT", "DELETE"])]
    return Starlette(routes=routes), calls
