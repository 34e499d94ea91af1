"""Every failure a user meets is one line on stderr that says what to do, and exit code 1:
the ERP refusing or unreachable, a revoked grant, a data directory that cannot be made, a
FinancialHost without its ERP password, a bug. Retry noise only with --verbose. Usage errors
(wrong option, bad value, unknown command) are one line and exit code 1 too (README)."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from typer.testing import CliRunner, Result

from ledgerlink.cli import integration
from ledgerlink.cli.app import app
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator

APP, GRANT = "errors-app", "errors-grant"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def one_line_error(result: Result, *expected: str) -> str:
    """The result failed with exit 1 and one stderr line holding every ``expected`` text."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@dataclass
class Erp:
    emulator: EconomicEmulator
    url: str


@pytest.fixture
def erp() -> Iterator[Erp]:
    emulator = EconomicEmulator(app_secret_token=APP, agreement_grant_token=GRANT)
    with running(emulator.app) as url:
        yield Erp(emulator, url)


@pytest.fixture
def cli(tmp_path: Path, sqlite_template: Path) -> list[str]:
    """A data directory with a migrated database and one legal entity."""
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    base = ["--data-dir", str(tmp_path)]
    result = invoke(
        *base, "init", "--legal-entity", "ACME", "--name", "Acme", "--country", "DK",
        "--currency", "DKK",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return base


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connect_with_a_wrong_token_is_one_line(cli: list[str], erp: Erp) -> None:
    result = invoke(
        *cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", "wrong",
        "--url", erp.url,
    )  # fmt: skip
    one_line_error(result, "X-AgreementGrantToken is not valid", "Reconnect")


def test_an_unreachable_erp_fails_fast_in_one_line_and_retries_only_show_with_verbose(
    cli: list[str],
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    args = ("connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT)
    started = time.monotonic()
    result = invoke(*cli, *args, "--url", url)
    assert time.monotonic() - started < 3  # one attempt: the person at the keyboard retries
    one_line_error(result, "never reached the server", "check the address")
    assert "retry" not in result.stderr

    verbose = invoke(*cli, "--verbose", *args, "--url", url)
    assert verbose.exit_code == 1
    assert "http.failed" in verbose.stderr and "Traceback" not in verbose.stderr


def test_retries_are_logged_only_with_verbose(cli: list[str], erp: Erp) -> None:
    result = invoke(
        *cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
        "--url", erp.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # Every product request answers 429 "retry at once": the retries run out quickly.
    erp.emulator.faults.set("/products", rate_limit_rate=1.0, retry_after=0)
    one_line_error(invoke(*cli, "sync", "products"), "HTTP 429", "rate limit")
    verbose = invoke(*cli, "--verbose", "sync", "products")
    assert verbose.exit_code == 1
    assert "stamina.retry_scheduled" in verbose.stderr


def test_a_revoked_grant_is_one_line_for_every_pull(cli: list[str], erp: Erp) -> None:
    result = invoke(
        *cli, "connect", "economic", "--app-secret-token", APP, "--grant-token", GRANT,
        "--url", erp.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    httpx2.post(
        f"{erp.url}/_emulator/grants/revoke",
        headers={"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT},
    ).raise_for_status()
    for pull in ("products", "balancing"):
        one_line_error(invoke(*cli, "sync", pull), "revoked the grant", "Reconnect")


def test_a_data_directory_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = invoke("--data-dir", str(blocker / "data"), "invoices", "list")
    one_line_error(result, "Not a directory", "--data-dir")


def test_host_serve_without_the_erp_password_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "host"
    assert invoke("host", "init", str(folder)).exit_code == 0
    result = invoke("host", "serve", "--settings", str(folder / "financialhost.toml"))
    one_line_error(result, "'nav:password' is not in the vault", "host secret set")


def test_host_serve_with_settings_that_are_not_valid_is_one_line(tmp_path: Path) -> None:
    """An old [nav] section with one base_url (NAV has two) names the fields that replace it."""
    folder = tmp_path / "host"
    assert invoke("host", "init", str(folder)).exit_code == 0
    settings = folder / "financialhost.toml"
    text = settings.read_text(encoding="utf-8")
    old = "\n".join(line for line in text.splitlines() if not line.startswith("soap_url"))
    settings.write_text(old + '\nbase_url = "http://nav:7047/DynamicsNAV100"\n', encoding="utf-8")
    result = invoke("host", "serve", "--settings", str(settings))
    one_line_error(result, "settings are not valid", "base_url is replaced by soap_url")


def test_an_unexpected_error_names_verbose_which_shows_the_traceback(
    cli: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(integration, "_connection", broken)
    result = invoke(*cli, "sync", "products")
    one_line_error(result, "unexpected KeyError", "--verbose")
    verbose = invoke(*cli, "--verbose", "sync", "products")
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.stderr and "surprise" in verbose.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("invoices", "list", "--bogus"), "No such option: --bogus"),
        (("invoices", "list", "--status", "bogus"), "Invalid value for '--status'"),
        (("invoicez",), "No such command 'invoicez'"),
        (("--bogus", "invoices", "list"), "No such option: --bogus"),
        (("transfers", "list", "--limit", "x"), "No such option: --limit"),
        (("transfers", "log", "--limit", "x"), "Invalid value for '--limit'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_code_1(args: tuple[str, ...], expected: str) -> None:
    line = one_line_error(invoke(*args), expected)
    assert line.endswith("--help'.")  # where to look


def test_a_group_without_a_command_shows_its_help() -> None:
    result = invoke("invoices")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout and "invoices [OPTIONS] COMMAND" in result.stdout
    assert "draft" in result.stdout and not result.stderr
