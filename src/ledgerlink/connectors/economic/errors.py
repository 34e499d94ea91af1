"""e-conomic's error table: annotated 400 bodies → field errors, and hints per known cause.

An annotated body mirrors the request document: each failing property holds
``{"errors": [{errorCode, message, value, developerHint}]}``, arrays hold items with an
``arrayIndex``. :func:`parse_economic_body` flattens that into
:class:`~ledgerlink.connectors.contract.FieldError` paths like ``lines[2].product`` (indexes as
in the request, 0-based; hints say the 1-based line number).
"""

from __future__ import annotations

from typing import Any

from ledgerlink.connectors._kit.errors import ErrorRule, ErrorTable, ParsedError
from ledgerlink.connectors.contract import AuthExpired, FieldError, Permanent, Transient


def _flatten(node: Any, path: str, out: list[FieldError]) -> None:
    if isinstance(node, list):
        for position, item in enumerate(node):
            index = item.get("arrayIndex", position) if isinstance(item, dict) else position
            _flatten(item, f"{path}[{index}]", out)
        return
    if not isinstance(node, dict):
        return
    errors = node.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                value = error.get("value")
                out.append(
                    FieldError(
                        path=path,
                        message=str(error.get("message", "")),
                        code=str(error.get("errorCode", "")),
                        value="" if value is None else str(value),
                    )
                )
    for key, child in node.items():
        if key in ("errors", "arrayIndex"):
            continue
        _flatten(child, f"{path}.{key}" if path else key, out)


def parse_economic_body(body: Any) -> ParsedError:
    """The general message, error code and flattened field errors of an e-conomic error."""
    if not isinstance(body, dict):
        return ParsedError(message=str(body) if body else "")
    field_errors: list[FieldError] = []
    tree = body.get("errors")
    if isinstance(tree, dict | list):
        _flatten(tree, "", field_errors)
    prop = body.get("property")
    if isinstance(prop, str) and prop:  # the newer APIs' Error model names one property
        field_errors.append(
            FieldError(
                path=prop,
                message=str(body.get("message", "")),
                code=str(body.get("errorCode") or ""),
            )
        )
    return ParsedError(
        message=str(body.get("message", "")),
        code=str(body.get("errorCode") or ""),
        field_errors=tuple(field_errors),
    )


_PRODUCT_HINT = (
    "Line {line}: the product number is not in e-conomic. Import product numbers again or fix "
    "the product-number principle."
)

ECONOMIC_ERRORS = ErrorTable(
    erp="e-conomic",
    parse=parse_economic_body,
    rules=(
        ErrorRule(
            status=401,
            error=AuthExpired,
            hint="Reconnect: the grant was revoked (or the tokens are wrong) in e-conomic.",
        ),
        ErrorRule(
            status=403,
            error=Permanent,
            hint=(
                "The app's role lacks access to this data; connect with an app that has the "
                "SuperUser role."
            ),
        ),
        ErrorRule(
            status=429,
            error=Transient,
            hint=(
                "e-conomic's rate limit (fair use: 50 000 calls per 24 hours per agreement) was "
                "reached; the work continues when the limit resets."
            ),
        ),
        ErrorRule(
            code="E06000",
            field="currency",
            error=Permanent,
            hint="Create the currency in e-conomic or change the customer's currency.",
        ),
        ErrorRule(
            code="E06000",
            field="lines[*].product",
            error=Permanent,
            hint=_PRODUCT_HINT,
            missing_product=True,
        ),
        ErrorRule(
            code="E06000",
            field="customer",
            error=Permanent,
            hint="The customer is not in e-conomic: link the customer again or let ledgerlink "
            "create it.",
        ),
        ErrorRule(
            code="E06000",
            field="layout",
            error=Permanent,
            hint="The layout in the e-conomic settings does not exist; choose another layout.",
        ),
        ErrorRule(
            code="E06000",
            field="paymentTerms",
            error=Permanent,
            hint="The payment terms do not exist in e-conomic; fix the customer's payment terms.",
        ),
        ErrorRule(
            code="E06000",
            error=Permanent,
            hint="{path} refers to something that does not exist in e-conomic; create it there "
            "or fix the setting.",
        ),
        ErrorRule(
            code="E04740",
            error=Permanent,
            hint="Line {line}: e-conomic accepts at most two decimals; round the unit price.",
        ),
        ErrorRule(
            code="E04500",
            field="lines[*].product",
            error=Permanent,
            hint="Line {line} has no product number; set a product-number principle or a "
            "default product number.",
        ),
        ErrorRule(
            code="E04500",
            error=Permanent,
            hint="{path} names no e-conomic number; check the connection's settings.",
        ),
        ErrorRule(
            code="E04730",
            error=Permanent,
            hint="Line {line} needs a quantity (e-conomic does not allow 0; use price 0).",
        ),
        ErrorRule(
            text=(
                r"accounting year.*(closed|locked)|(closed|locked).*accounting year"
                r"|no accounting year"
            ),
            error=Permanent,
            hint="The accounting year of the invoice date is closed (or missing) in e-conomic: "
            "open or create it there, or change the date.",
        ),
        ErrorRule(
            field="notes.heading",
            error=Permanent,
            hint="The heading is too long for e-conomic (at most 250 characters).",
        ),
        ErrorRule(
            field="lines[*].quantity",
            error=Permanent,
            hint="Line {line}: e-conomic does not allow quantity 0; use price 0 instead.",
        ),
        ErrorRule(
            code="ProjectCannotBeCreatedUpdatedGroupDoesNotExist",
            error=Permanent,
            hint="The project group in the connection's settings does not exist in e-conomic; "
            "set project_group_number to an existing group.",
        ),
        ErrorRule(
            code="ProjectCannotBeCreatedUpdatedCustomerNotFound",
            error=Permanent,
            hint="The project's customer is not in e-conomic: transfer or link the customer first.",
        ),
        ErrorRule(
            code="ProjectCannotBeCreatedUpdatedNumberAlreadyExists",
            error=Permanent,
            hint="Another e-conomic project has this number: link it by hand or renumber.",
        ),
        ErrorRule(
            field="project*",
            error=Permanent,
            hint="The project cannot be set: e-conomic needs the project module and a numeric "
            "project number.",
        ),
        ErrorRule(
            status=404,
            error=Permanent,
            hint="Not found in e-conomic; it may have been deleted there.",
        ),
    ),
)
