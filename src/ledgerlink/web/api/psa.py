"""PSA data in: customers, contacts, employees, projects, registrations and expenses, each
stored by the file import's own use-case (:func:`~ledgerlink.psa.importing.import_rows`), so
a record is refused or accepted exactly as a file row would be; and invoices drafted, posted
and credited by the invoicing use-cases."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.money import to_decimal
from ledgerlink.domain.parties import plain_text
from ledgerlink.domain.users import Permission
from ledgerlink.psa import invoicing
from ledgerlink.psa.importing import FORMATS, ImportKind, import_rows
from ledgerlink.store.api_keys import Caller
from ledgerlink.store.repositories import Change
from ledgerlink.web.api.auth import Authenticator
from ledgerlink.web.api.problems import ApiProblem, FieldProblem
from ledgerlink.web.api.schemas import (
    ContactIn,
    CreditInvoiceIn,
    CustomerIn,
    DraftInvoiceIn,
    EmployeeIn,
    ExpenseIn,
    InvoiceOut,
    PostInvoiceIn,
    ProjectIn,
    RecordOut,
    RegistrationIn,
    _Record,
)
from ledgerlink.web.api.services import ApiServices

#: A legal entity's code in a path.
EntityCode = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")]
#: A record id in a path (bounded to what every database's integer column holds).
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: The records the API takes, by path segment.
RECORDS: dict[ImportKind, type[_Record]] = {
    ImportKind.CUSTOMERS: CustomerIn,
    ImportKind.CONTACTS: ContactIn,
    ImportKind.EMPLOYEES: EmployeeIn,
    ImportKind.PROJECTS: ProjectIn,
    ImportKind.REGISTRATIONS: RegistrationIn,
    ImportKind.EXPENSES: ExpenseIn,
}

#: A problem about a referenced record starts with its kind, not with the column's name.
_REFERENCES = {
    "customer": ("customer_number",),
    "employee": ("employee_initials", "manager_initials"),
    "project": ("project_number",),
}


def field_problems(kind: ImportKind, message: str) -> list[FieldProblem]:
    """The import's message for a refused row, one problem per field it names. The import
    joins a row's problems with '; ' and starts each with the column it is about (a missing
    reference with the record's kind), so that is how they are told apart."""
    fmt = FORMATS[kind]
    columns = sorted(fmt.required + fmt.optional, key=len, reverse=True)
    starts = [*columns, *_REFERENCES, "unknown column", "more values"]
    split = re.compile(r"; (?=(?:" + "|".join(re.escape(s) for s in starts) + r")\b)")
    problems = []
    for part in split.split(message):
        field = next((c for c in columns if re.match(re.escape(c) + r"\b", part)), None)
        if field is None:
            word = part.split(" ", 1)[0]
            field = next((c for c in _REFERENCES.get(word, ()) if c in columns), None)
        problems.append(FieldProblem(field=field, message=part))
    return problems


def _receipt_name(values: dict[str, Any]) -> None:
    """A receipt named over the API must be a file of the hub's receipts folder: a path would
    let a caller have the hub read (and send to the ERP) any file it can read."""
    name = values.get("receipt_file")
    if not isinstance(name, str) or not name.strip():
        return
    bare = name.strip()
    if (
        PurePosixPath(bare).name != bare
        or PureWindowsPath(bare).name != bare
        or bare.startswith(".")
    ):
        raise ApiProblem(
            "validation",
            "receipt_file must be the name of a file in the hub's receipts folder, not a path",
            errors=[FieldProblem(field="receipt_file", message="a bare file name, not a path")],
        )


def store_record(
    services: ApiServices, code: str, kind: ImportKind, record: _Record
) -> tuple[Change, dict[str, str]]:
    """Store one record as the import stores a row; a refused row is a 422 with its fields."""
    values: dict[str, Any] = record.model_dump(exclude_none=True)
    if kind is ImportKind.EXPENSES:
        _receipt_name(values)
    entity = services.legal_entity(code)
    report = import_rows(
        services.uow(),
        legal_entity_id=require_id(entity),
        kind=kind,
        rows=[(1, values)],
        source="api",
    )
    if report.errors:
        message = report.errors[0].message
        raise ApiProblem(
            "validation",
            f"the {kind.value.rstrip('s')} is not valid: {message}",
            errors=field_problems(kind, message),
        )
    change = next(c for c, n in report.changes.items() if n)
    key = {}
    for column in FORMATS[kind].key:
        value = str(values.get(column, "")).strip()
        if value:
            key[column] = value.upper() if column.endswith("initials") else value
    return change, key


