"""The error table: generic matching, and e-conomic's annotated errors and hints."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.errors import (
    ErrorRule,
    ErrorTable,
    ParsedError,
    classify_response,
    line_of,
)
from ledgerlink.connectors.contract import (
    AuthExpired,
    FieldError,
    Permanent,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.economic.errors import ECONOMIC_ERRORS, parse_economic_body

DOCS_EXAMPLE: dict[str, Any] = {
    "message": "Validation error.",
    "developerHint": "Inspect validation errors and correct your request.",
    "httpStatusCode": 400,
    "errors": {
        "currency": {
            "errors": [
                {"errorCode": "E06000", "message": "currency does not exist.", "value": "ZUL"}
            ]
        },
        "lines": [
            {
                "arrayIndex": 0,
                "unitNetPrice": {
                    "errors": [
                        {
                            "errorCode": "E04740",
                            "message": "unitNetPrice scale cannot be greater then two decimal "
                            "places.",
                            "value": 10.12345,
                        }
                    ]
                },
            },
            {
                "arrayIndex": 2,
                "product": {
                    "errors": [{"errorCode": "E06000", "message": "product does not exist."}]
                },
            },
        ],
        "recipient": {"vatZone": {"errors": [{"errorCode": "E06000", "message": "no zone"}]}},
    },
}


def response(
    status: int, body: Any, method: str = "POST", headers: dict[str, str] | None = None
) -> httpx2.Response:
    request = httpx2.Request(method, "https://restapi.e-conomic.com/invoices/drafts")
    return httpx2.Response(status, json=body, request=request, headers=headers)


def single(path: str, code: str, message: str) -> dict[str, Any]:
    node: dict[str, Any] = {"errors": [{"errorCode": code, "message": message}]}
    if path.startswith("lines["):
        index = int(path[6 : path.index("]")])
        field = path.split(".", 1)[1]
        return {
            "message": "Validation error.",
            "errors": {"lines": [{"arrayIndex": index, field: node}]},
        }
    return {"message": "Validation error.", "errors": {path: node}}


def test_annotated_body_flattens_to_field_paths() -> None:
    parsed = parse_economic_body(DOCS_EXAMPLE)
    assert parsed.message == "Validation error."
    assert parsed.field_errors == (
        FieldError("currency", "currency does not exist.", "E06000", "ZUL"),
        FieldError(
            "lines[0].unitNetPrice",
            "unitNetPrice scale cannot be greater then two decimal places.",
            "E04740",
            "10.12345",
        ),
        FieldError("lines[2].product", "product does not exist.", "E06000", ""),
        FieldError("recipient.vatZone", "no zone", "E06000", ""),
    )


@pytest.mark.parametrize(
    ("path", "code", "message", "hint"),
    [
        ("currency", "E06000", "currency does not exist.", "Create the currency in e-conomic"),
        ("lines[2].product", "E06000", "product does not exist.", "Import product numbers again"),
        ("lines[0].unitNetPrice", "E04740", "scale", "at most two decimals"),
        (
            "lines[1].product",
            "E04500",
            "No identifiers present on product.",
            "Line 2 has no product",
        ),
        ("quantity", "E04730", "Property quantity must have a value", "needs a quantity"),
        ("customer", "E06000", "customer does not exist.", "link the customer again"),
    ],
)
def test_validation_errors_are_permanent_with_hint_and_erp_text(
    path: str, code: str, message: str, hint: str
) -> None:
    error = classify_response(ECONOMIC_ERRORS, response(400, single(path, code, message)))
    assert isinstance(error, Permanent)
    assert hint in error.hint
    assert error.field_errors[0].path == path
    assert error.field_errors[0].code == code
    assert f"{path}: {message}" in error.erp_text
    assert message in str(error)
    assert "\n" not in error.message


def test_product_hint_names_the_line_one_based() -> None:
    error = classify_response(
        ECONOMIC_ERRORS, response(400, single("lines[2].product", "E06000", "gone"))
    )
    assert error.hint.startswith("Line 3:")


def test_401_is_auth_expired_reconnect() -> None:
    body = {"message": "The agreement has revoked the grant for this app."}
    error = classify_response(ECONOMIC_ERRORS, response(401, body, "GET"))
    assert isinstance(error, AuthExpired)
    assert error.hint.startswith("Reconnect: the grant was revoked")
    assert "revoked the grant" in error.erp_text


def test_403_is_permanent_use_a_superuser_app() -> None:
    body = {"message": "The app role Bookkeeping does not give access to this resource."}
    error = classify_response(ECONOMIC_ERRORS, response(403, body, "GET"))
    assert isinstance(error, Permanent)
    assert "SuperUser" in error.hint


def test_429_is_transient_with_retry_after() -> None:
    body = {"message": "Fair use exceeded"}
    error = classify_response(ECONOMIC_ERRORS, response(429, body, "POST", {"Retry-After": "120"}))
    assert isinstance(error, Transient)
    assert error.retry_after == 120.0
    assert "50 000" in error.hint


def test_closed_accounting_year_has_a_hint() -> None:
    body = single("date", "E07010", "The accounting year for 2019-03-01 is closed.")
    error = classify_response(ECONOMIC_ERRORS, response(400, body))
    assert isinstance(error, Permanent)
    assert "accounting year" in error.hint
    assert "closed" in error.erp_text


def test_unknown_500_on_post_falls_back_to_the_generic_verdict() -> None:
    error = classify_response(ECONOMIC_ERRORS, response(500, {"message": "Oops"}))
    assert isinstance(error, Uncertain)
    assert "Oops" in error.erp_text


def test_non_json_body_keeps_the_text() -> None:
    request = httpx2.Request("GET", "https://x/y")
    error = classify_response(
        ECONOMIC_ERRORS, httpx2.Response(502, text="Bad gateway", request=request)
    )
    assert isinstance(error, Transient)
    assert error.erp_text == "Bad gateway"


def test_generic_table_rule_order_and_patterns() -> None:
    table = ErrorTable(
        erp="x",
        rules=(
            ErrorRule(
                status=400, code="A1", field="rows[*].item", error=Uncertain, hint="at {line}"
            ),
            ErrorRule(status=400, text="locked", error=Permanent, hint="period: {erp_text}"),
        ),
        parse=lambda body: ParsedError(
            message=body["message"],
            field_errors=tuple(FieldError(p, m, c) for p, m, c in body["fields"]),
        ),
    )
    hit = classify_response(
        table, response(400, {"message": "bad", "fields": [["rows[4].item", "no", "A1"]]})
    )
    assert isinstance(hit, Uncertain)
    assert hit.hint == "at 5"
    locked = classify_response(table, response(400, {"message": "Period locked", "fields": []}))
    assert isinstance(locked, Permanent)
    assert locked.hint == "period: Period locked"
    assert line_of("total") == ""


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("lines[*].product", "lines[12].product", True),
        ("lines[*].product", "lines[0].product.productNumber", False),
        ("lines[*].product", "lines[x].product", False),
        ("project*", "project.projectNumber", True),
        ("currency", "currency", True),
        ("currency", "recipient.currency", False),
    ],
)
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    from ledgerlink.connectors._kit.errors import path_matches

    assert path_matches(pattern, path) is matches


def test_unknown_products_are_named_once_from_the_values_e_conomic_returns() -> None:
    unknown = {"errors": [{"errorCode": "E06000", "message": "product does not exist.",
                           "value": "WORK-DEV"}]}  # fmt: skip
    unit = {"errors": [{"errorCode": "E06000", "message": "unit does not exist.", "value": "9"}]}
    body = {
        "message": "Validation error.",
        "errors": {
            "lines": [
                {"arrayIndex": 0, "product": unknown, "unit": unit},
                {"arrayIndex": 1, "product": unknown},
            ]
        },
    }
    error = classify_response(ECONOMIC_ERRORS, response(400, body))
    assert isinstance(error, Permanent)
    assert error.missing_products == ("WORK-DEV",)  # not the unit's 9, and once
    currency = single("currency", "E06000", "currency does not exist.")
    assert classify_response(ECONOMIC_ERRORS, response(400, currency)).missing_products == ()
