"""The transfer of one posted document, and what its steps do (design §4, §8).

A transfer runs as one *plan*: the steps its document and the connector's capabilities call
for (customer → project → contact → employee → invoice → totals), with everything they need
loaded once (:class:`TransferContext`). Steps the capabilities or the document rule out are
planned away, not run.

Exactly once: every step looks up before it creates (customers by number, contacts and
employees by name, projects by number, documents by their correlation reference). The invoice
step also records its start (one more attempt) and commits it *before* it sends the document,
so a crash at any point — before the ERP answered, or after it answered and before we recorded
the answer — leads the next run to look the correlation up first and never send it twice.

What a run writes: one commit before the document is sent (the evidence above) and one commit
at the end with the keys, the ERP document, every step's outcome and the transaction's status.

Failures, by what the caller should do (design §6):

* :class:`~ledgerlink.connectors.contract.Permanent`, :class:`AuthExpired`, :class:`StepFailed`
  — the step fails with the ERP's text and a hint; the document can be transferred again.
* :class:`~ledgerlink.connectors.contract.Transient` (the connector's own retries are spent, or
  the server asked for a long wait) and an unconfirmed :class:`Uncertain` write — the run is
  *deferred*: nothing is retried here; the caller resumes the transfer after the wait (the
  durable queue does, see ``workflows``). The last allowed run fails instead.
* Anything else is a bug, and the step boundary turns it into a failed step that says so and
  keeps the exception's type and text. No transfer is ever left pending.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy.exc import IntegrityError

from ledgerlink.connectors.contract import (
    AuthExpired,
    Capabilities,
    ConnectorError,
    ErpConnector,
    ErpDocument,
    OutgoingDocument,
    Permanent,
    PlannedRequest,
    PushResult,
    Transient,
    Uncertain,
)
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import LedgerlinkError, NotFoundError, ValidationError
from ledgerlink.domain.invoices import Invoice
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Customer, Employee
from ledgerlink.domain.totals import check_totals
from ledgerlink.domain.transfers import (
    ESSENTIAL_STEPS,
    Connection,
    CustomerMaster,
    EntityType,
    ExternalKey,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferStep,
    correlation_reference,
    transfer_status,
    workflow_id,
)
from ledgerlink.domain.work import Project
from ledgerlink.store.database import Database
from ledgerlink.store.integration import RunRecord
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.registry import ConnectorProvider, erp_title

log = structlog.get_logger("ledgerlink.sync")

#: How many transfers of a connection run as one batch (:meth:`Engine.run_batch`): their
#: reads and writes are shared, at the price of saving their outcomes together at its end.
BATCH = 40

#: The steps of a transfer, in order (a plan is a subsequence of it).
STEP_ORDER = tuple(StepKind)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferPolicy:
    """When a run is deferred: wait what the server asked for, else ``first_wait`` doubled per
    deferral up to ``max_wait``; after ``max_runs`` runs the transfer fails."""

    first_wait: float = 30.0
    max_wait: float = 900.0
    max_runs: int = 6

    def wait(self, run: int, asked: float | None) -> float:
        if asked is not None:
            return max(asked, 0.0)
        return min(self.first_wait * 2.0 ** max(run - 1, 0), self.max_wait)


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


class _Defer(Exception):
    """Internal: the ERP is unavailable for now; resume the transfer after ``error``'s wait."""

    def __init__(self, error: ConnectorError, message: str) -> None:
        super().__init__(message)
        self.error, self.message = error, message


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run of a transfer came to: a final ``status``, or ``PENDING`` with the seconds
    to wait before the next run (``resume_after``)."""

    status: TransferStatus
    resume_after: float | None = None
    message: str = ""

    @property
    def deferred(self) -> bool:
        return self.status is TransferStatus.PENDING


@dataclass(frozen=True, slots=True)
class PreviewStep:
    """One step of a previewed transfer: what it would do, and the writes it would send."""

    kind: StepKind
    summary: str
    requests: tuple[PlannedRequest, ...] = ()


_ENTITY_OF = {
    StepKind.CUSTOMER: EntityType.CUSTOMER,
    StepKind.PROJECT: EntityType.PROJECT,
    StepKind.CONTACT: EntityType.CONTACT,
    StepKind.EMPLOYEE: EntityType.EMPLOYEE,
    StepKind.INVOICE: EntityType.INVOICE,
}


@dataclass
class TransferContext:
    """Everything a transfer's steps read, loaded once per run (design §8)."""

    recorded: set[StepKind]  # the steps that have a row in the log
    transfer: Transfer
    connection: Connection
    invoice: Invoice
    customer: Customer
    entity_code: str
    employee: Employee | None
    project: Project | None
    keys: dict[EntityType, ExternalKey | None]
    erp_gross: Money | None  # the ERP's total, when the document was transferred before
    credited_ref: str  # a credit note's: the ERP id of the invoice it credits ("" if none)
    known_products: frozenset[str]
    products_imported: bool
    connector: ErpConnector
    #: How often earlier runs started the invoice step (None: this run has not recorded its
    #: own start yet).
    earlier_invoice_attempts: int | None = None
    #: Steps whose start this run recorded but never sent (see ``RunRecord.unsent``).
    unsent: set[StepKind] = field(default_factory=set)
    links: list[tuple[EntityType, int, str]] = field(default_factory=list)
    #: The documents after this one in its batch (see ``Engine._begin_invoice``).
    later: list[TransferContext] = field(default_factory=list, repr=False)
    document: tuple[str, ErpDocument] | None = None  # (correlation, what the ERP holds)

    @property
    def capabilities(self) -> Capabilities:
        caps: Capabilities = self.connector.capabilities
        return caps

    @property
    def connection_id(self) -> int:
        return require_id(self.connection)

    def external_id(self, entity: EntityType) -> str:
        key = self.keys.get(entity)
        return key.external_id if key is not None else ""

    def link(self, entity: EntityType, local_id: int, external_id: str) -> None:
        """Remember a new link (written at the end of the run) and let later steps, and the
        later documents of the batch, see it."""
        self.links.append((entity, local_id, external_id))
        for later in self.later:
            later.adopt([(entity, local_id, external_id)])
        self.keys[entity] = ExternalKey(
            connection_id=self.connection_id,
            entity_type=entity,
            local_id=local_id,
            external_id=external_id,
        )

    def adopt(self, links: Sequence[tuple[EntityType, int, str]]) -> None:
        """See the links an earlier transfer of the same batch made (its new customer, say)."""
        mine = {
            EntityType.CUSTOMER: self.customer.id,
            EntityType.CONTACT: self.invoice.contact_id,
            EntityType.EMPLOYEE: self.employee.id if self.employee is not None else None,
            EntityType.PROJECT: self.invoice.project_id,
        }
        for entity, local_id, external_id in links:
            if mine.get(entity) == local_id and not self.external_id(entity):
                self.keys[entity] = ExternalKey(
                    connection_id=self.connection_id,
                    entity_type=entity,
                    local_id=local_id,
                    external_id=external_id,
                )

    def customer_ref(self) -> str:
        ref = self.external_id(EntityType.CUSTOMER)
        if not ref:
            raise StepFailed("the customer is not in the ERP yet (the customer step failed)")
        return ref


