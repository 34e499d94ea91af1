"""Invoice arithmetic as e-conomic does it server-side: line amounts, VAT, totals, due dates."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ledgerlink.emulators.economic.fields import money
from ledgerlink.emulators.economic.seed import EXCHANGE_RATES, VAT_RATES
from ledgerlink.emulators.economic.state import Agreement

__all__ = ["accounting_year_problem", "apply_totals", "due_date", "exchange_rate"]

HUNDRED = Decimal("100")


def line_net(line: dict[str, Any]) -> Decimal:
    """quantity × unit price × (1 − discount %), rounded half-up to two decimals."""
    quantity = line.get("quantity", Decimal("0"))
    price = line.get("unitNetPrice", Decimal("0"))
    discount = line.get("discountPercentage", Decimal("0"))
    return money(Decimal(quantity) * Decimal(price) * (HUNDRED - Decimal(discount)) / HUNDRED)


def apply_totals(document: dict[str, Any], *, booked: bool = False) -> None:
    """Compute every read-only amount of a draft (or booked) invoice in place.

    VAT comes from the recipient's VAT zone (Danish agreement: domestic 25 %, else 0 %) and is
    computed on the document's net amount; base-currency amounts use the exchange rate per 100.
    """
    rate = VAT_RATES.get(int(document["recipient"]["vatZone"]["vatZoneNumber"]), Decimal("0"))
    exchange = Decimal(document["exchangeRate"])
    net = Decimal("0.00")
    cost = Decimal("0.00")
    for line in document.get("lines", []):
        total = line_net(line)
        line_cost = money(Decimal(line.get("quantity", 0)) * Decimal(line.get("unitCostPrice", 0)))
        line["totalNetAmount"] = total
        line_margin = money((total - line_cost) * exchange / HUNDRED)
        line["marginInBaseCurrency"] = line_margin
        line["marginPercentage"] = (
            money(line_margin / total * HUNDRED) if total else Decimal("0.00")
        )
        if booked:
            line["vatRate"] = rate
            line["vatAmount"] = money(total * rate / HUNDRED)
        net += total
        cost += line_cost
    vat = money(net * rate / HUNDRED)
    gross = net + vat
    document["netAmount"] = net
    document["vatAmount"] = vat
    document["grossAmount"] = gross
    document["netAmountInBaseCurrency"] = money(net * exchange / HUNDRED)
    document["grossAmountInBaseCurrency"] = money(gross * exchange / HUNDRED)
    document["costPriceInBaseCurrency"] = money(cost * exchange / HUNDRED)
    margin = document["netAmountInBaseCurrency"] - document["costPriceInBaseCurrency"]
    document["marginInBaseCurrency"] = margin
    base_net = document["netAmountInBaseCurrency"]
    document["marginPercentage"] = (
        money(margin / base_net * HUNDRED) if base_net else Decimal("0.00")
    )
    document["roundingAmount"] = Decimal("0.00")


def exchange_rate(agreement: Agreement, currency: str) -> Decimal:
    """The cost in the base currency of 100 units of ``currency``: the rate the agreement's
    currency carries (a currency added by the admin route brings its own), else the seed's
    fixed rate, else 100."""
    code = currency.upper()
    stored = agreement.get("currencies", code) or {}
    if "_exchangeRate" in stored:
        return Decimal(stored["_exchangeRate"])
    return EXCHANGE_RATES.get(code, HUNDRED)


def due_date(issued: str, terms: dict[str, Any], given: str | None) -> str | None:
    """The due date the payment terms give (``given`` is used for terms of type dueDate)."""
    kind = terms.get("paymentTermsType")
    day = date.fromisoformat(issued)
    days = int(terms.get("daysOfCredit", 0))
    if kind == "dueDate":
        return given
    if kind == "invoiceMonth":
        month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        return (month_end + timedelta(days=days)).isoformat()
    if kind in ("paidInCash", "prepaid"):
        return issued
    return (day + timedelta(days=days)).isoformat()


def accounting_year_problem(agreement: Agreement, day: str) -> str | None:
    """Why ``day`` cannot be posted: no accounting year covers it, or that year is closed."""
    for year in agreement.table("accounting-years").values():
        if year["fromDate"] <= day <= year["toDate"]:
            if year.get("closed"):
                return f"The date {day} is in the accounting year {year['year']}, which is closed."
            return None
    return f"No accounting year exists for the date {day}. Create the accounting year first."
