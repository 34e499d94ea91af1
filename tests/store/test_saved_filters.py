"""Saved filters (issue 14 item 3) on SQLite and PostgreSQL: kept per user and page, a name
saved again replaces its query, one user's filters are never another's."""

from __future__ import annotations

import pytest

from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.users import Role, User
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork


def _users(database: Database) -> tuple[int, int]:
    with UnitOfWork(database) as uow:
        ann = uow.users.add(User(name="ann", role=Role.FINANCE, password_hash="x"))
        bo = uow.users.add(User(name="bo", role=Role.VIEWER, password_hash="x"))
        uow.commit()
    return require_id(ann), require_id(bo)


def test_save_list_replace_and_delete_per_user_and_page(database: Database) -> None:
    ann, bo = _users(database)
    with UnitOfWork(database) as uow:
        first = uow.saved_filters.save(ann, "transfers", "  Failed SEK ", "view=failed&q=sek")
        uow.saved_filters.save(ann, "transfers", "All", "view=non_transferred")
        uow.saved_filters.save(ann, "log", "Failed SEK", "status=failed")
        uow.saved_filters.save(bo, "transfers", "Failed SEK", "view=failed")
        uow.commit()
    assert first.name == "Failed SEK"
    assert first.created_at.tzinfo is not None
    with UnitOfWork(database) as uow:
        again = uow.saved_filters.save(ann, "transfers", "Failed SEK", "view=failed&q=kr")
        uow.commit()
    assert again.id == first.id
    with UnitOfWork(database) as uow:
        mine = uow.saved_filters.list(ann, "transfers")
        assert [(f.name, f.query) for f in mine] == [
            ("All", "view=non_transferred"),
            ("Failed SEK", "view=failed&q=kr"),
        ]
        assert [f.query for f in uow.saved_filters.list(ann, "log")] == ["status=failed"]
        assert [f.query for f in uow.saved_filters.list(bo, "transfers")] == ["view=failed"]
        uow.saved_filters.delete(ann, "transfers", "Failed SEK")
        uow.commit()
    with UnitOfWork(database) as uow:
        assert [f.name for f in uow.saved_filters.list(ann, "transfers")] == ["All"]
        assert [f.name for f in uow.saved_filters.list(bo, "transfers")] == ["Failed SEK"]
        assert uow.saved_filters.get(ann, "log", "Failed SEK") is not None


def test_another_users_filter_cannot_be_deleted_and_names_are_checked(
    database: Database,
) -> None:
    ann, bo = _users(database)
    with UnitOfWork(database) as uow:
        uow.saved_filters.save(ann, "log", "Mine", "q=x")
        uow.commit()
    with UnitOfWork(database) as uow:
        with pytest.raises(NotFoundError, match="you have no saved filter 'Mine'"):
            uow.saved_filters.delete(bo, "log", "Mine")
        with pytest.raises(NotFoundError):
            uow.saved_filters.delete(ann, "transfers", "Mine")  # another page
        for bad in ("", "   ", "x" * 81, "tab\there"):
            with pytest.raises(ValidationError, match="1 to 80 printable characters"):
                uow.saved_filters.save(ann, "log", bad, "q=x")
        uow.saved_filters.save(ann, "log", "x" * 80, "q=y")
        uow.commit()
    with UnitOfWork(database) as uow:
        assert len(uow.saved_filters.list(ann, "log")) == 2
        assert uow.saved_filters.list(bo, "log") == []
