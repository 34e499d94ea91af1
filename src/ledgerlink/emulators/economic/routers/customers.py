"""Customers, their contacts and their invoice templates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ledgerlink.emulators.economic import fields as f
from ledgerlink.emulators.economic.calc import exchange_rate
from ledgerlink.emulators.economic.filters import FieldKind, SortKey
from ledgerlink.emulators.economic.http import (
    ApiError,
    Ctx,
    RequestContext,
    Validation,
    json_response,
)
from ledgerlink.emulators.economic.routers.invoices import InvoiceTable, invoice_collection
from ledgerlink.emulators.economic.state import Agreement

router = APIRouter()

STR, INT, NUM, DATE, BOOL = (
    FieldKind.STRING,
    FieldKind.INTEGER,
    FieldKind.NUMBER,
    FieldKind.DATE,
    FieldKind.BOOLEAN,
)
CUSTOMER_FILTERS = {
    "address": STR,
    "balance": NUM,
    "barred": BOOL,
    "city": STR,
    "corporateIdentificationNumber": STR,
    "country": STR,
    "creditLimit": NUM,
    "currency": STR,
    "customerNumber": INT,
    "ean": STR,
    "email": STR,
    "lastUpdated": DATE,
    "name": STR,
    "publicEntryNumber": STR,
    "telephoneAndFaxNumber": STR,
    "vatNumber": STR,
    "website": STR,
    "zip": STR,
}
CUSTOMER_SORTS = {k: v for k, v in CUSTOMER_FILTERS.items() if k != "barred"}
CONTACT_FILTERS = {
    "customer.customerNumber": INT,
    "name": STR,
    "email": STR,
    "customerContactNumber": INT,
}
_TEXT_LIMITS = {
    "address": 510,
    "city": 50,
    "corporateIdentificationNumber": 40,
    "country": 50,
    "ean": 40,
    "email": 255,
    "mobilePhone": 50,
    "publicEntryNumber": 50,
    "telephoneAndFaxNumber": 255,
    "vatNumber": 50,
    "website": 255,
    "zip": 30,
}


def render_customer(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A customer as the API returns it."""
    document = copy.deepcopy(stored)
    number = document["customerNumber"]
    path = f"/customers/{number}"
    document["customerGroup"] = ctx.with_self(
        document["customerGroup"], "/customer-groups", "customerGroupNumber"
    )
    document["paymentTerms"] = ctx.with_self(
        document["paymentTerms"], "/payment-terms", "paymentTermsNumber"
    )
    document["vatZone"] = ctx.with_self(document["vatZone"], "/vat-zones", "vatZoneNumber")
    if "layout" in document:
        document["layout"] = ctx.with_self(document["layout"], "/layouts", "layoutNumber")
    if "salesPerson" in document:
        document["salesPerson"] = ctx.with_self(
            document["salesPerson"], "/employees", "employeeNumber"
        )
    for key in ("attention", "customerContact"):
        if key in document:
            contact = document[key]["customerContactNumber"]
            document[key] = {
                "customerContactNumber": contact,
                "self": ctx.url(f"{path}/contacts/{contact}"),
            }
    # No totals and no invoice-line template: the emulator has neither, and a link must lead
    # somewhere.
    document["deliveryLocations"] = ctx.url(f"{path}/delivery-locations")
    document["invoices"] = _invoice_links(ctx, path)
    document["templates"] = _template_links(ctx, path)
    document["self"] = ctx.url(path)
    return document


def _invoice_links(ctx: RequestContext, path: str) -> dict[str, str]:
    return {
        "booked": ctx.url(f"{path}/invoices/booked"),
        "drafts": ctx.url(f"{path}/invoices/drafts"),
        "self": ctx.url(f"{path}/invoices"),
    }


def _template_links(ctx: RequestContext, path: str) -> dict[str, str]:
    return {"invoice": ctx.url(f"{path}/templates/invoice"), "self": ctx.url(f"{path}/templates")}


