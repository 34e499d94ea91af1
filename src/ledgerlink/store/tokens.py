"""OAuth2 token sets, one row per credential, sealed at rest (design §6).

The store never sees a token in clear outside a method call: what it writes is ciphertext made
by a :class:`Sealer` (the hub's ``SecretBox``; the store may not import ``sync``). Only the
access token's expiry is kept in clear, so an operator can see which credentials are going
stale without opening them.

:meth:`TokenStore.refresh_serialised` is how every process refreshes a credential: the refresh
runs inside one transaction that holds the credential's row lock (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the session's ``BEGIN IMMEDIATE`` already holds the database's write
lock), so with refresh tokens that the ERP spends on use, no two processes ever present the
same one. Each method is one short transaction of its own, like :mod:`.relay`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError

from ledgerlink.domain.errors import LedgerlinkError, NotFoundError
from ledgerlink.store.database import Database
from ledgerlink.store.tables import OAuthTokenRow

__all__ = ["Sealer", "StoredTokens", "TokenBusy", "TokenNotFound", "TokenStore"]


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Sealer(Protocol):
    """Encrypts and decrypts a flat dict of strings (``ledgerlink.sync.secrets.SecretBox``)."""

    def seal(self, credentials: dict[str, str]) -> str: ...

    def open(self, sealed: str) -> dict[str, str]: ...


class TokenNotFound(NotFoundError):
    """No tokens are stored under the credential id (never connected, or disconnected)."""


class TokenBusy(LedgerlinkError):
    """Another process held the credential's lock longer than the store waits."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTokens:
    """A credential's token set as kept in the store. ``version`` counts the writes of this
    credential (1 after the first save, +1 per refresh); it is ignored when saving."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str = ""
    token_type: str = "bearer"
    extras: Mapping[str, str] = field(default_factory=dict)
    version: int = 0


def _payload(tokens: StoredTokens) -> dict[str, str]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at.isoformat(),
        "scope": tokens.scope,
        "token_type": tokens.token_type,
        "extras": json.dumps(dict(tokens.extras), sort_keys=True),
    }


class TokenStore:
    """The token sets of every OAuth2 credential (see the module docstring).

    ``lock_timeout`` bounds the wait for another process's refresh on PostgreSQL (SQLite
    waits up to its ``busy_timeout``); ``clock`` is the aware UTC time.
    """

    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        *,
        lock_timeout: float = 60.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = database
        self._sealer = sealer
        self._lock_timeout = lock_timeout
        self._clock = clock

    def _open(self, row: OAuthTokenRow) -> StoredTokens:
        data = self._sealer.open(row.sealed)
        return StoredTokens(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            scope=data.get("scope", ""),
            token_type=data.get("token_type", "bearer"),
            extras={str(k): str(v) for k, v in json.loads(data.get("extras", "{}")).items()},
            version=row.version,
        )

    def _write(self, row: OAuthTokenRow, tokens: StoredTokens) -> StoredTokens:
        row.sealed = self._sealer.seal(_payload(tokens))
        row.expires_at = tokens.expires_at
        row.version += 1
        row.updated_at = self._clock()
        return replace(tokens, version=row.version)

    def save(self, credential_id: str, tokens: StoredTokens) -> StoredTokens:
        """Store ``tokens`` under ``credential_id`` (after a code exchange), replacing any
        tokens stored before. Returns them with their new ``version``."""
        with self._db.sessions.begin() as session:
            row = session.get(OAuthTokenRow, credential_id, with_for_update=True)
            if row is None:
                row = OAuthTokenRow(
                    credential_id=credential_id,
                    sealed="",
                    expires_at=tokens.expires_at,
                    version=0,
                    created_at=self._clock(),
                    updated_at=self._clock(),
                )
                session.add(row)
            return self._write(row, tokens)

    def load(self, credential_id: str) -> StoredTokens | None:
        """The tokens stored under ``credential_id``, or ``None``."""
        with self._db.sessions.begin() as session:
            row = session.get(OAuthTokenRow, credential_id)
            return self._open(row) if row is not None else None

    def expires_at(self, credential_id: str) -> datetime | None:
        """When the stored access token expires, read without opening the seal."""
        with self._db.sessions.begin() as session:
            row = session.get(OAuthTokenRow, credential_id)
            return _aware(row.expires_at) if row is not None else None

    def delete(self, credential_id: str) -> bool:
        """Forget ``credential_id``'s tokens; False when none were stored."""
        with self._db.sessions.begin() as session:
            done = session.execute(
                delete(OAuthTokenRow).where(OAuthTokenRow.credential_id == credential_id)
            )
            return bool(getattr(done, "rowcount", 0))

    def refresh_serialised(
        self,
        credential_id: str,
        stale_access_token: str,
        do_refresh: Callable[[str], StoredTokens],
    ) -> StoredTokens:
        """A token set newer than the one whose access token is ``stale_access_token``.

        In one transaction holding the credential's lock: if the stored access token is no
        longer the stale one and has not expired, another process refreshed meanwhile and its
        set is returned without calling the ERP. Otherwise ``do_refresh(refresh_token)`` (the
        HTTP call) runs inside the lock, its answer is stored and committed, and only then
        returned — so the rotated refresh token is durable before the new access token is
        used. If ``do_refresh`` raises, nothing changes and the error propagates.
        """
        with self._db.sessions.begin() as session:
            try:
                if not self._db.is_sqlite:
                    milliseconds = max(1, round(self._lock_timeout * 1000))
                    session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
                row = session.get(OAuthTokenRow, credential_id, with_for_update=True)
            except OperationalError as busy:
                raise TokenBusy(
                    f"another process is refreshing credential {credential_id!r} and did not "
                    "finish in time; try again"
                ) from busy
            if row is None:
                raise TokenNotFound(
                    f"no OAuth tokens are stored for credential {credential_id!r}; connect first"
                )
            stored = self._open(row)
            if stored.access_token != stale_access_token and stored.expires_at > self._clock():
                return stored
            return self._write(row, do_refresh(stored.refresh_token))
