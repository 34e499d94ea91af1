"""Setting up the PSA side: legal entities."""

from __future__ import annotations

from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.parties import LegalEntity
from ledgerlink.store.uow import UnitOfWork


def create_legal_entity(uow: UnitOfWork, entity: LegalEntity) -> LegalEntity:
    with uow:
        uow.legal_entities.add(entity)
        uow.commit()
        return entity


def find_legal_entity(uow: UnitOfWork, code: str | None) -> LegalEntity:
    """The legal entity with ``code``; without a code, the only one there is."""
    with uow:
        if code:
            entity = uow.legal_entities.by_code(code)
            if entity is None:
                raise NotFoundError(f"legal entity {code.upper()} does not exist")
            return entity
        entities = uow.legal_entities.list()
    if not entities:
        raise NotFoundError(
            "there is no legal entity yet; run 'ledgerlink init --legal-entity CODE …' "
            "or 'ledgerlink sample load'"
        )
    if len(entities) > 1:
        codes = ", ".join(e.code for e in entities)
        raise ValidationError(f"there are several legal entities ({codes}); pass --legal-entity")
    return entities[0]
