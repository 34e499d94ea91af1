"""Pure mapping between ledgerlink's domain / neutral types and the FinancialHost wire contract.

The wire contract is ERP-neutral: NAV's and Visma's field names, lengths and line rules belong
to the host's plugins. What the hub does here is translate, derive idempotency keys, and refuse
(as :class:`~ledgerlink.connectors.contract.Permanent`, naming the field) what the wire schema
would refuse anyway, so a bad value is reported before anything is sent. The one text shortened
here is the heading, to the ERP's limit declared in the connector's capabilities (NAV's
``Posting Description`` has 50 characters): it is display text, the full heading stays on the
PSA invoice, and the engine logs the shortening.

Idempotency keys name the business effect. Every key carries a digest of its wire body: the
same content sent again while the host still holds it is the same job (the host never runs a
key twice), changed content is a new effect. Drafts carry their correlation *and* the digest,
so a document the ERP refused (unknown item, say) can be sent again once its data is fixed; a
second draft for one correlation is impossible anyway, because the host looks the correlation
up in the ERP before it creates a draft. When the same content must run again after its job
finished (the connector decides when), it goes under a :func:`follow_up_key`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import ValidationError as SchemaError

from ledgerlink.connectors._kit.text import shorten_at_word
from ledgerlink.connectors.contract import (
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    FieldError,
    OutgoingDocument,
    Permanent,
    PostingStatus,
    StatusUpdate,
)
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import DocumentType, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import line_vat_percents
from ledgerlink.domain.work import Project
from ledgerlink.wire import operations as ops

#: Hex digits of the SHA-256 body digest kept in an idempotency key (96 bits).
DIGEST_LENGTH = 24
#: The wire contract's limit for an idempotency key.
MAX_KEY_LENGTH = 200
#: Readable parts of a key (numbers, names) are cut to this; the digest keeps keys distinct.
MAX_KEY_LABEL = 60

_W = TypeVar("_W", bound=ops.WireModel)


# rules ------------------------------------------------------------------------------------------


def wire(model: type[_W], what: str, **fields: Any) -> _W:
    """Build a wire model; a value the schema refuses becomes a Permanent error naming the
    field, instead of a request the host would refuse with 422."""
    try:
        return model(**fields)
    except SchemaError as error:
        problems = tuple(
            FieldError(
                path=".".join(str(part) for part in e["loc"]),
                message=e["msg"],
                code=e["type"],
                value=str(e.get("input", ""))[:100],
            )
            for e in error.errors()
        )
        first = problems[0] if problems else None
        detail = f": {first.path} {first.message}" if first else ""
        raise Permanent(
            f"{what} cannot be sent to FinancialHost{detail}",
            hint="Fix the field in the PSA (the wire contract does not allow this value).",
            field_errors=problems,
        ) from None


def content_digest(model: ops.WireModel, *context: str) -> str:
    """A stable digest of a wire body (its JSON, as sent) and of ``context`` (values that
    travel beside the body, such as a contact's customer number)."""
    text = "\n".join((*context, model.model_dump_json()))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def idempotency_key(kind: str, *labels: str, digest: str) -> str:
    """``kind:label…:digest``. Labels are for people reading the host's job list; they are cut
    to :data:`MAX_KEY_LABEL` characters so the key fits the wire's 200, which is safe because
    the digest covers the full content."""
    parts = [kind, *(label.strip()[:MAX_KEY_LABEL] for label in labels), digest]
    key = ":".join(parts)
    assert len(key) <= MAX_KEY_LENGTH, key
    return key


def follow_up_key(key: str, finished_job_id: str) -> str:
    """The key under which the content of ``key`` (a key made by this module) runs again after
    it finished as job ``finished_job_id``: derived from that job, so every retry of this new
    sending finds the same job."""
    follow_up = f"{key}:after:{finished_job_id[:16]}"
    assert len(follow_up) <= MAX_KEY_LENGTH, follow_up
    return follow_up


def money(amount: Decimal, currency: str, what: str) -> Money:
    """An ERP amount as :class:`Money`; an amount with more decimals than its currency has (or
    an unknown currency) is refused rather than rounded, since it would not reconcile."""
    try:
        return Money.of(amount, currency)
    except ValidationError as error:
        raise Permanent(
            f"FinancialHost reported {what} {amount} {currency!r}, which is not an exact amount "
            f"of a known currency ({error})",
            hint="Check the currency set-up in the ERP (currency code and decimals).",
        ) from None


# domain → wire ----------------------------------------------------------------------------------


def customer_to_wire(customer: Customer, *, number: str | None = None) -> ops.WireCustomer:
    """The PSA customer as the wire's customer. ``number`` overrides the PSA number (an update
    of a linked customer uses the ERP's number, its external id).

    The wire carries payment terms as days only: "end of month + N" is sent as N days, and the
    ERP's own terms for that customer decide the rest.
    """
    return wire(
        ops.WireCustomer,
        f"customer {customer.number}",
        number=number if number is not None else customer.number,
        name=customer.name,
        address_lines=customer.address.lines,
        postal_code=customer.address.postal_code,
        city=customer.address.city,
        country=customer.country,
        currency=customer.currency,
        vat_number=customer.vat_number,
        registration_number=customer.registration_number,
        ean=customer.ean,
        email=customer.email,
        phone=customer.phone,
        website=customer.website,
        payment_terms_days=customer.payment_terms.days,
        blocked=not customer.active,
    )


def contact_to_wire(contact: Contact) -> ops.WireContact:
    return wire(
        ops.WireContact,
        f"contact {contact.name}",
        name=contact.name,
        email=contact.email,
        phone=contact.phone,
        title=contact.title,
    )


def employee_to_wire(employee: Employee) -> ops.WireEmployee:
    return wire(
        ops.WireEmployee,
        f"employee {employee.initials}",
        initials=employee.initials,
        name=employee.name,
        email=employee.email,
        department=employee.department,
    )


def project_to_wire(project: Project, customer_number: str) -> ops.WireProject:
    return wire(
        ops.WireProject,
        f"project {project.number}",
        number=project.number,
        name=project.name,
        customer_number=customer_number,
        active=project.active,
    )


def document_lines(document: OutgoingDocument) -> tuple[ops.WireLine, ...]:
    """The invoice lines as wire lines: product numbers from ``line_products`` (none on text
    lines), quantities with their sign (a credit note's are negative), prices as exact
    decimals and the VAT rate the PSA applied (its treatment included: 0 when reverse
    charged or exported)."""
    invoice = document.invoice
    if len(document.line_products) != len(invoice.lines):
        raise Permanent(
            f"{invoice.describe()} has {len(invoice.lines)} lines but "
            f"{len(document.line_products)} product numbers",
            hint="This is a ledgerlink fault; report it.",
        )
    percents = line_vat_percents(invoice)
    lines: list[ops.WireLine] = []
    for position, (line, product) in enumerate(
        zip(invoice.lines, document.line_products, strict=True), start=1
    ):
        what = f"line {position} of {invoice.describe()}"
        if line.kind is LineKind.TEXT:
            lines.append(
                wire(ops.WireLine, what, kind=ops.LineKind.TEXT, description=line.description)
            )
            continue
        # The engine resolves only the document's project; a line of another project gets no
        # number here rather than a wrong one (NAV lines then inherit the header's dimension).
        same_project = line.project_id is None or line.project_id == invoice.project_id
        lines.append(
            wire(
                ops.WireLine,
                what,
                kind=ops.LineKind(line.kind.value),
                description=line.description,
                product_number=product,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price.amount,
                discount_percent=line.discount_percent,
                # A domain line has no date of its own; the invoice date stands in for the
                # ERP's date-prefixed line option.
                day=invoice.invoice_date,
                project_number=document.project_ref if same_project else "",
                vat_percent=percents[line.vat_category],
            )
        )
    return tuple(lines)


def document_to_wire(
    document: OutgoingDocument, *, customer_ean: str = "", max_heading: int | None = None
) -> ops.WireDocument:
    """The posted PSA document as a wire draft. ``customer_ean`` is the customer's EAN when the
    caller has it (else the ERP takes it from its customer card); ``max_heading`` is the ERP's
    heading limit (see the module docstring)."""
    invoice = document.invoice
    # A posted document's frozen totals are what the PSA shows and what the engine compares
    # the ERP's totals with; a draft's are computed.
    totals = invoice.current_totals()
    heading = invoice.heading
    if max_heading is not None:
        heading = shorten_at_word(heading, max_heading)
    kind = (
        ops.DocumentKind.CREDIT_NOTE
        if invoice.document_type is DocumentType.CREDIT_NOTE
        else ops.DocumentKind.INVOICE
    )
    return wire(
        ops.WireDocument,
        invoice.describe(),
        kind=kind,
        correlation=document.correlation,
        psa_number=document.psa_reference
        or (str(invoice.number) if invoice.number is not None else ""),
        customer_number=document.customer_ref,
        contact_ref=document.contact_ref,
        salesperson=document.salesperson_ref,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        heading=heading,
        customer_reference=invoice.customer_reference,
        requisition_number=invoice.requisition_number,
        ean=customer_ean,
        project_number=document.project_ref,
        lines=document_lines(document),
        expected_net=totals.net.amount,
        expected_gross=totals.gross.amount,
    )


# write requests (with their idempotency keys) ---------------------------------------------------


def customer_upsert(customer: Customer, *, number: str | None = None) -> ops.CustomerUpsert:
    """``customer.upsert`` keyed ``customer:{number}:{digest}``."""
    body = customer_to_wire(customer, number=number)
    key = idempotency_key("customer", body.number, digest=content_digest(body))
    return ops.CustomerUpsert(idempotency_key=key, customer=body)


def contact_upsert(customer_number: str, contact: Contact) -> ops.ContactUpsert:
    """``contact.upsert`` keyed ``contact:{customer}:{name}:{digest}``."""
    body = contact_to_wire(contact)
    number = customer_number.strip()
    if not number:
        raise Permanent(
            f"contact {contact.name}: the customer has no ERP number yet",
            hint="Transfer or link the customer first.",
        )
    key = idempotency_key("contact", number, body.name, digest=content_digest(body, number))
    return ops.ContactUpsert(idempotency_key=key, customer_number=number, contact=body)


def employee_ensure(employee: Employee) -> ops.EmployeeEnsure:
    """``employee.ensure`` keyed ``employee:{initials}:{digest}``."""
    body = employee_to_wire(employee)
    key = idempotency_key("employee", body.initials, digest=content_digest(body))
    return ops.EmployeeEnsure(idempotency_key=key, employee=body)


def project_ensure(project: Project, customer_number: str) -> ops.ProjectEnsure:
    """``project.ensure`` keyed ``project:{number}:{digest}``."""
    body = project_to_wire(project, customer_number)
    key = idempotency_key("project", body.number, digest=content_digest(body))
    return ops.ProjectEnsure(idempotency_key=key, project=body)


def draft_create(
    document: OutgoingDocument, *, customer_ean: str = "", max_heading: int | None = None
) -> ops.DraftCreate:
    """``document.create_draft`` keyed ``document:{correlation}:{digest}`` (see module)."""
    body = document_to_wire(document, customer_ean=customer_ean, max_heading=max_heading)
    key = idempotency_key("document", body.correlation, digest=content_digest(body))
    return ops.DraftCreate(idempotency_key=key, document=body)


def document_find(correlation: str) -> ops.DocumentFind:
    return wire(ops.DocumentFind, f"correlation {correlation}", correlation=correlation)


def customer_find(number: str) -> ops.CustomerFind:
    return wire(ops.CustomerFind, f"customer number '{number}'", number=number)


# wire → contract ---------------------------------------------------------------------------------


def erp_customer(record: ops.ErpCustomerRecord) -> ErpCustomer:
    return ErpCustomer(
        external_id=record.external_id,
        number=record.number,
        name=record.name,
        currency=record.currency,
        country=record.country,
        address_lines=record.address_lines,
        postal_code=record.postal_code,
        city=record.city,
        vat_number=record.vat_number,
        ean=record.ean,
        email=record.email,
        phone=record.phone,
        website=record.website,
        barred=record.blocked,
        updated=record.updated,
    )


def erp_product(product: ops.WireProduct) -> ErpProduct:
    return ErpProduct(
        number=product.number,
        name=product.name,
        unit=product.unit,
        department=product.department,
        barred=product.barred,
    )


def erp_document(result: ops.DocumentResult, *, currency: str) -> ErpDocument:
    """A draft or posting as the ERP holds it; ``currency`` is the result's own, or the base
    currency when the ERP leaves it blank (NAV: blank means the local currency)."""
    what = f"document {result.external_id}"
    return ErpDocument(
        external_id=result.external_id,
        correlation=result.correlation,
        net=money(result.net, currency, f"{what} net"),
        vat=money(result.vat, currency, f"{what} VAT"),
        gross=money(result.gross, currency, f"{what} gross"),
        booked_number=result.booked_number,
    )


def status_update(record: ops.StatusRecord, *, currency: str) -> StatusUpdate:
    """Balancing: one document's state; ``currency`` as in :func:`erp_document`."""
    what = f"document {record.external_id}"
    return StatusUpdate(
        correlation=record.correlation,
        external_id=record.external_id,
        status=PostingStatus(record.status.value),
        booked_number=record.booked_number,
        gross=None if record.gross is None else money(record.gross, currency, f"{what} gross"),
        remainder=(
            None
            if record.remainder is None
            else money(record.remainder, currency, f"{what} remainder")
        ),
        paid=record.paid,
        due_date=record.due_date,
        booked_on=record.booked_on,
    )


def erp_expense(record: ops.ExpenseRecord, *, base_currency: str) -> ErpExpense:
    what = f"expense {record.external_id}"
    return ErpExpense(
        external_id=record.external_id,
        day=record.day,
        amount=money(record.amount, record.currency or base_currency, f"{what} amount"),
        amount_in_base_currency=money(
            record.amount_in_base_currency, base_currency, f"{what} amount in base currency"
        ),
        text=record.text,
        voucher_number=record.voucher_number,
        project_ref=record.project_number,
        account=record.account,
    )


@dataclass(frozen=True, slots=True)
class ErpChange:
    """A change made in the ERP (the NAV change log), as FinancialHost reported it: which kind
    of record (``customer``, ``contact``, ``sales_document`` …) with which key changed how."""

    sequence: int
    entity: str
    record_key: str
    change: Literal["insert", "modify", "delete"]
    changed_at: datetime
    table_id: int | None = None


def erp_change(record: ops.ChangeRecord) -> ErpChange:
    return ErpChange(
        sequence=record.sequence,
        entity=record.entity,
        record_key=record.record_key,
        change=record.change,
        changed_at=record.changed_at,
        table_id=record.table_id,
    )


def field_errors(problems: Sequence[ops.FieldProblem]) -> tuple[FieldError, ...]:
    """The wire's field problems as the contract's field errors."""
    return tuple(
        FieldError(path=p.path, message=p.message, code=p.code, value=p.value) for p in problems
    )
