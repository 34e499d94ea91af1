"""Billing rules: minutes to hours, work lines (grouping, rates) and expense lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerlink.domain.billing import (
    Grouping,
    RateSource,
    expense_lines,
    hours_from_minutes,
    work_lines,
)
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import InvoiceLine, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Employee
from ledgerlink.domain.vat import VatCategory
from ledgerlink.domain.work import Expense, ExpenseType, Project, TimeRegistration

# hours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [
        (0, "0.00"),
        (1, "0.02"),
        (20, "0.33"),
        (30, "0.50"),
        (40, "0.67"),
        (50, "0.83"),
        (60, "1.00"),
        (450, "7.50"),
        (1440, "24.00"),
    ],
)
def test_hours_from_minutes_examples(minutes: int, hours: str) -> None:
    assert hours_from_minutes(minutes) == Decimal(hours)


@given(st.integers(min_value=0, max_value=10**9))
def test_hours_have_two_decimals_and_are_within_half_a_hundredth(minutes: int) -> None:
    hours = hours_from_minutes(minutes)
    assert hours.as_tuple().exponent == -2
    # Half of 0.01 h is 0.3 minutes.
    assert abs(hours * 60 - minutes) <= Decimal("0.3")


# work lines -----------------------------------------------------------------------------------

PROJECT_ID = 7
ANNA, CARL = 1, 2
EMPLOYEES = {
    ANNA: Employee(id=ANNA, legal_entity_id=1, initials="AB", name="Anna Berg"),
    CARL: Employee(id=CARL, legal_entity_id=1, initials="CD", name="Carl Dahl"),
}


def dkk(amount: str) -> Money:
    return Money.of(amount, "DKK")


PROJECT_RATE = Money.of("1000.00", "DKK")


def _project(rate: Money | None = PROJECT_RATE) -> Project:
    return Project(
        id=PROJECT_ID,
        legal_entity_id=1,
        number="P-7",
        name="Website",
        customer_id=1,
        currency="DKK",
        hourly_rate=rate,
    )


def _reg(
    id_: int,
    employee: int = ANNA,
    minutes: int = 60,
    *,
    task: str = "",
    rate: Money | None = None,
    billable: bool = True,
    invoice_line_id: int | None = None,
) -> TimeRegistration:
    return TimeRegistration(
        id=id_,
        ref=f"R{id_}",
        employee_id=employee,
        project_id=PROJECT_ID,
        day=date(2024, 3, id_),
        minutes=minutes,
        task=task,
        hourly_rate=rate,
        billable=billable,
        invoice_line_id=invoice_line_id,
    )


def _lines(
    registrations: Iterable[TimeRegistration],
    grouping: Grouping = Grouping.EMPLOYEE,
    rate_source: RateSource = RateSource.REGISTRATION,
    project: Project | None = None,
    description_suffix: str = "",
) -> list[InvoiceLine]:
    return work_lines(
        registrations,
        project=project or _project(),
        employees=EMPLOYEES,
        grouping=grouping,
        rate_source=rate_source,
        description_suffix=description_suffix,
    )


def _summary(lines: list[InvoiceLine]) -> list[tuple[str, str, str, int | None, tuple[int, ...]]]:
    return [
        (
            line.description,
            str(line.quantity),
            str(line.unit_price.amount),
            line.employee_id,
            line.time_registration_ids,
        )
        for line in lines
    ]


def test_one_line_per_employee() -> None:
    lines = _lines([_reg(3, CARL, 45), _reg(1, ANNA, 90), _reg(2, ANNA, 30)])
    assert _summary(lines) == [
        ("Website: Anna Berg (AB)", "2.00", "1000.00", ANNA, (1, 2)),
        ("Website: Carl Dahl (CD)", "0.75", "1000.00", CARL, (3,)),
    ]
    for line in lines:
        assert line.kind is LineKind.WORK
        assert line.unit == "hours"
        assert line.project_id == PROJECT_ID
        assert line.vat_category is VatCategory.STANDARD
    assert [line.net_amount for line in lines] == [dkk("2000.00"), dkk("750.00")]


def test_minutes_are_summed_before_converting_to_hours() -> None:
    # 3 × 20 min is 1.00 h, not 3 × 0.33 h = 0.99 h.
    (line,) = _lines([_reg(1, minutes=20), _reg(2, minutes=20), _reg(3, minutes=20)])
    assert line.quantity == Decimal("1.00")
    assert line.net_amount == dkk("1000.00")


def test_line_amount_is_hours_times_rate_rounded_half_up() -> None:
    # 20 min → 0.33 h; 0.33 × 333.35 = 110.0055 → 110.01
    (line,) = _lines([_reg(1, minutes=20)], project=_project(dkk("333.35")))
    assert line.quantity == Decimal("0.33")
    assert line.net_amount == dkk("110.01")


def test_one_line_per_task() -> None:
    lines = _lines(
        [
            _reg(1, ANNA, 60, task="Design"),
            _reg(2, CARL, 30, task=""),
            _reg(3, CARL, 30, task="Build"),
            _reg(4, ANNA, 15, task="Design"),
        ],
        grouping=Grouping.TASK,
    )
    assert _summary(lines) == [
        ("Website: Build", "0.50", "1000.00", None, (3,)),
        ("Website: Design", "1.25", "1000.00", None, (1, 4)),
        ("Website: General", "0.50", "1000.00", None, (2,)),
    ]


def test_one_line_for_the_project_with_suffix() -> None:
    lines = _lines(
        [_reg(1, ANNA, 60, task="Design"), _reg(2, CARL, 30, task="Build")],
        grouping=Grouping.ONE_LINE,
        description_suffix="March 2024",
    )
    assert _summary(lines) == [("Website: Consulting, March 2024", "1.50", "1000.00", None, (1, 2))]


@pytest.mark.parametrize("grouping", list(Grouping))
def test_differing_rates_split_a_group(grouping: Grouping) -> None:
    lines = _lines(
        [
            _reg(1, ANNA, 60, rate=dkk("1200.00")),
            _reg(2, ANNA, 60),  # falls back to the project's 1000.00
            _reg(3, ANNA, 30, rate=dkk("1000.00")),  # same rate as the project: same line
        ],
        grouping=grouping,
    )
    assert [(str(line.quantity), str(line.unit_price.amount)) for line in lines] == [
        ("1.50", "1000.00"),
        ("1.00", "1200.00"),
    ]
    assert [line.time_registration_ids for line in lines] == [(2, 3), (1,)]


def test_project_rate_source_ignores_registration_rates() -> None:
    (line,) = _lines(
        [_reg(1, rate=dkk("1200.00")), _reg(2, rate=dkk("800.00"))],
        rate_source=RateSource.PROJECT,
    )
    assert (line.quantity, line.unit_price) == (Decimal("2.00"), dkk("1000.00"))


def test_registration_rate_is_used_when_the_project_has_none() -> None:
    (line,) = _lines([_reg(1, rate=dkk("875.50"))], project=_project(None))
    assert line.unit_price == dkk("875.50")


def test_missing_rate_stops_the_draft() -> None:
    with pytest.raises(ValidationError) as caught:
        _lines([_reg(1), _reg(4)], project=_project(None))
    message = str(caught.value)
    assert "registration R1 on 2024-03-01 has no hourly rate" in message
    assert "project P-7 has none either" in message


def test_project_rate_source_without_a_project_rate_is_an_error() -> None:
    with pytest.raises(ValidationError, match="has no hourly rate"):
        _lines(
            [_reg(1, rate=dkk("900.00"))], rate_source=RateSource.PROJECT, project=_project(None)
        )


def test_registration_rate_in_another_currency_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        _lines([_reg(1, rate=Money.of("120.00", "EUR"))])
    assert str(caught.value) == ("registration R1 is priced in EUR, project P-7 is invoiced in DKK")


@pytest.mark.parametrize(
    "registration",
    [_reg(1, billable=False), _reg(1, invoice_line_id=99)],
    ids=["unbillable", "invoiced"],
)
def test_unbillable_or_invoiced_registrations_are_refused(registration: TimeRegistration) -> None:
    with pytest.raises(ValidationError, match="registration R1 is not billable or is already"):
        _lines([_reg(2), registration])


def test_no_registrations_no_lines() -> None:
    assert _lines([]) == []


# expense lines --------------------------------------------------------------------------------


def _expense(
    id_: int,
    expense_type: ExpenseType = ExpenseType.EXPENSE,
    *,
    day: date = date(2024, 3, 4),
    price: Money | None = None,
    billable: bool = True,
) -> Expense:
    return Expense(
        id=id_,
        ref=f"E{id_}",
        employee_id=CARL,
        project_id=PROJECT_ID,
        day=day,
        expense_type=expense_type,
        description="Trip",
        quantity=Decimal(120),
        unit="km",
        unit_price=price or dkk("3.79"),
        vat_category=VatCategory.ZERO,
        billable=billable,
    )


@pytest.mark.parametrize(
    ("expense_type", "kind"),
    [
        (ExpenseType.EXPENSE, LineKind.EXPENSE),
        (ExpenseType.TRAVEL, LineKind.TRAVEL),
        (ExpenseType.MILEAGE, LineKind.MILEAGE),
    ],
)
def test_expense_line_kind_follows_the_expense_type(
    expense_type: ExpenseType, kind: LineKind
) -> None:
    (line,) = expense_lines([_expense(5, expense_type)], project=_project())
    assert line.kind is kind
    assert line.description == "Trip (2024-03-04)"
    assert (line.quantity, line.unit, line.unit_price) == (Decimal(120), "km", dkk("3.79"))
    assert line.vat_category is VatCategory.ZERO
    assert (line.project_id, line.employee_id, line.expense_ids) == (PROJECT_ID, CARL, (5,))
    assert line.net_amount == dkk("454.80")


def test_expense_lines_are_one_per_expense_in_date_order() -> None:
    expenses = [
        _expense(3, day=date(2024, 3, 9)),
        _expense(2, day=date(2024, 3, 1)),
        _expense(1, day=date(2024, 3, 9)),
    ]
    lines = expense_lines(expenses, project=_project())
    assert [line.expense_ids for line in lines] == [(2,), (1,), (3,)]


def test_expense_in_another_currency_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        expense_lines([_expense(1, price=Money.of("10.00", "EUR"))], project=_project())
    message = str(caught.value)
    assert "expense E1 (Trip) is in EUR, project P-7 is invoiced in DKK" in message
    assert "enter the re-invoiced amount in DKK" in message


def test_unbillable_expense_is_refused() -> None:
    with pytest.raises(ValidationError, match="expense E1 is not billable"):
        expense_lines([_expense(1, billable=False)], project=_project())
