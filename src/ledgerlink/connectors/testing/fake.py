"""A fake ERP and its connector: the engine tested without any ERP (design §6, §11 — fakes over
mocks).

:class:`FakeErp` is an in-memory ERP with the behaviour the engine relies on: customers by
number, documents found by their correlation reference, find-or-create for contacts, employees
and projects, totals it computes itself (rounded as its capabilities' totals rule says),
balancing. :class:`FakeConnector` speaks the connector contract to it, through the kit's real
paginator and a pydantic model of the ERP's answer, so the escapes a real connector can suffer
are real here too:

* ``erp.fail(method, error)`` — the next call of ``method`` raises ``error`` (any exception:
  a contract error, or a bug such as ``KeyError``);
* ``erp.lose_answer(method)`` — the next call of ``method`` takes effect, then raises
  :class:`~ledgerlink.connectors.contract.Uncertain` (the answer was lost);
* ``erp.answer_override`` — the next document answer is this dict, parsed as the ERP's answer
  (an unparseable answer raises pydantic's ``ValidationError``, as a real connector would);
* ``erp.repeat_next_link`` — the document search pages forever on the same link (the kit's
  paginator raises ``PaginationLoop``).

Every call is journaled in ``erp.calls``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from ledgerlink.connectors._kit.pagination import NextLinkPaginator, PageRequest
from ledgerlink.connectors.contract import (
    Batch,
    Capabilities,
    ConnectionInfo,
    ErpConnector,
    ErpCustomer,
    ErpDocument,
    ErpExpense,
    ErpProduct,
    OutgoingDocument,
    Permanent,
    PlannedRequest,
    PostingStatus,
    PushResult,
    StatusUpdate,
    Uncertain,
)
from ledgerlink.connectors.spec import (
    ConnectorEnvironment,
    ConnectorSpec,
    CredentialKind,
    FieldTarget,
    SetupField,
)
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Contact, Customer, Employee
from ledgerlink.domain.totals import expected_totals
from ledgerlink.domain.transfers import CustomerMaster
from ledgerlink.domain.work import Project

#: Everything the fake ERP can do.
FULL = Capabilities(
    customer_push=True,
    customer_import=True,
    contact_push=True,
    employee_push=True,
    project_push=True,
    product_import=True,
    invoice_push=True,
    credit_note_push=True,
    balancing=True,
    expense_import=False,
    customer_master_modes=frozenset({CustomerMaster.PSA, CustomerMaster.ERP}),
    dimensions=("project",),
)


class DocumentAnswer(BaseModel):
    """The fake ERP's answer for a document (what a real connector validates)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    reference: str
    currency: str
    net: Decimal
    vat: Decimal
    gross: Decimal


