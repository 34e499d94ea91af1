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

__all__ = [
    "ENTITY_TYPES",
    "RESOURCES",
    "Edm",
    "Resource",
    "from_wire",
    "to_filter_value",
    "to_wire",
]

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
    the line collection it holds, and whether a read needs ``$select`` or ``$top=1``
    (``select_only``: ``$select`` whatever the ``$top``, as on ``sync/…``). ``source`` is the
    table a view reads (a sync endpoint reads its entity's); pages hold ``page_size`` records."""

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
    select_only: bool = False
    methods: frozenset[str] = frozenset({"GET"})
    source: str | None = None
    page_size: int = 60

    @property
    def table(self) -> str:
        """The table the records are kept in."""
        return self.source or self.path

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
                "AddressLine2": S,
                "AddressLine3": S,
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
            lengths={
                "Code": 18,
                "Name": 100,
                "Email": 100,
                "AddressLine1": 100,
                "AddressLine2": 100,
                "AddressLine3": 100,
            },
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
            path="purchaseentry/PurchaseEntries",
            entity="PurchaseEntry",
            key="EntryID",
            # Exact's endpoint list: GET, POST, PUT and DELETE (entries are not immutable).
            methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
            needs_select=True,  # picqer#34: a PurchaseEntries read without $select is refused
            lines="PurchaseEntryLines",
            line_resource="purchaseentry/PurchaseEntryLines",
            properties={
                "EntryID": G,
                "EntryNumber": I32,
                "Supplier": G,
                "SupplierName": S,
                "Journal": S,
                "Type": I32,
                "Status": I32,
                "EntryDate": T,
                "DueDate": T,
                "Currency": S,
                "Description": S,
                "YourRef": S,
                "AmountFC": D,
                "AmountDC": D,
                "VATAmountFC": D,
                "VATAmountDC": D,
                "Rate": D,
                "PurchaseEntryLines": Edm.LINES,
                **_AUDIT,
            },
            required=frozenset({"Supplier", "Journal"}),
            read_only=frozenset(
                {
                    "EntryID",
                    "EntryNumber",
                    "SupplierName",
                    "Status",
                    "AmountDC",
                    "VATAmountFC",
                    "VATAmountDC",
                }
            )
            | _AUDIT_RO,
            lengths={"Description": 255, "YourRef": 50},
        ),
        _resource(
            path="purchaseentry/PurchaseEntryLines",
            entity="PurchaseEntryLine",
            key="ID",
            properties={
                "ID": G,
                "EntryID": G,
                "LineNumber": I32,
                "GLAccount": G,
                "GLAccountCode": S,
                "Description": S,
                "AmountFC": D,
                "AmountDC": D,
                "VATAmountFC": D,
                "VATAmountDC": D,
                "VATCode": S,
                "VATPercentage": D,
                "CostCenter": S,
                "CostCenterDescription": S,
                "Project": G,
                "Notes": S,
                "Division": I32,
            },
            required=frozenset({"GLAccount", "AmountFC"}),
            read_only=frozenset(
                {
                    "ID",
                    "EntryID",
                    "LineNumber",
                    "GLAccountCode",
                    "AmountDC",
                    "VATAmountDC",
                    "CostCenterDescription",
                    "VATPercentage",
                    "Division",
                }
            ),
            lengths={"Description": 60, "CostCenter": 8},
        ),
        _resource(
            path="read/financial/ReceivablesList",
            entity="ReceivablesList",
            key="HID",
            properties={
                "HID": I64,
                "AccountCode": S,
                "AccountId": G,
                "AccountName": S,
                "Amount": D,
                "AmountInTransit": D,
                "CurrencyCode": S,
                "Description": S,
                "DueDate": T,
                "EntryNumber": I32,
                "Id": G,
                "InvoiceDate": T,
                "InvoiceNumber": I32,
                "JournalCode": S,
                "JournalDescription": S,
                "YourRef": S,
            },
        ),
    )
}


# Sync endpoints (fact sheet §2.5): the entity's properties plus ``Timestamp``, an Int64 row
# version that grows with every change; read ``$filter=Timestamp gt 123L``, ``$select``
# mandatory, up to 1000 a page. ``sync/Deleted`` tells deletes (EntityType numbers from the
# docblock of picqer's SyncDeleted.php).
SYNCED = {
    "sync/CRM/Accounts": ("crm/Accounts", 2),
    "sync/Logistics/Items": ("logistics/Items", 9),
    "sync/SalesInvoice/SalesInvoices": ("salesinvoice/SalesInvoices", 13),
}
ENTITY_TYPES = dict(SYNCED.values())


def _synced(path: str, source: str) -> Resource:
    entity = RESOURCES[source]
    properties = {k: v for k, v in entity.properties.items() if v is not Edm.LINES}
    return Resource(
        path=path,
        entity=f"Sync{entity.entity}",
        key="Timestamp",
        properties={"Timestamp": I64, **properties},
        source=source,
        select_only=True,
        page_size=1000,
    )


RESOURCES.update({path: _synced(path, source) for path, (source, _) in SYNCED.items()})
RESOURCES["sync/Deleted"] = Resource(
    path="sync/Deleted",
    entity="SyncDeleted",
    key="Timestamp",
    properties={
        "Timestamp": I64,
        "DeletedBy": G,
        "DeletedDate": T,
        "Division": I32,
        "EntityKey": G,
        "EntityType": I32,
        "ID": G,
    },
    select_only=True,
    page_size=1000,
)


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
