"""Fortnox's error answers: ``{"ErrorInformation": {"error": 1, "message": …, "code": …}}``.

The keys are lower-case as the real API answers (the OpenAPI schema capitalises them; the fact
sheet §2.7 and the public errors page show lower case). The codes are Fortnox's own where its
errors page (fortnox.se/developer/guides-and-good-to-know/errors) or the fact sheet names one;
2000401 (locked period) is from a third party's help page (Sharespine, "Fortnox error 2000401 –
the period is locked up to …"). Where no source names a code, the emulator uses its own in the
9000000 range, which no Fortnox code uses, so a connector never learns a made-up code as real.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ledgerlink.emulators._kit.base import ErrorEnvelope
from ledgerlink.emulators._kit.jsonio import dumps

__all__ = ["FortnoxError", "FortnoxErrors", "error_body"]

# Fortnox's codes (errors page, fact sheet §2.7).
SYSTEM_EXCEPTION = 1000003
INVALID_CONTENT_TYPE = 1000031
NOT_NUMERIC = 2000108
NOT_BOOLEAN = 2000134
INVALID_LOGIN = 2000310
MISSING_TOKEN = 2000311
LOCKED_PERIOD = 2000401  # third party (Sharespine), see the module docstring
ACCOUNT_NOT_FOUND = 2000423  # "Kan inte hitta kontot." (an account number that is not there)
INVALID_PARAMETER = 2000588
CUSTOMER_NUMBER_USED = 2000637
NO_IDENTIFIER = 2000729
NO_LICENCE = 2001103
NO_ACCOUNT = 2001304  # "Kunde inte hitta konto" (no account could be found for a row)
NO_DATA = 2001392
BAD_FIELD_NAME = 2001399
BAD_JSON = 2002115
EASYVAT_ACCOUNT = 2004167
# Ours (no source names Fortnox's code for these).
MISSING_SCOPE = 9000403
NOT_FOUND = 9000404
NOT_ALLOWED = 9000405
TOO_MANY_REQUESTS = 9000429
REQUIRED = 9000001
INVALID_VALUE = 9000002
NO_FINANCIAL_YEAR = 9000010
ALREADY_BOOKED = 9000011
NOT_BOOKED = 9000012
CANCELLED = 9000013
UNKNOWN_REFERENCE = 9000014
FILE_ERROR = 9000015
INJECTED = 9000500


def error_body(message: str, code: int) -> dict[str, object]:
    """Fortnox's error document."""
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}


class FortnoxError(Exception):
    """An error answer: HTTP ``status``, Fortnox ``code`` and its (Swedish) ``message``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        """The answer in Fortnox's envelope."""
        return Response(
            dumps(error_body(self.message, self.code)),
            status_code=self.status,
            media_type="application/json",
        )


def not_found(what: str) -> FortnoxError:
    """404 for a resource that is not there."""
    return FortnoxError(404, NOT_FOUND, f"Kan inte hitta {what}.")


def invalid(message: str, code: int = INVALID_VALUE) -> FortnoxError:
    """400 for a value Fortnox refuses."""
    return FortnoxError(400, code, message)


class FortnoxErrors(ErrorEnvelope):
    """Every error the kit meets, in Fortnox's envelope."""

    def render(self, request: Request, status: int, message: str) -> Response:
        return FortnoxError(
            status, INVALID_PARAMETER if status == 400 else NOT_FOUND, message
        ).response()

    def http_error(self, request: Request, error: object) -> Response:
        status = int(getattr(error, "status_code", 500))
        if status == 405:
            return FortnoxError(405, NOT_ALLOWED, "Metoden stöds inte för resursen.").response()
        if status == 404:
            return not_found("resursen").response()
        return FortnoxError(status, INVALID_PARAMETER, str(getattr(error, "detail", ""))).response()

    def invalid_request(self, request: Request, error: object) -> Response:
        return not_found("resursen").response()

    def injected(self, request: Request, status: int, message: str) -> Response:
        code = TOO_MANY_REQUESTS if status == 429 else INJECTED
        return FortnoxError(status, code, message).response()

    @staticmethod
    def handle(_request: Request, error: Exception) -> Response:
        """The handler of :class:`FortnoxError`."""
        assert isinstance(error, FortnoxError)
        return error.response()
