"""Projects and project groups of the newer e-conomic API (``/api/v20.0.0/``, OpenAPI), which
the legacy REST API lacks. Same tokens as the legacy API; roles ProjectEmployee or SuperUser.

As in v20.0.0: ``GET /projects`` returns the cursor envelope ``{"items": [...], "cursor"}``
(at most 1000 items; no ``cursor`` on the last set) and takes ``filter``; ``POST /projects``
requires ``name`` (≤ 100) and ``projectGroupNumber``, takes an optional ``number`` (auto-numbered
when left out) and answers 201 ``{"number": n}``; unknown properties are refused
(``additionalProperties: false``). Errors use the newer ``Error`` model with ``errorCode`` and
``property``. Projects need the agreement's project module.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ledgerlink.emulators.economic.filters import FieldKind, FilterError, evaluate, parse_filter
from ledgerlink.emulators.economic.http import ApiError, Ctx, json_response
from ledgerlink.emulators.economic.paging import CURSOR_PAGES

PREFIX = "/api/v20.0.0"
router = APIRouter(prefix=PREFIX)

GROUP_TYPES = {1: "Internal", 2: "External Invoiceable", 3: "External Non Invoicable"}
PROJECT_FIELDS = {
    "closedDate", "contactPersonId", "costPrice", "customerNumber", "deliveryDate",
    "deliveryLocationNumber", "departmentNumber", "description", "fixedPrice", "invoicedTotal",
    "isBarred", "isClosed", "isMainProject", "isMileageInvoiced", "lastUpdated",
    "mainProjectNumber", "mileage", "name", "number", "objectVersion",
    "otherResponsibleEmployeeNumber", "projectGroupNumber", "responsibleEmployeeNumber",
    "salesPrice", "status",
}  # fmt: skip
PROJECT_FILTERS = {
    "name": FieldKind.STRING,
    "number": FieldKind.INTEGER,
    "customerNumber": FieldKind.INTEGER,
    "projectGroupNumber": FieldKind.INTEGER,
    "responsibleEmployeeNumber": FieldKind.INTEGER,
    "isBarred": FieldKind.BOOLEAN,
    "isClosed": FieldKind.BOOLEAN,
}


def _error(status: int, message: str, code: str | None = None, prop: str | None = None) -> ApiError:
    return ApiError(
        status,
        message,
        error_code=code,
        hint="See the x-error-codes of the Projects API.",
        extra={"property": prop},
        openapi=True,
    )


def _require_module(ctx: Ctx) -> None:
    if not ctx.agreement.settings.project_module:
        raise _error(
            403, "The project module is not enabled on this agreement.", "ProjectModuleNotEnabled"
        )


def _cursor_page(
    ctx: Ctx, records: list[dict[str, Any]], filterable: dict[str, FieldKind]
) -> Response:
    query = {k.lower(): v for k, v in ctx.request.query_params.items()}
    try:
        if query.get("filter"):
            expression = parse_filter(query["filter"], filterable)
            records = [r for r in records if evaluate(expression, r, filterable)]
    except FilterError as problem:
        raise _error(400, str(problem), "InvalidFilter", "filter") from None
    page = CURSOR_PAGES.page(
        records,
        query,
        key=lambda r: int(r["number"]),
        parse=lambda cursor: int(cursor) if cursor.isdigit() else None,
    )
    body: dict[str, Any] = {"items": page.items}
    if page.cursor is not None:
        body["cursor"] = page.cursor
    return json_response(body)


@router.get("/projectgroups")
async def list_groups(ctx: Ctx) -> Response:
    _require_module(ctx)
    groups = list(ctx.agreement.table("projectgroups").values())
    return _cursor_page(ctx, groups, {"name": FieldKind.STRING, "number": FieldKind.INTEGER})


@router.get("/projectgroups/{number}")
async def get_group(ctx: Ctx, number: int) -> Response:
    _require_module(ctx)
    group = ctx.agreement.get("projectgroups", number)
    if group is None:
        raise _error(404, f"Project group {number} was not found.", "ProjectGroupNotFound")
    return json_response(group)


@router.get("/projects")
async def list_projects(ctx: Ctx) -> Response:
    _require_module(ctx)
    return _cursor_page(ctx, list(ctx.agreement.table("projects").values()), PROJECT_FILTERS)


@router.get("/projects/{number}")
async def get_project(ctx: Ctx, number: int) -> Response:
    _require_module(ctx)
    project = ctx.agreement.get("projects", number)
    if project is None:
        raise _error(404, f"Project {number} was not found.", "ProjectNotFound")
    return json_response(project)


@router.post("/projects")
async def create_project(ctx: Ctx) -> Response:
    _require_module(ctx)
    body = await ctx.body()
    unknown = sorted(set(body) - PROJECT_FIELDS)
    if unknown:
        raise _error(400, f"Unknown property '{unknown[0]}'.", "InvalidProperty", unknown[0])
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _error(400, "The Name field is required.", "Required", "name")
    if len(name) > 100:
        raise _error(400, "Name must be at most 100 characters.", "MaxLength", "name")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 2500):
        raise _error(
            400, "Description must be at most 2500 characters.", "MaxLength", "description"
        )
    agreement = ctx.agreement
    group_number = body.get("projectGroupNumber")
    if not isinstance(group_number, int) or isinstance(group_number, bool):
        raise _error(
            400, "The project group number is invalid.",
            "ProjectCannotBeCreatedUpdatedGroupNumberIsInvalid", "projectGroupNumber",
        )  # fmt: skip
    group = agreement.get("projectgroups", group_number)
    if group is None:
        raise _error(
            400, f"Project group {group_number} does not exist.",
            "ProjectCannotBeCreatedUpdatedGroupDoesNotExist", "projectGroupNumber",
        )  # fmt: skip
    customer_number = body.get("customerNumber")
    if customer_number is None and group["type"] != 1:
        raise _error(
            400, "A customer number is required for a project that is not internal.",
            "ProjectCannotBeCreatedUpdatedCustomerNumberRequired", "customerNumber",
        )  # fmt: skip
    if customer_number is not None:
        if not isinstance(customer_number, int) or not 1 <= customer_number <= 999_999_999:
            raise _error(
                400, "The customer number is invalid.",
                "ProjectCannotBeCreatedUpdatedInvalidCustomerNumber", "customerNumber",
            )  # fmt: skip
        if agreement.get("customers", customer_number) is None:
            raise _error(
                400, f"Customer {customer_number} was not found.",
                "ProjectCannotBeCreatedUpdatedCustomerNotFound", "customerNumber",
            )  # fmt: skip
    if body.get("isClosed"):
        raise _error(
            400, "A project cannot be created as closed.", "ProjectCannotBeCreatedAsClosed"
        )
    with ctx.state.lock:
        number = body.get("number")
        if number is None:
            number = max((int(k) for k in agreement.table("projects")), default=0) + 1
        elif not isinstance(number, int) or not 0 <= number <= 999_999_999:
            raise _error(
                400, "The project number is invalid.",
                "ProjectCannotBeCreatedUpdatedNumberIsInvalid", "number",
            )  # fmt: skip
        elif agreement.get("projects", number) is not None:
            raise _error(
                400, f"Project number {number} already exists.",
                "ProjectCannotBeCreatedUpdatedNumberAlreadyExists", "number",
            )  # fmt: skip
        read_only = ("costPrice", "invoicedTotal", "salesPrice", "lastUpdated", "isClosed")
        project = {k: v for k, v in body.items() if k not in read_only} | {
            "number": number,
            "name": name,
            "isClosed": False,
            "isBarred": bool(body.get("isBarred", False)),
            "lastUpdated": ctx.today() + "T00:00:00Z",
            "objectVersion": "1",
            "self": ctx.url(f"{PREFIX}/projects/{number}"),
        }
        agreement.table("projects")[str(number)] = project
        ctx.commit()
    return json_response({"number": number}, status=201)
