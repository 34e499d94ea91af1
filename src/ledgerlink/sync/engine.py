"""The transfer of one posted document, step by step, and the pulls (design §4).

Every step is idempotent on its own: it records its start (one more attempt) in the
integration log *before* it calls the ERP, and a step that finds an earlier attempt looks the
correlation reference up before it creates anything. So a crash at any point — before the ERP
answered, or after it answered and before we recorded the answer — never sends a document twice.

The durable part (which step ran, recovery after a crash) is DBOS's, in ``workflows``; this
module holds what each step does, so it can also run and be tested without DBOS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import stamina
import structlog

from ledgerlink.connectors.contract import (
    AuthExpired,
    Capabilities,
    ConnectorError,
    ErpConnector,
    ErpDocument,
    OutgoingDocument,
    Permanent,
    PushResult,
    Transient,
    Uncertain,
)
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, ValidationError
from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.parties import Customer, Employee
from ledgerlink.domain.transfers import (
    Connection,
    CustomerMaster,
    EntityType,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
    correlation_reference,
    transfer_status,
    workflow_id,
)
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.registry import ConnectorProvider

log = structlog.get_logger("ledgerlink.sync")

_T = TypeVar("_T")

#: The steps of a transfer, in order.
STEP_ORDER = (
    StepKind.CUSTOMER,
    StepKind.PROJECT,
    StepKind.CONTACT,
    StepKind.EMPLOYEE,
    StepKind.INVOICE,
    StepKind.TOTALS,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a step keeps retrying a Transient ERP failure before it gives up (the
    transfer then fails with 'try again later' and can be retried as a whole)."""

    attempts: int = 5
    timeout: float = 60.0
    wait_initial: float = 0.5
    wait_max: float = 10.0


@dataclass(frozen=True, slots=True)
class StepOutcome:
    status: StepStatus
    message: str = ""
    external_id: str = ""


