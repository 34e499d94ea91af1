"""Fortnox expense export's pure mappings: one voucher per expense (cost account of the expense
type debited, settlement account credited, the amount without VAT), the project and cost
centre on the cost row, the correlation in Comments found again as a whole word, the field
limits as named rules, and the receipt's file name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.connectors.contract import OutgoingExpense, Permanent
from ledgerlink.connectors.fortnox import voucher_mapping as vm
from ledgerlink.connectors.fortnox.dtos import to_wire
from ledgerlink.domain.expense_exports import expense_correlation
from ledgerlink.domain.money import Money
from ledgerlink.domain.work import Expense, ExpenseType

pytestmark = pytest.mark.unit

SETUP = vm.ExpenseVoucherSetup(
    series="U", accounts={"expense": 6990, "travel": 5800, "mileage": 7331}, credit_account=2890
)


def outgoing(
    *,
    description: str = "Hotel Stockholm, 2 nights",
    expense_type: ExpenseType = ExpenseType.EXPENSE,
    quantity: str = "2",
    price: str = "1802.00",
    currency: str = "SEK",
    employee: str = "Sofie Larsen",
    project: str = "P-200",
    department: str = "",
) -> OutgoingExpense:
    expense = Expense(
        id=17,
        employee_id=3,
        project_id=3,
        day=date(2026, 8, 13),
        expense_type=expense_type,
        description=description,
        quantity=Decimal(quantity),
        unit="nights",
        unit_price=Money(Decimal(price), currency),
        receipt_file="receipts/hotel.pdf",
    )
    return OutgoingExpense(
        expense=expense,
        correlation="LL-NORDLYSSE-EXP17",
        employee_name=employee,
        project_ref=project,
        department=department,
    )


def test_an_expense_is_one_balanced_voucher_in_the_chosen_series() -> None:
    body = to_wire(vm.expense_voucher(outgoing(), SETUP, year=3))
    assert body == {
        "Description": "Hotel Stockholm, 2 nights",
        "TransactionDate": date(2026, 8, 13),
        "VoucherSeries": "U",
        "Year": 3,
        "Comments": "Sofie Larsen (LL-NORDLYSSE-EXP17)",
        "VoucherRows": [
            {
                "Account": 6990,
                "Debit": Decimal("3604.00"),
                "Credit": Decimal(0),
                "Project": "P200",
                "TransactionInformation": "Hotel Stockholm, 2 nights",
            },
            {
                "Account": 2890,
                "Debit": Decimal(0),
                "Credit": Decimal("3604.00"),
                "TransactionInformation": "Sofie Larsen",
            },
        ],
    }


@pytest.mark.parametrize(
    ("kind", "account"),
    [(ExpenseType.EXPENSE, 6990), (ExpenseType.TRAVEL, 5800), (ExpenseType.MILEAGE, 7331)],
)
def test_the_expense_type_chooses_the_cost_account(kind: ExpenseType, account: int) -> None:
    voucher = vm.expense_voucher(outgoing(expense_type=kind), SETUP, year=3)
    assert voucher.VoucherRows[0].Account == account


def test_an_expense_type_without_an_account_is_refused_naming_the_setting() -> None:
    setup = vm.ExpenseVoucherSetup(series="U", accounts={"expense": 6990}, credit_account=2890)
    with pytest.raises(Permanent, match="no Fortnox account is set for mileage") as refused:
        vm.expense_voucher(outgoing(expense_type=ExpenseType.MILEAGE), setup, year=3)
    assert "expense_export_accounts" in refused.value.hint


def test_the_amount_is_excluding_vat_and_in_kronor_only() -> None:
    assert vm.booked_amount(outgoing(quantity="43", price="3.79")) == Decimal("162.97")
    with pytest.raises(Permanent, match="in EUR; Fortnox vouchers are in SEK"):
        vm.expense_voucher(outgoing(currency="EUR"), SETUP, year=3)
    with pytest.raises(Permanent, match="nothing to book"):
        vm.expense_voucher(outgoing(price="0"), SETUP, year=3)


def test_no_voucher_series_no_export() -> None:
    setup = vm.ExpenseVoucherSetup(series=" ", accounts=SETUP.accounts, credit_account=2890)
    with pytest.raises(Permanent, match="no voucher series") as refused:
        vm.expense_voucher(outgoing(), setup, year=3)
    assert "expense_voucher_series" in refused.value.hint


def test_project_numbers_are_letters_and_digits_and_a_cost_centre_only_when_chosen() -> None:
    assert vm.project_number("P-200") == "P200"
    assert vm.project_number("") is None
    assert vm.project_number("A" * 30) == "A" * vm.MAX_PROJECT_NUMBER
    plain = vm.expense_voucher(outgoing(department="ADM"), SETUP, year=3)
    assert plain.VoucherRows[0].CostCenter is None
    setup = vm.ExpenseVoucherSetup(
        series="U", accounts=SETUP.accounts, credit_account=2890, cost_centres=True
    )
    with_centre = vm.expense_voucher(outgoing(department="ADM"), setup, year=3)
    assert with_centre.VoucherRows[0].CostCenter == "ADM"
    assert with_centre.VoucherRows[1].CostCenter is None  # the debt is nobody's cost
    without_project = vm.expense_voucher(outgoing(project=""), SETUP, year=3)
    assert without_project.VoucherRows[0].Project is None


def test_texts_are_shortened_to_fortnoxs_limits_but_never_the_correlation() -> None:
    long = "Conference dinner with the whole project group " * 10
    voucher = vm.expense_voucher(outgoing(description=long, employee="N" * 2000), SETUP, year=3)
    assert len(voucher.Description) <= vm.MAX_DESCRIPTION
    assert voucher.Description.endswith("…")
    info = voucher.VoucherRows[0].TransactionInformation
    assert info is not None and len(info) <= vm.MAX_TRANSACTION_INFORMATION
    assert voucher.Comments is not None and len(voucher.Comments) <= vm.MAX_COMMENTS
    assert voucher.Comments.endswith("(LL-NORDLYSSE-EXP17)")


def test_the_correlation_is_found_as_a_whole_word() -> None:
    comments = vm.voucher_comments(outgoing())
    assert vm.carries_correlation(comments, "LL-NORDLYSSE-EXP17")
    assert not vm.carries_correlation(comments, "LL-NORDLYSSE-EXP1")
    assert not vm.carries_correlation("Anna (LL-NORDLYSSE-EXP170)", "LL-NORDLYSSE-EXP17")
    assert not vm.carries_correlation("", "LL-NORDLYSSE-EXP17")
    assert expense_correlation("nordlys-se", 17) == "LL-NORDLYSSE-EXP17"


def test_a_voucher_is_known_by_series_number_and_financial_year() -> None:
    item = vm.VoucherListItemDto.model_validate(
        {"VoucherSeries": "U", "VoucherNumber": 17, "Year": 3, "Comments": None}
    )
    key = vm.voucher_key(item)
    assert (key.external_id, key.shown) == ("U-17-3", "U 17")
    assert vm.VoucherKey.parse("U-17-3") == key
    assert item.Comments == ""


def test_the_receipt_is_uploaded_under_the_correlation_with_its_extension() -> None:
    assert vm.receipt_file_name("LL-X-EXP1", "receipts/2026-08-hotel.PDF") == "LL-X-EXP1.pdf"
    assert vm.receipt_file_name("LL-X-EXP1", "scan") == "LL-X-EXP1"
    assert vm.receipt_file_name("LL-X-EXP1", "odd.name with space") == "LL-X-EXP1"


def test_the_financial_year_of_a_day() -> None:
    years = [
        vm.FinancialYearDto.model_validate(
            {"Id": 2, "FromDate": "2025-01-01", "ToDate": "2025-12-31"}
        ),
        vm.FinancialYearDto.model_validate(
            {"Id": 3, "FromDate": "2026-01-01", "ToDate": "2026-12-31"}
        ),
    ]
    assert vm.financial_year_of(years, date(2026, 8, 13)) == 3
    assert vm.financial_year_of(years, date(2027, 1, 1)) is None
