"""VismaPlugin against EmulatedAdk on a demo company, and through a real host over HTTPS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerlink.emulators.visma import (
    EmulatedAdk,
    book_invoice,
    create_company,
    register_payment,
    set_licence_fault,
    set_offline,
)
from ledgerlink.financialhost.plugin import ErpRejected, ErpUnavailable
from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.settings import HostSettings
from ledgerlink.financialhost.vault import Vault
from ledgerlink.financialhost.visma import VismaPlugin, build_plugin
from ledgerlink.interfaces.visma_adk import AdkData, AdkError, check
from ledgerlink.interfaces.visma_adk import constants as c
from ledgerlink.wire import operations as ops
from ledgerlink.wire.client import SignedClient, tls_context
from ledgerlink.wire.signing import SigningKey


class Company:
    """The demo company's folders and a second ADK session on it (the ERP user's view)."""

    def __init__(self, root: Path) -> None:
        self.system = root / "Gemensamma filer"
        self.path = root / "Företag" / "FTG1"
        create_company(self.system, self.path, name="Demo AB")
        self.adk = EmulatedAdk()
        check(self.adk.AdkOpen(str(self.system), str(self.path)), self.adk)

    def config(self, **changes: Any) -> dict[str, Any]:
        return {
            "system_path": str(self.system),
            "company_path": str(self.path),
            "adk": "emulated",
        } | changes

    def invoices(self, correlation: str | None = None) -> list[AdkData]:
        """Invoice heads (with rows), optionally only those with this order number."""
        adk = self.adk
        cursor = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
        numbers = []
        error = adk.AdkFirstEx(cursor, False)
        while error.ok:
            if correlation in {None, self.text(cursor, c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)}:
                numbers.append(self.number(cursor, c.ADK_OOI_HEAD_DOCUMENT_NUMBER))
            error = adk.AdkNextEx(cursor, False)
        check(adk.AdkDeleteStruct(cursor), adk)
        heads = []
        for number in numbers:
            head = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
            check(adk.AdkSetDouble(head, c.ADK_OOI_HEAD_DOCUMENT_NUMBER, number), adk)
            check(adk.AdkFind(head), adk)
            heads.append(head)
        return heads

    def text(self, data: AdkData, field_id: int) -> str:
        error, value = self.adk.AdkGetStr(data, field_id, 255)
        check(error, self.adk)
        return value

    def number(self, data: AdkData, field_id: int) -> float:
        error, value = self.adk.AdkGetDouble(data, field_id)
        check(error, self.adk)
        return value

    def rows(self, head: AdkData) -> list[AdkData]:
        count = int(self.number(head, c.ADK_OOI_HEAD_NROWS))
        rows = []
        for index in range(count):
            error, row = self.adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, index)
            check(error, self.adk)
            rows.append(row)
        return rows


@pytest.fixture
def company(tmp_path: Path) -> Iterator[Company]:
    made = Company(tmp_path)
    yield made
    made.adk.AdkClose()


@pytest.fixture
def make_plugin(tmp_path: Path, company: Company) -> Iterator[Callable[..., VismaPlugin]]:
    plugins: list[VismaPlugin] = []

    def make(**changes: Any) -> VismaPlugin:
        data_dir = tmp_path / f"host{len(plugins)}"
        plugin = build_plugin(company.config(**changes), vault=Vault(data_dir), data_dir=data_dir)
        plugins.append(plugin)
        return plugin

    yield make
    for plugin in plugins:
        plugin.close()


@pytest.fixture
def plugin(make_plugin: Callable[..., VismaPlugin]) -> VismaPlugin:
    return make_plugin()


LONG = (
    "Workshop om fakturaflöden, integrationer och månadsbokslut tillsammans med "
    "ekonomiavdelningen och projektledningen"
)


def invoice(correlation: str = "ll:1:42:1", **changes: Any) -> ops.WireDocument:
    fields: dict[str, Any] = {
        "kind": "invoice",
        "correlation": correlation,
        "customer_number": "1001",
        "salesperson": "AA",
        "currency": "SEK",
        "invoice_date": date(2026, 3, 2),
        "due_date": date(2026, 4, 1),
        "heading": "Mars",
        "project_number": "P100",
        "lines": [
            ops.WireLine(
                kind="work",
                description="Konsulttimmar",
                product_number="KONSULT",
                quantity=Decimal("7.5"),
                unit_price=Decimal(1200),
            ),
            ops.WireLine(kind="text", description="Tack för uppdraget"),
            ops.WireLine(
                kind="product",
                description=LONG,
                product_number="LICENS",
                quantity=Decimal(2),
                unit_price=Decimal(500),
                discount_percent=Decimal(10),
            ),
        ],
        "expected_net": Decimal(9900),
        "expected_gross": Decimal(12375),
    }
    return ops.WireDocument(**(fields | changes))


def customer(**changes: Any) -> ops.WireCustomer:
    fields: dict[str, Any] = {
        "number": "3001",
        "name": "Ny Kund AB",
        "address_lines": ("Drottninggatan 10",),
        "postal_code": "111 51",
        "city": "Stockholm",
        "currency": "SEK",
        "salesperson": "BB",
    }
    return ops.WireCustomer(**(fields | changes))


# --- connection, products ---------------------------------------------------------------------


def test_connection_test_reports_the_company(plugin: VismaPlugin) -> None:
    info = plugin.test()
    assert (info.system, info.company_name, info.account_id, info.base_currency) == (
        "visma",
        "Demo AB",
        "FTG1",
        "SEK",
    )
    assert "document.create_draft" in info.capabilities
    assert "changes.read" not in info.capabilities
    assert info.erp_version.startswith("Visma Administration 1000")
    assert plugin.erp_version() == info.erp_version


def test_products_are_the_articles(plugin: VismaPlugin) -> None:
    products = {p.number: p for p in plugin.products(None).items}
    assert set(products) == {"KONSULT", "RESA", "MIL", "UTLAGG", "LICENS"}
    assert (products["KONSULT"].name, products["KONSULT"].unit) == ("Konsulttimme", "tim")
    with pytest.raises(ErpRejected, match="articles"):
        plugin.products("gl_accounts")


# --- customers, contacts, employees, projects ---------------------------------------------------


def test_customers_are_found_created_and_updated(plugin: VismaPlugin) -> None:
    found = plugin.find_customer("1001")
    assert found is not None
    assert (found.name, found.country, found.salesperson) == ("Kund AB", "SE", "AA")
    assert plugin.find_customer("9999") is None

    created = plugin.upsert_customer(customer())
    assert (created.external_id, created.created) == ("3001", True)
    updated = plugin.upsert_customer(customer(name="Ny Kund Sverige AB", payment_terms_days=10))
    assert (updated.external_id, updated.created) == ("3001", False)
    again = plugin.find_customer("3001")
    assert again is not None
    assert (again.name, again.country, again.payment_terms_days) == ("Ny Kund Sverige AB", "SE", 10)


def test_an_unknown_country_is_refused_with_vismas_text(plugin: VismaPlugin) -> None:
    with pytest.raises(ErpRejected) as refused:
        plugin.upsert_customer(customer(country="XX"))
    assert refused.value.erp_text == "Kan ej hitta angiven landskod."
    assert "country code" in refused.value.hint
    assert refused.value.field_errors[0].path == "ADK_CUSTOMER_CODE_OF_COUNTRY"
    assert plugin.find_customer("3001") is None


def test_an_unknown_saljare_is_refused_with_vismas_text(plugin: VismaPlugin) -> None:
    with pytest.raises(ErpRejected) as refused:
        plugin.upsert_customer(customer(salesperson="ZZ"))
    assert refused.value.erp_text == "Kan ej hitta angiven säljare."
    assert "säljare" in refused.value.hint
    with pytest.raises(ErpRejected) as on_invoice:
        plugin.create_draft(invoice(salesperson="ZZ"))
    assert on_invoice.value.erp_text == "Kan ej hitta angiven säljare."


def test_a_contact_is_the_customers_reference(plugin: VismaPlugin, company: Company) -> None:
    outcome = plugin.upsert_contact("1001", ops.WireContact(name="Karin Kund"))
    assert (outcome.external_id, outcome.created) == ("Karin Kund", True)
    assert plugin.upsert_contact("1001", ops.WireContact(name="Karin Kund")).created is False
    result = plugin.create_draft(invoice(contact_ref=outcome.external_id))
    (head,) = company.invoices(result.correlation)
    assert company.text(head, c.ADK_OOI_HEAD_CUSTOMER_REFERENCE_NAME) == "Karin Kund"
    with pytest.raises(ErpRejected) as refused:
        plugin.upsert_contact("9999", ops.WireContact(name="Nobody"))
    assert refused.value.erp_text == "Kan ej hitta angiven kund."


def test_employees_are_saljare_by_initials(make_plugin: Callable[..., VismaPlugin]) -> None:
    strict = make_plugin()
    assert strict.ensure_employee(ops.WireEmployee(initials="AA", name="Anna")).created is False
    with pytest.raises(ErpRejected) as refused:
        strict.ensure_employee(ops.WireEmployee(initials="DD", name="Dora Dahl"))
    assert refused.value.erp_text == "Kan ej hitta angiven säljare."

    creating = make_plugin(auto_create_sellers=True)
    outcome = creating.ensure_employee(ops.WireEmployee(initials="DD", name="Dora Dahl"))
    assert (outcome.external_id, outcome.created) == ("DD", True)
    assert (
        strict.ensure_employee(ops.WireEmployee(initials="DD", name="Dora Dahl")).created is False
    )
    # An invoice naming an unknown säljare creates it too.
    result = creating.create_draft(invoice(salesperson="EE"))
    assert result.document_number


def test_projects_must_exist_in_visma(plugin: VismaPlugin) -> None:
    project = ops.WireProject(number="P100", name="Webbprojekt")
    assert plugin.ensure_project(project).model_dump() == {"external_id": "P100", "created": False}
    with pytest.raises(ErpRejected) as refused:
        plugin.ensure_project(ops.WireProject(number="P999", name="Nytt"))
    assert refused.value.erp_text == "Kan ej hitta angivet projekt."
    assert "create the project in visma first" in refused.value.hint.lower()


# --- invoices ---------------------------------------------------------------------------------


def test_an_invoice_becomes_article_and_text_rows(plugin: VismaPlugin, company: Company) -> None:
    result = plugin.create_draft(invoice())
    # 7.5 x 1200 + 2 x 500 less 10 % = 9000 + 900 = 9900 net, 25 % VAT.
    assert (result.net, result.vat, result.gross) == (
        Decimal("9900.00"),
        Decimal("2475.00"),
        Decimal("12375.00"),
    )
    assert (result.currency, result.correlation, result.booked_number) == ("SEK", "ll:1:42:1", "")
    assert result.external_id == result.document_number

    (head,) = company.invoices("ll:1:42:1")
    assert company.text(head, c.ADK_OOI_HEAD_SELLER_CODE) == "AA"
    assert company.text(head, c.ADK_OOI_HEAD_OUR_REFERENCE_NAME) == "Anna Andersson"
    assert company.text(head, c.ADK_OOI_HEAD_PROJECT_CODE) == "P100"
    rows = company.rows(head)
    texts = [company.text(row, c.ADK_OOI_ROW_TEXT) for row in rows]
    articles = [company.text(row, c.ADK_OOI_ROW_ARTICLE_NUMBER) for row in rows]
    assert articles == ["KONSULT", "", "LICENS", ""]
    assert texts[1] == "Tack för uppdraget"
    assert all(len(text) <= 60 for text in texts)
    assert f"{texts[2]} {texts[3]}" == LONG
    for row, article in zip(rows, articles, strict=True):
        amount = company.number(row, c.ADK_OOI_ROW_AMOUNT_CURRENT_CURRENCY)
        quantity = company.number(row, c.ADK_OOI_ROW_QUANTITY1)
        if not article:
            assert (amount, quantity) == (0.0, 0.0)
    assert plugin.find_document("ll:1:42:1") == result


def test_the_project_reference_row_comes_first(
    make_plugin: Callable[..., VismaPlugin], company: Company
) -> None:
    plugin = make_plugin(add_project_reference_to_invoices=True)
    result = plugin.create_draft(invoice())
    assert result.net == Decimal("9900.00")
    (head,) = company.invoices(result.correlation)
    first = company.rows(head)[0]
    assert company.text(first, c.ADK_OOI_ROW_TEXT) == "P100 - Mars"
    assert company.text(first, c.ADK_OOI_ROW_ARTICLE_NUMBER) == ""


def test_a_credit_note_is_negative_and_linked(plugin: VismaPlugin, company: Company) -> None:
    original = plugin.create_draft(invoice())
    credit = plugin.create_draft(
        invoice(
            "ll:1:43:1",
            kind="credit_note",
            original_correlation="ll:1:42:1",
            lines=[
                ops.WireLine(
                    kind="work",
                    description="Kreditering konsulttimmar",
                    product_number="KONSULT",
                    quantity=Decimal(-2),
                    unit_price=Decimal(1200),
                )
            ],
            expected_net=Decimal(-2400),
            expected_gross=Decimal(-3000),
        )
    )
    assert (credit.net, credit.vat, credit.gross) == (
        Decimal("-2400.00"),
        Decimal("-600.00"),
        Decimal("-3000.00"),
    )
    (head,) = company.invoices("ll:1:43:1")
    assert company.text(head, c.ADK_OOI_HEAD_TYPE_OF_INVOICE) == "K"
    assert company.number(head, c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE) == float(
        original.document_number
    )
    (row,) = company.rows(head)
    assert company.number(row, c.ADK_OOI_ROW_QUANTITY1) == 2.0
    assert plugin.find_document("ll:1:43:1") == credit


def test_a_draft_created_before_a_crash_is_found(plugin: VismaPlugin, company: Company) -> None:
    # The plugin stored the invoice, then the host died before recording it.
    adk = company.adk
    head = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    rows = adk.AdkCreateDataRow(c.ADK_DB_INVOICE_ROW, 1)
    row = adk.AdkGetDataRow(rows, 0)
    check(adk.AdkSetStr(row, c.ADK_OOI_ROW_ARTICLE_NUMBER, "KONSULT"), adk)
    check(adk.AdkSetDouble(row, c.ADK_OOI_ROW_QUANTITY1, 2.0), adk)
    check(adk.AdkSetStr(head, c.ADK_OOI_HEAD_CUSTOMER_NUMBER, "1001"), adk)
    check(adk.AdkSetStr(head, c.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER, "ll:1:77:1"), adk)
    check(adk.AdkSetDouble(head, c.ADK_OOI_HEAD_NROWS, 1.0), adk)
    check(adk.AdkSetData(head, c.ADK_OOI_HEAD_ROWS, rows), adk)
    check(adk.AdkAdd(head), adk)
    error, number = adk.AdkGetDouble(head, c.ADK_OOI_HEAD_DOCUMENT_NUMBER)

    assert plugin.find_document("ll:1:7") is None  # exact match only
    found = plugin.find_document("ll:1:77:1")
    assert found is not None
    assert found.document_number == str(int(number))
    assert (found.net, found.vat, found.gross) == (
        Decimal("2400.00"),
        Decimal("600.00"),
        Decimal("3000.00"),
    )
    assert plugin.find_document("ll:1:78:1") is None


def test_a_missing_project_fails_with_vismas_text(plugin: VismaPlugin, company: Company) -> None:
    with pytest.raises(ErpRejected) as refused:
        plugin.create_draft(invoice(project_number="NOPE"))
    assert refused.value.erp_text == "Kan ej hitta angivet projekt."
    assert "create the project in visma first" in refused.value.hint.lower()
    assert company.invoices() == []


def test_a_too_long_correlation_is_refused_not_cut(plugin: VismaPlugin) -> None:
    with pytest.raises(ErpRejected, match="longer than"):
        plugin.create_draft(invoice("x" * 30))


def test_dkk_with_factor_100(plugin: VismaPlugin, company: Company) -> None:
    lines = [
        ops.WireLine(
            kind="work",
            description="Rådgivning",
            product_number="KONSULT",
            quantity=Decimal(3),
            unit_price=Decimal("333.33"),
        )
    ]
    result = plugin.create_draft(
        invoice(
            "ll:2:1:1",
            customer_number="2001",
            salesperson="CL",
            currency="DKK",
            project_number="P200",
            lines=lines,
            expected_net=Decimal("999.99"),
            expected_gross=Decimal("1249.99"),
        )
    )
    # No öre rounding in a foreign currency; VAT 249.9975 rounds to 250.00.
    assert (result.currency, result.net, result.vat, result.gross) == (
        "DKK",
        Decimal("999.99"),
        Decimal("250.00"),
        Decimal("1249.99"),
    )
    (head,) = company.invoices("ll:2:1:1")
    assert company.number(head, c.ADK_OOI_HEAD_CURRENCY_UNIT) == 100.0
    (row,) = company.rows(head)
    # 999.99 DKK at 154.20 SEK per 100 DKK.
    assert company.number(row, c.ADK_OOI_ROW_AMOUNT_DOMESTIC_CURRENCY) == 1541.98


def test_visma_rounds_a_sek_invoice_to_whole_kronor(plugin: VismaPlugin) -> None:
    lines = [
        ops.WireLine(
            kind="work",
            description="Rådgivning",
            product_number="KONSULT",
            quantity=Decimal(3),
            unit_price=Decimal("333.33"),
        )
    ]
    result = plugin.create_draft(
        invoice(lines=lines, expected_net=Decimal("999.99"), expected_gross=Decimal("1250.00"))
    )
    # Öresavrundning is Visma's own (ROUND_OFF on the head): no rounding row is sent.
    assert (result.net, result.vat, result.gross) == (
        Decimal("999.99"),
        Decimal("250.00"),
        Decimal("1250.00"),
    )


def test_each_row_gets_the_vat_code_of_the_psas_rate(plugin: VismaPlugin) -> None:
    """Issue 12 item 1: Visma computes the VAT the PSA computed — none on reverse-charged or
    exported lines although KONSULT's accounting code has 25 %, 12 % on a hotel line."""

    def line(product: str, percent: str, price: str = "1000") -> ops.WireLine:
        return ops.WireLine(
            kind="work",
            description="Rad",
            product_number=product,
            quantity=Decimal(1),
            unit_price=Decimal(price),
            vat_percent=Decimal(percent),
        )

    reverse = plugin.create_draft(
        invoice("ll:1:43:1", lines=[line("KONSULT", "0")], expected_net=1000, expected_gross=1000)
    )
    assert (reverse.vat, reverse.gross) == (Decimal(0), Decimal(1000))
    domestic = plugin.create_draft(
        invoice(
            "ll:1:44:1",
            lines=[line("KONSULT", "25"), line("UTLAGG", "12"), line("RESA", "6")],
            expected_net=3000,
            expected_gross=3430,
        )
    )
    assert (domestic.vat, domestic.gross) == (Decimal(430), Decimal(3430))
    with pytest.raises(ErpRejected, match="19 % VAT, and Visma has VAT codes only for 25 %"):
        plugin.create_draft(
            invoice("ll:1:45:1", lines=[line("KONSULT", "19")], expected_net=1, expected_gross=1)
        )


