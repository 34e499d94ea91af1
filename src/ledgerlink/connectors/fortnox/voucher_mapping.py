"""Expense export as Fortnox vouchers: pure mappings, unit-tested without HTTP (design §6).

One PSA expense becomes one voucher (fact sheet §1.3 "Expense export": Fortnox's running
number is the expense's back-reference, so one number per expense) in the voucher series
chosen in setup, with two rows: the expense type's cost account debited and the settlement
account (what the company owes the employee) credited, the amount **excluding VAT** as the
reference product sends it. The PSA project goes on the cost row as Fortnox's project (it
must exist in Fortnox), the project's department as its cost centre when the setup says so.

Correlation: Fortnox's vouchers have no searchable reference field (no search parameter on
``/3/vouchers``, unlike ``ExternalInvoiceReference1`` on invoices) and cannot be changed or
deleted afterwards, so a lost answer must be found by reading. The correlation is written into
``Comments`` (1000 characters, free text, returned by the voucher list, and the sheet's
"Comment: employee name" field), after the employee's name; a lookup lists the vouchers of the
setup's series on the expense's date (``fromdate``/``todate``, a handful of vouchers) and
matches the correlation as a whole word. ``ReferenceNumber`` was not used: its meaning follows
``ReferenceType`` (an invoice number for INVOICE) and nothing documents that Fortnox keeps a
free value there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import PurePath

from ledgerlink.connectors._kit.text import shorten_at_word
from ledgerlink.connectors.contract import OutgoingExpense, Permanent
from ledgerlink.connectors.fortnox.dtos import FortnoxModel, Text
from ledgerlink.domain.work import ExpenseType

#: Fortnox's limits (OpenAPI ``fortnox_Voucher``, ``fortnox_Voucher_VoucherRow``).
MAX_DESCRIPTION = 200
MAX_COMMENTS = 1000
MAX_TRANSACTION_INFORMATION = 100
MAX_PROJECT_NUMBER = 20
#: Fortnox keeps every company's books in Swedish kronor; a voucher has no currency.
BOOK_CURRENCY = "SEK"
#: The longest file name the receipt is uploaded with (Fortnox documents no limit; a file's
#: folder name takes 30, and short names read well in Fortnox's archive).
MAX_FILE_NAME = 60


class VoucherRowDto(FortnoxModel):
    """A voucher row as sent: ``Account`` 1000–9999, ``Debit`` or ``Credit``."""

    Account: int
    Debit: Decimal = Decimal(0)
    Credit: Decimal = Decimal(0)
    Project: str | None = None
    CostCenter: str | None = None
    TransactionInformation: str | None = None


class VoucherDto(FortnoxModel):
    """A voucher as sent (``POST /3/vouchers``)."""

    Description: str
    TransactionDate: date
    VoucherSeries: str
    Year: int
    Comments: str | None = None
    VoucherRows: list[VoucherRowDto]


class VoucherListItemDto(FortnoxModel):
    """A voucher as ``/3/vouchers`` lists it, and as the create answers it."""

    VoucherSeries: str
    VoucherNumber: int
    Year: int
    Comments: Text = ""
    Description: Text = ""


class FinancialYearDto(FortnoxModel):
    Id: int
    FromDate: date
    ToDate: date


class FileRowDto(FortnoxModel):
    """A file in the inbox or archive (``POST /3/inbox`` answers one as ``File``)."""

    Id: str
    Name: Text = ""


class VoucherFileConnectionDto(FortnoxModel):
    """A file attached to a voucher (``/3/voucherfileconnections``)."""

    FileId: str
    VoucherNumber: Text
    VoucherSeries: str
    VoucherYear: int | None = None


@dataclass(frozen=True, slots=True)
class ExpenseVoucherSetup:
    """What the setup chose for expense export (see ``FortnoxSettings``)."""

    series: str
    accounts: Mapping[str, int]
    credit_account: int
    cost_centres: bool = False


@dataclass(frozen=True, slots=True)
class VoucherKey:
    """A voucher's identity: Fortnox numbers vouchers per series and financial year."""

    series: str
    number: int
    year: int

    @property
    def external_id(self) -> str:
        """What the external key keeps: ``U-17-3`` (series, number, financial year id)."""
        return f"{self.series}-{self.number}-{self.year}"

    @property
    def shown(self) -> str:
        """How Fortnox's users name it: ``U 17``."""
        return f"{self.series} {self.number}"

    @classmethod
    def parse(cls, external_id: str) -> VoucherKey:
        series, number, year = external_id.rsplit("-", 2)
        return cls(series=series, number=int(number), year=int(year))


