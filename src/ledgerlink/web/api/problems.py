"""Errors as RFC 9457 problem details (``application/problem+json``).

:func:`install` is the one place an error becomes an answer: ledgerlink's errors
(``ValidationError`` 422, ``NotFoundError`` 404, ``ConflictError`` and ``ImmutableError`` 409),
request bodies that do not fit their schema (422, with ``errors`` per field), unknown routes and
methods (404, 405), and anything unexpected (500, with no detail: never a traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledgerlink.domain.errors import (
    ConflictError,
    ImmutableError,
    LedgerlinkError,
    NotFoundError,
)

PROBLEM_JSON = "application/problem+json"
#: ``type`` URIs are relative to the API (RFC 9457 §3.1.1 allows a relative reference).
TYPE_BASE = "/api/v1/problems/"

_log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    """One problem of one field of the request."""

    field: str | None = Field(
        description="The field (a JSON key, dotted for nested ones); null: the whole request."
    )
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="A URI naming the kind of problem.")
    title: str = Field(description="The kind of problem, the same for every occurrence.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, and what to do about it.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="For a request that is not valid: each field's problem."
    )


#: Problem kind → (HTTP status, title).
KINDS: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "Not signed in"),
    "forbidden": (403, "Not allowed for your role"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "idempotency-key-reused": (409, "Idempotency-Key used for another request"),
    "idempotency-key-in-use": (409, "Request with this Idempotency-Key still running"),
    "payload-too-large": (413, "Request too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation": (422, "The request is not valid"),
    "server-error": (500, "Internal error"),
}


class ApiProblem(Exception):
    """Raise to answer with a problem of one of :data:`KINDS`."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        errors: Sequence[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}


def problem_response(problem: ApiProblem) -> JSONResponse:
    status, title = KINDS[problem.kind]
    body = Problem(
        type=TYPE_BASE + problem.kind,
        title=title,
        status=status,
        detail=problem.detail,
        errors=problem.errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def from_error(error: LedgerlinkError) -> ApiProblem:
    """The problem a ledgerlink error is (its message is written for the user already)."""
    if isinstance(error, NotFoundError):
        return ApiProblem("not-found", str(error))
    if isinstance(error, ConflictError | ImmutableError):
        return ApiProblem("conflict", str(error))
    # ValidationError, and any other error written for the user: the request cannot be done.
    return ApiProblem("validation", str(error))


def _location(loc: Sequence[Any]) -> str | None:
    # FastAPI's locations start with where the value was (body, query, path, header).
    parts = (
        [str(part) for part in loc[1:]]
        if loc and loc[0] in ("body", "query", "path", "header")
        else [str(p) for p in loc]
    )
    return ".".join(parts) or None


def validation_problem(error: RequestValidationError) -> ApiProblem:
    errors = []
    for item in error.errors():
        where = item.get("loc", ())
        field = _location(where)
        if where and where[0] in ("query", "path", "header") and field:
            field = f"{where[0]}:{field}"
        errors.append(FieldProblem(field=field, message=str(item.get("msg", "not valid"))))
    fields = ", ".join(sorted({e.field for e in errors if e.field})) or "the body"
    return ApiProblem("validation", f"the request is not valid: see {fields}", errors=errors)


_STATUS_KINDS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
}


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem."""

    async def api_problem(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblem)
        return problem_response(error)

    async def ledgerlink_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, LedgerlinkError)
        return problem_response(from_error(error))

    async def request_validation(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return problem_response(validation_problem(error))

    async def http_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        kind = _STATUS_KINDS.get(error.status_code)
        if kind is None:
            kind = "server-error" if error.status_code >= 500 else "validation"
        detail = error.detail if isinstance(error.detail, str) else KINDS[kind][1]
        if error.status_code == 404 and detail == "Not Found":
            detail = (
                "there is no such resource; the OpenAPI document at /api/v1/openapi.json lists them"
            )
        return problem_response(ApiProblem(kind, detail, headers=dict(error.headers or {})))

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        _log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem_response(
            ApiProblem("server-error", "an unexpected error; it is logged on the server")
        )

    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(LedgerlinkError, ledgerlink_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