def test_a_currency_factor_that_disagrees_with_visma_is_refused(
    make_plugin: Callable[..., VismaPlugin], company: Company
) -> None:
    plugin = make_plugin(currency_factors={"DKK": 1})
    with pytest.raises(ErpRejected) as refused:
        plugin.create_draft(invoice(customer_number="2001", currency="DKK", project_number=""))
    assert "Reconfigure the integration" in refused.value.hint
    assert "per 100" in refused.value.message
    assert company.invoices() == []


# --- statuses ---------------------------------------------------------------------------------


def test_statuses_follow_booking_and_payments(plugin: VismaPlugin, company: Company) -> None:
    first = plugin.create_draft(invoice("ll:1:1:1"))
    second = plugin.create_draft(invoice("ll:1:2:1"))
    foreign = company.adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)  # not ours: no correlation
    check(company.adk.AdkSetStr(foreign, c.ADK_OOI_HEAD_CUSTOMER_NUMBER, "1002"), company.adk)
    check(company.adk.AdkAdd(foreign), company.adk)

    page = plugin.statuses(None, 100)
    assert [(s.correlation, s.status, s.booked_on) for s in page.items] == [
        ("ll:1:1:1", ops.DocumentStatus.DRAFT, None),
        ("ll:1:2:1", ops.DocumentStatus.DRAFT, None),
    ]
    assert page.cursor is not None
    assert page.more is False
    assert plugin.statuses(page.cursor, 100).items == ()  # nothing changed

    number = int(first.document_number)
    book_invoice(company.path, number)
    booked = plugin.statuses(page.cursor, 100)
    (status,) = booked.items
    assert (status.external_id, status.status, status.booked_number) == (
        first.external_id,
        ops.DocumentStatus.BOOKED,
        first.document_number,
    )
    assert (status.remainder, status.paid) == (Decimal("12375.00"), False)
    assert status.booked_on == date(2026, 3, 2)  # in the ledger on its DOCUMENT_DATE1

    register_payment(company.path, number, 10000.0)
    partly = plugin.statuses(booked.cursor, 100)
    (status,) = partly.items
    assert (status.remainder, status.paid) == (Decimal("2375.00"), False)

    register_payment(company.path, number, 2375.0)
    paid = plugin.statuses(partly.cursor, 100)
    (status,) = paid.items
    assert (status.remainder, status.paid, status.gross) == (
        Decimal("0.00"),
        True,
        Decimal("12375.00"),
    )
    assert plugin.statuses(paid.cursor, 100).items == ()
    assert second.external_id not in {s.external_id for s in paid.items}


