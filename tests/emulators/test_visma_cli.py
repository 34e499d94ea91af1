"""``ledgerlink emulate visma`` makes a company the host opens with ``adk = "emulated"``."""

from __future__ import annotations

import tomllib
from pathlib import Path

from typer.testing import CliRunner

from ledgerlink.cli.emulate import emulate_app
from ledgerlink.financialhost.vault import Vault
from ledgerlink.financialhost.visma import build_plugin


def test_emulate_visma_creates_a_company_the_host_opens(tmp_path: Path) -> None:
    runner = CliRunner()
    arguments = ["visma", "--folder", str(tmp_path / "visma"), "--name", "Rehearsal AB"]
    first = runner.invoke(emulate_app, arguments)
    assert first.exit_code == 0, first.output
    assert "Emulated Visma Administration company 'Rehearsal AB'" in first.output
    snippet = first.output.split("(financialhost.toml):\n", 1)[1]
    settings = tomllib.loads("\n".join(line.strip() for line in snippet.splitlines()))
    assert settings["plugin"] == "visma"
    assert settings["visma"]["adk"] == "emulated"
    plugin = build_plugin(settings["visma"], vault=Vault(tmp_path / "data"), data_dir=tmp_path)
    try:
        assert plugin.test().company_name == "Rehearsal AB"
        assert plugin.find_customer("1001") is not None  # the demo customers are seeded
    finally:
        plugin.close()
    again = runner.invoke(emulate_app, arguments)
    assert again.exit_code == 0
    assert "exists already" in again.output
