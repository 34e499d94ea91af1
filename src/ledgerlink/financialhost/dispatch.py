"""Operation name → plugin call. The only place that knows which plugin method serves which
wire operation; every call holds the plugin lock, because ERP sessions (Visma's ADK above all)
allow one caller at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ledgerlink.financialhost.changes import ChangeFeed
from ledgerlink.financialhost.plugin import ErpPlugin
from ledgerlink.wire import operations as ops


class Dispatcher:
    """Executes read operations directly and write operations as jobs (see :mod:`jobs`)."""

    def __init__(self, plugin: ErpPlugin, changes: ChangeFeed, *, host_version: str) -> None:
        self.plugin = plugin
        self._changes = changes
        self._host_version = host_version
        self._lock = threading.Lock()

    def read(self, operation: str, request: ops.WireModel) -> ops.WireModel:
        """Run a read operation (not ``host.*`` or ``job.status``: the server answers those)."""
        p = self.plugin
        match request:
            case ops.ConnectionTest():
                info: ops.ConnectionInfo = self.call(p.test)
                return info.model_copy(
                    update={
                        "host_version": self._host_version,
                        "erp_version": info.erp_version or self.call(p.erp_version),
                        "capabilities": info.capabilities or tuple(sorted(p.supported())),
                    }
                )
            case ops.CustomerFind(number=number):
                return ops.CustomerFound(customer=self.call(lambda: p.find_customer(number)))
            case ops.ProductsRead(source=source):
                return self.call(lambda: p.products(source))  # type: ignore[no-any-return]
            case ops.DocumentFind(correlation=correlation):
                return ops.DocumentFound(document=self.call(lambda: p.find_document(correlation)))
            case ops.PageRequest(cursor=cursor, limit=limit):
                return self._page(operation, cursor, limit)
        raise ValueError(f"{operation} is not a read operation")

    def call(self, function: Callable[[], Any]) -> Any:
        """Call the plugin while holding its lock."""
        with self._lock:
            return function()

    def _page(self, operation: str, cursor: str | None, limit: int) -> ops.WireModel:
        p = self.plugin
        if operation == "customers.read":
            return self.call(lambda: p.customers(cursor, limit))  # type: ignore[no-any-return]
        if operation == "statuses.read":
            return self.call(lambda: p.statuses(cursor, limit))  # type: ignore[no-any-return]
        if operation == "expenses.read":
            return self.call(lambda: p.expenses(cursor, limit))  # type: ignore[no-any-return]
        if operation == "changes.read":
            return self._changes.read(cursor, limit)
        raise ValueError(f"{operation} is not a paged read")

    def execute(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """Run one stored write job; safe to repeat (natural keys; drafts looked up first)."""
        spec = ops.OPERATIONS[operation]
        request = spec.request.model_validate(body)
        p = self.plugin
        result: ops.WireModel
        with self._lock:
            match request:
                case ops.CustomerUpsert(customer=customer):
                    result = p.upsert_customer(customer)
                case ops.ContactUpsert(customer_number=number, contact=contact):
                    result = p.upsert_contact(number, contact)
                case ops.EmployeeEnsure(employee=employee):
                    result = p.ensure_employee(employee)
                case ops.ProjectEnsure(project=project):
                    result = p.ensure_project(project)
                case ops.DraftCreate(document=document):
                    # The ERP-side lookup closes the window between an ERP write and the local
                    # commit (a crash or kill there must not create the draft twice).
                    found = p.find_document(document.correlation)
                    result = found if found is not None else p.create_draft(document)
                case ops.ExpenseNotify(external_id=external_id, state=state):
                    result = p.notify_expense(external_id, state)
                case _:
                    raise ValueError(f"{operation} is not a write operation")
        return result.model_dump(mode="json")
