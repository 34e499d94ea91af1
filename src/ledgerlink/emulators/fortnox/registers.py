"""Fortnox's registers that are plain records: customers, articles, accounts, projects, cost
centres, employees and voucher series — each a :class:`Register` (its fields, list columns,
search parameters, filters and rules) served by one generic set of routes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.fields import Field, Kind
from ledgerlink.emulators.fortnox import errors
from ledgerlink.emulators.fortnox.seed import SWEDISH_COUNTRY_NAMES
from ledgerlink.emulators.fortnox.state import Company, Document
from ledgerlink.emulators.fortnox.wire import (
    Listing,
    checked,
    company,
    emulator,
    listing,
    public,
    read_wrapped,
    reply,
    resource_url,
)

__all__ = ["REGISTERS", "Register", "register_router"]

Rule = Callable[[Company, Document, Document | None], None]
"""A register's own check of a document about to be stored (the old one on a PUT)."""


def _s(name: str, max_length: int | None = None, **more: Any) -> Field:
    return Field(name, Kind.STRING, max_length=max_length, **more)


def _n(name: str, **more: Any) -> Field:
    return Field(name, Kind.NUMBER, **more)


def _i(name: str, **more: Any) -> Field:
    return Field(name, Kind.INTEGER, **more)


def _b(name: str) -> Field:
    return Field(name, Kind.BOOLEAN)


def _d(name: str) -> Field:
    return Field(name, Kind.DATE)


@dataclass(frozen=True, kw_only=True)
class Register:
    """One register: ``path`` (``/3/customers``), wrapper ``single``, list key, ``key``
    property, writable ``fields``, ``read_only`` properties (accepted and ignored), the
    ``columns`` of a list item (with the type a list shows them in), search/filter/sort,
    ``numbered``: a key the company assigns when the client sends none, ``methods``."""

    table: str
    path: str
    single: str
    listing: Listing
    key: str
    what: str
    fields: tuple[Field, ...]
    read_only: tuple[str, ...] = ()
    columns: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    numbered: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    methods: frozenset[str] = frozenset({"GET", "POST", "PUT", "DELETE"})

    def url(self, request: Request, document: Document) -> str:
        return resource_url(request, f"{self.path}/{quote(str(document[self.key]), safe='')}")

    def render(self, request: Request, document: Document) -> Document:
        return public(document, self.url(request, document))

    def render_item(self, request: Request, document: Document) -> Document:
        shown: Document = {"@url": self.url(request, document)}
        for name, show in self.columns.items():
            if name in document:
                shown[name] = show(document[name])
        return shown


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _customer_rules(books: Company, document: Document, old: Document | None) -> None:
    number = str(document.get("CustomerNumber", ""))
    if old is None and number in books.used_customer_numbers:
        raise errors.invalid(
            f"Kundnummer {number} används redan. Kundnumret har redan använts men blivit raderat.",
            errors.CUSTOMER_NUMBER_USED,
        )
    country = document.get("Country")
    if country and country not in SWEDISH_COUNTRY_NAMES:
        # Fortnox wants the Swedish country name (fact sheet §1.3); its code is not published.
        raise errors.invalid(f"Ogiltigt land ({country}).")
    if country and not document.get("CountryCode"):
        document["CountryCode"] = SWEDISH_COUNTRY_NAMES[country]


def _project_rules(_books: Company, document: Document, _old: Document | None) -> None:
    number = str(document.get("ProjectNumber", ""))
    if not number.isalnum():
        raise errors.invalid(f"Projektnummer får bara innehålla bokstäver och siffror ({number}).")


_ACTIVE = {
    "active": lambda doc, _today: bool(doc.get("Active", True)),
    "inactive": lambda doc, _today: not doc.get("Active", True),
}

CUSTOMERS = Register(
    table="customers",
    path="/3/customers",
    single="Customer",
    what="kunden",
    key="CustomerNumber",
    numbered=True,
    listing=Listing(
        plural="Customers",
        key="CustomerNumber",
        search={
            "customernumber": "CustomerNumber",
            "name": "Name",
            "zipcode": "ZipCode",
            "city": "City",
            "email": "Email",
            "phone": "Phone1",
            "organisationnumber": "OrganisationNumber",
            "gln": "GLN",
            "glndelivery": "GLNDelivery",
        },
        filters=_ACTIVE,
        sort={"customernumber": "CustomerNumber", "name": "Name"},
    ),
    fields=(
        _s("CustomerNumber", 1024),
        _s("Name", 1024, required=True, min_length=1),
        _s("OrganisationNumber"),
        _s("VATNumber"),
        _s("VATType", enum=("SEVAT", "SEREVERSEDVAT", "EUREVERSEDVAT", "EUVAT", "EXPORT")),
        _s("Type", enum=("PRIVATE", "COMPANY")),
        _s("Address1", 1024, min_length=1),
        _s("Address2", 1024),
        _s("ZipCode", 10),
        _s("City", 1024),
        _s("Country"),
        _s("CountryCode", 2, min_length=2),
        _s("Currency", 3, min_length=3),
        _s("Email", 1024),
        _s("EmailInvoice", 1024),
        _s("Phone1", 1024),
        _s("Phone2", 1024),
        _s("WWW", 128),
        _s("TermsOfPayment"),
        _s("OurReference", 50),
        _s("YourReference", 50),
        _s("ExternalReference", 1024),
        _s("GLN", 13, min_length=13),
        _s("GLNDelivery", 13, min_length=13),
        _b("Active"),
        _s("SalesAccount", 4, min_length=4),
        _s("Comments", 1024),
        _s("CostCenter"),
        _s("Project"),
    ),
    read_only=("@url",),
    columns=dict.fromkeys(
        (
            "Address1",
            "Address2",
            "City",
            "CustomerNumber",
            "Email",
            "Name",
            "OrganisationNumber",
            "ZipCode",
        ),
        _same,
    ),
    defaults={"Active": True, "Currency": "SEK", "Type": "COMPANY", "VATType": "SEVAT"},
    rules=(_customer_rules,),
)

