"""Exact Online's error table: ``{"error": {"code": "", "message": {"lang": "", "value": …}}}``
→ the contract's error classes, with a hint per known cause (fact sheet §1.4, §2.6, §2.7).

Exact's error bodies carry no code and name no field, and Exact words its messages in the
user's language; :func:`parse_exact_body` infers the field at fault from the (English) text
where it names one. The texts matched below for the known causes (VAT-number check, numeric
code, variable currency, divisible items, closed period) are the emulator's: the fact sheet
names the causes but no public source quotes Exact's words. Where the real wording differs,
the status rules and the generic verdict (:func:`~ledgerlink.connectors._kit.retry.decide`)
still classify the answer; only the hint is then the generic one.

Relied on: "Old refresh token used" (picqer#300) and "Please add a $select or a $top=1
statement" (picqer#62, #315) are quoted verbatim by Exact's client libraries.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx2

from ledgerlink.connectors._kit.errors import ErrorRule, ErrorTable, ParsedError
from ledgerlink.connectors._kit.http import server_pause
from ledgerlink.connectors.contract import AuthExpired, FieldError, Permanent, Transient

ITEM_FIELD = "SalesInvoiceLines.Item"
#: Messages that name the field (and the value) at fault.
_FIELD_OF_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"VAT number (?P<value>.+?) is not valid", re.IGNORECASE), "VATNumber"),
    (re.compile(r"^Code: only numeric values are allowed \((?P<value>[^)]*)\)"), "Code"),
    (re.compile(r"^Code (?P<value>\S+) already exists"), "Code"),
    (re.compile(r"^Journal (?P<value>\S+) does not allow variable currenc"), "Currency"),
    (re.compile(r"^Journal (?P<value>\S+) is not a sales journal"), "Journal"),
    (re.compile(r"^Item (?P<value>\S+) is not divisible"), "SalesInvoiceLines.Quantity"),
    (re.compile(r"^Item (?P<value>\S+) does not exist"), ITEM_FIELD),
    (re.compile(r"^Currency (?P<value>\S+) does not exist"), "Currency"),
    (re.compile(r"^Cost center (?P<value>\S+) does not exist"), "SalesInvoiceLines.CostCenter"),
    (re.compile(r"^VAT code (?P<value>\S+) does not exist"), "SalesInvoiceLines.VATCode"),
    (re.compile(r"^OrderedBy: account (?P<value>\S+) does not exist"), "OrderedBy"),
    (re.compile(r"financial period (?P<value>\S+) is closed", re.IGNORECASE), "OrderDate"),
    (re.compile(r"^Mandatory: (?P<field>\w+)"), ""),
    (re.compile(r"^The property '(?P<field>\w+)' does not exist"), ""),
    (re.compile(r"^(?P<field>\w+) is read-only"), ""),
    (re.compile(r"^(?P<field>\w+): the text is longer"), ""),
    (re.compile(r"converting value for property '(?P<field>\w+)'"), ""),
)


def parse_exact_body(body: Any) -> ParsedError:
    """Message and (inferred) field error of an Exact error answer; also reads the OAuth
    shape ``{"error", "error_description"}``."""
    if not isinstance(body, dict):
        return ParsedError(message=str(body) if body else "")
    error = body.get("error")
    if isinstance(error, dict):
        message_part = error.get("message")
        if isinstance(message_part, dict):
            message = str(message_part.get("value") or "")
        else:
            message = str(message_part or "")
        code = str(error.get("code") or "")
    else:
        message = ": ".join(str(p) for p in (error, body.get("error_description")) if p)
        code = ""
    for pattern, field in _FIELD_OF_TEXT:
        found = pattern.search(message)
        if found is not None:
            groups = found.groupdict()
            path = field or groups.get("field") or ""
            value = groups.get("value") or ""
            return ParsedError(
                message=message,
                code=code,
                field_errors=(FieldError(path=path, message=message, code=code, value=value),),
            )
    return ParsedError(message=message, code=code)


def server_wait(response: httpx2.Response) -> float | None:
    """Exact's 429 names no ``Retry-After``: the wait is until the ``-Reset`` (epoch ms) of
    the exhausted window, minutely or daily (§2.6)."""
    return server_pause(response.status_code, response.headers, now=time.time())


RECONNECT = (
    "Exact Online no longer accepts this connection's login (the grant was withdrawn, has "
    "been idle for 30 days, or its single-use refresh token was used twice); connect the "
    "integration again."
)

EXACT_ERRORS = ErrorTable(
    erp="Exact Online",
    parse=parse_exact_body,
    server_wait=server_wait,
    rules=(
        ErrorRule(text=r"Old refresh token used", error=AuthExpired, hint=RECONNECT),
        ErrorRule(status=401, error=AuthExpired, hint=RECONNECT),
        ErrorRule(
            status=403,
            error=Permanent,
            hint="The Exact user who connected may not open this division (or lacks the "
            "rights this needs): give them access in Exact, or connect again choosing a "
            "division they can open.",
        ),
        ErrorRule(
            status=429,
            text=r"too many errors",
            error=Transient,
            hint="Exact blocks an endpoint for an hour after more than 10 refused requests "
            "in an hour; transfers resume by themselves after the block. Fix the refused "
            "documents first.",
        ),
        ErrorRule(
            field="VATNumber",
            error=Permanent,
            hint="Exact's VAT-number check (Chamber of Commerce / VIES) refused {value}: "
            "correct the customer's VAT number in the PSA, or remove it, then transfer again.",
        ),
        ErrorRule(
            field="Code",
            text=r"numeric",
            error=Permanent,
            hint="Exact takes numeric customer codes only: give the customer a numeric "
            "customer number in the PSA, then transfer again.",
        ),
        ErrorRule(
            field="Code",
            text=r"already exists",
            error=Permanent,
            hint="Customer code {value} is already used in Exact: link the PSA customer to "
            "that Exact account (customer master ERP), or give it a number Exact has not "
            "used, then transfer again.",
        ),
        ErrorRule(
            field="Currency",
            text=r"variable currenc",
            error=Permanent,
            hint="Sales journal {value} in Exact does not allow variable currencies, so it "
            "refuses foreign-currency invoices: turn on 'variable currency' for the journal in "
            "Exact (or choose a sales journal that has it in the connection's settings), then "
            "transfer again.",
        ),
        ErrorRule(
            field="Currency",
            error=Permanent,
            hint="Exact does not know currency {value}: activate it in Exact (Currencies), "
            "then transfer again.",
        ),
        ErrorRule(
            field="Journal",
            error=Permanent,
            hint="Journal {value} is not a sales journal in Exact: choose the sales journal "
            "in the connection's settings (sales_journal).",
        ),
        ErrorRule(
            field="SalesInvoiceLines.Quantity",
            error=Permanent,
            hint="Item {value} is not divisible in Exact, so it refuses decimal quantities: "
            "make the item divisible in Exact, or bill whole quantities, then transfer again.",
        ),
        ErrorRule(
            field=ITEM_FIELD,
            error=Permanent,
            missing_product=True,
            hint="Exact has no item {value}: import product numbers again and choose one "
            "that exists, or create the item in Exact.",
        ),
        ErrorRule(
            field="SalesInvoiceLines.CostCenter",
            error=Permanent,
            hint="Exact has no cost centre {value} (the PSA project number): create it in "
            "Exact (Cost centres), then transfer again.",
        ),
        ErrorRule(
            field="SalesInvoiceLines.VATCode",
            error=Permanent,
            hint="Exact has no VAT code {value}: correct the connection's vat_codes setting "
            "or create the code in Exact.",
        ),
        ErrorRule(
            field="OrderedBy",
            error=Permanent,
            hint="The customer is not (or no longer) in Exact: link the PSA customer to an "
            "Exact account again, or let ledgerlink create it (customer master PSA).",
        ),
        ErrorRule(
            field="OrderDate",
            error=Permanent,
            hint="The invoice date is in a closed period in Exact: reopen the period in Exact "
            "(or credit and re-post with a later date), then transfer again.",
        ),
        ErrorRule(
            text=r"Please add a \$select",
            error=Permanent,
            hint="ledgerlink sent Exact a query it does not accept; report this.",
        ),
        ErrorRule(
            status=413,
            error=Permanent,
            hint="The document is larger than Exact's 10 MB: split it in the PSA.",
        ),
        ErrorRule(
            status=400,
            error=Permanent,
            hint="Correct the value Exact names in the PSA (or in Exact's set-up), then "
            "transfer again.",
        ),
    ),
)