def expense_account(expense_type: ExpenseType, accounts: Mapping[str, int]) -> int:
    """The cost account of the expense type (fact sheet: the PSA expense type carries the
    Fortnox account; without one, "transferring will not take place")."""
    account = accounts.get(expense_type.value)
    if account is None:
        raise Permanent(
            f"no Fortnox account is set for {expense_type.value} expenses",
            hint=f"Give {expense_type.value} an account in the connection's setting "
            "expense_export_accounts, naming every type (the setting is replaced whole), e.g. "
            "'ledgerlink connections set --setting expense_export_accounts="
            '{"expense": 6990, "travel": 5800, "mileage": 7331}\', then export again.',
        )
    return account


def project_number(project_ref: str) -> str | None:
    """The Fortnox project of the cost row: Fortnox's project numbers are letters and digits
    (fact sheet §1.3), so ``P-200`` is project ``P200``; none without a project."""
    number = "".join(c for c in project_ref if c.isalnum())[:MAX_PROJECT_NUMBER]
    return number or None


def voucher_description(outgoing: OutgoingExpense) -> str:
    """``Description`` (required, 200): the expense's description, shortened at a word."""
    return shorten_at_word(outgoing.expense.description.strip(), MAX_DESCRIPTION)


def voucher_comments(outgoing: OutgoingExpense) -> str:
    """``Comments``: the employee (fact sheet "Comment: employee name") and the correlation
    in brackets, which is never shortened (a lookup finds the voucher by it)."""
    tail = f" ({outgoing.correlation})"
    name = shorten_at_word(outgoing.employee_name.strip(), MAX_COMMENTS - len(tail))
    return f"{name}{tail}".strip()


def carries_correlation(comments: str, correlation: str) -> bool:
    """Whether ``comments`` holds ``correlation`` as a whole word (``…EXP1`` is not found in
    a voucher of ``…EXP17``)."""
    pattern = rf"(?<![\w-]){re.escape(correlation)}(?![\w-])"
    return re.search(pattern, comments) is not None


def booked_amount(outgoing: OutgoingExpense) -> Decimal:
    """The amount excluding VAT, in kronor; Fortnox books in SEK only, and a voucher of
    nothing is refused."""
    amount = outgoing.expense.amount
    if amount.currency != BOOK_CURRENCY:
        raise Permanent(
            f"the expense is in {amount.currency}; Fortnox vouchers are in {BOOK_CURRENCY}",
            hint="Register the expense in SEK (the amount the employee is reimbursed), or "
            "ignore it for Fortnox.",
        )
    if amount.amount <= 0:
        raise Permanent(
            "the expense's amount is zero: there is nothing to book",
            hint="Correct the expense's price, or ignore it for Fortnox.",
        )
    return amount.amount


def expense_voucher(
    outgoing: OutgoingExpense, setup: ExpenseVoucherSetup, *, year: int
) -> VoucherDto:
    """The voucher of one expense in financial year ``year`` (Fortnox's id of the year)."""
    if not setup.series.strip():
        raise Permanent(
            "no voucher series is chosen for expense export",
            hint="Choose one with 'ledgerlink connections set --setting "
            'expense_voucher_series="U"\'.',
        )
    amount = booked_amount(outgoing)
    expense = outgoing.expense
    cost_centre = outgoing.department.strip() if setup.cost_centres else ""
    information = shorten_at_word(expense.description.strip(), MAX_TRANSACTION_INFORMATION)
    return VoucherDto(
        Description=voucher_description(outgoing),
        TransactionDate=expense.day,
        VoucherSeries=setup.series.strip(),
        Year=year,
        Comments=voucher_comments(outgoing),
        VoucherRows=[
            VoucherRowDto(
                Account=expense_account(expense.expense_type, setup.accounts),
                Debit=amount,
                Project=project_number(outgoing.project_ref),
                CostCenter=cost_centre or None,
                TransactionInformation=information or None,
            ),
            VoucherRowDto(
                Account=setup.credit_account,
                Credit=amount,
                TransactionInformation=shorten_at_word(
                    outgoing.employee_name.strip(), MAX_TRANSACTION_INFORMATION
                )
                or None,
            ),
        ],
    )


def voucher_key(dto: VoucherListItemDto) -> VoucherKey:
    return VoucherKey(series=dto.VoucherSeries, number=dto.VoucherNumber, year=dto.Year)


def receipt_file_name(correlation: str, original: str) -> str:
    """The name the receipt is uploaded with: the correlation, so a lost upload is found in
    the inbox by name, and the original name's extension (``LL-NORDLYSSE-EXP17.pdf``)."""
    suffix = PurePath(original).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    return f"{correlation}{suffix}"[:MAX_FILE_NAME]


def financial_year_of(years: list[FinancialYearDto], day: date) -> int | None:
    """The id of the financial year that covers ``day``."""
    for year in years:
        if year.FromDate <= day <= year.ToDate:
            return year.Id
    return None
