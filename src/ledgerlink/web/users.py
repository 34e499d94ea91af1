"""Console users and sign-in (issue 14 item 1): the use-cases ``ledgerlink users`` and the
console's sign-in page share.

Passwords are hashed with argon2id (``argon2-cffi``, RFC 9106's default parameters).
Sessions are server-side: the browser holds a random token, the database only its SHA-256,
so a copy of the database opens no session. A failed sign-in says one thing whatever failed
(no such user, wrong password, disabled, locked), and costs the same argon2 work either way;
``lock_after`` failures in a row lock the user for ``lock_for``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, NotFoundError, ValidationError
from ledgerlink.domain.users import Role, User, check_password, user_name
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.web import formats

UowFactory = Callable[[], UnitOfWork]

#: What every refused sign-in says.
REFUSED = "Sign-in failed: the user name or password is wrong, or the user may not sign in now."


class SignInRefused(LedgerlinkError):
    """A sign-in that did not succeed, for whatever reason (:data:`REFUSED`)."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


class Passwords:
    """Hashes and checks passwords (argon2id). ``hasher`` defaults to argon2-cffi's
    RFC 9106 low-memory profile; tests may pass a cheaper one."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        check_password(password)
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def waste(self, password: str) -> None:
        """Do the work of a check against no user, so a missing user takes as long as a
        wrong password."""
        if self._decoy is None:
            self._decoy = self._hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._decoy, password)


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInPolicy:
    session_lifetime: timedelta = timedelta(hours=8)
    lock_after: int = 5
    lock_for: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request comes from: the user and the session's CSRF token."""

    user: User
    csrf_token: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie and is nowhere stored."""

    token: str
    principal: Principal
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


# users ------------------------------------------------------------------------------------------
def add_user(uow: UowFactory, passwords: Passwords, name: str, role: Role, password: str) -> User:
    """Create a user (the name is kept in lower case; the password is hashed)."""
    user = User(name=user_name(name), role=role, password_hash=passwords.hash(password))
    with uow() as work:
        work.users.add(user)
        work.commit()
    return user


def list_users(uow: UowFactory) -> list[User]:
    with uow() as work:
        return work.users.list()


def _find(work: UnitOfWork, name: str) -> User:
    found = work.users.by_name(user_name(name))
    if found is None:
        raise NotFoundError(f"there is no user '{name}' ('ledgerlink users list' shows them)")
    return found


def set_role(uow: UowFactory, name: str, role: Role) -> User:
    with uow() as work:
        user = _find(work, name)
        user.role = role
        work.users.save(user)
        work.commit()
    return user


def set_active(uow: UowFactory, name: str, *, active: bool) -> User:
    """Disable a user (their sessions end at once) or enable them again."""
    with uow() as work:
        user = _find(work, name)
        user.active = active
        user.failed_sign_ins = 0
        user.locked_until = None
        work.users.save(user)
        if not active:
            work.web_sessions.delete_for_user(require_id(user))
        work.commit()
    return user


def set_password(uow: UowFactory, passwords: Passwords, name: str, password: str) -> User:
    """Give a user a new password; their sessions end."""
    password_hash = passwords.hash(password)
    with uow() as work:
        user = _find(work, name)
        user.password_hash = password_hash
        work.users.save(user)
        work.web_sessions.delete_for_user(require_id(user))
        work.commit()
    return user


def set_formats(uow: UowFactory, name: str, *, locale: str | None, time_zone: str | None) -> User:
    """How the console formats a user's pages: ``locale`` one of da, sv, nl, en ("" = the
    browser's language), ``time_zone`` an IANA name ("" = UTC); None leaves one as it is."""
    with uow() as work:
        user = _find(work, name)
        if locale is not None:
            user.locale = formats.locale_tag(locale) if locale else None
        if time_zone is not None:
            user.time_zone = formats.zone_name(time_zone) if time_zone else None
        work.users.save(user)
        work.commit()
    return user


# sessions ---------------------------------------------------------------------------------------
def sign_in(
    uow: UowFactory,
    passwords: Passwords,
    name: str,
    password: str,
    *,
    policy: SignInPolicy = SignInPolicy(),
    now: datetime | None = None,
) -> SignedIn:
    """Open a session for the user, or raise :class:`SignInRefused` (one message whatever
    the reason)."""
    moment = now or _now()
    try:
        wanted = user_name(name)
    except ValidationError:
        passwords.waste(password)
        raise SignInRefused() from None
    with uow() as work:
        user = work.users.by_name(wanted)
        if user is None or not user.active:
            passwords.waste(password)
            raise SignInRefused()
        locked = user.locked_until is not None and user.locked_until > moment
        matches = passwords.verify(user.password_hash, password)
        if locked:
            raise SignInRefused()
        if not matches:
            user.failed_sign_ins += 1
            if user.failed_sign_ins >= policy.lock_after:
                user.failed_sign_ins = 0
                user.locked_until = moment + policy.lock_for
            work.users.save(user)
            work.commit()
            raise SignInRefused()
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash(password)
        user.failed_sign_ins = 0
        user.locked_until = None
        user.last_sign_in = moment
        work.users.save(user)
        token = secrets.token_urlsafe(32)
        expires = moment + policy.session_lifetime
        stored = work.web_sessions.add(
            token_hash=token_hash(token),
            user_id=require_id(user),
            csrf_token=secrets.token_urlsafe(32),
            now=moment,
            expires_at=expires,
        )
        work.web_sessions.delete_expired(moment)
        work.commit()
    return SignedIn(token, Principal(user, stored.csrf_token), expires)


def session_of(uow: UowFactory, token: str, *, now: datetime | None = None) -> Principal | None:
    """The signed-in user of a session token, or None (unknown, expired, user disabled)."""
    if not token:
        return None
    moment = now or _now()
    with uow() as work:
        found = work.web_sessions.get(token_hash(token))
        if found is None:
            return None
        if found.expires_at <= moment:
            work.web_sessions.delete(found.token_hash)
            work.commit()
            return None
        user = work.users.get(found.user_id)
        if not user.active:
            return None
        return Principal(user, found.csrf_token)


def sign_out(uow: UowFactory, token: str) -> None:
    """End the session (its row is deleted; the token opens nothing any more)."""
    with uow() as work:
        work.web_sessions.delete(token_hash(token))
        work.commit()
