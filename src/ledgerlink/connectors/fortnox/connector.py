"""The Fortnox connector: neutral contract ↔ Fortnox API v3 (``/3/…``).

Layering as every connector: this class is the service; it maps with
:mod:`~ledgerlink.connectors.fortnox.mapping` and sends through the kit's
:class:`~ledgerlink.connectors._kit.requestor.Requestor` (the one owner of retries), with
:class:`~ledgerlink.connectors._kit.oauth.RefreshingAuth` keeping the OAuth2 token fresh
(tokens from the hub's token store; refreshes serialised across processes there).

Identifiers: customers by ``CustomerNumber``; documents by ``DocumentNumber``, which Fortnox
keeps from draft to booked invoice. Every draft carries the correlation in
``ExternalInvoiceReference1``; the ``externalinvoicereference1`` search is LIKE (a substring),
so what it finds is compared exactly.

Credit notes are credit invoices referencing the invoice they credit (see
:mod:`~ledgerlink.connectors.fortnox.mapping`): the connector reads that invoice first and
references it only when Fortnox has it booked, for the same customer.

A draft dated in the period the company locked in Fortnox is refused before it is sent: Fortnox
takes the draft but its user cannot book it (bookkeeping in a locked period is refused,
2000401), so the transfer would succeed into a dead end. The locked period
(``GET /3/settings/lockedperiod``, fact sheet §2.9) is read once per :data:`LOCK_TTL` and read
again before a document is refused, so a period unlocked a moment ago is seen.

Projects are found by their number (``GET /3/projects/{n}``) before one is created, so a lost
answer, or a project someone made in Fortnox, is linked instead of duplicated.

Expense import reads the chosen journal's vouchers by number, per financial year: vouchers
are never changed or deleted through Fortnox's API and are numbered in order per series and
year, so the cursor is the last voucher number read in each financial year in play.

Incremental reads (customers, balancing) use ``lastmodified``, which Fortnox compares at
minute granularity in Swedish local time, and Fortnox's list items carry no modification time:
the cursor is the server's own time (its ``Date`` header) when a read began, a minute early,
so nothing changed during a read is missed. Balancing's cursor also keeps short marks of what it
reported of the invoices of that last minute, so a document it has reported is not reported
again unchanged (as many marks as fit the hub's 200-character cursor).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx2
import structlog
from pydantic import BaseModel

from ledgerlink.connectors._kit.http import Timeouts, build_client
from ledgerlink.connectors._kit.lifecycle import Closable, ClosesClients
from ledgerlink.connectors._kit.limiter import (
    LimiterKey,
    RateLimiter,
    SlidingWindowLimiter,
    Window,
)
from ledgerlink.connectors._kit.oauth import OAuthClient, RefreshingAuth, TokenSource
from ledgerlink.connectors._kit.pagination import PageNumberPaginator, PageRequest
from ledgerlink.connectors._kit.requestor import Requestor, decode_json
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import (
    AuthExpired,
    Batch,
    Capabilities,
    ConnectionInfo,
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    FieldError,
    OutgoingDocument,
    Permanent,
    PlannedRequest,
    PushResult,
    StatusUpdate,
)
from ledgerlink.connectors.fortnox import mapping
from ledgerlink.connectors.fortnox.dtos import (
    ArticleDto,
    CompanyInformationDto,
    CustomerDto,
    FinancialYearDto,
    InvoiceReadDto,
    MeDto,
    ProjectDto,
    VoucherDto,
    VoucherItemDto,
    to_wire,
)
from ledgerlink.connectors.fortnox.errors import FORTNOX_ERRORS, LOCKED_HINT
from ledgerlink.connectors.fortnox.settings import FortnoxSettings
from ledgerlink.connectors.fortnox.vouchers import FortnoxExpenseExport, export_capabilities
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import TotalsRule, VatRounding
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.work import Project

ERP = "fortnox"
#: Fortnox's limit: 25 requests in any 5 seconds per access token, i.e. per app and company
#: (fact sheet §2.6); spent evenly (about 4.8 a second), as SDKs found 5 a second still 429s.
RATE = Window(max_calls=25, seconds=5)
WINDOWS = (RATE,)
#: Fortnox keeps every company's books in Swedish kronor; its API names no base currency.
BASE_CURRENCY = "SEK"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: How much earlier than the server's time a cursor starts (``lastmodified`` counts minutes).
OVERLAP = timedelta(minutes=1)

#: How long the company's locked period is taken as read (seconds).
LOCK_TTL = 300.0
#: Vouchers read per expense batch (each is one request), so a first import of a long
#: history commits its progress as it goes.
EXPENSE_BATCH = 50
#: Financial years an expense cursor remembers (the newest; older ones are closed).
EXPENSE_YEARS = 4

CAPABILITIES = Capabilities(
    customer_push=True,
    customer_import=True,
    # Contacts and employees are not transferred to Fortnox (fact sheet §1.2): the contact's
    # name is the invoice's "Er referens" (YourReference), the employee's "Vår referens"
    # (OurReference), both from the PSA document.
    contact_push=False,
    employee_push=False,
    project_push=True,
    product_import=True,
    invoice_push=True,
    credit_note_push=True,
    balancing=True,
    expense_import=True,
    expense_export=True,  # on for a connection whose setup chose a voucher series
    customer_master_modes=frozenset({CustomerMaster.PSA, CustomerMaster.ERP}),
    dimensions=("project",),
    max_heading_length=mapping.MAX_REMARKS,
    # Fortnox computes VAT per rate on the document's rows and rounds a SEK invoice's total
    # to whole kronor with RoundOff (fact sheet §2.10; the emulator does the same).
    totals=TotalsRule(erp="Fortnox", vat=VatRounding.PER_CODE, whole_units=frozenset({"SEK"})),
)

_M = TypeVar("_M", bound=BaseModel)


def unsupported(what: str) -> Permanent:
    """The error of a method the capabilities do not declare."""
    return Permanent(f"Fortnox: {what} is not supported by this connector")


def cursor_time(date_header: str | None) -> str:
    """A ``lastmodified`` value from the server's ``Date`` header: its time in Stockholm, a
    minute early (see the module docstring); without a header, now."""
    moment = parsedate_to_datetime(date_header) if date_header else datetime.now(STOCKHOLM)
    return (moment.astimezone(STOCKHOLM) - OVERLAP).strftime("%Y-%m-%d %H:%M")


#: The longest cursor the hub stores (``sync_cursors.cursor``).
MAX_CURSOR = 200
_MARK = 8


def status_mark(dto: InvoiceReadDto) -> str:
    """A short mark of an invoice's number and what balancing says of it."""
    text = f"{dto.DocumentNumber}|{mapping.status_fingerprint(dto)}"
    return hashlib.sha256(text.encode()).hexdigest()[:_MARK]


