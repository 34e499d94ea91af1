"""Exact Online's entities as the REST API shows them: each resource's properties with their
Edm types, which are required or read-only, and how values go on and off the wire.

Field names and types follow the docblocks of ``picqer/exact-php-client`` (generated from
Exact's ``HlpRestAPIResourcesDetails.aspx`` pages), the fact sheet's §2.3; only the properties
the integration uses are modelled. In the state a ``Guid`` is a lowercase string, a
``DateTime`` an ISO string ``YYYY-MM-DDTHH:MM:SS`` and a ``Double`` a ``Decimal``; on the wire a
``DateTime`` is ``/Date(ms)/`` (epoch milliseconds, Exact's local time written as if UTC).
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledgerlink.emulators._kit.fields import Field, Kind

__all__ = ["RESOURCES", "Edm", "Resource", "from_wire", "to_filter_value", "to_wire"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).replace(tzinfo=None)
_WIRE_DATE = re.compile(r"/Date\((-?\d+)\)/")
GUID_PATTERN = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


class Edm(enum.StrEnum):
    """The OData types Exact's properties have."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    DOUBLE = "Edm.Double"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTime"
    LINES = "Collection"


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One REST resource: ``path`` under ``/api/v1/{division}/``, its entity type name, key
    property, properties, required and read-only ones, the most characters a string may have,
    the line collection it holds, and whether a read needs ``$select`` or ``$top=1``."""

    path: str
    entity: str
    key: str
    properties: Mapping[str, Edm]
    required: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()
    lengths: Mapping[str, int] = field(default_factory=dict)
    lines: str | None = None
    line_resource: str | None = None
    needs_select: bool = False
    methods: frozenset[str] = frozenset({"GET"})

    @property
    def type_name(self) -> str:
        """``__metadata.type``."""
        return f"Exact.Web.Api.Models.{self.entity}"

    def fields(self, *, creating: bool) -> list[Field]:
        """The kit's declarative checks of a POST (``creating``) or PUT body."""
        return [
            Field(
                name,
                kind=_KINDS[edm],
                required=creating and name in self.required,
                nullable=name not in self.required,
                read_only=name in self.read_only,
                max_length=self.lengths.get(name),
                pattern=GUID_PATTERN if edm is Edm.GUID else None,
            )
            for name, edm in self.properties.items()
        ]


_KINDS = {
    Edm.GUID: Kind.STRING,
    Edm.STRING: Kind.STRING,
    Edm.INT32: Kind.INTEGER,
    Edm.INT64: Kind.INTEGER,
    Edm.DOUBLE: Kind.NUMBER,
    Edm.BOOLEAN: Kind.BOOLEAN,
    Edm.DATETIME: Kind.STRING,
    Edm.LINES: Kind.ARRAY,
}

G, S, I32, I64, D, B, T = (
    Edm.GUID,
    Edm.STRING,
    Edm.INT32,
    Edm.INT64,
    Edm.DOUBLE,
    Edm.BOOLEAN,
    Edm.DATETIME,
)
_AUDIT = {"Created": T, "Modified": T, "Division": I32}
_AUDIT_RO = frozenset({"ID", "Created", "Modified", "Division"})


def _resource(**kwargs: Any) -> Resource:
    return Resource(**kwargs)


