"""OAuth2 use-cases: connecting a credential with the authorization-code flow, and the
database-backed token source every OAuth2 connector refreshes through (design §6).

* :func:`begin_authorization` / :func:`complete_authorization` — the code flow as two steps,
  so the CLI (loopback redirect) and the web console (its own callback route, keeping the
  :class:`PendingAuthorization` in the user's session) call the same code. Completing checks
  the ``state``, trades the code (with the PKCE verifier) for tokens and stores them under the
  credential id.
* :class:`LoopbackReceiver` and :func:`authorize_via_loopback` — what a command line uses: a
  tiny HTTP server on 127.0.0.1 that waits for the redirect, while the user opens the printed
  URL in a browser.
* :class:`DatabaseTokenSource` — :class:`~ledgerlink.connectors._kit.oauth.TokenSource` over
  the :class:`~ledgerlink.store.tokens.TokenStore`: refreshes are serialised across processes
  by the store's row lock, and the rotated tokens are committed before they are handed out.
"""

from __future__ import annotations

import hmac
import http.server
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import structlog

from ledgerlink.connectors._kit.oauth import AuthorizationRequest, OAuthClient, TokenSet
from ledgerlink.connectors.contract import AuthExpired, Transient
from ledgerlink.domain.errors import LedgerlinkError
from ledgerlink.store.tokens import StoredTokens, TokenBusy, TokenNotFound, TokenStore

__all__ = [
    "AuthorizationFailed",
    "DatabaseTokenSource",
    "LoopbackReceiver",
    "PendingAuthorization",
    "authorize_via_loopback",
    "begin_authorization",
    "complete_authorization",
    "from_stored",
    "to_stored",
]

_log = structlog.get_logger("ledgerlink.oauth")


class AuthorizationFailed(LedgerlinkError):
    """The authorization-code flow did not end with tokens: the user denied access, the answer
    did not match the request, or none came in time."""


def to_stored(tokens: TokenSet) -> StoredTokens:
    """The store's form of a token set."""
    return StoredTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        scope=tokens.scope,
        token_type=tokens.token_type,
        extras=dict(tokens.extras),
    )


def from_stored(stored: StoredTokens) -> TokenSet:
    """The connector kit's form of a stored token set."""
    return TokenSet(
        access_token=stored.access_token,
        refresh_token=stored.refresh_token,
        expires_at=stored.expires_at,
        scope=stored.scope,
        token_type=stored.token_type,
        extras=dict(stored.extras),
    )


# the token source -------------------------------------------------------------------------------


class DatabaseTokenSource:
    """The tokens of ``credential_id``, kept by ``store`` and refreshed through ``client``.

    The last token set is kept in memory, so a request costs no query while its token is
    fresh. If another process refreshed meanwhile, the remembered access token is either still
    accepted by the ERP or refused: then :meth:`refresh` finds the newer set in the store and
    returns it without calling the ERP.
    """

    def __init__(self, *, store: TokenStore, client: OAuthClient, credential_id: str) -> None:
        self._store = store
        self._client = client
        self.credential_id = credential_id
        self._cached: TokenSet | None = None
        # Threads of one process share the source: one of them refreshes, the others wait.
        self._lock = threading.Lock()

    def _not_connected(self) -> AuthExpired:
        return AuthExpired(
            f"{self._client.config.erp}: no OAuth tokens are stored for this connection",
            hint="Connect the integration (authorize the app) first.",
        )

    def current(self) -> TokenSet:
        """The remembered token set, or the stored one."""
        with self._lock:
            if self._cached is None:
                stored = self._store.load(self.credential_id)
                if stored is None:
                    raise self._not_connected()
                self._cached = from_stored(stored)
            return self._cached

    def refresh(self, stale: TokenSet) -> TokenSet:
        """A set newer than ``stale``: another process's, or refreshed at the ERP under the
        credential's lock and committed before it is returned."""

        def do_refresh(refresh_token: str) -> StoredTokens:
            return to_stored(self._client.refresh(refresh_token))

        with self._lock:
            try:
                stored = self._store.refresh_serialised(
                    self.credential_id, stale.access_token, do_refresh
                )
            except TokenNotFound:
                raise self._not_connected() from None
            except TokenBusy as busy:
                raise Transient(str(busy)) from busy
            self._cached = from_stored(stored)
            return self._cached


# the authorization-code flow ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAuthorization:
    """An authorization waiting for its redirect: what to show the user (``url``) and what to
    keep meanwhile (the state and the PKCE verifier, by the credential they are for)."""

    credential_id: str
    request: AuthorizationRequest

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def state(self) -> str:
        return self.request.state

    def to_dict(self) -> dict[str, str]:
        """A plain form to keep in a server-side web session (holds the PKCE verifier)."""
        data = {
            "credential_id": self.credential_id,
            "url": self.request.url,
            "state": self.request.state,
            "redirect_uri": self.request.redirect_uri,
        }
        if self.request.code_verifier is not None:
            data["code_verifier"] = self.request.code_verifier
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> PendingAuthorization:
        return cls(
            credential_id=data["credential_id"],
            request=AuthorizationRequest(
                url=data["url"],
                state=data["state"],
                redirect_uri=data["redirect_uri"],
                code_verifier=data.get("code_verifier"),
            ),
        )


