"""The customers page (issue 14 item 6) over the engine's hub and the fake ERP: link state
per PSA customer, link by the ERP's number, unlink, import from the ERP, the customer's
transfers; finance acts, a viewer reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlink.connectors.contract import ErpCustomer, Permanent
from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.sync import connections
from tests.web.support import SECRET, Console, build_console


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Console:
    return build_console(database, tmp_path)


def _linked(console: Console) -> dict[str, str]:
    return {
        link.customer.number: link.external_id
        for link in connections.customer_links(console.hub.engine, console.connection_id)
    }


def _erp_has(console: Console, number: str, external_id: str, name: str = "") -> None:
    console.hub.erp.customers[number] = ErpCustomer(
        external_id=external_id, number=number, name=name or f"ERP {number}", currency="DKK"
    )


def test_each_customer_shows_its_link_state_and_its_transfers(console: Console) -> None:
    _erp_has(console, "1001", "E-77")
    connections.link_customer(console.hub.engine, console.connection_id, "1001")
    with console.client(Role.VIEWER) as browser:
        page = browser.http.get(f"/connections/{console.connection_id}/customers")
        first = browser.http.get("/customers")
    assert page.status_code == 200
    assert first.status_code == 200  # the first connection's
    row_1001 = page.text.split("<td>1001</td>")[0].rsplit("<tr>", 1)[1]
    assert "linked" in row_1001 and "not linked" not in row_1001
    row_1002 = page.text.split("<td>1002</td>")[0].rsplit("<tr>", 1)[1]
    assert "not linked" in row_1002
    assert "E-77" in page.text
    assert f"/transfers?connection={console.connection_id}&amp;customer=1001" in page.text
    # A viewer reads: no buttons.
    assert "/customers/link" not in page.text
    assert "/customers/import" not in page.text
    assert SECRET not in page.text


def test_finance_links_a_customer_to_the_erp_number_and_unlinks_it(console: Console) -> None:
    _erp_has(console, "K-9", "E-9", "Havnens Logistik (ERP)")
    base = f"/connections/{console.connection_id}/customers"
    with console.client(Role.FINANCE) as browser:
        page = browser.http.get(base)
        assert f'action="{base}/link"' in page.text
        linked = browser.post(f"{base}/link", {"customer": "1001", "erp_number": "K-9"})
        assert linked.status_code == 303
        assert _linked(console)["1001"] == "E-9"
        shown = browser.http.get(linked.headers["location"])
        assert "customer 1001 linked to K-9 Havnens Logistik (ERP)" in shown.text
        assert f'action="{base}/unlink"' in shown.text

        unlinked = browser.post(f"{base}/unlink", {"customer": "1001"})
        assert unlinked.status_code == 303
        assert _linked(console)["1001"] == ""
        again = browser.post(f"{base}/unlink", {"customer": "1001"})
        assert "was not linked" in browser.http.get(again.headers["location"]).text
    # Linking sends nothing to the ERP: it only searched.
    assert "create_customer" not in console.hub.erp.calls


def test_linking_to_a_number_the_erp_does_not_have_says_so(console: Console) -> None:
    base = f"/connections/{console.connection_id}/customers"
    with console.client(Role.FINANCE) as browser:
        missing = browser.post(f"{base}/link", {"customer": "1002", "erp_number": "nope"})
        unknown = browser.post(f"{base}/link", {"customer": "9999"})
        console.hub.erp.fail("find_customer", Permanent("the ERP is closed", hint="Try later."))
        refused = browser.post(f"{base}/link", {"customer": "1002"})
    assert missing.status_code == 404
    assert "has no customer nope" in missing.text
    assert unknown.status_code == 404
    assert "there is no customer 9999" in unknown.text
    assert refused.status_code == 400
    assert "the ERP is closed" in refused.text and "Try later." in refused.text
    assert _linked(console)["1002"] == ""


def test_one_erp_customer_cannot_be_linked_to_two_customers(console: Console) -> None:
    _erp_has(console, "1001", "E-1")
    base = f"/connections/{console.connection_id}/customers"
    with console.client(Role.FINANCE) as browser:
        assert browser.post(f"{base}/link", {"customer": "1001"}).status_code == 303
        twice = browser.post(f"{base}/link", {"customer": "1002", "erp_number": "1001"})
    assert twice.status_code == 409
    assert "already linked" in twice.text


def test_import_links_the_erp_customers_with_the_same_numbers(console: Console) -> None:
    _erp_has(console, "1002", "E-2")
    _erp_has(console, "1003", "E-3")
    base = f"/connections/{console.connection_id}/customers"
    with console.client(Role.FINANCE) as browser:
        answer = browser.post(f"{base}/import")
        assert answer.status_code == 303
        page = browser.http.get(answer.headers["location"])
    assert "customers imported: 2 linked, 0 created" in page.text
    linked = _linked(console)
    assert (linked["1002"], linked["1003"]) == ("E-2", "E-3")


def test_a_viewer_reads_any_connection_but_may_not_link_unlink_or_import(
    console: Console,
) -> None:
    base = f"/connections/{console.connection_id}/customers"
    with console.client(Role.VIEWER) as browser:
        for action in ("link", "unlink", "import"):
            assert browser.post(f"{base}/{action}", {"customer": "1001"}).status_code == 403
        assert browser.http.get("/connections/999/customers").status_code == 404
        picked = browser.http.get(f"/customers?connection={console.connection_id}")
        assert picked.headers["location"] == base
