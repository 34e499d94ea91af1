"""What every stored domain object has in common."""

from __future__ import annotations

from typing import Protocol

from ledgerlink.domain.errors import NotFoundError


class HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(entity: HasId) -> int:
    """The store id of ``entity``; raises if it has not been stored yet."""
    if entity.id is None:
        raise NotFoundError(f"{type(entity).__name__} has not been stored yet")
    return entity.id