def begin_authorization(
    client: OAuthClient,
    *,
    credential_id: str,
    redirect_uri: str,
    params: Mapping[str, str] | None = None,
) -> PendingAuthorization:
    """Start connecting ``credential_id``: the URL to open, with a fresh state and PKCE
    verifier to keep until :func:`complete_authorization`."""
    request = client.authorization_url(redirect_uri=redirect_uri, params=params)
    return PendingAuthorization(credential_id=credential_id, request=request)


def complete_authorization(
    client: OAuthClient,
    store: TokenStore,
    pending: PendingAuthorization,
    callback: Mapping[str, str],
) -> TokenSet:
    """Finish connecting with the redirect's query parameters (``code`` and ``state``, or
    ``error``): check the state, trade the code for tokens, store them under the pending
    credential id (replacing any earlier tokens) and return them."""
    erp = client.config.erp
    state = callback.get("state", "")
    if not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise AuthorizationFailed(
            f"the answer from {erp} does not belong to this authorization (state mismatch); "
            "start connecting again"
        )
    if "error" in callback:
        text = ": ".join(filter(None, [callback["error"], callback.get("error_description")]))
        raise AuthorizationFailed(f"{erp} did not grant access ({text})")
    code = callback.get("code", "")
    if not code:
        raise AuthorizationFailed(f"the answer from {erp} carries no authorization code")
    tokens = client.exchange_code(
        code=code,
        redirect_uri=pending.request.redirect_uri,
        code_verifier=pending.request.code_verifier,
    )
    store.save(pending.credential_id, to_stored(tokens))
    _log.info("oauth.connected", erp=erp, credential_id=pending.credential_id)
    return tokens


# the loopback redirect receiver ---------------------------------------------------------------


@dataclass(slots=True)
class _Inbox:
    path: str
    state: str | None = None
    received: dict[str, str] | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _page(title: str, text: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><p>{text}</p></body></html>"
    ).encode()


def _handler(inbox: _Inbox) -> type[http.server.BaseHTTPRequestHandler]:
    class Callback(http.server.BaseHTTPRequestHandler):
        timeout = 10  # a browser's idle connection must not hold the one-thread server

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != inbox.path:
                self._answer(404, _page("Not found", "Nothing here."))
                return
            params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            with inbox.lock:
                if inbox.received is not None:
                    self._answer(200, _page("ledgerlink", "Already received; close this window."))
                    return
                presented = params.get("state", "")
                if inbox.state is not None and not hmac.compare_digest(
                    presented.encode(), inbox.state.encode()
                ):
                    self._answer(
                        400,
                        _page("ledgerlink", "This answer is not the one ledgerlink waits for."),
                    )
                    return
                inbox.received = params
                inbox.arrived.set()
            if "error" in params:
                self._answer(200, _page("ledgerlink", "Access was not granted."))
            else:
                self._answer(
                    200, _page("ledgerlink", "ledgerlink is connected; you can close this window.")
                )

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the query carries the authorization code: never log it

    return Callback


class LoopbackReceiver:
    """A tiny HTTP server on 127.0.0.1 that waits for an authorization server's redirect
    (RFC 8252 §7.3). Use it as a context manager; :attr:`redirect_uri` is where the ERP must
    send the browser (``port=0`` picks a free port; ERPs that want the exact redirect URI
    registered need a fixed ``port``). With an expected ``state`` (:meth:`expect`), answers
    carrying another state are refused and waiting goes on."""

    def __init__(self, *, port: int = 0, path: str = "/callback", host: str = "127.0.0.1") -> None:
        self._inbox = _Inbox(path=path)
        self._server = http.server.HTTPServer((host, port), _handler(self._inbox))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oauth-loopback", daemon=True
        )
        self.redirect_uri = f"http://{host}:{self._server.server_port}{path}"

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def expect(self, state: str) -> None:
        """Accept only answers that carry ``state``."""
        with self._inbox.lock:
            self._inbox.state = state

    def wait(self, timeout: float) -> dict[str, str]:
        """The first accepted answer's query parameters; :class:`AuthorizationFailed` when
        none arrives within ``timeout`` seconds."""
        if not self._inbox.arrived.wait(timeout):
            raise AuthorizationFailed(
                f"no answer arrived at {self.redirect_uri} within {timeout:g} s; "
                "run the command again"
            )
        with self._inbox.lock:
            assert self._inbox.received is not None
            return dict(self._inbox.received)


def authorize_via_loopback(
    client: OAuthClient,
    store: TokenStore,
    *,
    credential_id: str,
    show_url: Callable[[str], None],
    timeout: float = 300.0,
    port: int = 0,
    path: str = "/callback",
    params: Mapping[str, str] | None = None,
) -> TokenSet:
    """The whole code flow for a command line: listen on loopback, ``show_url(url)`` (print
    it, maybe open a browser), wait up to ``timeout`` seconds for the redirect, then
    :func:`complete_authorization`."""
    with LoopbackReceiver(port=port, path=path) as receiver:
        pending = begin_authorization(
            client, credential_id=credential_id, redirect_uri=receiver.redirect_uri, params=params
        )
        receiver.expect(pending.state)
        show_url(pending.url)
        callback = receiver.wait(timeout)
    return complete_authorization(client, store, pending, callback)
