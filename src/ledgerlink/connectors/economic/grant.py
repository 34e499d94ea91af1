"""e-conomic's app-grant flow: the installation URL and the token it returns.

The customer opens the installation URL, logs in to e-conomic (agreement number, user,
password) and approves the app; e-conomic then redirects to ``redirectUrl`` with
``?token=<agreement grant token>``. The token does not expire; a revoked grant gives 401.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_GRANT_BASE = "https://secure.e-conomic.com"


def installation_url(
    app_public_token: str, redirect_url: str | None = None, *, base: str = DEFAULT_GRANT_BASE
) -> str:
    """The URL that asks the customer to grant the app access to their agreement."""
    if not app_public_token.strip():
        raise ValueError("the app public token is required")
    params = {"appPublicToken": app_public_token.strip()}
    if redirect_url:
        params["redirectUrl"] = redirect_url
    return f"{base.rstrip('/')}/secure/api1/requestaccess.aspx?{urlencode(params)}"


def parse_grant_token(callback: str) -> str:
    """The agreement grant token from the redirect (a full URL or just its query string)."""
    query = urlsplit(callback).query if "?" in callback or "://" in callback else callback
    values = parse_qs(query.lstrip("?")).get("token", [])
    token = values[0].strip() if values else ""
    if not token:
        raise ValueError("the redirect carries no token; the grant was not given")
    return token