def status_cursor(since: str, marks: Sequence[str]) -> str:
    """``since`` and the marks of the invoices already reported that the next read will see
    again, as many as fit the hub's cursor (one left out is reported again: harmless)."""
    room = (MAX_CURSOR - len(since) - 1) // (_MARK + 1)
    return f"{since}|{','.join(sorted(set(marks))[:room])}"


def expense_cursor(series: str, read: Mapping[int, int]) -> str:
    """``series`` and the last voucher number read per financial year id, the newest
    :data:`EXPENSE_YEARS` years: ``A|3:12,4:0``."""
    kept = sorted(read)[-EXPENSE_YEARS:]
    return f"{series}|{','.join(f'{year}:{read[year]}' for year in kept)}"


def parse_expense_cursor(cursor: str | None, series: str) -> dict[int, int]:
    """The last voucher number read per financial year; nothing when the cursor is of
    another series (the journal chosen in setup changed) or there is none."""
    if not cursor:
        return {}
    kept, _, marks = cursor.partition("|")
    if kept != series:
        return {}
    read: dict[int, int] = {}
    for mark in filter(None, marks.split(",")):
        year, _, number = mark.partition(":")
        read[int(year)] = int(number)
    return read


def credited_document(document: OutgoingDocument) -> str:
    """The ERP id (Fortnox document number) of the invoice a credit note credits, as the
    engine resolved it ("" when that invoice did not go to Fortnox)."""
    return document.credits_ref.strip()


