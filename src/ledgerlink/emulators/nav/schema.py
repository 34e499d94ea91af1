"""Definitions the NAV emulator is configured with: fields, tables, pages, codeunits, users.

Everything a NAV partner could change per installation is data here: the server instance, the
companies, the credential type, the users and their web-service access keys, and the object IDs
and service names of the published pages (relocatable, as the TimeLog objects are). The business
logic refers to tables by *role* (:class:`TableIds`), never by number.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CodeunitDef",
    "FieldDef",
    "FieldType",
    "Model",
    "PageDef",
    "TableDef",
    "TableIds",
    "UserDef",
    "caption_to_name",
    "option_name",
]

FieldType = Literal[
    "Code", "Text", "Integer", "BigInteger", "Decimal", "Boolean", "Date", "DateTime", "Option"
]

_XSD_TYPES: dict[str, str] = {
    "Code": "xsd:string",
    "Text": "xsd:string",
    "Integer": "xsd:int",
    "BigInteger": "xsd:long",
    "Decimal": "xsd:decimal",
    "Boolean": "xsd:boolean",
    "Date": "xsd:date",
    "DateTime": "xsd:dateTime",
}
# NAV 2017's OData V4 $metadata exposes Date fields as Edm.DateTimeOffset (NavType Date) and
# Options as plain strings (see the NAV 2017 CRONUS sample).
_EDM_TYPES: dict[str, tuple[str, str]] = {
    "Code": ("Edm.String", "String"),
    "Text": ("Edm.String", "String"),
    "Integer": ("Edm.Int32", "Int"),
    "BigInteger": ("Edm.Int64", "Long"),
    "Decimal": ("Edm.Decimal", "Real"),
    "Boolean": ("Edm.Boolean", "Bool"),
    "Date": ("Edm.DateTimeOffset", "Date"),
    "DateTime": ("Edm.DateTimeOffset", "DateTime"),
    "Option": ("Edm.String", "String"),
}


def caption_to_name(caption: str) -> str:
    """The web-service name NAV derives from a caption (``Sell-to Customer No.`` →
    ``Sell_to_Customer_No``, ``Line Discount %`` → ``Line_Discount_Percent``)."""
    text = caption.replace("%", "Percent").replace("'", "_x0027_")
    text = re.sub(r"[.()]", "", text)
    text = re.sub(r"[\s/\-&,+]", "_", text.strip())
    return re.sub(r"_+", "_", text).strip("_")


def option_name(caption: str) -> str:
    """The SOAP enum value of an option caption (blank → ``_blank_``, ``G/L Account`` →
    ``G_L_Account``, ``Charge (Item)`` → ``Charge_Item``)."""
    return caption_to_name(caption) if caption.strip() else "_blank_"


class Model(BaseModel):
    """Base of the configuration models: immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldDef(Model):
    """One field of a table as a page shows it.

    ``caption`` is the English field caption used in C/AL error texts (``Sell-to Customer
    No.``); ``name`` is the web-service name (derived from the caption when omitted).
    ``options`` are captions (``" "`` is the blank option). ``editable=False`` makes the field
    read-only on the page (FlowFields, computed amounts).
    """

    caption: str
    name: str = ""
    type: FieldType = "Text"
    length: int | None = None
    options: tuple[str, ...] = ()
    editable: bool = True

    def model_post_init(self, _context: object) -> None:
        """Derive ``name`` and the default lengths of Code/Text fields."""
        if not self.name:
            object.__setattr__(self, "name", caption_to_name(self.caption))
        if self.length is None and self.type in ("Code", "Text"):
            object.__setattr__(self, "length", 20 if self.type == "Code" else 50)

    @property
    def xsd_type(self) -> str:
        """The WSDL type (``tns:<Name>`` for options)."""
        return f"tns:{self.name}" if self.type == "Option" else _XSD_TYPES[self.type]

    @property
    def edm_type(self) -> str:
        """The OData V4 EDM type."""
        return _EDM_TYPES[self.type][0]

    @property
    def nav_type(self) -> str:
        """The ``NAV.NavType`` member of the $metadata annotation."""
        return _EDM_TYPES[self.type][1]

    @property
    def option_names(self) -> tuple[str, ...]:
        """The SOAP enum values of the options, in option order."""
        return tuple(option_name(caption) for caption in self.options)


class TableDef(Model):
    """A table: ID, name and primary key, plus the fields pages and seeds may use."""

    table_id: int
    name: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldDef, ...]

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (web-service name), or ``None``."""
        return next((f for f in self.fields if f.name == name), None)


class PageDef(Model):
    """A page published as a web service over one table.

    ``fields`` are in page order (the WSDL and $metadata follow it); primary-key fields must
    be among them. ``table_view`` is the page's SourceTableView as NAV filters per field
    (``{"Document_Type": "Invoice|Credit_Memo"}``): records outside it are invisible.
    """

    service_name: str
    object_id: int
    table_id: int
    table_name: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    insert_allowed: bool = True
    modify_allowed: bool = True
    delete_allowed: bool = True
    table_view: dict[str, str] = Field(default_factory=dict)

    @property
    def editable(self) -> bool:
        """Whether any write is allowed on the page."""
        return self.insert_allowed or self.modify_allowed or self.delete_allowed

    @property
    def namespace(self) -> str:
        """The SOAP namespace (service name in lower case)."""
        return f"urn:microsoft-dynamics-schemas/page/{self.service_name.lower()}"

    def field(self, name: str) -> FieldDef | None:
        """The page field called ``name``, or ``None``."""
        return next((f for f in self.fields if f.name == name), None)

    def table(self) -> TableDef:
        """The table as seen through this page."""
        return TableDef(
            table_id=self.table_id,
            name=self.table_name,
            primary_key=self.primary_key,
            fields=self.fields,
        )


class CodeunitDef(Model):
    """A codeunit published as a web service; ``functions`` map a function name to the text
    its ``return_value`` carries (the emulator's codeunits have no side effects)."""

    service_name: str
    object_id: int
    functions: dict[str, str]

    @property
    def namespace(self) -> str:
        """The SOAP namespace (the service name keeps its case for codeunits)."""
        return f"urn:microsoft-dynamics-schemas/codeunit/{self.service_name}"


class UserDef(Model):
    """A NAV user: the password, and an optional 44-character web-service access key that
    replaces it (``access_key_expires`` ``None`` = "Key Never Expires")."""

    name: str
    password: str
    access_key: str | None = None
    access_key_expires: datetime | None = None

    @field_validator("access_key")
    @classmethod
    def _key_length(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 44:
            raise ValueError("a web service access key has 44 characters")
        return value


class TableIds(Model):
    """The table number of each role the business logic knows (relocatable objects)."""

    currency: int = 4
    payment_terms: int = 3
    salesperson: int = 13
    gl_account: int = 15
    customer: int = 18
    cust_ledger_entry: int = 21
    item: int = 27
    sales_header: int = 36
    sales_line: int = 37
    gl_setup: int = 98
    sales_invoice_header: int = 112
    sales_invoice_line: int = 113
    sales_cr_memo_header: int = 114
    sales_cr_memo_line: int = 115
    resource: int = 156
    vat_posting_setup: int = 325
    dimension: int = 348
    dimension_value: int = 349
    contact: int = 5050
    contact_business_relation: int = 5054
    employee: int = 5200
    fixed_asset: int = 5600
    item_charge: int = 5800
    timelog_setup: int = 50500
    change_log: int = 50501
    expense_list: int = 50510
    expense_entry: int = 50511
