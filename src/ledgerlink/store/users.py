"""Console users and their sessions (issue 14): the ``users`` and ``web_sessions`` tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ConflictError, NotFoundError
from ledgerlink.domain.users import Role, User
from ledgerlink.store.tables import UserRow, WebSessionRow


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; every stored one is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        password_hash=row.password_hash,
        active=row.active,
        failed_sign_ins=row.failed_sign_ins,
        locked_until=_aware(row.locked_until),
        created_at=_aware(row.created_at),
        last_sign_in=_aware(row.last_sign_in),
        locale=row.locale,
        time_zone=row.time_zone,
    )


class UserRepository:
    """The ``users`` table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: User) -> User:
        if self.by_name(user.name) is not None:
            raise ConflictError(f"there is already a user '{user.name}'")
        row = UserRow(
            name=user.name,
            role=user.role.value,
            password_hash=user.password_hash,
            active=user.active,
            failed_sign_ins=0,
        )
        self._session.add(row)
        self._session.flush()
        user.id = row.id
        user.created_at = _aware(row.created_at)
        return user

    def save(self, user: User) -> User:
        """Write back what may change: role, password hash, active, the sign-in counters,
        locale and time zone."""
        row = self._row(require_id(user))
        row.role = user.role.value
        row.password_hash = user.password_hash
        row.active = user.active
        row.failed_sign_ins = user.failed_sign_ins
        row.locked_until = user.locked_until
        row.last_sign_in = user.last_sign_in
        row.locale = user.locale
        row.time_zone = user.time_zone
        self._session.flush()
        return user

    def get(self, user_id: int) -> User:
        return _user(self._row(user_id))

    def by_name(self, name: str) -> User | None:
        row = self._session.scalar(select(UserRow).where(UserRow.name == name))
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        return [_user(r) for r in self._session.scalars(select(UserRow).order_by(UserRow.name))]

    def _row(self, user_id: int) -> UserRow:
        row = self._session.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"there is no user #{user_id}")
        return row


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser (never its token: only the token's hash is stored)."""

    token_hash: str
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


def _web_session(row: WebSessionRow) -> WebSession:
    created, expires = _aware(row.created_at), _aware(row.expires_at)
    assert created is not None
    assert expires is not None
    return WebSession(row.token_hash, row.user_id, row.csrf_token, created, expires)


class WebSessionRepository:
    """The ``web_sessions`` table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, *, token_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
    ) -> WebSession:
        row = WebSessionRow(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
        self._session.add(row)
        self._session.flush()
        return _web_session(row)

    def get(self, token_hash: str) -> WebSession | None:
        row = self._session.get(WebSessionRow, token_hash)
        return None if row is None else _web_session(row)

    def delete(self, token_hash: str) -> None:
        self._session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    def delete_for_user(self, user_id: int) -> int:
        result = self._session.execute(
            delete(WebSessionRow).where(WebSessionRow.user_id == user_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def delete_expired(self, now: datetime) -> None:
        self._session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
