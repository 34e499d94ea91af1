"""The host's files are private whatever the umask, and 'host key' refuses what would lock the
hub out or fail half-way (issue 11 item 5)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledgerlink.cli.app import app
from ledgerlink.financialhost.audit import AuditLog
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.vault import Vault


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_host_files_are_0600_in_a_0700_folder_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "host" / "data"
    Vault(data).add_key("hub-1")
    database = HostDatabase(data / "host.sqlite")
    AuditLog(database, data / "audit.head").append("host.started")
    files = ["host.sqlite", "host.sqlite-wal", "host.sqlite-shm", "audit.head", "vault.bin"]
    try:
        assert {name: oct(mode(data / name)) for name in files} == dict.fromkeys(files, "0o600")
    finally:
        database.close()
    assert oct(mode(data)) == "0o700"


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    file = tmp_path / "financialhost.toml"
    file.write_text(f'data_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    Vault(tmp_path / "data").add_key("hub-1")
    return file


def host(settings: Path, *args: str) -> Result:
    result = CliRunner().invoke(app, ["host", *args, "--settings", str(settings)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_adding_a_key_id_that_exists_is_one_line_exit_1(settings: Path) -> None:
    result = host(settings, "key", "add", "hub-1")
    assert result.exit_code == 1
    assert result.output == "error: The key id 'hub-1' exists already; choose another.\n"


def test_a_negative_overlap_is_refused(settings: Path) -> None:
    host(settings, "key", "add", "hub-2")
    result = host(settings, "key", "retire", "hub-1", "--after-hours", "-5")
    assert result.exit_code == 1
    assert "--after-hours must be 0 or more, not -5" in result.output
    assert all(k.not_after is None for k in Vault(settings.parent / "data").hub_keys())


def test_retiring_the_last_key_needs_force(settings: Path) -> None:
    refused = host(settings, "key", "retire", "hub-1")
    assert refused.exit_code == 1
    assert "hub-1 is the last key without an end" in refused.output
    assert Vault(settings.parent / "data").hub_keys()[0].not_after is None
    forced = host(settings, "key", "retire", "hub-1", "--after-hours", "0", "--force")
    assert forced.exit_code == 0, forced.output


def test_retiring_a_key_with_a_successor_needs_no_force(settings: Path) -> None:
    host(settings, "key", "add", "hub-2")
    result = host(settings, "key", "retire", "hub-1")
    assert result.exit_code == 0, result.output
    assert "hub-1 is accepted until" in result.output


def test_the_host_list_commands_have_json_and_never_show_a_secret(settings: Path) -> None:
    """'host key list', 'host jobs' and 'host audit show' print JSON with --json (issue 12
    item 6: every list command has --json); an empty list is [] and, without --json, a line."""
    keys = host(settings, "key", "list", "--json")
    assert keys.exit_code == 0, keys.output
    (key,) = json.loads(keys.stdout)
    assert key["key_id"] == "hub-1" and "secret" not in keys.stdout
    secret = Vault(settings.parent / "data").find("key:hub-1")
    assert secret and secret not in keys.stdout
    data = settings.parent / "data"
    AuditLog(HostDatabase(data / "host.sqlite"), data / "audit.head").append("host.started")
    jobs = host(settings, "jobs", "--json")
    assert jobs.exit_code == 0, jobs.output
    assert json.loads(jobs.stdout) == []
    assert host(settings, "jobs").stdout.strip() == "No jobs."
    audit = host(settings, "audit", "show", "--json")
    assert audit.exit_code == 0, audit.output
    assert [record["event"] for record in json.loads(audit.stdout)][-1] == "host.started"
