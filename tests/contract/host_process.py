"""A real FinancialHost process (``ledgerlink host serve``) for the contract suite and the
FinancialHost process tests: its own settings file, vault and self-signed certificate in a
temporary folder, HTTPS on a free loopback port, stopped (SIGTERM, then SIGKILL) at the end; a
signed client for it, and what the kill tests share (waiting, sending until the host is gone)."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from ledgerlink.financialhost.tls import CERT_FILE
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.client import SignedClient, tls_context
from ledgerlink.wire.signing import SigningKey

KEY_ID = "hub-1"


@dataclass(frozen=True)
class HostProcess:
    url: str
    key: SigningKey
    certificate_file: Path
    data_dir: Path
    process: subprocess.Popen[bytes]

    def client(self, timeout: float = 30) -> SignedClient:
        """A hub-side client signing with the host's key and trusting only its certificate."""
        return SignedClient(
            self.url,
            keys=[self.key],
            verify=tls_context(verify=self.certificate_file),
            timeout=timeout,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))


def write_settings(
    folder: Path, *, plugin: str, plugin_settings: dict[str, Any], port: int, **extra: Any
) -> Path:
    top: dict[str, Any] = {
        "data_dir": "data",
        "port": port,
        "plugin": plugin,
        "callback_handle": "nav",
        "sync_wait_seconds": 2.0,
        "retry": {"initial": 0.2, "maximum": 1.0, "jitter": 0.0},
    } | extra
    lines = [
        *(f"{k} = {_toml_value(v)}" for k, v in top.items()),
        f"[{plugin}]",
        *(f"{k} = {_toml_value(v)}" for k, v in plugin_settings.items()),
    ]
    path = folder / "financialhost.toml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def host_process(
    folder: Path,
    *,
    plugin: str,
    plugin_settings: dict[str, Any],
    secrets: dict[str, str] | None = None,
    **extra: Any,
) -> Iterator[HostProcess]:
    """Start ``ledgerlink host serve`` and wait until it answers /health over HTTPS."""
    port = free_port()
    settings = write_settings(
        folder, plugin=plugin, plugin_settings=plugin_settings, port=port, **extra
    )
    data_dir = folder / "data"
    vault = Vault(data_dir)
    secret = vault.find(f"key:{KEY_ID}") or vault.add_key(KEY_ID)
    vault.set("callback:nav", "callback-secret")
    for name, value in (secrets or {}).items():
        vault.set(name, value)
    log = (folder / "host.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ledgerlink.cli.app import main; main()",
            "host",
            "serve",
            "--settings",
            str(settings),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    "FinancialHost exited: " + (folder / "host.log").read_text(errors="replace")
                )
            cert = data_dir / CERT_FILE
            if cert.exists():
                try:
                    with httpx2.Client(verify=tls_context(verify=cert), timeout=2) as http:
                        if http.get(url + "/health").status_code == 200:
                            break
                except (httpx2.HTTPError, ssl.SSLError):
                    pass  # not listening yet, or its certificate is still being written
            if time.monotonic() > deadline:
                raise RuntimeError("FinancialHost did not start within 30 s")
            time.sleep(0.1)
        yield HostProcess(
            url, SigningKey(KEY_ID, secret.encode()), data_dir / CERT_FILE, data_dir, process
        )
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def send_until_gone(host: HostProcess, operation: str, bodies: Sequence[dict[str, Any]]) -> None:
    """Send every write in order (each accepted: 200 or 202) until done or the host is gone
    (killed): the hub's side of a batch."""
    client = host.client()
    try:
        for body in bodies:
            answer = client.call(operation, body)
            assert answer.status in (200, 202), answer.body
    except httpx2.TransportError:
        pass
    finally:
        client.close()
