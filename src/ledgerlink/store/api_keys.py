"""API keys of console users and the ``Idempotency-Key`` answers of the JSON API (issue 14
item 8).

A key is ``llk_`` + 8 hex characters of prefix + ``_`` + 43 characters of secret from
``secrets.token_urlsafe`` (the secret alone is 256 bits). Only its SHA-256 is stored. A slow
password hash (argon2, bcrypt) exists to make guessing a *low-entropy* secret from a stolen
hash expensive; no amount of guessing finds a 256-bit random value, so a slow hash would buy
nothing and would cost every API request tens of milliseconds of CPU (and hand anyone who
sends bogus keys a way to burn it). The hash is looked up directly (unique index), so no
comparison of secrets happens in Python at all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.tables import ApiKeyRow, IdempotencyKeyRow, UserRow, utcnow

KEY_MARK = "llk_"
#: The characters after the mark that identify a key (its prefix, shown in lists).
PREFIX_CHARACTERS = 8
#: How long an ``Idempotency-Key`` and its answer are kept.
IDEMPOTENCY_TTL = timedelta(hours=24)
#: A key used again within this time does not write ``last_used_at`` again.
_USE_RESOLUTION = timedelta(minutes=1)
_MAX_NAME = 100


def key_hash(key: str) -> str:
    """The stored form of a key (hex SHA-256)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What is known of a key after it was made: never the key itself."""

    id: int
    user_name: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Caller:
    """The user an API request is made for (found by its key)."""

    user_id: int
    user_name: str
    role: Role
    key_id: int


def _api_key(row: ApiKeyRow, user_name: str) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_name=user_name,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyStore:
    """Make, list, revoke and check API keys."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def _user(self, session: Session, user_name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == user_name.strip().lower()))
        if row is None:
            raise NotFoundError(f"there is no user {user_name.strip()!r}")
        return row

    def create(self, user_name: str, name: str) -> tuple[ApiKey, str]:
        """A new key for the user: its record and the key, which is never shown again."""
        label = name.strip()
        if not label or len(label) > _MAX_NAME or not label.isprintable():
            raise ValidationError(
                f"name the key with 1 to {_MAX_NAME} printable characters (what it is for)"
            )
        # Hex, not URL-safe base64: a prefix holding "_" could not be told from a whole key.
        prefix = KEY_MARK + secrets.token_hex(PREFIX_CHARACTERS // 2)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        with self._database.session() as session:
            user = self._user(session, user_name)
            row = ApiKeyRow(user_id=user.id, name=label, prefix=prefix, key_hash=key_hash(key))
            session.add(row)
            session.commit()
            return _api_key(row, user.name), key

    def list(self, user_name: str | None = None) -> list[ApiKey]:
        """Every key (or one user's), oldest first, revoked ones too."""
        with self._database.session() as session:
            query = (
                select(ApiKeyRow, UserRow.name)
                .join(UserRow, UserRow.id == ApiKeyRow.user_id)
                .order_by(ApiKeyRow.id)
            )
            if user_name is not None:
                query = query.where(UserRow.id == self._user(session, user_name).id)
            return [_api_key(row, name) for row, name in session.execute(query)]

    def revoke(self, prefix: str) -> ApiKey:
        """Revoke the key with this prefix (the whole key works too); revoking twice is fine."""
        wanted = prefix.strip()
        whole = len(KEY_MARK) + PREFIX_CHARACTERS
        if len(wanted) > whole:  # the whole key: its prefix is what comes before its secret
            wanted = wanted[:whole]
        with self._database.session() as session:
            found = session.execute(
                select(ApiKeyRow, UserRow.name)
                .join(UserRow, UserRow.id == ApiKeyRow.user_id)
                .where(ApiKeyRow.prefix == wanted)
            ).first()
            if found is None:
                raise NotFoundError(
                    f"there is no API key {wanted!r}; 'ledgerlink users api-key list' shows them"
                )
            row, user_name = found
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.commit()
            return _api_key(row, user_name)

    def authenticate(self, key: str) -> Caller | None:
        """The caller a presented key stands for; None for an unknown or revoked key or a
        disabled user (the caller is told no more than that)."""
        if not key.startswith(KEY_MARK) or len(key) > 200:
            return None
        with self._database.session() as session:
            found = session.execute(
                select(ApiKeyRow, UserRow)
                .join(UserRow, UserRow.id == ApiKeyRow.user_id)
                .where(ApiKeyRow.key_hash == key_hash(key))
            ).first()
            if found is None:
                return None
            row, user = found
            if row.revoked_at is not None or not user.active:
                return None
            try:
                role = Role(user.role)
            except ValueError:
                return None
            now = utcnow()
            if row.last_used_at is None or now - _aware(row.last_used_at) > _USE_RESOLUTION:
                session.execute(
                    update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now)
                )
                session.commit()
            return Caller(user_id=user.id, user_name=user.name, role=role, key_id=row.id)


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# idempotency ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer kept for an ``Idempotency-Key``."""

    status: int
    content_type: str
    location: str
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """What :meth:`IdempotencyStore.claim` found: ``new`` — run the request (the key is now
    held for it); else ``answer`` to give again, or a conflict: ``other_request`` (the key came
    with another request) or ``running`` (the first request has no answer yet)."""

    new: bool = False
    answer: StoredAnswer | None = None
    other_request: bool = False
    running: bool = False


class IdempotencyStore:
    """``Idempotency-Key`` per user: claim before running, then keep the answer (or let go)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def claim(self, user_id: int, key: str, request_hash: str) -> Claim:
        """Hold ``key`` for this request, or say what an earlier request with it left.
        A key older than :data:`IDEMPOTENCY_TTL` is forgotten first (every user's)."""
        now = utcnow()
        with self._database.session() as session:
            session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.created_at < now - IDEMPOTENCY_TTL
                )
            )
            session.add(
                IdempotencyKeyRow(
                    user_id=user_id, key=key, request_hash=request_hash, created_at=now
                )
            )
            try:
                session.commit()
            except IntegrityError:  # the key is taken: by this user's earlier request
                session.rollback()
            else:
                return Claim(new=True)
            row = session.get(IdempotencyKeyRow, (user_id, key))
            if row is None:  # expired and deleted between the two statements: try once more
                return self.claim(user_id, key, request_hash)
            if row.request_hash != request_hash:
                return Claim(other_request=True)
            if row.status is None:
                return Claim(running=True)
            return Claim(
                answer=StoredAnswer(
                    status=row.status,
                    content_type=row.content_type,
                    location=row.location,
                    body=row.body,
                )
            )

    def keep(self, user_id: int, key: str, answer: StoredAnswer) -> None:
        """Keep the answer of the request that claimed ``key``."""
        with self._database.session() as session:
            session.execute(
                update(IdempotencyKeyRow)
                .where(IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key)
                .values(
                    status=answer.status,
                    content_type=answer.content_type,
                    location=answer.location,
                    body=answer.body,
                )
            )
            session.commit()

    def release(self, user_id: int, key: str) -> None:
        """Let go of a claimed key whose request ended without an answer to keep (a server
        error): the client may try the same request again."""
        with self._database.session() as session:
            session.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.user_id == user_id,
                    IdempotencyKeyRow.key == key,
                    IdempotencyKeyRow.status.is_(None),
                )
            )
            session.commit()
