"""Each ERP's totals rule (per line / per VAT code / per document, whole-unit rounding) and the
totals check that accepts only what that rule explains (issue 12 item 2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.domain.invoices import Invoice, InvoiceLine, LineKind, draft_credit_note
from ledgerlink.domain.money import Money
from ledgerlink.domain.totals import TotalsRule, VatRounding, check_totals, expected_totals
from ledgerlink.domain.vat import VatCategory, VatTreatment

pytestmark = pytest.mark.unit

NAV = TotalsRule(erp="Dynamics NAV", vat=VatRounding.PER_LINE)
ECONOMIC = TotalsRule(erp="e-conomic", vat=VatRounding.PER_CODE)
VISMA = TotalsRule(erp="Visma", vat=VatRounding.PER_DOCUMENT, whole_units=frozenset({"SEK"}))


def line(price: str, quantity: str = "1", **changes: Any) -> InvoiceLine:
    fields: dict[str, Any] = {
        "kind": LineKind.WORK,
        "description": "Work",
        "quantity": Decimal(quantity),
        "unit_price": Money.of(price, changes.pop("currency", "DKK")),
    }
    return InvoiceLine(**(fields | changes))


def posted(*lines: InvoiceLine, currency: str = "DKK", country: str = "DK", **kw: Any) -> Invoice:
    invoice = Invoice(
        id=1,
        legal_entity_id=1,
        customer_id=1,
        currency=currency,
        invoice_date=date(2026, 8, 31),
        due_date=date(2026, 9, 30),
        seller_country=country,
        lines=lines,
        **kw,
    )
    invoice.post(number=1001, posting_date=date(2026, 8, 31))
    return invoice


# Three lines whose VAT is half an øre each (0.02 × 25 %): the PSA rounds 0.015 once, NAV
# rounds each line's 0.005 up.
HALVES = (line("0.02"), line("0.02"), line("0.02"))


def money(amount: str, currency: str = "DKK") -> Money:
    return Money.of(amount, currency)


def test_per_code_is_the_psa_rule() -> None:
    invoice = posted(*HALVES)
    assert invoice.current_totals().vat == money("0.02")  # 0.06 × 25 % = 0.015 → 0.02
    assert expected_totals(invoice, ECONOMIC).gross == invoice.current_totals().gross


def test_per_line_rounds_each_line() -> None:
    expected = expected_totals(posted(*HALVES), NAV)
    assert expected.vat == money("0.03")  # 0.005 → 0.01, three times
    assert expected.gross == money("0.09")


def test_per_document_rounds_once_over_every_rate() -> None:
    invoice = posted(
        line("0.07", vat_category=VatCategory.SECOND_REDUCED, currency="SEK"),
        line("0.01", currency="SEK"),
        currency="SEK",
        country="SE",
    )
    # Per code: 0.0042 → 0.00 and 0.0025 → 0.00; per document: 0.0067 → 0.01.
    assert invoice.current_totals().vat == money("0.00", "SEK")
    rule = TotalsRule(vat=VatRounding.PER_DOCUMENT)
    assert expected_totals(invoice, rule).vat == money("0.01", "SEK")


def test_whole_units_only_in_the_named_currency() -> None:
    sek = posted(line("100.30", currency="SEK"), currency="SEK", country="SE")
    expected = expected_totals(sek, VISMA)
    assert expected.gross == money("125.00", "SEK")  # 125.375 → 125.38 → 125
    assert expected.rounding == money("-0.38", "SEK")
    eur = posted(
        line("100.30", currency="EUR"),
        currency="EUR",
        country="SE",
        vat_treatment=VatTreatment.EU_REVERSE_CHARGE,
    )
    assert expected_totals(eur, VISMA).gross == money("100.30", "EUR")


def test_credit_note_rounds_away_from_zero_like_the_invoice() -> None:
    invoice = posted(*HALVES)
    credit = draft_credit_note(invoice, invoice_date=date(2026, 9, 1), already_credited={})
    credit.post(number=1002, posting_date=date(2026, 9, 1))
    assert expected_totals(credit, NAV).gross == -expected_totals(invoice, NAV).gross


def test_check_accepts_the_psa_total_and_the_rule_total_only() -> None:
    invoice = posted(*HALVES)  # PSA 0.08, NAV must show 0.09
    assert check_totals(invoice, NAV, gross=money("0.08")).agrees
    ok = check_totals(invoice, NAV, gross=money("0.09"))
    assert ok.agrees
    assert "Dynamics NAV rounds VAT per line" in ok.message and "+0.01 DKK" in ok.message
    # e-conomic rounds as the PSA: the same 1 øre is a real difference there.
    off = check_totals(invoice, ECONOMIC, gross=money("0.09"))
    assert not off.agrees
    assert "e-conomic rounds differently than its connector declares" in off.hint


def test_check_names_vat_when_the_erp_applied_other_vat() -> None:
    invoice = posted(
        line("1000.00", currency="SEK"),
        currency="SEK",
        country="DK",
        vat_treatment=VatTreatment.EU_REVERSE_CHARGE,
    )
    check = check_totals(
        invoice,
        VISMA,
        gross=money("1250.00", "SEK"),
        net=money("1000.00", "SEK"),
        vat=money("250.00", "SEK"),
    )
    assert not check.agrees
    assert "the ERP's VAT 250.00 SEK is not the PSA's 0.00 SEK" in check.message
    assert "Visma applied other VAT than the PSA (eu_reverse_charge" in check.hint
    assert "VAT zone" not in check.hint


def test_check_names_the_lines_when_the_net_differs() -> None:
    invoice = posted(line("1000.00"), line("200.00"))
    check = check_totals(
        invoice, NAV, gross=money("1250.00"), net=money("1000.00"), vat=money("250.00")
    )
    assert not check.agrees
    assert "net amount 1,000.00 DKK is not the PSA's 1,200.00 DKK" in check.message
    assert "The lines differ" in check.hint