def parse_status_cursor(cursor: str | None) -> tuple[str | None, frozenset[str]]:
    """The ``lastmodified`` time and the marks of a balancing cursor."""
    if not cursor:
        return None, frozenset()
    since, _, marks = cursor.partition("|")
    return since, frozenset(filter(None, marks.split(",")))


class FortnoxConnector(FortnoxExpenseExport, ClosesClients):
    """Connector for one Fortnox company (see the module docstring). Implements
    ``Connector``, ``CustomerSync``, ``ProjectPush``, ``ProductImport``, ``InvoicePush``,
    ``StatusPull``, ``ExpenseImport`` and ``Preview``; contacts and employees are not
    transferred to Fortnox and raise :class:`Permanent`."""

    def __init__(
        self,
        *,
        settings: FortnoxSettings,
        tokens: TokenSource,
        credential: str,
        oauth: OAuthClient | None = None,
        transport: httpx2.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """``credential`` identifies whose rate budget requests spend (the token store's
        credential id); ``oauth`` is closed with the connector."""
        self.settings = settings
        self.capabilities = export_capabilities(CAPABILITIES, settings)
        self._oauth = oauth
        self._client = build_client(
            base_url=settings.base_url,
            auth=RefreshingAuth(tokens),
            timeout=timeouts,
            limiter=limiter if limiter is not None else SlidingWindowLimiter(windows=WINDOWS),
            limiter_key=LimiterKey.for_secret(ERP, credential, windows=WINDOWS),
            transport=transport,
            erp=ERP,
        )
        self._api = Requestor(client=self._client, errors=FORTNOX_ERRORS, retry=retry)
        self._locked: tuple[float, date | None] | None = None
        self._log = structlog.get_logger("ledgerlink.connectors.fortnox")

    # lifecycle ----------------------------------------------------------------------------
    def _closing(self) -> Sequence[Closable | None]:
        return (self._client, self._oauth)

    # plumbing -----------------------------------------------------------------------------
    def _get(
        self, model: type[_M], path: str, wrapper: str, *, params: tuple[tuple[str, str], ...] = ()
    ) -> _M:
        if params:
            document = decode_json(self._api.request("GET", path, params=params).content)
        else:
            document = self._api.json("GET", path)
        return model.model_validate(document[wrapper])

    def _get_or_none(self, model: type[_M], path: str, wrapper: str) -> _M | None:
        try:
            return self._get(model, path, wrapper)
        except Permanent as error:
            if error.status == 404:
                return None
            raise

    def _pages(
        self, path: str, plural: str, *, params: tuple[tuple[str, str], ...] = ()
    ) -> Iterator[tuple[Mapping[str, Any], httpx2.Response]]:
        """Every page of a list read, with its response (for its ``Date`` header)."""
        paginator = PageNumberPaginator(
            items_key=plural,
            page_size=self.settings.page_size,
            base_params=params,
            total_pages=lambda page: int(page["MetaInformation"]["@TotalPages"]),
        )
        answers: list[httpx2.Response] = []

        def fetch(request: PageRequest) -> dict[str, Any]:
            answer = self._api.request("GET", path, params=request.params)
            answers.append(answer)
            page: dict[str, Any] = decode_json(answer.content)
            return page

        for page in paginator.pages(fetch):
            yield page, answers[-1]

    def _items(
        self, model: type[_M], path: str, plural: str, *, params: tuple[tuple[str, str], ...] = ()
    ) -> tuple[list[_M], str | None]:
        """Every item of a list read, and the server's ``Date`` of its first page."""
        items: list[_M] = []
        started: str | None = None
        for page, answer in self._pages(path, plural, params=params):
            if started is None:
                started = answer.headers.get("date")
            items.extend(model.model_validate(item) for item in page.get(plural) or [])
        return items, started

    # Connector ----------------------------------------------------------------------------
    def verify(self) -> ConnectionInfo:
        """``GET /3/me`` (who consented, or the service account) and the company's
        information: its name and database number."""
        me = self._get(MeDto, "/3/me", "MeInformation")
        company = self._get(CompanyInformationDto, "/3/companyinformation", "CompanyInformation")
        details = [("user", me.Name or me.Email or me.Id)]
        if company.OrganizationNumber:
            details.append(("organisation_number", company.OrganizationNumber))
        return ConnectionInfo(
            company_name=company.CompanyName,
            account_id=company.DatabaseNumber or company.OrganizationNumber,
            base_currency=BASE_CURRENCY,
            details=tuple(details),
        )

    # CustomerSync ---------------------------------------------------------------------------
    def find_customer(self, number: str) -> ErpCustomer | None:
        """The Fortnox customer with this number, or ``None``."""
        text = number.strip()
        if not text or "/" in text:
            return None
        dto = self._get_or_none(CustomerDto, f"/3/customers/{quote(text, safe='')}", "Customer")
        return mapping.erp_customer(dto) if dto is not None else None

    def _customer_body(self, customer: Customer, *, number: str | None) -> dict[str, Any]:
        dto = mapping.customer_to_dto(
            customer, home_country=self.settings.home_country, number=number
        )
        return {"Customer": to_wire(dto)}

    def _invoice_body(self, document: OutgoingDocument) -> dict[str, Any]:
        dto = mapping.invoice_to_dto(
            document, vat_accounts=self.settings.vat_accounts, credits=self._credited(document)
        )
        return {"Invoice": to_wire(dto)}

    def _credited(self, document: OutgoingDocument) -> str | None:
        """The Fortnox invoice a credit note references: the one it credits, when Fortnox
        has it booked (not cancelled) for the same customer; else ``None``."""
        if not document.invoice.is_credit_note:
            return None
        number = credited_document(document)
        if not number or "/" in number:
            return None
        path = f"/3/invoices/{quote(number, safe='')}"
        original = self._get_or_none(InvoiceReadDto, path, "Invoice")
        if (
            original is None
            or not original.Booked
            or original.Cancelled
            or original.CustomerNumber != document.customer_ref.strip()
        ):
            self._log.info(
                "credit note without CreditInvoiceReference",
                credited=number,
                reason="not booked in Fortnox" if original is not None else "not in Fortnox",
            )
            return None
        return original.DocumentNumber

    def create_customer(self, customer: Customer) -> PushResult:
        """Create the customer with its PSA number (a repeated create collides: 2000637)."""
        body = self._customer_body(customer, number=mapping.customer_number(customer.number))
        answer = self._api.json("POST", "/3/customers", body=body)
        created = CustomerDto.model_validate(answer["Customer"])
        return PushResult(external_id=created.CustomerNumber or "")

    def update_customer(self, external_id: str, customer: Customer) -> None:
        """Send the PSA-mastered properties (Fortnox's PUT keeps what is not sent)."""
        path = f"/3/customers/{quote(external_id.strip(), safe='')}"
        self._api.request("PUT", path, body=self._customer_body(customer, number=None))

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]:
        """Customers changed since ``cursor`` (a ``lastmodified`` time); the read overlaps a
        minute and the engine links idempotently."""
        params = (("lastmodified", cursor),) if cursor else ()
        items, started = self._items(CustomerDto, "/3/customers", "Customers", params=params)
        return Batch(
            items=tuple(mapping.erp_customer(dto) for dto in items),
            cursor=cursor_time(started),
        )

    # ProductImport --------------------------------------------------------------------------
    def products(self) -> list[ErpProduct]:
        """Every Fortnox article."""
        items, _ = self._items(ArticleDto, "/3/articles", "Articles")
        return [mapping.erp_product(dto) for dto in items]

    # InvoicePush ----------------------------------------------------------------------------
    def find_document(self, correlation: str) -> ErpDocument | None:
        """The invoice whose ``ExternalInvoiceReference1`` is ``correlation`` (exactly; the
        search is LIKE), read whole for its totals. A cancelled one counts only when nothing
        else carries the correlation."""
        wanted = correlation.strip()
        found, _ = self._items(
            InvoiceReadDto,
            "/3/invoices",
            "Invoices",
            params=(("externalinvoicereference1", wanted),),
        )
        mine = [dto for dto in found if dto.ExternalInvoiceReference1 == wanted]
        if not mine:
            return None
        chosen = min(mine, key=lambda dto: (dto.Cancelled, int(dto.DocumentNumber)))
        whole = self._get(InvoiceReadDto, f"/3/invoices/{chosen.DocumentNumber}", "Invoice")
        return mapping.erp_document(whole)

    def create_document(self, document: OutgoingDocument) -> ErpDocument:
        """Create the draft (unbooked) invoice or credit note; Fortnox answers it whole. One
        dated in Fortnox's locked period is refused first (see the module docstring)."""
        self._check_open_period(document.invoice.invoice_date)
        body = self._invoice_body(document)
        answer = self._api.json("POST", "/3/invoices", body=body)
        return mapping.erp_document(InvoiceReadDto.model_validate(answer["Invoice"]))

    def _locked_until(self, *, fresh: bool) -> date | None:
        """The last locked day in Fortnox (``None``: nothing locked), read at most once per
        :data:`LOCK_TTL` unless ``fresh``."""
        now = time.monotonic()
        if fresh or self._locked is None or now - self._locked[0] > LOCK_TTL:
            try:
                answer = self._api.json("GET", "/3/settings/lockedperiod")
            except AuthExpired as error:
                if error.status != 403:
                    raise
                # A connection made before the connector asked for the settings scope: it
                # transfers as before, without the check, until it is connected again.
                self._log.warning("locked period not readable (no settings scope)")
                answer = {}
            end = (answer.get("LockedPeriod") or {}).get("EndDate") or None
            self._locked = (now, date.fromisoformat(str(end)) if end else None)
        return self._locked[1]

    def _check_open_period(self, day: date) -> None:
        """Refuse a document dated on or before the locked day (read again to be sure)."""
        locked = self._locked_until(fresh=False)
        if locked is None or day > locked:
            return
        locked = self._locked_until(fresh=True)
        if locked is None or day > locked:
            return
        said = f"LockedPeriod EndDate {locked.isoformat()} (GET /3/settings/lockedperiod)"
        raise Permanent(
            f"Fortnox: the invoice date {day.isoformat()} is in the period locked up to "
            f"{locked.isoformat()}; Fortnox's user could not book the draft",
            erp_text=said,
            hint=LOCKED_HINT,
            field_errors=(FieldError(path="InvoiceDate", message=said, value=day.isoformat()),),
        )

    # StatusPull -----------------------------------------------------------------------------
    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]:
        """Balancing: booked and cancelled invoices changed since the cursor, each reported
        when what balancing says of it changed (see the module docstring)."""
        since, seen = parse_status_cursor(cursor)
        params = (("lastmodified", since),) if since else ()
        items, started = self._items(InvoiceReadDto, "/3/invoices", "Invoices", params=params)
        updates: list[StatusUpdate] = []
        known: set[str] = set()
        for dto in items:
            if not dto.ExternalInvoiceReference1:
                continue  # not one of ours
            mark = status_mark(dto)
            known.add(mark)
            if mark in seen:
                continue
            update = mapping.status_update(dto)
            if update is not None:
                updates.append(update)
        following = cursor_time(started)
        recent, _ = self._items(
            InvoiceReadDto, "/3/invoices", "Invoices", params=(("lastmodified", following),)
        )
        again = [mark for mark in (status_mark(dto) for dto in recent) if mark in known]
        return Batch(items=tuple(updates), cursor=status_cursor(following, again))

    # Preview --------------------------------------------------------------------------------
    def preview_customer(self, customer: Customer) -> list[PlannedRequest]:
        """The customer create a transfer would send."""
        body = self._customer_body(customer, number=mapping.customer_number(customer.number))
        return [PlannedRequest("POST", "/3/customers", body, "create the customer")]

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]:
        """The writes a transfer would send: the new customer first, if any, then the
        draft invoice or credit note."""
        planned: list[PlannedRequest] = []
        if new_customer is not None:
            planned = self.preview_customer(new_customer)
            if not document.customer_ref:
                number = mapping.customer_number(new_customer.number)
                document = OutgoingDocument(
                    invoice=document.invoice,
                    correlation=document.correlation,
                    customer_ref=number,
                    line_products=document.line_products,
                )
        body = self._invoice_body(document)
        planned.append(PlannedRequest("POST", "/3/invoices", body, "create the draft invoice"))
        return planned

    # ProjectPush ----------------------------------------------------------------------------
    def ensure_project(self, project: Project, customer_ref: str) -> PushResult:
        """The Fortnox project with the PSA project's number (letters and digits, see
        :func:`~ledgerlink.connectors.fortnox.mapping.project_number`), created when Fortnox
        has none. Fortnox projects belong to no customer, so ``customer_ref`` is not sent."""
        body = {"Project": to_wire(mapping.project_to_dto(project))}
        number = body["Project"]["ProjectNumber"]
        found = self._get_or_none(ProjectDto, f"/3/projects/{quote(number, safe='')}", "Project")
        if found is not None:
            return PushResult(external_id=found.ProjectNumber or number, created=False)
        answer = self._api.json("POST", "/3/projects", body=body)
        created = ProjectDto.model_validate(answer["Project"])
        return PushResult(external_id=created.ProjectNumber or number)

    # ExpenseImport --------------------------------------------------------------------------
    def expenses(self, cursor: str | None) -> Batch[ErpExpense]:
        """Expense entries of the vouchers in the chosen journal since the cursor, at most
        :data:`EXPENSE_BATCH` vouchers a batch (see the module docstring); nothing, and no
        request, until a journal and accounts are chosen."""
        settings = self.settings
        if not settings.expense_import_set_up:
            self._log.info("expense import not set up: choose a journal and accounts")
            return Batch(items=(), cursor=None)
        series = settings.expense_import_series.strip()
        accounts = frozenset(settings.expense_import_accounts)
        read = parse_expense_cursor(cursor, series)
        years, _ = self._items(FinancialYearDto, "/3/financialyears", "FinancialYears")
        years.sort(key=lambda year: year.FromDate)
        if read:
            known = [index for index, year in enumerate(years) if year.Id in read]
            years = years[min(known) :] if known else years
        items: list[ErpExpense] = []
        vouchers = 0
        for year in years:
            last = read.get(year.Id, 0)
            listed, _ = self._items(
                VoucherItemDto,
                f"/3/vouchers/sublist/{quote(series, safe='')}",
                "Vouchers",
                params=(("financialyear", str(year.Id)),),
            )
            for number in sorted({v.VoucherNumber for v in listed if v.VoucherNumber > last}):
                if vouchers == EXPENSE_BATCH:
                    return Batch(items=tuple(items), cursor=expense_cursor(series, read), more=True)
                voucher = self._get(
                    VoucherDto,
                    f"/3/vouchers/{quote(series, safe='')}/{number}",
                    "Voucher",
                    params=(("financialyear", str(year.Id)),),
                )
                items += mapping.expenses_of(voucher, accounts)
                read[year.Id] = number
                vouchers += 1
            read.setdefault(year.Id, last)
        return Batch(items=tuple(items), cursor=expense_cursor(series, read))

    # not transferred to Fortnox ---------------------------------------------------------------
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult:
        """Fortnox gets no contacts: the name goes on the invoice as "Er referens"."""
        raise unsupported("contact push")

    def ensure_employee(self, employee: Employee) -> PushResult:
        """Fortnox gets no employees: the name goes on the invoice as "Vår referens"."""
        raise unsupported("employee push")
