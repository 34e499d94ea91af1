"""kill -9 of a FinancialHost process in the middle of a batch of drafts: after a restart every
document is in the ERP exactly once (the jobs survive in the host's database, and a job that
reached the ERP before the kill is found by its correlation instead of being created again)."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from ledgerlink.emulators.visma import EmulatedAdk, create_company, set_hold_after_add
from ledgerlink.interfaces.visma_adk import constants as c
from tests.contract.host_process import host_process, send_until_gone, stop, wait_for

BATCH = 150


def visma_correlations(system: Path, company: Path) -> Counter[str]:
    adk = EmulatedAdk()
    assert adk.AdkOpen(str(system), str(company)).lRc == c.ADKE_OK
    found: Counter[str] = Counter()
    head = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    try:
        error = adk.AdkFirst(head)
        while error.lRc == c.ADKE_OK:
            _, reference = adk.AdkGetStr(head, c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
            if reference.startswith("kill:"):
                found[reference] += 1
            error = adk.AdkNext(head)
        assert error.lRc == c.ADKE_EOF
    finally:
        adk.AdkDeleteStruct(head)
        adk.AdkClose()
    return found


def draft(i: int) -> dict[str, object]:
    return {
        "idempotency_key": f"document:kill:{i}",
        "document": {
            "kind": "invoice",
            "correlation": f"kill:{i}",
            "customer_number": "1001",
            "currency": "SEK",
            "invoice_date": "2026-11-02",
            "due_date": "2026-12-02",
            "lines": [
                {
                    "kind": "work",
                    "description": f"Konsulttimmar {i}",
                    "product_number": "KONSULT",
                    "quantity": "2",
                    "unit_price": "1000.00",
                }
            ],
            "expected_net": "2000.00",
            "expected_gross": "2500.00",
        },
    }


def test_kill_9_mid_batch_leaves_every_visma_invoice_exactly_once(tmp_path: Path) -> None:
    system, company = tmp_path / "Gemensamma filer", tmp_path / "FTG1"
    create_company(system, company, name="Kill AB")
    settings = {"system_path": str(system), "company_path": str(company), "adk": "emulated"}
    options = {"plugin": "visma", "plugin_settings": settings, "sync_wait_seconds": 0}
    with host_process(tmp_path / "host", **options) as host:  # type: ignore[arg-type]
        batch = [draft(i) for i in range(BATCH)]
        sender = threading.Thread(
            target=send_until_gone, args=(host, "document.create_draft", batch), daemon=True
        )
        sender.start()
        wait_for(lambda: sum(visma_correlations(system, company).values()) >= 15, 60, "drafts")
        # From now on each invoice is written a while before the host hears of it: the kill
        # lands in that window, the hardest case for exactly-once.
        set_hold_after_add(company, 30)
        count = sum(visma_correlations(system, company).values())
        wait_for(lambda: sum(visma_correlations(system, company).values()) > count, 60, "one")
        stop(host.process, kill=True)
        set_hold_after_add(company, 0)
        sender.join(timeout=60)
    before = visma_correlations(system, company)
    assert 0 < sum(before.values()) < BATCH, "the kill should land mid-batch"

    with host_process(tmp_path / "host", **options) as host:  # type: ignore[arg-type]
        # the hub sends everything again: the same keys
        send_until_gone(host, "document.create_draft", [draft(i) for i in range(BATCH)])
        client = host.client()

        def all_done() -> bool:
            states = [
                client.call("job.status", {"idempotency_key": f"document:kill:{i}"}).body["state"]
                for i in range(BATCH)
            ]
            return all(state == "succeeded" for state in states)

        wait_for(all_done, 120, "every job to succeed after the restart")
        client.close()
    after = visma_correlations(system, company)
    assert after == Counter({f"kill:{i}": 1 for i in range(BATCH)})
