"""The kit's emulator state: parts contributed by components, the state file's round trip,
its atomic 0600 rewrite, and the one lock."""

from __future__ import annotations

import json
import os
import stat
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ledgerlink.emulators._kit.state import EmulatorState


class Books:
    """A component with state of its own (as an ERP's companies or an OAuth server's tokens)."""

    def __init__(self) -> None:
        self.rows: dict[str, Decimal] = {}

    def dump(self) -> dict[str, Any]:
        return dict(self.rows)

    def load(self, data: dict[str, Any]) -> None:
        self.rows = dict(data)


def opened(path: Path | None) -> tuple[EmulatorState, Books, Books]:
    state = EmulatorState(path=path)
    books, tokens = Books(), Books()
    state.add_part("books", dump=books.dump, load=books.load)
    state.add_part("tokens", dump=tokens.dump, load=tokens.load)
    return state, books, tokens


def test_every_part_round_trips_with_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "erp.json"
    state, books, tokens = opened(path)
    with state.change():
        books.rows["10000"] = Decimal("1234.50")
        tokens.rows["refresh"] = Decimal("0.10")
    assert json.loads(path.read_text())["books"] == {"10000": {"$decimal": "1234.50"}}
    _again, books_again, tokens_again = opened(path)
    assert books_again.rows == {"10000": Decimal("1234.50")}
    assert str(books_again.rows["10000"]) == "1234.50"
    assert tokens_again.rows == {"refresh": Decimal("0.10")}


def test_a_part_added_later_is_loaded_when_added_and_unclaimed_parts_are_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "erp.json"
    state, books, tokens = opened(path)
    with state.change():
        books.rows["a"] = Decimal(1)
        tokens.rows["t"] = Decimal(2)
    only_books = EmulatorState(path=path)
    later = Books()
    only_books.add_part("books", dump=later.dump, load=later.load)
    assert later.rows == {"a": Decimal(1)}
    with only_books.change():
        later.rows["b"] = Decimal(3)
    # The tokens part was not claimed in this run: it survives for the next one.
    _state, books_again, tokens_again = opened(path)
    assert set(books_again.rows) == {"a", "b"}
    assert tokens_again.rows == {"t": Decimal(2)}
    with pytest.raises(ValueError, match="already taken"):
        only_books.add_part("books", dump=later.dump, load=later.load)
    assert only_books.parts == ("books",)


def test_the_file_is_private_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "erp.json"
    state, books, _tokens = opened(path)
    for n in range(3):
        with state.change():
            books.rows[str(n)] = Decimal(n)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erp.json"]


def test_a_failed_rewrite_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "erp.json"
    state, books, _tokens = opened(path)
    with state.change():
        books.rows["kept"] = Decimal(1)
    before = path.read_text()

    def refuse(_source: str, _target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    books.rows["lost"] = Decimal(2)
    with pytest.raises(OSError, match="disk full"):
        state.save()
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erp.json"]


def test_a_change_that_fails_is_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "erp.json"
    state, books, _tokens = opened(path)
    state.save()

    def refused_change() -> None:
        with state.change():
            books.rows["half"] = Decimal(1)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused_change()
    assert json.loads(path.read_text())["books"] == {}


def test_readers_never_see_half_a_file_while_writers_rewrite_it(tmp_path: Path) -> None:
    path = tmp_path / "erp.json"
    state, books, _tokens = opened(path)
    state.save()
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            seen.append(len(json.loads(path.read_text())["books"]))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(300):
            with state.change():
                books.rows[f"row-{n}"] = Decimal(n) / 7
    finally:
        stop.set()
        reader.join()
    assert seen == sorted(seen)
    assert len(json.loads(path.read_text())["books"]) == 300


def test_without_a_file_nothing_is_written_and_a_bad_file_is_refused(tmp_path: Path) -> None:
    state, books, _tokens = opened(None)
    with state.change():
        books.rows["x"] = Decimal(1)
    assert list(tmp_path.iterdir()) == []
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        EmulatorState(path=bad)


def test_changes_from_many_threads_are_serialised_by_the_one_lock() -> None:
    state, books, _tokens = opened(None)
    books.rows["n"] = Decimal(0)

    def add() -> None:
        for _ in range(500):
            with state.change():
                books.rows["n"] += 1

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert books.rows["n"] == 2000
