"""A service manager stops FinancialHost with SIGTERM (systemd, ``docker stop``): the host
shuts down cleanly — exit code 0, the worker joined, the ERP session closed and the audit log's
last record ``host.stopped`` — in inbound and in agent mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledgerlink.emulators.visma import create_company
from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.financialhost.database import HostDatabase
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.signing import SigningKey
from tests.contract.host_process import KEY_ID, host_process, stop
from tests.contract.hub_relay import hub_relay


def _events(data_dir: Path) -> list[str]:
    database = HostDatabase(data_dir / "host.sqlite")
    try:
        assert verify_chain(database, data_dir / "audit.head").intact
        return [row["event"] for row in database.query("SELECT event FROM audit ORDER BY seq")]
    finally:
        database.close()


@pytest.mark.parametrize("mode", ["inbound", "agent"])
def test_sigterm_stops_the_host_cleanly(tmp_path: Path, mode: str) -> None:
    company = create_company(tmp_path / "Gemensamma filer", tmp_path / "FTG1", name="Stopp AB")
    visma = {
        "system_path": str(tmp_path / "Gemensamma filer"),
        "company_path": str(company),
        "adk": "emulated",
    }
    with hub_relay(tmp_path / "hub") as hub:
        extra: dict[str, Any] = {}
        if mode == "agent":
            secret = Vault(tmp_path / "host" / "data").add_key(KEY_ID)
            hub.enrol(SigningKey(KEY_ID, secret.encode()))
            extra = {"mode": "agent", "agent": hub.agent_settings()}
        with host_process(tmp_path / "host", plugin="visma", plugin_settings=visma, **extra) as h:
            stop(h.process)
            assert h.process.returncode == 0
    events = _events(tmp_path / "host" / "data")
    assert events[-1] == "host.stopped"
    if mode == "agent":
        assert "agent.stopped" in events
