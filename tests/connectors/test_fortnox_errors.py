"""Fortnox's error table: its envelope (lower- or upper-case keys), the codes the integration
meets (fact sheet §1.4, §2.7) and what each tells the user to do."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.errors import classify_response
from ledgerlink.connectors.contract import (
    AuthExpired,
    ConnectorError,
    Permanent,
    Transient,
    Uncertain,
)
from ledgerlink.connectors.fortnox.errors import FORTNOX_ERRORS, parse_fortnox_body

pytestmark = pytest.mark.unit


def fortnox(message: str, code: int) -> dict[str, Any]:
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}


def classify(status: int, body: Any, method: str = "POST") -> ConnectorError:
    request = httpx2.Request(method, "https://api.fortnox.se/3/invoices")
    return classify_response(FORTNOX_ERRORS, httpx2.Response(status, json=body, request=request))


def test_the_envelope_is_read_in_either_case() -> None:
    lower = parse_fortnox_body(fortnox("Kan inte hitta kontot.", 2000423))
    upper = parse_fortnox_body(
        {"ErrorInformation": {"Error": 1, "Message": "Kan inte hitta kontot.", "Code": 2000423}}
    )
    assert lower == upper
    assert (lower.message, lower.code) == ("Kan inte hitta kontot.", "2000423")
    assert [f.path for f in lower.field_errors] == ["InvoiceRows.AccountNumber"]


@pytest.mark.parametrize(
    ("status", "message", "code", "kind", "hint_says", "field"),
    [
        (
            400,
            "Kundnummer 4701 används redan. Kundnumret har redan använts men blivit raderat.",
            2000637,
            Permanent,
            "Customer number 4701 is already used",
            "CustomerNumber",
        ),
        (400, "Kan inte hitta kontot.", 2000423, Permanent, "chart of accounts", ""),
        (400, "Kunde inte hitta konto", 2001304, Permanent, "sales account", ""),
        (
            400,
            "An account must be provided when using a custom VAT rate and EasyVat has been "
            "enabled.",
            2004167,
            Permanent,
            "EasyVat",
            "InvoiceRows.AccountNumber",
        ),
        (
            400,
            "Perioden är låst t.o.m. 2026-01-31. Lås upp perioden för att fortsätta.",
            2000401,
            Permanent,
            "locked period",
            "",
        ),
        (401, "Ogiltig inloggning", 2000310, AuthExpired, "connect the integration again", ""),
        (
            401,
            "Kan inte logga in, access-token eller client-secret saknas(2).",
            2000311,
            AuthExpired,
            "connect the integration again",
            "",
        ),
        (403, "Saknar behörighet", 9000403, AuthExpired, "scope", ""),
        (400, "Kan inte hitta artikeln (NOPE).", 9000014, Permanent, "Article NOPE", ""),
        (400, "Ogiltigt land (Denmark).", 9000002, Permanent, "Swedish name", "Country"),
        (400, "Det finns inget räkenskapsår för datumet 2031-01-01.", 9000010, Permanent,
         "financial year", ""),
    ],
)  # fmt: skip
def test_codes_become_what_the_user_must_do(  # noqa: PLR0917 (one per table column)
    status: int, message: str, code: int, kind: type[ConnectorError], hint_says: str, field: str
) -> None:
    error = classify(status, fortnox(message, code))
    assert type(error) is kind
    assert hint_says.lower() in error.hint.lower()
    # the ERP's own words, whole (after the field they are about, where one is known)
    assert error.erp_text.endswith(message)
    assert error.status == status
    if field:
        assert field in [f.path for f in error.field_errors]


def test_an_unknown_article_names_the_row_field_and_its_value() -> None:
    error = classify(400, fortnox("Kan inte hitta artikeln (NO-SUCH-PRODUCT).", 9000014))
    assert [(f.path, f.value) for f in error.field_errors] == [
        ("InvoiceRows.ArticleNumber", "NO-SUCH-PRODUCT")
    ]


def test_an_unknown_field_name_is_named() -> None:
    error = classify(400, fortnox("Felaktigt fältnamn (Foo)", 2001399))
    assert isinstance(error, Permanent)
    assert [f.path for f in error.field_errors] == ["Foo"]


def test_rate_limit_and_server_errors_follow_the_generic_verdict() -> None:
    assert isinstance(classify(429, fortnox("Too many requests", 9000429), "GET"), Transient)
    assert isinstance(classify(500, fortnox("Systemfel", 1000003), "GET"), Transient)
    # a create that met a 5xx may have been done: look the correlation up first
    assert isinstance(classify(503, fortnox("Systemfel", 1000003), "POST"), Uncertain)


def test_a_body_that_is_not_fortnox_json_keeps_its_text() -> None:
    request = httpx2.Request("GET", "https://api.fortnox.se/3/me")
    error = classify_response(
        FORTNOX_ERRORS, httpx2.Response(502, text="Bad gateway", request=request)
    )
    assert isinstance(error, Transient)
    assert error.erp_text == "Bad gateway"
