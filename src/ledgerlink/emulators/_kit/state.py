"""An emulator's state: one lock around every change and an optional JSON state file.

The state file is a JSON object with one member per *part*. A part is whatever a component
keeps between runs — the ERP's companies, an OAuth server's tokens — contributed with
:meth:`EmulatorState.add_part` as a ``dump``/``load`` pair. The file is read once when the
state is created; each part is loaded from its member as it is added; :meth:`~EmulatorState.save`
rewrites the whole file after a write.

Decimals survive the round trip exactly (``{"$decimal": "12.50"}`` in the file). The file is
written to a temporary file in the same folder and renamed over the old one, so a reader (or a
restart after ``kill -9``) sees either the previous or the new state, never half of one; both
are readable by the owner only (0600), as they hold the tokens an ERP would keep secret.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["Document", "EmulatorState", "StatePart", "Tables"]


#: A stored document: a JSON-like dict in the ERP's own field names (money as Decimal).
Document = dict[str, Any]


class Tables:
    """Named tables of documents and never-reused counters, for an emulator's company (or
    agreement) dataclass to inherit: it declares the ``tables`` and ``counters`` fields."""

    tables: dict[str, dict[str, Document]]
    counters: dict[str, int]

    def table(self, name: str) -> dict[str, Document]:
        """The named table (created empty on first use), keyed by the document's key as text."""
        return self.tables.setdefault(name, {})

    def get(self, name: str, key: object) -> Document | None:
        """One document of a table, or ``None``."""
        return self.tables.get(name, {}).get(str(key))

    def next_number(self, counter: str, *, start: int = 1) -> int:
        """The next value of ``counter`` (never reused)."""
        value = self.counters.get(counter, start)
        self.counters[counter] = value + 1
        return value


@dataclass(frozen=True)
class StatePart:
    """One member of the state file: how to write it (``dump``) and read it back (``load``).

    ``dump`` returns a JSON-ready value (``Decimal`` allowed); ``load`` receives what an earlier
    ``dump`` returned and restores it.
    """

    dump: Callable[[], Any]
    load: Callable[[Any], None]


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"{type(value).__name__} is not serialisable")


def _decode(document: dict[str, Any]) -> object:
    if set(document) == {"$decimal"}:
        return Decimal(document["$decimal"])
    return document


class EmulatorState:
    """The lock every change of an emulator's state is made under, and its state file.

    ``path`` ``None`` keeps everything in memory. ERP packages subclass this to hold their data
    and add their part in ``__init__``; components such as an OAuth server add theirs later.
    Members of the file that no part claims are kept as they are, so a component switched off
    for one run finds its state again in the next.
    """

    def __init__(self, *, path: Path | None) -> None:
        self.lock = threading.RLock()
        self.state_file = path
        self._parts: dict[str, StatePart] = {}
        self._stored: dict[str, Any] = {}
        if path is not None and path.exists():
            document = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
            if not isinstance(document, dict):
                raise ValueError(f"the state file {path} does not hold a JSON object")
            self._stored = document

    def add_part(self, name: str, *, dump: Callable[[], Any], load: Callable[[Any], None]) -> None:
        """Contribute the part ``name``; if the state file holds it, ``load`` it now."""
        with self.lock:
            if name in self._parts:
                raise ValueError(f"the state part {name!r} is already taken")
            self._parts[name] = StatePart(dump, load)
            if name in self._stored:
                load(self._stored[name])

    @property
    def parts(self) -> tuple[str, ...]:
        """The names of the parts added so far."""
        with self.lock:
            return tuple(self._parts)

    def save(self) -> None:
        """Rewrite the state file with every part (atomically); a no-op without a file."""
        if self.state_file is None:
            return
        with self.lock:
            document = {**self._stored, **{n: p.dump() for n, p in self._parts.items()}}
            text = json.dumps(document, default=_encode, indent=1)
            _replace(self.state_file, text)

    @contextmanager
    def change(self) -> Iterator[None]:
        """Hold the lock for a change and save once it is made (nothing is saved on error)."""
        with self.lock:
            yield
            self.save()


def _replace(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        # No fsync: the file has to survive the emulator being killed, which the page cache
        # does; surviving a power cut is not worth a disk flush on every emulated write.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
