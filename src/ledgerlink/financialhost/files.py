"""The host's files are private to its service account: folders 0700, files 0600, whatever the
umask (design §10: the database holds job bodies, the head and the vault guard the audit)."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700; a folder that exists is left as it is."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path, 0o700)  # mkdir's mode only applies to the last part


def private_file(path: Path) -> None:
    """Create ``path`` empty as 0600 in a private folder, or make it 0600 if it exists."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, as a 0600 file."""
    private_dir(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.chmod(temporary, 0o600)  # a leftover temporary file may have had other bits
    os.replace(temporary, path)
