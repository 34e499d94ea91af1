"""The NAV plugin: FinancialHost's wire operations on Dynamics NAV web services.

Reads and writes go through the TimeLog SOAP page services; the paged status read uses OData
V4. Mapping lives in :mod:`.mapping` (pure); the transport and its error translation in
:mod:`.client`.

Cursors:

* ``customers``: ``since;max;bookmark`` — a ReadMultiple scan of customers whose
  ``Last_Date_Modified`` ≥ *since*, continued after *bookmark* (the last Key read). When the
  scan ends, the next cursor's *since* is the newest modification date seen. NAV only keeps a
  date, so the comparison is inclusive: the same day's changes are delivered again (upserts
  absorb that), and nothing modified later can be missed.
* ``statuses``: ``s<generation>`` naming a snapshot kept in the data directory (the highest
  posted invoice/credit memo No. reported, and each still-open document's last reported
  remaining amount). A call reports (1) documents from the snapshot's open set whose
  Remaining Amount changed or that closed, then (2) posted documents numbered above the high
  marks. NAV's posted headers carry no modification time, so this is how a later payment on
  an already reported invoice is reported again — exactly when the remaining amount changes.
  Re-sending an older cursor repeats its answer (snapshots are immutable); an unknown cursor
  starts over (everything is reported again, which the hub absorbs).
* ``expenses``: the last ``Entry_No`` read; only ``Open`` entries are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from ledgerlink.financialhost.nav import mapping
from ledgerlink.financialhost.nav.client import Entity, NavClient, StaleRecord, odata_text
from ledgerlink.financialhost.nav.settings import NavSettings
from ledgerlink.financialhost.nav.state import PendingDrafts, SentCorrelations, StatusSnapshots
from ledgerlink.financialhost.plugin import ErpRejected, PluginError
from ledgerlink.wire.operations import (
    Ack,
    ConnectionInfo,
    CustomerPage,
    DocumentKind,
    DocumentResult,
    ErpCustomerRecord,
    ExpensePage,
    ProductList,
    PushOutcome,
    StatusPage,
    StatusRecord,
    WireContact,
    WireCustomer,
    WireDocument,
    WireEmployee,
    WireProject,
)

__all__ = ["NavPlugin"]

T = TypeVar("T")

_SUPPORTED = frozenset(
    {
        "connection.test",
        "host.health",
        "host.version",
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
_LINES_PER_CALL = 100


class NavPlugin:
    """:class:`~ledgerlink.financialhost.plugin.ErpPlugin` for Microsoft Dynamics NAV."""

    name = "nav"

    def __init__(
        self,
        settings: NavSettings,
        *,
        client: NavClient,
        data_dir: Path,
        project_dimension_code: str = "PROJECT",
        business_relation_code: str = "CUST",
    ) -> None:
        self.settings = settings
        self.client = client
        self._pending = PendingDrafts(Path(data_dir) / "nav-pending-drafts.json")
        self._sent = SentCorrelations(Path(data_dir) / "nav-correlations.json")
        self._snapshots = StatusSnapshots(Path(data_dir) / "nav-status-snapshots.json")
        self._project_dimension_code = project_dimension_code
        self._business_relation_code = business_relation_code

    def _service(self, role: str) -> str:
        return self.settings.service(role)

    @staticmethod
    def _retry_stale(action: Callable[[], T]) -> T:
        """Run ``action`` (which reads its Key itself); once more after a stale Key."""
        try:
            return action()
        except StaleRecord:
            return action()

    # --- connection ------------------------------------------------------------------------------

    def supported(self) -> frozenset[str]:
        """The wire operations this plugin serves."""
        return _SUPPORTED

    def test(self) -> ConnectionInfo:
        """TlpFunctionsWS.TestAccess, then the versions."""
        answer = self.client.codeunit(self._service("functions"), "TestAccess")
        if answer.strip().lower() not in ("true", "1", "yes", "ok"):
            raise ErpRejected(
                "NAV's TestAccess did not confirm access.",
                erp_text=answer,
                hint="Check the TimeLog Setup (50500) and the web-service user's permissions.",
            )
        return ConnectionInfo(
            system="nav",
            company_name=self.settings.company,
            account_id=self.settings.company,
            base_currency=self.settings.lcy_code,
            erp_version=self.erp_version(),
            capabilities=tuple(sorted(_SUPPORTED)),
        )

    def erp_version(self) -> str:
        """TlpFunctionsWS.GetVersion."""
        return self.client.codeunit(self._service("functions"), "GetVersion")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    # --- customers -------------------------------------------------------------------------------

    def _customer(self, number: str) -> Entity | None:
        return self.client.read(self._service("customer"), No=number.strip().upper())

    def find_customer(self, number: str) -> ErpCustomerRecord | None:
        """The customer numbered ``number``."""
        found = self._customer(number)
        return mapping.customer_record(found, lcy_code=self.settings.lcy_code) if found else None

    def customers(self, cursor: str | None, limit: int) -> CustomerPage:
        """Customers modified since the cursor's date (see the module docstring)."""
        since, newest, bookmark = _customer_cursor(cursor)
        filters = [("Last_Date_Modified", f">={since}")] if since else []
        rows = self.client.read_multiple(
            self._service("customer"), filters, bookmark=bookmark or None, size=limit
        )
        records = [mapping.customer_record(r, lcy_code=self.settings.lcy_code) for r in rows]
        for record in records:
            if record.updated is not None and record.updated.isoformat() > newest:
                newest = record.updated.isoformat()
        if len(rows) == limit:
            return CustomerPage(
                items=tuple(records), cursor=f"{since};{newest};{rows[-1]['Key']}", more=True
            )
        return CustomerPage(items=tuple(records), cursor=f"{newest or since};{newest};", more=False)

    def upsert_customer(self, customer: WireCustomer) -> PushOutcome:
        """Create (posting groups and payment terms from the template customer) or update."""
        service = self._service("customer")

        def attempt() -> PushOutcome:
            current = self._customer(customer.number)
            if current is None:
                template = self._customer(self.settings.template_customer)
                if template is None:
                    raise ErpRejected(
                        f"The template customer {self.settings.template_customer} does not "
                        "exist in NAV.",
                        hint="Set [nav] template_customer to a customer with posting groups.",
                    )
                values = mapping.customer_values(customer, self.settings, template=template)
                created = self.client.create(service, values)
                return PushOutcome(external_id=created["No"], created=True)
            values = mapping.customer_values(customer, self.settings)
            values.pop("No")
            changed = {k: v for k, v in values.items() if current.get(k, "") != v}
            if changed:
                self.client.update(service, current["Key"], changed)
            return PushOutcome(external_id=current["No"], created=False)

        return self._retry_stale(attempt)

    def upsert_contact(self, customer_number: str, contact: WireContact) -> PushOutcome:
        """Extended contacts: a person Contact under the customer's company contact (one to
        many, found by name). Otherwise the customer's ``Contact`` field (one to one; the
        external id is then the customer number)."""
        number = customer_number.strip().upper()
        if not self.settings.extended_contacts:

            def simple() -> PushOutcome:
                customer = self._customer(number)
                if customer is None:
                    raise ErpRejected(f"Customer {number} does not exist in NAV.")
                name = mapping.clip(contact.name, mapping.LENGTHS["Contact"])
                if customer.get("Contact", "") != name:
                    self.client.update(
                        self._service("customer"), customer["Key"], {"Contact": name}
                    )
                return PushOutcome(external_id=number, created=False)

            return self._retry_stale(simple)
        company_no = self._company_contact(number)
        service = self._service("contact")
        values = mapping.contact_values(contact, company_no=company_no)
        found = self.client.read_multiple(
            service,
            [
                ("Company_No", mapping.filter_literal(company_no)),
                ("Type", "Person"),
                ("Name", mapping.filter_literal(values["Name"])),
            ],
            size=1,
        )
        if not found:
            created = self.client.create(service, values)
            return PushOutcome(external_id=created["No"], created=True)

        def update() -> PushOutcome:
            current = self.client.read(service, No=found[0]["No"]) or found[0]
            changed = {k: v for k, v in values.items() if current.get(k, "") != v}
            if changed:
                self.client.update(service, current["Key"], changed)
            return PushOutcome(external_id=current["No"], created=False)

        return self._retry_stale(update)

    def _company_contact(self, customer_number: str) -> str:
        """The company Contact linked to the customer (created with the business relation
        when missing)."""
        relations = self.client.read_multiple(
            self._service("customer_contact"),
            [("Link_to_Table", "Customer"), ("No", mapping.filter_literal(customer_number))],
            size=1,
        )
        if relations:
            return relations[0]["Contact_No"]
        customer = self._customer(customer_number)
        if customer is None:
            raise ErpRejected(f"Customer {customer_number} does not exist in NAV.")
        company = self.client.create(
            self._service("contact"),
            {"Type": "Company", "Name": customer.get("Name", customer_number)},
        )
        self.client.create(
            self._service("customer_contact"),
            {
                "Contact_No": company["No"],
                "Business_Relation_Code": self._business_relation_code,
                "Link_to_Table": "Customer",
                "No": customer_number,
            },
        )
        return company["No"]

    # --- employees and projects ------------------------------------------------------------------

    def ensure_employee(self, employee: WireEmployee) -> PushOutcome:
        """The Employee (No = initials; NAV applies the employee template of TimeLog Setup) and
        a Salesperson with the same code, since invoices carry ``Salesperson_Code``."""
        values = mapping.employee_values(employee, self.settings)
        service = self._service("employee")
        created = False
        if self.client.read(service, No=values["No"]) is None:
            self.client.create(service, values)
            created = True
        salesperson = mapping.salesperson_values(employee)
        people = self._service("salesperson")
        if self.client.read(people, Code=salesperson["Code"]) is None:
            self.client.create(people, salesperson)
        return PushOutcome(external_id=values["No"], created=created)

    def ensure_project(self, project: WireProject) -> PushOutcome:
        """A value of the project dimension: Code = project number (20), Name (50); an inactive
        project's value is blocked."""
        service = self._service("dimension_value")
        code = mapping.clip(project.number, mapping.LENGTHS["Dimension"]).upper()
        values = {
            "Name": mapping.clip(project.name, mapping.LENGTHS["Name"]),
            "Blocked": "false" if project.active else "true",
        }

        def attempt() -> PushOutcome:
            current = self.client.read(
                service, Dimension_Code=self._project_dimension_code, Code=code
            )
            if current is None:
                self.client.create(
                    service,
                    {"Dimension_Code": self._project_dimension_code, "Code": code, **values},
                )
                return PushOutcome(external_id=code, created=True)
            changed = {
                k: v
                for k, v in values.items()
                if current.get(k, "false" if k == "Blocked" else "") != v
            }
            if changed:
                self.client.update(service, current["Key"], changed)
            return PushOutcome(external_id=code, created=False)

        return self._retry_stale(attempt)

    # --- products --------------------------------------------------------------------------------

    def products(self, source: Literal["items", "gl_accounts"] | None) -> ProductList:
        """Items, or G/L accounts that allow direct posting (``invoice_line_type`` 1)."""
        if source is None:
            source = "gl_accounts" if self.settings.invoice_line_type == 1 else "items"
        if source == "gl_accounts":
            rows = self.client.read_all(
                self._service("gl_account"),
                [("Account_Type", "Posting"), ("Direct_Posting", "true")],
            )
            return ProductList(items=tuple(mapping.product(r, gl_account=True) for r in rows))
        rows = self.client.read_all(self._service("item"))
        return ProductList(items=tuple(mapping.product(r, gl_account=False) for r in rows))

    # --- documents -------------------------------------------------------------------------------

    def _drafts(self, correlation: str) -> list[Entity]:
        return self.client.read_multiple(
            self._service("invoice"),
            [("External_Document_No", mapping.filter_literal(correlation))],
        )

    def find_document(self, correlation: str) -> DocumentResult | None:
        """The draft (36) or posted invoice/credit memo (112/114) whose External Document No.
        is ``correlation``. A draft left half-written by an interrupted create is deleted
        here (and reported as not found) so the host creates it again."""
        lcy = self.settings.lcy_code
        if correlation in self._pending.items():
            for draft in self._drafts(correlation):
                self.client.delete(self._service("invoice"), draft["Key"])
            self._pending.discard(correlation)
        else:
            drafts = self._drafts(correlation)
            if drafts:
                draft = drafts[0]
                return mapping.document_result(
                    draft,
                    correlation=correlation,
                    lcy_code=lcy,
                    posted=False,
                    credit=draft.get("Document_Type") == "Credit_Memo",
                )
        for role, credit in (("posted_invoice", False), ("posted_credit_memo", True)):
            posted = self.client.read_multiple(
                self._service(role),
                [("External_Document_No", mapping.filter_literal(correlation))],
                size=1,
            )
            if posted:
                return mapping.document_result(
                    posted[0], correlation=correlation, lcy_code=lcy, posted=True, credit=credit
                )
        return None

    def _contact_name(self, document: WireDocument) -> str:
        if not document.contact_ref:
            return ""
        if self.settings.extended_contacts:
            contact = self.client.read(self._service("contact"), No=document.contact_ref)
            return contact.get("Name", "") if contact else ""
        customer = self._customer(document.customer_number)
        return customer.get("Contact", "") if customer else ""

    def create_draft(self, document: WireDocument) -> DocumentResult:
        """Header, then the lines (in atomic batches), then the totals read back. If a line is
        refused the header is deleted again, so NAV never keeps a half-written draft."""
        header_service = self._service("invoice")
        header = mapping.header_values(
            document, self.settings, contact_name=self._contact_name(document)
        )
        rows: list[dict[str, str]] = []
        for line in document.lines:
            rows.extend(mapping.line_values(line, document.kind, self.settings))
        self._pending.add(document.correlation)
        self._sent.remember(document.correlation)
        created = self.client.create(header_service, header)
        try:
            for start in range(0, len(rows), _LINES_PER_CALL):
                batch = [
                    {"Document_Type": created["Document_Type"], "Document_No": created["No"], **row}
                    for row in rows[start : start + _LINES_PER_CALL]
                ]
                self.client.create_multiple(self._service("invoice_line"), batch)
        except PluginError:
            self._remove_draft(created, document.correlation)
            raise
        final = self.client.read(
            header_service, Document_Type=created["Document_Type"], No=created["No"]
        )
        self._pending.discard(document.correlation)
        return mapping.document_result(
            final or created,
            correlation=document.correlation,
            lcy_code=self.settings.lcy_code,
            posted=False,
            credit=document.kind is DocumentKind.CREDIT_NOTE,
        )

    def _remove_draft(self, created: Entity, correlation: str) -> None:
        """Delete a draft whose lines failed (best effort: if NAV is gone now, the pending mark
        stays and the next attempt's lookup deletes it)."""
        try:
            current = self.client.read(
                self._service("invoice"), Document_Type=created["Document_Type"], No=created["No"]
            )
            if current is not None:
                self.client.delete(self._service("invoice"), current["Key"])
            self._pending.discard(correlation)
        except PluginError:
            return

    # --- statuses --------------------------------------------------------------------------------

    def statuses(self, cursor: str | None, limit: int) -> StatusPage:
        """Posted invoices and credit memos carrying an External Document No.: new ones, and
        reported open ones whose remaining amount changed (see the module docstring)."""
        snapshot: dict[str, Any] | None = None
        if cursor and cursor.startswith("s") and cursor[1:].isdigit():
            snapshot = self._snapshots.get(int(cursor[1:]))
        marks: dict[str, str] = dict((snapshot or {}).get("marks", {}))
        opened: dict[str, str] = dict((snapshot or {}).get("open", {}))
        kinds = (("I", "posted_invoice", False), ("C", "posted_credit_memo", True))
        lcy = self.settings.lcy_code
        changes: list[tuple[str, StatusRecord]] = []
        for prefix, role, credit in kinds:
            service = self._service(role)
            known = {k[2:]: Decimal(v) for k, v in opened.items() if k.startswith(prefix + ":")}
            if not known:
                continue
            still_open = {
                odata_text(e["No"]): _texts(e)
                for e in self.client.odata(service, filter="Closed eq false")
            }
            for number, remainder in sorted(known.items()):
                entity = still_open.get(number)
                if entity is None:
                    found = list(
                        self.client.odata(service, filter=f"No eq {_odata_literal(number)}")
                    )
                    if not found:
                        continue
                    entity = _texts(found[0])
                record = mapping.status_record(entity, lcy_code=lcy, credit=credit)
                if record.paid or record.remainder != remainder:
                    changes.append((f"{prefix}:{number}", record))
        emitted = changes[:limit]
        more = len(changes) > limit
        for key, record in emitted:
            _remember(opened, key, record)
        items = [record for _key, record in emitted]
        for prefix, role, credit in kinds:
            room = limit - len(items)
            if more or room <= 0:
                more = more or room <= 0
                break
            mark = marks.get(prefix, "")
            condition = "External_Document_No ne ''"
            if mark:
                condition += f" and No gt {_odata_literal(mark)}"
            rows = list(
                self.client.odata(
                    self._service(role), filter=condition, orderby="No", limit=room + 1
                )
            )
            more = len(rows) > room
            for entity in rows[:room]:
                record = mapping.status_record(_texts(entity), lcy_code=lcy, credit=credit)
                marks[prefix] = record.booked_number
                _remember(opened, f"{prefix}:{record.booked_number}", record)
                items.append(record)
        generation = self._snapshots.issue({"marks": marks, "open": opened})
        own = tuple(
            r.model_copy(update={"correlation": self._sent.original(r.correlation)}) for r in items
        )
        return StatusPage(items=own, cursor=f"s{generation}", more=more)

    # --- expenses --------------------------------------------------------------------------------

    def expenses(self, cursor: str | None, limit: int) -> ExpensePage:
        """Open TimeLog Expense Entries (50511) with Entry No. above the cursor."""
        after = int(cursor) if cursor and cursor.isdigit() else 0
        rows = self.client.read_multiple(
            self._service("expense"),
            [("Status", "Open"), ("Entry_No", f">{after}")],
            size=limit,
        )
        items = tuple(mapping.expense_record(r, lcy_code=self.settings.lcy_code) for r in rows)
        last = rows[-1]["Entry_No"] if rows else str(after)
        return ExpensePage(items=items, cursor=last, more=len(rows) == limit)

    def notify_expense(self, external_id: str, state: Literal["taken", "deleted"]) -> Ack:
        """Tell NAV the expense was taken from (or deleted in) the pool: its Status."""
        service = self._service("expense")
        status = "Taken" if state == "taken" else "Deleted"

        def attempt() -> Ack:
            entry = self.client.read(service, Entry_No=external_id)
            if entry is None:
                raise ErpRejected(f"NAV has no expense entry {external_id}.")
            if entry.get("Status") != status:
                self.client.update(service, entry["Key"], {"Status": status})
            return Ack()

        return self._retry_stale(attempt)


def _customer_cursor(cursor: str | None) -> tuple[str, str, str]:
    """``since;newest;bookmark`` (all empty for the first read)."""
    parts = [*(cursor or "").split(";", 2), "", ""]
    return parts[0], parts[1], parts[2]


def _texts(entity: Mapping[str, Any]) -> dict[str, str]:
    return {name: odata_text(value) for name, value in entity.items()}


def _odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _remember(opened: dict[str, str], key: str, record: StatusRecord) -> None:
    if record.paid or record.remainder is None:
        opened.pop(key, None)
    else:
        opened[key] = str(record.remainder)
