"""Exact Online's entities as pydantic models with Exact's own property names (PascalCase, as
the REST API writes them), for the properties the connector reads or writes.

Reads ignore what they do not name (every record also carries ``__metadata``). Dates come as
``/Date(epoch ms)/`` (Exact's local date written as if UTC), money as JSON numbers (read as
:class:`~decimal.Decimal`, never float).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_WIRE_DATE = re.compile(r"/Date\((-?\d+)\)/")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def wire_date(value: Any) -> Any:
    """``/Date(1773100800000)/`` as a :class:`date` (other values unchanged)."""
    if isinstance(value, str):
        found = _WIRE_DATE.fullmatch(value.strip())
        if found is not None:
            return (_EPOCH + timedelta(milliseconds=int(found.group(1)))).date()
        if not value.strip():
            return None
    return value


def wire_datetime(value: Any) -> Any:
    """``/Date(1773100800123)/`` as a naive :class:`datetime` (Exact's local time, written as
    if UTC, to the millisecond); other values unchanged."""
    if isinstance(value, str):
        found = _WIRE_DATE.fullmatch(value.strip())
        if found is not None:
            moment = _EPOCH + timedelta(milliseconds=int(found.group(1)))
            return moment.replace(tzinfo=None)
        if not value.strip():
            return None
    return value


def _text(value: Any) -> Any:
    return "" if value is None else str(value)


ODataDate = Annotated[date | None, BeforeValidator(wire_date)]
ODataDateTime = Annotated[datetime | None, BeforeValidator(wire_datetime)]
Text = Annotated[str, BeforeValidator(_text)]


class ExactModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


def to_wire(model: BaseModel) -> dict[str, Any]:
    """The body properties of ``model``: what is set, nothing that is ``None``."""
    dumped: dict[str, Any] = model.model_dump(exclude_none=True)
    return dumped


class MeDto(ExactModel):
    CurrentDivision: int | None = None
    FullName: Text = ""
    UserName: Text = ""
    Email: Text = ""
    UserID: Text = ""


class DivisionDto(ExactModel):
    Code: int
    Description: Text = ""
    Country: Text = ""
    Currency: Text = ""


class AccountDto(ExactModel):
    """A crm/Accounts record, as read (``ID``, ``Timestamp`` on ``sync/…``) and as sent."""

    ID: str | None = None
    Code: str | None = None
    Name: str | None = None
    Status: str | None = None
    IsSales: bool | None = None
    IsSupplier: bool | None = None
    VATNumber: str | None = None
    ChamberOfCommerce: str | None = None
    Email: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    AddressLine3: str | None = None
    Postcode: str | None = None
    City: str | None = None
    Country: str | None = None
    SalesCurrency: str | None = None
    Blocked: bool | None = None
    Timestamp: int | None = None
    Modified: ODataDate = None


class ContactDto(ExactModel):
    ID: str | None = None
    Account: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    FullName: str | None = None
    Email: str | None = None


class ItemDto(ExactModel):
    ID: str
    Code: Text
    Description: Text = ""
    Unit: Text = ""
    IsSalesItem: bool | None = None
    IsFractionAllowedItem: bool | None = None


class VatCodeDto(ExactModel):
    Code: Text
    Description: Text = ""
    Percentage: Decimal = Decimal(0)
    Type: Text = ""


class SalesInvoiceLineDto(ExactModel):
    """A line as sent (inline in the invoice's ``SalesInvoiceLines``)."""

    Item: str
    Description: str | None = None
    Quantity: Decimal
    UnitPrice: Decimal
    Discount: Decimal | None = None
    VATCode: str | None = None
    CostCenter: str | None = None
    Notes: str | None = None


class SalesInvoiceDto(ExactModel):
    """A sales invoice (``Type`` 8020) or credit note (8021) as the connector creates it."""

    OrderedBy: str
    Journal: str
    Type: int
    OrderDate: date
    Currency: str
    Remarks: str
    Description: str | None = None
    YourRef: str | None = None
    PaymentReference: str | None = None
    SalesInvoiceLines: list[SalesInvoiceLineDto]


class SalesInvoiceReadDto(ExactModel):
    """A sales invoice as Exact shows it (``Timestamp`` on ``sync/…`` only)."""

    InvoiceID: str
    InvoiceNumber: int | None = None
    Status: int | None = None
    Type: int | None = None
    Remarks: Text = ""
    Currency: Text = ""
    AmountFC: Decimal | None = None
    VATAmountFC: Decimal | None = None
    #: Once processed, the date Exact booked it on (processing books on the invoice date).
    InvoiceDate: ODataDate = None
    DueDate: ODataDate = None
    Timestamp: int | None = None


class ReceivableDto(ExactModel):
    """One open item of ``read/financial/ReceivablesList`` (several for a part-paid invoice)."""

    InvoiceNumber: int | None = None
    Amount: Decimal = Decimal(0)
    CurrencyCode: Text = ""
    DueDate: ODataDate = None


class PurchaseEntryLineDto(ExactModel):
    """A line of a purchase entry (``purchaseentry/PurchaseEntryLines``, or expanded in the
    entry): ``AmountFC``/``AmountDC`` exclude VAT, which is ``VATAmountFC``/``VATAmountDC``;
    ``CostCenter`` is the cost centre's code, ``Project`` the GUID of an Exact project."""

    ID: str
    LineNumber: int | None = None
    GLAccountCode: Text = ""
    Description: Text = ""
    AmountFC: Decimal = Decimal(0)
    AmountDC: Decimal | None = None
    VATAmountFC: Decimal | None = None
    CostCenter: Text = ""
    Project: str | None = None


class PurchaseEntryDto(ExactModel):
    """A purchase entry (a supplier's invoice, ``Type`` 30, or credit note, 31) with its
    lines. ``Status`` 5 is rejected, 20 open, 50 processed; ``Modified`` changes with it."""

    EntryID: str
    EntryNumber: int | None = None
    Type: int | None = None
    Status: int | None = None
    Supplier: str | None = None
    SupplierName: Text = ""
    Description: Text = ""
    Currency: Text = ""
    EntryDate: ODataDate = None
    Modified: ODataDateTime = None
    PurchaseEntryLines: list[PurchaseEntryLineDto] = []