class StepFailed(Exception):
    """A step ended in a way the user must act on; carries what the log shows."""

    def __init__(self, message: str, *, erp_text: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.message, self.erp_text, self.hint = message, erp_text, hint


def _backoff(error: BaseException) -> bool | float:
    """stamina hook: retry only Transient, waiting at least what the server asked for."""
    if isinstance(error, Transient):
        return error.retry_after if error.retry_after is not None else True
    return False


class Engine:
    """Runs transfers and pulls for the connections in one database."""

    def __init__(
        self,
        database: Database,
        connectors: ConnectorProvider,
        *,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.database = database
        self.connectors = connectors
        self.retry = retry

    # helpers --------------------------------------------------------------------------------
    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database)

    def call(self, action: Callable[[], _T]) -> _T:
        """Call the ERP, retrying Transient failures with backoff (server waits win)."""
        for attempt in stamina.retry_context(
            on=_backoff,
            attempts=self.retry.attempts,
            timeout=self.retry.timeout,
            wait_initial=self.retry.wait_initial,
            wait_max=self.retry.wait_max,
        ):
            with attempt:
                return action()
        raise AssertionError("unreachable")  # pragma: no cover

    # planning -------------------------------------------------------------------------------
    def start_transfer(self, connection_id: int, invoice_id: int) -> Transfer:
        """Record a transfer of a posted document and return it (its workflow id is the key).

        A document already transferred, or ignored, is refused; a document whose last
        transfer failed gets a new transfer (``…:retry-n``) that looks up before it creates.
        """
        with self.uow() as uow:
            connection = uow.connections.get(connection_id)
            invoice = uow.invoices.get(invoice_id)
            if not invoice.status.is_posted:
                raise ValidationError(f"{invoice.describe()} is not posted; post it first")
            if invoice.legal_entity_id != connection.legal_entity_id:
                raise ValidationError(
                    f"{invoice.describe()} belongs to another legal entity than "
                    f"{connection.describe()}"
                )
            key = uow.external_keys.get(connection_id, EntityType.INVOICE, invoice_id)
            if key is not None and key.ignored:
                raise ValidationError(
                    f"{invoice.describe()} is ignored for {connection.erp}; un-ignore it first"
                )
            latest = uow.transfers.list(connection_id, invoice_id=invoice_id, limit=1)
            if latest and latest[0].status in (TransferStatus.PENDING, TransferStatus.SUCCESSFUL):
                return latest[0]
            retry = uow.transfers.count_for(connection_id, invoice_id)
            transfer = uow.transfers.start(
                Transfer(
                    connection_id=connection_id,
                    invoice_id=invoice_id,
                    revision=invoice.revision,
                    workflow_id=workflow_id(connection_id, invoice_id, invoice.revision, retry),
                )
            )
            uow.commit()
        return transfer

    # the steps ------------------------------------------------------------------------------
    def run_step(self, transfer_id: int, kind: StepKind) -> StepStatus:
        """Run one step of a transfer and record its outcome in the integration log."""
        with self.uow() as uow:
            uow.transfers.begin_step(transfer_id, kind)
            uow.commit()
        try:
            outcome = self._step(transfer_id, kind)
        except StepFailed as failed:
            outcome = StepOutcome(StepStatus.FAILED)
            details = failed
        except (Permanent, AuthExpired) as error:
            outcome, details = StepOutcome(StepStatus.FAILED), _explain(error)
        except (Transient, Uncertain) as error:
            outcome = StepOutcome(StepStatus.FAILED)
            details = StepFailed(
                f"{error.message} (gave up after retrying)",
                erp_text=error.erp_text,
                hint="The ERP did not answer in time; transfer the document again later. "
                "Nothing is sent twice: the retry looks the document up first.",
            )
        except LedgerlinkError as error:
            outcome = StepOutcome(StepStatus.FAILED)
            details = StepFailed(str(error))
        else:
            details = StepFailed(outcome.message)
        with self.uow() as uow:
            uow.transfers.finish_step(
                transfer_id,
                kind,
                outcome.status,
                message=details.message,
                erp_text=details.erp_text,
                hint=details.hint,
                external_id=outcome.external_id,
            )
            uow.commit()
        log.info("transfer step", transfer=transfer_id, step=kind.value, status=outcome.status)
        return outcome.status

    def finish_transfer(self, transfer_id: int) -> TransferStatus:
        """Set the transaction's status from its steps."""
        with self.uow() as uow:
            transfer = uow.transfers.get(transfer_id)
            status = transfer_status(transfer.steps)
            if status is TransferStatus.PENDING:  # steps never run count as failed
                status = TransferStatus.FAILED
            failed = [s for s in transfer.steps if s.status is StepStatus.FAILED]
            message = "; ".join(f"{s.kind.value}: {s.message}" for s in failed)
            uow.transfers.finish(transfer_id, status, message)
            uow.commit()
        return status

    def transfer_now(self, transfer_id: int) -> TransferStatus:
        """All steps in order, in this thread (what the workflow does, without durability)."""
        for kind in STEP_ORDER:
            status = self.run_step(transfer_id, kind)
            if status is StepStatus.FAILED and kind in (StepKind.CUSTOMER, StepKind.INVOICE):
                break
        return self.finish_transfer(transfer_id)

    @contextmanager
    def _context(self, transfer_id: int) -> Iterator[_StepContext]:
        with self.uow() as uow:
            transfer = uow.transfers.get(transfer_id)
            connection = uow.connections.get(transfer.connection_id)
            invoice = uow.invoices.get(transfer.invoice_id)
            yield _StepContext(
                uow=uow,
                transfer=transfer,
                connection=connection,
                invoice=invoice,
                customer=uow.customers.get(invoice.customer_id),
                connector=self.connectors(connection),
            )

    def _step(self, transfer_id: int, kind: StepKind) -> StepOutcome:
        with self._context(transfer_id) as ctx:
            handler = {
                StepKind.CUSTOMER: self._customer,
                StepKind.PROJECT: self._project,
                StepKind.CONTACT: self._contact,
                StepKind.EMPLOYEE: self._employee,
                StepKind.INVOICE: self._invoice,
                StepKind.TOTALS: self._totals,
            }[kind]
            outcome = handler(ctx)
            ctx.uow.commit()
            return outcome

    def _customer(self, ctx: _StepContext) -> StepOutcome:
        connection, customer, caps = ctx.connection, ctx.customer, ctx.capabilities
        customer_id = require_id(customer)
        key = ctx.uow.external_keys.get(require_id(connection), EntityType.CUSTOMER, customer_id)
        if key is not None and key.external_id:
            return StepOutcome(
                StepStatus.SUCCESSFUL, f"linked to ERP customer {key.external_id}", key.external_id
            )
        found = self.call(lambda: ctx.connector.find_customer(customer.number))
        if found is not None and _same_name(found.name, customer.name):
            ctx.uow.external_keys.link(
                require_id(connection), EntityType.CUSTOMER, customer_id, found.external_id
            )
            return StepOutcome(
                StepStatus.SUCCESSFUL,
                f"linked to the existing ERP customer {found.external_id}",
                found.external_id,
            )
        if found is not None:
            raise StepFailed(
                f"customer number {customer.number} belongs to '{found.name}' in "
                f"{connection.erp}, not to '{customer.name}'",
                hint="Link the right ERP customer by hand, or give one of them another number.",
            )
        if connection.customer_master is CustomerMaster.ERP or not caps.customer_push:
            raise StepFailed(
                f"customer {customer.number} {customer.name} does not exist in {connection.erp}",
                hint=f"Create it in {connection.erp} and import customers "
                "('ledgerlink sync customers'), or link it by hand.",
            )
        try:
            created = self.call(lambda: ctx.connector.create_customer(customer))
        except Permanent:
            # Another transfer of the same connection may have created it a moment ago
            # (customer numbers are sent explicitly, so the ERP refuses a second one).
            again = self.call(lambda: ctx.connector.find_customer(customer.number))
            if again is None or not _same_name(again.name, customer.name):
                raise
            created = PushResult(external_id=again.external_id, created=False)
        ctx.uow.external_keys.link(
            require_id(connection), EntityType.CUSTOMER, customer_id, created.external_id
        )
        return StepOutcome(
            StepStatus.SUCCESSFUL,
            f"created ERP customer {created.external_id}",
            created.external_id,
        )

    def _project(self, ctx: _StepContext) -> StepOutcome:
        invoice = ctx.invoice
        if invoice.project_id is None:
            return StepOutcome(StepStatus.SKIPPED, "the document has no project")
        if not ctx.capabilities.project_push:
            return StepOutcome(
                StepStatus.SKIPPED, f"projects are not enabled for {ctx.connection.erp} here"
            )
        return self._ensure_project(ctx.uow, ctx.connection, ctx.connector, invoice.project_id)

    def _ensure_project(
        self, uow: UnitOfWork, connection: Connection, connector: ErpConnector, project_id: int
    ) -> StepOutcome:
        connection_id = require_id(connection)
        key = uow.external_keys.get(connection_id, EntityType.PROJECT, project_id)
        if key is not None and key.external_id:
            return StepOutcome(
                StepStatus.SUCCESSFUL, f"linked to ERP project {key.external_id}", key.external_id
            )
        project = uow.projects.get(project_id)
        customer = uow.customers.get(project.customer_id)
        customer_key = uow.external_keys.get(
            connection_id, EntityType.CUSTOMER, require_id(customer)
        )
        if customer_key is None or not customer_key.external_id:
            raise StepFailed(
                f"project {project.number}: customer {customer.number} is not in "
                f"{connection.erp} yet",
                hint="Transfer an invoice of the customer first, or import and link customers.",
            )
        result = self._push_once(
            lambda: connector.ensure_project(project, customer_key.external_id)
        )
        uow.external_keys.link(connection_id, EntityType.PROJECT, project_id, result.external_id)
        verb = "created" if result.created else "linked to the existing"
        return StepOutcome(
            StepStatus.SUCCESSFUL,
            f"{verb} ERP project {result.external_id} for {project.number}",
            result.external_id,
        )

    def _push_once(self, push: Callable[[], PushResult]) -> PushResult:
        """``push`` looks up before it creates, so after an Uncertain outcome it is simply
        called again: it finds what the lost answer had created."""
        for _ in range(3):
            try:
                return self.call(push)
            except Uncertain:
                continue
        raise Transient("the ERP never confirmed the creation; nothing was recorded")

    def push_project(self, connection_id: int, project_id: int) -> StepOutcome:
        """Bring one project to the ERP (projects follow on creation where the ERP takes
        them); the outcome says what happened or what to fix."""
        with self.uow() as uow:
            connection = uow.connections.get(connection_id)
            connector = self.connectors(connection)
            if not connector.capabilities.project_push:
                return StepOutcome(
                    StepStatus.SKIPPED, f"projects are not enabled for {connection.erp} here"
                )
            try:
                outcome = self._ensure_project(uow, connection, connector, project_id)
            except StepFailed as failed:
                return StepOutcome(StepStatus.FAILED, _with_hint(failed))
            except ConnectorError as error:
                return StepOutcome(StepStatus.FAILED, _with_hint(_explain(error)))
            uow.commit()
            return outcome

    def _contact(self, ctx: _StepContext) -> StepOutcome:
        invoice = ctx.invoice
        if invoice.contact_id is None:
            return StepOutcome(StepStatus.SKIPPED, "the invoice has no contact")
        if not ctx.capabilities.contact_push:
            return StepOutcome(StepStatus.SKIPPED, f"{ctx.connection.erp} takes no contacts")
        connection_id = require_id(ctx.connection)
        key = ctx.uow.external_keys.get(connection_id, EntityType.CONTACT, invoice.contact_id)
        if key is not None and key.external_id:
            return StepOutcome(StepStatus.SUCCESSFUL, "already in the ERP", key.external_id)
        contact = ctx.uow.contacts.get(invoice.contact_id)
        customer_ref = ctx.customer_ref()
        result = self.call(lambda: ctx.connector.ensure_contact(customer_ref, contact))
        ctx.uow.external_keys.link(
            connection_id, EntityType.CONTACT, invoice.contact_id, result.external_id
        )
        return StepOutcome(StepStatus.SUCCESSFUL, f"contact {contact.name}", result.external_id)

    def _employee(self, ctx: _StepContext) -> StepOutcome:
        employee = ctx.employee()
        if employee is None:
            return StepOutcome(StepStatus.SKIPPED, "no employee as internal reference")
        if not ctx.capabilities.employee_push:
            return StepOutcome(StepStatus.SKIPPED, f"{ctx.connection.erp} takes no employees")
        connection_id, employee_id = require_id(ctx.connection), require_id(employee)
        key = ctx.uow.external_keys.get(connection_id, EntityType.EMPLOYEE, employee_id)
        if key is not None and key.external_id:
            return StepOutcome(StepStatus.SUCCESSFUL, "already in the ERP", key.external_id)
        result = self.call(lambda: ctx.connector.ensure_employee(employee))
        ctx.uow.external_keys.link(
            connection_id, EntityType.EMPLOYEE, employee_id, result.external_id
        )
        return StepOutcome(
            StepStatus.SUCCESSFUL, f"employee {employee.initials}", result.external_id
        )

    def _invoice(self, ctx: _StepContext) -> StepOutcome:
        connection_id, invoice_id = require_id(ctx.connection), require_id(ctx.invoice)
        key = ctx.uow.external_keys.get(connection_id, EntityType.INVOICE, invoice_id)
        if key is not None and key.external_id:
            return StepOutcome(
                StepStatus.SUCCESSFUL, f"already ERP draft {key.external_id}", key.external_id
            )
        document = ctx.outgoing()
        connector = ctx.connector
        # This attempt is counted already; any earlier one may have reached the ERP.
        earlier = ctx.uow.transfers.attempts_so_far(connection_id, invoice_id, StepKind.INVOICE)
        found: ErpDocument | None = None
        if earlier > 1:
            found = self.call(lambda: connector.find_document(document.correlation))
        created = found is None
        if found is None:
            found, created = self._create_once(connector, document)
        ctx.uow.external_keys.link(connection_id, EntityType.INVOICE, invoice_id, found.external_id)
        ctx.uow.erp_documents.record(
            connection_id,
            invoice_id,
            correlation=document.correlation,
            external_id=found.external_id,
            gross=found.gross,
        )
        verb = "created" if created else "found (the earlier attempt had reached the ERP)"
        message = f"{verb} ERP draft {found.external_id}"
        heading, limit = ctx.invoice.heading, ctx.capabilities.max_heading_length
        if limit is not None and len(heading) > limit:
            # The connector shortens display texts to the ERP's limit instead of refusing;
            # say so, since the ERP's heading then differs from the PSA's.
            message += (
                f"; the heading ({len(heading)} characters) was shortened to the ERP's limit "
                f"of {limit} characters"
            )
        return StepOutcome(StepStatus.SUCCESSFUL, message, found.external_id)

    def _create_once(
        self, connector: ErpConnector, document: OutgoingDocument
    ) -> tuple[ErpDocument, bool]:
        """Create the document; after an Uncertain outcome, look it up before trying again.
        Returns the document and whether this call created it (False: it was found)."""
        for _ in range(3):
            try:
                return self.call(lambda: connector.create_document(document)), True
            except Uncertain:
                found: ErpDocument | None = self.call(
                    lambda: connector.find_document(document.correlation)
                )
                if found is not None:
                    return found, False
        raise Transient("the ERP never confirmed the document; it was not created")

    def _totals(self, ctx: _StepContext) -> StepOutcome:
        states = ctx.uow.erp_documents.for_connection(require_id(ctx.connection))
        state = states.get(require_id(ctx.invoice))
        if state is None:
            return StepOutcome(StepStatus.SKIPPED, "no ERP document to compare")
        ours = ctx.invoice.current_totals().gross
        if state.gross != ours:
            raise StepFailed(
                f"the ERP total {state.gross} differs from the PSA total {ours}",
                hint="Check VAT zone and product VAT in the ERP draft before booking it.",
            )
        return StepOutcome(StepStatus.SUCCESSFUL, f"ERP total {state.gross} = PSA total")


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _with_hint(failed: StepFailed) -> str:
    text = failed.message
    if failed.erp_text and failed.erp_text not in text:
        text += f" — ERP: {failed.erp_text}"
    return f"{text} — {failed.hint}" if failed.hint else text


def _explain(error: ConnectorError) -> StepFailed:
    return StepFailed(error.message, erp_text=error.erp_text, hint=error.hint)


@dataclass
class _StepContext:
    uow: UnitOfWork
    transfer: Transfer
    connection: Connection
    invoice: Invoice
    customer: Customer
    connector: ErpConnector

    @property
    def capabilities(self) -> Capabilities:
        caps: Capabilities = self.connector.capabilities
        return caps

    def customer_ref(self) -> str:
        key = self.uow.external_keys.get(
            require_id(self.connection), EntityType.CUSTOMER, require_id(self.customer)
        )
        if key is None or not key.external_id:
            raise StepFailed("the customer is not in the ERP yet (the customer step failed)")
        return key.external_id

    def employee(self) -> Employee | None:
        initials = self.invoice.internal_reference.strip().upper()
        if not initials:
            return None
        return self.uow.employees.by_initials(self.invoice.legal_entity_id, initials)

    def outgoing(self) -> OutgoingDocument:
        invoice, connection = self.invoice, self.connection
        try:
            products = tuple(connection.principles.product_for(line) for line in invoice.lines)
        except ValidationError as error:
            raise StepFailed(
                str(error), hint="Set it with 'ledgerlink connections principles'."
            ) from None
        known = {p.number for p in self.uow.product_numbers.list(require_id(connection))}
        unknown = sorted({p for p in products if p and known and p not in known})
        if unknown:
            raise StepFailed(
                f"product number(s) {', '.join(unknown)} are not in {connection.erp}",
                hint="Import product numbers again ('ledgerlink sync products') or fix the "
                "product-number principles.",
            )
        entity = self.uow.legal_entities.get(invoice.legal_entity_id)
        contact_ref = salesperson_ref = project_ref = ""
        keys = self.uow.external_keys
        connection_id = require_id(connection)
        if invoice.contact_id is not None:
            key = keys.get(connection_id, EntityType.CONTACT, invoice.contact_id)
            contact_ref = key.external_id if key else ""
        employee = self.employee()
        if employee is not None:
            key = keys.get(connection_id, EntityType.EMPLOYEE, require_id(employee))
            salesperson_ref = key.external_id if key else ""
        if invoice.project_id is not None and "project" in self.capabilities.dimensions:
            key = keys.get(connection_id, EntityType.PROJECT, invoice.project_id)
            project_ref = (
                key.external_id if key else self.uow.projects.get(invoice.project_id).number
            )
        return OutgoingDocument(
            invoice=invoice,
            correlation=correlation_reference(entity.code, invoice),
            customer_ref=self.customer_ref(),
            line_products=products,
            contact_ref=contact_ref,
            salesperson_ref=salesperson_ref,
            project_ref=project_ref,
            psa_reference=f"{entity.code} {invoice.describe()}",
        )
