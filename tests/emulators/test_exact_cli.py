"""``ledgerlink emulate exact``: the command builds the emulator with the given app and state
file, prints where and how to connect, and serves it (uvicorn replaced by a stand-in here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ledgerlink.cli import emulate
from tests.emulators.exact_support import sign_in


def test_emulate_exact_prints_the_connection_facts_and_serves_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(
        emulate.uvicorn, "run", lambda app, **options: served.update(app=app, **options)
    )
    state = tmp_path / "exact.json"
    result = CliRunner().invoke(
        emulate.emulate_app,
        ["exact", "--port", "8031", "--state", str(state), "--client-secret", "s3cret"],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8031/api/oauth2/token" in result.output
    assert "exact-client" in result.output
    assert "614223" in result.output
    assert served["port"] == 8031
    assert state.exists()
    client = TestClient(served["app"])
    tokens = sign_in(client, {"client_id": "exact-client", "client_secret": "s3cret"})
    me = client.get(
        "/api/v1/current/Me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.json()["d"]["results"][0]["CurrentDivision"] == 614223