def psa_router(services: ApiServices, auth: Authenticator, route_class: type[Any]) -> APIRouter:
    """``/legal-entities/{code}/<records>`` and ``/invoices``."""
    router = APIRouter(route_class=route_class)
    administer = Depends(auth.require(Permission.ADMINISTER))
    read = Depends(auth.require(Permission.READ))

    def record_route(kind: ImportKind, model: type[_Record]) -> None:
        singular = kind.value.rstrip("s")

        async def store(
            code: EntityCode,
            record: _Record,
            response: Response,
            _caller: Caller = administer,
        ) -> RecordOut:
            change, key = await run_in_threadpool(store_record, services, code, kind, record)
            response.status_code = 201 if change is Change.CREATED else 200
            return RecordOut(kind=kind.value, change=change, key=key)

        store.__annotations__["record"] = model  # each kind's own schema in the document
        router.add_api_route(
            f"/legal-entities/{{code}}/{kind.value}",
            store,
            methods=["POST"],
            status_code=201,
            response_model=RecordOut,
            summary=f"Store a {singular} (as the {kind.value} import does)",
            description=f"Created (201) or updated/unchanged (200), upserted by "
            f"{', '.join(FORMATS[kind].key)}; a refused {singular} is a 422 problem naming "
            "each field, with the import's own words.",
            responses={200: {"model": RecordOut, "description": "Updated or unchanged."}},
            tags=["PSA data"],
            operation_id=f"store_{singular}",
        )

    for kind, model in RECORDS.items():
        record_route(kind, model)

    # invoices -----------------------------------------------------------------------------------
    def _invoice(invoice_id: int) -> InvoiceOut:
        with services.uow() as uow:
            return InvoiceOut.of(uow.invoices.get(invoice_id))

    @router.post(
        "/legal-entities/{code}/invoices",
        status_code=201,
        response_model=InvoiceOut,
        tags=["Invoices"],
        summary="Draft an invoice from a project's uninvoiced billable work in a period",
    )
    async def draft_invoice(
        code: EntityCode, body: DraftInvoiceIn, response: Response, _caller: Caller = administer
    ) -> InvoiceOut:
        def draft() -> InvoiceOut:
            entity = services.legal_entity(code)
            request = invoicing.DraftRequest(
                legal_entity_id=require_id(entity),
                project_number=plain_text(body.project_number, "project_number"),
                period=(body.period_start, body.period_end),
                invoice_date=body.invoice_date,
                grouping=body.grouping,
                rate_source=body.rate_source,
                include_expenses=body.include_expenses,
                heading=body.heading,
                message=body.message,
                requisition_number=body.requisition_number,
                customer_reference=body.customer_reference,
            )
            return InvoiceOut.of(invoicing.draft_invoice(services.uow(), request))

        invoice = await run_in_threadpool(draft)
        response.headers["Location"] = f"/api/v1/invoices/{invoice.id}"
        return invoice

    @router.get(
        "/invoices/{invoice_id}", response_model=InvoiceOut, tags=["Invoices"], summary="An invoice"
    )
    async def get_invoice(invoice_id: RecordId, _caller: Caller = read) -> InvoiceOut:
        return await run_in_threadpool(_invoice, invoice_id)

    @router.post(
        "/invoices/{invoice_id}/post",
        response_model=InvoiceOut,
        tags=["Invoices"],
        summary="Post a draft invoice or credit note (it gets its number)",
    )
    async def post_invoice(
        invoice_id: RecordId, body: PostInvoiceIn, _caller: Caller = administer
    ) -> InvoiceOut:
        def post() -> InvoiceOut:
            return InvoiceOut.of(
                invoicing.post_invoice(
                    services.uow(),
                    invoice_id,
                    posting_date=body.posting_date,
                    release_sources=body.release_sources,
                )
            )

        return await run_in_threadpool(post)

    @router.post(
        "/invoices/{invoice_id}/credit",
        status_code=201,
        response_model=InvoiceOut,
        tags=["Invoices"],
        summary="Draft a credit note of a posted invoice (post it with .../post)",
    )
    async def credit_invoice(
        invoice_id: RecordId,
        body: CreditInvoiceIn,
        response: Response,
        _caller: Caller = administer,
    ) -> InvoiceOut:
        def credit() -> InvoiceOut:
            quantities = None
            if body.quantities is not None:
                quantities = {
                    int(position): _quantity(position, value)
                    for position, value in body.quantities.items()
                }
            return InvoiceOut.of(
                invoicing.credit_invoice(
                    services.uow(),
                    invoice_id,
                    invoice_date=body.invoice_date,
                    quantities=quantities,
                    heading=body.heading,
                )
            )

        note = await run_in_threadpool(credit)
        response.headers["Location"] = f"/api/v1/invoices/{note.id}"
        return note

    return router


def _quantity(position: str, value: str) -> Decimal:
    try:
        return to_decimal(value)
    except ValidationError:
        raise ApiProblem(
            "validation",
            f"the quantity of line {position} is not a number: {value!r}",
            errors=[FieldProblem(field=f"quantities.{position}", message="not a number")],
        ) from None
