"""OAuth2 for connectors: the authorization-code flow with PKCE, refreshing, revoking, and
:class:`RefreshingAuth`, the httpx auth flow that keeps a connection's access token fresh.

* :class:`OAuthClientConfig` — one ERP app's endpoints, client credentials, how the client
  authenticates at the token endpoint (HTTP Basic as Fortnox wants, or ``client_id`` and
  ``client_secret`` in the form as Exact Online wants), scopes, PKCE, extra authorize
  parameters (Fortnox ``access_type=offline``, ``account_type=service``).
* :class:`OAuthClient` — :meth:`~OAuthClient.authorization_url`,
  :meth:`~OAuthClient.exchange_code`, :meth:`~OAuthClient.refresh`,
  :meth:`~OAuthClient.revoke`. Token endpoint errors become contract errors
  (:func:`token_error`): ``invalid_grant`` → :class:`AuthExpired` (connect again), 429, 5xx
  and transport failures → :class:`Transient`, a wrong client id or secret → :class:`Permanent`.
  Nothing here retries: the requestor is the one owner of retries (design §6).
* :class:`RefreshingAuth` — attaches ``Authorization: Bearer …``; refreshes first when the
  token is about to expire; on a 401 refreshes once and resends once. Tokens come from a
  :class:`TokenSource`, which hides where they are kept and how refreshes are serialised
  (``ledgerlink.sync.oauth`` keeps them in the database).

A lost answer to a refresh is a lost grant when the ERP rotates refresh tokens (the server
already spent the old one); it surfaces as :class:`Transient` and, on the next attempt, as
:class:`AuthExpired`. Only the user can mend that, by connecting again.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import secrets
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx2
import structlog

from ledgerlink.connectors._kit.http import Timeouts, build_client
from ledgerlink.connectors._kit.retry import parse_retry_after
from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    Permanent,
    Transient,
)

__all__ = [
    "AuthorizationRequest",
    "ClientAuthMethod",
    "OAuthClient",
    "OAuthClientConfig",
    "RefreshingAuth",
    "TokenSet",
    "TokenSource",
    "pkce_challenge",
    "pkce_pair",
    "token_error",
]

#: The refresh hint every AuthExpired from a token endpoint carries.
RECONNECT_HINT = (
    "The ERP no longer accepts this connection's grant (revoked, expired or used elsewhere); "
    "connect the integration again."
)


#: Token calls are small; a slow token endpoint must not hold a refresh lock for long.
TOKEN_TIMEOUTS = Timeouts(connect=5.0, read=10.0, write=10.0, pool=5.0)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ClientAuthMethod(enum.StrEnum):
    """How the client proves itself at the token endpoint (RFC 6749 §2.3.1)."""

    BASIC = "basic"
    """``Authorization: Basic base64(client_id:client_secret)`` (Fortnox)."""
    FORM = "form"
    """``client_id`` and ``client_secret`` in the form body (Exact Online)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthClientConfig:
    """One ERP app's OAuth2 registration (see the module docstring). ``default_expires_in``
    is assumed when a token answer has no ``expires_in``."""

    erp: str
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    revoke_url: str | None = None
    client_auth: ClientAuthMethod = ClientAuthMethod.BASIC
    scopes: tuple[str, ...] = ()
    pkce: bool = True
    authorize_params: tuple[tuple[str, str], ...] = ()
    default_expires_in: float = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSet:
    """An access token, the refresh token that renews it, when the access token expires, its
    scope, and any other fields of the ERP's token answer (``extras``, as text)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""
    token_type: str = "bearer"
    extras: Mapping[str, str] = field(default_factory=dict)

    def expires_within(self, seconds: float, *, now: datetime) -> bool:
        """Whether the access token is expired, or will be within ``seconds``."""
        return self.expires_at - timedelta(seconds=seconds) <= now

    @classmethod
    def from_answer(
        cls,
        body: Mapping[str, Any],
        *,
        now: datetime,
        default_expires_in: float = 3600.0,
        previous_refresh_token: str = "",
    ) -> TokenSet:
        """A token set from a token endpoint's JSON answer. Without a ``refresh_token`` in
        the answer the previous one stays (servers that do not rotate); ``expires_in`` may be
        a number or its text."""
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("the token answer has no access_token")
        refresh = body.get("refresh_token") or previous_refresh_token
        if not isinstance(refresh, str) or not refresh:
            raise ValueError("the token answer has no refresh_token")
        raw_expires = body.get("expires_in")
        try:
            expires_in = float(raw_expires) if raw_expires is not None else default_expires_in
        except (TypeError, ValueError):
            raise ValueError(f"expires_in is not a number: {raw_expires!r}") from None
        known = {"access_token", "refresh_token", "expires_in", "scope", "token_type"}
        extras = {
            str(k): v if isinstance(v, str) else json.dumps(v)
            for k, v in body.items()
            if k not in known and v is not None
        }
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=now + timedelta(seconds=expires_in),
            scope=str(body.get("scope") or ""),
            token_type=str(body.get("token_type") or "bearer"),
            extras=extras,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationRequest:
    """Where to send the user (``url``) and what to keep until the redirect comes back: the
    ``state`` to compare and the PKCE ``code_verifier`` (``None`` without PKCE)."""

    url: str
    state: str
    redirect_uri: str
    code_verifier: str | None = field(default=None, repr=False)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE ``(verifier, S256 challenge)`` (RFC 7636 §4.1–4.2)."""
    verifier = secrets.token_urlsafe(64)
    return verifier, pkce_challenge(verifier)


