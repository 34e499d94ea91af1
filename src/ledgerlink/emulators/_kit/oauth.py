"""An OAuth2 authorization server for emulators: code grant (RFC 6749 §4.1) with PKCE S256
(RFC 7636), rotating single-use refresh tokens, revocation (RFC 7009) and a bearer check.

An ERP's emulator configures it with :class:`OAuthSettings` (paths, how clients authenticate,
lifetimes, the ERP's own rules) and mounts :func:`oauth_router`. The pieces:

* **authorize** (``GET``): validates ``client_id``, ``redirect_uri``, ``response_type=code``,
  ``scope`` and the PKCE challenge, then shows an HTML consent page. Approving redirects to
  ``redirect_uri?code=…&state=…``; denying to ``redirect_uri?error=access_denied&state=…``.
  Without a browser: add ``approve=yes`` (or ``approve=no``) to the authorize URL and the 302
  comes at once — or ``POST`` the consent form's fields with ``decision=approve``. ``subject``
  (query or form) picks whom the grant is for (a tenant, company or division) among
  ``settings.subjects``; the first one by default. Other query parameters (Fortnox
  ``access_type``) are accepted and ignored, except those ``settings.grant_params`` names
  (Fortnox ``account_type=service``): the grant remembers them and the bearer check returns
  them in :attr:`Principal.params`.
* **token** (``POST``, form): client authentication by HTTP Basic and/or form
  ``client_id``/``client_secret`` as ``settings.client_auth`` allows; grants
  ``authorization_code`` (codes single use, ``code_ttl``) and ``refresh_token``. A refresh
  token is spent by its use: the answer carries a new one, and the old one answers 400
  ``invalid_grant`` ("Old refresh token used"). Of two concurrent refreshes with the same
  token exactly one succeeds. ``revoke_family_on_reuse`` also ends every token of that grant
  when a spent one comes back (the user is logged out, as Fortnox does).
  ``min_refresh_interval`` refuses a refresh that comes too soon after the last one with 400
  ``access_denied`` (Exact Online).
* **revoke** (``POST``, optional): ends the grant the token belongs to.
* :meth:`OAuthServer.authenticate` / :func:`bearer`: the bearer check for the emulator's API
  routes, returning the :class:`Principal` (subject, client, scopes) or raising.

Time comes from an injectable ``clock`` (epoch seconds). :meth:`OAuthServer.snapshot` and
:meth:`OAuthServer.restore` turn the whole state into a JSON-compatible dict and back (for an
emulator's state file; ``on_change`` is called after every change). Every operation holds one
lock, so uvicorn's concurrent requests see each token change whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

__all__ = [
    "BearerRejected",
    "OAuthClientApp",
    "OAuthServer",
    "OAuthSettings",
    "Principal",
    "TokenAnswer",
    "basic_authorization",
    "bearer",
    "oauth_router",
    "pkce_challenge",
]

ClientAuth = Literal["basic", "form"]

_FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_TOO_EARLY = "Rate limit exceeded: access_token not expired"
_OLD_REFRESH = "Old refresh token used"
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE ``verifier`` (base64url of its SHA-256, no padding)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthClientApp:
    """A registered client (an integration's app). ``redirect_uris`` empty: any ``http``/
    ``https`` redirect is accepted (handy for loopback ports chosen at run time)."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = ()

    def allows_redirect(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        return urlsplit(uri).scheme in ("http", "https")


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthSettings:
    """How one ERP's authorization server behaves (see the module docstring).

    Lifetimes are seconds. ``scopes`` ``None`` accepts any scope; ``subjects`` are whom a
    grant can be for (tenants, companies, divisions). ``expires_in_as_text`` answers
    ``"expires_in": "600"`` as some servers do. ``grant_params``: authorize parameters the
    grant keeps (see the module docstring).
    """

    clients: tuple[OAuthClientApp, ...]
    subjects: tuple[str, ...] = ("tenant-1",)
    authorize_path: str = "/oauth2/auth"
    token_path: str = "/oauth2/token"
    revoke_path: str | None = "/oauth2/revoke"
    client_auth: frozenset[ClientAuth] = frozenset({"basic"})
    code_ttl: float = 600.0
    access_ttl: float = 3600.0
    refresh_ttl: float = 45 * 86400.0
    min_refresh_interval: float | None = None
    revoke_family_on_reuse: bool = False
    require_pkce: bool = False
    scopes: frozenset[str] | None = None
    expires_in_as_text: bool = False
    grant_params: frozenset[str] = frozenset()
    title: str = "Emulator"

    def client(self, client_id: str) -> OAuthClientApp | None:
        return next((c for c in self.clients if c.client_id == client_id), None)


@dataclass(frozen=True, slots=True)
class Principal:
    """Whom a valid access token speaks for; ``params`` are the authorize parameters its
    grant kept (``OAuthSettings.grant_params``), sorted by name."""

    subject: str
    client_id: str
    scopes: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        """The kept authorize parameter ``name``, if the grant has it."""
        return dict(self.params).get(name)


class BearerRejected(Exception):
    """An API call's bearer token is missing, unknown, expired or revoked (``status`` 401), or
    lacks a scope (403). ``error`` is the RFC 6750 error code."""

    def __init__(self, reason: str, *, status: int = 401, error: str = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.error = error


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """A token or revoke endpoint answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]


# state ----------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class _Code:
    client_id: str
    redirect_uri: str
    subject: str
    scope: str
    challenge: str | None
    expires_at: float
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class _Access:
    grant: str
    client_id: str
    subject: str
    scope: str
    expires_at: float
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class _Refresh:
    grant: str
    client_id: str
    subject: str
    scope: str
    issued_at: float
    expires_at: float
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    codes: dict[str, _Code] = field(default_factory=dict)
    access: dict[str, _Access] = field(default_factory=dict)
    refresh: dict[str, _Refresh] = field(default_factory=dict)
    # spent refresh token → (grant, when it would have expired): reuse is told apart from garbage
    spent: dict[str, tuple[str, float]] = field(default_factory=dict)
    counters: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "codes": {k: asdict(v) for k, v in self.codes.items()},
            "access": {k: asdict(v) for k, v in self.access.items()},
            "refresh": {k: asdict(v) for k, v in self.refresh.items()},
            "spent": {k: [g, e] for k, (g, e) in self.spent.items()},
            "counters": dict(self.counters),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _State:
        return cls(
            codes={k: _Code(**v) for k, v in data.get("codes", {}).items()},
            access={k: _Access(**v) for k, v in data.get("access", {}).items()},
            refresh={k: _Refresh(**v) for k, v in data.get("refresh", {}).items()},
            spent={k: (str(g), float(e)) for k, (g, e) in data.get("spent", {}).items()},
            counters=Counter({str(k): int(v) for k, v in data.get("counters", {}).items()}),
        )


def _error(status: int, error: str, description: str) -> TokenAnswer:
    return TokenAnswer(status, {"error": error, "error_description": description})


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


class OAuthServer:
    """The authorization server's logic and state (see the module docstring). The router
    only moves requests and answers in and out of it.

    In an emulator built on :class:`~ledgerlink.emulators._kit.state.EmulatorState`, share
    its lock and file: ``OAuthServer(settings, lock=state.lock, on_change=state.save)`` and
    ``state.add_part("oauth", dump=server.snapshot, load=server.restore)``.
    """

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        clock: Callable[[], float] = time.time,
        state: Mapping[str, Any] | None = None,
        on_change: Callable[[], None] | None = None,
        lock: threading.RLock | None = None,
    ) -> None:
        if not settings.subjects:
            raise ValueError("an authorization server needs at least one subject")
        self.settings = settings
        self.clock = clock
        self._state = _State.from_dict(state) if state is not None else _State()
        self._on_change = on_change
        # Re-entrant: on_change may take a snapshot while the change still holds the lock. An
        # emulator passes its state's lock: with two locks, saving the state file from a token
        # change while another thread saves it from a data change would deadlock.
        self._lock = lock if lock is not None else threading.RLock()

    # state file ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-compatible dict."""
        with self._lock:
            return self._state.to_dict()

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the state with one from :meth:`snapshot`."""
        with self._lock:
            self._state = _State.from_dict(data)

    @property
    def counters(self) -> dict[str, int]:
        """How often each outcome happened, e.g. ``refresh_token.ok``,
        ``refresh_token.invalid_grant``, ``authorization_code.ok``."""
        with self._lock:
            return dict(self._state.counters)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # authorize ------------------------------------------------------------------------------
    def check_authorize(self, params: Mapping[str, str]) -> str | None:
        """Why the authorization request cannot even be redirected back (unknown client,
        unregistered ``redirect_uri``), else ``None``."""
        client = self.settings.client(params.get("client_id", ""))
        if client is None:
            return "Unknown client_id."
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or not client.allows_redirect(redirect_uri):
            return "The redirect_uri is missing or not registered for this client."
        return None

    def authorize_error(self, params: Mapping[str, str]) -> tuple[str, str] | None:
        """The ``(error, description)`` to redirect back with, else ``None``."""
        if params.get("response_type") != "code":
            return "unsupported_response_type", "Only response_type=code is supported."
        method = params.get("code_challenge_method", "")
        challenge = params.get("code_challenge", "")
        if challenge and method != "S256":
            return "invalid_request", "code_challenge_method must be S256."
        if not challenge and method:
            return "invalid_request", "code_challenge is missing."
        if self.settings.require_pkce and not challenge:
            return "invalid_request", "PKCE (code_challenge) is required."
        allowed = self.settings.scopes
        if allowed is not None and not set(params.get("scope", "").split()) <= allowed:
            return "invalid_scope", "The requested scope is not available."
        subject = params.get("subject") or self.settings.subjects[0]
        if subject not in self.settings.subjects:
            return "invalid_request", "Unknown subject."
        return None

    def approve(self, params: Mapping[str, str]) -> str:
        """Issue an authorization code for a request that passed both checks."""
        with self._lock:
            code = secrets.token_urlsafe(24)
            self._state.codes[code] = _Code(
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                subject=params.get("subject") or self.settings.subjects[0],
                scope=params.get("scope", ""),
                challenge=params.get("code_challenge") or None,
                expires_at=self.clock() + self.settings.code_ttl,
                params={k: params[k] for k in self.settings.grant_params if params.get(k)},
            )
            self._state.counters["authorize.approved"] += 1
            self._changed()
            return code

    # token ---------------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], authorization: str | None) -> TokenAnswer:
        """The token endpoint: ``form`` is the request's form fields, ``authorization`` its
        ``Authorization`` header."""
        grant_type = form.get("grant_type", "")
        with self._lock:
            client, failure = self._client(form, authorization)
            if failure is not None:
                self._state.counters[f"{grant_type or 'token'}.{failure.body['error']}"] += 1
                return failure
            assert client is not None
            if grant_type == "authorization_code":
                answer = self._code_grant(client, form)
            elif grant_type == "refresh_token":
                answer = self._refresh_grant(client, form)
            else:
                answer = _error(400, "unsupported_grant_type", "Unsupported grant_type.")
            outcome = "ok" if answer.status == 200 else str(answer.body["error"])
            self._state.counters[f"{grant_type or 'token'}.{outcome}"] += 1
            self._prune()
            self._changed()
            return answer

    def _client(
        self, form: Mapping[str, str], authorization: str | None
    ) -> tuple[OAuthClientApp | None, TokenAnswer | None]:
        allowed = self.settings.client_auth
        basic = _basic_credentials(authorization)
        in_form = "client_secret" in form
        if basic is not None and in_form:
            return None, _error(400, "invalid_request", "Use one client authentication method.")
        if basic is not None and "basic" in allowed:
            client_id, secret = basic
            if form.get("client_id", client_id) != client_id:
                return None, _error(400, "invalid_request", "client_id does not match.")
        elif in_form and "form" in allowed:
            client_id, secret = form.get("client_id", ""), form["client_secret"]
        else:
            return None, TokenAnswer(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed."},
            )
        client = self.settings.client(client_id)
        if client is None or not _same(secret, client.client_secret):
            return None, TokenAnswer(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed."},
            )
        return client, None

    def _code_grant(self, client: OAuthClientApp, form: Mapping[str, str]) -> TokenAnswer:
        now = self.clock()
        code = self._state.codes.pop(form.get("code", ""), None)
        if code is None or code.expires_at <= now:
            return _error(400, "invalid_grant", "The authorization code is invalid or expired.")
        if code.client_id != client.client_id:
            return _error(400, "invalid_grant", "The code was issued to another client.")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri does not match the authorization.")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not _VERIFIER.fullmatch(verifier) or not _same(
                pkce_challenge(verifier), code.challenge
            ):
                return _error(400, "invalid_grant", "PKCE verification failed.")
        return self._issue(
            grant=secrets.token_urlsafe(12),
            client_id=client.client_id,
            subject=code.subject,
            scope=code.scope,
            now=now,
            params=code.params,
        )

    def _refresh_grant(self, client: OAuthClientApp, form: Mapping[str, str]) -> TokenAnswer:
        now = self.clock()
        presented = form.get("refresh_token", "")
        current = self._state.refresh.get(presented)
        if current is None:
            spent = self._state.spent.get(presented)
            if spent is None:
                return _error(400, "invalid_grant", "Unknown refresh token.")
            if self.settings.revoke_family_on_reuse:
                self._end_grants({spent[0]})
            return _error(400, "invalid_grant", _OLD_REFRESH)
        if current.client_id != client.client_id:
            return _error(400, "invalid_grant", "The refresh token belongs to another client.")
        if current.expires_at <= now:
            del self._state.refresh[presented]
            return _error(400, "invalid_grant", "The refresh token has expired.")
        interval = self.settings.min_refresh_interval
        if interval is not None and now < current.issued_at + interval:
            return _error(400, "access_denied", _TOO_EARLY)
        del self._state.refresh[presented]
        self._state.spent[presented] = (current.grant, current.expires_at)
        return self._issue(
            grant=current.grant,
            client_id=client.client_id,
            subject=current.subject,
            scope=current.scope,
            now=now,
            params=current.params,
        )

    def _issue(
        self,
        *,
        grant: str,
        client_id: str,
        subject: str,
        scope: str,
        now: float,
        params: Mapping[str, str],
    ) -> TokenAnswer:
        settings = self.settings
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._state.access[access] = _Access(
            grant=grant,
            client_id=client_id,
            subject=subject,
            scope=scope,
            expires_at=now + settings.access_ttl,
            params=dict(params),
        )
        self._state.refresh[refresh] = _Refresh(
            grant=grant,
            client_id=client_id,
            subject=subject,
            scope=scope,
            issued_at=now,
            expires_at=now + settings.refresh_ttl,
            params=dict(params),
        )
        expires_in: int | str = round(settings.access_ttl)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": str(expires_in) if settings.expires_in_as_text else expires_in,
            "refresh_token": refresh,
            "scope": scope,
        }
        return TokenAnswer(200, body)

    def _end_grants(self, grants: set[str]) -> None:
        state = self._state
        state.access = {k: v for k, v in state.access.items() if v.grant not in grants}
        for token, value in list(state.refresh.items()):
            if value.grant in grants:
                del state.refresh[token]
                state.spent[token] = (value.grant, value.expires_at)

    def _prune(self) -> None:
        now = self.clock()
        state = self._state
        state.codes = {k: v for k, v in state.codes.items() if v.expires_at > now}
        state.access = {k: v for k, v in state.access.items() if v.expires_at > now}
        state.refresh = {k: v for k, v in state.refresh.items() if v.expires_at > now}
        state.spent = {k: v for k, v in state.spent.items() if v[1] > now}

    # revoke --------------------------------------------------------------------------------
    def revoke(self, form: Mapping[str, str], authorization: str | None) -> TokenAnswer:
        """The revoke endpoint: ends the whole grant of ``token`` (access or refresh). An
        unknown token is no error (RFC 7009 §2.2)."""
        with self._lock:
            client, failure = self._client(form, authorization)
            if failure is not None:
                return failure
            assert client is not None
            token = form.get("token", "")
            found = self._state.refresh.get(token) or self._state.access.get(token)
            if found is not None and found.client_id == client.client_id:
                self._end_grants({found.grant})
                self._state.counters["revoke.ok"] += 1
                self._changed()
            return TokenAnswer(200, {"revoked": True})

    def revoke_all(self, *, subject: str | None = None) -> int:
        """End every grant (of ``subject``): what the ERP's user does when they disconnect
        the integration. Returns how many grants ended."""
        with self._lock:
            tokens: list[_Access | _Refresh] = [
                *self._state.access.values(),
                *self._state.refresh.values(),
            ]
            grants = {t.grant for t in tokens if subject is None or t.subject == subject}
            self._end_grants(grants)
            self._changed()
            return len(grants)

    def expire_access_tokens(self, *, subject: str | None = None) -> int:
        """Let every access token (of ``subject``) run out now; refresh tokens stay valid."""
        with self._lock:
            now = self.clock()
            expired = 0
            for value in self._state.access.values():
                if (subject is None or value.subject == subject) and value.expires_at > now:
                    value.expires_at = now
                    expired += 1
            self._changed()
            return expired

    # bearer --------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, *, scope: str | None = None) -> Principal:
        """Whom the ``Authorization: Bearer …`` header speaks for; :class:`BearerRejected`
        when it is missing, unknown, expired or revoked, or lacks ``scope``."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BearerRejected("A bearer access token is required.", error="invalid_request")
        with self._lock:
            access = self._state.access.get(token.strip())
            if access is None:
                raise BearerRejected("The access token is invalid or has been revoked.")
            if access.expires_at <= self.clock():
                raise BearerRejected("The access token has expired.")
            scopes = tuple(access.scope.split())
            kept = tuple(sorted(access.params.items()))
        if scope is not None and scope not in scopes:
            raise BearerRejected(
                f"The access token lacks the scope {scope}.", status=403, error="insufficient_scope"
            )
        return Principal(
            subject=access.subject, client_id=access.client_id, scopes=scopes, params=kept
        )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` header value for HTTP Basic client authentication."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


# HTTP ------------------------------------------------------------------------------------------


def _default_rejection(rejected: BearerRejected) -> Exception:
    return HTTPException(
        rejected.status,
        detail=rejected.reason,
        headers={"WWW-Authenticate": f'Bearer error="{rejected.error}"'},
    )


def bearer(
    server: OAuthServer,
    *,
    scope: str | None = None,
    rejection: Callable[[BearerRejected], Exception] = _default_rejection,
) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency giving the request's :class:`Principal`. A refused token raises
    ``rejection(error)`` — by default a 401/403 ``HTTPException`` with ``WWW-Authenticate``;
    an emulator passes a function raising its ERP's own error envelope."""

    async def dependency(request: Request) -> Principal:
        try:
            return server.authenticate(request.headers.get("authorization"), scope=scope)
        except BearerRejected as rejected:
            raise rejection(rejected) from None

    return dependency


def _form(body: bytes) -> dict[str, str]:
    # The first value of each field wins; parse_qsl keeps blank values so "code=" is seen.
    fields: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


def _with_query(uri: str, params: Iterable[tuple[str, str]]) -> str:
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode(list(params))]))
    return urlunsplit(parts._replace(query=query))


def _redirect_back(params: Mapping[str, str], extra: list[tuple[str, str]]) -> RedirectResponse:
    if "state" in params:
        extra.append(("state", params["state"]))
    return RedirectResponse(_with_query(params["redirect_uri"], extra), status_code=302)


def _json(answer: TokenAnswer) -> JSONResponse:
    headers = dict(_NO_STORE)
    if answer.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth"'
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def _consent_page(server: OAuthServer, params: Mapping[str, str], action: str) -> HTMLResponse:
    settings = server.settings
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
        if k not in ("subject", "decision", "approve")
    )
    chosen = params.get("subject") or settings.subjects[0]
    options = "".join(
        f'<option value="{html.escape(s)}"{" selected" if s == chosen else ""}>'
        f"{html.escape(s)}</option>"
        for s in settings.subjects
    )
    scope = html.escape(params.get("scope", "")) or "(none)"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(settings.title)}: authorize</title>
</head><body>
<h1>{html.escape(settings.title)}</h1>
<p>The application <b>{html.escape(params.get("client_id", ""))}</b> asks for access
(scope: {scope}).</p>
<form method="post" action="{html.escape(action)}">{hidden}
<label>Account <select name="subject">{options}</select></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>"""
    return HTMLResponse(page, headers=_NO_STORE)


def _decide(
    server: OAuthServer, params: Mapping[str, str], decision: str | None, action: str
) -> Response:
    problem = server.check_authorize(params)
    if problem is not None:
        return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
    failure = server.authorize_error(params)
    if failure is not None:
        return _redirect_back(params, [("error", failure[0]), ("error_description", failure[1])])
    if decision is None:
        return _consent_page(server, params, action)
    if decision in ("approve", "yes", "true"):
        return _redirect_back(params, [("code", server.approve(params))])
    return _redirect_back(
        params, [("error", "access_denied"), ("error_description", "The user denied access.")]
    )


def oauth_router(server: OAuthServer) -> APIRouter:
    """The authorize, token and (when configured) revoke routes of ``server``."""
    settings = server.settings
    router = APIRouter()

    @router.get(settings.authorize_path, include_in_schema=False)
    async def authorize_page(request: Request) -> Response:
        params = dict(request.query_params)
        return _decide(server, params, params.get("approve"), request.url.path)

    @router.post(settings.authorize_path, include_in_schema=False)
    async def authorize_decision(request: Request) -> Response:
        params = _form(await request.body())
        return _decide(server, params, params.get("decision") or "deny", request.url.path)

    @router.post(settings.token_path, include_in_schema=False)
    async def token(request: Request) -> Response:
        if not _is_form(request):
            return _json(_error(400, "invalid_request", f"The body must be {_FORM}."))
        form = _form(await request.body())
        return _json(server.token(form, request.headers.get("authorization")))

    if settings.revoke_path is not None:

        @router.post(settings.revoke_path, include_in_schema=False)
        async def revoke(request: Request) -> Response:
            if not _is_form(request):
                return _json(_error(400, "invalid_request", f"The body must be {_FORM}."))
            form = _form(await request.body())
            return _json(server.revoke(form, request.headers.get("authorization")))

    return router


def _is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == _FORM
