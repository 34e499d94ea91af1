"""What an ERP must show for a PSA document, and whether what it shows agrees (design §6).

The PSA rounds VAT once per VAT category (see :mod:`.vat`). An ERP computes its own totals
from the lines it received, and rounds where *it* rounds: NAV rounds each line's VAT, Visma
rounds the VAT of the whole document and then the invoice total to whole kronor. Each
connector declares its ERP's :class:`TotalsRule`; :func:`expected_totals` applies it to the
PSA's lines and rates, and :func:`check_totals` accepts the ERP's total only when it is the
PSA's total or the one the ERP's rule gives. Everything else is a real difference, described
with its probable cause.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.domain.invoices import Invoice, LineKind
from ledgerlink.domain.money import Money, RoundingPoint, total
from ledgerlink.domain.vat import VatCategory


class VatRounding(enum.StrEnum):
    """Where an ERP rounds VAT to the minor unit."""

    PER_LINE = "per_line"  # each line's VAT, then summed
    PER_CODE = "per_code"  # per document, once per VAT code (rate) — as the PSA does
    PER_DOCUMENT = "per_document"  # the document's unrounded VAT of every line, once

    def describe(self) -> str:
        return {
            VatRounding.PER_LINE: "rounds VAT per line",
            VatRounding.PER_CODE: "rounds VAT once per VAT code",
            VatRounding.PER_DOCUMENT: "rounds VAT once per document",
        }[self]


@dataclass(frozen=True, slots=True, kw_only=True)
class TotalsRule:
    """How an ERP (``erp``, its name for people) rounds a document's totals. ``whole_units``:
    currencies in which it rounds the invoice total to whole units with a rounding amount
    (Swedish öresavrundning)."""

    erp: str = "the ERP"
    vat: VatRounding = VatRounding.PER_CODE
    whole_units: frozenset[str] = frozenset()

    def describe(self, currency: str) -> str:
        """E.g. "Dynamics NAV rounds VAT per line"."""
        text = f"{self.erp} {self.vat.describe()}"
        if currency in self.whole_units:
            text += f" and rounds {currency} totals to whole units"
        return text


@dataclass(frozen=True, slots=True)
class ExpectedTotals:
    """The totals an ERP following ``rule`` computes from the PSA's lines and VAT rates."""

    net: Money
    vat: Money
    rounding: Money  # the ERP's rounding amount on the total (öresavrundning), else 0
    gross: Money


def line_vat_percents(invoice: Invoice) -> dict[VatCategory, Decimal]:
    """The VAT rate the PSA applied to each category of the document (0 for reverse charge
    and export), from its frozen totals."""
    return {line.category: line.percent for line in invoice.current_totals().vat_lines}


def expected_totals(invoice: Invoice, rule: TotalsRule) -> ExpectedTotals:
    """Net, VAT, rounding amount and gross of ``invoice`` as an ERP following ``rule`` shows
    them (pure; the rates are the PSA's, so only the rounding can differ)."""
    currency = invoice.currency
    percents = line_vat_percents(invoice)
    nets = [
        (line.net_amount, percents[line.vat_category])
        for line in invoice.lines
        if line.kind is not LineKind.TEXT
    ]
    net = total((amount for amount, _ in nets), currency)
    if rule.vat is VatRounding.PER_LINE:
        vat = total(
            (amount.multiply(percent / 100, at=RoundingPoint.ERP_VAT) for amount, percent in nets),
            currency,
        )
    elif rule.vat is VatRounding.PER_DOCUMENT:
        unrounded = sum((amount.amount * percent / 100 for amount, percent in nets), Decimal(0))
        vat = Money.rounded(unrounded, currency, at=RoundingPoint.ERP_VAT)
    else:
        vat = invoice.current_totals().vat
    gross = net + vat
    rounding = Money.zero(currency)
    if currency in rule.whole_units:
        whole = gross.amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        rounding = Money(whole - gross.amount, currency)
    return ExpectedTotals(net=net, vat=vat, rounding=rounding, gross=gross + rounding)


@dataclass(frozen=True, slots=True)
class TotalsCheck:
    """The outcome of comparing an ERP's totals with the PSA's: ``agrees``, what the log
    says, and (for a difference) what the user should check."""

    agrees: bool
    message: str
    hint: str = ""


def check_totals(
    invoice: Invoice,
    rule: TotalsRule,
    *,
    gross: Money,
    net: Money | None = None,
    vat: Money | None = None,
) -> TotalsCheck:
    """Whether the ERP's totals (``gross``; ``net`` and ``vat`` when the ERP reported them)
    agree with the PSA document under the ERP's rounding ``rule``."""
    ours = invoice.current_totals()
    expected = expected_totals(invoice, rule)
    if gross == ours.gross:
        return TotalsCheck(True, f"ERP total {gross} = PSA total")
    if gross == expected.gross:
        return TotalsCheck(
            True,
            f"ERP total {gross} = PSA total {ours.gross} as "
            f"{rule.describe(invoice.currency)} ({_signed(gross - ours.gross)})",
        )
    message = (
        f"the ERP total {gross} differs from the PSA total {ours.gross} by "
        f"{_signed(gross - ours.gross)}, more than rounding explains "
        f"({rule.describe(invoice.currency)}: {expected.gross})"
    )
    before = "Correct the ERP draft or the PSA document before the draft is booked."
    if net is not None and net != expected.net:
        return TotalsCheck(
            False,
            f"{message}; the ERP's net amount {net} is not the PSA's {expected.net}",
            f"The lines differ: compare quantities, prices and discounts of the ERP draft with "
            f"the PSA document (an ERP may price a line from its own product card). {before}",
        )
    amount_lines = sum(1 for line in invoice.lines if line.kind is not LineKind.TEXT)
    off = abs(gross.minor_units - expected.gross.minor_units)
    if off <= amount_lines:
        return TotalsCheck(
            False,
            f"{message}; the difference is within rounding of the lines",
            f"{rule.erp} rounds differently than its connector declares; report this to ledgerlink "
            f"with the document. {before}",
        )
    vat_text = f"; the ERP's VAT {vat} is not the PSA's {expected.vat}" if vat is not None else ""
    rates = ", ".join(f"{line.category.value} {line.percent} %" for line in ours.vat_lines)
    return TotalsCheck(
        False,
        message + vat_text,
        f"{rule.erp} applied other VAT than the PSA ({invoice.vat_treatment.value}: {rates}): "
        f"check the VAT set-up the ERP used for this customer and these products. {before}",
    )


def _signed(amount: Money) -> str:
    return f"+{amount}" if amount.amount > 0 else str(amount)


__all__ = [
    "ExpectedTotals",
    "TotalsCheck",
    "TotalsRule",
    "VatRounding",
    "check_totals",
    "expected_totals",
    "line_vat_percents",
]
