"""A console user's saved filters (issue 14 item 3): the ``saved_filters`` table.

A saved filter is a page's query string kept under a name the user chose; every method takes
the user's id, so one user's filters are never read, replaced or deleted through another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.store.tables import SavedFilterRow, utcnow

#: The longest name a filter may have (the column's width).
MAX_NAME = 80


def filter_name(value: str) -> str:
    """``value`` as a saved filter's name (stripped), or a :class:`ValidationError` saying
    what a name may be."""
    name = value.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValidationError(f"name the filter with 1 to {MAX_NAME} printable characters")
    return name


@dataclass(frozen=True, slots=True)
class SavedFilter:
    """A named query string of one of a user's console pages."""

    id: int
    user_id: int
    page: str
    name: str
    query: str
    created_at: datetime


def _saved(row: SavedFilterRow) -> SavedFilter:
    created = row.created_at
    if created.tzinfo is None:  # SQLite gives naive datetimes back; every stored one is UTC
        created = created.replace(tzinfo=UTC)
    return SavedFilter(row.id, row.user_id, row.page, row.name, row.query, created)


class SavedFilterRepository:
    """The ``saved_filters`` table, always through the user they belong to."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self, user_id: int, page: str) -> list[SavedFilter]:
        """The user's filters of ``page``, by name."""
        rows = self._session.scalars(
            select(SavedFilterRow)
            .where(SavedFilterRow.user_id == user_id, SavedFilterRow.page == page)
            .order_by(SavedFilterRow.name, SavedFilterRow.id)
        )
        return [_saved(row) for row in rows]

    def get(self, user_id: int, page: str, name: str) -> SavedFilter | None:
        row = self._session.scalar(
            select(SavedFilterRow).where(
                SavedFilterRow.user_id == user_id,
                SavedFilterRow.page == page,
                SavedFilterRow.name == filter_name(name),
            )
        )
        return None if row is None else _saved(row)

    def save(self, user_id: int, page: str, name: str, query: str) -> SavedFilter:
        """Keep ``query`` under ``name``; a name the user already has on the page is
        replaced (one upsert, so a double click cannot fail on the unique constraint)."""
        name = filter_name(name)
        dialect = self._session.get_bind().dialect.name
        upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = upsert(SavedFilterRow).values(
            user_id=user_id, page=page, name=name, query=query, created_at=utcnow()
        )
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "page", "name"],
                set_={"query": statement.excluded.query},
            )
        )
        saved = self.get(user_id, page, name)
        assert saved is not None
        return saved

    def delete(self, user_id: int, page: str, name: str) -> None:
        """Forget one of the user's filters; NotFound when the user has none of that name."""
        result = self._session.execute(
            delete(SavedFilterRow).where(
                SavedFilterRow.user_id == user_id,
                SavedFilterRow.page == page,
                SavedFilterRow.name == name.strip(),
            )
        )
        if not getattr(result, "rowcount", 0):
            raise NotFoundError(f"you have no saved filter '{name.strip()}' on this page")