@dataclass
class FakeErp:
    """The in-memory ERP (see the module docstring)."""

    customers: dict[str, ErpCustomer] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[tuple[str, str], str] = field(default_factory=dict)
    employees: dict[str, str] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)
    products: list[ErpProduct] = field(
        default_factory=lambda: [
            ErpProduct(number="WORK", name="Work"),
            ErpProduct(number="EXP", name="Expenses"),
        ]
    )
    #: expense entries in the ERP's books (read by a connector whose capabilities import them)
    expense_entries: list[ErpExpense] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    answer_override: dict[str, Any] | None = None
    repeat_next_link: bool = False
    gross_difference: Decimal = Decimal(0)
    _failures: dict[str, list[BaseException]] = field(default_factory=dict)
    _document_delays: dict[str, float] = field(default_factory=dict)
    _lost: set[str] = field(default_factory=set)
    _ids: int = 0

    def fail(self, method: str, error: BaseException, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` raise ``error``."""
        self._failures.setdefault(method, []).extend([error] * times)

    def slow_document(self, correlation: str, seconds: float) -> None:
        """Creating the document with this correlation reference takes ``seconds`` (once)."""
        self._document_delays[correlation] = seconds

    def document_delay(self, correlation: str) -> float:
        return self._document_delays.pop(correlation, 0.0)

    def lose_answer(self, method: str) -> None:
        """The next call of ``method`` takes effect and then raises Uncertain."""
        self._lost.add(method)

    def count(self, method: str) -> int:
        return self.calls.count(method)

    def next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def enter(self, method: str) -> None:
        self.calls.append(method)
        queued = self._failures.get(method)
        if queued:
            raise queued.pop(0)

    def leave(self, method: str) -> None:
        if method in self._lost:
            self._lost.discard(method)
            raise Uncertain(f"fake ERP: the answer to {method} was lost")


class FakeConnector:
    """A connector to a :class:`FakeErp` (implements every protocol of the contract)."""

    def __init__(self, erp: FakeErp, *, capabilities: Capabilities = FULL) -> None:
        self.erp = erp
        self.capabilities = capabilities

    def close(self) -> None:
        return

    def verify(self) -> ConnectionInfo:
        self.erp.enter("verify")
        return ConnectionInfo(company_name="Fake ERP", account_id="fake-1", base_currency="DKK")

    # customers ------------------------------------------------------------------------------
    def find_customer(self, number: str) -> ErpCustomer | None:
        self.erp.enter("find_customer")
        return self.erp.customers.get(number)

    def create_customer(self, customer: Customer) -> PushResult:
        self.erp.enter("create_customer")
        if customer.number in self.erp.customers:
            raise Permanent(f"fake ERP: customer number {customer.number} is taken")
        found = ErpCustomer(
            external_id=f"C{customer.number}",
            number=customer.number,
            name=customer.name,
            currency=customer.currency,
        )
        self.erp.customers[customer.number] = found
        self.erp.leave("create_customer")
        return PushResult(external_id=found.external_id)

    def update_customer(self, external_id: str, customer: Customer) -> None:
        self.erp.enter("update_customer")

    def customers(self, cursor: str | None) -> Batch[ErpCustomer]:
        self.erp.enter("customers")
        return Batch(items=tuple(self.erp.customers.values()), cursor=None)

    # references -----------------------------------------------------------------------------
    def ensure_contact(self, customer_ref: str, contact: Contact) -> PushResult:
        self.erp.enter("ensure_contact")
        key = (customer_ref, contact.name)
        if key in self.erp.contacts:
            return PushResult(external_id=self.erp.contacts[key], created=False)
        self.erp.contacts[key] = self.erp.next_id()
        self.erp.leave("ensure_contact")
        return PushResult(external_id=self.erp.contacts[key])

    def ensure_employee(self, employee: Employee) -> PushResult:
        self.erp.enter("ensure_employee")
        if employee.initials in self.erp.employees:
            return PushResult(external_id=self.erp.employees[employee.initials], created=False)
        self.erp.employees[employee.initials] = self.erp.next_id()
        self.erp.leave("ensure_employee")
        return PushResult(external_id=self.erp.employees[employee.initials])

    def ensure_project(self, project: Project, customer_ref: str) -> PushResult:
        self.erp.enter("ensure_project")
        if project.number in self.erp.projects:
            return PushResult(external_id=self.erp.projects[project.number], created=False)
        self.erp.projects[project.number] = self.erp.next_id()
        self.erp.leave("ensure_project")
        return PushResult(external_id=self.erp.projects[project.number])

    def products(self) -> Sequence[ErpProduct]:
        self.erp.enter("products")
        return list(self.erp.products)

    # documents ------------------------------------------------------------------------------
    def find_document(self, correlation: str) -> ErpDocument | None:
        self.erp.enter("find_document")
        paginator = NextLinkPaginator(items_key="value", next_key="next")

        def fetch(request: PageRequest) -> dict[str, Any]:
            # Three pages, the matches on the last; a looping ERP repeats page 2's link.
            if request.url is None:
                return {"value": [], "next": "/documents?page=2"}
            if request.url.endswith("page=2"):
                following = "page=2" if self.erp.repeat_next_link else "page=3"
                return {"value": [], "next": f"/documents?{following}"}
            matches = [d for d in self.erp.documents.values() if d["reference"] == correlation]
            return {"value": matches}

        for item in paginator.items(fetch):
            return _document(DocumentAnswer.model_validate(item))
        return None

    def create_document(self, document: OutgoingDocument) -> ErpDocument:
        self.erp.enter("create_document")
        time.sleep(self.erp.document_delay(document.correlation))
        # The fake ERP rounds as its capabilities declare (the PSA's rule by default).
        totals = expected_totals(document.invoice, self.capabilities.totals)
        stored: dict[str, Any] = {
            "id": self.erp.next_id(),
            "reference": document.correlation,
            "currency": document.invoice.currency,
            "net": totals.net.amount,
            "vat": totals.vat.amount,
            "gross": totals.gross.amount + self.erp.gross_difference,
        }
        self.erp.documents[stored["id"]] = stored
        self.erp.leave("create_document")
        answer = self.erp.answer_override or stored
        self.erp.answer_override = None
        return _document(DocumentAnswer.model_validate(answer))

    def preview_customer(self, customer: Customer) -> list[PlannedRequest]:
        body = {"number": customer.number, "name": customer.name}
        return [PlannedRequest("POST", "/customers", body, f"create customer {customer.number}")]

    def preview_document(
        self, document: OutgoingDocument, *, new_customer: Customer | None = None
    ) -> list[PlannedRequest]:
        body = {"reference": document.correlation, "customer": document.customer_ref}
        return [PlannedRequest("POST", "/documents", body, "create the document")]

    def statuses(self, cursor: str | None) -> Batch[StatusUpdate]:
        self.erp.enter("statuses")
        items = tuple(
            StatusUpdate(
                correlation=d["reference"],
                external_id=d["id"],
                status=PostingStatus.DRAFT,
                gross=Money(d["gross"], d["currency"]),
            )
            for d in self.erp.documents.values()
        )
        return Batch(items=items, cursor=None)

    def expenses(self, cursor: str | None) -> Batch[ErpExpense]:
        self.erp.enter("expenses")
        if not self.capabilities.expense_import:
            raise Permanent("the fake ERP has no expenses")
        return Batch(items=tuple(self.erp.expense_entries), cursor=None)


class FakeSettings(BaseModel):
    """The fake connection's settings: none needed."""

    model_config = ConfigDict(extra="allow")


def fake_spec(erp: FakeErp, *, capabilities: Capabilities = FULL) -> ConnectorSpec:
    """A spec whose connectors all talk to ``erp`` (for a provider's ``specs``)."""

    def build(
        credentials: Mapping[str, str], settings: Mapping[str, Any], env: ConnectorEnvironment
    ) -> ErpConnector:
        return FakeConnector(erp, capabilities=capabilities)

    return ConnectorSpec(
        name="fake",
        display_name="Fake ERP",
        credential_kind=CredentialKind.STATIC,
        setup=(
            SetupField(
                name="token", label="Any text.", target=FieldTarget.CREDENTIAL, required=True
            ),
        ),
        settings_model=FakeSettings,
        capabilities=capabilities,
        factory=build,
        summary="An in-memory ERP for testing the engine.",
    )


def _document(answer: DocumentAnswer) -> ErpDocument:
    return ErpDocument(
        external_id=answer.id,
        correlation=answer.reference,
        net=Money(answer.net, answer.currency),
        vat=Money(answer.vat, answer.currency),
        gross=Money(answer.gross, answer.currency),
    )
