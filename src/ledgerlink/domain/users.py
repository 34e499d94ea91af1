"""Console users and what their role lets them do (issue 14 item 1). Pure: the password hash
is made and checked by the web layer; here it is only a string."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from ledgerlink.domain.errors import ValidationError


class Permission(enum.StrEnum):
    """What a request needs."""

    READ = "read"  # every page of the console
    TRANSFER = "transfer"  # transfer, ignore, resolve
    ADMINISTER = "administer"  # connections, setup, users


class Role(enum.StrEnum):
    """A user's role. Each role can do what the one below it can: a finance user reads, an
    admin also transfers (a small finance team has one person who sets up and sends)."""

    ADMIN = "admin"
    FINANCE = "finance"
    VIEWER = "viewer"

    @property
    def permissions(self) -> frozenset[Permission]:
        return _PERMISSIONS[self]

    def may(self, permission: Permission) -> bool:
        return permission in _PERMISSIONS[self]


_PERMISSIONS = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.FINANCE: frozenset({Permission.READ, Permission.TRANSFER}),
    Role.ADMIN: frozenset(Permission),
}

#: A user name: what people type at a sign-in page (letters, digits, . _ - @), 1 to 64.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Passwords shorter than this are refused (NIST SP 800-63B asks for at least 8; a shared
#: finance console gets a little more).
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def user_name(value: str) -> str:
    """``value`` as a user name, or a :class:`ValidationError` saying what a name may be.
    Names are compared case-insensitively, so they are kept in lower case."""
    name = value.strip()
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"'{value}' is not a user name: use 1 to 64 letters, digits, '.', '_', '-' or '@', "
            "starting with a letter or digit"
        )
    return name.lower()


def check_password(password: str) -> None:
    """Refuse a password too short or too long to be one (the message says the rule)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"the password is too long: at most {MAX_PASSWORD_LENGTH}")


@dataclass(kw_only=True)
class User:
    """A person who signs in to the console. ``password_hash`` is an argon2 hash (PHC
    string); ``active`` False = disabled (cannot sign in, sessions ended)."""

    id: int | None = None
    name: str
    role: Role
    password_hash: str
    active: bool = True
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    created_at: datetime | None = None
    last_sign_in: datetime | None = None
    #: How the console formats their pages: da/sv/nl/en (None: the browser's language) and an
    #: IANA time zone (None: UTC).
    locale: str | None = None
    time_zone: str | None = None