RESOURCES: dict[str, Resource] = {
    r.path: r
    for r in (
        _resource(
            path="system/Divisions",
            entity="SystemDivision",
            key="Code",
            properties={
                "Code": I32,
                "Description": S,
                "Country": S,
                "Currency": S,
                "VATNumber": S,
                "ChamberOfCommerceNumber": S,
                "Current": B,
                "HID": I64,
            },
        ),
        _resource(
            path="crm/Accounts",
            entity="Account",
            key="ID",
            methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
            properties={
                "ID": G,
                "Code": S,
                "Name": S,
                "Status": S,
                "IsSales": B,
                "IsSupplier": B,
                "VATNumber": S,
                "ChamberOfCommerce": S,
                "Email": S,
                "AddressLine1": S,
                "Postcode": S,
                "City": S,
                "Country": S,
                "SalesCurrency": S,
                "SalesVATCode": S,
                "PaymentConditionSales": S,
                "Blocked": B,
                **_AUDIT,
            },
            required=frozenset({"Name"}),
            read_only=_AUDIT_RO,
            lengths={"Code": 18, "Name": 100, "Email": 100, "AddressLine1": 100},
        ),
        _resource(
            path="crm/Contacts",
            entity="Contact",
            key="ID",
            methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
            properties={
                "ID": G,
                "Account": G,
                "FirstName": S,
                "LastName": S,
                "FullName": S,
                "Email": S,
                "Phone": S,
                **_AUDIT,
            },
            required=frozenset({"Account", "LastName"}),
            read_only=_AUDIT_RO | {"FullName"},
            lengths={"FirstName": 50, "LastName": 50, "Email": 255},
        ),
        _resource(
            path="payroll/Employees",
            entity="Employee",
            key="ID",
            properties={
                "ID": G,
                "Code": S,
                "FirstName": S,
                "LastName": S,
                "FullName": S,
                "Email": S,
                "User": G,
                **_AUDIT,
            },
        ),
        _resource(
            path="users/Users",
            entity="User",
            key="UserID",
            properties={"UserID": G, "UserName": S, "FullName": S, "Email": S},
        ),
        _resource(
            path="logistics/Items",
            entity="Item",
            key="ID",
            properties={
                "ID": G,
                "Code": S,
                "Description": S,
                "IsSalesItem": B,
                "IsFractionAllowedItem": B,
                "SalesVatCode": S,
                "Unit": S,
                "GLRevenue": G,
                "CostPriceStandard": D,
                **_AUDIT,
            },
        ),
        _resource(
            path="financial/GLAccounts",
            entity="GLAccount",
            key="ID",
            properties={
                "ID": G,
                "Code": S,
                "Description": S,
                "Type": I32,
                "BalanceSide": S,
                "BalanceType": S,
                "VATCode": S,
                **_AUDIT,
            },
        ),
        _resource(
            path="vat/VATCodes",
            entity="VATCode",
            key="ID",
            properties={
                "ID": G,
                "Code": S,
                "Description": S,
                "Percentage": D,
                "Type": S,
                "Account": G,
                "Charged": B,
                **_AUDIT,
            },
        ),
        _resource(
            path="financial/Journals",
            entity="Journal",
            key="ID",
            properties={
                "ID": G,
                "Code": S,
                "Description": S,
                "Type": I32,
                "Currency": S,
                "AllowVariableCurrency": B,
                "AllowVariableExchangeRate": B,
                **_AUDIT,
            },
        ),
        _resource(
            path="hrm/Costcenters",
            entity="Costcenter",
            key="ID",
            methods=frozenset({"GET", "POST"}),
            properties={"ID": G, "Code": S, "Description": S, "Active": B, **_AUDIT},
            required=frozenset({"Code", "Description"}),
            read_only=_AUDIT_RO,
            lengths={"Code": 8, "Description": 100},
        ),
        _resource(
            path="salesinvoice/SalesInvoices",
            entity="SalesInvoice",
            key="InvoiceID",
            methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
            # Which endpoints refuse a read without $select or $top=1 is not documented per
            # endpoint; the reports (picqer#34 PurchaseEntries, #315 GeneralJournalEntries,
            # elmas#22 GoodsDeliveries) are all documents with lines, so ours do too.
            needs_select=True,
            lines="SalesInvoiceLines",
            line_resource="salesinvoice/SalesInvoiceLines",
            properties={
                "InvoiceID": G,
                "InvoiceNumber": I32,
                "OrderedBy": G,
                "InvoiceTo": G,
                "Journal": S,
                "Type": I32,
                "Status": I32,
                "InvoiceDate": T,
                "OrderDate": T,
                "DueDate": T,
                "Currency": S,
                "Description": S,
                "YourRef": S,
                "Remarks": S,
                "PaymentCondition": S,
                "PaymentReference": S,
                "AmountFC": D,
                "AmountDC": D,
                "VATAmountFC": D,
                "SalesInvoiceLines": Edm.LINES,
                "Created": T,
                "Modified": T,
                "Division": I32,
            },
            required=frozenset({"OrderedBy", "Journal"}),
            read_only=frozenset(
                {
                    "InvoiceID",
                    "InvoiceNumber",
                    "Status",
                    "AmountFC",
                    "AmountDC",
                    "VATAmountFC",
                    "Created",
                    "Modified",
                    "Division",
                }
            ),
            lengths={"Description": 255, "YourRef": 50, "Remarks": 1000},
        ),
        _resource(
            path="salesinvoice/SalesInvoiceLines",
            entity="SalesInvoiceLine",
            key="ID",
            properties={
                "ID": G,
                "InvoiceID": G,
                "LineNumber": I32,
                "Item": G,
                "ItemCode": S,
                "Description": S,
                "Quantity": D,
                "UnitPrice": D,
                "NetPrice": D,
                "Discount": D,
                "AmountFC": D,
                "VATAmountFC": D,
                "VATCode": S,
                "VATPercentage": D,
                "GLAccount": G,
                "CostCenter": S,
                "Notes": S,
                "Employee": G,
                "Division": I32,
            },
            required=frozenset({"Item"}),
            read_only=frozenset(
                {"ID", "InvoiceID", "LineNumber", "ItemCode", "VATAmountFC", "Division"}
            ),
            lengths={"Description": 60, "CostCenter": 8},
        ),
        _resource(
            path="read/financial/ReceivablesList",
            entity="ReceivablesList",
            key="HID",
            properties={
                "HID": I64,
                "AccountId": G,
                "AccountCode": S,
                "AccountName": S,
                "Amount": D,
                "CurrencyCode": S,
                "Description": S,
                "DueDate": T,
                "EntryNumber": I32,
                "InvoiceDate": T,
                "InvoiceNumber": I32,
                "JournalCode": S,
                "YourRef": S,
            },
        ),
    )
}


def to_wire(edm: Edm, value: Any) -> Any:
    """A stored value as Exact writes it in JSON."""
    if value is None:
        return None
    if edm is Edm.DATETIME:
        moment = datetime.fromisoformat(value)
        return f"/Date({(moment - _EPOCH) // timedelta(milliseconds=1)})/"
    return value


class BadValue(ValueError):
    """A property's value cannot be read as its type."""


def from_wire(edm: Edm, value: Any) -> Any:
    """A value of a request body in its stored form (dates: ISO or ``/Date(ms)/``)."""
    if value is None:
        return None
    if edm is Edm.GUID:
        return str(uuid.UUID(str(value)))
    if edm is Edm.DATETIME:
        if not isinstance(value, str):
            raise BadValue(value)
        wire = _WIRE_DATE.fullmatch(value)
        try:
            moment = (
                _EPOCH + timedelta(milliseconds=int(wire.group(1)))
                if wire
                else datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=None)
            )
        except ValueError:
            raise BadValue(value) from None
        return moment.isoformat(timespec="seconds")
    if edm is Edm.DOUBLE:
        return Decimal(str(value))
    return value


def to_filter_value(edm: Edm, value: Any) -> Any:
    """A stored value as ``$filter`` compares it (Guid → UUID, DateTime → datetime)."""
    if value is None:
        return None
    if edm is Edm.GUID:
        return uuid.UUID(value)
    if edm is Edm.DATETIME:
        return datetime.fromisoformat(value)
    return value
