"""Fortnox's error table: ``{"ErrorInformation": {"error", "message", "code"}}`` → the contract's
error classes, with a hint per known cause (fact sheet §1.4, §2.7).

Fortnox answers in lower-case keys although its OpenAPI schema capitalises them; both are read.
Its errors name no field, so :func:`parse_fortnox_body` infers the field at fault from the code
or from the (Swedish) message where one of them says it, e.g. ``Kan inte hitta artikeln (X)``
→ ``InvoiceRows.ArticleNumber`` with value ``X``.

Codes relied on: Fortnox's errors page and the fact sheet (2000310, 2000311, 2000423, 2000588,
2000637, 2001103, 2001304, 2004167); the locked-period codes come from a third party
(Sharespine's help pages: 2000401 "… har låst perioden t.o.m. …", 2002141 an invoice dated in
a locked period), as the emulator notes; the locked-period rule also matches the wording
("låst"), so a different code for the same refusal still gets its hint. The messages matched
by text are the ones the emulator answers with; where the real wording differs, the code rules
and the generic verdict (:func:`~ledgerlink.connectors._kit.retry.decide`) still classify the
answer.
"""

from __future__ import annotations

import re
from typing import Any

from ledgerlink.connectors._kit.errors import ErrorRule, ErrorTable, ParsedError
from ledgerlink.connectors._kit.oauth import RECONNECT_HINT
from ledgerlink.connectors.contract import AuthExpired, FieldError, Permanent

INVALID_LOGIN = "2000310"
MISSING_TOKEN = "2000311"
LOCKED_PERIOD = "2000401"
LOCKED_PERIOD_INVOICE = "2002141"
ACCOUNT_NOT_FOUND = "2000423"
INVALID_PARAMETER = "2000588"
CUSTOMER_NUMBER_USED = "2000637"
NO_LICENCE = "2001103"
NO_ACCOUNT = "2001304"
EASYVAT_ACCOUNT = "2004167"

ARTICLE_FIELD = "InvoiceRows.ArticleNumber"
ACCOUNT_FIELD = "InvoiceRows.AccountNumber"
#: The field each code is about.
_FIELD_OF_CODE = {
    CUSTOMER_NUMBER_USED: "CustomerNumber",
    ACCOUNT_NOT_FOUND: ACCOUNT_FIELD,
    NO_ACCOUNT: ACCOUNT_FIELD,
    EASYVAT_ACCOUNT: ACCOUNT_FIELD,
}
#: Messages that name the field (and the value) at fault.
_FIELD_OF_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Kundnummer (?P<value>\S+) används", re.IGNORECASE), "CustomerNumber"),
    (re.compile(r"hitta artikeln \((?P<value>[^)]*)\)", re.IGNORECASE), ARTICLE_FIELD),
    (re.compile(r"hitta kunden \((?P<value>[^)]*)\)", re.IGNORECASE), "CustomerNumber"),
    (re.compile(r"hitta valutan \((?P<value>[^)]*)\)", re.IGNORECASE), "Currency"),
    (re.compile(r"hitta projektet \((?P<value>[^)]*)\)", re.IGNORECASE), "Project"),
    (re.compile(r"Projektnummer .*\((?P<value>[^)]*)\)", re.IGNORECASE), "ProjectNumber"),
    (re.compile(r"Ogiltigt land \((?P<value>[^)]*)\)", re.IGNORECASE), "Country"),
    (re.compile(r"Felaktigt fältnamn \((?P<field>[^)]*)\)", re.IGNORECASE), ""),
    (re.compile(r"i fältet (?P<field>\w+)", re.IGNORECASE), ""),
    (re.compile(r"Fältet (?P<field>\w+) måste anges", re.IGNORECASE), ""),
)


def _member(document: dict[str, Any], name: str) -> Any:
    for key, value in document.items():
        if key.lower() == name:
            return value
    return None


def parse_fortnox_body(body: Any) -> ParsedError:
    """Message, code and (inferred) field error of a Fortnox error answer."""
    if not isinstance(body, dict):
        return ParsedError(message=str(body) if body else "")
    information = _member(body, "errorinformation")
    if not isinstance(information, dict):
        return ParsedError(message=str(_member(body, "message") or ""))
    message = str(_member(information, "message") or "")
    raw_code = _member(information, "code")
    code = "" if raw_code is None else str(raw_code)
    path, value = _FIELD_OF_CODE.get(code, ""), ""
    for pattern, field in _FIELD_OF_TEXT:
        found = pattern.search(message)
        if found is not None:
            groups = found.groupdict()
            path = field or groups.get("field") or path
            value = groups.get("value") or ""
            break
    fields = (FieldError(path=path, message=message, code=code, value=value),) if path else ()
    return ParsedError(message=message, code=code, field_errors=fields)


