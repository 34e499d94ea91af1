"""Repositories of the integration side: connections, external keys, product numbers,
transfers with their steps (the integration log), ERP documents (balancing), pull cursors and
expenses imported from the ERP."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ConflictError, NotFoundError
from ledgerlink.domain.money import Money
from ledgerlink.domain.transfers import (
    Connection,
    CustomerMaster,
    EntityType,
    ExternalKey,
    ProductNumberPrinciples,
    StepKind,
    StepStatus,
    Transfer,
    TransferStatus,
    TransferStep,
)
from ledgerlink.store.tables import (
    ConnectionRow,
    ErpDocumentRow,
    ErpExpenseRow,
    ExternalKeyRow,
    ProductNumberRow,
    SyncCursorRow,
    TransferRow,
    TransferStepRow,
    utcnow,
)


def _connection(row: ConnectionRow) -> Connection:
    return Connection(
        id=row.id,
        legal_entity_id=row.legal_entity_id,
        erp=row.erp,
        credentials=row.credentials,
        settings=json.loads(row.settings),
        principles=ProductNumberPrinciples.from_json(json.loads(row.principles)),
        customer_master=CustomerMaster(row.customer_master),
        automatic_transfer=row.automatic_transfer,
        active=row.active,
        account_id=row.account_id,
        company_name=row.company_name,
        verified_at=row.verified_at,
    )


class ConnectionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, connection: Connection) -> Connection:
        """Insert, or update the connection with the same legal entity and ERP."""
        row = self._session.scalar(
            select(ConnectionRow).where(
                ConnectionRow.legal_entity_id == connection.legal_entity_id,
                ConnectionRow.erp == connection.erp,
            )
        )
        if row is None:
            row = ConnectionRow(legal_entity_id=connection.legal_entity_id, erp=connection.erp)
            self._session.add(row)
        row.credentials = connection.credentials
        row.settings = json.dumps(connection.settings, sort_keys=True)
        row.principles = json.dumps(connection.principles.to_json(), sort_keys=True)
        row.customer_master = connection.customer_master.value
        row.automatic_transfer = connection.automatic_transfer
        row.active = connection.active
        row.account_id = connection.account_id
        row.company_name = connection.company_name
        row.verified_at = connection.verified_at
        self._session.flush()
        connection.id = row.id
        return connection

    def get(self, connection_id: int) -> Connection:
        row = self._session.get(ConnectionRow, connection_id)
        if row is None:
            raise NotFoundError(
                f"there is no connection #{connection_id}; see 'ledgerlink connections'"
            )
        return _connection(row)

    def find(self, legal_entity_id: int, erp: str) -> Connection | None:
        row = self._session.scalar(
            select(ConnectionRow).where(
                ConnectionRow.legal_entity_id == legal_entity_id, ConnectionRow.erp == erp
            )
        )
        return None if row is None else _connection(row)

    def list(self, legal_entity_id: int | None = None) -> list[Connection]:
        query = select(ConnectionRow).order_by(ConnectionRow.id)
        if legal_entity_id is not None:
            query = query.where(ConnectionRow.legal_entity_id == legal_entity_id)
        return [_connection(row) for row in self._session.scalars(query)]


def _key(row: ExternalKeyRow) -> ExternalKey:
    return ExternalKey(
        id=row.id,
        connection_id=row.connection_id,
        entity_type=EntityType(row.entity_type),
        local_id=row.local_id,
        external_id=row.external_id,
        ignored=row.ignored,
    )


class ExternalKeyRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _row(
        self, connection_id: int, entity_type: EntityType, local_id: int
    ) -> ExternalKeyRow | None:
        return self._session.scalar(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                ExternalKeyRow.entity_type == entity_type.value,
                ExternalKeyRow.local_id == local_id,
            )
        )

    def get(self, connection_id: int, entity_type: EntityType, local_id: int) -> ExternalKey | None:
        row = self._row(connection_id, entity_type, local_id)
        return None if row is None else _key(row)

    def by_external_id(
        self, connection_id: int, entity_type: EntityType, external_id: str
    ) -> ExternalKey | None:
        row = self._session.scalar(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                ExternalKeyRow.entity_type == entity_type.value,
                ExternalKeyRow.external_id == external_id,
            )
        )
        return None if row is None else _key(row)

    def link(
        self, connection_id: int, entity_type: EntityType, local_id: int, external_id: str
    ) -> ExternalKey:
        """Link a local record to an ERP id (replacing an earlier link; keeps ``ignored``)."""
        rows = self._session.scalars(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                ExternalKeyRow.entity_type == entity_type.value,
                or_(
                    ExternalKeyRow.local_id == local_id,
                    ExternalKeyRow.external_id == external_id,
                ),
            )
        ).all()
        other = next((r for r in rows if r.local_id != local_id), None)
        if other is not None:
            raise ConflictError(
                f"ERP {entity_type.value} {external_id} is already linked to another "
                f"{entity_type.value} (#{other.local_id}); unlink that one first"
            )
        row = next((r for r in rows if r.local_id == local_id), None)
        if row is None:
            row = ExternalKeyRow(
                connection_id=connection_id, entity_type=entity_type.value, local_id=local_id
            )
            self._session.add(row)
        row.external_id = external_id
        self._session.flush()
        return _key(row)

    def link_many(self, connection_id: int, links: Sequence[tuple[EntityType, int, str]]) -> None:
        """:meth:`link` for several new links at once (one read, one write)."""
        if not links:
            return
        rows = self._session.scalars(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                or_(
                    *(
                        and_(
                            ExternalKeyRow.entity_type == entity.value,
                            or_(
                                ExternalKeyRow.local_id == local_id,
                                ExternalKeyRow.external_id == external_id,
                            ),
                        )
                        for entity, local_id, external_id in links
                    )
                ),
            )
        ).all()
        mine = {(r.entity_type, r.local_id): r for r in rows}
        new: list[dict[str, object]] = []
        for entity, local_id, external_id in links:
            for other in rows:
                if (
                    other.entity_type == entity.value
                    and other.external_id == external_id
                    and other.local_id != local_id
                ):
                    raise ConflictError(
                        f"ERP {entity.value} {external_id} is already linked to another "
                        f"{entity.value} (#{other.local_id}); unlink that one first"
                    )
            found = mine.get((entity.value, local_id))
            if found is not None:
                found.external_id = external_id
            else:
                new.append(
                    {
                        "connection_id": connection_id,
                        "entity_type": entity.value,
                        "local_id": local_id,
                        "external_id": external_id,
                        "ignored": False,
                        "updated_at": utcnow(),
                    }
                )
        self._session.flush()
        if new:
            # Another transfer of the connection may link the same new customer or employee
            # at the same moment: the later insert then updates the row the first one wrote.
            dialect = self._session.get_bind().dialect.name
            upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            statement = upsert(ExternalKeyRow)
            self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=["connection_id", "entity_type", "local_id"],
                    set_={"external_id": statement.excluded.external_id},
                ),
                new,
            )

    def for_locals(
        self, connection_id: int, wanted: Iterable[tuple[EntityType, int]]
    ) -> dict[tuple[EntityType, int], ExternalKey]:
        """The keys of several local records (of any types) in one query."""
        pairs = list(wanted)
        if not pairs:
            return {}
        by_type: dict[EntityType, set[int]] = {}
        for entity, local_id in pairs:
            by_type.setdefault(entity, set()).add(local_id)
        rows = self._session.scalars(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                or_(
                    *(
                        and_(
                            ExternalKeyRow.entity_type == entity.value,
                            ExternalKeyRow.local_id.in_(sorted(ids)),
                        )
                        for entity, ids in by_type.items()
                    )
                ),
            )
        )
        return {(EntityType(row.entity_type), row.local_id): _key(row) for row in rows}

    def unlink(self, connection_id: int, entity_type: EntityType, local_id: int) -> bool:
        row = self._row(connection_id, entity_type, local_id)
        if row is None or not row.external_id:
            return False
        if row.ignored:
            row.external_id = ""
        else:
            self._session.delete(row)
        self._session.flush()
        return True

    def set_ignored(
        self, connection_id: int, entity_type: EntityType, local_id: int, ignored: bool
    ) -> None:
        row = self._row(connection_id, entity_type, local_id)
        if row is None:
            if not ignored:
                return
            row = ExternalKeyRow(
                connection_id=connection_id, entity_type=entity_type.value, local_id=local_id
            )
            self._session.add(row)
        row.ignored = ignored
        self._session.flush()

    def for_type(self, connection_id: int, entity_type: EntityType) -> dict[int, ExternalKey]:
        rows = self._session.scalars(
            select(ExternalKeyRow).where(
                ExternalKeyRow.connection_id == connection_id,
                ExternalKeyRow.entity_type == entity_type.value,
            )
        )
        return {row.local_id: _key(row) for row in rows}


@dataclass(frozen=True, slots=True)
class ProductNumber:
    number: str
    name: str = ""
    unit: str = ""
    department: str = ""
    barred: bool = False


class ProductNumberRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def replace_all(self, connection_id: int, products: Sequence[ProductNumber]) -> tuple[int, int]:
        """Make the stored list equal ``products``; returns (added or changed, removed)."""
        rows = {
            row.number: row
            for row in self._session.scalars(
                select(ProductNumberRow).where(ProductNumberRow.connection_id == connection_id)
            )
        }
        changed = 0
        for product in products:
            row = rows.pop(product.number, None)
            if row is None:
                row = ProductNumberRow(connection_id=connection_id, number=product.number)
                self._session.add(row)
            new = (product.name, product.unit, product.department, product.barred)
            if (row.name, row.unit, row.department, row.barred) != new or row.id is None:
                row.name, row.unit, row.department, row.barred = new
                changed += 1
        for row in rows.values():
            self._session.delete(row)
        self._session.flush()
        return changed, len(rows)

    def list(self, connection_id: int) -> list[ProductNumber]:
        rows = self._session.scalars(
            select(ProductNumberRow)
            .where(ProductNumberRow.connection_id == connection_id)
            .order_by(ProductNumberRow.number)
        )
        return [ProductNumber(r.number, r.name, r.unit, r.department, r.barred) for r in rows]

    def get(self, connection_id: int, number: str) -> ProductNumber | None:
        return next((p for p in self.list(connection_id) if p.number == number), None)

    def known(self, connection_id: int, numbers: Sequence[str]) -> tuple[frozenset[str], bool]:
        """Which of ``numbers`` were imported, and whether any product number was imported
        at all (without an import there is nothing to check against)."""
        found = frozenset(
            self._session.scalars(
                select(ProductNumberRow.number).where(
                    ProductNumberRow.connection_id == connection_id,
                    ProductNumberRow.number.in_(list(numbers)),
                )
            )
        )
        if found or not numbers:
            return found, bool(found)
        anything = self._session.scalar(
            select(ProductNumberRow.id)
            .where(ProductNumberRow.connection_id == connection_id)
            .limit(1)
        )
        return found, anything is not None


def _step(row: TransferStepRow) -> TransferStep:
    return TransferStep(
        id=row.id,
        kind=StepKind(row.kind),
        status=StepStatus(row.status),
        attempts=row.attempts,
        message=row.message,
        erp_text=row.erp_text,
        hint=row.hint,
        external_id=row.external_id,
        finished_at=row.finished_at,
    )


_STEP_ORDER = {kind: position for position, kind in enumerate(StepKind)}


def _transfer(row: TransferRow, *, with_steps: bool = True) -> Transfer:
    return Transfer(
        id=row.id,
        connection_id=row.connection_id,
        invoice_id=row.invoice_id,
        revision=row.revision,
        workflow_id=row.workflow_id,
        status=TransferStatus(row.status),
        message=row.message,
        started_at=row.started_at,
        finished_at=row.finished_at,
        resolved_at=row.resolved_at,
        steps=sorted((_step(s) for s in row.steps), key=lambda s: _STEP_ORDER[s.kind])
        if with_steps
        else [],
    )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """The outcome of one run of one transfer, as :meth:`TransferRepository.record_runs`
    writes it: ``status`` ``None`` for a deferred run; ``recorded``, the kinds of step that
    already have a row; ``unsent``, the kinds whose recorded start is taken back because the
    run stopped before it reached the ERP (a batch deferred before this transfer's turn), so
    the next run need not look the document up before it creates it."""

    transfer_id: int
    steps: Sequence[TransferStep]
    status: TransferStatus | None
    message: str
    recorded: Collection[StepKind]
    unsent: Collection[StepKind] = ()


class TransferRepository:
    """Transfers and their steps: the integration log."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def start(self, transfer: Transfer) -> Transfer:
        """Record a transfer, or return the one already recorded under its workflow id."""
        row = self._session.scalar(
            select(TransferRow).where(TransferRow.workflow_id == transfer.workflow_id)
        )
        if row is None:
            row = TransferRow(
                connection_id=transfer.connection_id,
                invoice_id=transfer.invoice_id,
                revision=transfer.revision,
                workflow_id=transfer.workflow_id,
                status=TransferStatus.PENDING.value,
            )
            self._session.add(row)
            self._session.flush()
            return _transfer(row, with_steps=False)
        return _transfer(row)

    def add_new(self, transfer: Transfer) -> Transfer:
        """Record a new transfer (its workflow id must be new: a concurrent start of the
        same id fails on the unique constraint; the caller reads again)."""
        row = TransferRow(
            connection_id=transfer.connection_id,
            invoice_id=transfer.invoice_id,
            revision=transfer.revision,
            workflow_id=transfer.workflow_id,
            status=TransferStatus.PENDING.value,
        )
        self._session.add(row)
        self._session.flush()
        return _transfer(row, with_steps=False)

    def get(self, transfer_id: int, *, with_steps: bool = True) -> Transfer:
        row = self._session.get(TransferRow, transfer_id)
        if row is None:
            raise NotFoundError(f"there is no transfer #{transfer_id}")
        return _transfer(row, with_steps=with_steps)

    def get_many(self, transfer_ids: Sequence[int]) -> list[Transfer]:
        """Several transfers with their steps, in the order asked (two queries); an unknown
        id is an error naming it."""
        rows = {
            row.id: row
            for row in self._session.scalars(
                select(TransferRow)
                .options(selectinload(TransferRow.steps))
                .where(TransferRow.id.in_(sorted(set(transfer_ids))))
            )
        }
        missing = [i for i in transfer_ids if i not in rows]
        if missing:
            raise NotFoundError(f"there is no transfer #{missing[0]}")
        return [_transfer(rows[i]) for i in transfer_ids]

    def latest_for(self, connection_id: int, invoice_id: int) -> tuple[Transfer | None, int]:
        """The document's latest transfer on the connection (without its steps) and how many
        transfers it has had."""
        rows = self._session.execute(
            select(TransferRow, func.count().over())
            .where(TransferRow.connection_id == connection_id, TransferRow.invoice_id == invoice_id)
            .order_by(TransferRow.id.desc())
            .limit(1)
        ).all()
        if not rows:
            return None, 0
        row, count = rows[0]
        return _transfer(row, with_steps=False), int(count)

    def latest_for_many(
        self, connection_id: int, invoice_ids: Sequence[int]
    ) -> dict[int, tuple[Transfer, int]]:
        """:meth:`latest_for` for several documents in one query (a document without
        transfers is left out)."""
        if not invoice_ids:
            return {}
        ranked = (
            select(
                TransferRow.id,
                func.row_number()
                .over(partition_by=TransferRow.invoice_id, order_by=TransferRow.id.desc())
                .label("position"),
                func.count().over(partition_by=TransferRow.invoice_id).label("total"),
            )
            .where(
                TransferRow.connection_id == connection_id,
                TransferRow.invoice_id.in_(sorted(set(invoice_ids))),
            )
            .subquery()
        )
        rows = self._session.execute(
            select(TransferRow, ranked.c.total)
            .join(ranked, ranked.c.id == TransferRow.id)
            .where(ranked.c.position == 1)
        ).all()
        return {
            row.invoice_id: (_transfer(row, with_steps=False), int(total)) for row, total in rows
        }

    def add_many(self, transfers: Sequence[Transfer]) -> list[Transfer]:
        """:meth:`add_new` for several transfers (one INSERT for all)."""
        rows = [
            TransferRow(
                connection_id=t.connection_id,
                invoice_id=t.invoice_id,
                revision=t.revision,
                workflow_id=t.workflow_id,
                status=TransferStatus.PENDING.value,
            )
            for t in transfers
        ]
        self._session.add_all(rows)
        self._session.flush()
        return [_transfer(row, with_steps=False) for row in rows]

    def count_finished(self, transfer_ids: Sequence[int]) -> int:
        """How many of the transfers are no longer pending."""
        if not transfer_ids:
            return 0
        found = self._session.scalar(
            select(func.count()).where(
                TransferRow.id.in_(sorted(set(transfer_ids))),
                TransferRow.status != TransferStatus.PENDING.value,
            )
        )
        return int(found or 0)

    def pending(
        self, connection_id: int | None = None, *, limit: int | None = None
    ) -> list[Transfer]:
        """Transfers not finished (without their steps), oldest first; of one connection
        when ``connection_id`` is given; the first ``limit`` of them."""
        query = (
            select(TransferRow)
            .where(TransferRow.status == TransferStatus.PENDING.value)
            .order_by(TransferRow.id)
            .limit(limit)
        )
        if connection_id is not None:
            query = query.where(TransferRow.connection_id == connection_id)
        return [_transfer(row, with_steps=False) for row in self._session.scalars(query)]

    def by_workflow_id(self, workflow_id: str) -> Transfer | None:
        row = self._session.scalar(
            select(TransferRow).where(TransferRow.workflow_id == workflow_id)
        )
        return None if row is None else _transfer(row)

    def begin_step(self, transfer: Transfer, kind: StepKind) -> int:
        """Mark a step as started (one more attempt) before it calls the ERP; the caller
        commits, so a crash afterwards leaves evidence that the ERP may have been reached.
        Returns how often any transfer of the same document had started this step before.

        ``transfer`` comes with its steps; only a retry (``…:retry-n``, the document had
        transfers before) reads the earlier transfers' attempts."""
        return self.begin_steps([transfer], kind)[require_id(transfer)]

    def begin_steps(self, transfers: Sequence[Transfer], kind: StepKind) -> dict[int, int]:
        """:meth:`begin_step` for several transfers at once (two statements for all, plus
        one per retry); transfer id → earlier attempts."""
        before: dict[int, int] = {}
        new: list[dict[str, object]] = []
        again: list[dict[str, object]] = []
        for transfer in transfers:
            transfer_id = require_id(transfer)
            own = transfer.step(kind)
            before[transfer_id] = own.attempts if own is not None else 0
            if ":retry-" in transfer.workflow_id:
                earlier = self._session.scalar(
                    select(func.coalesce(func.sum(TransferStepRow.attempts), 0))
                    .join(TransferRow, TransferRow.id == TransferStepRow.transfer_id)
                    .where(
                        TransferRow.connection_id == transfer.connection_id,
                        TransferRow.invoice_id == transfer.invoice_id,
                        TransferRow.id != transfer_id,
                        TransferStepRow.kind == kind.value,
                    )
                )
                before[transfer_id] += int(earlier or 0)
            if own is None:
                new.append(
                    {
                        "transfer_id": transfer_id,
                        "kind": kind.value,
                        "status": StepStatus.PENDING.value,
                        "attempts": 1,
                        "message": "",
                        "erp_text": "",
                        "hint": "",
                        "external_id": "",
                    }
                )
            else:
                again.append({"step_id": own.id})
        if new:
            self._session.execute(insert(TransferStepRow), new)
        if again:
            self._session.connection().execute(
                update(TransferStepRow)
                .where(TransferStepRow.id == bindparam("step_id"))
                .values(status=StepStatus.PENDING.value, attempts=TransferStepRow.attempts + 1),
                again,
            )
        return before

    def record_run(
        self,
        transfer_id: int,
        steps: Sequence[TransferStep],
        *,
        status: TransferStatus | None,
        message: str = "",
        recorded: Collection[StepKind] | None = None,
    ) -> None:
        """Write the outcome of one run of a transfer: its steps (attempts counts kept) and,
        unless ``status`` is ``None`` (the run was deferred), the transaction's status. A few
        statements whatever the number of steps. ``recorded``: the kinds that have a row
        already, when the caller knows (else they are read)."""
        if recorded is None:
            recorded = {
                StepKind(kind)
                for kind in self._session.scalars(
                    select(TransferStepRow.kind).where(TransferStepRow.transfer_id == transfer_id)
                )
            }
        self.record_runs([RunRecord(transfer_id, tuple(steps), status, message, recorded)])

    def record_runs(self, runs: Sequence[RunRecord]) -> None:
        """:meth:`record_run` for several transfers at once: at most five statements for all
        (new steps, changed steps, finished transfers, deferred ones, starts taken back)."""
        now = utcnow()

        def values(step: TransferStep) -> dict[str, object]:
            return {
                "status": step.status.value,
                "message": step.message,
                "erp_text": step.erp_text,
                "hint": step.hint,
                "external_id": step.external_id,
                "finished_at": None if step.status is StepStatus.PENDING else now,
            }

        new: list[dict[str, object]] = []
        changed: list[dict[str, object]] = []
        finished: list[dict[str, object]] = []
        deferred: list[dict[str, object]] = []
        for run in runs:
            for step in run.steps:
                if step.kind in run.recorded:
                    changed.append(
                        {
                            **values(step),
                            "step_kind": step.kind.value,
                            "step_transfer": run.transfer_id,
                        }
                    )
                else:
                    new.append(
                        {
                            **values(step),
                            "transfer_id": run.transfer_id,
                            "kind": step.kind.value,
                            "attempts": 0 if step.status is StepStatus.SKIPPED else 1,
                        }
                    )
            if run.status is None:
                deferred.append({"row_id": run.transfer_id, "message": run.message})
            else:
                finished.append(
                    {
                        "row_id": run.transfer_id,
                        "message": run.message,
                        "status": run.status.value,
                        "finished_at": now,
                    }
                )
        if new:
            self._session.execute(insert(TransferStepRow), new)
        connection = self._session.connection()
        if changed:
            connection.execute(
                update(TransferStepRow)
                .where(
                    TransferStepRow.transfer_id == bindparam("step_transfer"),
                    TransferStepRow.kind == bindparam("step_kind"),
                )
                .values(
                    status=bindparam("status"),
                    message=bindparam("message"),
                    erp_text=bindparam("erp_text"),
                    hint=bindparam("hint"),
                    external_id=bindparam("external_id"),
                    finished_at=bindparam("finished_at"),
                ),
                changed,
            )
        if finished:
            connection.execute(
                update(TransferRow)
                .where(TransferRow.id == bindparam("row_id"))
                .values(
                    message=bindparam("message"),
                    status=bindparam("status"),
                    finished_at=bindparam("finished_at"),
                ),
                finished,
            )
        if deferred:
            connection.execute(
                update(TransferRow)
                .where(TransferRow.id == bindparam("row_id"))
                .values(message=bindparam("message")),
                deferred,
            )
        taken_back = [
            {"step_transfer": run.transfer_id, "step_kind": kind.value}
            for run in runs
            for kind in run.unsent
        ]
        if taken_back:
            connection.execute(
                update(TransferStepRow)
                .where(
                    TransferStepRow.transfer_id == bindparam("step_transfer"),
                    TransferStepRow.kind == bindparam("step_kind"),
                    TransferStepRow.attempts > 0,
                )
                .values(attempts=TransferStepRow.attempts - 1),
                taken_back,
            )
        self._session.expire_all()

    def resolve(self, transfer_id: int) -> None:
        """Mark what the transfer left to fix as resolved by a user."""
        self._session.execute(
            update(TransferRow).where(TransferRow.id == transfer_id).values(resolved_at=utcnow())
        )

    def latest(self, connection_id: int) -> dict[int, Transfer]:
        """The latest transfer per invoice on a connection."""
        newest = (
            select(func.max(TransferRow.id))
            .where(TransferRow.connection_id == connection_id)
            .group_by(TransferRow.invoice_id)
        )
        rows = self._session.scalars(
            select(TransferRow)
            .where(TransferRow.id.in_(newest))
            .options(selectinload(TransferRow.steps))  # one query for all their steps
        )
        return {row.invoice_id: _transfer(row) for row in rows}

    def list(
        self,
        connection_id: int,
        *,
        invoice_id: int | None = None,
        statuses: Sequence[TransferStatus] = (),
        limit: int = 100,
    ) -> list[Transfer]:
        query = select(TransferRow).where(TransferRow.connection_id == connection_id)
        if invoice_id is not None:
            query = query.where(TransferRow.invoice_id == invoice_id)
        if statuses:
            query = query.where(TransferRow.status.in_([s.value for s in statuses]))
        query = (
            query.order_by(TransferRow.id.desc())
            .limit(limit)
            .options(selectinload(TransferRow.steps))
        )
        return [_transfer(row) for row in self._session.scalars(query)]


@dataclass(frozen=True, slots=True)
class ErpDocumentState:
    """Balancing state of one transferred document."""

    invoice_id: int
    correlation: str
    external_id: str
    status: str
    booked_number: str
    gross: Money
    remainder: Money | None
    paid: bool
    booked_on: date | None = None  # the ERP's posting date, once booked


class ErpDocumentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def record(
        self,
        connection_id: int,
        invoice_id: int,
        *,
        correlation: str,
        external_id: str,
        gross: Money,
    ) -> None:
        """Record (or replace) what the ERP holds for a transferred document (one upsert)."""
        self.record_many(connection_id, [(invoice_id, correlation, external_id, gross)])

    def record_many(
        self, connection_id: int, documents: Sequence[tuple[int, str, str, Money]]
    ) -> None:
        """:meth:`record` for several documents — (invoice id, correlation, external id,
        gross) — in one statement."""
        if not documents:
            return
        now = utcnow()
        rows = [
            {
                "connection_id": connection_id,
                "invoice_id": invoice_id,
                "status": "draft",
                "booked_number": "",
                "paid": False,
                "correlation": correlation,
                "external_id": external_id,
                "currency": gross.currency,
                "gross_minor": gross.minor_units,
                "updated_at": now,
            }
            for invoice_id, correlation, external_id, gross in documents
        ]
        dialect = self._session.get_bind().dialect.name
        upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = upsert(ErpDocumentRow)
        replaced = ("correlation", "external_id", "currency", "gross_minor", "updated_at")
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["connection_id", "invoice_id"],
                set_={name: statement.excluded[name] for name in replaced},
            ),
            rows,
        )

    def update_status(
        self,
        connection_id: int,
        correlation: str,
        *,
        status: str,
        booked_number: str,
        remainder: Money | None,
        paid: bool,
        booked_on: date | None,
    ) -> bool | None:
        """Apply a balancing update (``booked_on``: the ERP's posting date, ``None`` while a
        draft): ``True`` if it changed what we knew, ``False`` if we knew it already, ``None``
        if the document is not one we sent."""
        row = self._session.scalar(
            select(ErpDocumentRow).where(
                ErpDocumentRow.connection_id == connection_id,
                ErpDocumentRow.correlation == correlation,
            )
        )
        if row is None:
            return None
        remainder_minor = None if remainder is None else remainder.minor_units
        known = (row.status, row.booked_number, row.paid, row.remainder_minor, row.booked_on)
        if known == (status, booked_number, paid, remainder_minor, booked_on):
            return False
        row.status, row.booked_number, row.paid = status, booked_number, paid
        row.remainder_minor, row.booked_on = remainder_minor, booked_on
        self._session.flush()
        return True

    def gross(self, connection_id: int, invoice_id: int) -> Money | None:
        """The ERP's total of one transferred document."""
        row = self._session.execute(
            select(ErpDocumentRow.gross_minor, ErpDocumentRow.currency).where(
                ErpDocumentRow.connection_id == connection_id,
                ErpDocumentRow.invoice_id == invoice_id,
            )
        ).first()
        return None if row is None else Money.from_minor_units(row[0], row[1])

    def for_connection(self, connection_id: int) -> dict[int, ErpDocumentState]:
        rows = self._session.scalars(
            select(ErpDocumentRow).where(ErpDocumentRow.connection_id == connection_id)
        )
        return {
            row.invoice_id: ErpDocumentState(
                invoice_id=row.invoice_id,
                correlation=row.correlation,
                external_id=row.external_id,
                status=row.status,
                booked_number=row.booked_number,
                gross=Money.from_minor_units(row.gross_minor, row.currency),
                remainder=None
                if row.remainder_minor is None
                else Money.from_minor_units(row.remainder_minor, row.currency),
                paid=row.paid,
                booked_on=row.booked_on,
            )
            for row in rows
        }


class CursorRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, connection_id: int, stream: str) -> str | None:
        return self._session.scalar(
            select(SyncCursorRow.cursor).where(
                SyncCursorRow.connection_id == connection_id, SyncCursorRow.stream == stream
            )
        )

    def set(self, connection_id: int, stream: str, cursor: str) -> None:
        row = self._session.scalar(
            select(SyncCursorRow).where(
                SyncCursorRow.connection_id == connection_id, SyncCursorRow.stream == stream
            )
        )
        if row is None:
            row = SyncCursorRow(connection_id=connection_id, stream=stream)
            self._session.add(row)
        row.cursor = cursor
        self._session.flush()


@dataclass(frozen=True, slots=True)
class ImportedExpense:
    external_id: str
    day: date
    amount: Money
    base_amount: Money
    text: str = ""
    voucher_number: str = ""
    project_id: int | None = None
    account: str = ""


class ErpExpenseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_new(self, connection_id: int, expense: ImportedExpense) -> bool:
        """Store an ERP expense entry unless it was imported before (by its ERP id)."""
        exists = self._session.scalar(
            select(ErpExpenseRow.id).where(
                ErpExpenseRow.connection_id == connection_id,
                ErpExpenseRow.external_id == expense.external_id,
            )
        )
        if exists is not None:
            return False
        self._session.add(
            ErpExpenseRow(
                connection_id=connection_id,
                external_id=expense.external_id,
                day=expense.day,
                currency=expense.amount.currency,
                amount_minor=expense.amount.minor_units,
                base_currency=expense.base_amount.currency,
                base_amount_minor=expense.base_amount.minor_units,
                text=expense.text,
                voucher_number=expense.voucher_number,
                project_id=expense.project_id,
                account=expense.account,
            )
        )
        self._session.flush()
        return True

    def list(self, connection_id: int) -> list[ImportedExpense]:
        rows = self._session.scalars(
            select(ErpExpenseRow)
            .where(ErpExpenseRow.connection_id == connection_id)
            .order_by(ErpExpenseRow.day, ErpExpenseRow.id)
        )
        return [
            ImportedExpense(
                external_id=r.external_id,
                day=r.day,
                amount=Money.from_minor_units(r.amount_minor, r.currency),
                base_amount=Money.from_minor_units(r.base_amount_minor, r.base_currency),
                text=r.text,
                voucher_number=r.voucher_number,
                project_id=r.project_id,
                account=r.account,
            )
            for r in rows
        ]


__all__ = [
    "ConnectionRepository",
    "CursorRepository",
    "ErpDocumentRepository",
    "ErpDocumentState",
    "ErpExpenseRepository",
    "ExternalKeyRepository",
    "ImportedExpense",
    "ProductNumber",
    "ProductNumberRepository",
    "TransferRepository",
]