ARTICLES = Register(
    table="articles",
    path="/3/articles",
    single="Article",
    what="artikeln",
    key="ArticleNumber",
    numbered=True,
    listing=Listing(
        plural="Articles",
        key="ArticleNumber",
        search={
            "articlenumber": "ArticleNumber",
            "description": "Description",
            "ean": "EAN",
            # Properties the emulated articles never have: a search for them finds nothing.
            "suppliernumber": "SupplierNumber",
            "manufacturer": "Manufacturer",
            "manufacturerarticlenumber": "ManufacturerArticleNumber",
        },
        filters=_ACTIVE,
        # The spec's sortby values; the stock ones sort service articles (no stock) as equal.
        sort={
            "articlenumber": "ArticleNumber",
            "quantityinstock": "QuantityInStock",
            "reservedquantity": "ReservedQuantity",
            "stockvalue": "StockValue",
        },
    ),
    fields=(
        _s("ArticleNumber", 50),
        _s("Description", 200, required=True, min_length=1),
        _s("Unit"),
        _n("SalesPrice"),
        _n("PurchasePrice"),
        _n("VAT"),
        _s("Type", enum=("STOCK", "SERVICE")),
        _i("SalesAccount", minimum=1000, maximum=99999),
        _i("EUAccount", minimum=1000, maximum=99999),
        _i("ExportAccount", minimum=1000, maximum=99999),
        _b("Active"),
        _b("Housework"),
        _s("EAN", 30),
        _s("Note", 10000),
    ),
    read_only=("@url",),
    # A list shows prices and VAT as text (fortnox_ArticleListItem; fact sheet §2.10).
    columns={
        "ArticleNumber": _same,
        "Description": _same,
        "EAN": _same,
        "Housework": _same,
        "PurchasePrice": _text,
        "SalesPrice": _text,
        "Unit": _same,
        "VAT": _text,
    },
    defaults={
        "Active": True,
        "Type": "SERVICE",
        "VAT": Decimal("25"),
        "SalesAccount": 3001,
        "Housework": False,
    },
)

_SETTINGS = ("ALLOWED", "MANDATORY", "NOTALLOWED")
ACCOUNTS = Register(
    table="accounts",
    path="/3/accounts",
    single="Account",
    what="kontot",
    key="Number",
    listing=Listing(
        plural="Accounts",
        key="Number",
        search={"sru": "SRU"},
        sort={"number": "Number"},
    ),
    fields=(
        _i("Number", required=True, minimum=1000, maximum=9999),
        _s("Description", 200, required=True, min_length=1),
        _b("Active"),
        _s("VATCode"),
        _i("SRU"),
        _s("CostCenterSettings", enum=_SETTINGS),
        _s("ProjectSettings", enum=_SETTINGS),
        _n("BalanceBroughtForward"),
    ),
    read_only=("@url", "Year", "BalanceCarriedForward"),
    columns=dict.fromkeys(
        (
            "Active",
            "BalanceBroughtForward",
            "CostCenterSettings",
            "Description",
            "Number",
            "ProjectSettings",
            "SRU",
            "VATCode",
            "Year",
        ),
        _same,
    ),
    defaults={"Active": True, "Year": 2},
)

PROJECTS = Register(
    table="projects",
    path="/3/projects",
    single="Project",
    what="projektet",
    key="ProjectNumber",
    numbered=True,
    listing=Listing(plural="Projects", key="ProjectNumber"),
    fields=(
        _s("ProjectNumber", 20),
        _s("Description", 50, required=True, min_length=1),
        _s("ProjectLeader", 50),
        _s("ContactPerson", 50),
        _s("Status", enum=("NOTSTARTED", "ONGOING", "COMPLETED")),
        _d("StartDate"),
        _d("EndDate"),
        _s("Comments", 512),
    ),
    read_only=("@url",),
    columns=dict.fromkeys(
        ("Description", "EndDate", "ProjectLeader", "ProjectNumber", "StartDate", "Status"), _same
    ),
    defaults={"Status": "ONGOING"},
    rules=(_project_rules,),
)