LOCKED_HINT = (
    "The document's date is in a period locked in Fortnox (Inställningar → Bokföring → "
    "Periodlåsning): unlock the period in Fortnox, or credit the document in the PSA and post "
    "it again with a date after the locked period, then transfer again."
)
RECONNECT = (
    "Fortnox no longer accepts this connection's login (the app was removed or the grant "
    "expired); connect the integration again."
)

FORTNOX_ERRORS = ErrorTable(
    erp="Fortnox",
    parse=parse_fortnox_body,
    rules=(
        ErrorRule(status=401, error=AuthExpired, hint=RECONNECT),
        ErrorRule(code=INVALID_LOGIN, error=AuthExpired, hint=RECONNECT),
        ErrorRule(code=MISSING_TOKEN, error=AuthExpired, hint=RECONNECT),
        ErrorRule(
            code=NO_LICENCE,
            error=Permanent,
            hint="The Fortnox company has no API licence (Fortnox Integration); add it in "
            "Fortnox, then transfer again.",
        ),
        ErrorRule(
            status=403,
            error=AuthExpired,
            hint="The connection lacks a Fortnox permission (scope) this needs; connect the "
            f"integration again with the scopes in its settings. {RECONNECT_HINT}",
        ),
        ErrorRule(
            code=CUSTOMER_NUMBER_USED,
            error=Permanent,
            hint="Customer number {value} is already used in Fortnox (numbers stay reserved "
            "after a customer is deleted, so Fortnox cannot take it again): create the "
            "customer in Fortnox under a number Fortnox has not used and link the PSA "
            "customer to it, then transfer again.",
        ),
        ErrorRule(
            code=ACCOUNT_NOT_FOUND,
            error=Permanent,
            hint="Fortnox cannot find an account a row names: a row at a reduced VAT rate "
            "takes its account from the connection's VAT accounts (setting vat_accounts), "
            "the others the article's sales account. Create the account in Fortnox's chart "
            "of accounts, or set vat_accounts to accounts Fortnox has, then transfer again.",
        ),
        ErrorRule(
            code=NO_ACCOUNT,
            error=Permanent,
            hint="A row has no account: give the article a sales account in Fortnox, or use "
            "a product number whose article has one, then transfer again.",
        ),
        ErrorRule(
            code=EASYVAT_ACCOUNT,
            error=Permanent,
            hint="Fortnox's EasyVat needs an account on a row with another VAT rate than its "
            "article's: give that rate a sales account in the connection's VAT accounts "
            "(setting vat_accounts, e.g. 12 → 3002), or turn EasyVat off in Fortnox's "
            "settings, then transfer again.",
        ),
        ErrorRule(
            code=LOCKED_PERIOD,
            error=Permanent,
            hint=LOCKED_HINT,
        ),
        ErrorRule(code=LOCKED_PERIOD_INVOICE, error=Permanent, hint=LOCKED_HINT),
        ErrorRule(text=r"\blåst", status=400, error=Permanent, hint=LOCKED_HINT),
        ErrorRule(
            text=r"räkenskapsår",
            error=Permanent,
            hint="Fortnox has no financial year for the date: create it in Fortnox "
            "(Inställningar → Räkenskapsår), then transfer again.",
        ),
        ErrorRule(
            field=ARTICLE_FIELD,
            error=Permanent,
            missing_product=True,
            hint="Article {value} is not in Fortnox: import product numbers again and choose "
            "one that exists in the product-number principles, or create the article in "
            "Fortnox.",
        ),
        ErrorRule(
            field="CustomerNumber",
            status=400,
            error=Permanent,
            hint="Fortnox has no customer {value}: link the PSA customer to a Fortnox "
            "customer, or let ledgerlink create it (customer master PSA).",
        ),
        ErrorRule(
            field="Project",
            error=Permanent,
            hint="Fortnox has no project {value}: transfer the project first (it is created "
            "with the invoice of its customer), or create it in Fortnox, then transfer again.",
        ),
        ErrorRule(
            field="ProjectNumber",
            error=Permanent,
            hint="Fortnox refuses project number {value} (letters and digits, at most 20): "
            "renumber the project in the PSA, then transfer again.",
        ),
        ErrorRule(
            field="Currency",
            error=Permanent,
            hint="Fortnox does not know currency {value}: add it in Fortnox "
            "(Inställningar → Valutor), then transfer again.",
        ),
        ErrorRule(
            field="Country",
            error=Permanent,
            hint="Fortnox wants the country's Swedish name ({value} is not one): correct the "
            "customer's country in the PSA, then transfer again.",
        ),
        ErrorRule(
            code=INVALID_PARAMETER,
            error=Permanent,
            hint="ledgerlink sent Fortnox a query it does not accept; report this.",
        ),
        ErrorRule(
            status=400,
            error=Permanent,
            hint="Correct the value Fortnox names in the PSA, then transfer again.",
        ),
    ),
)
