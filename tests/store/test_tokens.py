"""TokenStore on SQLite and PostgreSQL: sealed at rest, versioned, and refreshes serialised
per credential — a second process waits for the first and takes its tokens instead of
presenting the spent refresh token again."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, text

from ledgerlink.store.database import Database
from ledgerlink.store.tokens import StoredTokens, TokenBusy, TokenNotFound, TokenStore
from ledgerlink.sync.secrets import SecretBox

pytestmark = pytest.mark.store

KEY = Fernet.generate_key()


def tokens(n: int, *, expires_in: float = 3600) -> StoredTokens:
    return StoredTokens(
        access_token=f"access-{n}",
        refresh_token=f"refresh-{n}",
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        scope="invoice customer",
        extras={"tenant": "42"},
    )


def twin(database: Database, *, busy_ms: int | None = None) -> Database:
    """A second engine on the same database: as another process would connect."""
    other = Database(database.url)
    if busy_ms is not None and other.is_sqlite:

        def shorter_wait(connection: Any, _record: Any) -> None:
            connection.execute(f"PRAGMA busy_timeout = {busy_ms}")

        event.listen(other.engine, "connect", shorter_wait)
    return other


@pytest.fixture
def store(database: Database) -> TokenStore:
    return TokenStore(database, SecretBox(KEY))


def test_tokens_are_stored_sealed_and_read_back(database: Database, store: TokenStore) -> None:
    first = store.save("fortnox:1", tokens(1))
    assert first.version == 1
    loaded = store.load("fortnox:1")
    assert loaded is not None
    assert loaded == first
    assert loaded.extras == {"tenant": "42"}
    assert loaded.expires_at.tzinfo is not None
    with database.engine.connect() as connection:
        sealed, expires_at = connection.execute(
            text("SELECT sealed, expires_at FROM oauth_tokens WHERE credential_id = 'fortnox:1'")
        ).one()
    assert "access-1" not in sealed
    assert "refresh-1" not in sealed
    assert SecretBox(KEY).open(sealed)["refresh_token"] == "refresh-1"
    assert store.expires_at("fortnox:1") == first.expires_at
    assert expires_at is not None
    second = store.save("fortnox:1", tokens(2))
    assert second.version == 2
    assert store.load("fortnox:1") == second
    assert store.load("fortnox:2") is None
    assert store.expires_at("fortnox:2") is None
    assert store.delete("fortnox:1")
    assert not store.delete("fortnox:1")
    assert store.load("fortnox:1") is None


def test_another_key_cannot_open_them(database: Database, store: TokenStore) -> None:
    store.save("exact:1", tokens(1))
    stranger = TokenStore(database, SecretBox(Fernet.generate_key()))
    with pytest.raises(Exception, match="cannot be decrypted"):
        stranger.load("exact:1")


def test_a_stale_token_is_refreshed_and_committed_before_it_is_returned(
    database: Database, store: TokenStore
) -> None:
    store.save("fortnox:1", tokens(1))
    presented: list[str] = []

    def do_refresh(refresh_token: str) -> StoredTokens:
        presented.append(refresh_token)
        return tokens(2)

    fresh = store.refresh_serialised("fortnox:1", "access-1", do_refresh)
    assert presented == ["refresh-1"]
    assert fresh.access_token == "access-2"
    assert fresh.version == 2
    other = twin(database)
    try:
        assert TokenStore(other, SecretBox(KEY)).load("fortnox:1") == fresh
    finally:
        other.dispose()


def test_a_token_someone_else_refreshed_is_returned_without_calling_the_erp(
    store: TokenStore,
) -> None:
    store.save("fortnox:1", tokens(1))
    store.save("fortnox:1", tokens(2))

    def do_refresh(refresh_token: str) -> StoredTokens:
        raise AssertionError("the ERP must not be called")

    assert store.refresh_serialised("fortnox:1", "access-1", do_refresh).access_token == "access-2"


def test_a_replaced_token_that_has_expired_too_is_refreshed(store: TokenStore) -> None:
    store.save("fortnox:1", tokens(2, expires_in=-5))
    fresh = store.refresh_serialised("fortnox:1", "access-1", lambda rt: tokens(3))
    assert fresh.access_token == "access-3"


def test_a_failed_refresh_changes_nothing(store: TokenStore) -> None:
    before = store.save("fortnox:1", tokens(1))

    def do_refresh(refresh_token: str) -> StoredTokens:
        raise RuntimeError("invalid_grant")

    with pytest.raises(RuntimeError, match="invalid_grant"):
        store.refresh_serialised("fortnox:1", "access-1", do_refresh)
    assert store.load("fortnox:1") == before
    with pytest.raises(TokenNotFound, match="connect first"):
        store.refresh_serialised("nobody", "access-1", do_refresh)


def test_a_second_refresher_waits_for_the_first_and_takes_its_tokens(
    database: Database, store: TokenStore
) -> None:
    store.save("fortnox:1", tokens(1))
    inside = threading.Event()
    release = threading.Event()
    results: dict[str, StoredTokens] = {}
    presented: list[str] = []

    def slow_refresh(refresh_token: str) -> StoredTokens:
        presented.append(refresh_token)
        inside.set()
        assert release.wait(10)
        return tokens(2)

    def first() -> None:
        results["first"] = store.refresh_serialised("fortnox:1", "access-1", slow_refresh)

    other = twin(database)
    second_store = TokenStore(other, SecretBox(KEY))

    def second() -> None:
        def refresh_again(refresh_token: str) -> StoredTokens:
            presented.append(refresh_token)
            return tokens(99)

        results["second"] = second_store.refresh_serialised("fortnox:1", "access-1", refresh_again)

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(10)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.5)
    waited = "second" not in results
    release.set()
    one.join(15)
    two.join(15)
    other.dispose()
    assert waited, "the second refresher did not wait for the lock"
    assert presented == ["refresh-1"]
    assert results["first"].access_token == "access-2"
    assert results["second"] == results["first"]
    assert store.load("fortnox:1") == results["first"]


def test_a_refresher_that_waits_too_long_is_told_the_credential_is_busy(
    database: Database, store: TokenStore
) -> None:
    store.save("fortnox:1", tokens(1))
    inside = threading.Event()
    release = threading.Event()

    def slow_refresh(refresh_token: str) -> StoredTokens:
        inside.set()
        assert release.wait(10)
        return tokens(2)

    holder = threading.Thread(
        target=lambda: store.refresh_serialised("fortnox:1", "access-1", slow_refresh)
    )
    holder.start()
    assert inside.wait(10)
    other = twin(database, busy_ms=200)
    impatient = TokenStore(other, SecretBox(KEY), lock_timeout=0.2)
    try:
        with pytest.raises(TokenBusy, match="try again"):
            impatient.refresh_serialised("fortnox:1", "access-1", lambda rt: tokens(3))
    finally:
        release.set()
        holder.join(15)
        other.dispose()
    assert store.load("fortnox:1").access_token == "access-2"  # type: ignore[union-attr]