def test_status_pages(plugin: VismaPlugin) -> None:
    for number in range(3):
        plugin.create_draft(invoice(f"ll:1:{number}:1"))
    first = plugin.statuses(None, 2)
    assert [s.correlation for s in first.items] == ["ll:1:0:1", "ll:1:1:1"]
    assert first.more is True
    rest = plugin.statuses(first.cursor, 2)
    assert [s.correlation for s in rest.items] == ["ll:1:2:1"]
    assert rest.more is False
    with pytest.raises(ErpRejected, match="cursor"):
        plugin.statuses("not-a-cursor", 2)


def test_customers_since_a_cursor(plugin: VismaPlugin) -> None:
    page = plugin.customers(None, 2)
    assert [c.number for c in page.items] == ["1001", "1002"]
    assert page.more is True
    rest = plugin.customers(page.cursor, 10)
    assert [c.number for c in rest.items] == ["2001"]
    plugin.upsert_customer(customer())
    changed = plugin.customers(rest.cursor, 10)
    assert [c.number for c in changed.items] == ["3001"]


# --- expenses ---------------------------------------------------------------------------------


def test_expenses_leave_the_pool_once_taken(plugin: VismaPlugin, company: Company) -> None:
    page = plugin.expenses(None, 100)
    assert [e.external_id for e in page.items] == ["1", "2", "3"]
    first = page.items[0]
    assert (first.currency, first.amount, first.amount_in_base_currency) == (
        "SEK",
        Decimal("1179.25"),
        Decimal("1179.25"),
    )
    assert (first.voucher_number, first.project_number) == ("SJ-4711", "P100")
    assert plugin.expenses(page.cursor, 100).items == ()

    assert plugin.notify_expense("1", "taken") == ops.Ack()
    plugin.notify_expense("3", "deleted")
    assert [e.external_id for e in plugin.expenses(None, 100).items] == ["2"]

    # A supplier invoice in DKK: its base amount uses Visma's rate per 100.
    adk = company.adk
    supplier_invoice = adk.AdkCreateData(c.ADK_DB_SUPPLIER_INVOICE_HEAD)
    values = {
        c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER: "503",
        c.ADK_SUP_INV_HEAD_CURRENCY_CODE: "DKK",
    }
    for field_id, text in values.items():
        check(adk.AdkSetStr(supplier_invoice, field_id, text), adk)
    check(adk.AdkSetDouble(supplier_invoice, c.ADK_SUP_INV_HEAD_TOTAL, 1000.0), adk)
    check(adk.AdkSetDouble(supplier_invoice, c.ADK_SUP_INV_HEAD_CURRENCY_RATE, 150.0), adk)
    check(adk.AdkSetDate(supplier_invoice, c.ADK_SUP_INV_HEAD_INVOICE_DATE, 20260301), adk)
    check(adk.AdkAdd(supplier_invoice), adk)
    (dkk,) = plugin.expenses(page.cursor, 100).items
    assert (dkk.currency, dkk.amount, dkk.amount_in_base_currency) == (
        "DKK",
        Decimal("1000.00"),
        Decimal("1500.00"),
    )


