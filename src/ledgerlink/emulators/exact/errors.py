"""Exact Online's error body and the texts of the errors the integration meets.

The body is ``{"error": {"code": "", "message": {"lang": "", "value": "<text>"}}}`` (picqer
``Connection.php`` reads ``error.message.value``). Exact words its messages in the user's
language (picqer#416 quotes a Dutch one, "Gegeven bestaat reeds."); the emulated user's is
English. Texts marked *unverified* below have no public source with Exact's exact words: the
fact sheet names the causes (§1.4) but not the messages, so they are ours, phrased so a user
knows what to fix; a connector should classify them by status, not by text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ledgerlink.emulators._kit.base import ErrorEnvelope
from ledgerlink.emulators._kit.jsonio import dumps
from ledgerlink.emulators._kit.ratelimit import Admission

__all__ = ["ExactError", "ExactErrors", "body"]

JSON = "application/json; charset=utf-8"

# Reported verbatim by several clients (picqer#62, #315, #556; elmas#22).
NEEDS_SELECT = "Please add a $select or a $top=1 statement to the query string."
# unverified (see the module docstring):
VAT_CHECK_FAILED = "VAT number {number} is not valid according to the VAT number check."
CODE_NOT_NUMERIC = "Code: only numeric values are allowed ({code})."
NO_VARIABLE_CURRENCY = (
    "Journal {journal} does not allow variable currencies: currency {currency} is not allowed."
)
NOT_DIVISIBLE = "Item {item} is not divisible: the quantity {quantity} must be a whole number."
PROCESSED = "The invoice has been processed and can no longer be changed."
PERIOD_LOCKED = "The financial period {year}/{period} is closed: entries are not allowed."
UNKNOWN_CURRENCY = "Currency {currency} does not exist."
DUPLICATE_CODE = "Code {code} already exists."
RATE_LIMITED = "API rate limit exceeded."
BLOCKED = "API rate limit exceeded: too many errors on this endpoint; try again in an hour."
TOO_LARGE = "The request body is larger than 10 MB."


def body(message: str) -> dict[str, Any]:
    """Exact's error document for ``message``."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


class ExactError(Exception):
    """An error answer: HTTP ``status`` and Exact's text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(body(message)), status_code=status, media_type=JSON, headers=headers)


class ExactErrors(ErrorEnvelope):
    """Every error answer in Exact's envelope."""

    def render(self, request: Request, status: int, message: str) -> Response:
        return _response(status, message)

    def exact_error(self, _request: Request, error: Exception) -> Response:
        """The handler of :class:`ExactError`."""
        assert isinstance(error, ExactError)
        return _response(error.status, error.message)

    def http_error(self, request: Request, error: StarletteHTTPException) -> Response:
        return _response(error.status_code, str(error.detail), error.headers)

    def injected(self, request: Request, status: int, message: str) -> Response:
        return _response(status, message)

    def rate_limited(self, _admission: Admission) -> Mapping[str, Any]:
        """The body of a 429 from the rate-limit windows."""
        return body(RATE_LIMITED)
