"""``ledgerlink users api-key create|list|revoke``: the key printed once, listed by prefix
(never the key), revoked by prefix; a key for an unknown user is one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledgerlink.cli.app import app
from ledgerlink.domain.users import Role
from ledgerlink.store.api_keys import ApiKeyStore
from ledgerlink.store.database import Database
from tests.web.test_api import add_user


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def base(tmp_path: Path, sqlite_template: Path) -> list[str]:
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    database = Database(f"sqlite:///{tmp_path / 'ledgerlink.db'}")
    add_user(database, "eva", Role.FINANCE)
    database.dispose()
    return ["--data-dir", str(tmp_path)]


def test_a_key_is_shown_once_listed_by_prefix_and_revoked(base: list[str], tmp_path: Path) -> None:
    made = invoke(*base, "users", "api-key", "create", "PSA sync", "--user", "eva")
    assert made.exit_code == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("llk_")
    listed = invoke(*base, "users", "api-key", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["user"] == "eva" and entry["name"] == "PSA sync" and entry["active"]
    assert key.startswith(entry["prefix"]) and key not in listed.stdout
    assert key not in invoke(*base, "users", "api-key", "list").stdout
    database = Database(f"sqlite:///{tmp_path / 'ledgerlink.db'}")
    try:
        assert ApiKeyStore(database).authenticate(key) is not None
        revoked = invoke(*base, "users", "api-key", "revoke", entry["prefix"])
        assert revoked.exit_code == 0 and "revoked" in revoked.stdout
        assert ApiKeyStore(database).authenticate(key) is None
    finally:
        database.dispose()


def test_an_unknown_user_or_prefix_is_one_line(base: list[str]) -> None:
    made = invoke(*base, "users", "api-key", "create", "x", "--user", "nobody")
    assert made.exit_code == 1 and made.stderr.startswith("error: there is no user 'nobody'")
    revoked = invoke(*base, "users", "api-key", "revoke", "llk_nothing")
    assert revoked.exit_code == 1 and "api-key list" in revoked.stderr