def test_the_pool_state_survives_a_restart(
    tmp_path: Path, company: Company, make_plugin: Callable[..., VismaPlugin]
) -> None:
    state = tmp_path / "pool.sqlite"
    make_plugin(expense_state_file=str(state)).notify_expense("2", "taken")
    again = make_plugin(expense_state_file=str(state))
    assert [e.external_id for e in again.expenses(None, 100).items] == ["1", "3"]


# --- sessions and faults ----------------------------------------------------------------------


def test_licence_faults_make_visma_unavailable_until_cleared(
    plugin: VismaPlugin, company: Company
) -> None:
    plugin.test()  # the company is open
    set_offline(company.path, True)
    with pytest.raises(ErpUnavailable) as down:
        plugin.find_customer("1001")
    assert down.value.erp_text == "Ogiltig nätverkslicens."
    set_licence_fault(company.path, c.ADKE_TOO_MANY_LICENCE)
    with pytest.raises(ErpUnavailable) as busy:
        plugin.create_draft(invoice())
    assert busy.value.erp_text == company.adk.AdkGetErrorText(AdkError(c.ADKE_TOO_MANY_LICENCE))
    set_offline(company.path, False)
    assert plugin.find_customer("1001") is not None  # reopened
    assert plugin.create_draft(invoice()).net == Decimal("9900.00")