def token_error(
    erp: str,
    status: int,
    body: Any,
    *,
    retry_after: str | None = None,
    action: str = "refresh",
) -> ConnectorError:
    """The contract error for a token endpoint's refusal (pure; see the module docstring).
    ``action`` names what was attempted (``refresh``, ``code exchange``, ``revoke``)."""
    error = str(body.get("error", "")) if isinstance(body, Mapping) else ""
    description = str(body.get("error_description", "")) if isinstance(body, Mapping) else ""
    text = ": ".join(filter(None, [error, description])) or (body if isinstance(body, str) else "")
    message = f"{erp} refused the token {action} (HTTP {status})"
    if status == 429:
        return Transient(
            message,
            retry_after=parse_retry_after(retry_after),
            erp_text=text,
            status=status,
        )
    if status >= 500:
        return Transient(message, erp_text=text, status=status)
    if error == "invalid_grant":
        hint = (
            RECONNECT_HINT
            if action == "refresh"
            else "The authorization code is no longer valid; start connecting again."
        )
        return AuthExpired(message, erp_text=text, hint=hint, status=status)
    if error == "access_denied" and "rate limit" in description.lower():
        # Exact Online: refreshing while the access token still runs is refused; it is a wait.
        return Transient(
            message,
            erp_text=text,
            hint="The ERP allows a refresh only shortly before the access token expires.",
            status=status,
        )
    if error == "access_denied":
        return AuthExpired(message, erp_text=text, hint=RECONNECT_HINT, status=status)
    if error in ("invalid_client", "unauthorized_client") or status == 401:
        return Permanent(
            message,
            erp_text=text,
            hint="Check the app's client id and client secret in the connection settings.",
            status=status,
        )
    return Permanent(message, erp_text=text, status=status)


