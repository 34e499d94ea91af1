"""e-conomic REST documents as pydantic models, with the API's own (camelCase) field names.

Models ignore fields they do not declare (responses carry many more). :func:`to_wire` writes a
request body the way e-conomic wants it: no ``null`` anywhere (null is rejected; absent means
"not set") and no ``false`` booleans (omitted by convention). Numbers stay ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_T = TypeVar("_T")


class EconomicModel(BaseModel):
    """Base: camelCase aliases, populate by name, unknown response fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items() if v is not None and v is not False}
        return {k: v for k, v in pruned.items() if v != {}}
    if isinstance(value, list):
        return [_prune(item) for item in value if item is not None]
    return value


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The request body of ``model``: aliases, no ``None``, no ``False``, no empty objects."""
    dumped: dict[str, Any] = _prune(model.model_dump(by_alias=True, exclude_none=True))
    return dumped


# references ---------------------------------------------------------------------------------


class CustomerRef(EconomicModel):
    customer_number: int


class CustomerGroupRef(EconomicModel):
    customer_group_number: int


class PaymentTermsRef(EconomicModel):
    payment_terms_number: int
    payment_terms_type: str | None = None


class VatZoneRef(EconomicModel):
    vat_zone_number: int


class LayoutRef(EconomicModel):
    layout_number: int


class ProductRef(EconomicModel):
    product_number: str


class UnitRef(EconomicModel):
    unit_number: int | None = None
    name: str | None = None


class DepartmentalDistributionRef(EconomicModel):
    departmental_distribution_number: int


class ProjectRef(EconomicModel):
    project_number: int


class EmployeeRef(EconomicModel):
    employee_number: int


class EmployeeGroupRef(EconomicModel):
    employee_group_number: int


class ContactRef(EconomicModel):
    customer_contact_number: int


class AccountRef(EconomicModel):
    account_number: int


# master data --------------------------------------------------------------------------------


class CustomerDto(EconomicModel):
    """``/customers`` resource."""

    customer_number: int | None = None
    name: str
    currency: str
    customer_group: CustomerGroupRef
    payment_terms: PaymentTermsRef
    vat_zone: VatZoneRef
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    corporate_identification_number: str | None = None
    vat_number: str | None = None
    ean: str | None = None
    telephone_and_fax_number: str | None = None
    mobile_phone: str | None = None
    website: str | None = None
    barred: bool | None = None
    layout: LayoutRef | None = None
    sales_person: EmployeeRef | None = None
    last_updated: dt.date | None = None


class ContactDto(EconomicModel):
    """``/customers/{n}/contacts`` resource."""

    customer_contact_number: int | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    customer: CustomerRef | None = None


class ProductDto(EconomicModel):
    """``/products`` resource (only what the import needs)."""

    product_number: str
    name: str
    description: str | None = None
    sales_price: Decimal | None = None
    unit: UnitRef | None = None
    barred: bool | None = None
    departmental_distribution: DepartmentalDistributionRef | None = None
    last_updated: dt.date | None = None


class EmployeeDto(EconomicModel):
    """``/employees`` resource."""

    employee_number: int | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    employee_group: EmployeeGroupRef | None = None
    barred: bool | None = None


class ProjectDto(EconomicModel):
    """A project of the Projects API (``/api/v20.0.0/projects``; not in the legacy API)."""

    number: int | None = None
    name: str
    project_group_number: int
    customer_number: int | None = None
    description: str | None = None
    responsible_employee_number: int | None = None


class ProjectPage(EconomicModel):
    """The Projects API's cursor envelope; no ``cursor`` on the last set."""

    items: list[ProjectDto] = Field(default_factory=list)
    cursor: str | None = None


# invoices -----------------------------------------------------------------------------------


class Notes(EconomicModel):
    heading: str | None = None
    text_line1: str | None = None
    text_line2: str | None = None


class References(EconomicModel):
    other: str | None = None
    customer_contact: ContactRef | None = None
    sales_person: EmployeeRef | None = None


class Recipient(EconomicModel):
    name: str
    vat_zone: VatZoneRef
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None
    ean: str | None = None
    attention: ContactRef | None = None


class InvoiceLineDto(EconomicModel):
    line_number: int | None = None
    sort_key: int | None = None
    description: str | None = None
    product: ProductRef | None = None
    quantity: Decimal | None = None
    unit_net_price: Decimal | None = None
    discount_percentage: Decimal | None = None
    departmental_distribution: DepartmentalDistributionRef | None = None
    total_net_amount: Decimal | None = None


class DraftInvoiceDto(EconomicModel):
    """``/invoices/drafts`` resource. Amounts are read-only (computed by e-conomic)."""

    draft_invoice_number: int | None = None
    date: dt.date
    due_date: dt.date | None = None
    currency: str
    customer: CustomerRef
    recipient: Recipient
    layout: LayoutRef | None = None
    payment_terms: PaymentTermsRef | None = None
    notes: Notes | None = None
    references: References | None = None
    project: ProjectRef | None = None
    lines: list[InvoiceLineDto] = Field(default_factory=list)
    net_amount: Decimal | None = None
    vat_amount: Decimal | None = None
    gross_amount: Decimal | None = None
    rounding_amount: Decimal | None = None


class BookedInvoiceDto(EconomicModel):
    """``/invoices/booked`` resource; ``remainder`` is what is still to be paid."""

    booked_invoice_number: int
    date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str
    customer: CustomerRef | None = None
    notes: Notes | None = None
    references: References | None = None
    net_amount: Decimal = Decimal(0)
    vat_amount: Decimal = Decimal(0)
    gross_amount: Decimal = Decimal(0)
    remainder: Decimal | None = None
    remainder_in_base_currency: Decimal | None = None


class EntryDto(EconomicModel):
    """An entry of ``/accounts/{n}/accounting-years/{year}/entries``."""

    entry_number: int
    entry_type: str | None = None
    date: dt.date
    amount: Decimal
    amount_in_base_currency: Decimal | None = None
    currency: str
    text: str | None = None
    voucher_number: int | None = None
    project: ProjectRef | None = None
    account: AccountRef | None = None


class AccountingYearDto(EconomicModel):
    """``/accounting-years`` resource; ``entries`` is the link to its entries."""

    year: str
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    closed: bool = False
    entries: str | None = None


# agreement ----------------------------------------------------------------------------------


class AgreementType(EconomicModel):
    name: str | None = None


class Company(EconomicModel):
    name: str | None = None
    country: str | None = None
    company_identification_number: str | None = None


class AgreementSettings(EconomicModel):
    base_currency: str | None = None


class Application(EconomicModel):
    name: str | None = None
    app_number: int | None = None


class Module(EconomicModel):
    module_number: int | None = None
    name: str | None = None


class SelfDto(EconomicModel):
    """``GET /self``: the agreement the grant opens."""

    agreement_number: int
    agreement_type: AgreementType | None = None
    company: Company | None = None
    settings: AgreementSettings | None = None
    application: Application | None = None
    modules: list[Module] = Field(default_factory=list)


# envelope -----------------------------------------------------------------------------------


class Pagination(EconomicModel):
    skip_pages: int = 0
    page_size: int = 20
    results: int | None = None
    next_page: str | None = None


class Collection(EconomicModel, Generic[_T]):
    """The collection envelope: ``collection`` items and ``pagination`` links."""

    collection: list[_T] = Field(default_factory=list)
    pagination: Pagination | None = None