def test_a_wrong_company_path_is_unavailable(make_plugin: Callable[..., VismaPlugin]) -> None:
    plugin = make_plugin(company_path="/nonexistent/FTG9")
    with pytest.raises(ErpUnavailable) as missing:
        plugin.test()
    assert missing.value.erp_text
    assert "company_path" in missing.value.hint


def test_the_adk_reopens_after_the_company_was_closed(
    plugin: VismaPlugin, company: Company
) -> None:
    plugin.test()
    adk = plugin._adk
    assert adk is not None
    adk.AdkClose()  # Visma closed the company under us
    assert plugin.find_customer("1001") is not None


def test_a_company_with_login_opens_with_the_vault_password(tmp_path: Path) -> None:
    system, path = tmp_path / "sys", tmp_path / "Företag" / "LOGIN"
    create_company(system, path, name="Login AB", users={"ekonomi": "hemligt"})
    config = {"system_path": str(system), "company_path": str(path), "adk": "emulated"}
    data_dir = tmp_path / "host"
    vault = Vault(data_dir)
    without_user = build_plugin(config, vault=vault, data_dir=data_dir)
    with pytest.raises(ErpUnavailable, match="login activated"):
        without_user.test()
    without_user.close()
    vault.set("visma:password", "hemligt")
    with_user = build_plugin(config | {"user": "ekonomi"}, vault=vault, data_dir=data_dir)
    assert with_user.test().company_name == "Login AB"
    with_user.close()


