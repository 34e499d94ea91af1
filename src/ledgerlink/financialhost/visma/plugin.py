"""The FinancialHost plugin for Visma Administration, on the ADK interface only
(:class:`ledgerlink.interfaces.visma_adk.Adk`).

It runs unchanged on :class:`~.dotnet.DotNetAdk` (the real ``AdkNet4Wrapper.dll``) and on
:class:`ledgerlink.emulators.visma.EmulatedAdk`. What it maps is in :mod:`.mapping`; here are the
ADK sessions, buffers and the failure classification:

* **Session.** One company is opened lazily and kept open (one per process, as the ADK
  requires; the host serialises calls). ``AdkOpen2`` with ``[visma] user`` and the vault secret
  ``visma:password`` when the company has login activated, ``AdkOpen`` otherwise. A call that
  answers ``ADKE_NO_DB_OPEN`` (80) closes, reopens and runs the whole operation once more (a
  create searches its correlation reference first, so the retry cannot create twice).
* **Failures.** Opening errors, licence errors (128/135), 80 after the reopen and path errors
  (116/137) raise :class:`ErpUnavailable` with the ADK's text: nothing was written and the host
  keeps the job. Every other ADK error raises :class:`ErpRejected` with ``erp_text`` from
  ``AdkGetErrorText``, a hint what to fix and the failing field.
* **Buffers** are always freed (``AdkDeleteStruct`` in ``finally``).
* **Change feeds** (``customers``, ``statuses``, ``expenses``) walk the records in ``TIMESTAMP``
  order (``eTimeStamp``) from the newest back to the cursor, so a periodic pull reads only what
  changed. The cursor is ``"<TIMESTAMP>:<key>"`` of the last record examined.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

from ledgerlink.financialhost.plugin import ErpRejected, ErpUnavailable, PluginError
from ledgerlink.financialhost.visma import mapping as m
from ledgerlink.financialhost.visma.pool import ExpensePool
from ledgerlink.financialhost.visma.settings import VismaSettings
from ledgerlink.interfaces.visma_adk import Adk, AdkData, AdkError, AdkFailure
from ledgerlink.interfaces.visma_adk import constants as c
from ledgerlink.wire.operations import (
    Ack,
    ConnectionInfo,
    CustomerPage,
    DocumentKind,
    DocumentResult,
    ErpCustomerRecord,
    ExpensePage,
    ExpenseRecord,
    FieldProblem,
    ProductList,
    PushOutcome,
    StatusPage,
    StatusRecord,
    WireContact,
    WireCustomer,
    WireDocument,
    WireEmployee,
    WireProduct,
    WireProject,
)

_T = TypeVar("_T")

SUPPORTED = frozenset(
    {
        "connection.test",
        "customer.find",
        "customers.read",
        "products.read",
        "document.find",
        "statuses.read",
        "expenses.read",
        "customer.upsert",
        "contact.upsert",
        "employee.ensure",
        "project.ensure",
        "document.create_draft",
        "expense.notify",
    }
)
"""The wire operations this plugin serves (Visma has no change log: no ``changes.read``)."""

VARIANTS = {
    c.ADKI_ADMIN2000: "Visma Administration 2000",
    c.ADKI_ADMIN1000: "Visma Administration 1000",
    c.ADKI_ADMIN500: "Visma Administration 500",
    c.ADKI_FORENING: "Visma Förening",
    c.ADKI_ADMIN200: "Visma Administration 200",
}
_END = frozenset({c.ADKE_EOF, c.ADKE_BOF})
_NOT_FOUND = frozenset({c.ADKE_NOT_FOUND, c.ADKE_EOF})


@dataclass(frozen=True, slots=True)
class _Buffer:
    """A record buffer and the database it belongs to (field metadata is cached per database)."""

    data: AdkData
    db: int


@dataclass(frozen=True, slots=True)
class _FieldMeta:
    type: int
    length: int
    decimals: int


class _Access:
    """ADK calls for one operation: checked calls, typed reads and writes, iteration."""

    def __init__(self, adk: Adk, meta: dict[tuple[int, int], _FieldMeta]) -> None:
        self.adk = adk
        self._meta = meta

    def check(self, error: AdkError) -> None:
        """Raise :class:`AdkFailure` (with the ADK's text) unless the call succeeded."""
        if not error.ok:
            raise AdkFailure(error, self.adk.AdkGetErrorText(error, c.elRc))

    def text(self, code: int) -> str:
        """Visma's own text for an error code."""
        return self.adk.AdkGetErrorText(AdkError(code), c.elRc)

    @contextmanager
    def buffer(self, db: int) -> Iterator[_Buffer]:
        """A new record buffer, freed afterwards."""
        data = self.adk.AdkCreateData(db)
        try:
            yield _Buffer(data, db)
        finally:
            self.adk.AdkDeleteStruct(data)

    def meta(self, buffer: _Buffer, field_id: int) -> _FieldMeta:
        """Type, length and decimals of a field (asked once per database and field)."""
        key = (buffer.db, field_id)
        known = self._meta.get(key)
        if known is not None:
            return known
        error, kind = self.adk.AdkGetType(buffer.data, field_id)
        self.check(error)
        error, length = self.adk.AdkGetLength(buffer.data, field_id)
        self.check(error)
        decimals = 0
        if kind == c.eDouble:
            error, decimals = self.adk.AdkGetDecimals(buffer.data, field_id)
            self.check(error)
        found = _FieldMeta(kind, length, decimals)
        self._meta[key] = found
        return found

    def read(
        self, buffer: _Buffer, fields: Iterable[int], dates: Collection[int] = ()
    ) -> dict[int, m.RecordValue]:
        """Field values of the loaded record; doubles become Decimals rounded to the field's
        decimals, the ``dates`` become ``date``/``None`` (other date fields stay LONGs)."""
        values: dict[int, m.RecordValue] = {}
        for field_id in fields:
            meta = self.meta(buffer, field_id)
            if meta.type == c.eChar:
                size = meta.length + 1 if meta.length else 255
                error, text = self.adk.AdkGetStr(buffer.data, field_id, size)
                self.check(error)
                values[field_id] = text
            elif meta.type == c.eDouble:
                error, number = self.adk.AdkGetDouble(buffer.data, field_id)
                self.check(error)
                values[field_id] = m.to_decimal(number, meta.decimals)
            elif meta.type == c.eBool:
                error, flag = self.adk.AdkGetBool(buffer.data, field_id)
                self.check(error)
                values[field_id] = bool(flag)
            elif meta.type == c.eDate:
                error, long = self.adk.AdkGetDate(buffer.data, field_id)
                self.check(error)
                values[field_id] = self.to_date(long) if field_id in dates else long
        return values

    def write(
        self, buffer: _Buffer, values: Mapping[int, m.RecordValue], fit: Collection[int] = ()
    ) -> None:
        """Set fields by their Python type; text fields in ``fit`` are cut to Visma's length,
        all others are written whole (too long fails with Visma's own text)."""
        data = self.adk
        for field_id, value in values.items():
            if value is None:
                continue
            if isinstance(value, bool):
                self.check(data.AdkSetBool(buffer.data, field_id, value))
            elif isinstance(value, str):
                length = self.meta(buffer, field_id).length if field_id in fit else 0
                text = value[:length] if length else value
                self.check(data.AdkSetStr(buffer.data, field_id, text))
            elif isinstance(value, Decimal):
                self.check(data.AdkSetDouble(buffer.data, field_id, float(value)))
            elif isinstance(value, date):
                error, long = data.AdkDateToLong(value.isoformat())
                self.check(error)
                self.check(data.AdkSetDate(buffer.data, field_id, long))
            else:
                raise TypeError(f"cannot write {value!r} to field {field_id}")

    def to_date(self, long: int) -> date | None:
        """A LONG date as a date (0: none)."""
        if not long:
            return None
        error, text = self.adk.AdkLongToDate(long, 11)
        self.check(error)
        return date.fromisoformat(text) if text else None

    def find(self, buffer: _Buffer, key_field: int, key: str) -> bool:
        """Load the record whose key is ``key``; ``False`` when there is none."""
        self.check(self.adk.AdkResetStruct(buffer.data))
        self.check(self.adk.AdkSetStr(buffer.data, key_field, key))
        error = self.adk.AdkFindEx(buffer.data, False)
        if error.lRc in _NOT_FOUND:
            return False
        self.check(error)
        return True

    def walk(self, buffer: _Buffer, *, backward: bool = False) -> Iterator[None]:
        """Load each record passing the buffer's filters in its sort order (or backwards)."""
        adk = self.adk
        first, step = (
            (adk.AdkLastEx, adk.AdkPreviousEx) if backward else (adk.AdkFirstEx, adk.AdkNextEx)
        )
        error = first(buffer.data, False)
        while error.ok:
            yield
            error = step(buffer.data, False)
        if error.lRc not in _END:
            self.check(error)


class VismaPlugin:
    """Visma Administration behind FinancialHost (see the module docstring)."""

    name = "visma"

    def __init__(
        self,
        settings: VismaSettings,
        *,
        adk_factory: Callable[[], Adk],
        pool: ExpensePool,
        password: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._factory = adk_factory
        self._pool = pool
        self._password = password
        self._adk: Adk | None = None
        self._opened = False
        self._meta: dict[tuple[int, int], _FieldMeta] = {}
        self._correlation_field = m.CORRELATION_FIELDS[settings.correlation_field]

    # --- session ------------------------------------------------------------------------------
    @property
    def _paths(self) -> tuple[str, str]:
        return str(self.settings.system_path), str(self.settings.company_path)

    def _ensure_open(self) -> Adk:
        if self._adk is None:
            try:
                self._adk = self._factory()
            except Exception as problem:
                raise ErpUnavailable(
                    f"The Visma ADK cannot be loaded: {problem}",
                    hint="Install Visma Administration (or its integration client) on this host.",
                ) from problem
        adk = self._adk
        if self._opened:
            return adk
        system, company = self._paths
        error, login = adk.AdkIsLoginActivated(system, company)
        if error.ok and login:
            password = self._password()
            if not self.settings.user or password is None:
                raise ErpUnavailable(
                    "The Visma company has login activated but no user is configured.",
                    erp_text=adk.AdkGetErrorText(AdkError(c.ADKE_LOGIN_DENIED), c.elRc),
                    hint=m.hint_for(c.ADKE_LOGIN_DENIED),
                )
            error = adk.AdkOpen2(system, company, self.settings.user, password)
        elif error.ok:
            error = adk.AdkOpen(system, company)
        if not error.ok:
            text = adk.AdkGetErrorText(error, c.elRc)
            raise ErpUnavailable(
                f"Visma could not open the company {company}: {text}",
                erp_text=text,
                hint=m.hint_for(error.lRc),
            )
        self._opened = True
        return adk

    def _reset(self) -> None:
        if self._adk is not None and self._opened:
            with suppress(Exception):
                self._adk.AdkClose()
        self._opened = False

    def _run(self, what: str, action: Callable[[_Access], _T]) -> _T:
        """Run one operation in the open company, reopening once after ``ADKE_NO_DB_OPEN``."""
        for attempt in range(2):
            access = _Access(self._ensure_open(), self._meta)
            try:
                return action(access)
            except AdkFailure as failure:
                if failure.code == c.ADKE_NO_DB_OPEN and attempt == 0:
                    self._reset()
                    continue
                if m.is_unavailable(failure.code):
                    self._reset()
                raise self._failure(what, failure, access) from failure
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _failure(what: str, failure: AdkFailure, access: _Access) -> PluginError:
        code = failure.code
        if m.is_unavailable(code):
            return ErpUnavailable(
                f"Visma is not available ({what}): {failure.text}",
                erp_text=failure.text,
                hint=m.hint_for(code),
            )
        field = access.adk.AdkGetErrorText(failure.error, c.elField)
        problems = [FieldProblem(path=field, message=failure.text, code=str(code))] if field else []
        return ErpRejected(
            f"Visma refused {what}: {failure.text}",
            erp_text=failure.text,
            hint=m.hint_for(code),
            field_errors=problems,
        )

    def close(self) -> None:
        """Close the company and the expense-pool state."""
        self._reset()
        self._pool.close()

    # --- connection -----------------------------------------------------------------------------
    def supported(self) -> frozenset[str]:
        """The wire operations this plugin serves."""
        return SUPPORTED

    def test(self) -> ConnectionInfo:
        """Open the company and report its name, folder, base currency and version."""

        def action(access: _Access) -> ConnectionInfo:
            name, version = self._company_name(access)
            return ConnectionInfo(
                system="visma",
                company_name=name,
                account_id=Path(self.settings.company_path).name,
                base_currency=self._base_currency(access),
                erp_version=version,
                capabilities=tuple(sorted(SUPPORTED)),
            )

        return self._run("the connection test", action)

    def erp_version(self) -> str:
        """Visma's variant and the company database version."""
        return self._run("reading its version", lambda access: self._company_name(access)[1])

    def _company_name(self, access: _Access) -> tuple[str, str]:
        system, company = self._paths
        error, name, variant, major, minor = access.adk.AdkGetCompanyName(company, False, system)
        access.check(error)
        label = VARIANTS.get(variant, "Visma Administration")
        return name, f"{label} (database {major}.{minor})"

    @staticmethod
    def _base_currency(access: _Access) -> str:
        with access.buffer(c.ADK_DB_PRM) as prm:
            access.check(access.adk.AdkFirst(prm.data))
            currency = access.read(prm, (c.ADK_PRM_CODE_OF_CURRENCY,))[c.ADK_PRM_CODE_OF_CURRENCY]
        return str(currency).strip() or "SEK"

    # --- customers, contacts, employees, projects -----------------------------------------------
    def find_customer(self, number: str) -> ErpCustomerRecord | None:
        """The Visma customer with this number (cut to 16 characters), if any."""

        def action(access: _Access) -> ErpCustomerRecord | None:
            with access.buffer(c.ADK_DB_CUSTOMER) as customer:
                if not access.find(customer, c.ADK_CUSTOMER_NUMBER, m.customer_number(number)):
                    return None
                return m.customer_record(access.read(customer, m.CUSTOMER_READ, m.CUSTOMER_DATES))

        return self._run("finding the customer", action)

    def customers(self, cursor: str | None, limit: int) -> CustomerPage:
        """Customers changed since the cursor (customer ``TIMESTAMP``)."""

        def action(access: _Access) -> CustomerPage:
            items, next_cursor, more = self._changes(
                access,
                db=c.ADK_DB_CUSTOMER,
                fields=m.CUSTOMER_READ,
                dates=m.CUSTOMER_DATES,
                key=lambda record: str(record[c.ADK_CUSTOMER_NUMBER]).strip(),
                timestamp_field=c.ADK_CUSTOMER_TIMESTAMP,
                convert=m.customer_record,
                cursor=cursor,
                limit=limit,
            )
            return CustomerPage(items=tuple(items), cursor=next_cursor, more=more)

        return self._run("reading customers", action)

    def upsert_customer(self, customer: WireCustomer) -> PushOutcome:
        """Create or update the customer by number; Visma checks säljare, country, currency and
        payment terms and answers with its own text."""
        values = m.customer_fields(customer, default_country=self.settings.default_country)
        number = str(values[c.ADK_CUSTOMER_NUMBER])

        def action(access: _Access) -> PushOutcome:
            with access.buffer(c.ADK_DB_CUSTOMER) as buffer:
                exists = access.find(buffer, c.ADK_CUSTOMER_NUMBER, number)
                if exists:
                    changes = {k: v for k, v in values.items() if k != c.ADK_CUSTOMER_NUMBER}
                    access.write(buffer, changes, fit=m.CUSTOMER_FREE_TEXT)
                    access.check(access.adk.AdkUpdate(buffer.data))
                else:
                    access.check(access.adk.AdkResetStruct(buffer.data))
                    access.write(buffer, values, fit=m.CUSTOMER_FREE_TEXT)
                    access.check(access.adk.AdkAdd(buffer.data))
            return PushOutcome(external_id=number, created=not exists)

        return self._run(f"customer {number}", action)

    def upsert_contact(self, customer_number: str, contact: WireContact) -> PushOutcome:
        """Set the customer's reference ("Er referens", ``ADK_CUSTOMER_REFERENCE``).

        Visma holds one reference per customer, so this is one-to-one: the last contact sent
        is the customer's reference. The contact's external id is the name as Visma stored it,
        which a document's ``contact_ref`` brings back as the invoice's "Er referens".
        """
        number = m.customer_number(customer_number)

        def action(access: _Access) -> PushOutcome:
            with access.buffer(c.ADK_DB_CUSTOMER) as buffer:
                if not access.find(buffer, c.ADK_CUSTOMER_NUMBER, number):
                    raise ErpRejected(
                        f"Customer {number} is not in Visma.",
                        erp_text=access.text(c.ADKE_COULD_NOT_FIND_CUSTOMER),
                        hint=m.hint_for(c.ADKE_COULD_NOT_FIND_CUSTOMER),
                    )
                before = access.read(buffer, (c.ADK_CUSTOMER_REFERENCE,))
                access.write(
                    buffer, {c.ADK_CUSTOMER_REFERENCE: contact.name}, fit=m.CUSTOMER_FREE_TEXT
                )
                access.check(access.adk.AdkUpdate(buffer.data))
                after = access.read(buffer, (c.ADK_CUSTOMER_REFERENCE,))
            stored = str(after[c.ADK_CUSTOMER_REFERENCE]).strip()
            created = stored != str(before[c.ADK_CUSTOMER_REFERENCE]).strip()
            return PushOutcome(external_id=stored, created=created)

        return self._run(f"the reference of customer {number}", action)

    def ensure_employee(self, employee: WireEmployee) -> PushOutcome:
        """Make sure a säljare with the employee's initials exists (created only with
        ``auto_create_sellers``)."""

        def action(access: _Access) -> PushOutcome:
            created = self._ensure_seller(access, employee.initials, employee.name)
            return PushOutcome(external_id=employee.initials, created=created)

        return self._run(f"säljare {employee.initials}", action)

    def _ensure_seller(self, access: _Access, initials: str, name: str) -> bool:
        """Whether the säljare had to be created; ErpRejected (39) when it may not be."""
        with access.buffer(c.ADK_DB_CODE_OF_SELLER) as seller:
            if access.find(seller, c.ADK_CODE_OF_SELLER_SIGN, initials):
                return False
            if not self.settings.auto_create_sellers:
                raise ErpRejected(
                    f"Säljare {initials} is not in Visma.",
                    erp_text=access.text(c.ADKE_CUSTOMER_INVALID_SELLER),
                    hint=m.hint_for(c.ADKE_CUSTOMER_INVALID_SELLER),
                )
            access.check(access.adk.AdkResetStruct(seller.data))
            access.write(
                seller,
                {
                    c.ADK_CODE_OF_SELLER_SIGN: initials,
                    c.ADK_CODE_OF_SELLER_NAME: name,
                    c.ADK_CODE_OF_SELLER_SELLER: True,
                    c.ADK_CODE_OF_SELLER_REF: True,
                },
                fit={c.ADK_CODE_OF_SELLER_NAME},
            )
            access.check(access.adk.AdkAdd(seller.data))
        return True

    def _seller_name(self, access: _Access, initials: str) -> str:
        with access.buffer(c.ADK_DB_CODE_OF_SELLER) as seller:
            if not access.find(seller, c.ADK_CODE_OF_SELLER_SIGN, initials):
                return ""
            name = access.read(seller, (c.ADK_CODE_OF_SELLER_NAME,))[c.ADK_CODE_OF_SELLER_NAME]
        return str(name).strip()

    def ensure_project(self, project: WireProject) -> PushOutcome:
        """Find the project (code cut to 10); projects are created in Visma by hand, so a
        missing one is refused with "create the project in Visma first"."""
        code = m.project_code(project.number)

        def action(access: _Access) -> PushOutcome:
            with access.buffer(c.ADK_DB_PROJECT) as buffer:
                if not access.find(buffer, c.ADK_PROJECT_CODE_OF_PROJECT, code):
                    raise ErpRejected(
                        f"Project {code} is not in Visma.",
                        erp_text=access.text(c.ADKE_INVLAID_PROJECT),
                        hint=m.hint_for(c.ADKE_INVLAID_PROJECT),
                    )
            return PushOutcome(external_id=code, created=False)

        return self._run(f"project {code}", action)

    # --- products -------------------------------------------------------------------------------
    def products(self, source: Literal["items", "gl_accounts"] | None) -> ProductList:
        """Visma's articles (number, name, unit; inactive ones barred)."""
        if source == "gl_accounts":
            raise ErpRejected(
                "Visma product numbers are articles; G/L accounts are not offered.",
                hint="Import product numbers from items (articles).",
            )

        def action(access: _Access) -> ProductList:
            fields = (
                c.ADK_ARTICLE_NUMBER,
                c.ADK_ARTICLE_NAME,
                c.ADK_ARTICLE_UNIT_CODE,
                c.ADK_ARTICLE_INACTIVE,
            )
            items = []
            with access.buffer(c.ADK_DB_ARTICLE) as article:
                for _ in access.walk(article):
                    values = access.read(article, fields)
                    items.append(
                        WireProduct(
                            number=str(values[c.ADK_ARTICLE_NUMBER]).strip(),
                            name=str(values[c.ADK_ARTICLE_NAME]).strip(),
                            unit=str(values[c.ADK_ARTICLE_UNIT_CODE]).strip(),
                            barred=values[c.ADK_ARTICLE_INACTIVE] is True,
                        )
                    )
            return ProductList(items=tuple(items))

        return self._run("reading articles", action)

    # --- invoices -------------------------------------------------------------------------------
    def find_document(self, correlation: str) -> DocumentResult | None:
        """The invoice whose correlation field holds ``correlation``, with Visma's totals."""

        def action(access: _Access) -> DocumentResult | None:
            record = self._find_invoice(access, correlation)
            if record is None:
                return None
            return m.document_result(record, correlation_field=self._correlation_field)

        return self._run("finding the invoice", action)

    def _find_invoice(self, access: _Access, correlation: str) -> m.Record | None:
        field = self._correlation_field
        cancelled: m.Record | None = None
        with access.buffer(c.ADK_DB_INVOICE_HEAD) as head:
            access.check(access.adk.AdkSetFilter(head.data, field, correlation, 0))
            for _ in access.walk(head):
                record = access.read(head, m.HEAD_READ, m.HEAD_DATES)
                # The filter may use wildcards; only an exact match counts.
                if str(record[field]).strip() != correlation:
                    continue
                if record[c.ADK_OOI_HEAD_DOCUMENT_CANCELLED] is not True:
                    return record
                cancelled = cancelled or record
        return cancelled

    def create_draft(self, document: WireDocument) -> DocumentResult:
        """Create the invoice or credit invoice (not printed: a draft in Visma's terms) and read
        back its number and totals."""
        field = self._correlation_field
        if not m.correlation_fits(document.correlation, field):
            raise ErpRejected(
                f"The correlation reference '{document.correlation}' is longer than the "
                f"{self.settings.correlation_field} field holds.",
                hint='Set [visma] correlation_field = "TEXT3" (60 characters).',
            )

        def action(access: _Access) -> DocumentResult:
            # Also after a reopen: the first attempt may have been stored before Visma went away.
            existing = self._find_invoice(access, document.correlation)
            if existing is not None:
                return m.document_result(existing, correlation_field=field)
            return self._create_invoice(access, document)

        what = "the credit note" if document.kind is DocumentKind.CREDIT_NOTE else "the invoice"
        return self._run(f"{what} {document.correlation}", action)

    def _create_invoice(self, access: _Access, document: WireDocument) -> DocumentResult:
        adk = access.adk
        field = self._correlation_field
        self._check_currency(access, document.currency)
        seller_name = ""
        if document.salesperson:
            if self.settings.auto_create_sellers:
                self._ensure_seller(access, document.salesperson, document.salesperson)
            seller_name = self._seller_name(access, document.salesperson)
        head_values = m.head_fields(document, correlation_field=field, seller_name=seller_name)
        original = self._original_invoice(access, document)
        if original is not None:
            head_values[c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE] = Decimal(original)
        try:
            rows = m.invoice_rows(
                document,
                default_unit=self.settings.default_unit,
                add_project_reference=self.settings.add_project_reference_to_invoices,
            )
        except m.NoVatCode as error:
            raise ErpRejected(
                f"{error}.",
                hint="Bill this legal entity's invoices to an ERP of its own country, or "
                "correct the VAT category of the lines.",
            ) from None
        with access.buffer(c.ADK_DB_INVOICE_HEAD) as head:
            access.write(head, head_values, fit=m.HEAD_FREE_TEXT)
            row_array = adk.AdkCreateDataRow(c.ADK_DB_INVOICE_ROW, len(rows))
            try:
                for index, row in enumerate(rows):
                    row_buffer = _Buffer(adk.AdkGetDataRow(row_array, index), c.ADK_DB_INVOICE_ROW)
                    access.write(row_buffer, row.fields(), fit=m.ROW_FREE_TEXT)
                access.write(head, {c.ADK_OOI_HEAD_NROWS: Decimal(len(rows))})
                access.check(adk.AdkSetData(head.data, c.ADK_OOI_HEAD_ROWS, row_array))
                access.check(adk.AdkAdd(head.data))
                record = access.read(head, m.HEAD_READ, m.HEAD_DATES)
            finally:
                adk.AdkDeleteStruct(row_array)
        return m.document_result(record, correlation_field=field)

    def _original_invoice(self, access: _Access, document: WireDocument) -> str | None:
        """The Visma number of the invoice a credit note credits, when it can be linked."""
        if document.kind is not DocumentKind.CREDIT_NOTE or not document.original_correlation:
            return None
        original = self._find_invoice(access, document.original_correlation)
        if original is None or m.is_credit(original):
            return None
        if original[c.ADK_OOI_HEAD_DOCUMENT_CANCELLED] is True:
            return None
        return m.document_key(original)

    def _currency_unit(self, access: _Access, currency: str) -> tuple[Decimal, int] | None:
        """Visma's selling rate and unit (1 or 100) of a currency, if Visma has it."""
        with access.buffer(c.ADK_DB_CODE_OF_CURRENCY) as buffer:
            if not access.find(buffer, c.ADK_CODE_OF_CURRENCY_CODE, currency):
                return None
            values = access.read(buffer, (c.ADK_CODE_OF_CURRENCY_SELL, c.ADK_CODE_OF_CURRENCY_UNIT))
        rate = values[c.ADK_CODE_OF_CURRENCY_SELL]
        unit = values[c.ADK_CODE_OF_CURRENCY_UNIT]
        assert isinstance(rate, Decimal)
        assert isinstance(unit, Decimal)
        return rate, int(unit) or 1

    def _check_currency(self, access: _Access, currency: str) -> int:
        """The currency's factor; refused when the configured one disagrees with Visma's unit.

        An unknown currency passes: Visma then refuses the document with its own text (43).
        """
        found = self._currency_unit(access, currency)
        configured = self.settings.factor(currency)
        if found is not None and found[1] != configured:
            raise ErpRejected(
                f"Visma quotes {currency} per {found[1]} but the integration's currency factor "
                f"is {configured}; the currency setup changed in Visma.",
                hint=(
                    f"Reconfigure the integration: set [visma] currency_factors.{currency} = "
                    f"{found[1]} (or restore the unit in Visma), then send again."
                ),
            )
        return configured

    # --- change feeds -----------------------------------------------------------------------------
    def statuses(self, cursor: str | None, limit: int) -> StatusPage:
        """Invoices changed since the cursor (head ``TIMESTAMP``) that this integration created
        (correlation field set): number, booked state, remainder (``BALANCE``) and paid."""
        field = self._correlation_field

        def convert(access: _Access, record: m.Record) -> StatusRecord | None:
            if not str(record[field]).strip():
                return None
            payments = None
            if m.needs_payment_check(record):
                payments = self._payments(access, m.document_key(record))
            return m.status_record(record, correlation_field=field, payments=payments)

        def action(access: _Access) -> StatusPage:
            items, next_cursor, more = self._changes(
                access,
                db=c.ADK_DB_INVOICE_HEAD,
                fields=m.HEAD_READ,
                dates=m.HEAD_DATES,
                key=m.document_key,
                timestamp_field=c.ADK_OOI_HEAD_TIMESTAMP,
                convert=lambda record: convert(access, record),
                cursor=cursor,
                limit=limit,
            )
            return StatusPage(items=tuple(items), cursor=next_cursor, more=more)

        return self._run("reading invoice statuses", action)

    @staticmethod
    def _payments(access: _Access, number: str) -> Decimal:
        """The sum of the (not cancelled) customer payments of an invoice."""
        total = Decimal(0)
        fields = (
            c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER,
            c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY,
            c.ADK_CUSTOMERPAYMENT_CANCELLED,
        )
        with access.buffer(c.ADK_DB_CUSTOMERPAYMENT) as payment:
            invoice_field = c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER
            access.check(access.adk.AdkSetFilter(payment.data, invoice_field, number, 0))
            for _ in access.walk(payment):
                values = access.read(payment, fields)
                invoice = values[c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER]
                amount = values[c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY]
                if values[c.ADK_CUSTOMERPAYMENT_CANCELLED] is True or str(invoice) != number:
                    continue
                assert isinstance(amount, Decimal)
                total += amount
        return total

    def expenses(self, cursor: str | None, limit: int) -> ExpensePage:
        """Supplier invoices changed since the cursor (``SUP_INV_HEAD`` ``TIMESTAMP``), without
        cancelled ones and those the PSA took from or deleted in its pool."""

        def action(access: _Access) -> ExpensePage:
            base = self._base_currency(access)
            rates: dict[str, tuple[Decimal, int]] = {}

            def convert(record: m.Record) -> ExpenseRecord | None:
                if record[c.ADK_SUP_INV_HEAD_CANCELLED] is True:
                    return None
                if self._pool.state(m.supplier_invoice_key(record)) is not None:
                    return None
                currency = str(record[c.ADK_SUP_INV_HEAD_CURRENCY_CODE]).strip() or base
                rate, factor = Decimal(1), 1
                if currency != base:
                    if currency not in rates:
                        found = self._currency_unit(access, currency)
                        factor = self._check_currency(access, currency)
                        rates[currency] = (found[0] if found else Decimal(0), factor)
                    rate, factor = rates[currency]
                    head_rate = record[c.ADK_SUP_INV_HEAD_CURRENCY_RATE]
                    if isinstance(head_rate, Decimal) and head_rate:
                        rate = head_rate
                return m.expense_record(record, currency=currency, rate=rate, factor=factor)

            items, next_cursor, more = self._changes(
                access,
                db=c.ADK_DB_SUPPLIER_INVOICE_HEAD,
                fields=m.SUPPLIER_INVOICE_READ,
                dates=m.SUPPLIER_INVOICE_DATES,
                key=m.supplier_invoice_key,
                timestamp_field=c.ADK_SUP_INV_HEAD_TIMESTAMP,
                convert=convert,
                cursor=cursor,
                limit=limit,
            )
            return ExpensePage(items=tuple(items), cursor=next_cursor, more=more)

        return self._run("reading supplier invoices", action)

    def notify_expense(self, external_id: str, state: Literal["taken", "deleted"]) -> Ack:
        """Remember that the PSA took or deleted a supplier invoice from its pool."""
        self._pool.note(external_id, state)
        return Ack()

    @staticmethod
    def _changes(
        access: _Access,
        *,
        db: int,
        fields: Iterable[int],
        dates: Collection[int],
        key: Callable[[m.Record], str],
        timestamp_field: int,
        convert: Callable[[m.Record], _T | None],
        cursor: str | None,
        limit: int,
    ) -> tuple[list[_T], str | None, bool]:
        """Records changed after ``cursor``, oldest first, converted (``None`` = skip) up to
        ``limit`` items; the next cursor is the last record examined."""
        try:
            start = m.decode_cursor(cursor)
        except ValueError as error:
            raise ErpRejected(str(error), hint="Read again without a cursor.") from error
        wanted = tuple(dict.fromkeys((*fields, timestamp_field)))
        changed: list[tuple[m.Position, m.Record]] = []
        with access.buffer(db) as buffer:
            access.check(access.adk.AdkSetSortOrder(buffer.data, c.eTimeStamp))
            for _ in access.walk(buffer, backward=True):
                record = access.read(buffer, wanted, dates)
                position = (int(str(record[timestamp_field])), key(record))
                # Records with the same TIMESTAMP may come in any key order: stop only below it.
                if start is not None and position[0] < start[0]:
                    break
                if m.after(position, start):
                    changed.append((position, record))
        changed.sort(key=lambda item: (item[0][0], _key_order(item[0][1])))
        items: list[_T] = []
        last = start
        for index, (position, found) in enumerate(changed):
            last = position
            item = convert(found)
            if item is not None:
                items.append(item)
            if len(items) >= limit:
                return items, m.encode_cursor(position), index < len(changed) - 1
        return items, m.encode_cursor(last) if last is not None else cursor, False


def _key_order(key: str) -> tuple[int, int, str]:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)
