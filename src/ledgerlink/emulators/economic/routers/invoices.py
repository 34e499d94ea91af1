"""Invoices: drafts (editable), booking, booked invoices (immutable) and payment-state views."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from starlette.responses import Response

from ledgerlink.emulators.economic import fields as f
from ledgerlink.emulators.economic.calc import (
    accounting_year_problem,
    apply_totals,
    due_date,
    exchange_rate,
)
from ledgerlink.emulators.economic.filters import (
    FieldKind,
    FilterError,
    SortKey,
    evaluate,
    parse_filter,
)
from ledgerlink.emulators.economic.http import (
    REQUIRED,
    ApiError,
    Ctx,
    RequestContext,
    Validation,
    json_response,
    reference_id,
)

router = APIRouter()

STR, INT, NUM, DATE = FieldKind.STRING, FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.DATE
_COMMON_FILTERS = {
    "currency": STR,
    "customer.customerNumber": INT,
    "date": DATE,
    "delivery.address": STR,
    "delivery.city": STR,
    "delivery.country": STR,
    "delivery.deliveryDate": DATE,
    "delivery.deliveryTerms": STR,
    "delivery.zip": STR,
    "deliveryLocation.deliveryLocationNumber": INT,
    "notes.heading": STR,
    "notes.textLine1": STR,
    "notes.textLine2": STR,
    "paymentTerms.paymentTermsNumber": INT,
    "recipient.address": STR,
    "recipient.city": STR,
    "recipient.country": STR,
    "recipient.ean": STR,
    "recipient.name": STR,
    "recipient.publicEntryNumber": STR,
    "recipient.zip": STR,
    "references.customerContact.customer.customerNumber": INT,
    "references.other": STR,
    "references.salesPerson.employeeNumber": INT,
    "references.vendorReference.employeeNumber": INT,
}
DRAFT_FILTERS = {**_COMMON_FILTERS, "draftInvoiceNumber": INT, "exchangeRate": NUM}
BOOKED_FILTERS = {**_COMMON_FILTERS, "bookedInvoiceNumber": INT}
_SENT_BY = {"none", "ean"}
InvoiceTable = Literal["drafts", "booked"]
"""The two invoice tables a customer's, an employee's or a product's links lead to."""


# ---------------------------------------------------------------- rendering


