"""The kit's OData ``$filter`` parser: operators, precedence, functions, typed literals and
the errors an ERP package words in its envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from ledgerlink.emulators._kit.odatafilter import FilterError, parse_filter

KEY = uuid.UUID("12345678-1234-1234-1234-123456789012")
RECORD = {
    "Code": "      1001",
    "ID": KEY,
    "N": 5,
    "Amount": Decimal("12.50"),
    "When": datetime.fromisoformat("2026-03-01T08:00"),
    "Name": "O'Brien",
    "Empty": None,
}


def _resolve(record: dict[str, Any], name: str) -> Any:
    if name not in record:
        raise FilterError(f"No property '{name}'")
    return record[name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("trim(Code) eq '1001'", True),
        ("Code eq '1001'", False),
        (f"ID eq guid'{KEY}'", True),
        ("When ge datetime'2026-03-01T00:00:00' and When lt datetime'2026-03-02'", True),
        ("N eq 5L", True),
        ("Amount gt 12.4M and Amount le 12.5", True),
        ("Name eq 'O''Brien'", True),
        ("N eq 1 or N eq 5 and Name eq 'x'", False),  # and binds tighter than or
        ("(N eq 1 or N eq 5) and not (Name eq 'x')", True),
        ("substringof('100', Code) and startswith(trim(Code), '10')", True),
        ("endswith(tolower(Name), 'brien') and length(Name) eq 7", True),
        ("Empty eq null and Empty gt 1", False),
        ("Empty ne null", False),
    ],
)
def test_filters_evaluate(text: str, expected: bool) -> None:
    assert parse_filter(text, _resolve)(RECORD) is expected


@pytest.mark.parametrize(
    "text", ["N eq", "N eq 5)", "(N eq 5", "frob(Name)", "ID eq guid'nope'", "N eq 5 5", "N ~ 5"]
)
def test_bad_filters_are_refused_when_parsed(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(text, _resolve)


def test_unknown_fields_and_mixed_types_are_refused_when_evaluated() -> None:
    for text in ("Missing eq 1", "Name gt 5", "trim(N) eq '5'"):
        with pytest.raises(FilterError):
            parse_filter(text, _resolve)(RECORD)
