"""Credentials are encrypted at rest and only the key file opens them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledgerlink.sync.secrets import SecretBox, SecretKeyError


def test_sealed_credentials_open_with_the_same_key_only(tmp_path: Path) -> None:
    box = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
    sealed = box.seal({"agreement_grant_token": "grant-123"})
    assert "grant-123" not in sealed
    assert SecretBox.from_key_file(tmp_path / "secret.key").open(sealed) == {
        "agreement_grant_token": "grant-123"
    }
    other = SecretBox.from_key_file(tmp_path / "other.key", create=True)
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        other.open(sealed)


def test_the_key_file_is_private_and_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    box = SecretBox.from_key_file(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() not in repr(box)


def test_a_missing_key_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="ledgerlink init"):
        SecretBox.from_key_file(tmp_path / "missing.key")
