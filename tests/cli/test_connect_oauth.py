"""``ledgerlink connect fortnox`` as a consultant runs it: the command prints the authorize
address and waits on a loopback redirect; the "browser" (an HTTP client answering the Fortnox
emulator's consent page) approves and follows the redirect; the command trades the code for
tokens, keeps them in the token store, verifies on ``/3/me`` and stores the connection. The
stored connection then works from other commands, refreshing its tokens through the store.
The service-account option asks for ``account_type=service``; a denied grant stores nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from typer.testing import CliRunner

from ledgerlink.cli import integration
from ledgerlink.cli.app import app
from ledgerlink.emulators._kit.rehearsal import approve_in_browser
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.fortnox import FortnoxEmulator

CLIENT, SECRET = "ledgerlink-cli", "cli-secret"
LEDGERLINK = (sys.executable, "-c", "from ledgerlink.cli.app import main; main()")
SWEDISH = ("--country", "SE", "--currency", "SEK")


@pytest.fixture
def fortnox() -> Iterator[tuple[FortnoxEmulator, str]]:
    emulator = FortnoxEmulator(client_id=CLIENT, client_secret=SECRET)
    with running(emulator.app) as url:
        yield emulator, url


def cli(data_dir: Path, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), *args], env={"COLUMNS": "200"})
    assert result.exit_code == expect, result.output
    return result.output


def connect_args(url: str, *extra: str) -> list[str]:
    return [
        "connect",
        "fortnox",
        "--url",
        url,
        "--auth-url",
        f"{url}/oauth-v1",
        "--client-id",
        CLIENT,
        "--client-secret",
        SECRET,
        "--timeout",
        "30",
        *extra,
    ]


def _read_until_url(out: IO[str], seen: list[str]) -> str:
    for line in out:
        seen.append(line)
        if line.strip().startswith("http"):
            return line.strip()
    return ""


@pytest.mark.e2e
def test_connect_fortnox_in_a_real_process_completes_the_code_flow_and_the_connection_works(
    tmp_path: Path, fortnox: tuple[FortnoxEmulator, str]
) -> None:
    emulator, url = fortnox
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS", "--name", "Nordlys Konsult AB", *SWEDISH)
    child = subprocess.Popen(
        [*LEDGERLINK, "--data-dir", str(data_dir), *connect_args(url)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        # The address comes on the line after "Open this address, log in to Fortnox ...".
        reader: list[str] = []
        thread = threading.Thread(target=lambda: reader.append(_read_until_url(child.stdout, seen)))
        thread.start()
        thread.join(60)
        authorize = reader[0] if reader else ""
        assert authorize.startswith(f"{url}/oauth-v1/auth?"), "".join(seen)
        query = parse_qs(urlsplit(authorize).query)
        assert query["client_id"] == [CLIENT] and query["access_type"] == ["offline"]
        assert "account_type" not in query
        approve_in_browser(authorize)  # the user approves; the browser lands on the loopback
        rest, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    output = "".join(seen) + rest
    assert child.returncode == 0, output
    assert "Traceback" not in output
    assert "Connected NORDLYS to Fortnox company 1234567 (Nordlys Konsult AB" in output, output

    listed = cli(data_dir, "connections", "list", "--json")
    assert '"erp": "fortnox"' in listed and '"account": "1234567"' in listed, listed
    assert '"company": "Nordlys Konsult AB"' in listed, listed

    # The stored connection works from another command. Its access token is dropped by the
    # ERP first: the command refreshes through the token store (rotating the refresh token).
    refreshes = emulator.oauth.counters.get("refresh_token.ok", 0)
    emulator.oauth.expire_access_tokens()
    assert "4 product numbers (4 new or changed" in cli(data_dir, "sync", "products")
    assert emulator.oauth.counters.get("refresh_token.ok", 0) == refreshes + 1
    assert emulator.oauth.counters.get("authorization_code.ok", 0) == 1


def test_the_service_account_option_asks_fortnox_for_the_service_account(
    tmp_path: Path, fortnox: tuple[FortnoxEmulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--service-account true``: ``account_type=service`` in the authorize address, so the
    grant (and ``/3/me``) is the company's service account's, not the consenting person's."""
    emulator, url = fortnox
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS", "--name", "Nordlys Konsult AB", *SWEDISH)
    shown: list[str] = []

    def user_approves(_spec: object, address: str) -> None:
        shown.append(address)
        approve_in_browser(address)

    monkeypatch.setattr(integration, "_show_grant_url", user_approves)
    said = cli(data_dir, *connect_args(url, "--service-account", "true"))
    assert "Connected NORDLYS to Fortnox company 1234567" in said, said
    (address,) = shown
    query = parse_qs(urlsplit(address).query)
    assert query["account_type"] == ["service"] and query["access_type"] == ["offline"]
    grants = emulator.oauth.snapshot()["access"].values()
    assert [g["params"] for g in grants] == [{"account_type": "service"}]
    assert '"erp": "fortnox"' in cli(data_dir, "connections", "list", "--json")


def test_a_denied_grant_is_one_line_and_stores_nothing(
    tmp_path: Path, fortnox: tuple[FortnoxEmulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = fortnox
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS", "--name", "Nordlys Konsult AB", *SWEDISH)

    def user_denies(_spec: object, address: str) -> None:
        with httpx2.Client(follow_redirects=True, timeout=10) as browser:
            browser.get(f"{address}&approve=no")

    monkeypatch.setattr(integration, "_show_grant_url", user_denies)
    said = cli(data_dir, *connect_args(url), expect=1)
    assert "Fortnox was not connected: Fortnox did not grant access (access_denied" in said
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
    assert "No connections yet" in cli(data_dir, "connections", "list")