def _exists_in(agreement: Agreement, table: str) -> Callable[[Any], bool]:
    return lambda identifier: agreement.get(table, identifier) is not None


def _validate_customer(
    ctx: RequestContext, body: dict[str, Any], number: int | None
) -> dict[str, Any]:
    agreement = ctx.agreement
    v = Validation()
    stored: dict[str, Any] = {}
    if number is None:
        number = f.integer(body, "customerNumber", v, minimum=1, maximum=999_999_999)
        if number is not None and agreement.get("customers", number) is not None:
            v.add(
                ("customerNumber",),
                f"A customer with the number {number} already exists.",
                value=number,
                hint="Choose another customerNumber or leave it out.",
            )
    elif "customerNumber" in body and body["customerNumber"] != number:
        v.add(
            ("customerNumber",),
            "customerNumber in the body does not match the URL.",
            value=body["customerNumber"],
        )
    name = f.text(body, "name", v, max_length=255, required=True)
    currency = f.text(body, "currency", v, max_length=3, required=True)
    if currency is not None and agreement.get("currencies", currency.upper()) is None:
        v.add(
            ("currency",),
            "currency does not exist.",
            code="E06000",
            value=currency,
            hint=f"Find a list of currencies at {ctx.url('/currencies')}.",
        )
    refs = {
        "customerGroup": ("customerGroupNumber", "customer-groups", True),
        "paymentTerms": ("paymentTermsNumber", "payment-terms", True),
        "vatZone": ("vatZoneNumber", "vat-zones", True),
        "layout": ("layoutNumber", "layouts", False),
        "salesPerson": ("employeeNumber", "employees", False),
    }
    for key, (id_key, table, required) in refs.items():
        identifier = f.reference(
            body,
            key,
            id_key,
            v,
            required=required,
            exists=_exists_in(agreement, table),
            collection_url=ctx.url(f"/{table}"),
        )
        if identifier is not None:
            stored[key] = {id_key: identifier}
    for key, limit in _TEXT_LIMITS.items():
        value = f.text(body, key, v, max_length=limit)
        if value is not None:
            stored[key] = value
    p_number = f.text(body, "pNumber", v, max_length=10, min_length=10)
    if p_number is not None:
        stored["pNumber"] = p_number
    credit = f.number(body, "creditLimit", v, max_scale=2)
    if credit is not None:
        stored["creditLimit"] = credit
    if f.boolean(body, "barred", v):
        stored["barred"] = True
    v.raise_if_any()
    if number is None:
        number = max([int(k) for k in agreement.table("customers")] + [0]) + 1
    assert name is not None
    assert currency is not None
    existing = agreement.get("customers", number) or {}
    return {
        "customerNumber": number,
        "name": name,
        "currency": currency.upper(),
        **stored,
        "balance": existing.get("balance", Decimal("0.00")),
        "lastUpdated": ctx.today(),
    }


