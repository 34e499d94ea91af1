"""The Exact Online connector: neutral contract ↔ Exact Online REST API (``/api/v1/…``).

Layering as every connector: this class is the service; it maps with
:mod:`~ledgerlink.connectors.exact.mapping` and sends through the kit's
:class:`~ledgerlink.connectors._kit.requestor.Requestor` (the one owner of retries), with
:class:`~ledgerlink.connectors._kit.oauth.RefreshingAuth` keeping the 600-second access token
fresh (tokens from the hub's token store, refreshes serialised there; Exact's refresh tokens
are single use).

Every call but ``current/Me`` is under ``/api/v1/{division}/``: the connection's division,
never the user's current one. Collections are OData v2 verbose, ``{"d": {"results": […],
"__next": …}}``, 60 rows a page (1,000 on ``sync/…``), read with the kit's next-link
paginator; a next link to another host is refused (it would carry our token there).

Identifiers: accounts and sales invoices by their GUID (``ID``, ``InvoiceID``); the customer
number is the account's ``Code``; the correlation is in ``Remarks`` (see the mapping).

Incremental reads use Exact's ``sync/…`` endpoints and their ``Timestamp`` row versions (fact
sheet §2.5): customers from ``sync/CRM/Accounts``; balancing from
``sync/SalesInvoice/SalesInvoices`` (number and status) and ``read/financial/ReceivablesList``
(what is open; an invoice absent from it is paid, §2.3). A payment does not change an
invoice's ``Timestamp``, so balancing's cursor stays just below the oldest processed invoice
that is still open and keeps short marks of what it reported above that, so an invoice is
reported again only when what balancing says of it changed.

Expense import reads ``purchaseentry/PurchaseEntries`` with their lines expanded (fact sheet
§1.3 and §2.3, which marks the endpoint unverified). What it relies on, from the docblocks of
picqer/exact-php-client (``PurchaseEntry.php``, ``PurchaseEntryLine.php``, generated from
Exact's ``HlpRestAPIResourcesDetails.aspx?name=PurchaseEntryPurchaseEntries``) and Exact's
own endpoint list: the entry has ``EntryID``, ``EntryNumber``, ``Supplier``/``SupplierName``,
``Currency``, ``AmountFC``/``AmountDC``, ``VATAmountFC``/``VATAmountDC``, ``EntryDate``,
``Status`` (5 rejected, 20 open, 50 processed), ``Type`` (30 entry, 31 credit note) and
``Modified``; a line has ``AmountFC``/``AmountDC`` and ``VATAmountFC``/``VATAmountDC`` apart,
``GLAccountCode``, ``CostCenter`` (the code), ``Project`` (a GUID; no project code) and
``Description``; a read needs ``$select`` (picqer#34). Entries are not immutable (the endpoint
takes PUT and DELETE) and there is no ``sync/…`` endpoint for them (Exact's list has
``sync/Financial/TransactionLines`` but none for purchase entries), so the cursor is the
newest ``Modified`` read (``$filter=Modified ge datetime'…'``, §2.5) with marks of the entries
at that very moment, which the next read returns again and passes over (the kit's
:class:`~ledgerlink.connectors._kit.cursor.MarkedCursor`). The read follows ``__next`` to its
end in one batch: Exact pages by its own key, so a read stopped halfway could not name where
to go on by ``Modified``. An entry changed after its import is read again and its lines, known
by their ids, are not imported twice; a deleted one is not seen (no ``sync/Deleted`` for it).
An expanded line collection is cut at 60 lines with its own ``__next`` (§2.4): such an
entry's lines are read from ``purchaseentry/PurchaseEntryLines`` by its ``EntryID``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
from pydantic import BaseModel

from ledgerlink.connectors._kit.cursor import MarkedCursor, mark
from ledgerlink.connectors._kit.http import Timeouts, build_client
from ledgerlink.connectors._kit.lifecycle import Closable, ClosesClients
from ledgerlink.connectors._kit.limiter import (
    LimiterKey,
    RateLimiter,
    SlidingWindowLimiter,
    Window,
    WindowKind,
)
from ledgerlink.connectors._kit.oauth import OAuthClient, RefreshingAuth, TokenSource
from ledgerlink.connectors._kit.pagination import NextLinkPaginator, PageRequest
from ledgerlink.connectors._kit.requestor import Requestor
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import (
    Batch,
    Capabilities,
    ConnectionInfo,
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    OutgoingDocument,
    Permanent,
    PlannedRequest,
    PushResult,
    StatusUpdate,
)
from ledgerlink.connectors.exact import mapping
from ledgerlink.connectors.exact.dtos import (
    AccountDto,
    ContactDto,
    DivisionDto,
    ItemDto,
    MeDto,
    PurchaseEntryDto,
    PurchaseEntryLineDto,
    ReceivableDto,
    SalesInvoiceReadDto,
    VatCodeDto,
    to_wire,
)
from ledgerlink.connectors.exact.errors import EXACT_ERRORS
from ledgerlink.connectors.exact.settings import ExactSettings
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import TotalsRule, VatRounding
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.vat import VatTreatment
from ledgerlink.domain.work import Project

ERP = "exact"
#: Exact's limits per app × division (fact sheet §2.6): 60 calls a minute and 5,000 a day,
#: both counted in fixed windows whose ``-Reset`` headers name one moment; the server's
#: ``X-RateLimit-*`` headers win over these (the client builder defers to them).
MINUTE = Window(max_calls=60, seconds=60, kind=WindowKind.FIXED)
DAY = Window(max_calls=5_000, seconds=86_400, kind=WindowKind.FIXED)
WINDOWS = (MINUTE, DAY)

CAPABILITIES = Capabilities(
    customer_push=True,
    customer_import=True,
    contact_push=True,
    product_import=True,
    invoice_push=True,
    credit_note_push=True,
    balancing=True,
    expense_import=True,  # the lines of purchase entries (see the module docstring)
    customer_master_modes=frozenset({CustomerMaster.PSA, CustomerMaster.ERP}),
    dimensions=("project",),  # the PSA project number as each line's CostCenter
    max_heading_length=mapping.MAX_DESCRIPTION,
    max_line_description_length=mapping.MAX_LINE_DESCRIPTION,
    # Exact computes VAT on each line and adds the lines up (inferred: the fact sheet says
    # only that Exact computes its totals, §2.10; the emulator does the same).
    totals=TotalsRule(erp="Exact Online", vat=VatRounding.PER_LINE),
)

_M = TypeVar("_M", bound=BaseModel)

ACCOUNT_FIELDS = (
    "ID,Code,Name,Status,IsSales,IsSupplier,VATNumber,ChamberOfCommerce,Email,AddressLine1,"
    "AddressLine2,AddressLine3,Postcode,City,Country,SalesCurrency,Blocked,Modified"
)
ITEM_FIELDS = "ID,Code,Description,Unit,IsSalesItem,IsFractionAllowedItem"
INVOICE_FIELDS = (
    "InvoiceID,InvoiceNumber,Status,Type,Remarks,Currency,AmountFC,VATAmountFC,InvoiceDate,DueDate"
)
PURCHASE_FIELDS = (
    "EntryID,EntryNumber,Type,Status,Supplier,SupplierName,Description,Currency,EntryDate,"
    "Modified,PurchaseEntryLines"
)
PURCHASE_LINE_FIELDS = (
    "ID,EntryID,LineNumber,GLAccountCode,Description,AmountFC,AmountDC,VATAmountFC,CostCenter,"
    "Project"
)
#: What the OData filter of one request may list at most (items looked up by code).
_CODES_PER_FILTER = 20
#: The longest cursor the hub stores (``sync_cursors.cursor``), and a balancing mark's length.
MAX_CURSOR = 200
_MARK = 8


def unsupported(what: str, why: str) -> Permanent:
    """The error of a method the capabilities do not declare."""
    return Permanent(f"Exact Online: {what} is not supported by this connector ({why})")


def is_guid(text: str) -> bool:
    """Whether ``text`` is a GUID (an Exact ``ID``) rather than a number or code."""
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def parse_status_cursor(cursor: str | None) -> tuple[int, frozenset[str]]:
    """The ``Timestamp`` floor and the marks of a balancing cursor."""
    if not cursor:
        return 0, frozenset()
    floor, _, marks = cursor.partition("|")
    return int(floor or 0), frozenset(filter(None, marks.split(",")))


def status_cursor(floor: int, marks: Iterable[str]) -> str:
    """``floor`` and the marks of invoices above it already reported, as many as fit the
    hub's cursor (one left out is reported again, unchanged: harmless)."""
    text = str(floor)
    room = (MAX_CURSOR - len(text) - 1) // (_MARK + 1)
    return f"{text}|{','.join(sorted(set(marks))[:room])}"


