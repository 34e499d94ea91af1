"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy.orm import Session

from ledgerlink.store.dashboard import DashboardRepository
from ledgerlink.store.database import Database
from ledgerlink.store.expense_exports import ExpenseExportRepository
from ledgerlink.store.integration import (
    ConnectionRepository,
    CursorRepository,
    ErpDocumentRepository,
    ErpExpenseRepository,
    ExternalKeyRepository,
    ProductNumberRepository,
    TransferRepository,
)
from ledgerlink.store.integration_log import IntegrationLogRepository
from ledgerlink.store.repositories import (
    ContactRepository,
    CustomerRepository,
    EmployeeRepository,
    ExpenseRepository,
    InvoiceRepository,
    LegalEntityRepository,
    ProjectRepository,
    TimeRegistrationRepository,
)
from ledgerlink.store.saved_filters import SavedFilterRepository
from ledgerlink.store.users import UserRepository, WebSessionRepository


class UnitOfWork:
    """``with UnitOfWork(db) as uow: …; uow.commit()`` — nothing is kept without ``commit``;
    leaving the block (normally or by an exception) rolls back whatever was not committed."""

    session: Session
    legal_entities: LegalEntityRepository
    customers: CustomerRepository
    contacts: ContactRepository
    employees: EmployeeRepository
    projects: ProjectRepository
    registrations: TimeRegistrationRepository
    expenses: ExpenseRepository
    invoices: InvoiceRepository
    connections: ConnectionRepository
    external_keys: ExternalKeyRepository
    product_numbers: ProductNumberRepository
    transfers: TransferRepository
    integration_log: IntegrationLogRepository
    erp_documents: ErpDocumentRepository
    cursors: CursorRepository
    erp_expenses: ErpExpenseRepository
    expense_exports: ExpenseExportRepository
    users: UserRepository
    web_sessions: WebSessionRepository
    saved_filters: SavedFilterRepository
    dashboard: DashboardRepository

    def __init__(self, database: Database) -> None:
        self._database = database

    def __enter__(self) -> UnitOfWork:
        self.session = self._database.session()
        self.legal_entities = LegalEntityRepository(self.session)
        self.customers = CustomerRepository(self.session)
        self.contacts = ContactRepository(self.session)
        self.employees = EmployeeRepository(self.session)
        self.projects = ProjectRepository(self.session)
        self.registrations = TimeRegistrationRepository(self.session)
        self.expenses = ExpenseRepository(self.session)
        self.invoices = InvoiceRepository(self.session)
        self.connections = ConnectionRepository(self.session)
        self.external_keys = ExternalKeyRepository(self.session)
        self.product_numbers = ProductNumberRepository(self.session)
        self.transfers = TransferRepository(self.session)
        self.integration_log = IntegrationLogRepository(self.session)
        self.erp_documents = ErpDocumentRepository(self.session)
        self.cursors = CursorRepository(self.session)
        self.erp_expenses = ErpExpenseRepository(self.session)
        self.expense_exports = ExpenseExportRepository(self.session)
        self.users = UserRepository(self.session)
        self.web_sessions = WebSessionRepository(self.session)
        self.saved_filters = SavedFilterRepository(self.session)
        self.dashboard = DashboardRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: an exception inside undoes only what happened inside."""
        with self.session.begin_nested():
            yield
