"""``ledgerlink emulate nav`` serves the NAV emulator over HTTP until stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

KEY = "k" * 44


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_emulate_nav_serves_soap_and_odata_on_two_ports(tmp_path: Path) -> None:
    port, odata_port = _free_port(), _free_port()
    state = tmp_path / "nav.json"
    command = [
        sys.executable, "-c", "from ledgerlink.cli.app import main; main()", "emulate", "nav",
        "--soap-port", str(port), "--odata-port", str(odata_port), "--state", str(state),
        "--user", "TLWS", "--password", "s3cret",
        "--access-key", KEY, "--company", "Acme A/S", "--company", "Demo", "--callback-verify",
        "false",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/DynamicsNAV100/WS/Demo/Page/TlpCustomerNavWS"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx2.get(url, auth=("TLWS", "s3cret"))
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert "urn:microsoft-dynamics-schemas/page/tlpcustomernavws" in response.text
        assert httpx2.get(url, auth=("TLWS", KEY)).status_code == 200
        assert httpx2.get(url, auth=("TLWS", "wrong")).status_code == 401
        assert state.exists()
        companies = "/DynamicsNAV100/ODataV4/Company"
        odata = httpx2.get(f"http://127.0.0.1:{odata_port}{companies}", auth=("TLWS", "s3cret"))
        assert [c["Name"] for c in odata.json()["value"]] == ["Acme A/S", "Demo"]
        assert httpx2.get(f"http://127.0.0.1:{port}{companies}", auth=("TLWS", "s3cret")).is_error
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"SOAP:       http://127.0.0.1:{port}/" in output
    assert f"OData V4:   http://127.0.0.1:{odata_port}/DynamicsNAV100/ODataV4/" in output
    assert "/DynamicsNAV100/WS/Acme%20A%2FS/Page/<ServiceName>" in output
    assert "password:   s3cret" in output
