"""The Exact emulator against the fact sheet (../shared/erp-facts/exact-online.md), both ways:
what the sheet documents the emulator does, and what the emulator serves the sheet (or a named
source) documents. Without ../shared the module is skipped, except with CI=true."""

from __future__ import annotations

import os
import re

import pytest

from ledgerlink.emulators.exact.errors import NEEDS_SELECT
from ledgerlink.emulators.exact.model import RESOURCES
from tests.emulators.exact_support import DIVISION, message, session
from tests.support import SHARED

SHEET = SHARED / "erp-facts" / "exact-online.md"
if not SHEET.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{SHEET} is not there", pytrace=False)
    pytest.skip(f"{SHEET} is not there (../shared beside the repository)", allow_module_level=True)
TEXT = SHEET.read_text(encoding="utf-8")

# Served, though the sheet does not name them: each from picqer's docblocks (the sheet's own
# field catalogue, §intro), needed by the integration's setup or lines.
BEYOND_THE_SHEET = {
    "system/Divisions": "division choice at connect (picqer SystemDivision.php)",
    "users/Users": "sales-person lookup by UserID (§1.2; picqer User.php)",
    "financial/Journals": "the sales journal chosen at setup (§1.1; picqer Journal.php)",
    "hrm/Costcenters": "the line CostCenter (§1.3; picqer Costcenter.php)",
    "salesinvoice/SalesInvoiceLines": "lines of §2.3's invoices",
    "purchaseentry/PurchaseEntryLines": "lines of §2.3's purchase entries",
    "sync/Logistics/Items": "a sync endpoint like §2.5's",
}


def test_every_resource_served_is_in_the_sheet_or_named_with_its_source() -> None:
    for path in RESOURCES:
        assert path in TEXT or path in BEYOND_THE_SHEET, path


def test_every_endpoint_the_sheet_lists_for_the_integration_is_served() -> None:
    listed = set(re.findall(r"`(?:GET|POST|GET/POST) ([a-z]+/[A-Za-z/]+)`", TEXT))
    assert listed >= {"crm/Accounts", "logistics/Items", "salesinvoice/SalesInvoices"}
    served = set(RESOURCES) | {"salesinvoice/PrintedSalesInvoices"}
    missing = (
        listed - served - {"generaljournalentry/GeneralJournalEntries", "salesentry/SalesEntries"}
    )
    assert not missing


def test_the_sheets_signals_and_texts_are_the_emulators() -> None:
    for header in ("X-RateLimit-Limit", "X-RateLimit-Minutely-Remaining", "X-RateLimit-Reset"):
        assert header in TEXT
    assert "Old refresh token used" in TEXT
    assert "Rate limit exceeded: access_token not expired" in TEXT
    documented = re.search(r'"(Please add a \$select[^"]*)"', TEXT)
    assert documented is not None
    assert NEEDS_SELECT.startswith(documented.group(1))
    s = session()
    answer = s.get(f"{DIVISION}/salesinvoice/SalesInvoices")
    assert answer.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert answer.headers["X-RateLimit-Limit"] == "5000"
    sent = {name for name in answer.headers if name.lower().startswith("x-ratelimit")}
    assert all(name.lower() in TEXT.lower() for name in sent)
    assert message(answer) == NEEDS_SELECT
    assert '{"error":{"code":"","message":{"lang":"","value":"<text>"}}}' in TEXT