class OAuthClient:
    """Talks to one ERP's authorization server (see the module docstring). ``transport`` is
    the test seam; ``clock`` gives the aware UTC time token expiries are computed from."""

    def __init__(
        self,
        config: OAuthClientConfig,
        *,
        transport: httpx2.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.config = config
        self._clock = clock
        # Short by default: on SQLite a refresh runs while holding the database's write lock.
        self._http = build_client(
            base_url="",
            auth=None,
            timeout=timeouts if timeouts is not None else TOKEN_TIMEOUTS,
            transport=transport,
            erp=config.erp,
        )
        self._log = structlog.get_logger("ledgerlink.oauth").bind(erp=config.erp)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def authorization_url(
        self,
        *,
        redirect_uri: str,
        state: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> AuthorizationRequest:
        """The URL to send the user to, with a fresh ``state`` (unless given) and, when the
        config says so, a PKCE challenge. ``params`` adds to (and overrides) the config's
        ``authorize_params``."""
        config = self.config
        chosen_state = state if state is not None else secrets.token_urlsafe(24)
        query: dict[str, str] = {
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": chosen_state,
        }
        if config.scopes:
            query["scope"] = " ".join(config.scopes)
        verifier: str | None = None
        if config.pkce:
            verifier, challenge = pkce_pair()
            query["code_challenge"] = challenge
            query["code_challenge_method"] = "S256"
        query.update(config.authorize_params)
        query.update(params or {})
        parts = urlsplit(config.authorize_url)
        full_query = "&".join(filter(None, [parts.query, urlencode(query, quote_via=quote)]))
        return AuthorizationRequest(
            url=urlunsplit(parts._replace(query=full_query)),
            state=chosen_state,
            redirect_uri=redirect_uri,
            code_verifier=verifier,
        )

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """Trade an authorization code for tokens."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        body = self._post(self.config.token_url, form, action="code exchange")
        return self._token_set(body, previous_refresh_token="", action="code exchange")

    def refresh(self, refresh_token: str) -> TokenSet:
        """Spend ``refresh_token`` for a new token set. With an ERP that rotates refresh
        tokens the old one is dead once this returns: store the answer before using it."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        body = self._post(self.config.token_url, form, action="refresh")
        self._log.info("oauth.refreshed")
        return self._token_set(body, previous_refresh_token=refresh_token, action="refresh")

    def revoke(self, token: str, *, hint: str = "refresh_token") -> None:
        """Revoke ``token`` at the ERP (needs ``revoke_url``)."""
        if self.config.revoke_url is None:
            raise Permanent(f"{self.config.erp} has no token revocation endpoint")
        self._post(
            self.config.revoke_url, {"token": token, "token_type_hint": hint}, action="revoke"
        )

    def _token_set(self, body: Any, *, previous_refresh_token: str, action: str) -> TokenSet:
        if not isinstance(body, Mapping):
            raise Permanent(f"{self.config.erp}: the token {action} answer is not a JSON object")
        try:
            return TokenSet.from_answer(
                body,
                now=self._clock(),
                default_expires_in=self.config.default_expires_in,
                previous_refresh_token=previous_refresh_token,
            )
        except ValueError as problem:
            raise Permanent(
                f"{self.config.erp}: unexpected token {action} answer: {problem}"
            ) from None

    def _post(self, url: str, form: dict[str, str], *, action: str) -> Any:
        config = self.config
        headers: dict[str, str] = {}
        if config.client_auth is ClientAuthMethod.BASIC:
            # RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
            pair = f"{quote(config.client_id, safe='')}:{quote(config.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form = {**form, "client_id": config.client_id, "client_secret": config.client_secret}
        try:
            response = self._http.post(url, data=form, headers=headers)
        except httpx2.TransportError as failure:
            self._log.warning("oauth.failed", action=action, error=type(failure).__name__)
            raise Transient(
                f"{config.erp}: the token {action} got no answer ({type(failure).__name__})"
            ) from failure
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.is_success:
            return body
        self._log.warning("oauth.refused", action=action, status=response.status_code)
        raise token_error(
            config.erp,
            response.status_code,
            body,
            retry_after=response.headers.get("retry-after"),
            action=action,
        )


class TokenSource(Protocol):
    """Where a connection's tokens come from. ``refresh(stale)`` returns a token set newer
    than ``stale`` — refreshed at the ERP, or one another process refreshed meanwhile —
    and has made it durable before returning."""

    def current(self) -> TokenSet: ...

    def refresh(self, stale: TokenSet) -> TokenSet: ...


class RefreshingAuth(httpx2.Auth):
    """Bearer auth that keeps the token fresh (see the module docstring).

    A token within ``skew`` seconds of its expiry is refreshed before sending. Keep ``skew``
    below the ERP's earliest allowed refresh (Exact Online refuses a refresh more than about
    30 s before expiry). A 401 is answered by one refresh and one resend — unless this request
    already refreshed, since a brand-new token that is refused will not be helped by another;
    the second 401 goes back to the caller, whose error table makes it :class:`AuthExpired`.
    """

    requires_request_body = True  # a resend needs the body again

    def __init__(
        self,
        source: TokenSource,
        *,
        skew: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._source = source
        self._skew = skew
        self._clock = clock

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        token = self._source.current()
        refreshed = False
        if token.expires_within(self._skew, now=self._clock()):
            token = self._source.refresh(token)
            refreshed = True
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code != 401 or refreshed:
            return
        token = self._source.refresh(token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        # Refreshing blocks (database lock, HTTP); it must not run on an event loop.
        raise RuntimeError("RefreshingAuth works with a synchronous httpx2.Client only")
        yield request  # pragma: no cover - makes this an async generator
