"""Products (the ERP is the master of product numbers) and product groups."""

from __future__ import annotations

import copy
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
    decode_id,
    encode_id,
    json_response,
)
from ledgerlink.emulators.economic.routers.invoices import InvoiceTable, invoice_collection

router = APIRouter()

STR, INT, NUM, DATE, BOOL = (
    FieldKind.STRING,
    FieldKind.INTEGER,
    FieldKind.NUMBER,
    FieldKind.DATE,
    FieldKind.BOOLEAN,
)
PRODUCT_FILTERS = {
    "barCode": STR,
    "barred": BOOL,
    "costPrice": NUM,
    "departmentalDistribution.departmentalDistributionNumber": INT,
    "description": STR,
    "lastUpdated": DATE,
    "name": STR,
    "productGroup.productGroupNumber": INT,
    "productNumber": STR,
    "recommendedPrice": NUM,
    "salesPrice": NUM,
    "unit.unitNumber": INT,
}
PRODUCT_GROUP_FILTERS = {"productGroupNumber": INT, "name": STR}


def render_product(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A product as the API returns it (self link with e-conomic's id encoding)."""
    agreement = ctx.agreement
    document = copy.deepcopy(stored)
    group_number = document["productGroup"]["productGroupNumber"]
    group = agreement.get("product-groups", group_number) or {}
    document["productGroup"] = {
        "productGroupNumber": group_number,
        "name": group.get("name"),
        "salesAccounts": ctx.url(f"/product-groups/{group_number}/sales-accounts"),
        "products": ctx.url(f"/product-groups/{group_number}/products"),
        "self": ctx.url(f"/product-groups/{group_number}"),
    }
    if "unit" in document:
        unit = agreement.get("units", document["unit"]["unitNumber"]) or {}
        document["unit"] = ctx.ref(
            "/units", "unitNumber", document["unit"]["unitNumber"], name=unit.get("name")
        )
    if "departmentalDistribution" in document:
        number = document["departmentalDistribution"]["departmentalDistributionNumber"]
        distribution = agreement.get("departmental-distributions", number) or {}
        kind = distribution.get("distributionType", "department")
        document["departmentalDistribution"] = {
            "departmentalDistributionNumber": number,
            "distributionType": kind,
            "self": ctx.url(f"/departmental-distributions/{kind}s/{number}"),
        }
    path = f"/products/{encode_id(document['productNumber'])}"
    document["invoices"] = {
        "booked": ctx.url(f"{path}/invoices/booked"),
        "drafts": ctx.url(f"{path}/invoices/drafts"),
    }
    document["self"] = ctx.url(path)
    return document


def _validate_product(
    ctx: RequestContext, body: dict[str, Any], number: str | None
) -> dict[str, Any]:
    agreement = ctx.agreement
    v = Validation()
    product_number = f.text(body, "productNumber", v, max_length=25, required=number is None)
    if number is not None:
        if product_number is not None and product_number != number:
            v.add(
                ("productNumber",),
                "productNumber in the body does not match the URL.",
                value=product_number,
            )
        product_number = number
    elif product_number is not None and agreement.get("products", product_number) is not None:
        v.add(
            ("productNumber",),
            f"A product with the number {product_number} already exists.",
            value=product_number,
        )
    stored: dict[str, Any] = {}
    name = f.text(body, "name", v, max_length=300, required=True)
    group = f.reference(
        body,
        "productGroup",
        "productGroupNumber",
        v,
        required=True,
        exists=lambda n: agreement.get("product-groups", n) is not None,
        collection_url=ctx.url("/product-groups"),
    )
    for key, limit in (("description", 500), ("barCode", 50)):
        value = f.text(body, key, v, max_length=limit)
        if value is not None:
            stored[key] = value
    for key in ("salesPrice", "costPrice", "recommendedPrice"):
        amount = f.number(body, key, v, max_scale=2)
        if amount is not None:
            stored[key] = amount
    unit = f.reference(
        body,
        "unit",
        "unitNumber",
        v,
        exists=lambda n: agreement.get("units", n) is not None,
        collection_url=ctx.url("/units"),
    )
    if unit is not None:
        stored["unit"] = {"unitNumber": unit}
    distribution = f.reference(
        body,
        "departmentalDistribution",
        "departmentalDistributionNumber",
        v,
        exists=lambda n: agreement.get("departmental-distributions", n) is not None,
        collection_url=ctx.url("/departmental-distributions"),
    )
    if distribution is not None:
        stored["departmentalDistribution"] = {"departmentalDistributionNumber": distribution}
    if f.boolean(body, "barred", v):
        stored["barred"] = True
    v.raise_if_any()
    return {
        "productNumber": product_number,
        "name": name,
        "productGroup": {"productGroupNumber": group},
        **stored,
        "lastUpdated": ctx.today(),
    }


def _product(ctx: RequestContext, encoded: str) -> dict[str, Any]:
    number = decode_id(encoded)
    stored = ctx.agreement.get("products", number)
    if stored is None:
        raise ApiError(
            404, f"Product {number} not found.", hint="Find a list of products at /products."
        )
    return stored


@router.get("/products")
async def list_products(ctx: Ctx) -> Response:
    """The products."""
    with ctx.state.lock:
        records = [render_product(ctx, p) for p in ctx.agreement.table("products").values()]
    sortable = {k: v for k, v in PRODUCT_FILTERS.items() if k != "barred"}
    return ctx.collection(
        records,
        filterable=PRODUCT_FILTERS,
        sortable=sortable,
        default_sort=[SortKey("productNumber")],
    )


@router.post("/products")
async def create_product(ctx: Ctx) -> Response:
    """Create a product."""
    body = await ctx.body()
    with ctx.state.lock:
        stored = _validate_product(ctx, body, None)
        ctx.agreement.table("products")[stored["productNumber"]] = stored
        ctx.commit()
        document = render_product(ctx, stored)
    return json_response(document, 201, {"Location": document["self"]})


@router.get("/products/{number}")
async def get_product(ctx: Ctx, number: str) -> Response:
    """One product (the path uses the self-link id encoding)."""
    with ctx.state.lock:
        return json_response(render_product(ctx, _product(ctx, number)))


@router.put("/products/{number}")
async def replace_product(ctx: Ctx, number: str) -> Response:
    """Overwrite a product."""
    body = await ctx.body()
    with ctx.state.lock:
        existing = _product(ctx, number)
        stored = _validate_product(ctx, body, existing["productNumber"])
        ctx.agreement.table("products")[stored["productNumber"]] = stored
        ctx.commit()
        return json_response(render_product(ctx, stored))


@router.delete("/products/{number}", status_code=204)
async def delete_product(ctx: Ctx, number: str) -> Response:
    """Delete a product."""
    with ctx.state.lock:
        existing = _product(ctx, number)
        del ctx.agreement.table("products")[existing["productNumber"]]
        ctx.commit()
    return Response(status_code=204)


def render_product_group(ctx: RequestContext, stored: dict[str, Any]) -> dict[str, Any]:
    """A product group as the API returns it."""
    number = stored["productGroupNumber"]
    return {
        "productGroupNumber": number,
        "name": stored["name"],
        "products": ctx.url(f"/product-groups/{number}/products"),
        "salesAccounts": ctx.url(f"/product-groups/{number}/sales-accounts"),
        "self": ctx.url(f"/product-groups/{number}"),
    }


def _group(ctx: RequestContext, number: int) -> dict[str, Any]:
    stored = ctx.agreement.get("product-groups", number)
    if stored is None:
        raise ApiError(404, f"Product group {number} not found.")
    return stored


@router.get("/products/{number}/invoices/{table}")
async def product_invoices(ctx: Ctx, number: str, table: InvoiceTable) -> Response:
    """The draft or booked invoices with a line of this product."""
    with ctx.state.lock:
        product_number = _product(ctx, number)["productNumber"]
    return invoice_collection(
        ctx,
        table,
        lambda d: any(
            line.get("product", {}).get("productNumber") == product_number for line in d["lines"]
        ),
    )


@router.get("/product-groups")
async def list_product_groups(ctx: Ctx) -> Response:
    """The product groups (sales accounts and VAT come from here)."""
    with ctx.state.lock:
        records = [
            render_product_group(ctx, g) for g in ctx.agreement.table("product-groups").values()
        ]
    return ctx.collection(
        records, filterable=PRODUCT_GROUP_FILTERS, default_sort=[SortKey("productGroupNumber")]
    )


@router.get("/product-groups/{number}")
async def get_product_group(ctx: Ctx, number: int) -> Response:
    """One product group."""
    with ctx.state.lock:
        return json_response(render_product_group(ctx, _group(ctx, number)))


@router.get("/product-groups/{number}/products")
async def product_group_products(ctx: Ctx, number: int) -> Response:
    """The products of a group."""
    with ctx.state.lock:
        _group(ctx, number)
        records = [
            render_product(ctx, p)
            for p in ctx.agreement.table("products").values()
            if p["productGroup"]["productGroupNumber"] == number
        ]
    return ctx.collection(
        records, filterable=PRODUCT_FILTERS, default_sort=[SortKey("productNumber")]
    )


@router.get("/product-groups/{number}/sales-accounts")
async def product_group_sales_accounts(ctx: Ctx, number: int) -> Response:
    """The sales accounts of a group, per VAT zone."""
    with ctx.state.lock:
        group = _group(ctx, number)
        accounts = group.get("_salesAccounts", [])
        records = [
            {
                "account": ctx.ref("/accounts", "accountNumber", account),
                "vatZone": ctx.ref("/vat-zones", "vatZoneNumber", zone),
                "productGroup": ctx.ref("/product-groups", "productGroupNumber", number),
            }
            for zone, account in zip((1, 2, 3), accounts + [accounts[-1]] * 3, strict=False)
        ]
    return ctx.collection(records, filterable={"vatZone.vatZoneNumber": INT})
