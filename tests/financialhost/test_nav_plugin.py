"""The NAV plugin against the NAV emulator served over real HTTP (and once through a real
FinancialHost)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.emulators._kit.serve import running_all
from ledgerlink.emulators.nav import NavConfig, NavEmulator
from ledgerlink.financialhost.nav import NavClient, NavPlugin, NavSettings, build_plugin
from ledgerlink.financialhost.plugin import ErpRejected, ErpUnavailable
from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.settings import HostSettings, load_settings
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire.client import SignedClient, tls_context
from ledgerlink.wire.operations import (
    DocumentKind,
    DocumentStatus,
    LineKind,
    WireContact,
    WireCustomer,
    WireDocument,
    WireEmployee,
    WireLine,
    WireProject,
)
from ledgerlink.wire.signing import SigningKey

COMPANY = "CRONUS International Ltd."
AUTH = ("WEBSERVICE", "Passw0rd!")


@dataclass
class Nav:
    urls: dict[str, str]  # the emulator's SOAP and OData base URLs (each on its own port)
    plugin: NavPlugin
    admin: httpx2.Client

    def records(self, table_id: int) -> list[dict[str, Any]]:
        answer = self.admin.get(f"/_emulator/companies/{COMPANY}/records/{table_id}")
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()["records"]
        return rows

    def post(self, kind: str, number: str) -> str:
        answer = self.admin.post(
            f"/_emulator/companies/{COMPANY}/sales-documents/{kind}/{number}/post"
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["posted_no"])

    def pay(self, number: str, amount: str) -> None:
        answer = self.admin.post(
            f"/_emulator/companies/{COMPANY}/posted/{number}/payments", json={"amount": amount}
        )
        assert answer.status_code in (200, 201), answer.text


def _plugin(urls: dict[str, str], data_dir: Path, **settings: Any) -> NavPlugin:
    nav_settings = NavSettings(
        soap_url=urls["soap"],
        odata_url=urls["odata"],
        company=COMPANY,
        username=AUTH[0],
        **settings,
    )
    client = NavClient(
        soap_url=nav_settings.soap_url,
        odata_url=nav_settings.odata_url,
        company=COMPANY,
        username=AUTH[0],
        password=AUTH[1],
        timeout_seconds=10,
        page_size=nav_settings.page_size,
    )
    return NavPlugin(nav_settings, client=client, data_dir=data_dir)


def _emulator(state_file: Path | None = None) -> NavEmulator:
    return NavEmulator(config=NavConfig(work_date=date(2026, 11, 24)), state_file=state_file)


@pytest.fixture
def nav(tmp_path: Path) -> Iterator[Nav]:
    emulator = _emulator()
    with (
        running_all(emulator.apps) as roots,
        httpx2.Client(base_url=roots["soap"], auth=AUTH, timeout=10) as admin,
    ):
        urls = emulator.base_urls(roots)
        plugin = _plugin(urls, tmp_path / "plugin")
        yield Nav(urls, plugin, admin)
        plugin.close()


def _document(**values: Any) -> WireDocument:
    base: dict[str, Any] = {
        "kind": DocumentKind.INVOICE,
        "correlation": "ll-inv-1",
        "customer_number": "10000",
        "currency": "DKK",
        "invoice_date": date(2026, 11, 24),
        "due_date": date(2026, 12, 24),
        "heading": "November consulting",
        "project_number": "P1000",
        "department": "PROD",
        "lines": (
            WireLine(kind=LineKind.TEXT, description="Period: November"),
            WireLine(
                kind=LineKind.WORK,
                description="Consulting",
                product_number="70000",
                quantity=Decimal(3),
                unit_price=Decimal("900.00"),
                day=date(2026, 11, 3),
            ),
            WireLine(
                kind=LineKind.WORK,
                description="Workshop",
                product_number="70000",
                quantity=Decimal("1.5"),
                unit_price=Decimal(1000),
                discount_percent=Decimal(10),
            ),
        ),
        "expected_net": Decimal(4050),
        "expected_gross": Decimal("5062.50"),
    }
    return WireDocument(**{**base, **values})


def test_connection_test_and_version(nav: Nav) -> None:
    info = nav.plugin.test()
    assert info.system == "nav" and info.account_id == COMPANY
    assert info.base_currency == "DKK"
    assert "emulator" in info.erp_version and info.erp_version == nav.plugin.erp_version()


def test_products_as_items_and_as_gl_accounts(nav: Nav, tmp_path: Path) -> None:
    items = {p.number: p for p in nav.plugin.products(None).items}
    assert items["70000"].name == "Consultancy hour" and items["70000"].unit == "HOUR"
    assert items["80000"].barred
    accounts = {p.number for p in nav.plugin.products("gl_accounts").items}
    assert {"6110", "6410", "6420"} <= accounts
    assert not accounts & {"6000", "6130"}  # heading, no direct posting
    gl_plugin = _plugin(nav.urls, tmp_path, invoice_line_type=1)
    assert {p.number for p in gl_plugin.products(None).items} == accounts
    gl_plugin.close()


def test_customer_create_with_template_groups_update_find_and_invoice(nav: Nav) -> None:
    customer = WireCustomer(
        number="c900",
        name="Nordic Widgets A/S",
        address_lines=("Long street " * 6, "2nd floor"),
        postal_code="8000",
        city="Aarhus C",
        country="DK",
        currency="DKK",
        email="ap@widgets.example",
    )
    created = nav.plugin.upsert_customer(customer)
    assert created.external_id == "C900" and created.created
    row = next(r for r in nav.records(18) if r["No"] == "C900")
    assert row["Gen_Bus_Posting_Group"] == "DOMESTIC" and row["VAT_Bus_Posting_Group"]
    assert row["Customer_Posting_Group"] and row["Currency_Code"] == ""
    assert len(row["Address"]) == 50
    again = nav.plugin.upsert_customer(customer.model_copy(update={"city": "Aarhus N"}))
    assert not again.created
    found = nav.plugin.find_customer("C900")
    assert found is not None and found.city == "Aarhus N" and found.currency == "DKK"
    assert nav.plugin.find_customer("NOPE") is None
    result = nav.plugin.create_draft(_document(customer_number="C900", correlation="c900-1"))
    assert result.gross == Decimal("5062.50")


def test_customers_read_pages_with_bookmarks(nav: Nav) -> None:
    first = nav.plugin.customers(None, 2)
    assert len(first.items) == 2 and first.more
    second = nav.plugin.customers(first.cursor, 100)
    numbers = [c.number for c in first.items + second.items]
    assert numbers[:5] == ["10000", "20000", "30000", "40000", "50000"]
    assert not second.more
    assert any(c.blocked for c in second.items)
    later = nav.plugin.customers(second.cursor, 100)  # same day: delivered again, inclusive
    assert {c.number for c in later.items} <= set(numbers)


def test_unknown_currency_is_rejected_with_nav_text(nav: Nav) -> None:
    with pytest.raises(ErpRejected) as problem:
        nav.plugin.upsert_customer(WireCustomer(number="C901", name="X", currency="XYZ"))
    assert "related table (Currency)" in problem.value.erp_text
    assert problem.value.hint
    with pytest.raises(ErpRejected) as draft_problem:
        nav.plugin.create_draft(_document(currency="XYZ", correlation="bad-currency"))
    assert "Currency" in draft_problem.value.erp_text
    assert not [r for r in nav.records(36) if r.get("External_Document_No") == "BAD-CURRENCY"]


def test_contacts_extended_and_simple(nav: Nav, tmp_path: Path) -> None:
    first = nav.plugin.upsert_contact("10000", WireContact(name="Jane Doe", email="jd@x.dk"))
    same = nav.plugin.upsert_contact("10000", WireContact(name="Jane Doe", phone="123"))
    other = nav.plugin.upsert_contact("10000", WireContact(name="John Roe"))
    assert first.created and not same.created and same.external_id == first.external_id
    assert other.external_id != first.external_id
    contact = next(r for r in nav.records(5050) if r["No"] == first.external_id)
    assert contact["Type"] == "Person" and contact["Phone_No"] == "123"
    result = nav.plugin.create_draft(_document(contact_ref=first.external_id))
    header = next(r for r in nav.records(36) if r["No"] == result.document_number)
    assert header["Sell_to_Contact"] == "Jane Doe" == header["Bill_to_Contact"]
    simple = _plugin(nav.urls, tmp_path / "simple", extended_contacts=False)
    outcome = simple.upsert_contact("20000", WireContact(name="Mr. Simple"))
    assert outcome.external_id == "20000"
    assert next(r for r in nav.records(18) if r["No"] == "20000")["Contact"] == "Mr. Simple"
    simple.close()


def test_employee_salesperson_and_project(nav: Nav) -> None:
    outcome = nav.plugin.ensure_employee(WireEmployee(initials="kk", name="Karen Kold"))
    assert outcome.external_id == "KK" and outcome.created
    assert not nav.plugin.ensure_employee(WireEmployee(initials="KK", name="Karen Kold")).created
    employee = next(r for r in nav.records(5200) if r["No"] == "KK")
    assert employee["First_Name"] == "Karen" and employee["Job_Title"] == "Consultant"
    assert any(r["Code"] == "KK" for r in nav.records(13))
    project = nav.plugin.ensure_project(WireProject(number="P2000", name="Website " * 10))
    assert project.external_id == "P2000" and project.created
    value = next(r for r in nav.records(349) if r["Code"] == "P2000")
    assert value["Dimension_Code"] == "PROJECT" and len(value["Name"]) == 50
    result = nav.plugin.create_draft(
        _document(salesperson="kk", project_number="P2000", correlation="kk-1")
    )
    header = next(r for r in nav.records(36) if r["No"] == result.document_number)
    assert header["Salesperson_Code"] == "KK" and header["Shortcut_Dimension_2_Code"] == "P2000"


def test_invoice_draft_totals_lines_and_find(nav: Nav) -> None:
    assert nav.plugin.find_document("ll-inv-1") is None
    result = nav.plugin.create_draft(_document())
    assert (result.net, result.vat, result.gross) == (
        Decimal(4050),
        Decimal("1012.50"),
        Decimal("5062.50"),
    )
    header = next(r for r in nav.records(36) if r["No"] == result.document_number)
    assert header["External_Document_No"] == "LL-INV-1"  # NAV upper-cases Code fields
    assert header["Posting_Description"] == "November consulting"
    assert header["Shortcut_Dimension_1_Code"] == "PROD"
    assert header["Shortcut_Dimension_2_Code"] == "P1000"
    lines = [r for r in nav.records(37) if r["Document_No"] == result.document_number]
    assert [line["Type"] for line in lines] == ["_blank_", "Item", "Item"]
    assert Decimal(str(lines[0]["Amount"])) == 0 and lines[0]["Description"] == "Period: November"
    assert lines[1]["Shortcut_Dimension_2_Code"] == "P1000"
    found = nav.plugin.find_document("ll-inv-1")
    assert found is not None and found.gross == result.gross and not found.booked_number
    posted_no = nav.post("Invoice", result.document_number)
    booked = nav.plugin.find_document("ll-inv-1")
    assert booked is not None and booked.booked_number == posted_no
    assert booked.external_id == result.external_id and booked.gross == result.gross


def test_credit_note_has_negative_totals(nav: Nav) -> None:
    credit = _document(
        kind=DocumentKind.CREDIT_NOTE,
        correlation="ll-cr-1",
        lines=(
            WireLine(
                kind=LineKind.WORK,
                description="Refund",
                product_number="70000",
                quantity=Decimal(-2),
                unit_price=Decimal(1000),
            ),
        ),
        expected_net=Decimal(-2000),
        expected_gross=Decimal(-2500),
    )
    result = nav.plugin.create_draft(credit)
    assert (result.net, result.gross) == (Decimal(-2000), Decimal(-2500))
    header = next(r for r in nav.records(36) if r["No"] == result.document_number)
    assert header["Document_Type"] == "Credit_Memo"
    posted = nav.post("Credit_Memo", result.document_number)
    booked = nav.plugin.find_document("ll-cr-1")
    assert booked is not None and booked.booked_number == posted and booked.gross < 0


def test_bad_product_number_leaves_no_draft_behind(nav: Nav) -> None:
    bad = _document(
        correlation="ll-bad-1",
        lines=(
            WireLine(kind=LineKind.TEXT, description="ok"),
            WireLine(kind=LineKind.WORK, description="x", product_number="99999"),
        ),
    )
    before = len(nav.records(36))
    with pytest.raises(ErpRejected) as problem:
        nav.plugin.create_draft(bad)
    assert "related table (Item)" in problem.value.erp_text
    assert "product number" in problem.value.hint
    assert len(nav.records(36)) == before
    assert nav.plugin.find_document("ll-bad-1") is None


def test_statuses_report_posting_and_each_remaining_amount_change(nav: Nav) -> None:
    result = nav.plugin.create_draft(_document())
    empty = nav.plugin.statuses(None, 100)
    assert empty.items == ()
    posted_no = nav.post("Invoice", result.document_number)
    first = nav.plugin.statuses(empty.cursor, 100)
    (status,) = first.items
    assert status.status is DocumentStatus.BOOKED and status.booked_number == posted_no
    assert status.correlation == "ll-inv-1"  # as sent, though NAV stores it upper-cased
    assert status.remainder == Decimal("5062.50")
    assert not status.paid
    posted = next(r for r in nav.records(112) if r["No"] == posted_no)
    assert status.booked_on == date.fromisoformat(posted["Posting_Date"][:10])
    unchanged = nav.plugin.statuses(first.cursor, 100)
    assert unchanged.items == ()
    nav.pay(posted_no, "1000")
    partial = nav.plugin.statuses(unchanged.cursor, 100)
    assert [s.remainder for s in partial.items] == [Decimal("4062.50")]
    assert nav.plugin.statuses(first.cursor, 100).items == partial.items  # re-sent cursor
    nav.pay(posted_no, "4062.50")
    paid = nav.plugin.statuses(partial.cursor, 100)
    assert [(s.remainder, s.paid) for s in paid.items] == [(Decimal(0), True)]
    assert nav.plugin.statuses(paid.cursor, 100).items == ()


def test_statuses_page_with_limit(nav: Nav) -> None:
    for number in range(3):
        draft = nav.plugin.create_draft(_document(correlation=f"page-{number}"))
        nav.post("Invoice", draft.document_number)
    first = nav.plugin.statuses(None, 2)
    assert len(first.items) == 2 and first.more
    rest = nav.plugin.statuses(first.cursor, 2)
    assert len(rest.items) == 1 and not rest.more


def test_expenses_and_notify_taken(nav: Nav) -> None:
    answer = nav.admin.post(
        f"/_emulator/companies/{COMPANY}/expenses",
        json={"G_L_Account_No": "8610", "Description": "Train", "Amount": "120.50"},
    )
    assert answer.status_code == 201, answer.text
    page = nav.plugin.expenses(None, 100)
    train = next(e for e in page.items if e.text == "Train")
    assert train.amount == Decimal("120.50") and train.currency == "DKK"
    nav.plugin.notify_expense(train.external_id, "taken")
    assert train.external_id not in {e.external_id for e in nav.plugin.expenses(None, 100).items}
    assert nav.plugin.expenses(page.cursor, 100).items == ()


def test_nav_not_running_is_unavailable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = f"http://127.0.0.1:{port}/DynamicsNAV100"
    plugin = _plugin({"soap": f"{root}/WS", "odata": f"{root}/ODataV4"}, tmp_path)
    with pytest.raises(ErpUnavailable):
        plugin.test()
    with pytest.raises(ErpUnavailable):
        plugin.create_draft(_document())
    plugin.close()


def test_wrong_password_is_rejected_with_a_vault_hint(nav: Nav, tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault")
    vault.set("nav:password", "wrong")
    config = {
        "soap_url": nav.urls["soap"],
        "odata_url": nav.urls["odata"],
        "company": COMPANY,
        "username": AUTH[0],
    }
    plugin = build_plugin(config, vault=vault, data_dir=tmp_path)
    with pytest.raises(ErpRejected) as problem:
        plugin.test()
    assert "nav:password" in problem.value.hint
    plugin.close()


def test_host_init_takes_both_nav_urls_and_the_plugin_reads_over_both(
    nav: Nav, tmp_path: Path
) -> None:
    init = [
        "host", "init", str(tmp_path / "fh"), "--plugin", "nav",
        "--soap-url", nav.urls["soap"], "--odata-url", nav.urls["odata"],
    ]  # fmt: skip
    result = CliRunner().invoke(app, init)
    assert result.exit_code == 0, result.output
    assert f"SOAP {nav.urls['soap']}, OData {nav.urls['odata']}" in result.output
    settings = load_settings(tmp_path / "fh" / "financialhost.toml")
    section = {**settings.plugin_settings, "username": AUTH[0]}
    assert (section["soap_url"], section["odata_url"]) == (nav.urls["soap"], nav.urls["odata"])
    vault = Vault(tmp_path / "vault")
    vault.set("nav:password", AUTH[1])
    plugin = build_plugin(section, vault=vault, data_dir=tmp_path)
    try:
        assert plugin.test().company_name == COMPANY  # SOAP
        plugin.statuses(None, 10)  # OData (posted invoices and credit memos)
    finally:
        plugin.close()


def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_through_a_real_host_waits_while_nav_is_unavailable_then_runs_once(
    nav: Nav, tmp_path: Path
) -> None:
    settings = HostSettings(
        data_dir=tmp_path / "host",
        port=0,
        sync_wait_seconds=5,
        retry={"initial": 0.2, "maximum": 1.0, "jitter": 0.0},
    )
    secret = Vault(settings.data_dir).add_key("hub-1")
    host, certificate = build_host(settings, nav.plugin)
    document = _document(correlation="host-1")
    with serving(host, certificate) as url:
        client = SignedClient(
            url,
            keys=(SigningKey("hub-1", secret.encode()),),
            verify=tls_context(verify=certificate.cert_file),
        )
        body = {"idempotency_key": "document:host-1", "document": document.model_dump(mode="json")}
        done = client.call("document.create_draft", body)
        assert done.status == 200 and done.body["state"] == "succeeded", done.body
        assert Decimal(done.body["result"]["gross"]) == Decimal("5062.50")

        fault = {"path_prefix": "/DynamicsNAV100/WS/", "error_rate": 1.0, "error_status": 503}
        assert nav.admin.put("/_emulator/faults", json=fault).status_code == 200
        second = {
            "idempotency_key": "document:host-2",
            "document": _document(correlation="host-2").model_dump(mode="json"),
        }
        waiting = client.call("document.create_draft", second)
        assert waiting.status == 202 and waiting.body["state"] == "pending"
        assert nav.admin.delete("/_emulator/faults").status_code == 204

        def finished() -> bool:
            state = client.call("job.status", {"idempotency_key": "document:host-2"})
            return bool(state.body["state"] == "succeeded")

        _wait(finished)
        drafts = [r for r in nav.records(36) if r.get("External_Document_No") == "HOST-2"]
        assert len(drafts) == 1
        assert client.call("document.create_draft", second).status == 200
        assert len([r for r in nav.records(36) if r.get("External_Document_No") == "HOST-2"]) == 1
