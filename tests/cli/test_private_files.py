"""The hub's SQLite database, created by the CLI, is private whatever the umask (issue 11
item 5): it holds sealed credentials and business data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from typer.testing import CliRunner

from ledgerlink.cli.app import app


def test_the_hub_database_is_0600_in_a_0700_folder_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "ledgerlink"
    before = os.umask(0)
    try:
        CliRunner().invoke(app, ["--data-dir", str(data), "invoices", "list"])
    finally:
        os.umask(before)
    assert oct(stat.S_IMODE((data / "ledgerlink.db").stat().st_mode)) == "0o600"
    assert oct(stat.S_IMODE(data.stat().st_mode)) == "0o700"
