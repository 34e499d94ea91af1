"""Setup pick-lists and master data: currencies, VAT, payment terms, layouts, units, groups,
departments, departmental distributions and employees.

Employees: the real legacy REST API is **read-only** for employees (they are created through
the newer OpenAPI family, ``/api/v20.0.0/employees``). The emulator also accepts
``POST /employees`` so a connector's "ensure employee" step has one place to go.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ledgerlink.emulators.economic import fields as f
from ledgerlink.emulators.economic.filters import FieldKind, SortKey
from ledgerlink.emulators.economic.http import (
    ApiError,
    Ctx,
    RequestContext,
    Validation,
    json_response,
)
from ledgerlink.emulators.economic.routers.customers import CUSTOMER_FILTERS, render_customer
from ledgerlink.emulators.economic.routers.invoices import InvoiceTable, invoice_collection

router = APIRouter()

STR, INT, NUM, BOOL = FieldKind.STRING, FieldKind.INTEGER, FieldKind.NUMBER, FieldKind.BOOLEAN
Renderer = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


def _plain(collection: str, id_key: str) -> Renderer:
    def render(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
        return {**copy.deepcopy(stored), "self": ctx.url(f"/{collection}/{stored[id_key]}")}

    return render


def _customer_group(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    number = stored["customerGroupNumber"]
    return {
        "customerGroupNumber": number,
        "name": stored["name"],
        "account": ctx.with_self(stored["account"], "/accounts", "accountNumber"),
        "layout": ctx.with_self(stored.get("layout"), "/layouts", "layoutNumber"),
        "customers": ctx.url(f"/customer-groups/{number}/customers"),
        "self": ctx.url(f"/customer-groups/{number}"),
    }


def _vat_account(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    return {
        **copy.deepcopy(stored),
        "account": ctx.with_self(stored["account"], "/accounts", "accountNumber"),
        "vatType": ctx.with_self(stored["vatType"], "/vat-types", "vatTypeNumber"),
        "self": ctx.url(f"/vat-accounts/{stored['vatCode']}"),
    }


def _distribution(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(stored)
    for part in document["distributions"]:
        part["department"] = ctx.with_self(part["department"], "/departments", "departmentNumber")
    kind = document["distributionType"]
    document["self"] = ctx.url(
        f"/departmental-distributions/{kind}s/{document['departmentalDistributionNumber']}"
    )
    return document


def _employee(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    number = stored["employeeNumber"]
    return {
        **copy.deepcopy(stored),
        "employeeGroup": ctx.with_self(
            stored["employeeGroup"], "/employee-groups", "employeeGroupNumber"
        ),
        "bookedInvoices": ctx.url(f"/employees/{number}/invoices/booked"),
        "draftInvoices": ctx.url(f"/employees/{number}/invoices/drafts"),
        "customers": ctx.url(f"/employees/{number}/customers"),
        "self": ctx.url(f"/employees/{number}"),
    }


def _register(
    table: str,
    id_key: str,
    filters: dict[str, FieldKind],
    render: Renderer,
    *,
    path: str | None = None,
    id_type: type = int,
    keep: Callable[[dict[str, Any]], bool] = lambda _d: True,
) -> None:
    """Add ``GET /{path}`` and ``GET /{path}/{id}`` for one read-only table."""
    collection = path or table

    async def list_items(ctx: Ctx) -> Response:
        with ctx.state.lock:
            records = [render(ctx, d) for d in ctx.agreement.table(table).values() if keep(d)]
        return ctx.collection(records, filterable=filters, default_sort=[SortKey(id_key)])

    async def get_item(ctx: Ctx, key: str) -> Response:
        with ctx.state.lock:
            stored = ctx.agreement.get(table, key if id_type is str else _int(key))
            if stored is None or not keep(stored):
                raise ApiError(404, f"{collection} {key} not found.")
            return json_response(render(ctx, stored))

    list_items.__doc__ = f"The {collection} collection."
    get_item.__doc__ = f"One item of {collection}."
    router.add_api_route(f"/{collection}", list_items, methods=["GET"], name=f"list-{collection}")
    router.add_api_route(
        f"/{collection}/{{key}}", get_item, methods=["GET"], name=f"get-{collection}"
    )


def _int(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        raise ApiError(404, f"{key} not found.") from None


_register(
    "currencies",
    "code",
    {"code": STR, "isoNumber": STR, "name": STR},
    _plain("currencies", "code"),
    id_type=str,
)
_register(
    "vat-zones",
    "vatZoneNumber",
    {"vatZoneNumber": INT, "name": STR},
    _plain("vat-zones", "vatZoneNumber"),
)
_register(
    "vat-types",
    "vatTypeNumber",
    {"vatTypeNumber": INT, "name": STR},
    _plain("vat-types", "vatTypeNumber"),
)
_register(
    "vat-accounts",
    "vatCode",
    {"vatCode": STR, "name": STR, "ratePercentage": NUM},
    _vat_account,
    id_type=str,
)
_register(
    "payment-terms",
    "paymentTermsNumber",
    {"paymentTermsNumber": INT, "name": STR, "daysOfCredit": INT, "paymentTermsType": STR},
    _plain("payment-terms", "paymentTermsNumber"),
)
_register(
    "layouts", "layoutNumber", {"layoutNumber": INT, "name": STR}, _plain("layouts", "layoutNumber")
)
_register("units", "unitNumber", {"unitNumber": INT, "name": STR}, _plain("units", "unitNumber"))
_register(
    "customer-groups",
    "customerGroupNumber",
    {"customerGroupNumber": INT, "name": STR},
    _customer_group,
)
_register(
    "departments",
    "departmentNumber",
    {"departmentNumber": INT, "name": STR},
    _plain("departments", "departmentNumber"),
)
_register(
    "employee-groups",
    "employeeGroupNumber",
    {"employeeGroupNumber": INT, "name": STR},
    _plain("employee-groups", "employeeGroupNumber"),
)
_DISTRIBUTION_FILTERS = {
    "departmentalDistributionNumber": INT,
    "name": STR,
    "barred": BOOL,
    "distributionType": STR,
}
_register(
    "departmental-distributions",
    "departmentalDistributionNumber",
    _DISTRIBUTION_FILTERS,
    _distribution,
    path="departmental-distributions/departments",
    keep=lambda d: d["distributionType"] == "department",
)
_register(
    "departmental-distributions",
    "departmentalDistributionNumber",
    _DISTRIBUTION_FILTERS,
    _distribution,
    path="departmental-distributions/distributions",
    keep=lambda d: d["distributionType"] == "distribution",
)


@router.get("/departmental-distributions")
async def departmental_distributions(ctx: Ctx) -> Response:
    """All departmental distributions (single departments and splits)."""
    with ctx.state.lock:
        records = [
            _distribution(ctx, d)
            for d in ctx.agreement.table("departmental-distributions").values()
        ]
    return ctx.collection(
        records,
        filterable=_DISTRIBUTION_FILTERS,
        default_sort=[SortKey("departmentalDistributionNumber")],
    )


@router.get("/customer-groups/{number}/customers")
async def customer_group_customers(ctx: Ctx, number: int) -> Response:
    """The customers in a group."""
    with ctx.state.lock:
        if ctx.agreement.get("customer-groups", number) is None:
            raise ApiError(404, f"Customer group {number} not found.")
        records = [
            render_customer(ctx, c)
            for c in ctx.agreement.table("customers").values()
            if c["customerGroup"]["customerGroupNumber"] == number
        ]
    return ctx.collection(
        records, filterable=CUSTOMER_FILTERS, default_sort=[SortKey("customerNumber")]
    )


EMPLOYEE_FILTERS = {
    "barred": BOOL,
    "email": STR,
    "employeeGroup.employeeGroupNumber": INT,
    "employeeNumber": INT,
    "name": STR,
    "phone": STR,
}


@router.get("/employees")
async def list_employees(ctx: Ctx) -> Response:
    """The employees."""
    with ctx.state.lock:
        records = [_employee(ctx, e) for e in ctx.agreement.table("employees").values()]
    return ctx.collection(
        records, filterable=EMPLOYEE_FILTERS, default_sort=[SortKey("employeeNumber")]
    )


@router.get("/employees/{number}")
async def get_employee(ctx: Ctx, number: int) -> Response:
    """One employee."""
    with ctx.state.lock:
        return json_response(_employee(ctx, _employee_stored(ctx, number)))


@router.get("/employees/{number}/customers")
async def employee_customers(ctx: Ctx, number: int) -> Response:
    """The customers the employee is sales person of."""
    with ctx.state.lock:
        _employee_stored(ctx, number)
        records = [
            render_customer(ctx, c)
            for c in ctx.agreement.table("customers").values()
            if c.get("salesPerson", {}).get("employeeNumber") == number
        ]
    return ctx.collection(
        records, filterable=CUSTOMER_FILTERS, default_sort=[SortKey("customerNumber")]
    )


@router.get("/employees/{number}/invoices/{table}")
async def employee_invoices(ctx: Ctx, number: int, table: InvoiceTable) -> Response:
    """The draft or booked invoices with the employee as sales person."""
    with ctx.state.lock:
        _employee_stored(ctx, number)
    return invoice_collection(
        ctx,
        table,
        lambda d: d.get("references", {}).get("salesPerson", {}).get("employeeNumber") == number,
    )


def _employee_stored(ctx: RequestContext, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("employees", number)
    if stored is None:
        raise ApiError(404, f"Employee {number} not found.")
    return stored


@router.post("/employees")
async def create_employee(ctx: Ctx) -> Response:
    """Create an employee (an emulator convenience: the real legacy API is read-only here)."""
    body = await ctx.body()
    agreement = ctx.agreement
    with ctx.state.lock:
        v = Validation()
        number = f.integer(body, "employeeNumber", v, minimum=1, maximum=999_999_999)
        if number is not None and agreement.get("employees", number) is not None:
            v.add(
                ("employeeNumber",),
                f"An employee with the number {number} already exists.",
                value=number,
            )
        name = f.text(body, "name", v, max_length=250, required=True)
        group = f.reference(
            body,
            "employeeGroup",
            "employeeGroupNumber",
            v,
            required=True,
            exists=lambda n: agreement.get("employee-groups", n) is not None,
            collection_url=ctx.url("/employee-groups"),
        )
        stored: dict[str, Any] = {}
        for key in ("email", "phone"):
            value = f.text(body, key, v, max_length=250)
            if value is not None:
                stored[key] = value
        if f.boolean(body, "barred", v):
            stored["barred"] = True
        v.raise_if_any()
        if number is None:
            number = max([int(k) for k in agreement.table("employees")] + [0]) + 1
        stored = {
            "employeeNumber": number,
            "name": name,
            "employeeGroup": {"employeeGroupNumber": group},
            **stored,
        }
        agreement.table("employees")[str(number)] = stored
        ctx.commit()
        document = _employee(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})