def entry_mark(entry: PurchaseEntryDto) -> str:
    """A purchase entry's mark in the expense cursor: its id and when it was last changed."""
    modified = entry.Modified.isoformat() if entry.Modified is not None else ""
    return mark(entry.EntryID, modified)


def expense_cursor(since: MarkedCursor | None, entries: Iterable[PurchaseEntryDto]) -> str | None:
    """The expense cursor after reading ``entries`` (the whole read from ``since``): the
    newest ``Modified`` to the millisecond, and the marks of the entries changed at that
    moment; ``None`` (no change) when nothing was read."""
    stamped = [entry for entry in entries if entry.Modified is not None]
    if not stamped:
        return since.text() if since is not None else None
    newest = max(entry.Modified for entry in stamped if entry.Modified is not None)
    floor = newest.isoformat(timespec="milliseconds")
    marks = {entry_mark(entry) for entry in stamped if entry.Modified == newest}
    if since is not None and since.floor == floor:
        marks |= since.marks
    return MarkedCursor.of(floor, marks).text()


class ExactConnector(ClosesClients):
    """Connector for one Exact Online division (see the module docstring). Implements
    ``Connector``, ``CustomerSync``, ``ContactPush``, ``ProductImport``, ``InvoicePush``,
    ``StatusPull``, ``ExpenseImport`` and ``Preview``; employees and projects raise
    :class:`Permanent`."""

    def __init__(
        self,
        *,
        settings: ExactSettings,
        tokens: TokenSource,
        oauth: OAuthClient | None = None,
        transport: httpx2.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """``oauth`` is closed with the connector. Requests spend the budget of the app in
        the division (Exact counts its limits per app × division)."""
        self.settings = settings
        self.capabilities = CAPABILITIES
        self._oauth = oauth
        self._root = f"/api/v1/{settings.division}"
        self._origin = urlsplit(settings.base_url)[:2]
        budget = f"{settings.client_id}:{settings.division}"
        self._client = build_client(
            base_url=settings.base_url,
            auth=RefreshingAuth(tokens),
            # A POST answers with the whole new record (fact sheet §2.1).
            headers={"Prefer": "return=representation"},
            timeout=timeouts,
            limiter=limiter if limiter is not None else SlidingWindowLimiter(windows=WINDOWS),
            limiter_key=LimiterKey.for_secret(ERP, budget, windows=WINDOWS),
            transport=transport,
            erp=ERP,
        )
        self._api = Requestor(client=self._client, errors=EXACT_ERRORS, retry=retry)
        self._items: dict[str, ItemDto] = {}
        self._vat: list[VatCodeDto] | None = None
        self._base_currency: str | None = None

    # lifecycle ----------------------------------------------------------------------------
    def _closing(self) -> Sequence[Closable | None]:
        return (self._client, self._oauth)

    # plumbing -----------------------------------------------------------------------------
    def _path(self, resource: str) -> str:
        return f"{self._root}/{resource}"

    def _page(self, request: PageRequest, resource: str) -> Mapping[str, Any]:
        """One page's ``d`` (``results`` and maybe ``__next``)."""
        if request.url is not None:
            if urlsplit(request.url)[:2] != self._origin:
                raise Permanent(
                    f"Exact Online sent a next-page link to another host: {request.url}",
                    hint="Check the connection's base URL; report this if it is right.",
                )
            body = self._api.json("GET", request.url)
        else:
            body = self._api.json("GET", self._path(resource), params=request.params)
        page: Mapping[str, Any] = body["d"]
        return page

    def _all(self, model: type[_M], resource: str, params: tuple[tuple[str, str], ...]) -> list[_M]:
        """Every record of a collection read, following ``__next``."""
        paginator = NextLinkPaginator(items_key="results", next_key="__next", base_params=params)
        return [
            model.model_validate(row)
            for row in paginator.items(lambda request: self._page(request, resource))
        ]

    def _one(
        self, model: type[_M], resource: str, params: tuple[tuple[str, str], ...]
    ) -> _M | None:
        """The first record of a filtered read, or ``None``."""
        rows = self._page(PageRequest(params=params), resource).get("results") or []
        return model.model_validate(rows[0]) if rows else None

    def _post(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._api.json("POST", self._path(resource), body=body)["d"]
        return answer

    # Connector ----------------------------------------------------------------------------
    def verify(self) -> ConnectionInfo:
        """``current/Me`` (who consented) and the connection's division: its name and base
        currency. A division the user cannot open is refused with the ones they can."""
        me = self._me()
        division = self._division()
        details = [
            ("user", me.FullName or me.UserName or me.Email),
            ("division", str(division.Code)),
        ]
        if division.Country:
            details.append(("country", division.Country))
        return ConnectionInfo(
            company_name=division.Description,
            account_id=str(division.Code),
            base_currency=division.Currency,
            details=tuple(details),
        )

    def _me(self) -> MeDto:
        body = self._api.json(
            "GET",
            "/api/v1/current/Me",
            params=(("$select", "CurrentDivision,FullName,UserName,Email,UserID"),),
        )
        return MeDto.model_validate(body["d"]["results"][0])

    def _division(self) -> DivisionDto:
        wanted = self.settings.division
        params = (
            ("$filter", f"Code eq {wanted}"),
            ("$select", "Code,Description,Country,Currency"),
        )
        try:
            found = self._one(DivisionDto, "system/Divisions", params)
        except Permanent as error:
            if error.status != 403:
                raise
            found = None
        if found is None:
            raise Permanent(
                f"the Exact Online user who connected cannot open division {wanted}",
                hint=f"Connect again with a division they can open ({self._open_divisions()}), "
                "or give them access to the division in Exact.",
                status=403,
            )
        return found

    def _open_divisions(self) -> str:
        current = self._me().CurrentDivision
        divisions = self._api.json(
            "GET",
            f"/api/v1/{current}/system/Divisions",
            params=(("$select", "Code,Description"),),
        )["d"]["results"]
        return ", ".join(f"{d['Code']} {d['Description']}" for d in divisions) or "none"

    # CustomerSync ---------------------------------------------------------------------------
    def find_customer(self, number: str) -> ErpCustomer | None:
        """The account whose code is the (numeric) customer number, or ``None``. Exact pads
        codes to 18 characters, so the filter trims them."""
        code = mapping.customer_code(number)
        params = (
            ("$filter", f"trim(Code) eq {mapping.odata_string(code)}"),
            ("$select", ACCOUNT_FIELDS),
        )
        found = self._one(AccountDto, "crm/Accounts", params)
        return mapping.erp_customer(found) if found is not None else None

    def _customer_body(self, customer: Customer, *, code: str | None) -> dict[str, Any]:
        return to_wire(mapping.customer_to_dto(customer, code=code))

    def create_customer(self, customer: Customer) -> PushResult:
        """Create the account with the PSA's number as its code (a repeated create is
        refused: "Code … already exists"); Exact makes its GUID."""
        body = self._customer_body(customer, code=mapping.customer_code(customer.number))
        created = AccountDto.model_validate(self._post("crm/Accounts", body))
        return PushResult(external_id=created.ID or "")

    def update_customer(self, external_id: str, customer: Customer) -> None:
        """Send the PSA-mastered properties (a PUT keeps what is not sent)."""
        path = self._path(f"crm/Accounts(guid'{external_id.strip()}')")
        self._api.request("PUT", path, body=self._customer_body(customer, code=None))

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]:
        """Customers changed after ``cursor`` (a ``Timestamp``), one page a batch; suppliers
        are passed over (the cursor moves past them)."""
        since = int(cursor) if cursor else 0
        params: list[tuple[str, str]] = [
            ("$select", f"Timestamp,{ACCOUNT_FIELDS}"),
            ("$filter", f"Timestamp gt {since}L"),
        ]
        size = self.settings.page_size
        if size is not None:
            params.append(("$top", str(size)))
        page = self._page(PageRequest(params=tuple(params)), "sync/CRM/Accounts")
        rows = [AccountDto.model_validate(row) for row in page.get("results") or []]
        newest = max((row.Timestamp or 0 for row in rows), default=since)
        more = bool(page.get("__next")) or (size is not None and len(rows) >= size)
        return Batch(
            items=tuple(mapping.erp_customer(row) for row in rows if mapping.is_customer(row)),
            cursor=str(newest) if rows or cursor else None,
            more=more and bool(rows),
        )

    def _account_id(self, customer_ref: str) -> str:
        """The account GUID of a customer reference: the GUID itself (the external key), or
        a customer number looked up by code."""
        if is_guid(customer_ref):
            return customer_ref.strip()
        found = self.find_customer(customer_ref)
        if found is None:
            raise Permanent(
                f"Exact Online has no customer {customer_ref}",
                hint="Link the PSA customer to an Exact account, or let ledgerlink create it "
                "(customer master PSA).",
            )
        return found.external_id

    # ContactPush ------------------------------------------------------------------------------
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult:
        """The account's contact with the PSA contact's e-mail (or name), created if it has
        none (fact sheet §1.2: ``Account`` from the customer's external key)."""
        account = self._account_id(customer_ref)
        params = (
            ("$filter", f"Account eq guid'{account}'"),
            ("$select", "ID,Account,FirstName,LastName,FullName,Email"),
        )
        for known in self._all(ContactDto, "crm/Contacts", params):
            if mapping.same_contact(known, contact):
                return PushResult(external_id=known.ID or "", created=False)
        body = to_wire(mapping.contact_to_dto(account, contact))
        created = ContactDto.model_validate(self._post("crm/Contacts", body))
        return PushResult(external_id=created.ID or "")

    # ProductImport --------------------------------------------------------------------------
    def products(self) -> list[ErpProduct]:
        """Every Exact item (the product numbers are their codes)."""
        items = self._all(ItemDto, "logistics/Items", (("$select", ITEM_FIELDS),))
        self._items.update({item.Code.strip(): item for item in items})
        return [mapping.erp_product(item) for item in items]

    def _items_for(self, codes: Iterable[str]) -> dict[str, ItemDto]:
        """The items of these codes that Exact has (looked up once per connector)."""
        wanted = sorted({code.strip() for code in codes if code.strip()})
        missing = [code for code in wanted if code not in self._items]
        for start in range(0, len(missing), _CODES_PER_FILTER):
            chunk = missing[start : start + _CODES_PER_FILTER]
            condition = " or ".join(f"Code eq {mapping.odata_string(code)}" for code in chunk)
            params = (("$filter", condition), ("$select", ITEM_FIELDS))
            for item in self._all(ItemDto, "logistics/Items", params):
                self._items[item.Code.strip()] = item
        return {code: self._items[code] for code in wanted if code in self._items}

    def _vat_codes(self, keys: Iterable[str]) -> dict[str, str]:
        """The Exact VAT code of each key (:func:`mapping.vat_key`): the settings' choice, else
        the division's exclusive code with that percentage (lowest code first)."""
        chosen: dict[str, str] = {}
        for key in sorted(set(keys)):
            if key in self.settings.vat_codes:
                chosen[key] = self.settings.vat_codes[key]
                continue
            if key in {t.value for t in VatTreatment}:
                raise Permanent(
                    f"Exact Online needs the VAT code for {key.replace('_', ' ')} sales",
                    hint="Name Exact's VAT code for these sales in the connection's settings "
                    f'(vat_codes {{"{key}": "<code>"}}), then transfer again.',
                )
            chosen[key] = self._vat_code_of(Decimal(key))
        return chosen

    def _vat_code_of(self, percent: Decimal) -> str:
        if self._vat is None:
            params = (("$select", "Code,Description,Percentage,Type"),)
            self._vat = self._all(VatCodeDto, "vat/VATCodes", params)
        fraction = percent / 100
        fitting = [vat for vat in self._vat if vat.Percentage == fraction and vat.Type in ("E", "")]
        if not fitting:
            raise Permanent(
                f"Exact Online division {self.settings.division} has no VAT code of "
                f"{percent.normalize()} % (exclusive)",
                hint="Create the VAT code in Exact, or name the code to use for this rate in "
                "the connection's settings (vat_codes), then transfer again.",
            )
        return min(fitting, key=lambda vat: (len(vat.Code.strip()), vat.Code)).Code

    # InvoicePush ----------------------------------------------------------------------------
    def find_document(self, correlation: str) -> ErpDocument | None:
        """The sales invoice whose ``Remarks`` is ``correlation`` (a processed one first)."""
        reference = mapping.correlation_reference(correlation)
        params = (
            ("$filter", f"Remarks eq {mapping.odata_string(reference)}"),
            ("$select", INVOICE_FIELDS),
        )
        found = self._all(SalesInvoiceReadDto, "salesinvoice/SalesInvoices", params)
        if not found:
            return None
        chosen = min(found, key=lambda dto: dto.Status != mapping.PROCESSED)
        return mapping.erp_document(chosen)

    def _invoice_body(self, document: OutgoingDocument, *, account_id: str) -> dict[str, Any]:
        items = self._items_for(document.line_products)
        vat_codes = self._vat_codes(mapping.vat_keys(document))
        dto = mapping.invoice_to_dto(
            document,
            account_id=account_id,
            journal=self.settings.sales_journal,
            items=items,
            vat_codes=vat_codes,
        )
        return to_wire(dto)

    def create_document(self, document: OutgoingDocument) -> ErpDocument:
        """Create the sales invoice (8020) or credit note (8021), unprocessed; Exact answers
        it with its totals."""
        body = self._invoice_body(document, account_id=self._account_id(document.customer_ref))
        created = SalesInvoiceReadDto.model_validate(self._post("salesinvoice/SalesInvoices", body))
        if created.AmountFC is None:  # an answer without the representation
            path = self._path(f"salesinvoice/SalesInvoices(guid'{created.InvoiceID}')")
            answer = self._api.json("GET", path, params=(("$select", INVOICE_FIELDS),))
            created = SalesInvoiceReadDto.model_validate(answer["d"])
        return mapping.erp_document(created)

    # StatusPull -----------------------------------------------------------------------------
    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]:
        """Balancing: processed invoices of ours (with a correlation) above the cursor's
        ``Timestamp`` floor, with what the receivables list still holds of each, each
        reported when what balancing says of it changed (see the module docstring)."""
        floor, seen = parse_status_cursor(cursor)
        params = (
            ("$select", f"Timestamp,{INVOICE_FIELDS}"),
            ("$filter", f"Timestamp gt {floor}L"),
        )
        rows = self._all(SalesInvoiceReadDto, "sync/SalesInvoice/SalesInvoices", params)
        processed = [r for r in rows if r.Remarks and r.Status == mapping.PROCESSED]
        open_amounts = self._open_amounts() if processed else {}
        updates: list[StatusUpdate] = []
        reported: dict[str, int] = {}  # mark → Timestamp
        still_open: list[int] = []
        for row in processed:
            number = row.InvoiceNumber
            update = mapping.status_update(row, open_amounts.get(number) if number else None)
            if update is None:
                continue
            mark = mapping.status_mark(update)
            reported[mark] = row.Timestamp or 0
            if not update.paid:
                still_open.append(row.Timestamp or 0)
            if mark not in seen:
                updates.append(update)
        newest = max((row.Timestamp or 0 for row in rows), default=floor)
        following = min(still_open) - 1 if still_open else newest
        marks = [mark for mark, stamp in reported.items() if stamp > following]
        return Batch(items=tuple(updates), cursor=status_cursor(following, marks))

    def _open_amounts(self) -> dict[int, Decimal]:
        """What is open per invoice number: the sum of its rows in the receivables list."""
        params = (("$select", "InvoiceNumber,Amount,CurrencyCode,DueDate"),)
        sums: dict[int, Decimal] = {}
        for row in self._all(ReceivableDto, "read/financial/ReceivablesList", params):
            if row.InvoiceNumber is not None:
                sums[row.InvoiceNumber] = sums.get(row.InvoiceNumber, Decimal(0)) + row.Amount
        return sums

    # Preview --------------------------------------------------------------------------------
    def preview_customer(self, customer: Customer) -> list[PlannedRequest]:
        """The customer create a transfer would send."""
        body = self._customer_body(customer, code=mapping.customer_code(customer.number))
        return [PlannedRequest("POST", self._path("crm/Accounts"), body, "create the customer")]

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]:
        """The writes a transfer would send: the new customer first, if any (the invoice
        then names it by the GUID Exact will give it), then the sales invoice or credit
        note. Reads the items and VAT codes the lines need."""
        planned: list[PlannedRequest] = []
        if new_customer is not None:
            planned = self.preview_customer(new_customer)
            account = f"<ID of new account {mapping.customer_code(new_customer.number)}>"
        else:
            account = self._account_id(document.customer_ref)
        body = self._invoice_body(document, account_id=account)
        what = "credit note" if document.invoice.is_credit_note else "invoice"
        path = self._path("salesinvoice/SalesInvoices")
        planned.append(PlannedRequest("POST", path, body, f"create the sales {what}"))
        return planned

    # not supported ------------------------------------------------------------------------------
    def ensure_employee(self, employee: Employee) -> PushResult:
        """Exact's sales people are users an Exact administrator adds; the integration
        creates none (fact sheet §1.2)."""
        raise unsupported("employee push", "an Exact administrator adds users")

    def ensure_project(self, project: Project, customer_ref: str) -> PushResult:
        """Projects are not sent: the project number goes on each line as its cost centre."""
        raise unsupported("project push", "the project number is each line's cost centre")

    # ExpenseImport ----------------------------------------------------------------------------
    def expenses(self, cursor: str | None) -> Batch[ErpExpense]:
        """The lines of the purchase entries changed since the cursor, each an expense (see
        the module docstring), in one batch."""
        since = MarkedCursor.parse(cursor)
        params: list[tuple[str, str]] = [
            ("$select", PURCHASE_FIELDS),
            ("$expand", "PurchaseEntryLines"),
        ]
        if since is not None:
            params.append(("$filter", f"Modified ge datetime'{since.floor}'"))
        paginator = NextLinkPaginator(
            items_key="results", next_key="__next", base_params=tuple(params)
        )
        rows = paginator.items(lambda request: self._page(request, "purchaseentry/PurchaseEntries"))
        entries = [self._purchase_entry(row) for row in rows]
        fresh = [e for e in entries if since is None or not since.seen(entry_mark(e))]
        base = self._division_currency() if fresh else ""  # read only when there is news
        items = [expense for e in fresh for expense in mapping.expenses_of(e, base)]
        return Batch(items=tuple(items), cursor=expense_cursor(since, entries))

    def _purchase_entry(self, row: Mapping[str, Any]) -> PurchaseEntryDto:
        """An entry as read, with all of its lines (those past the expanded 60 read apart)."""
        expanded = row.get("PurchaseEntryLines")
        lines: list[Any] = []
        if isinstance(expanded, Mapping):
            lines = list(expanded.get("results") or [])
            if expanded.get("__next"):
                params = (
                    ("$filter", f"EntryID eq guid'{row['EntryID']}'"),
                    ("$select", PURCHASE_LINE_FIELDS),
                )
                read = self._all(PurchaseEntryLineDto, "purchaseentry/PurchaseEntryLines", params)
                lines = [line.model_dump() for line in read]
        return PurchaseEntryDto.model_validate({**row, "PurchaseEntryLines": lines})

    def _division_currency(self) -> str:
        """The division's own currency (the one of ``AmountDC``), read once."""
        if self._base_currency is None:
            self._base_currency = self._division().Currency
        return self._base_currency