def plan(ctx: TransferContext) -> tuple[StepKind, ...]:
    """The steps this document needs with this connector (pure)."""
    caps, invoice = ctx.capabilities, ctx.invoice
    wanted = {
        StepKind.CUSTOMER: True,
        StepKind.PROJECT: invoice.project_id is not None and caps.project_push,
        StepKind.CONTACT: invoice.contact_id is not None and caps.contact_push,
        StepKind.EMPLOYEE: ctx.employee is not None and caps.employee_push,
        StepKind.INVOICE: True,
        StepKind.TOTALS: True,
    }
    return tuple(kind for kind in STEP_ORDER if wanted[kind])


class Engine:
    """Runs transfers and pulls for the connections in one database."""

    def __init__(
        self,
        database: Database,
        connectors: ConnectorProvider,
        *,
        defer: DeferPolicy = DeferPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.database = database
        self.connectors = connectors
        self.defer = defer
        self._sleep = sleep
        self._entity_codes: dict[int, str] = {}

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database)

    # planning -------------------------------------------------------------------------------
    def start_transfer(
        self, connection_id: int, invoice_id: int, *, again: bool = True
    ) -> Transfer:
        """Record a transfer of a posted document and return it (its workflow id is the key).

        A document already transferred, or ignored, is refused; a document whose last
        transfer failed gets a new transfer (``…:retry-n``) that looks up before it creates;
        one whose transfer is still pending gets that transfer back.
        """
        with self.uow() as uow:
            connection = _active(uow.connections.get(connection_id))
            invoice = uow.invoices.head(invoice_id)
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
                    f"{invoice.describe()} is ignored for {erp_title(connection.erp)}; "
                    "un-ignore it first"
                )
            latest, count = uow.transfers.latest_for(connection_id, invoice_id)
            if latest is not None and latest.status in (
                TransferStatus.PENDING,
                TransferStatus.SUCCESSFUL,
            ):
                return latest
            try:
                transfer = uow.transfers.add_new(
                    Transfer(
                        connection_id=connection_id,
                        invoice_id=invoice_id,
                        revision=invoice.revision,
                        workflow_id=workflow_id(connection_id, invoice_id, invoice.revision, count),
                    )
                )
                uow.commit()
            except IntegrityError:  # started by another process at the same moment
                return self._started_meanwhile(connection_id, invoice_id)
        return transfer

    def start_transfers(self, connection_id: int, invoice_ids: Sequence[int]) -> list[Transfer]:
        """:meth:`start_transfer` for several documents of one connection, in one transaction
        (a handful of statements for all); the transfers in the order of ``invoice_ids``. A
        document that cannot be transferred is an error naming it, and nothing is started."""
        with self.uow() as uow:
            connection = _active(uow.connections.get(connection_id))
            heads = uow.invoices.heads(invoice_ids)
            keys = uow.external_keys.for_locals(
                connection_id, [(EntityType.INVOICE, i) for i in invoice_ids]
            )
            latest = uow.transfers.latest_for_many(connection_id, invoice_ids)
            started: dict[int, Transfer] = {}
            new: list[Transfer] = []
            for invoice_id in invoice_ids:
                head = heads.get(invoice_id)
                if head is None:
                    raise NotFoundError(f"invoice #{invoice_id} does not exist")
                if not head.status.is_posted:
                    raise ValidationError(f"{head.describe()} is not posted; post it first")
                if head.legal_entity_id != connection.legal_entity_id:
                    raise ValidationError(
                        f"{head.describe()} belongs to another legal entity than "
                        f"{connection.describe()}"
                    )
                key = keys.get((EntityType.INVOICE, invoice_id))
                if key is not None and key.ignored:
                    raise ValidationError(
                        f"{head.describe()} is ignored for {erp_title(connection.erp)}; "
                        "un-ignore it first"
                    )
                last, count = latest.get(invoice_id, (None, 0))
                if last is not None and last.status in (
                    TransferStatus.PENDING,
                    TransferStatus.SUCCESSFUL,
                ):
                    started[invoice_id] = last
                    continue
                new.append(
                    Transfer(
                        connection_id=connection_id,
                        invoice_id=invoice_id,
                        revision=head.revision,
                        workflow_id=workflow_id(connection_id, invoice_id, head.revision, count),
                    )
                )
            try:
                for transfer in uow.transfers.add_many(new):
                    started[transfer.invoice_id] = transfer
                uow.commit()
            except IntegrityError:  # another process started some of them at the same moment
                uow.rollback()
                return [self.start_transfer(connection_id, i) for i in invoice_ids]
        return [started[i] for i in invoice_ids]

    def _started_meanwhile(self, connection_id: int, invoice_id: int) -> Transfer:
        with self.uow() as uow:
            latest, _ = uow.transfers.latest_for(connection_id, invoice_id)
        if latest is None:  # pragma: no cover — the unique key was taken by this document
            raise ValidationError("the transfer could not be recorded; try again")
        return latest

    # running --------------------------------------------------------------------------------
    def transfer_now(self, transfer_id: int, *, max_wait: float = 60.0) -> TransferStatus:
        """Run a transfer in this thread until it ends (what the durable workflow does, without
        the queue): a deferred run is resumed after its wait, here — unless the ERP asks for
        more than ``max_wait`` seconds, which only the queue may wait out: then it fails."""
        return self._resume(transfer_id, self.run_transfer(transfer_id), max_wait=max_wait)

    def transfer_many(
        self,
        transfer_ids: Sequence[int],
        *,
        batch: int = BATCH,
        max_wait: float = 60.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[int, TransferStatus]:
        """:meth:`transfer_now` for several transfers, in the order given, ``batch`` at a time
        (:meth:`run_batch`); ``progress(done, total)`` after each batch. When the ERP defers a
        batch, this thread waits once (the longest wait asked) and runs what was deferred as
        the batch's next run — unless the wait is longer than ``max_wait``: then they fail."""
        statuses: dict[int, TransferStatus] = {}
        for start in range(0, len(transfer_ids), batch):
            chunk, run = list(transfer_ids[start : start + batch]), 1
            while chunk:
                waits: dict[int, float] = {}
                for transfer_id, result in self.run_batch(chunk, run=run).items():
                    if result.deferred:
                        waits[transfer_id] = result.resume_after or 0.0
                    else:
                        statuses[transfer_id] = result.status
                if not waits:
                    break
                wait = max(waits.values())
                if wait > max_wait:
                    for transfer_id in waits:
                        statuses[transfer_id] = self.abandon(
                            transfer_id,
                            f"the ERP asked to wait {_seconds(wait)}; transfer the document "
                            "again later",
                        )
                    break
                self._sleep(wait)
                chunk, run = list(waits), run + 1
            if progress is not None:
                progress(len(statuses), len(transfer_ids))
        return {i: statuses[i] for i in transfer_ids}

    def _resume(self, transfer_id: int, result: RunResult, *, max_wait: float) -> TransferStatus:
        run = 1
        while result.deferred:
            wait = result.resume_after or 0.0
            if wait > max_wait:
                return self.abandon(
                    transfer_id,
                    f"the ERP asked to wait {_seconds(wait)}; transfer the document again later",
                )
            run += 1
            self._sleep(wait)
            result = self.run_transfer(transfer_id, run=run)
        return result.status

    def run_transfer(self, transfer_id: int, *, run: int = 1) -> RunResult:
        """One run of a transfer's plan (see the module docstring). ``run`` counts the runs of
        this transfer; the last one the :class:`DeferPolicy` allows fails instead of deferring.
        """
        return self.run_batch([transfer_id], run=run)[transfer_id]

    def run_batch(self, transfer_ids: Sequence[int], *, run: int = 1) -> dict[int, RunResult]:
        """Run several transfers, in the order given, as one batch (transfer id → result).

        Their contexts are loaded in one transaction, which also records the start of every
        invoice step that needs no ERP call before it (the evidence, committed before anything
        is sent); then each transfer's steps run in turn, and a customer, project, contact or
        employee one of them links is linked for the ones after it; at the end one transaction
        saves every outcome. A crash in between loses no document: the evidence makes the next
        run look each one up before it creates. When the ERP defers one, the ones after it are
        deferred with it, unsent (the ERP asked everyone to wait)."""
        try:
            contexts, results = self._load_batch(transfer_ids)
        except LedgerlinkError as error:  # e.g. credentials the key file cannot open
            if len(transfer_ids) > 1:  # one bad transfer must not stop the others
                return {i: self.run_batch([i], run=run)[i] for i in transfer_ids}
            status = self.abandon(transfer_ids[0], f"the transfer could not start: {error}")
            return {transfer_ids[0]: RunResult(status, message=str(error))}
        for index, ctx in enumerate(contexts):
            ctx.later = contexts[index + 1 :]
        finished: list[_Finished] = []
        waiting: _Defer | None = None
        for ctx in contexts:
            if waiting is None:
                outcomes, deferred = self._execute(ctx)
                waiting = deferred
            else:
                outcomes, deferred = (
                    {},
                    _Defer(waiting.error, f"{waiting.message} (an earlier document of this batch)"),
                )
                if ctx.earlier_invoice_attempts is not None:  # its start recorded, unsent
                    ctx.unsent.add(StepKind.INVOICE)
            finished.append(self._conclude(ctx, outcomes, deferred, run))
        self._save_batch(finished)
        for done in finished:
            results[require_id(done.ctx.transfer)] = done.result
            log.info(
                "transfer deferred" if done.result.deferred else "transfer finished",
                transfer=done.ctx.transfer.id,
                status=done.result.status.value,
                wait=done.result.resume_after,
            )
        return {i: results[i] for i in transfer_ids}

    def _execute(self, ctx: TransferContext) -> tuple[dict[StepKind, TransferStep], _Defer | None]:
        """Run the plan's steps until one fails an essential step or is deferred."""
        outcomes: dict[StepKind, TransferStep] = {}
        for kind in plan(ctx):
            try:
                outcome = self._step(kind, ctx)
            except _Defer as defer:
                return outcomes, defer
            outcomes[kind] = _record(kind, outcome)
            if outcomes[kind].status is StepStatus.FAILED and kind in ESSENTIAL_STEPS:
                break
        return outcomes, None

    def _conclude(
        self,
        ctx: TransferContext,
        outcomes: dict[StepKind, TransferStep],
        deferred: _Defer | None,
        run: int,
    ) -> _Finished:
        """What a run came to: deferred (the first unfinished step pending, with the wait) or
        finished (the last allowed run fails what it could not finish)."""
        steps = plan(ctx)
        if deferred is not None and run < self.defer.max_runs:
            wait = self.defer.wait(run, _asked_wait(deferred.error))
            kind = next(k for k in steps if k not in outcomes)
            outcomes[kind] = _step_record(
                kind,
                StepStatus.PENDING,
                message=f"{deferred.message}; trying again in {_seconds(wait)}",
                erp_text=deferred.error.erp_text,
                hint="Nothing to do: the transfer resumes by itself, and nothing is sent twice.",
            )
            message = outcomes[kind].message
            return _Finished(ctx, outcomes, None, message, RunResult(TransferStatus.PENDING, wait))
        if deferred is not None:
            kind = next(k for k in steps if k not in outcomes)
            outcomes[kind] = _step_record(
                kind,
                StepStatus.FAILED,
                message=f"{deferred.message} (gave up after {run} tries)",
                erp_text=deferred.error.erp_text,
                hint=deferred.error.hint
                or "The ERP did not answer in time; transfer the document again later. "
                "Nothing is sent twice: the retry looks the document up first.",
            )
        status = transfer_status(list(outcomes.values()))
        failed = [o for o in outcomes.values() if o.status is StepStatus.FAILED]
        message = "; ".join(f"{o.kind.value}: {o.message}" for o in failed)
        return _Finished(ctx, outcomes, status, message, RunResult(status, message=message))

    def finished_among(self, transfer_ids: Sequence[int]) -> int:
        """How many of the transfers are no longer pending (one query)."""
        with self.uow() as uow:
            return uow.transfers.count_finished(transfer_ids)

    def status_of(self, transfer_id: int) -> TransferStatus:
        """The transfer's status as the integration log has it."""
        with self.uow() as uow:
            return uow.transfers.get(transfer_id, with_steps=False).status

    def abandon(self, transfer_id: int, reason: str) -> TransferStatus:
        """End a transfer that no workflow will finish (it died or errored): its unfinished
        steps fail with ``reason``; a finished transfer is left as it is."""
        with self.uow() as uow:
            transfer = uow.transfers.get(transfer_id)
            if transfer.status is not TransferStatus.PENDING:
                return transfer.status
            records = [
                _step_record(
                    s.kind,
                    StepStatus.FAILED if s.status is StepStatus.PENDING else s.status,
                    message=reason if s.status is StepStatus.PENDING else s.message,
                    erp_text=s.erp_text,
                    hint=s.hint,
                    external_id=s.external_id,
                )
                for s in transfer.steps
            ]
            hint = "Transfer the document again; nothing is sent twice."
            if not records:
                records = [_step_record(StepKind.INVOICE, StepStatus.FAILED, reason, hint=hint)]
            status = transfer_status(records)
            if status is TransferStatus.PENDING:
                status = TransferStatus.FAILED
            uow.transfers.record_run(transfer_id, records, status=status, message=reason)
            uow.commit()
        log.warning("transfer abandoned", transfer=transfer_id, reason=reason)
        return status

    # preview -------------------------------------------------------------------------------
    def preview(self, connection_id: int, invoice_id: int) -> list[PreviewStep]:
        """What a transfer of the document would do, step by step, with the exact writes it
        would send — nothing sent, nothing recorded (design §6 "Preview")."""
        with self.uow() as uow:
            invoice = uow.invoices.head(invoice_id)
            if not invoice.status.is_posted:
                raise ValidationError(f"{invoice.describe()} is not posted; post it first")
            placeholder = Transfer(
                connection_id=connection_id,
                invoice_id=invoice_id,
                revision=invoice.revision,
                workflow_id="preview",
            )
            ctx = self._context(uow, placeholder)
        if ctx.invoice.legal_entity_id != ctx.connection.legal_entity_id:
            raise ValidationError(
                f"{ctx.invoice.describe()} belongs to another legal entity than "
                f"{ctx.connection.describe()}"
            )
        return [self._preview_step(kind, ctx) for kind in plan(ctx)]

    def _preview_step(self, kind: StepKind, ctx: TransferContext) -> PreviewStep:
        linked = ctx.external_id(_ENTITY_OF[kind]) if kind in _ENTITY_OF else ""
        if linked:
            return PreviewStep(kind, f"already linked to ERP {kind.value} {linked}; nothing sent")
        erp = erp_title(ctx.connection.erp)
        if kind is StepKind.CUSTOMER:
            customer = ctx.customer
            if ctx.connection.customer_master is CustomerMaster.ERP or not (
                ctx.capabilities.customer_push
            ):
                return PreviewStep(
                    kind, f"looks up customer {customer.number} in {erp}; must exist there"
                )
            return PreviewStep(
                kind,
                f"looks up customer {customer.number} in {erp}, creates it if missing:",
                tuple(ctx.connector.preview_customer(customer)),
            )
        if kind is StepKind.INVOICE:
            new_customer = None
            if not ctx.external_id(EntityType.CUSTOMER):  # it would be created first
                new_customer = ctx.customer
                ctx.keys[EntityType.CUSTOMER] = ExternalKey(
                    connection_id=ctx.connection_id,
                    entity_type=EntityType.CUSTOMER,
                    local_id=require_id(ctx.customer),
                    external_id=ctx.customer.number,
                )
            try:
                document = outgoing(ctx)
            except StepFailed as failed:
                return PreviewStep(kind, f"would fail: {_with_hint(failed)}")
            requests = ctx.connector.preview_document(document, new_customer=new_customer)
            return PreviewStep(
                kind,
                f"creates the draft with correlation {document.correlation}:",
                tuple(requests),
            )
        if kind is StepKind.TOTALS:
            ours = ctx.invoice.current_totals().gross
            return PreviewStep(kind, f"compares the ERP's total with the PSA's {ours}")
        return PreviewStep(kind, f"looks the {kind.value} up in {erp}, creates it if missing")

    # loading and saving ----------------------------------------------------------------------
    def _load_batch(
        self, transfer_ids: Sequence[int]
    ) -> tuple[list[TransferContext], dict[int, RunResult]]:
        """Load the contexts of the pending transfers (the others are answered from the log:
        finished by an earlier run whose answer was lost) and record the start of each invoice
        step that needs no ERP call before it, committed before anything is sent."""
        with self.uow() as uow:
            transfers = uow.transfers.get_many(transfer_ids)
            results = {
                require_id(t): RunResult(t.status, message=t.message)
                for t in transfers
                if t.status is not TransferStatus.PENDING
            }
            contexts = self._contexts(
                uow, [t for t in transfers if t.status is TransferStatus.PENDING]
            )
            ready = [
                ctx
                for ctx in contexts
                if not ctx.external_id(EntityType.INVOICE)
                and _nothing_to_ask_before_the_invoice(ctx)
            ]
            if ready:
                # The common case (customer and references linked): record the invoice
                # step's start with the load, saving a commit per transfer.
                earlier = uow.transfers.begin_steps([c.transfer for c in ready], StepKind.INVOICE)
                for ctx in ready:
                    ctx.earlier_invoice_attempts = earlier[require_id(ctx.transfer)]
                    ctx.recorded.add(StepKind.INVOICE)
                uow.commit()
        return contexts, results

    def _context(self, uow: UnitOfWork, transfer: Transfer) -> TransferContext:
        """Read everything one transfer's steps need (writes nothing)."""
        return self._contexts(uow, [transfer])[0]

    def _contexts(self, uow: UnitOfWork, transfers: Sequence[Transfer]) -> list[TransferContext]:
        """Read everything the transfers' steps need, a query per kind of record for all of
        them (writes nothing)."""
        if not transfers:
            return []
        connections = {i: uow.connections.get(i) for i in {t.connection_id for t in transfers}}
        invoices = uow.invoices.get_many(t.invoice_id for t in transfers)
        missing = [t.invoice_id for t in transfers if t.invoice_id not in invoices]
        if missing:
            raise NotFoundError(f"invoice #{missing[0]} does not exist")
        heads = list(invoices.values())
        customers = uow.customers.get_many(i.customer_id for i in heads)
        projects = uow.projects.get_many(i.project_id for i in heads if i.project_id)
        employees: dict[tuple[int, str], Employee] = {}
        for entity in {i.legal_entity_id for i in heads}:
            if entity not in self._entity_codes:  # a legal entity's code never changes
                self._entity_codes[entity] = uow.legal_entities.get(entity).code
            initials = [i.internal_reference for i in heads if i.legal_entity_id == entity]
            for code, person in uow.employees.by_initials_many(entity, initials).items():
                employees[(entity, code)] = person
        wanted: list[dict[EntityType, int | None]] = []
        for transfer in transfers:
            invoice = invoices[transfer.invoice_id]
            employee = employees.get(
                (invoice.legal_entity_id, invoice.internal_reference.strip().upper())
            )
            wanted.append(
                {
                    EntityType.CUSTOMER: invoice.customer_id,
                    EntityType.INVOICE: transfer.invoice_id,
                    EntityType.CONTACT: invoice.contact_id,
                    EntityType.EMPLOYEE: employee.id if employee else None,
                    EntityType.PROJECT: invoice.project_id,
                }
            )
        found_keys: dict[int, dict[tuple[EntityType, int], ExternalKey]] = {}
        known: dict[int, tuple[frozenset[str], bool]] = {}
        for connection_id, connection in connections.items():
            mine = [
                (kind, local)
                for t, ids in zip(transfers, wanted, strict=True)
                if t.connection_id == connection_id
                for kind, local in ids.items()
                if local is not None
            ]
            mine += [
                (EntityType.INVOICE, invoices[t.invoice_id].credits_invoice_id or 0)
                for t in transfers
                if t.connection_id == connection_id and invoices[t.invoice_id].credits_invoice_id
            ]
            found_keys[connection_id] = uow.external_keys.for_locals(connection_id, mine)
            numbers = sorted(
                {
                    number
                    for t in transfers
                    if t.connection_id == connection_id
                    for number in connection.principles.numbers_for(invoices[t.invoice_id])
                }
            )
            known[connection_id] = uow.product_numbers.known(connection_id, numbers)
        contexts = []
        for transfer, ids in zip(transfers, wanted, strict=True):
            connection, invoice = connections[transfer.connection_id], invoices[transfer.invoice_id]
            stored = found_keys[transfer.connection_id]
            keys = {t: stored.get((t, i)) if i is not None else None for t, i in ids.items()}
            invoice_key = keys[EntityType.INVOICE]
            linked = invoice_key is not None and bool(invoice_key.external_id)
            employee_id = ids[EntityType.EMPLOYEE]
            credited = (
                stored.get((EntityType.INVOICE, invoice.credits_invoice_id))
                if invoice.credits_invoice_id
                else None
            )
            contexts.append(
                TransferContext(
                    recorded={s.kind for s in transfer.steps},
                    transfer=transfer,
                    connection=connection,
                    invoice=invoice,
                    customer=customers[invoice.customer_id],
                    entity_code=self._entity_codes[invoice.legal_entity_id],
                    employee=employees.get(
                        (invoice.legal_entity_id, invoice.internal_reference.strip().upper())
                    )
                    if employee_id is not None
                    else None,
                    project=projects.get(invoice.project_id) if invoice.project_id else None,
                    keys=keys,
                    erp_gross=(
                        uow.erp_documents.gross(transfer.connection_id, transfer.invoice_id)
                        if linked
                        else None
                    ),
                    credited_ref=credited.external_id if credited is not None else "",
                    known_products=known[transfer.connection_id][0],
                    products_imported=known[transfer.connection_id][1],
                    connector=self.connectors(connection),
                )
            )
        return contexts

    def _begin_invoice(self, ctx: TransferContext) -> None:
        """Record the invoice step's start, committed before the document may be sent — with
        it, that of every later document of the batch that now needs no ERP call before its
        invoice step either (the customer this one linked was all they waited for)."""
        if ctx.earlier_invoice_attempts is not None:
            return
        ready = [ctx] + [
            later
            for later in ctx.later
            if later.earlier_invoice_attempts is None
            and not later.external_id(EntityType.INVOICE)
            and _nothing_to_ask_before_the_invoice(later)
        ]
        with self.uow() as uow:
            earlier = uow.transfers.begin_steps([c.transfer for c in ready], StepKind.INVOICE)
            uow.commit()
        for each in ready:
            each.earlier_invoice_attempts = earlier[require_id(each.transfer)]
            each.recorded.add(StepKind.INVOICE)

    def _save_batch(self, finished: Sequence[_Finished]) -> None:
        """One commit for all: new links, the ERP documents, the steps and the transactions'
        statuses. Should a link conflict, each transfer is saved alone, so one conflict fails
        only its own transfer."""
        try:
            with self.uow() as uow:
                links: dict[int, dict[tuple[EntityType, int], str]] = {}
                documents: dict[int, list[tuple[int, str, str, Money]]] = {}
                for done in finished:
                    ctx = done.ctx
                    for entity, local_id, external_id in ctx.links:
                        links.setdefault(ctx.connection_id, {})[(entity, local_id)] = external_id
                    if ctx.document is not None:
                        correlation, document = ctx.document
                        documents.setdefault(ctx.connection_id, []).append(
                            (
                                require_id(ctx.invoice),
                                correlation,
                                document.external_id,
                                document.gross,
                            )
                        )
                for connection_id, linked in links.items():
                    uow.external_keys.link_many(
                        connection_id, [(e, i, x) for (e, i), x in linked.items()]
                    )
                for connection_id, recorded in documents.items():
                    uow.erp_documents.record_many(connection_id, recorded)
                uow.transfers.record_runs(
                    [
                        RunRecord(
                            transfer_id=require_id(done.ctx.transfer),
                            steps=list(done.outcomes.values()),
                            status=done.status,
                            message=done.message,
                            recorded=set(done.ctx.recorded),
                            unsent=set(done.ctx.unsent),
                        )
                        for done in finished
                    ]
                )
                uow.commit()
        except LedgerlinkError as error:
            if len(finished) == 1:
                raise
            for done in finished:
                try:
                    self._save_batch([done])
                except LedgerlinkError as alone:
                    self.abandon(
                        require_id(done.ctx.transfer), f"the outcome could not be saved: {alone}"
                    )
            log.warning("batch saved one by one", error=str(error))
            return
        for done in finished:
            done.ctx.recorded.update(done.outcomes)
            done.ctx.links.clear()
            done.ctx.document = None

    # the steps ------------------------------------------------------------------------------
    def _step(self, kind: StepKind, ctx: TransferContext) -> StepOutcome | _Failure:
        handler = {
            StepKind.CUSTOMER: self._customer,
            StepKind.PROJECT: self._project,
            StepKind.CONTACT: self._contact,
            StepKind.EMPLOYEE: self._employee,
            StepKind.INVOICE: self._invoice,
            StepKind.TOTALS: self._totals,
        }[kind]
        try:
            return handler(ctx)
        except StepFailed as failed:
            return _Failure(failed)
        except (Permanent, AuthExpired) as error:
            return _Failure(_explain(error))
        except (Transient, Uncertain) as error:
            raise _Defer(error, error.message) from error
        except _Defer:
            raise
        except LedgerlinkError as error:
            return _Failure(StepFailed(str(error)))
        except Exception as error:
            log.exception("unexpected error in a transfer step", step=kind.value)
            return _Failure(_unexpected(ctx.connection.erp, error))

    def _customer(self, ctx: TransferContext) -> StepOutcome:
        connection, customer, caps = ctx.connection, ctx.customer, ctx.capabilities
        customer_id = require_id(customer)
        linked = ctx.external_id(EntityType.CUSTOMER)
        if linked:
            return StepOutcome(StepStatus.SUCCESSFUL, f"linked to ERP customer {linked}", linked)
        found = ctx.connector.find_customer(customer.number)
        if found is not None and _same_name(found.name, customer.name):
            ctx.link(EntityType.CUSTOMER, customer_id, found.external_id)
            return StepOutcome(
                StepStatus.SUCCESSFUL,
                f"linked to the existing ERP customer {found.external_id}",
                found.external_id,
            )
        if found is not None:
            raise StepFailed(
                f"customer number {customer.number} belongs to '{found.name}' in "
                f"{erp_title(connection.erp)}, not to '{customer.name}'",
                hint="Link the right ERP customer by hand, or give one of them another number.",
            )
        if connection.customer_master is CustomerMaster.ERP or not caps.customer_push:
            raise StepFailed(
                f"customer {customer.number} {customer.name} does not exist in "
                f"{erp_title(connection.erp)}",
                hint=f"Create it in {erp_title(connection.erp)} and import customers "
                "('ledgerlink sync customers'), or link it by hand.",
            )
        try:
            created = ctx.connector.create_customer(customer)
        except (Permanent, Uncertain):
            # Another transfer of the same connection may have created it a moment ago, or our
            # own create's answer was lost (customer numbers are sent explicitly, so the ERP
            # refuses a second one): look again before giving up.
            again = ctx.connector.find_customer(customer.number)
            if again is None or not _same_name(again.name, customer.name):
                raise
            created = PushResult(external_id=again.external_id, created=False)
        ctx.link(EntityType.CUSTOMER, customer_id, created.external_id)
        verb = "created" if created.created else "linked to the existing (made a moment ago)"
        return StepOutcome(
            StepStatus.SUCCESSFUL, f"{verb} ERP customer {created.external_id}", created.external_id
        )

    def _project(self, ctx: TransferContext) -> StepOutcome:
        project = ctx.project
        if project is None:  # pragma: no cover — planned away
            return StepOutcome(StepStatus.SKIPPED, "the document has no project")
        linked = ctx.external_id(EntityType.PROJECT)
        if linked:
            return StepOutcome(StepStatus.SUCCESSFUL, f"linked to ERP project {linked}", linked)
        if project.customer_id != ctx.customer.id:
            raise StepFailed(
                f"project {project.number} belongs to another customer than the document",
                hint="Transfer an invoice of the project's own customer first.",
            )
        customer_ref = ctx.customer_ref()
        result = _look_again(lambda: ctx.connector.ensure_project(project, customer_ref))
        ctx.link(EntityType.PROJECT, require_id(project), result.external_id)
        verb = "created" if result.created else "linked to the existing"
        return StepOutcome(
            StepStatus.SUCCESSFUL,
            f"{verb} ERP project {result.external_id} for {project.number}",
            result.external_id,
        )

    def push_project(self, connection_id: int, project_id: int) -> StepOutcome:
        """Bring one project to the ERP (projects follow on creation where the ERP takes
        them); the outcome says what happened or what to fix."""
        with self.uow() as uow:
            connection = uow.connections.get(connection_id)
            project = uow.projects.get(project_id)
            customer = uow.customers.get(project.customer_id)
            keys = uow.external_keys.for_locals(
                connection_id,
                [(EntityType.PROJECT, project_id), (EntityType.CUSTOMER, require_id(customer))],
            )
        connector = self.connectors(connection)
        if not connector.capabilities.project_push:
            return StepOutcome(
                StepStatus.SKIPPED,
                f"this {erp_title(connection.erp)} connection does not transfer projects",
            )
        linked = keys.get((EntityType.PROJECT, project_id))
        if linked is not None and linked.external_id:
            return StepOutcome(StepStatus.SUCCESSFUL, f"linked to ERP project {linked.external_id}")
        customer_key = keys.get((EntityType.CUSTOMER, require_id(customer)))
        if customer_key is None or not customer_key.external_id:
            return StepOutcome(
                StepStatus.FAILED,
                f"project {project.number}: customer {customer.number} is not in "
                f"{erp_title(connection.erp)} yet — Transfer an invoice of the customer first, "
                "or import and link customers.",
            )
        try:
            result = _look_again(
                lambda: connector.ensure_project(project, customer_key.external_id)
            )
        except ConnectorError as error:
            return StepOutcome(StepStatus.FAILED, _with_hint(_explain(error)))
        with self.uow() as uow:
            uow.external_keys.link(
                connection_id, EntityType.PROJECT, project_id, result.external_id
            )
            uow.commit()
        verb = "created" if result.created else "linked to the existing"
        return StepOutcome(
            StepStatus.SUCCESSFUL,
            f"{verb} ERP project {result.external_id} for {project.number}",
            result.external_id,
        )

    def _contact(self, ctx: TransferContext) -> StepOutcome:
        contact_id = ctx.invoice.contact_id
        if contact_id is None:  # pragma: no cover — planned away
            return StepOutcome(StepStatus.SKIPPED, "no contact person on this document")
        linked = ctx.external_id(EntityType.CONTACT)
        if linked:
            return StepOutcome(StepStatus.SUCCESSFUL, "already in the ERP", linked)
        with self.uow() as uow:
            contact = uow.contacts.get(contact_id)
        customer_ref = ctx.customer_ref()
        result = _look_again(lambda: ctx.connector.ensure_contact(customer_ref, contact))
        ctx.link(EntityType.CONTACT, contact_id, result.external_id)
        return StepOutcome(StepStatus.SUCCESSFUL, f"contact {contact.name}", result.external_id)

    def _employee(self, ctx: TransferContext) -> StepOutcome:
        employee = ctx.employee
        if employee is None:  # pragma: no cover — planned away
            return StepOutcome(StepStatus.SKIPPED, "no employee as internal reference")
        linked = ctx.external_id(EntityType.EMPLOYEE)
        if linked:
            return StepOutcome(StepStatus.SUCCESSFUL, "already in the ERP", linked)
        result = _look_again(lambda: ctx.connector.ensure_employee(employee))
        ctx.link(EntityType.EMPLOYEE, require_id(employee), result.external_id)
        return StepOutcome(
            StepStatus.SUCCESSFUL, f"employee {employee.initials}", result.external_id
        )

    def _invoice(self, ctx: TransferContext) -> StepOutcome:
        linked = ctx.external_id(EntityType.INVOICE)
        if linked:
            return StepOutcome(StepStatus.SUCCESSFUL, f"already ERP draft {linked}", linked)
        document = outgoing(ctx)
        connector = ctx.connector
        self._begin_invoice(ctx)
        found: ErpDocument | None = None
        if ctx.earlier_invoice_attempts:  # an earlier attempt may have reached the ERP
            found = connector.find_document(document.correlation)
        created = found is None
        if found is None:
            try:
                found = connector.create_document(document)
            except Permanent as refused:
                if not refused.missing_products:
                    raise
                raise missing_products(
                    ctx.connection.erp, refused.missing_products, erp_text=refused.erp_text
                ) from refused
            except Uncertain as lost:
                found = connector.find_document(document.correlation)
                if found is None:
                    raise _Defer(lost, f"{lost.message}; the ERP does not have it") from lost
                created = False
        ctx.link(EntityType.INVOICE, require_id(ctx.invoice), found.external_id)
        ctx.document = (document.correlation, found)
        ctx.erp_gross = found.gross
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

    def _totals(self, ctx: TransferContext) -> StepOutcome:
        """Compare the ERP's totals with what the ERP's declared rounding rule gives for the
        PSA document: only a real difference fails (see :mod:`ledgerlink.domain.totals`)."""
        theirs = ctx.erp_gross
        if theirs is None:
            return StepOutcome(StepStatus.SKIPPED, "no ERP document to compare")
        erp = ctx.document[1] if ctx.document is not None else None
        check = check_totals(
            ctx.invoice,
            ctx.capabilities.totals,
            gross=theirs,
            net=erp.net if erp is not None else None,
            vat=erp.vat if erp is not None else None,
        )
        if not check.agrees:
            raise StepFailed(check.message, hint=check.hint)
        return StepOutcome(StepStatus.SUCCESSFUL, check.message)


@dataclass(frozen=True, slots=True)
class _Finished:
    """One transfer's run, concluded and waiting to be saved with its batch."""

    ctx: TransferContext
    outcomes: dict[StepKind, TransferStep]
    status: TransferStatus | None  # None: deferred
    message: str
    result: RunResult


@dataclass(frozen=True, slots=True)
class _Failure:
    """A step that failed with what the log shows."""

    details: StepFailed


def _record(kind: StepKind, outcome: StepOutcome | _Failure) -> TransferStep:
    if isinstance(outcome, _Failure):
        failed = outcome.details
        return _step_record(
            kind, StepStatus.FAILED, failed.message, erp_text=failed.erp_text, hint=failed.hint
        )
    return _step_record(kind, outcome.status, outcome.message, external_id=outcome.external_id)


def _nothing_to_ask_before_the_invoice(ctx: TransferContext) -> bool:
    """Whether every step before the invoice is answered from stored keys (no ERP call, so
    none can fail or be deferred before the document is sent)."""
    steps = plan(ctx)
    before = steps[: steps.index(StepKind.INVOICE)]
    return all(ctx.external_id(_ENTITY_OF[kind]) for kind in before)


def _look_again(ensure: Callable[[], PushResult]) -> PushResult:
    """Call a find-or-create once more after a lost answer: it looks up first, so it finds
    what the lost answer created instead of creating a second one."""
    try:
        return ensure()
    except Uncertain:
        return ensure()


def _asked_wait(error: ConnectorError) -> float | None:
    return error.retry_after if isinstance(error, Transient) else None


def _seconds(wait: float) -> str:
    return f"{wait:.0f} s" if wait < 120 else f"{wait / 60:.0f} min"


def outgoing(ctx: TransferContext) -> OutgoingDocument:
    """The document as the connector receives it, with every reference resolved (pure: the
    context holds what it reads)."""
    invoice, connection = ctx.invoice, ctx.connection
    try:
        products = tuple(connection.principles.product_for(line) for line in invoice.lines)
    except ValidationError as error:
        raise StepFailed(
            str(error), hint="Set it with 'ledgerlink connections principles'."
        ) from None
    unknown = {p for p in products if p and ctx.products_imported} - ctx.known_products
    if unknown:
        raise missing_products(connection.erp, unknown)
    project_ref = ""
    if ctx.project is not None and "project" in ctx.capabilities.dimensions:
        project_ref = ctx.external_id(EntityType.PROJECT) or ctx.project.number
    return OutgoingDocument(
        invoice=invoice,
        correlation=correlation_reference(ctx.entity_code, invoice),
        customer_ref=ctx.customer_ref(),
        line_products=products,
        contact_ref=ctx.external_id(EntityType.CONTACT),
        salesperson_ref=ctx.external_id(EntityType.EMPLOYEE),
        project_ref=project_ref,
        psa_reference=f"{ctx.entity_code} {invoice.describe()}",
        credits_ref=ctx.credited_ref,
    )


def missing_products(erp: str, numbers: Collection[str], *, erp_text: str = "") -> StepFailed:
    """The failure of a document whose product numbers the ERP does not have: the numbers
    first, each once, whether our imported list or the ERP's refusal found them."""
    listed = ", ".join(sorted(numbers))
    said = f"product number {listed} is" if len(numbers) == 1 else f"product numbers {listed} are"
    return StepFailed(
        f"{said} not in {erp_title(erp)}",
        erp_text=erp_text,
        hint="Import product numbers ('ledgerlink sync products') and choose one "
        f"{erp_title(erp)} has with 'ledgerlink connections principles', or create it there.",
    )


def _active(connection: Connection) -> Connection:
    """The connection, if its integration is active; a disabled one (setup not finished, or
    reset) transfers nothing."""
    if not connection.active:
        raise ValidationError(
            f"{connection.describe()} is disabled: finish its setup and activate it on the "
            "console's setup page ('ledgerlink serve', Connections)"
        )
    return connection


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _with_hint(failed: StepFailed) -> str:
    text = failed.message
    if failed.erp_text and failed.erp_text not in text:
        text += f" — ERP: {failed.erp_text}"
    return f"{text} — {failed.hint}" if failed.hint else text


def _explain(error: ConnectorError) -> StepFailed:
    return StepFailed(error.message, erp_text=error.erp_text, hint=error.hint)


def _unexpected(erp: str, error: Exception) -> StepFailed:
    text = str(error) or repr(error)
    return StepFailed(
        f"unexpected error in the {erp} connector: {type(error).__name__}: {text}",
        hint="This is a fault in ledgerlink, not in your data: report it with this text. "
        "The document can be transferred again; nothing is sent twice.",
    )


def _step_record(
    kind: StepKind,
    status: StepStatus,
    message: str = "",
    *,
    erp_text: str = "",
    hint: str = "",
    external_id: str = "",
) -> TransferStep:
    return TransferStep(
        kind=kind,
        status=status,
        message=message,
        erp_text=erp_text,
        hint=hint,
        external_id=external_id,
    )
