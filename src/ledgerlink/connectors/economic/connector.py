"""The e-conomic connector: neutral contract ↔ e-conomic legacy REST API.

Layering (stripe-python style): this class is the service; it maps with
:mod:`~ledgerlink.connectors.economic.mapping` and sends through a
:class:`~ledgerlink.connectors._kit.requestor.Requestor`, which classifies and retries. Reads
page with :class:`~ledgerlink.connectors._kit.pagination.SkipPagesPaginator`.

Identifiers: customers by customer number; contacts by customer contact number; employees by
employee number; documents by draft number until e-conomic books them, then by invoice number
(the draft ceases to exist). Every draft carries the correlation in ``references.other``,
which :meth:`EconomicConnector.find_document` searches in drafts and booked invoices.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

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
from ledgerlink.connectors._kit.pagination import PageRequest, SkipPagesPaginator
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
from ledgerlink.connectors.economic import mapping
from ledgerlink.connectors.economic.dtos import (
    AccountingYearDto,
    BookedInvoiceDto,
    ContactDto,
    CustomerDto,
    DraftInvoiceDto,
    EmployeeDto,
    EntryDto,
    ProductDto,
    ProjectDto,
    ProjectPage,
    SelfDto,
    to_wire,
)
from ledgerlink.connectors.economic.errors import ECONOMIC_ERRORS
from ledgerlink.connectors.economic.settings import EconomicSettings
from ledgerlink.connectors.economic.urls import encode_id, filter_value
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import TotalsRule, VatRounding
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.work import Project

ERP = "economic"
#: e-conomic's fair-use budget: 50 000 calls per 24 hours per agreement (its fair use policy).
FAIR_USE = Window(max_calls=50_000, seconds=24 * 3600)
#: The token-bucket limit e-conomic rolls out from December 2025, announced by a third party
#: (Apideck's integration guide) without numbers; ours, as the emulator's: at most 300 calls in
#: any 10 seconds per agreement. 100 go back to back, then about 20 a second. A 429 and its
#: Retry-After (the server's signal) always win.
BURST = Window(max_calls=300, seconds=10, burst=100)
#: Both, as every request spends them.
WINDOWS = (BURST, FAIR_USE)
#: ``$in:`` filters take at most 200 values.
MAX_IN_VALUES = 200

_M = TypeVar("_M", bound=BaseModel)


def capabilities_for(settings: EconomicSettings) -> Capabilities:
    """What the connector does with an agreement set up as ``settings`` says: projects only
    with the project module, expense import only with expense accounts chosen."""
    return Capabilities(
        customer_push=True,
        customer_import=True,
        contact_push=True,
        employee_push=True,
        project_push=settings.project_module,
        product_import=True,
        invoice_push=True,
        credit_note_push=True,
        balancing=True,
        expense_import=bool(settings.expense_accounts),
        customer_master_modes=frozenset({CustomerMaster.PSA, CustomerMaster.ERP}),
        dimensions=("project",) if settings.project_module else (),
        max_heading_length=mapping.MAX_HEADING,
        max_line_description_length=mapping.MAX_LINE_DESCRIPTION,
        # e-conomic computes VAT server-side from the VAT zone on the document's net amount
        # per rate (economic.md §2.10), as the PSA does; roundingAmount stays 0.
        totals=TotalsRule(erp="e-conomic", vat=VatRounding.PER_CODE),
    )


class EconomicAuth(httpx2.Auth):
    """The two token headers e-conomic authenticates every request with."""

    def __init__(self, *, app_secret_token: str, agreement_grant_token: str) -> None:
        self._app = app_secret_token
        self._grant = agreement_grant_token

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["X-AppSecretToken"] = self._app
        request.headers["X-AgreementGrantToken"] = self._grant
        yield request


class EconomicConnector(ClosesClients):
    """Connector for one e-conomic agreement (see the module docstring).

    Implements ``Connector``, ``CustomerSync``, ``ContactPush``, ``EmployeePush``,
    ``ProductImport``, ``InvoicePush``, ``StatusPull`` and ``ExpenseImport``, and
    ``ProjectPush`` through the newer Projects API when the agreement has the project module
    (the legacy REST API has no projects resource).
    """

    def __init__(
        self,
        *,
        app_secret_token: str,
        agreement_grant_token: str,
        settings: EconomicSettings,
        transport: httpx2.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.capabilities = capabilities_for(settings)
        self._client = build_client(
            base_url=settings.base_url,
            auth=EconomicAuth(
                app_secret_token=app_secret_token, agreement_grant_token=agreement_grant_token
            ),
            timeout=timeouts,
            limiter=limiter if limiter is not None else SlidingWindowLimiter(windows=WINDOWS),
            limiter_key=LimiterKey.for_secret(ERP, agreement_grant_token, windows=WINDOWS),
            transport=transport,
            erp=ERP,
        )
        self._api = Requestor(client=self._client, errors=ECONOMIC_ERRORS, retry=retry)
        self._departments: dict[str, str] = {}
        # Customers this connector read or wrote, by number: a draft needs its customer's
        # payment terms and VAT zone, and re-reading it before every draft would double the
        # requests per invoice. A connector lives for one worker run (the provider's cache).
        self._customers: dict[int, CustomerDto] = {}
        self._base_currency: str | None = None
        self._log = structlog.get_logger("ledgerlink.connectors.economic")

    # lifecycle ----------------------------------------------------------------------------
    def _closing(self) -> Sequence[Closable | None]:
        return (self._client,)

    # plumbing -----------------------------------------------------------------------------
    def _get(self, model: type[_M], path: str) -> _M:
        return model.model_validate(self._api.json("GET", path))

    def _get_or_none(self, model: type[_M], path: str) -> _M | None:
        try:
            return self._get(model, path)
        except Permanent as error:
            if error.status == 404:
                return None
            raise

    def _items(
        self,
        model: type[_M],
        path: str,
        *,
        filter_: str | None = None,
        sort: str | None = None,
        max_pages: int | None = None,
        more: list[bool] | None = None,
    ) -> Iterator[_M]:
        base: list[tuple[str, str]] = []
        if filter_:
            base.append(("filter", filter_))
        if sort:
            base.append(("sort", sort))
        paginator = SkipPagesPaginator(
            page_size=self.settings.page_size, base_params=tuple(base), max_pages=max_pages
        )

        def fetch(request: PageRequest) -> dict[str, Any]:
            page: dict[str, Any] = self._api.json(
                "GET", request.url or path, params=None if request.url else request.params
            )
            if more is not None:
                pagination = page.get("pagination") or {}
                more[:] = [bool(pagination.get("nextPage")) and bool(page.get("collection"))]
            return page

        for item in paginator.items(fetch):
            yield model.model_validate(item)

    def _base(self) -> str:
        if self._base_currency is None:
            self.verify()
        return self._base_currency or ""

    # Connector ----------------------------------------------------------------------------
    def verify(self) -> ConnectionInfo:
        """``GET /self``: which agreement the tokens open, its company and base currency."""
        me = self._get(SelfDto, "/self")
        self._base_currency = (me.settings.base_currency if me.settings else None) or ""
        details = [("agreement_type", (me.agreement_type.name or "") if me.agreement_type else "")]
        if me.application and me.application.name:
            details.append(("application", me.application.name))
        modules = sorted(m.name for m in me.modules if m.name)
        if modules:
            details.append(("modules", ", ".join(modules)))
        return ConnectionInfo(
            company_name=(me.company.name or "") if me.company else "",
            account_id=str(me.agreement_number),
            base_currency=self._base_currency,
            details=tuple(details),
        )

    # CustomerSync ---------------------------------------------------------------------------
    def find_customer(self, number: str) -> ErpCustomer | None:
        """The e-conomic customer with this number, or ``None`` (also for non-numeric ones)."""
        text = number.strip()
        if not text.isdigit() or not 1 <= int(text) <= mapping.MAX_CUSTOMER_NUMBER:
            return None
        dto = self._get_or_none(CustomerDto, f"/customers/{int(text)}")
        if dto is None:
            return None
        self._customers[int(text)] = dto
        return mapping.erp_customer(dto)

    def create_customer(self, customer: Customer) -> PushResult:
        """Create the customer with its PSA number (so a repeated create collides)."""
        body = to_wire(mapping.customer_to_dto(customer, self.settings))
        created = CustomerDto.model_validate(self._api.json("POST", "/customers", body=body))
        if created.customer_number is not None:
            self._customers[created.customer_number] = created
        return PushResult(external_id=str(created.customer_number))

    def update_customer(self, external_id: str, customer: Customer) -> None:
        """Overwrite the PSA-mastered fields (PUT carries the whole document)."""
        number = mapping.customer_number(external_id)
        existing = self._get(CustomerDto, f"/customers/{number}")
        dto = mapping.customer_to_dto(customer, self.settings, existing=existing, number=number)
        self._customers.pop(number, None)
        self._api.request("PUT", f"/customers/{number}", body=to_wire(dto))

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]:
        """Customers changed since ``cursor`` (an ISO date). ``lastUpdated`` is a date, not a
        timestamp, so the query overlaps one day; the engine links idempotently."""
        filter_ = None
        if cursor:
            since = date.fromisoformat(cursor) - timedelta(days=1)
            filter_ = f"lastUpdated$gte:{since.isoformat()}"
        items = tuple(
            mapping.erp_customer(dto)
            for dto in self._items(CustomerDto, "/customers", filter_=filter_)
        )
        dates = [c.updated for c in items if c.updated is not None]
        newest = max(dates).isoformat() if dates else cursor
        return Batch(items=items, cursor=newest)

    # ContactPush ----------------------------------------------------------------------------
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult:
        """Find the customer's contact by name, or create it."""
        number = mapping.customer_number(customer_ref)
        path = f"/customers/{number}/contacts"
        wanted = mapping.contact_to_dto(contact, customer=number)
        for found in self._items(ContactDto, path, filter_=f"name$eq:{filter_value(wanted.name)}"):
            if found.customer_contact_number is not None:
                return PushResult(external_id=str(found.customer_contact_number), created=False)
        created = ContactDto.model_validate(self._api.json("POST", path, body=to_wire(wanted)))
        return PushResult(external_id=str(created.customer_contact_number))

    # EmployeePush ---------------------------------------------------------------------------
    def ensure_employee(self, employee: Employee) -> PushResult:
        """Find the employee by name, or create it in the employee group chosen at setup."""
        wanted = mapping.employee_to_dto(employee, self.settings)
        for found in self._items(
            EmployeeDto, "/employees", filter_=f"name$eq:{filter_value(wanted.name)}"
        ):
            if found.employee_number is not None:
                return PushResult(external_id=str(found.employee_number), created=False)
        try:
            created = EmployeeDto.model_validate(
                self._api.json("POST", "/employees", body=to_wire(wanted))
            )
        except Permanent as error:
            if error.status in (404, 405, 501):
                raise Permanent(
                    f"e-conomic cannot create employee {employee.initials} through this API",
                    erp_text=error.erp_text,
                    hint="Create the employee in e-conomic, then transfer again.",
                    status=error.status,
                ) from error
            raise
        return PushResult(external_id=str(created.employee_number))

    # ProjectPush ----------------------------------------------------------------------------
    def ensure_project(self, project: Project, customer_ref: str) -> PushResult:
        """Find or create the project in the Projects API (project module only). A PSA number
        of digits is used as the e-conomic number and looked up first; other numbers are
        looked up by name and customer (the API has no field of ours to search)."""
        if not self.settings.project_module:
            raise Permanent(
                f"project {project.number}: the project module is not enabled for this connection",
                hint="Enable the project module in e-conomic and set project_module=true.",
            )
        base = self.settings.effective_projects_api_url
        customer_number = mapping.reference_number(customer_ref, "customer")
        if customer_number is None:
            raise Permanent(f"project {project.number}: its customer is not in e-conomic yet")
        number = mapping.project_number(project.number)
        body = mapping.project(
            project,
            customer_number=customer_number,
            group_number=self.settings.project_group_number,
            number=number,
        )
        if number is not None:
            found = self._get_or_none(ProjectDto, f"{base}/projects/{number}")
            if found is not None and found.name != body.name:
                raise Permanent(
                    f"project number {number} belongs to '{found.name}' in e-conomic, not to "
                    f"'{body.name}'",
                    hint="Link the right project by hand, or give one of them another number.",
                )
        else:
            query = f"name$eq:{filter_value(body.name)}$and:customerNumber$eq:{customer_number}"
            page = ProjectPage.model_validate(
                self._api.json("GET", f"{base}/projects", params={"filter": query})
            )
            found = page.items[0] if page.items else None
        if found is not None and found.number is not None:
            return PushResult(external_id=str(found.number), created=False)
        created = self._api.json("POST", f"{base}/projects", body=to_wire(body))
        return PushResult(external_id=str(created["number"]), created=True)

    # ProductImport --------------------------------------------------------------------------
    def products(self) -> Sequence[ErpProduct]:
        """All products (the ERP is the master of product numbers)."""
        result = [mapping.erp_product(dto) for dto in self._items(ProductDto, "/products")]
        self._departments.update({p.number: p.department for p in result})
        return result

    def _product_departments(self, numbers: Sequence[str]) -> dict[str, str]:
        for number in {n.strip() for n in numbers if n.strip()} - self._departments.keys():
            if len(number) > mapping.MAX_PRODUCT_NUMBER:
                continue  # the mapping refuses it with a line-specific message
            dto = self._get_or_none(ProductDto, f"/products/{encode_id(number)}")
            if dto is not None:
                self._departments[number] = mapping.erp_product(dto).department
        return dict(self._departments)

    # InvoicePush ----------------------------------------------------------------------------
    def find_document(self, correlation: str) -> ErpDocument | None:
        """The draft or booked invoice whose ``references.other`` is ``correlation``."""
        filter_ = f"references.other$eq:{filter_value(correlation)}"
        drafts = [
            d
            for d in self._items(DraftInvoiceDto, "/invoices/drafts", filter_=filter_)
            if d.references and d.references.other == correlation
        ]
        booked = [
            b
            for b in self._items(BookedInvoiceDto, "/invoices/booked", filter_=filter_)
            if b.references and b.references.other == correlation
        ]
        if len(drafts) + len(booked) > 1:
            self._log.warning(
                "economic.duplicate_correlation",
                correlation=correlation,
                drafts=[d.draft_invoice_number for d in drafts],
                booked=[b.booked_invoice_number for b in booked],
            )
        if booked:
            return mapping.erp_document_from_booked(booked[0])
        if drafts:
            return mapping.erp_document_from_draft(drafts[0])
        return None

    def create_document(self, document: OutgoingDocument) -> ErpDocument:
        """Create the draft (credit notes too: negative quantities). The POST answers with the
        created draft, totals included ("This method returns a single object", e-conomic's
        REST docs), so it is read back only when an answer lacks them. A lost answer raises
        Uncertain; the engine then calls :meth:`find_document` before trying again."""
        number = mapping.customer_number(document.customer_ref)
        customer = self._customers.get(number) or self._get(CustomerDto, f"/customers/{number}")
        self._customers[number] = customer
        departments = self._product_departments(document.line_products)
        draft = mapping.draft_invoice(
            document, customer=customer, settings=self.settings, departments=departments
        )
        created = DraftInvoiceDto.model_validate(
            self._api.json("POST", "/invoices/drafts", body=to_wire(draft))
        )
        if created.gross_amount is None or created.net_amount is None:
            path = f"/invoices/drafts/{created.draft_invoice_number}"
            created = self._get(DraftInvoiceDto, path)
        return mapping.erp_document_from_draft(created)

    # Preview --------------------------------------------------------------------------------
    def preview_customer(self, customer: Customer) -> list[PlannedRequest]:
        """The customer's POST, as :meth:`create_customer` sends it."""
        body = to_wire(mapping.customer_to_dto(customer, self.settings))
        return [PlannedRequest("POST", "/customers", body, f"create customer {customer.number}")]

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]:
        """The draft's POST, as :meth:`create_document` sends it (reads the customer and the
        products' departments it needs; a customer still to be created is mapped as it would
        be created)."""
        if new_customer is not None:
            customer = mapping.customer_to_dto(new_customer, self.settings)
        else:
            number = mapping.customer_number(document.customer_ref)
            customer = self._customers.get(number) or self._get(CustomerDto, f"/customers/{number}")
        departments = self._product_departments(document.line_products)
        draft = mapping.draft_invoice(
            document, customer=customer, settings=self.settings, departments=departments
        )
        kind = "credit note" if document.invoice.is_credit_note else "invoice"
        return [
            PlannedRequest("POST", "/invoices/drafts", to_wire(draft), f"create the draft {kind}")
        ]

    # StatusPull -----------------------------------------------------------------------------
    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]:
        """Balancing. The cursor holds the last booked invoice number seen and the numbers of
        our invoices still open: new bookings are read by number, open ones re-read (``$in``,
        200 at a time) until their remainder reaches 0."""
        state = json.loads(cursor) if cursor else {}
        last = int(state.get("last", 0))
        still_open = [int(n) for n in state.get("open", [])]
        more: list[bool] = [False]
        updates: dict[int, StatusUpdate] = {}
        for dto in self._items(
            BookedInvoiceDto,
            "/invoices/booked",
            filter_=f"bookedInvoiceNumber$gt:{last}",
            sort="bookedInvoiceNumber",
            max_pages=1,
            more=more,
        ):
            last = max(last, dto.booked_invoice_number)
            if dto.references and dto.references.other:
                updates[dto.booked_invoice_number] = mapping.status_from_booked(dto)
        for start in range(0, len(still_open), MAX_IN_VALUES):
            chunk = ",".join(str(n) for n in still_open[start : start + MAX_IN_VALUES])
            for dto in self._items(
                BookedInvoiceDto, "/invoices/booked", filter_=f"bookedInvoiceNumber$in:[{chunk}]"
            ):
                updates[dto.booked_invoice_number] = mapping.status_from_booked(dto)
        open_now = sorted(n for n, u in updates.items() if not u.paid)
        new_cursor = json.dumps({"last": last, "open": open_now}, separators=(",", ":"))
        items = tuple(updates[n] for n in sorted(updates))
        return Batch(items=items, cursor=new_cursor, more=more[0])

    # ExpenseImport --------------------------------------------------------------------------
    def expenses(self, cursor: str | None) -> Batch[ErpExpense]:
        """Entries on the configured expense accounts with an entry number above ``cursor``,
        across all accounting years."""
        last = int(cursor) if cursor else 0
        if not self.settings.expense_accounts:
            raise Permanent(
                "expense import is not set up for this e-conomic connection",
                hint="Choose the expense accounts: "
                "'ledgerlink connections set --setting expense_accounts=[...]'.",
            )
        base = self._base()
        years = [y.year for y in self._items(AccountingYearDto, "/accounting-years")]
        found: dict[int, ErpExpense] = {}
        for account in self.settings.expense_accounts:
            for year in years:
                path = f"/accounts/{account}/accounting-years/{encode_id(year)}/entries"
                for entry in self._items(EntryDto, path, filter_=f"entryNumber$gt:{last}"):
                    found[entry.entry_number] = mapping.erp_expense(
                        entry, base_currency=base, account=account
                    )
        newest = max(found, default=last)
        return Batch(
            items=tuple(found[n] for n in sorted(found)),
            cursor=str(newest) if found or cursor else None,
        )