def _render_common(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    agreement = ctx.agreement
    document = copy.deepcopy(stored)
    document["customer"] = ctx.with_self(document["customer"], "/customers", "customerNumber")
    terms = agreement.get("payment-terms", document["paymentTerms"]["paymentTermsNumber"]) or {}
    document["paymentTerms"] = ctx.ref(
        "/payment-terms",
        "paymentTermsNumber",
        document["paymentTerms"]["paymentTermsNumber"],
        daysOfCredit=terms.get("daysOfCredit"),
        name=terms.get("name"),
        paymentTermsType=terms.get("paymentTermsType"),
    )
    if "layout" in document:
        document["layout"] = ctx.with_self(document["layout"], "/layouts", "layoutNumber")
    recipient = document["recipient"]
    recipient["vatZone"] = ctx.with_self(recipient["vatZone"], "/vat-zones", "vatZoneNumber")
    if "attention" in recipient:
        number = recipient["attention"]["customerContactNumber"]
        recipient["attention"]["self"] = ctx.url(
            f"/customers/{document['customer']['customerNumber']}/contacts/{number}"
        )
    references = document.get("references", {})
    for key in ("salesPerson", "vendorReference"):
        if key in references:
            references[key] = ctx.with_self(references[key], "/employees", "employeeNumber")
    if "customerContact" in references:
        contact = references["customerContact"]["customerContactNumber"]
        owner = (agreement.get("contacts", contact) or {}).get("customer", document["customer"])
        references["customerContact"] = {
            "customerContactNumber": contact,
            "customer": ctx.ref("/customers", "customerNumber", owner["customerNumber"]),
            "self": ctx.url(f"/customers/{owner['customerNumber']}/contacts/{contact}"),
        }
    if "project" in document:
        document["project"] = project_ref(ctx, document["project"])
    for line in document.get("lines", []):
        if "product" in line:
            line["product"] = ctx.with_self(line["product"], "/products", "productNumber")
        if "unit" in line:
            unit = agreement.get("units", line["unit"]["unitNumber"]) or {}
            line["unit"] = ctx.ref(
                "/units", "unitNumber", line["unit"]["unitNumber"], name=unit.get("name")
            )
        if "departmentalDistribution" in line:
            number = line["departmentalDistribution"]["departmentalDistributionNumber"]
            distribution = agreement.get("departmental-distributions", number) or {}
            kind = distribution.get("distributionType", "department")
            line["departmentalDistribution"] = {
                "departmentalDistributionNumber": number,
                "distributionType": distribution.get("distributionType"),
                "self": ctx.url(f"/departmental-distributions/{kind}s/{number}"),
            }
    return document


def project_ref(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A project reference; its self link is the project in the Projects API (the legacy
    REST API has no projects resource), given only while that answers: the project module on
    and the project there (an old entry may name a project since deleted)."""
    number = stored["projectNumber"]
    settings = ctx.agreement.settings
    if not settings.project_module or ctx.agreement.get("projects", number) is None:
        return dict(stored)
    return {**stored, "self": ctx.url(f"/api/v20.0.0/projects/{number}")}


def render_draft(
    ctx: RequestContext, stored: dict[str, Any], *, with_lines: bool = True
) -> dict[str, Any]:
    """A draft invoice as the API returns it (collections leave the lines out)."""
    document = _render_common(ctx, stored)
    if not with_lines:
        del document["lines"]
    number = document["draftInvoiceNumber"]
    document["pdf"] = {"self": ctx.url(f"/invoices/drafts/{number}/pdf")}
    document["templates"] = {
        "bookingInstructions": ctx.url(f"/invoices/drafts/{number}/templates/booking-instructions"),
        "self": ctx.url(f"/invoices/drafts/{number}/templates"),
    }
    document["self"] = ctx.url(f"/invoices/drafts/{number}")
    return document


_NOT_ON_BOOKED = (
    "costPriceInBaseCurrency",
    "exchangeRate",
    "marginInBaseCurrency",
    "marginPercentage",
)
_NOT_ON_BOOKED_LINES = ("accrual", "marginInBaseCurrency", "marginPercentage")


def render_booked(
    ctx: RequestContext, stored: dict[str, Any], *, with_lines: bool = True
) -> dict[str, Any]:
    """A booked invoice as the API returns it (collections leave the lines out)."""
    document = _render_common(ctx, stored)
    for key in _NOT_ON_BOOKED:
        document.pop(key, None)
    for line in document["lines"]:
        for key in _NOT_ON_BOOKED_LINES:
            line.pop(key, None)
        line.get("departmentalDistribution", {}).pop("distributionType", None)
    # The booked invoice's documents name the contact's customer nowhere (the draft's do).
    document.get("references", {}).get("customerContact", {}).pop("customer", None)
    if not with_lines:
        del document["lines"]
    number = document["bookedInvoiceNumber"]
    document["pdf"] = {"self": ctx.url(f"/invoices/booked/{number}/pdf")}
    document["sent"] = ctx.url(f"/invoices/booked/{number}/sent")
    document["self"] = ctx.url(f"/invoices/booked/{number}")
    return document


# ---------------------------------------------------------------- validation


def _validate_draft(ctx: RequestContext, merged: dict[str, Any]) -> dict[str, Any]:
    """Check a draft document and return its stored form.

    POST and PUT alike: a PUT "will overwrite the full object and must include the full
    entity" (introduction.md), so nothing of the earlier version is kept and what a draft
    cannot be without is required on both. (The PUT section lists only ``recipient`` and
    ``recipient.vatZone`` as required; a PUT without currency, customer, date, layout or
    payment terms would leave a draft the API could not render, so those are refused too.)
    """
    agreement = ctx.agreement
    v = Validation()
    url = ctx.url

    date = f.iso_date(merged, "date", v, required=True)
    currency = f.text(merged, "currency", v, required=True)
    if currency is not None and agreement.get("currencies", currency.upper()) is None:
        v.add(
            ("currency",),
            "currency does not exist.",
            code="E06000",
            value=currency,
            hint=f"Find a list of currencies at {url('/currencies')}.",
        )
        currency = None
    customer_number = f.reference(
        merged,
        "customer",
        "customerNumber",
        v,
        required=True,
        exists=lambda n: agreement.get("customers", n) is not None,
        collection_url=url("/customers"),
    )
    layout = f.reference(
        merged,
        "layout",
        "layoutNumber",
        v,
        required=True,
        exists=lambda n: agreement.get("layouts", n) is not None,
        collection_url=url("/layouts"),
    )
    terms_number = f.reference(
        merged,
        "paymentTerms",
        "paymentTermsNumber",
        v,
        required=True,
        exists=lambda n: agreement.get("payment-terms", n) is not None,
        collection_url=url("/payment-terms"),
    )
    given_rate = f.number(merged, "exchangeRate", v)
    given_due = f.iso_date(merged, "dueDate", v)

    stored: dict[str, Any] = {}
    recipient = _validate_recipient(ctx, merged, v)
    notes, references = _validate_notes_and_references(ctx, merged, v)
    stored.update(_validate_project_and_delivery(ctx, merged, v))

    lines = _validate_lines(ctx, merged, v)

    if date is not None:
        problem = accounting_year_problem(agreement, date)
        if problem:
            v.add(("date",), problem, value=date, hint="See /accounting-years for the open years.")
    terms = agreement.get("payment-terms", terms_number) if terms_number is not None else None
    if terms is not None and terms.get("paymentTermsType") == "dueDate" and given_due is None:
        v.add(
            ("dueDate",),
            "dueDate is required when the payment terms are of type dueDate.",
            code=REQUIRED,
        )
    v.raise_if_any()

    assert date is not None
    assert currency is not None
    assert terms is not None
    stored.update(
        {
            "date": date,
            "currency": currency.upper(),
            "exchangeRate": given_rate
            if given_rate is not None
            else exchange_rate(agreement, currency),
            "customer": {"customerNumber": customer_number},
            "paymentTerms": {"paymentTermsNumber": terms_number},
            "recipient": recipient,
            "layout": {"layoutNumber": layout},
            "lines": lines,
        }
    )
    due = due_date(date, terms, given_due)
    if due is not None:
        stored["dueDate"] = due
    if notes:
        stored["notes"] = notes
    if references:
        stored["references"] = references
    return stored


def _validate_lines(
    ctx: RequestContext, merged: dict[str, Any], v: Validation
) -> list[dict[str, Any]]:
    lines_in = merged.get("lines", [])
    lines: list[dict[str, Any]] = []
    if not isinstance(lines_in, list):
        v.add(("lines",), "lines must be an array.")
        return lines
    for index, line_in in enumerate(lines_in):
        path = ("lines", index)
        if not isinstance(line_in, dict):
            v.add(path, "A line must be an object.")
            continue
        lines.append(_validate_line(ctx, line_in, index, path, v))
    return lines


def _validate_recipient(
    ctx: RequestContext, merged: dict[str, Any], v: Validation
) -> dict[str, Any]:
    agreement = ctx.agreement
    url = ctx.url
    recipient_in = merged.get("recipient")
    if not isinstance(recipient_in, dict):
        # Its name and VAT zone are required only when it is there (introduction.md).
        v.add(
            ("recipient",),
            f.required_message("recipient"),
            code=REQUIRED,
            hint="Please check your request data.",
        )
        return {}
    recipient: dict[str, Any] = {}
    rp = ("recipient",)
    name = f.text(recipient_in, "name", v, path=rp, max_length=250, required=True)
    if name is not None:
        recipient["name"] = name
    for key, limit in (
        ("address", 250),
        ("zip", 50),
        ("city", 250),
        ("country", 50),
        ("ean", 13),
        ("publicEntryNumber", 40),
        ("mobilePhone", 50),
    ):
        value = f.text(recipient_in, key, v, path=rp, max_length=limit)
        if value is not None:
            recipient[key] = value
    zone = f.reference(
        recipient_in,
        "vatZone",
        "vatZoneNumber",
        v,
        path=rp,
        required=True,
        exists=lambda n: agreement.get("vat-zones", n) is not None,
        collection_url=url("/vat-zones"),
    )
    if zone is not None:
        recipient["vatZone"] = {"vatZoneNumber": zone}
    present, contact = reference_id(recipient_in, "attention", "customerContactNumber")
    if present:
        if contact is None or agreement.get("contacts", contact) is None:
            v.add((*rp, "attention"), "attention does not exist.", code="E06000", value=contact)
        else:
            recipient["attention"] = {"customerContactNumber": int(str(contact))}

    return recipient


def _validate_notes_and_references(
    ctx: RequestContext, merged: dict[str, Any], v: Validation
) -> tuple[dict[str, Any], dict[str, Any]]:
    agreement = ctx.agreement
    url = ctx.url
    notes_in = merged.get("notes", {})
    notes: dict[str, Any] = {}
    if isinstance(notes_in, dict):
        for key, limit in (("heading", 250), ("textLine1", 1000), ("textLine2", 1000)):
            value = f.text(notes_in, key, v, path=("notes",), max_length=limit)
            if value is not None:
                notes[key] = value
    references_in = merged.get("references", {})
    references: dict[str, Any] = {}
    if isinstance(references_in, dict):
        other = f.text(references_in, "other", v, path=("references",), max_length=250)
        if other is not None:
            references["other"] = other
        for key in ("salesPerson", "vendorReference"):
            employee = f.reference(
                references_in,
                key,
                "employeeNumber",
                v,
                path=("references",),
                exists=lambda n: agreement.get("employees", n) is not None,
                collection_url=url("/employees"),
            )
            if employee is not None:
                references[key] = {"employeeNumber": employee}
        present, contact = reference_id(references_in, "customerContact", "customerContactNumber")
        if present:
            if contact is None or agreement.get("contacts", contact) is None:
                v.add(
                    ("references", "customerContact"),
                    "customerContact does not exist.",
                    code="E06000",
                    value=contact,
                )
            else:
                references["customerContact"] = {"customerContactNumber": int(str(contact))}
    return notes, references


def _validate_project_and_delivery(
    ctx: RequestContext, merged: dict[str, Any], v: Validation
) -> dict[str, Any]:
    agreement = ctx.agreement
    stored: dict[str, Any] = {}
    if "project" in merged:
        project_in = merged["project"]
        if not agreement.settings.project_module:
            v.add(
                ("project",),
                "The project module is not enabled on this agreement.",
                hint="Enable the project module in e-conomic, or leave project out.",
            )
        elif isinstance(project_in, dict):
            number = f.integer(
                project_in,
                "projectNumber",
                v,
                path=("project",),
                minimum=1,
                maximum=999_999_999,
                required=True,
            )
            if number is not None and agreement.get("projects", number) is None:
                v.add(
                    ("project", "projectNumber"),
                    f"Project {number} does not exist.",
                    value=number,
                    hint="Create the project first (Projects API).",
                )
            elif number is not None:
                stored["project"] = {"projectNumber": number}
    delivery_in = merged.get("delivery")
    if isinstance(delivery_in, dict):
        delivery: dict[str, Any] = {}
        for key, limit in (
            ("address", 255),
            ("zip", 30),
            ("city", 50),
            ("country", 50),
            ("deliveryTerms", 100),
        ):
            value = f.text(delivery_in, key, v, path=("delivery",), max_length=limit)
            if value is not None:
                delivery[key] = value
        delivery_date = f.iso_date(delivery_in, "deliveryDate", v, path=("delivery",))
        if delivery_date:
            delivery["deliveryDate"] = delivery_date
        stored["delivery"] = delivery

    return stored


def _validate_line(
    ctx: RequestContext,
    line_in: dict[str, Any],
    index: int,
    lp: tuple[str | int, ...],
    v: Validation,
) -> dict[str, Any]:
    agreement = ctx.agreement
    line: dict[str, Any] = {}
    line["lineNumber"] = f.integer(line_in, "lineNumber", v, path=lp, minimum=0) or index + 1
    line["sortKey"] = f.integer(line_in, "sortKey", v, path=lp, minimum=0) or line["lineNumber"]
    product_number = f.reference(
        line_in,
        "product",
        "productNumber",
        v,
        path=lp,
        as_int=False,
        exists=lambda n: agreement.get("products", n) is not None,
        collection_url=ctx.url("/products"),
    )
    product = agreement.get("products", product_number) if product_number is not None else None
    description = f.text(line_in, "description", v, path=lp, max_length=2500)
    quantity = f.number(line_in, "quantity", v, path=lp)
    price = f.number(line_in, "unitNetPrice", v, path=lp, max_scale=2)
    cost = f.number(line_in, "unitCostPrice", v, path=lp, max_scale=2)
    discount = f.number(line_in, "discountPercentage", v, path=lp)
    if "product" in line_in and "quantity" not in line_in:
        v.add(
            (*lp, "quantity"),
            "Property quantity must have a value when product is set.",
            code="E04730",
            hint="Please check your request data.",
        )
    if quantity is not None and quantity == 0:
        v.add(
            (*lp, "quantity"),
            "quantity cannot be 0. Use a quantity of at least 0.01 and a unit price of 0 instead.",
            value=quantity,
            hint="Please check your request data.",
        )
    if product is not None and description is None and "description" not in line_in:
        v.add(
            (*lp, "description"),
            "Property description must have a value when product is set.",
            code="E04730",
            hint="Please check your request data.",
        )
    unit = f.reference(
        line_in,
        "unit",
        "unitNumber",
        v,
        path=lp,
        exists=lambda n: agreement.get("units", n) is not None,
        collection_url=ctx.url("/units"),
    )
    distribution = f.reference(
        line_in,
        "departmentalDistribution",
        "departmentalDistributionNumber",
        v,
        path=lp,
        exists=lambda n: agreement.get("departmental-distributions", n) is not None,
        collection_url=ctx.url("/departmental-distributions"),
    )
    if product is not None:
        line["product"] = {"productNumber": product["productNumber"]}
        unit = unit if unit is not None else product.get("unit", {}).get("unitNumber")
        price = price if price is not None else product.get("salesPrice")
        cost = cost if cost is not None else product.get("costPrice")
    if description is not None:
        line["description"] = description
    if unit is not None:
        line["unit"] = {"unitNumber": unit}
    line["quantity"] = quantity if quantity is not None else Decimal("1")
    line["unitNetPrice"] = price if price is not None else Decimal("0.00")
    line["discountPercentage"] = discount if discount is not None else Decimal("0.00")
    line["unitCostPrice"] = cost if cost is not None else Decimal("0.00")
    if distribution is not None:
        line["departmentalDistribution"] = {"departmentalDistributionNumber": distribution}
    accrual = line_in.get("accrual")
    if isinstance(accrual, dict):
        start = f.iso_date(accrual, "startDate", v, path=(*lp, "accrual"), required=True)
        end = f.iso_date(accrual, "endDate", v, path=(*lp, "accrual"), required=True)
        if start is not None and accounting_year_problem(agreement, start):
            v.add(
                (*lp, "accrual", "startDate"),
                "accrual.startDate must fall in an existing accounting year.",
                value=start,
            )
        if start and end:
            line["accrual"] = {"startDate": start, "endDate": end}
    return line


# ---------------------------------------------------------------- routes: root, drafts


@router.get("/invoices")
async def invoices_root(ctx: Ctx) -> Response:
    """Links to the invoice collections."""
    names = {
        "booked": "booked",
        "drafts": "drafts",
        "notDue": "not-due",
        "overdue": "overdue",
        "paid": "paid",
        "sent": "sent",
        "unpaid": "unpaid",
    }
    return json_response(
        {**{k: ctx.url(f"/invoices/{v}") for k, v in names.items()}, "self": ctx.url("/invoices")}
    )


def invoice_collection(
    ctx: RequestContext, table: InvoiceTable, keep: Callable[[dict[str, Any]], bool]
) -> Response:
    """The draft (``table`` ``"drafts"``) or booked invoices ``keep`` selects, as a
    collection (the links of a customer, an employee or a product lead to these)."""
    if table == "drafts":
        render, filters, key = render_draft, DRAFT_FILTERS, "draftInvoiceNumber"
    else:
        render, filters, key = render_booked, BOOKED_FILTERS, "bookedInvoiceNumber"
    with ctx.state.lock:
        records = [
            render(ctx, d, with_lines=False) for d in ctx.agreement.table(table).values() if keep(d)
        ]
    return ctx.collection(records, filterable=filters, default_sort=[SortKey(key)])


@router.get("/invoices/drafts")
async def list_drafts(ctx: Ctx) -> Response:
    """The draft invoices."""
    return invoice_collection(ctx, "drafts", lambda _d: True)


@router.post("/invoices/drafts")
async def create_draft(ctx: Ctx) -> Response:
    """Create a draft invoice (server computes totals; the number is not the final one)."""
    body = await ctx.body()
    with ctx.state.lock:
        stored = _validate_draft(ctx, body)
        number = ctx.agreement.next_number("draft")
        stored = {"draftInvoiceNumber": number, **stored}
        apply_totals(stored)
        ctx.agreement.table("drafts")[str(number)] = stored
        ctx.commit()
        document = render_draft(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


def _draft(ctx: RequestContext, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("drafts", number)
    if stored is None:
        raise ApiError(
            404,
            f"Draft invoice {number} not found.",
            hint="Find a list of draft invoices at /invoices/drafts.",
        )
    return stored


@router.get("/invoices/drafts/{number}")
async def get_draft(ctx: Ctx, number: int) -> Response:
    """One draft invoice."""
    with ctx.state.lock:
        return json_response(render_draft(ctx, _draft(ctx, number)))


@router.put("/invoices/drafts/{number}")
async def replace_draft(ctx: Ctx, number: int) -> Response:
    """Overwrite a draft invoice (the full document)."""
    body = await ctx.body()
    with ctx.state.lock:
        _draft(ctx, number)
        if "draftInvoiceNumber" in body and body["draftInvoiceNumber"] != number:
            raise ApiError(400, "draftInvoiceNumber in the body does not match the URL.")
        stored = {"draftInvoiceNumber": number, **_validate_draft(ctx, body)}
        apply_totals(stored)
        ctx.agreement.table("drafts")[str(number)] = stored
        ctx.commit()
        return json_response(render_draft(ctx, stored))


def _deleted(ctx: RequestContext, numbers: list[int]) -> dict[str, Any]:
    message = "Deleted invoice." if len(numbers) == 1 else f"Deleted {len(numbers)} invoices."
    return {
        "message": message,
        "deletedCount": len(numbers),
        "deletedItems": [
            {"draftInvoiceNumber": n, "self": ctx.url(f"/invoices/drafts/{n}")} for n in numbers
        ],
    }


@router.delete("/invoices/drafts/{number}")
async def delete_draft(ctx: Ctx, number: int) -> Response:
    """Delete one draft invoice."""
    with ctx.state.lock:
        _draft(ctx, number)
        del ctx.agreement.table("drafts")[str(number)]
        ctx.commit()
        return json_response(_deleted(ctx, [number]))


@router.delete("/invoices/drafts")
async def delete_drafts(ctx: Ctx) -> Response:
    """Delete every draft invoice matching ``filter`` (all without one)."""
    text = next((v for k, v in ctx.request.query_params.items() if k.lower() == "filter"), None)
    with ctx.state.lock:
        drafts = ctx.agreement.table("drafts")
        try:
            expression = parse_filter(text, DRAFT_FILTERS) if text else None
            numbers = [
                int(key)
                for key, stored in drafts.items()
                if expression is None
                or evaluate(expression, render_draft(ctx, stored), DRAFT_FILTERS)
            ]
        except FilterError as problem:
            raise ApiError(400, str(problem)) from None
        for number in numbers:
            del drafts[str(number)]
        ctx.commit()
        return json_response(_deleted(ctx, sorted(numbers)))


@router.get("/invoices/drafts/{number}/pdf")
async def draft_pdf(ctx: Ctx, number: int) -> Response:
    """The draft's PDF (a one-page stand-in: the emulator has no layouts to render)."""
    with ctx.state.lock:
        _draft(ctx, number)
    return Response(one_page_pdf(f"Draft invoice {number}"), media_type="application/pdf")


@router.get("/invoices/drafts/{number}/templates")
async def draft_templates(ctx: Ctx, number: int) -> Response:
    """Links to the draft's templates."""
    with ctx.state.lock:
        _draft(ctx, number)
    return json_response(
        {
            "bookingInstructions": ctx.url(
                f"/invoices/drafts/{number}/templates/booking-instructions"
            ),
            "self": ctx.url(f"/invoices/drafts/{number}/templates"),
        }
    )


@router.get("/invoices/drafts/{number}/templates/booking-instructions")
async def booking_instructions(ctx: Ctx, number: int) -> Response:
    """The document to POST to /invoices/booked to book this draft."""
    with ctx.state.lock:
        _draft(ctx, number)
    return json_response(
        {
            "draftInvoice": {
                "draftInvoiceNumber": number,
                "self": ctx.url(f"/invoices/drafts/{number}"),
            },
            "self": ctx.url(f"/invoices/drafts/{number}/templates/booking-instructions"),
        }
    )


# ---------------------------------------------------------------- booking


def book_draft(
    ctx: RequestContext, draft_number: int, book_with: int | None, send_by: str = "none"
) -> dict[str, Any]:
    """Book a draft (caller holds the lock): number check, year check, entries; return stored."""
    agreement = ctx.agreement
    draft = agreement.get("drafts", draft_number)
    v = Validation()
    if draft is None:
        v.add(
            ("draftInvoice",),
            "draftInvoice does not exist.",
            code="E06000",
            value=draft_number,
            hint=f"Find a list of resources at {ctx.url('/invoices/drafts')}.",
        )
        v.raise_if_any()
    assert draft is not None
    booked = agreement.table("booked")
    if book_with is not None and (book_with < 1 or str(book_with) in booked):
        v.add(
            ("bookWithNumber",),
            f"An invoice with the number {book_with} already exists."
            if book_with >= 1
            else "bookWithNumber must be 1 or greater.",
            value=book_with,
        )
    problem = accounting_year_problem(agreement, draft["date"])
    if problem:
        v.add(("draftInvoice", "date"), problem, value=draft["date"])
    if not draft.get("lines"):
        v.add(("draftInvoice", "lines"), "A draft invoice without lines cannot be booked.")
    if send_by == "ean":
        customer = agreement.get("customers", draft["customer"]["customerNumber"]) or {}
        if not (draft["recipient"].get("ean") or customer.get("ean")):
            v.add(
                ("sendBy",), "The invoice cannot be sent by EAN: the recipient has no EAN number."
            )
    v.raise_if_any()
    if book_with is None:
        book_with = max([agreement.counters.get("booked", 1)] + [int(k) + 1 for k in booked])
    agreement.counters["booked"] = max(agreement.counters.get("booked", 1), book_with + 1)
    stored = {
        "bookedInvoiceNumber": book_with,
        **{k: copy.deepcopy(v2) for k, v2 in draft.items() if k != "draftInvoiceNumber"},
    }
    apply_totals(stored, booked=True)
    stored["remainder"] = stored["grossAmount"]
    stored["remainderInBaseCurrency"] = stored["grossAmountInBaseCurrency"]
    stored["_sentBy"] = send_by
    booked[str(book_with)] = stored
    del agreement.table("drafts")[str(draft_number)]
    _post_entry(
        ctx,
        "customerInvoice",
        stored,
        amount=stored["grossAmount"],
        day=stored["date"],
        text=f"Faktura {book_with}",
    )
    return stored


def _post_entry(
    ctx: RequestContext,
    entry_type: str,
    invoice: dict[str, Any],
    *,
    amount: Decimal,
    day: str,
    text: str,
) -> None:
    agreement = ctx.agreement
    group_number = (
        (agreement.get("customers", invoice["customer"]["customerNumber"]) or {})
        .get("customerGroup", {})
        .get("customerGroupNumber", 1)
    )
    group = agreement.get("customer-groups", group_number) or {"account": {"accountNumber": 5600}}
    rate = Decimal(invoice["exchangeRate"])
    agreement.entries.append(
        {
            "entryNumber": agreement.next_number("entry"),
            "entryType": entry_type,
            "account": {"accountNumber": group["account"]["accountNumber"]},
            "date": day,
            "amount": amount,
            "amountInBaseCurrency": f.money(amount * rate / 100),
            "currency": invoice["currency"],
            "text": text,
            "voucherNumber": agreement.next_number("voucher"),
            "customer": {"customerNumber": invoice["customer"]["customerNumber"]},
            "bookedInvoice": {"bookedInvoiceNumber": invoice["bookedInvoiceNumber"]},
        }
    )


def _book_request(body: dict[str, Any]) -> tuple[int, int | None, str]:
    v = Validation()
    number = f.reference(
        body,
        "draftInvoice",
        "draftInvoiceNumber",
        v,
        required=True,
        exists=lambda _n: True,
        collection_url="/invoices/drafts",
    )
    book_with = f.integer(body, "bookWithNumber", v, minimum=1, maximum=999_999_999)
    send_by = str(body.get("sendBy", body.get("sentBy", "none"))).lower()
    if send_by not in _SENT_BY:
        v.add(("sendBy",), "sendBy must be none or ean.", value=send_by)
    v.raise_if_any()
    return int(number), book_with, send_by


@router.post("/invoices/booked")
async def book(ctx: Ctx) -> Response:
    """Book a draft: ``{"draftInvoice": {...}, "bookWithNumber": n?, "sendBy": "none"|"ean"}``."""
    body = await ctx.body()
    draft_number, book_with, send_by = _book_request(body)
    with ctx.state.lock:
        stored = book_draft(ctx, draft_number, book_with, send_by)
        ctx.commit()
        document = render_booked(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


@router.put("/invoices/booked/{number}")
async def book_with_number(ctx: Ctx, number: int) -> Response:
    """Book a draft with the number in the URL (must match ``bookWithNumber`` if given)."""
    body = await ctx.body()
    draft_number, book_with, send_by = _book_request(body)
    if book_with is not None and book_with != number:
        raise ApiError(400, "bookWithNumber in the body does not match the number in the URL.")
    with ctx.state.lock:
        stored = book_draft(ctx, draft_number, number, send_by)
        ctx.commit()
        document = render_booked(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


# ---------------------------------------------------------------- booked and payment state


def _booked_records(ctx: RequestContext, keep: Any) -> list[dict[str, Any]]:
    today = ctx.today()
    with ctx.state.lock:
        return [
            render_booked(ctx, stored, with_lines=False)
            for stored in ctx.agreement.table("booked").values()
            if keep(stored, today)
        ]


def _booked_collection(ctx: RequestContext, keep: Any, *, view: bool = True) -> Response:
    records = _booked_records(ctx, keep)
    if view:
        # The paid/unpaid/overdue/not-due views document no grossAmountInBaseCurrency.
        for record in records:
            record.pop("grossAmountInBaseCurrency", None)
    return ctx.collection(
        records,
        filterable=BOOKED_FILTERS,
        default_sort=[SortKey("bookedInvoiceNumber")],
    )


@router.get("/invoices/booked")
async def list_booked(ctx: Ctx) -> Response:
    """All booked invoices."""
    return _booked_collection(ctx, lambda _s, _t: True, view=False)


@router.get("/invoices/booked/{number}")
async def get_booked(ctx: Ctx, number: int) -> Response:
    """One booked invoice (with ``remainder``)."""
    with ctx.state.lock:
        stored = ctx.agreement.get("booked", number)
        if stored is None:
            raise ApiError(404, f"Booked invoice {number} not found.")
        return json_response(render_booked(ctx, stored))


@router.get("/invoices/booked/{number}/pdf")
async def booked_pdf(ctx: Ctx, number: int) -> Response:
    """The booked invoice's PDF (a one-page stand-in)."""
    with ctx.state.lock:
        if ctx.agreement.get("booked", number) is None:
            raise ApiError(404, f"Booked invoice {number} not found.")
    return Response(one_page_pdf(f"Invoice {number}"), media_type="application/pdf")


def one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (ASCII letters, digits and spaces)."""
    content = f"BT /F1 18 Tf 72 770 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


@router.get("/invoices/booked/{number}/sent")
async def booked_sent(ctx: Ctx, number: int) -> Response:
    """Whether the booked invoice was sent (only EAN sending exists in the API)."""
    with ctx.state.lock:
        stored = ctx.agreement.get("booked", number)
        if stored is None:
            raise ApiError(404, f"Booked invoice {number} not found.")
        sent = stored.get("_sentBy") == "ean"
    records = (
        [{"id": number, "sendBy": "ean", "bookedInvoice": {"bookedInvoiceNumber": number}}]
        if sent
        else []
    )
    return ctx.collection(records, filterable={"id": INT})


@router.get("/invoices/paid")
async def list_paid(ctx: Ctx) -> Response:
    """Booked invoices with no remaining amount."""
    return _booked_collection(ctx, lambda s, _t: s["remainder"] == 0)


@router.get("/invoices/unpaid")
async def list_unpaid(ctx: Ctx) -> Response:
    """Booked invoices with a remaining amount."""
    return _booked_collection(ctx, lambda s, _t: s["remainder"] != 0)


@router.get("/invoices/overdue")
async def list_overdue(ctx: Ctx) -> Response:
    """Unpaid invoices whose due date has passed."""
    return _booked_collection(
        ctx, lambda s, t: s["remainder"] != 0 and s.get("dueDate", s["date"]) < t
    )


@router.get("/invoices/not-due")
async def list_not_due(ctx: Ctx) -> Response:
    """Unpaid invoices due today or later."""
    return _booked_collection(
        ctx, lambda s, t: s["remainder"] != 0 and s.get("dueDate", s["date"]) >= t
    )


@router.get("/invoices/sent")
async def list_sent(ctx: Ctx) -> Response:
    """Invoices sent by EAN when booked."""
    with ctx.state.lock:
        records = [
            {
                "id": int(k),
                "sendBy": "ean",
                "bookedInvoice": ctx.ref("/invoices/booked", "bookedInvoiceNumber", int(k)),
                "self": ctx.url(f"/invoices/sent/{k}"),
            }
            for k, s in ctx.agreement.table("booked").items()
            if s.get("_sentBy") == "ean"
        ]
    return ctx.collection(records, filterable={"id": INT})


def register_payment(ctx: RequestContext, number: int, amount: Decimal) -> dict[str, Any]:
    """Register a customer payment on a booked invoice (caller holds the lock)."""
    stored = ctx.agreement.get("booked", number)
    if stored is None:
        raise ApiError(404, f"Booked invoice {number} not found.")
    remainder: Decimal = stored["remainder"]
    if (
        amount == 0
        or (remainder >= 0 and not 0 < amount <= remainder)
        or (remainder < 0 and not remainder <= amount < 0)
    ):
        raise ApiError(
            400,
            f"A payment of {amount} does not fit the remainder {remainder}.",
            hint="Pay at most the remainder, with the same sign.",
        )
    stored["remainder"] = remainder - amount
    rate = Decimal(stored["exchangeRate"])
    stored["remainderInBaseCurrency"] = (
        Decimal("0.00") if stored["remainder"] == 0 else f.money(stored["remainder"] * rate / 100)
    )
    _post_entry(
        ctx,
        "customerPayment",
        stored,
        amount=-amount,
        day=ctx.today(),
        text=f"Betaling faktura {number}",
    )
    return stored
