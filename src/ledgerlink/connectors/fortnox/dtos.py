"""Fortnox's documents as pydantic models with Fortnox's own property names (PascalCase, as
the API writes them), for the properties the connector reads or writes. Reads ignore what
they do not name; Fortnox answers unset texts and dates as ``""`` or ``null``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _text(value: Any) -> Any:
    return "" if value is None else str(value)


def _blank_is_zero(value: Any) -> Any:
    return 0 if value in ("", None) else value


OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]
Amount = Annotated[Decimal, BeforeValidator(_blank_is_zero)]
Text = Annotated[str, BeforeValidator(_text)]


class FortnoxModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The body properties of ``model``: what is set, nothing that is ``None``."""
    dumped: dict[str, Any] = model.model_dump(exclude_none=True)
    return dumped


class MeDto(FortnoxModel):
    Email: Text = ""
    Id: Text = ""
    Name: Text = ""
    Locale: Text = ""
    SysAdmin: bool | None = None


class CompanyInformationDto(FortnoxModel):
    CompanyName: Text = ""
    OrganizationNumber: Text = ""
    DatabaseNumber: Text = ""
    CountryCode: Text = ""


class CustomerDto(FortnoxModel):
    CustomerNumber: str | None = None
    Name: str | None = None
    OrganisationNumber: str | None = None
    VATNumber: str | None = None
    VATType: str | None = None
    Type: str | None = None
    Address1: str | None = None
    Address2: str | None = None
    ZipCode: str | None = None
    City: str | None = None
    Country: str | None = None
    CountryCode: str | None = None
    Currency: str | None = None
    Email: str | None = None
    Phone1: str | None = None
    WWW: str | None = None
    GLN: str | None = None
    Active: bool | None = None


class ArticleDto(FortnoxModel):
    ArticleNumber: Text
    Description: Text = ""
    Unit: Text = ""
    Active: bool | None = None


class InvoiceRowDto(FortnoxModel):
    """A row as sent: an article row, or a text row (only ``Description``)."""

    ArticleNumber: str | None = None
    AccountNumber: int | None = None
    DeliveredQuantity: str | None = None
    Price: Decimal | None = None
    Discount: Decimal | None = None
    DiscountType: str | None = None
    VAT: int | None = None
    Description: str | None = None


class InvoiceDto(FortnoxModel):
    """An invoice as the connector creates it (a draft: unbooked); a credit invoice names
    the invoice it credits in ``CreditInvoiceReference``."""

    CustomerNumber: str
    ExternalInvoiceReference1: str
    Currency: str
    VATIncluded: bool = False
    InvoiceDate: str | None = None  # YYYY-MM-DD
    CreditInvoiceReference: str | None = None
    Project: str | None = None
    YourOrderNumber: str | None = None
    YourReference: str | None = None
    OurReference: str | None = None
    Remarks: str | None = None
    Comments: str | None = None
    InvoiceRows: list[InvoiceRowDto]


class InvoiceReadDto(FortnoxModel):
    """An invoice as Fortnox shows it (whole, or as a list item: then without ``Net`` and
    ``TotalVAT``)."""

    DocumentNumber: Text
    ExternalInvoiceReference1: Text = ""
    Currency: Text = "SEK"
    Net: Decimal | None = None
    TotalVAT: Decimal | None = None
    Total: Decimal | None = None
    Balance: Decimal | None = None
    Booked: bool = False
    Cancelled: bool = False
    CustomerNumber: Text = ""
    #: On a credit invoice the invoice it credits; on a credited invoice its credit invoice
    #: ("0" or "" when none).
    CreditInvoiceReference: Text = ""
    #: Once booked, also the date of its voucher: Fortnox books an invoice on its invoice date.
    InvoiceDate: OptionalDate = None
    DueDate: OptionalDate = None
    FinalPayDate: OptionalDate = None


class ProjectDto(FortnoxModel):
    """A Fortnox project (``/3/projects``)."""

    ProjectNumber: str | None = None
    Description: str | None = None
    ProjectLeader: str | None = None
    Status: str | None = None
    StartDate: OptionalDate = None
    EndDate: OptionalDate = None


class FinancialYearDto(FortnoxModel):
    """A financial year: its id (what ``financialyear`` takes) and its dates."""

    Id: int
    FromDate: date
    ToDate: date


class VoucherItemDto(FortnoxModel):
    """A voucher as a list (``/3/vouchers/sublist/{series}``) shows it: no rows."""

    VoucherSeries: Text
    VoucherNumber: int
    Year: int


class VoucherRowDto(FortnoxModel):
    """One row of a voucher as read: an account debited or credited."""

    Account: int
    Debit: Amount = Decimal(0)
    Credit: Amount = Decimal(0)
    Description: Text = ""
    Project: Text = ""
    TransactionInformation: Text = ""
    Removed: bool = False


class VoucherDto(FortnoxModel):
    """A whole voucher as read (``/3/vouchers/{series}/{number}``)."""

    VoucherSeries: Text
    VoucherNumber: int
    Year: int
    Description: Text = ""
    TransactionDate: date
    VoucherRows: list[VoucherRowDto] = []
