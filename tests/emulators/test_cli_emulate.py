"""``ledgerlink emulate economic`` serves the emulator over HTTP until stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.emulators.conftest import TOKENS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_emulate_economic_serves_with_the_given_tokens_and_state(tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "state.json"
    command = [
        sys.executable,
        "-c",
        "from ledgerlink.cli.app import main; main()",
        "emulate",
        "economic",
        "--port",
        str(port),
        "--state",
        str(state),
        "--app-secret-token",
        "s3",
        "--agreement-grant-token",
        "g3",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx2.get(
                    f"{url}/self", headers={"X-AppSecretToken": "s3", "X-AgreementGrantToken": "g3"}
                )
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["agreementNumber"] == 7654321
        assert httpx2.get(f"{url}/self", headers=TOKENS).status_code == 401
        assert state.exists()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "X-AppSecretToken:      s3" in output
