"""Credentials at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
``cryptography`` package) under a key that never enters the database or the logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ledgerlink.domain.errors import LedgerlinkError


class SecretKeyError(LedgerlinkError):
    """The key cannot open the stored credentials (wrong or replaced key file)."""


class SecretBox:
    """Encrypts and decrypts a connection's credentials (a flat dict of strings)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def from_key_file(cls, path: Path, *, create: bool = False) -> SecretBox:
        """Read the key file; with ``create`` make one (mode 0600) if it does not exist."""
        if not path.exists():
            if not create:
                raise SecretKeyError(
                    f"the key file {path} is missing; run 'ledgerlink init' (or restore the "
                    "file: without it stored credentials cannot be read)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, credentials: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise SecretKeyError(
                "the stored credentials cannot be decrypted with this key file; restore the "
                "original key file or connect again"
            ) from None
        return {str(k): str(v) for k, v in data.items()}

    def __repr__(self) -> str:  # never show the key
        return "SecretBox(***)"
