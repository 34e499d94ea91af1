"""Request plumbing shared by the NAV routers: authentication and the emulator handle."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.responses import Response

from ledgerlink.emulators._kit.auth import header

if TYPE_CHECKING:
    from ledgerlink.emulators.nav.emulator import NavEmulator

__all__ = [
    "Unauthorized",
    "authenticate",
    "authenticate_basic",
    "emulator_of",
    "unauthorized_response",
]


class Unauthorized(Exception):
    """The request carries no acceptable credentials; ``challenges`` go into
    ``WWW-Authenticate`` headers (one header per scheme, as NAV/HTTP.sys sends them)."""

    def __init__(self, challenges: list[str]) -> None:
        super().__init__("unauthorized")
        self.challenges = challenges


def unauthorized_response(error: Unauthorized) -> Response:
    """The 401 answer."""
    response = Response(status_code=401)
    for challenge in error.challenges:
        response.headers.append("WWW-Authenticate", challenge)
    return response


def emulator_of(request: Request) -> NavEmulator:
    """The emulator serving ``request``."""
    emulator: NavEmulator = request.app.state.emulator
    return emulator


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


async def authenticate(request: Request) -> str:
    """The NAV user name of the request (``Unauthorized`` when the credentials fail).

    NavUserPassword: HTTP Basic with the user's password or unexpired web service access key
    (user names compare case-insensitively). Windows: always a Negotiate (and optionally NTLM)
    challenge — the emulator cannot complete a Kerberos/NTLM handshake.
    """
    config = emulator_of(request).config
    if config.credential_type == "Windows":
        raise Unauthorized(["Negotiate", "NTLM"] if config.windows_ntlm else ["Negotiate"])
    return await authenticate_basic(request)


async def authenticate_basic(request: Request) -> str:
    """The NAV user of HTTP Basic credentials, whatever the credential type (the admin
    routes always take Basic, so a Windows-configured emulator can still be driven)."""
    emulator = emulator_of(request)
    config = emulator.config
    basic = [f'Basic realm="{request.url.hostname or "navserver"}"']
    authorization = header(request.headers, "authorization")
    if authorization is None or not authorization.lower().startswith("basic "):
        raise Unauthorized(basic)
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized(basic) from None
    name, _, secret = decoded.partition(":")
    now = emulator.clock()
    for user in config.users:
        if user.name.lower() != name.lower():
            continue
        if _same(secret, user.password):
            return user.name
        key_valid = user.access_key_expires is None or now < user.access_key_expires
        if user.access_key is not None and key_valid and _same(secret, user.access_key):
            return user.name
    raise Unauthorized(basic)
