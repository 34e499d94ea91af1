"""What the API's routes are handed: the database, the engine and the queue (no settings: the
command that serves the app builds them, as it does for the CLI's commands)."""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlink.domain.errors import NotFoundError
from ledgerlink.domain.parties import LegalEntity, plain_text
from ledgerlink.store.api_keys import ApiKeyStore, IdempotencyStore
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.transfers import Submitting


@dataclass(frozen=True, kw_only=True)
class ApiServices:
    """``submitter`` puts started transfers on the durable queue (``ledgerlink serve`` hands
    the queue this process joins at the first transfer, so they start at once); without one
    (or when the queue cannot be reached) a worker's next round starts them."""

    database: Database
    engine: Engine
    submitter: Submitting | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database)

    @property
    def keys(self) -> ApiKeyStore:
        return ApiKeyStore(self.database)

    @property
    def idempotency(self) -> IdempotencyStore:
        return IdempotencyStore(self.database)

    def legal_entity(self, code: str) -> LegalEntity:
        """The legal entity with ``code`` (404 when there is none)."""
        with self.uow() as uow:
            entity = uow.legal_entities.by_code(plain_text(code, "legal entity code"))
        if entity is None:
            raise NotFoundError(f"legal entity {code.upper()} does not exist")
        return entity
