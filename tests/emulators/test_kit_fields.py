"""Declarative field validation: one problem per failing field, in spec order, with the rule
it broke, where, and the value, for an ERP package to word in its own envelope."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.emulators._kit.fields import (
    MISSING,
    Field,
    Kind,
    Problem,
    Rule,
    check,
    check_field,
    unknown,
)

CUSTOMER = (
    Field("CustomerNumber", read_only=True),
    Field("Name", required=True, max_length=10),
    Field("Email", pattern=r"[^@\s]+@[^@\s]+"),
    Field("Currency", enum=("SEK", "EUR"), required=True),
    Field("CreditLimit", Kind.NUMBER, minimum=0, max_scale=2),
    Field("Terms", Kind.INTEGER, minimum=0, maximum=90),
    Field("Active", Kind.BOOLEAN),
    Field("Since", Kind.DATE),
    Field("Address", Kind.OBJECT),
    Field("Tags", Kind.ARRAY, max_length=2),
    Field("Note", nullable=True, min_length=2),
)


def rules(body: dict[str, Any]) -> dict[str, Rule]:
    return {p.field.name: p.rule for p in check(body, CUSTOMER)}


def test_a_valid_body_has_no_problems() -> None:
    body = {
        "Name": "Kund AB",
        "Email": "a@b.se",
        "Currency": "SEK",
        "CreditLimit": Decimal("1000.50"),
        "Terms": 30,
        "Active": True,
        "Since": "2026-03-01",
        "Address": {"City": "Malmö"},
        "Tags": ["a", "b"],
        "Note": None,
    }
    assert check(body, CUSTOMER) == []


def test_each_rule_is_named_with_its_field() -> None:
    assert rules({}) == {"Name": Rule.REQUIRED, "Currency": Rule.REQUIRED}
    body = {
        "CustomerNumber": "1001",
        "Name": "A much too long name",
        "Email": "not an address",
        "Currency": "DKK",
        "CreditLimit": Decimal("10.005"),
        "Terms": 120,
        "Active": "yes",
        "Since": "2026-02-30",
        "Address": "Storgatan 1",
        "Tags": ["a", "b", "c"],
        "Note": "x",
    }
    assert rules(body) == {
        "CustomerNumber": Rule.READ_ONLY,
        "Name": Rule.MAX_LENGTH,
        "Email": Rule.PATTERN,
        "Currency": Rule.ENUM,
        "CreditLimit": Rule.SCALE,
        "Terms": Rule.RANGE,
        "Active": Rule.KIND,
        "Since": Rule.KIND,
        "Address": Rule.KIND,
        "Tags": Rule.MAX_LENGTH,
        "Note": Rule.MIN_LENGTH,
    }
    assert rules({"Name": "A", "Currency": "SEK", "CreditLimit": -1})["CreditLimit"] is Rule.RANGE


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (Kind.STRING, "x", 1),
        (Kind.INTEGER, 3, True),
        (Kind.INTEGER, -3, Decimal("1.5")),
        (Kind.NUMBER, Decimal("1.5"), "1.5"),
        (Kind.NUMBER, 2, False),
        (Kind.BOOLEAN, False, 0),
        (Kind.DATE, "2026-03-01", "20260301"),
        (Kind.OBJECT, {}, []),
        (Kind.ARRAY, [], {}),
    ],
)
def test_kinds(kind: Kind, good: object, bad: object) -> None:
    spec = Field("f", kind)
    assert check_field({"f": good}, spec) is None
    problem = check_field({"f": bad}, spec)
    assert problem is not None and problem.rule is Rule.KIND and problem.value == bad


def test_null_is_of_no_kind_unless_the_field_is_nullable() -> None:
    assert check_field({"f": None}, Field("f")) == Problem(Field("f"), Rule.KIND, ("f",), None)
    assert check_field({"f": None}, Field("f", nullable=True, required=True)) is None
    missing = check_field({}, Field("f", required=True))
    assert missing is not None and missing.value is MISSING


def test_problems_carry_the_path_into_nested_documents_and_a_default_text() -> None:
    line = (Field("Quantity", Kind.NUMBER, required=True, max_scale=2),)
    problems = check({"Quantity": Decimal("1.234")}, line, path=("Rows", 3))
    assert [(p.path, p.rule) for p in problems] == [(("Rows", 3, "Quantity"), Rule.SCALE)]
    assert problems[0].message == "Quantity may have at most 2 decimals."
    texts = {p.field.name: p.message for p in check({"Terms": 91, "Currency": "X"}, CUSTOMER)}
    assert texts == {
        "Name": "Name is required.",
        "Currency": "Currency must be one of SEK, EUR.",
        "Terms": "Terms must be between 0 and 90.",
    }


def test_unknown_properties_are_listed() -> None:
    assert unknown({"Name": "x", "Colour": "red", "Age": 3}, CUSTOMER) == ["Age", "Colour"]
    assert unknown({"Name": "x"}, CUSTOMER) == []
