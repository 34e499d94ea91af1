"""Billable work: projects, time registrations and expenses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import Money
from ledgerlink.domain.work import (
    MAX_MINUTES_PER_REGISTRATION,
    Expense,
    ExpenseType,
    Project,
    TimeRegistration,
)

# projects -------------------------------------------------------------------------------------


def _project(**changes: Any) -> Project:
    fields: dict[str, Any] = {
        "legal_entity_id": 1,
        "number": " P-100 ",
        "name": " Website ",
        "customer_id": 1,
        "currency": "dkk",
    }
    return Project(**(fields | changes))


def test_project_is_normalised() -> None:
    project = _project(hourly_rate=Money.of("950", "DKK"))
    assert (project.number, project.name, project.currency) == ("P-100", "Website", "DKK")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": " "}, "project number is required"),
        ({"number": "P" * 31}, "project number is longer than 30 characters"),
        ({"name": ""}, "project name is required"),
        ({"currency": "DKR"}, "'DKR' is not an ISO 4217 currency code"),
        (
            {"hourly_rate": Money.of("100", "EUR")},
            "project P-100: hourly rate is in EUR, the project is in DKK",
        ),
        (
            {"hourly_rate": Money.of("-1000", "DKK")},
            "project P-100: hourly rate must not be negative",
        ),
    ],
)
def test_project_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _project(**changes)


# time registrations ---------------------------------------------------------------------------


def _registration(**changes: Any) -> TimeRegistration:
    fields: dict[str, Any] = {
        "employee_id": 1,
        "project_id": 1,
        "day": date(2024, 3, 4),
        "minutes": 90,
    }
    return TimeRegistration(**(fields | changes))


@pytest.mark.parametrize("minutes", [1, 90, MAX_MINUTES_PER_REGISTRATION])
def test_registration_minutes_within_bounds(minutes: int) -> None:
    assert _registration(minutes=minutes).minutes == minutes


@pytest.mark.parametrize("minutes", [0, -30, MAX_MINUTES_PER_REGISTRATION + 1])
def test_registration_minutes_out_of_bounds(minutes: int) -> None:
    with pytest.raises(ValidationError) as caught:
        _registration(minutes=minutes)
    assert str(caught.value) == f"minutes must be between 1 and 1440 (got {minutes})"


def test_registration_texts_and_invoiced_flag() -> None:
    registration = _registration(ref=" R-1 ", task=" Design ", comment=" ok ")
    assert (registration.ref, registration.task, registration.comment) == ("R-1", "Design", "ok")
    assert not registration.invoiced
    assert _registration(invoice_line_id=5).invoiced


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ref": "  "}, "registration ref is required"),
        ({"ref": "r" * 65}, "registration ref is longer than 64 characters"),
        ({"task": "t" * 101}, "task is longer than 100 characters"),
        ({"hourly_rate": Money.of("-1000", "DKK")}, "hourly rate must not be negative"),
        ({"day": date(1, 1, 1)}, "date 0001-01-01 is not between 2000-01-01 and 2099-12-31"),
        ({"day": date(2100, 1, 1)}, "date 2100-01-01 is not between"),
        ({"comment": "a\x00b"}, "comment holds the control character U\\+0000"),
    ],
)
def test_registration_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _registration(**changes)


# expenses -------------------------------------------------------------------------------------


def _expense(quantity: str = "1", price: str = "450.00", currency: str = "DKK") -> Expense:
    return Expense(
        employee_id=1,
        project_id=1,
        day=date(2024, 3, 4),
        description="Taxi",
        quantity=Decimal(quantity),
        unit_price=Money.of(price, currency),
    )


@pytest.mark.parametrize(
    ("quantity", "price", "currency", "amount"),
    [
        ("1", "450.00", "DKK", "450.00"),
        ("120", "3.79", "DKK", "454.80"),
        ("0.5", "0.05", "DKK", "0.03"),  # 0.025 rounds half up
        ("1.5", "0.01", "DKK", "0.02"),  # 0.015 rounds half up
        ("0.333", "1.00", "DKK", "0.33"),
        ("0.335", "1.00", "EUR", "0.34"),
        ("2.5", "101", "JPY", "253"),
        ("0.5", "0.001", "KWD", "0.001"),
    ],
)
def test_expense_amount_is_rounded_half_up(
    quantity: str, price: str, currency: str, amount: str
) -> None:
    assert _expense(quantity, price, currency).amount == Money.of(amount, currency)


def test_expense_defaults() -> None:
    expense = _expense()
    assert expense.expense_type is ExpenseType.EXPENSE
    assert expense.unit == "pcs"
    assert not expense.invoiced


@pytest.mark.parametrize(
    ("quantity", "price", "message"),
    [
        ("0", "1.00", r"expense quantity must be positive \(got 0\)"),
        ("-1", "1.00", r"expense quantity must be positive \(got -1\)"),
        ("1", "-1.00", "expense unit price must not be negative"),
    ],
)
def test_expense_validation(quantity: str, price: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _expense(quantity, price)


def test_expense_requires_description_and_unit() -> None:
    base: dict[str, Any] = {
        "employee_id": 1,
        "project_id": 1,
        "day": date(2024, 3, 4),
        "description": "Taxi",
        "unit_price": Money.of("1", "DKK"),
    }
    with pytest.raises(ValidationError, match="expense description is required"):
        Expense(**(base | {"description": " "}))
    with pytest.raises(ValidationError, match="expense unit is required"):
        Expense(**(base | {"unit": ""}))


def test_expense_day_is_in_range() -> None:
    with pytest.raises(ValidationError, match="date 1999-12-31 is not between"):
        Expense(
            employee_id=1,
            project_id=1,
            day=date(1999, 12, 31),
            description="Taxi",
            unit_price=Money.of("1", "DKK"),
        )


def test_a_zero_hourly_rate_is_free_work() -> None:
    assert _registration(hourly_rate=Money.of("0", "DKK")).hourly_rate == Money.of("0", "DKK")
