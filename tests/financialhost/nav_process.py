"""A real NAV emulator process (``ledgerlink emulate nav``) on free loopback ports (SOAP and
OData each on its own, as NAV serves them), for the FinancialHost tests that stop, restart or
kill processes: started, stopped (``kill -9`` too) and started again on the same ports (with
``--state`` its companies survive that), and its admin routes as the NAV user (records,
posting, the job queue, faults)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

from tests.contract.host_process import free_port, stop

NAV_USER, NAV_PASSWORD = "WEBSERVICE", "Passw0rd!"
NAV_COMPANY = "CRONUS International Ltd."
_COMPANY_PATH = f"/_emulator/companies/{quote(NAV_COMPANY, safe='')}"


@dataclass
class NavProcess:
    """``ledgerlink emulate nav`` in ``folder`` (its output in ``nav.log``) on ``port`` (SOAP
    and the admin routes) and ``odata_port``."""

    folder: Path
    port: int = field(default_factory=free_port)
    odata_port: int = field(default_factory=free_port)
    state_file: Path | None = None
    callback_verify: str = "true"
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        """The server's root URL (admin routes are under ``/_emulator``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def plugin_settings(self) -> dict[str, str]:
        """The host's ``[nav]`` section for this server."""
        return {
            "soap_url": f"{self.root}/DynamicsNAV100/WS",
            "odata_url": f"http://127.0.0.1:{self.odata_port}/DynamicsNAV100/ODataV4",
            "company": NAV_COMPANY,
            "username": NAV_USER,
        }

    def launch(self) -> None:
        """Start the process (on the same port and state file as before); see :meth:`wait_ready`."""
        assert self.process is None or self.process.poll() is not None, "NAV is running already"
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-c", "from ledgerlink.cli.app import main; main()", "emulate", "nav",
            "--soap-port", str(self.port), "--odata-port", str(self.odata_port),
            "--callback-verify", self.callback_verify,
        ]  # fmt: skip
        if self.state_file is not None:
            command += ["--state", str(self.state_file)]
        with (self.folder / "nav.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until the emulator answers its admin routes."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                log = (self.folder / "nav.log").read_text(errors="replace")
                raise RuntimeError(f"the NAV emulator exited: {log}")
            try:
                with self.admin as http:
                    if http.get("/_emulator/job-queue").status_code == 200:
                        return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the NAV emulator did not start within {timeout} s")
            time.sleep(0.1)

    def start(self) -> None:
        """Launch and wait until it answers."""
        self.launch()
        self.wait_ready()

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL with ``kill``): NAV is down."""
        if self.process is not None:
            stop(self.process, kill=kill)

    @property
    def admin(self) -> httpx2.Client:
        """An HTTP client for the admin routes (a new one each time: the server may restart)."""
        return httpx2.Client(base_url=self.root, auth=(NAV_USER, NAV_PASSWORD), timeout=30)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """An admin call under ``/_emulator`` (a 2xx answer required); its JSON, if any."""
        with self.admin as http:
            response = http.request(method, f"/_emulator{path}", json=body)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def company(self, method: str, path: str, body: Any = None) -> Any:
        """An admin call in the CRONUS company (``/records/18``, ``/sales-documents/…``)."""
        return self.call(method, _COMPANY_PATH.removeprefix("/_emulator") + path, body)

    def records(self, table_id: int) -> list[dict[str, Any]]:
        """Every record of ``table_id`` in the CRONUS company."""
        rows: list[dict[str, Any]] = self.company("GET", f"/records/{table_id}")["records"]
        return rows


@contextmanager
def running(nav: NavProcess, *, wait: bool = True) -> Iterator[NavProcess]:
    """Run ``nav``, stopped at the end whatever happened. With ``wait=False`` it is only
    launched (start the host meanwhile, then call :meth:`NavProcess.wait_ready`)."""
    try:
        nav.launch()
        if wait:
            nav.wait_ready()
        yield nav
    finally:
        nav.stop()
