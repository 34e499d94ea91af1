"""Setting up outbound agent mode the way a consultant does, with real processes: the hub
(`ledgerlink serve`, HTTPS), a FinancialHost made by `ledgerlink host init --hub-url
--agent-id` and run by `ledgerlink host serve` beside a NAV emulator, then `ledgerlink connect
financialhost --agent-id`, a product import and `ledgerlink agents list`. No connection is ever
made to the host."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
from tests.contract.host_process import free_port, stop
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.emulators._kit.serve import running_all
from ledgerlink.emulators.nav import NavEmulator
from ledgerlink.financialhost.tls import ensure_certificate
from ledgerlink.wire.client import tls_context

NAV_COMPANY = "CRONUS International Ltd."


def run(args: list[str], *, expect: int = 0) -> str:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "240"})
    assert result.exit_code == expect, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@contextmanager
def process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", "from ledgerlink.cli.app import main; main()", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield child
        finally:
            stop(child)


def wait_until_up(url: str, certificate: Path, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert child.poll() is None, log.read_text(errors="replace")
        try:
            with httpx2.Client(verify=tls_context(verify=certificate), timeout=2) as http:
                if http.get(url + "/health").status_code == 200:
                    return
        except httpx2.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start: " + log.read_text()
        time.sleep(0.1)


def test_a_consultant_sets_up_a_host_in_agent_mode(tmp_path: Path) -> None:
    hub_cli = ["--data-dir", str(tmp_path / "hub"), "--database-url", f"sqlite:///{tmp_path}/h.db"]
    run([*hub_cli, "sample", "load"])
    tls = ensure_certificate(
        data_dir=tmp_path / "hub-tls", cert_file=None, key_file=None, hostnames=["127.0.0.1"]
    )
    hub_port = free_port()
    hub_url = f"https://127.0.0.1:{hub_port}"

    emulator = NavEmulator()
    with running_all(emulator.apps) as roots:
        nav = emulator.base_urls(roots)
        host_dir = tmp_path / "host"
        out = run(
            ["host", "init", str(host_dir), "--plugin", "nav", "--port", str(free_port()),
             "--hub-url", hub_url, "--agent-id", "acme-nav",
             "--soap-url", nav["soap"], "--odata-url", nav["odata"]]
        )  # fmt: skip
        assert "agent id:   acme-nav" in out
        secret = re.search(r"secret:\s+(\S+)", out)
        assert secret is not None
        settings = host_dir / "financialhost.toml"
        text = settings.read_text(encoding="utf-8")
        text = text.replace('username = "TIMELOG"', 'username = "WEBSERVICE"')
        text = text.replace(
            'agent_id = "acme-nav"', f'agent_id = "acme-nav"\nverify = "{tls.cert_file}"'
        )
        settings.write_text(text, encoding="utf-8")
        run(["host", "secret", "set", "nav:password", "--value", "Passw0rd!",
             "--settings", str(settings)])  # fmt: skip

        hub_log, host_log = tmp_path / "hub.log", tmp_path / "host.log"
        serve = [*hub_cli, "serve", "--port", str(hub_port),
                 "--tls-cert", str(tls.cert_file), "--tls-key", str(tls.key_file)]  # fmt: skip
        with process(serve, hub_log) as hub:
            wait_until_up(hub_url, tls.cert_file, hub, hub_log)
            with process(["host", "serve", "--settings", str(settings)], host_log):
                out = run(
                    [*hub_cli, "connect", "financialhost", "--erp", "nav",
                     "--agent-id", "acme-nav", "--key-id", "hub-1", "--secret", secret.group(1)]
                )  # fmt: skip
                assert "Connected NORDLYS to FinancialHost" in out and NAV_COMPANY in out
                assert re.search(r"\b\d+ product numbers?\b", run([*hub_cli, "sync", "products"]))
                deadline = time.monotonic() + 15
                while "yes" not in (listed := run([*hub_cli, "agents", "list"])):
                    assert time.monotonic() < deadline, listed
                    time.sleep(0.2)
                assert "acme-nav" in listed
    emulator.close()