COST_CENTERS = Register(
    table="costcenters",
    path="/3/costcenters",
    single="CostCenter",
    what="kostnadsstället",
    key="Code",
    listing=Listing(plural="CostCenters", key="Code"),
    fields=(
        _s("Code", 6, required=True, min_length=1),
        _s("Description", required=True, min_length=1),
        _b("Active"),
        _s("Note"),
    ),
    read_only=("@url",),
    columns=dict.fromkeys(("Active", "Code", "Description", "Note"), _same),
    defaults={"Active": True},
)

EMPLOYEES = Register(
    table="employees",
    path="/3/employees",
    single="Employee",
    what="den anställde",
    key="EmployeeId",
    numbered=True,
    listing=Listing(plural="Employees", key="EmployeeId"),
    fields=(
        _s("EmployeeId", 15, min_length=1),
        _s("FirstName", required=True),
        _s("LastName", required=True),
        _s("Email", required=True),
        _b("Inactive"),
        _s("JobTitle", 30),
    ),
    read_only=("@url", "FullName"),
    columns=dict.fromkeys(
        ("Email", "EmployeeId", "FirstName", "FullName", "Inactive", "LastName"), _same
    ),
    defaults={"Inactive": False},
    methods=frozenset({"GET", "POST", "PUT"}),
)

VOUCHER_SERIES = Register(
    table="voucherseries",
    path="/3/voucherseries",
    single="VoucherSeries",
    what="verifikationsserien",
    key="Code",
    listing=Listing(plural="VoucherSeriesCollection", key="Code"),
    fields=(_s("Code", 10, required=True, min_length=1), _s("Description", 200), _b("Manual")),
    read_only=("@url", "Year", "NextVoucherNumber"),
    columns=dict.fromkeys(("Code", "Description", "Manual", "Year"), _same),
    defaults={"Manual": True, "Year": 2},
    methods=frozenset({"GET", "POST", "PUT"}),
)

REGISTERS = (CUSTOMERS, ARTICLES, ACCOUNTS, PROJECTS, COST_CENTERS, EMPLOYEES, VOUCHER_SERIES)


def _store(books: Company, register: Register, document: Document) -> None:
    document["_modified"] = books.now()
    if register.table == "employees":
        document["FullName"] = f"{document.get('FirstName', '')} {document.get('LastName', '')}"
    books.table(register.table)[str(document[register.key])] = document


def _next_key(books: Company, register: Register) -> str:
    taken = set(books.table(register.table))
    if register is CUSTOMERS:
        taken |= set(books.used_customer_numbers)
    numbers = [int(key) for key in taken if key.isdigit()]
    return str(max(numbers, default=0) + 1)


def _create(request: Request, register: Register, body: Document) -> Document:
    books = company(request)
    document = {**register.defaults, **checked(body, register.fields, read_only=register.read_only)}
    with emulator(request).state.change():
        if register.key not in document:
            if not register.numbered:
                raise errors.invalid(f"Fältet {register.key} måste anges.", errors.REQUIRED)
            document[register.key] = _next_key(books, register)
        key = str(document[register.key])
        if books.get(register.table, key) is not None and register is not CUSTOMERS:
            raise errors.invalid(f"{register.key} {key} används redan.", errors.INVALID_VALUE)
        for rule in register.rules:
            rule(books, document, None)
        if register is CUSTOMERS:
            books.used_customer_numbers.append(key)
        _store(books, register, document)
    return document


def _find(request: Request, register: Register, key: str) -> Document:
    found = company(request).get(register.table, key)
    if found is None:
        raise errors.not_found(register.what)
    return found


def register_router(register: Register) -> APIRouter:
    """The routes of one register."""
    router = APIRouter()
    item_path = f"{register.path}/{{key}}"

    if "GET" in register.methods:

        @router.get(register.path)
        async def list_all(request: Request) -> Response:
            items = company(request).table(register.table).values()
            return listing(
                request, items, register.listing, lambda doc: register.render_item(request, doc)
            )

        @router.get(item_path)
        async def read_one(request: Request, key: str) -> Response:
            document = _find(request, register, key)
            return reply({register.single: register.render(request, document)})

    if "POST" in register.methods:

        @router.post(register.path)
        async def create(request: Request) -> Response:
            document = _create(request, register, await read_wrapped(request, register.single))
            return reply({register.single: register.render(request, document)}, 201)

    if "PUT" in register.methods:

        @router.put(item_path)
        async def update(request: Request, key: str) -> Response:
            body = await read_wrapped(request, register.single)
            changes = checked(body, register.fields, read_only=register.read_only, partial=True)
            if str(changes.get(register.key, key)) != key:
                raise errors.invalid(f"{register.key} kan inte ändras.")
            books = company(request)
            with emulator(request).state.change():
                old = _find(request, register, key)
                document = {**old, **changes}
                for rule in register.rules:
                    rule(books, document, old)
                _store(books, register, document)
            return reply({register.single: register.render(request, document)})

    if "DELETE" in register.methods:

        @router.delete(item_path, status_code=204)
        async def delete(request: Request, key: str) -> Response:
            with emulator(request).state.change():
                _find(request, register, key)
                del company(request).table(register.table)[key]
            return Response(status_code=204)

    return router
