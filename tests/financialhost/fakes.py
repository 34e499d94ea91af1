"""An in-memory ERP plugin for host tests that are about the host (security, audit, jobs), not
about an ERP. It counts every call, so a test can prove a refused request had no ERP effect.
The real plugins are tested against their emulators."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from ledgerlink.financialhost.plugin import ErpRejected, ErpUnavailable
from ledgerlink.wire import operations as ops


class MemoryPlugin:
    name = "memory"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.customers_by_number: dict[str, ops.WireCustomer] = {}
        self.drafts: dict[str, ops.DocumentResult] = {}
        self.down = False

    def _enter(self, call: str) -> None:
        if self.down:
            raise ErpUnavailable("The ERP does not answer.", erp_text="connection refused")
        self.calls.append(call)

    def supported(self) -> frozenset[str]:
        return frozenset(ops.OPERATIONS)

    def test(self) -> ops.ConnectionInfo:
        self._enter("test")
        return ops.ConnectionInfo(
            system="memory", company_name="Memory A/S", account_id="mem", base_currency="DKK"
        )

    def erp_version(self) -> str:
        return "1.0"

    def find_customer(self, number: str) -> ops.ErpCustomerRecord | None:
        self._enter("find_customer")
        found = self.customers_by_number.get(number)
        if found is None:
            return None
        return ops.ErpCustomerRecord(external_id=number, **found.model_dump(exclude={"currency"}))

    def customers(self, cursor: str | None, limit: int) -> ops.CustomerPage:
        self._enter("customers")
        return ops.CustomerPage(items=(), cursor=cursor)

    def products(self, source: Literal["items", "gl_accounts"] | None) -> ops.ProductList:
        self._enter("products")
        return ops.ProductList(items=(ops.WireProduct(number="WORK", name="Work"),))

    def find_document(self, correlation: str) -> ops.DocumentResult | None:
        self._enter("find_document")
        return self.drafts.get(correlation)

    def statuses(self, cursor: str | None, limit: int) -> ops.StatusPage:
        self._enter("statuses")
        return ops.StatusPage(items=(), cursor=cursor)

    def expenses(self, cursor: str | None, limit: int) -> ops.ExpensePage:
        self._enter("expenses")
        return ops.ExpensePage(items=(), cursor=cursor)

    def upsert_customer(self, customer: ops.WireCustomer) -> ops.PushOutcome:
        self._enter("upsert_customer")
        # XX is no country at all; AQ is one (ISO 3166) that no ERP company here has set up.
        if customer.country in ("XX", "AQ"):
            raise ErpRejected(
                "The country does not exist.",
                erp_text="Kan ej hitta angiven landskod.",
                hint="Create the country.",
            )
        created = customer.number not in self.customers_by_number
        self.customers_by_number[customer.number] = customer
        return ops.PushOutcome(external_id=customer.number, created=created)

    def upsert_contact(self, customer_number: str, contact: ops.WireContact) -> ops.PushOutcome:
        self._enter("upsert_contact")
        return ops.PushOutcome(external_id=f"{customer_number}:{contact.name}")

    def ensure_employee(self, employee: ops.WireEmployee) -> ops.PushOutcome:
        self._enter("ensure_employee")
        return ops.PushOutcome(external_id=employee.initials)

    def ensure_project(self, project: ops.WireProject) -> ops.PushOutcome:
        self._enter("ensure_project")
        return ops.PushOutcome(external_id=project.number)

    def create_draft(self, document: ops.WireDocument) -> ops.DocumentResult:
        self._enter("create_draft")
        net = sum((line.quantity * line.unit_price for line in document.lines), Decimal(0))
        result = ops.DocumentResult(
            external_id=str(1000 + len(self.drafts)),
            correlation=document.correlation,
            currency=document.currency,
            net=net,
            vat=net * Decimal("0.25"),
            gross=net * Decimal("1.25"),
        )
        self.drafts[document.correlation] = result
        return result

    def notify_expense(self, external_id: str, state: Literal["taken", "deleted"]) -> ops.Ack:
        self._enter("notify_expense")
        return ops.Ack()

    def close(self) -> None:
        pass