def test_build_plugin_does_not_need_visma_on_this_machine(tmp_path: Path) -> None:
    config = {"system_path": "C:/x", "company_path": "C:/y", "adk": "dotnet"}
    plugin = build_plugin(config, vault=Vault(tmp_path), data_dir=tmp_path)
    with pytest.raises(ErpUnavailable, match="ADK cannot be loaded"):
        plugin.test()
    plugin.close()


# --- through the real host --------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def draft_body(correlation: str) -> dict[str, Any]:
    return {
        "idempotency_key": f"document:{correlation}",
        "document": invoice(correlation).model_dump(mode="json"),
    }


def test_through_the_host_over_https(tmp_path: Path, company: Company) -> None:
    settings = HostSettings(
        data_dir=tmp_path / "host",
        port=0,
        sync_wait_seconds=2.0,
        retry={"initial": 0.2, "maximum": 0.5, "jitter": 0.0},
        plugin="visma",
        visma=company.config(),
    )
    secret = Vault(settings.data_dir).add_key("hub-1")
    host, certificate = build_host(settings)  # loads the plugin through build_plugin
    with serving(host, certificate) as url:
        client = SignedClient(
            url,
            keys=(SigningKey("hub-1", secret.encode()),),
            verify=tls_context(verify=certificate.cert_file),
        )
        info = client.call("connection.test", {})
        assert (info.status, info.body["company_name"]) == (200, "Demo AB")

        done = client.call("document.create_draft", draft_body("ll:9:1:1"))
        assert (done.status, done.body["state"]) == (200, "succeeded")
        assert done.body["result"]["gross"] == "12375.00"
        statuses = client.call("statuses.read", {})
        assert [s["correlation"] for s in statuses.body["items"]] == ["ll:9:1:1"]

        set_offline(company.path, True)
        waiting = client.call("document.create_draft", draft_body("ll:9:2:1"))
        assert (waiting.status, waiting.body["state"]) == (202, "pending")
        query = {"idempotency_key": "document:ll:9:2:1"}
        pending = client.call("job.status", query)
        assert pending.body["state"] == "pending"
        assert "Ogiltig nätverkslicens." in pending.body["last_problem"]
        set_offline(company.path, False)
        wait_until(lambda: client.call("job.status", query).body["state"] == "succeeded")
        assert client.call("document.create_draft", draft_body("ll:9:2:1")).status == 200
        client.close()
    assert len(company.invoices("ll:9:2:1")) == 1
    assert len(company.invoices()) == 2
