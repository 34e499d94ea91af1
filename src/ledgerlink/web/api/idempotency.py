"""``Idempotency-Key`` on every POST (the stripe-python convention, design §11).

A POST with the header is run once per user and key: the answer (status, body, Location) is
kept, and the same key with the same request (method, path, query and body, compared by their
SHA-256) gets that answer again without running anything — marked ``Idempotent-Replayed:
true``. The same key with another request is a 409, and so is the same key while the first
request is still running. Keys are kept 24 hours.

Kept: every answer the request itself gave, errors included (a 422 stays a 422: the request
was refused, not lost). Not kept: 401 and 403 (the key's caller could not use the route; a
retry after the role changed runs) and server errors (the client may retry the same key).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.errors import LedgerlinkError
from ledgerlink.store.api_keys import IdempotencyStore, StoredAnswer
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.problems import (
    ApiProblem,
    FieldProblem,
    from_error,
    problem_response,
    validation_problem,
)

HEADER = "Idempotency-Key"
#: Printable ASCII without spaces, 1 to 255 characters (a UUID is the usual choice).
KEY = re.compile(r"[\x21-\x7e]{1,255}")
_NOT_KEPT = frozenset({401, 403})

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def idempotency_header(
    idempotency_key: str | None = Header(
        default=None,
        alias=HEADER,
        pattern=KEY.pattern,
        description="Any unique string (a UUID): the same key and request again get the first "
        "answer again; the same key with another request is refused (409). Kept 24 hours.",
    ),
) -> None:
    """Declares the header in the OpenAPI document (:class:`IdempotentRoute` acts on it)."""


def request_hash(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(body)
    return digest.hexdigest()


def idempotent_route(authenticator: Authenticator, store: IdempotencyStore) -> type[APIRoute]:
    """A route class whose POST routes honour ``Idempotency-Key``."""

    class IdempotentRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
            if "POST" in (options.get("methods") or ()):  # the header in the document
                options["dependencies"] = [
                    *(options.get("dependencies") or ()),
                    Depends(idempotency_header),
                ]
            super().__init__(path, endpoint, **options)

        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()
            if "POST" not in (self.methods or set()):
                return handler

            async def idempotent(request: Request) -> Response:
                key = request.headers.get(HEADER)
                if key is None:
                    return await handler(request)
                if not KEY.fullmatch(key):
                    raise ApiProblem(
                        "validation",
                        f"{HEADER} must be 1 to 255 printable characters without spaces",
                        errors=[FieldProblem(field=f"header:{HEADER}", message="not valid")],
                    )
                caller = await authenticator.caller(request)
                body = await request.body()  # Starlette keeps it for the handler
                digest = request_hash(request.method, request.url.path, request.url.query, body)
                claim = await run_in_threadpool(store.claim, caller.user_id, key, digest)
                if claim.other_request:
                    raise ApiProblem(
                        "idempotency-key-reused",
                        f"the {HEADER} {key!r} came with another request in the last 24 hours; "
                        "use a new key for a new request",
                    )
                if claim.running:
                    raise ApiProblem(
                        "idempotency-key-in-use",
                        f"the request with {HEADER} {key!r} has not finished; ask again shortly",
                        headers={"Retry-After": "1"},
                    )
                if claim.answer is not None:
                    return _replay(claim.answer)
                try:
                    response = await _answer(handler, request)
                except BaseException:
                    await run_in_threadpool(store.release, caller.user_id, key)
                    raise
                if response.status_code >= 500 or response.status_code in _NOT_KEPT:
                    await run_in_threadpool(store.release, caller.user_id, key)
                    return response
                answer = StoredAnswer(
                    status=response.status_code,
                    content_type=response.headers.get("content-type", ""),
                    location=response.headers.get("location", ""),
                    body=bytes(response.body).decode("utf-8"),
                )
                await run_in_threadpool(store.keep, caller.user_id, key, answer)
                return response

            return idempotent

    return IdempotentRoute


async def _answer(handler: Handler, request: Request) -> Response:
    """The handler's answer, its refusals (ledgerlink errors, problems) made answers here so
    they are kept like any other."""
    try:
        return await handler(request)
    except ApiProblem as problem:
        return problem_response(problem)
    except LedgerlinkError as error:
        return problem_response(from_error(error))
    except RequestValidationError as error:
        return problem_response(validation_problem(error))


def _replay(answer: StoredAnswer) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if answer.location:
        headers["Location"] = answer.location
    return Response(
        content=answer.body.encode("utf-8"),
        status_code=answer.status,
        media_type=answer.content_type or None,
        headers=headers,
    )
