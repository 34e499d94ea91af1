"""The host's secrets at rest: hub signing keys, the callback secret and ERP passwords,
encrypted with Fernet under a key file that only the service account can read (0600).

On Windows the key file belongs in a folder only the service account can read; DPAPI would be
the stronger store there and is a planned alternative.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ledgerlink.financialhost.files import private_dir, write_private
from ledgerlink.wire.signing import SigningKey

KEY_FILE = "vault.key"
VAULT_FILE = "vault.bin"


class VaultError(Exception):
    """The vault cannot be read (wrong or missing key file) or a secret is missing."""


class Vault:
    """Named secrets in ``<data_dir>/vault.bin``; the key in ``<data_dir>/vault.key``."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir
        self._key_file = data_dir / KEY_FILE
        self._file = data_dir / VAULT_FILE

    def _fernet(self, *, create: bool) -> Fernet:
        if not self._key_file.exists():
            if not create:
                raise VaultError(
                    f"The vault key {self._key_file} is missing; run 'ledgerlink host init' or "
                    "restore it from the backup."
                )
            private_dir(self._dir)
            fd = os.open(self._key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(Fernet.generate_key())
        return Fernet(self._key_file.read_bytes().strip())

    def _load(self) -> dict[str, str]:
        if not self._file.exists():
            return {}
        try:
            data = self._fernet(create=False).decrypt(self._file.read_bytes())
        except InvalidToken:
            raise VaultError(
                f"The vault {self._file} does not open with {self._key_file}; the key file "
                "does not belong to it."
            ) from None
        loaded: dict[str, str] = json.loads(data)
        return loaded

    def get(self, name: str) -> str:
        try:
            return self._load()[name]
        except KeyError:
            raise VaultError(
                f"The secret '{name}' is not in the vault; set it with 'ledgerlink host secret "
                f"set {name}'."
            ) from None

    def find(self, name: str) -> str | None:
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        data = self._load()
        data[name] = value
        token = self._fernet(create=True).encrypt(json.dumps(data, sort_keys=True).encode())
        write_private(self._file, token)

    def delete(self, name: str) -> None:
        data = self._load()
        if data.pop(name, None) is not None:
            token = self._fernet(create=True).encrypt(json.dumps(data, sort_keys=True).encode())
            write_private(self._file, token)

    def new_secret(self, name: str) -> str:
        """Create, store and return a random secret (e.g. the callback secret)."""
        value = secrets.token_urlsafe(32)
        self.set(name, value)
        return value

    # hub signing keys ------------------------------------------------------------------------

    def hub_keys(self) -> list[HubKey]:
        """The hub keys this host accepts, newest first."""
        data = self._load()
        listed = [HubKey.from_json(item) for item in json.loads(data.get("keys", "[]"))]
        return sorted(listed, key=lambda k: k.created, reverse=True)

    def signing_keys(self) -> list[SigningKey]:
        data = self._load()
        return [
            SigningKey(k.key_id, data[f"key:{k.key_id}"].encode(), k.not_after)
            for k in self.hub_keys()
        ]

    def add_key(self, key_id: str) -> str:
        """Create a new hub signing key; return its secret (shown once, for the hub). Older
        keys stay valid until they are retired."""
        if any(k.key_id == key_id for k in self.hub_keys()):
            raise VaultError(f"The key id '{key_id}' exists already; choose another.")
        secret = secrets.token_urlsafe(32)
        key = HubKey(key_id, datetime.now(UTC), None)
        self._store_keys([*self.hub_keys(), key], extra={f"key:{key_id}": secret})
        return secret

    def retire_key(self, key_id: str, not_after: datetime) -> None:
        """Accept the key only until ``not_after`` (the end of a rotation's overlap)."""
        keys = self.hub_keys()
        if not any(k.key_id == key_id for k in keys):
            raise VaultError(f"There is no key '{key_id}'.")
        self._store_keys(
            [HubKey(k.key_id, k.created, not_after) if k.key_id == key_id else k for k in keys]
        )

    def _store_keys(self, keys: list[HubKey], extra: dict[str, str] | None = None) -> None:
        for name, value in (extra or {}).items():
            self.set(name, value)
        self.set("keys", json.dumps([k.to_json() for k in keys]))


@dataclass(frozen=True, slots=True)
class HubKey:
    """A hub signing key's id and life; its secret is the vault entry ``key:<key_id>``."""

    key_id: str
    created: datetime
    not_after: datetime | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "key_id": self.key_id,
            "created": self.created.isoformat(),
            "not_after": self.not_after.isoformat() if self.not_after else None,
        }

    @classmethod
    def from_json(cls, item: dict[str, str | None]) -> HubKey:
        not_after = item.get("not_after")
        return cls(
            str(item["key_id"]),
            datetime.fromisoformat(str(item["created"])),
            datetime.fromisoformat(not_after) if not_after else None,
        )