def _customer(ctx: RequestContext, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("customers", number)
    if stored is None:
        raise ApiError(
            404, f"Customer {number} not found.", hint="Find a list of customers at /customers."
        )
    return stored


@router.get("/customers")
async def list_customers(ctx: Ctx) -> Response:
    """The customers."""
    with ctx.state.lock:
        records = [render_customer(ctx, c) for c in ctx.agreement.table("customers").values()]
    return ctx.collection(
        records,
        filterable=CUSTOMER_FILTERS,
        sortable=CUSTOMER_SORTS,
        default_sort=[SortKey("customerNumber")],
    )


@router.post("/customers")
async def create_customer(ctx: Ctx) -> Response:
    """Create a customer (``customerNumber`` optional: the server assigns the next one)."""
    body = await ctx.body()
    with ctx.state.lock:
        stored = _validate_customer(ctx, body, None)
        ctx.agreement.table("customers")[str(stored["customerNumber"])] = stored
        ctx.commit()
        document = render_customer(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


@router.get("/customers/{number}")
async def get_customer(ctx: Ctx, number: int) -> Response:
    """One customer."""
    with ctx.state.lock:
        return json_response(render_customer(ctx, _customer(ctx, number)))


@router.put("/customers/{number}")
async def replace_customer(ctx: Ctx, number: int) -> Response:
    """Overwrite a customer (the full document; omitted properties are cleared)."""
    body = await ctx.body()
    with ctx.state.lock:
        _customer(ctx, number)
        stored = _validate_customer(ctx, body, number)
        ctx.agreement.table("customers")[str(number)] = stored
        ctx.commit()
        return json_response(render_customer(ctx, stored))


@router.delete("/customers/{number}", status_code=204)
async def delete_customer(ctx: Ctx, number: int) -> Response:
    """Delete a customer without booked invoices."""
    with ctx.state.lock:
        _customer(ctx, number)
        if any(
            b["customer"]["customerNumber"] == number
            for b in ctx.agreement.table("booked").values()
        ):
            raise ApiError(
                400,
                f"Customer {number} has booked invoices and cannot be deleted.",
                hint="Bar the customer instead.",
            )
        del ctx.agreement.table("customers")[str(number)]
        ctx.commit()
    return Response(status_code=204)


@router.get("/customers/{number}/templates")
async def customer_templates(ctx: Ctx, number: int) -> Response:
    """Links to the customer's templates."""
    with ctx.state.lock:
        _customer(ctx, number)
    return json_response(_template_links(ctx, f"/customers/{number}"))


@router.get("/customers/{number}/templates/invoice")
async def invoice_template(ctx: Ctx, number: int) -> Response:
    """A draft-invoice body pre-filled from the customer; modify it and POST to /invoices/drafts."""
    with ctx.state.lock:
        customer = _customer(ctx, number)
        recipient: dict[str, Any] = {
            "name": customer["name"],
            "vatZone": ctx.with_self(customer["vatZone"], "/vat-zones", "vatZoneNumber"),
        }
        for key in ("address", "zip", "city", "country", "ean", "publicEntryNumber"):
            if key in customer:
                recipient[key] = customer[key]
        template: dict[str, Any] = {
            "customer": ctx.ref("/customers", "customerNumber", number),
            "currency": customer["currency"],
            "date": ctx.today(),
            "exchangeRate": exchange_rate(ctx.agreement, customer["currency"]),
            "paymentTerms": ctx.with_self(
                customer["paymentTerms"], "/payment-terms", "paymentTermsNumber"
            ),
            "recipient": recipient,
        }
        if "layout" in customer:
            template["layout"] = ctx.with_self(customer["layout"], "/layouts", "layoutNumber")
        if "salesPerson" in customer:
            template["references"] = {
                "salesPerson": ctx.with_self(
                    customer["salesPerson"], "/employees", "employeeNumber"
                )
            }
    return json_response(template)


@router.get("/customers/{number}/invoices")
async def customer_invoices(ctx: Ctx, number: int) -> Response:
    """Links to the customer's draft and booked invoices."""
    with ctx.state.lock:
        _customer(ctx, number)
    return json_response(_invoice_links(ctx, f"/customers/{number}"))


@router.get("/customers/{number}/invoices/{table}")
async def customer_invoice_collection(ctx: Ctx, number: int, table: InvoiceTable) -> Response:
    """The customer's draft or booked invoices."""
    with ctx.state.lock:
        _customer(ctx, number)
    return invoice_collection(ctx, table, lambda d: d["customer"]["customerNumber"] == number)


@router.get("/customers/{number}/delivery-locations")
async def delivery_locations(ctx: Ctx, number: int) -> Response:
    """The customer's delivery locations (the emulator keeps none)."""
    with ctx.state.lock:
        _customer(ctx, number)
    return ctx.collection([], filterable={"deliveryLocationNumber": INT})


# ---------------------------------------------------------------- contacts


def render_contact(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A customer contact as the API returns it."""
    document = copy.deepcopy(stored)
    customer = document["customer"]["customerNumber"]
    document["customer"] = ctx.ref("/customers", "customerNumber", customer)
    document["self"] = ctx.url(
        f"/customers/{customer}/contacts/{document['customerContactNumber']}"
    )
    return document


def _validate_contact(
    ctx: RequestContext, body: dict[str, Any], customer: int, number: int
) -> dict[str, Any]:
    v = Validation()
    stored: dict[str, Any] = {
        "customerContactNumber": number,
        "customer": {"customerNumber": customer},
    }
    for key, limit, required in (
        ("name", 255, True),
        ("email", 255, False),
        ("phone", 50, False),
        ("eInvoiceId", 50, False),
        ("notes", 2000, False),
    ):
        value = f.text(body, key, v, max_length=limit, required=required)
        if value is not None:
            stored[key] = value
    notifications = body.get("emailNotifications")
    if notifications is not None:
        allowed = {"invoices", "orders", "quotations", "reminders"}
        if not isinstance(notifications, list) or not set(notifications) <= allowed:
            v.add(
                ("emailNotifications",),
                "emailNotifications may contain invoices, orders, quotations, reminders.",
                value=notifications,
            )
        else:
            stored["emailNotifications"] = notifications
    sort_key = f.integer(body, "sortKey", v, minimum=1)
    stored["sortKey"] = sort_key if sort_key is not None else number
    v.raise_if_any()
    return stored


def _contact(ctx: RequestContext, customer: int, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("contacts", number)
    if stored is None or stored["customer"]["customerNumber"] != customer:
        raise ApiError(404, f"Contact {number} of customer {customer} not found.")
    return stored


@router.get("/customers/{customer}/contacts")
async def list_contacts(ctx: Ctx, customer: int) -> Response:
    """The customer's contacts."""
    with ctx.state.lock:
        _customer(ctx, customer)
        records = [
            render_contact(ctx, c)
            for c in ctx.agreement.table("contacts").values()
            if c["customer"]["customerNumber"] == customer
        ]
    return ctx.collection(
        records, filterable=CONTACT_FILTERS, default_sort=[SortKey("customerContactNumber")]
    )


@router.post("/customers/{customer}/contacts")
async def create_contact(ctx: Ctx, customer: int) -> Response:
    """Create a contact on the customer."""
    body = await ctx.body()
    with ctx.state.lock:
        _customer(ctx, customer)
        number = ctx.agreement.counters.get("contact", 1)
        stored = _validate_contact(ctx, body, customer, number)
        ctx.agreement.next_number("contact")
        ctx.agreement.table("contacts")[str(number)] = stored
        ctx.commit()
        document = render_contact(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


@router.get("/customers/{customer}/contacts/{number}")
async def get_contact(ctx: Ctx, customer: int, number: int) -> Response:
    """One contact."""
    with ctx.state.lock:
        return json_response(render_contact(ctx, _contact(ctx, customer, number)))


@router.put("/customers/{customer}/contacts/{number}")
async def replace_contact(ctx: Ctx, customer: int, number: int) -> Response:
    """Overwrite a contact."""
    body = await ctx.body()
    with ctx.state.lock:
        _contact(ctx, customer, number)
        stored = _validate_contact(ctx, body, customer, number)
        ctx.agreement.table("contacts")[str(number)] = stored
        ctx.commit()
        return json_response(render_contact(ctx, stored))


@router.delete("/customers/{customer}/contacts/{number}", status_code=204)
async def delete_contact(ctx: Ctx, customer: int, number: int) -> Response:
    """Delete a contact."""
    with ctx.state.lock:
        _contact(ctx, customer, number)
        del ctx.agreement.table("contacts")[str(number)]
        ctx.commit()
    return Response(status_code=204)
