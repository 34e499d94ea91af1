"""``ledgerlink connect fortnox`` and ``connect exact`` as a consultant runs them: the command
prints the authorize address and waits on a loopback redirect; the "browser" (an HTTP client
answering the emulator's consent page) approves and follows the redirect; the command trades
the code for tokens, keeps them in the token store, verifies (Fortnox ``/3/me``; Exact
``current/Me`` and the division) and stores the connection. The stored connection then works
from other commands, refreshing its tokens through the store. Fortnox's service-account option
asks for ``account_type=service``; a denied grant stores nothing. Exact's division is chosen
with ``--division`` (one it cannot open is refused naming the ones it can), and its app's one
registered redirect URI is met with ``--redirect-port``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
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
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN, NO_ACCESS, SISTER
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


# Exact Online ---------------------------------------------------------------------------------
# ``ledgerlink connect exact``: the same code flow against the Exact emulator, the division
# chosen with --division (one connection = one division), and the redirect URI the app
# registered in Exact's App Center met with --redirect-port (Exact accepts only that URI).

EXACT_CLIENT, EXACT_SECRET = "ledgerlink-exact-cli", "exact-cli-secret"
DUTCH = ("--country", "NL", "--currency", "EUR")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Clock:
    """The Exact emulator's time, moved on by the test (its 600 s access tokens and the
    ~9.5 minutes Exact wants between refreshes)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def exact() -> Iterator[tuple[ExactEmulator, str, int, Clock]]:
    """The emulator with the app's one registered redirect URI on a fixed loopback port."""
    port, clock = free_port(), Clock()
    emulator = ExactEmulator(
        client_id=EXACT_CLIENT,
        client_secret=EXACT_SECRET,
        redirect_uris=(f"http://127.0.0.1:{port}/callback",),
        clock=clock,
    )
    with running(emulator.app) as url:
        yield emulator, url, port, clock


def exact_args(url: str, *extra: str) -> list[str]:
    return [
        "connect",
        "exact",
        "--url",
        url,
        "--client-id",
        EXACT_CLIENT,
        "--client-secret",
        EXACT_SECRET,
        "--timeout",
        "30",
        *extra,
    ]


@pytest.mark.e2e
def test_connect_exact_in_a_real_process_on_the_registered_redirect_port_with_its_division(
    tmp_path: Path, exact: tuple[ExactEmulator, str, int, Clock]
) -> None:
    emulator, url, port, clock = exact
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS-NL", "--name", "Nordlys B.V.", *DUTCH)
    args = exact_args(url, "--division", str(MAIN), "--redirect-port", str(port))
    child = subprocess.Popen(
        [*LEDGERLINK, "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        reader: list[str] = []
        thread = threading.Thread(target=lambda: reader.append(_read_until_url(child.stdout, seen)))
        thread.start()
        thread.join(60)
        authorize = reader[0] if reader else ""
        assert authorize.startswith(f"{url}/api/oauth2/auth?"), "".join(seen)
        query = parse_qs(urlsplit(authorize).query)
        assert query["client_id"] == [EXACT_CLIENT] and query["response_type"] == ["code"]
        assert query["redirect_uri"] == [f"http://127.0.0.1:{port}/callback"]
        approve_in_browser(authorize)
        rest, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    output = "".join(seen) + rest
    assert child.returncode == 0, output
    assert "Traceback" not in output
    assert (
        f"Connected NORDLYS-NL to Exact Online division {MAIN} (Lindeboom Advies B.V., EUR)"
        in output
    ), output

    listed = json.loads(cli(data_dir, "connections", "list", "--json"))
    assert [(c["erp"], c["account"], c["company"]) for c in listed] == [
        ("exact", str(MAIN), "Lindeboom Advies B.V.")
    ]
    # The division is the connection's: another command works in it. Ten minutes later the
    # access token has run out at Exact: one refresh through the token store (rotating the
    # single-use refresh token), and the products come from the chosen division.
    clock.now += 601
    assert "6 product numbers (6 new or changed" in cli(data_dir, "sync", "products")
    assert emulator.oauth.counters.get("refresh_token.ok", 0) == 1
    assert emulator.oauth.counters.get("authorization_code.ok", 0) == 1


def test_a_division_the_user_cannot_open_is_one_line_naming_the_ones_they_can(
    tmp_path: Path,
    exact: tuple[ExactEmulator, str, int, Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url, port, _ = exact
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS-NL", "--name", "Nordlys B.V.", *DUTCH)
    monkeypatch.setattr(
        integration, "_show_grant_url", lambda _spec, address: approve_in_browser(address)
    )
    said = cli(
        data_dir,
        *exact_args(url, "--division", str(NO_ACCESS), "--redirect-port", str(port)),
        expect=1,
    )
    assert f"cannot open division {NO_ACCESS}" in said, said
    assert str(MAIN) in said and str(SISTER) in said, said
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
    assert "No connections yet" in cli(data_dir, "connections", "list")

    # The Belgian sister division is one they can open: connecting to it works.
    said = cli(data_dir, *exact_args(url, "--division", str(SISTER), "--redirect-port", str(port)))
    assert f"Exact Online division {SISTER} (Lindeboom Advies België BV, EUR)" in said, said


def test_without_the_registered_redirect_port_exact_refuses_the_authorize_request(
    tmp_path: Path,
    exact: tuple[ExactEmulator, str, int, Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A free port of the hub's choosing is not the registered redirect URI: Exact's page
    refuses it, no answer arrives, and the command says so in one line."""
    _, url, _, _ = exact
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS-NL", "--name", "Nordlys B.V.", *DUTCH)
    refused: list[str] = []

    def browser(_spec: object, address: str) -> None:
        try:
            approve_in_browser(address)
        except RuntimeError as error:
            refused.append(str(error))

    monkeypatch.setattr(integration, "_show_grant_url", browser)
    args = exact_args(url, "--division", str(MAIN))
    said = cli(data_dir, *[a if a != "30" else "2" for a in args], expect=1)
    assert refused and "redirect_uri is missing or not registered" in refused[0], refused
    assert "Exact Online was not connected: no answer arrived at http://127.0.0.1:" in said
    assert len(said.strip().splitlines()) == 1, said


def test_a_redirect_port_in_use_is_one_line(
    tmp_path: Path, exact: tuple[ExactEmulator, str, int, Clock]
) -> None:
    _, url, port, _ = exact
    data_dir = tmp_path / "hub"
    cli(data_dir, "init", "--legal-entity", "NORDLYS-NL", "--name", "Nordlys B.V.", *DUTCH)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        said = cli(
            data_dir,
            *exact_args(url, "--division", str(MAIN), "--redirect-port", str(port)),
            expect=1,
        )
    assert f"--redirect-port {port}: cannot listen on 127.0.0.1:{port}" in said, said
    assert "Traceback" not in said and len(said.strip().splitlines()) == 1, said
