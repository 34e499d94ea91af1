"""The Exact emulator's rehearsal: served on loopback with its state in the demo folder, a
granted connection, cost centres for the PSA's projects, and an ERP user who processes the
agreed invoices and pays them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx2

from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators.exact.rehearsal import EMULATED
from ledgerlink.emulators.exact.seed import MAIN, seed_id

CUSTOMER = seed_id(MAIN, "Accounts", " " * 14 + "1001")
WORK = seed_id(MAIN, "Items", "WORK-DEV")


def test_a_rehearsal_grants_access_and_its_erp_user_processes_the_agreed_invoices(
    tmp_path: Path,
) -> None:
    assert (EMULATED.country, EMULATED.currency) == ("NL", "EUR")
    with EMULATED.start(tmp_path, [("P-17", "Website"), ("P-18", "Intranet")]) as rehearsal:
        token = rehearsal.credentials["access_token"]
        division = rehearsal.settings["division"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx2.Client(base_url=rehearsal.settings["base_url"], headers=headers) as api:
            centres = loads(api.get(f"/api/v1/{division}/hrm/Costcenters").text)["d"]["results"]
            assert {"P-17", "P-18"} <= {c["Code"] for c in centres}
            for reference in ("PSA-1", "PSA-2"):
                body = {
                    "OrderedBy": CUSTOMER,
                    "Journal": "70",
                    "YourRef": reference,
                    "SalesInvoiceLines": [
                        {
                            "Item": WORK,
                            "Quantity": Decimal(2),
                            "UnitPrice": Decimal(50),
                            "CostCenter": "P-17",
                        }
                    ],
                }
                made = api.post(
                    f"/api/v1/{division}/salesinvoice/SalesInvoices", content=dumps(body)
                )
                assert made.status_code == 201
            assert rehearsal.erp_user is not None
            said = rehearsal.erp_user({"PSA-1"})
            assert said == "Processed 1 invoices; registered 1 full payments."
            read = api.get(
                f"/api/v1/{division}/salesinvoice/SalesInvoices",
                params={"$select": "YourRef,Status", "$orderby": "YourRef"},
            )
            statuses = [(r["YourRef"], r["Status"]) for r in loads(read.text)["d"]["results"]]
            assert statuses == [("PSA-1", 50), ("PSA-2", 20)]
    assert (tmp_path / "exact-emulator.json").exists()
