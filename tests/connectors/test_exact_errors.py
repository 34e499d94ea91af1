"""Exact Online's error table: its OData error envelope, the causes the integration meets
(fact sheet §1.4, §2.6, §2.7) and what each tells the user to do."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.errors import classify_response
from ledgerlink.connectors._kit.oauth import token_error
from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    Permanent,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.exact.errors import EXACT_ERRORS, parse_exact_body

pytestmark = pytest.mark.unit

URL = "https://start.exactonline.nl/api/v1/614223/salesinvoice/SalesInvoices"


def exact(message: str) -> dict[str, Any]:
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def classify(
    status: int, body: Any, method: str = "POST", headers: dict[str, str] | None = None
) -> ConnectorError:
    request = httpx2.Request(method, URL)
    response = httpx2.Response(status, json=body, request=request, headers=headers)
    return classify_response(EXACT_ERRORS, response)


def test_the_envelope_gives_the_text_and_the_field_it_names() -> None:
    parsed = parse_exact_body(exact("Mandatory: OrderedBy"))
    assert parsed.message == "Mandatory: OrderedBy"
    assert [(f.path, f.value) for f in parsed.field_errors] == [("OrderedBy", "")]
    plain = parse_exact_body(exact("Something went wrong."))
    assert (plain.message, plain.field_errors) == ("Something went wrong.", ())
    oauth = parse_exact_body(
        {"error": "invalid_grant", "error_description": "Old refresh token used"}
    )
    assert oauth.message == "invalid_grant: Old refresh token used"
    assert parse_exact_body("<html>Bad gateway</html>").message == "<html>Bad gateway</html>"


@pytest.mark.parametrize(
    ("message", "kind", "hint_says", "field", "value"),
    [
        (
            "VAT number NL999999999B99 is not valid according to the VAT number check.",
            Permanent,
            "VAT number",
            "VATNumber",
            "NL999999999B99",
        ),
        (
            "Code: only numeric values are allowed (C-2002).",
            Permanent,
            "numeric customer number",
            "Code",
            "C-2002",
        ),
        ("Code 4701 already exists.", Permanent, "link the PSA customer", "Code", "4701"),
        (
            "Journal 71 does not allow variable currencies: currency USD is not allowed.",
            Permanent,
            "variable currency",
            "Currency",
            "71",
        ),
        (
            "Item LICENSE is not divisible: the quantity 1.5 must be a whole number.",
            Permanent,
            "divisible",
            "SalesInvoiceLines.Quantity",
            "LICENSE",
        ),
        ("Currency XYZ does not exist.", Permanent, "activate it", "Currency", "XYZ"),
        (
            "Cost center P-999 does not exist.",
            Permanent,
            "cost centre P-999",
            "SalesInvoiceLines.CostCenter",
            "P-999",
        ),
        (
            "The financial period 2026/3 is closed: entries are not allowed.",
            Permanent,
            "closed period",
            "OrderDate",
            "2026/3",
        ),
        ("Journal 60 is not a sales journal.", Permanent, "sales_journal", "Journal", "60"),
        ("Mandatory: OrderedBy", Permanent, "customer", "OrderedBy", ""),
        ("Something else is wrong.", Permanent, "Correct the value", "", ""),
    ],
)
def test_each_refusal_is_permanent_with_what_to_fix(
    message: str, kind: type[ConnectorError], hint_says: str, field: str, value: str
) -> None:
    error = classify(400, exact(message))
    assert type(error) is kind
    assert hint_says in error.hint
    assert error.erp_text == (f"{field}: {message}" if field else message)
    assert [(f.path, f.value) for f in error.field_errors] == ([(field, value)] if field else [])
    assert error.status == 400


def test_an_unknown_item_names_the_missing_product() -> None:
    error = classify(400, exact("Item 7c2d… does not exist."))
    assert isinstance(error, Permanent)
    assert error.missing_products == ("7c2d…",)


def test_a_refused_login_sends_the_user_to_connect_again() -> None:
    error = classify(401, exact("Unauthorized"), method="GET")
    assert isinstance(error, AuthExpired)
    assert "connect the integration again" in error.hint
    reused = classify(
        400, {"error": "invalid_grant", "error_description": "Old refresh token used"}
    )
    assert isinstance(reused, AuthExpired)
    assert "single-use refresh token" in reused.hint


def test_the_token_endpoint_old_refresh_token_is_auth_expired_and_too_early_a_wait() -> None:
    old = token_error(
        "Exact Online",
        400,
        {"error": "invalid_grant", "error_description": "Old refresh token used"},
    )
    assert isinstance(old, AuthExpired)
    assert "connect the integration again" in old.hint
    early = token_error(
        "Exact Online",
        400,
        {
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        },
    )
    assert isinstance(early, Transient)


def test_a_division_the_user_cannot_open_is_permanent() -> None:
    error = classify(403, exact("Forbidden: you have no access to this division."), method="GET")
    assert isinstance(error, Permanent)
    assert "division" in error.hint


def test_a_429_waits_until_the_exhausted_windows_reset() -> None:
    reset = int((time.time() + 42) * 1000)
    headers = {
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(reset),
    }
    error = classify(429, exact("API rate limit exceeded."), method="GET", headers=headers)
    assert isinstance(error, Transient)
    assert error.retry_after is not None and 40 < error.retry_after <= 42
    with_header = classify(429, exact("API rate limit exceeded."), headers={"Retry-After": "3"})
    assert isinstance(with_header, Transient) and with_header.retry_after == 3


def test_the_error_budget_block_is_a_wait_with_its_reason() -> None:
    text = "API rate limit exceeded: too many errors on this endpoint; try again in an hour."
    error = classify(429, exact(text), method="GET")
    assert isinstance(error, Transient)
    assert "10 refused requests" in error.hint


def test_server_errors_on_writes_are_uncertain_and_on_reads_transient() -> None:
    assert isinstance(classify(503, exact("Service unavailable")), Uncertain)
    assert isinstance(classify(503, exact("Service unavailable"), method="GET"), Transient)


def test_a_query_exact_does_not_accept_is_ledgerlinks_fault() -> None:
    text = "Please add a $select or a $top=1 statement to the query string."
    error = classify(400, exact(text), method="GET")
    assert isinstance(error, Permanent)
    assert "report this" in error.hint
