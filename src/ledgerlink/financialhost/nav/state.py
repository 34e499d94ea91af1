"""The plugin's small local state in the host's data directory (JSON files, atomic writes).

* :class:`PendingDrafts` — correlations whose draft is being written. A draft is visible to
  :meth:`~ledgerlink.financialhost.nav.plugin.NavPlugin.find_document` by its
  External Document No. from the moment its header exists, so a crash or NAV outage half-way
  through the lines would otherwise make the next attempt "find" a half-written draft. A
  correlation listed here means: whatever draft carries it is incomplete — delete and redo.
* :class:`StatusSnapshots` — what each issued ``statuses`` cursor has reported (see
  :mod:`.statuses`).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["JsonFile", "PendingDrafts", "SentCorrelations", "StatusSnapshots"]


class JsonFile:
    """A JSON document replaced atomically on every write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The stored document (``None`` before the first write)."""
        with self._lock:
            try:
                return json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                return None

    def store(self, document: Any) -> None:
        """Replace the document (write a temporary file, then rename over)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(self.path.suffix + ".tmp")
            temporary.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
            os.replace(temporary, self.path)


class PendingDrafts:
    """Correlations whose draft is being written (a half-written draft must not be "found")."""

    def __init__(self, path: Path) -> None:
        self._file = JsonFile(path)

    def items(self) -> set[str]:
        """The correlations currently in progress."""
        return set(self._file.load() or [])

    def add(self, correlation: str) -> None:
        """Mark ``correlation`` as being written (before the header is created)."""
        self._file.store(sorted(self.items() | {correlation}))

    def discard(self, correlation: str) -> None:
        """The draft is complete, or its remains were removed."""
        self._file.store(sorted(self.items() - {correlation}))


class SentCorrelations:
    """The correlations as the hub sent them. External Document No. is a Code field, so NAV
    stores it upper-cased; statuses give the hub back its own spelling."""

    def __init__(self, path: Path) -> None:
        self._file = JsonFile(path)

    def remember(self, correlation: str) -> None:
        known: dict[str, str] = self._file.load() or {}
        if known.get(correlation.upper()) != correlation:
            known[correlation.upper()] = correlation
            self._file.store(known)

    def original(self, stored: str) -> str:
        """The hub's spelling of a correlation NAV returned (NAV's, if not sent from here)."""
        known: dict[str, str] = self._file.load() or {}
        return known.get(stored.upper(), stored)


class StatusSnapshots:
    """``generation → snapshot`` of the statuses cursor, keeping the newest few generations so a
    cursor the hub re-sends (lost answer) still compares against what it had seen."""

    KEEP = 8

    def __init__(self, path: Path) -> None:
        self._file = JsonFile(path)

    def get(self, generation: int) -> dict[str, Any] | None:
        """The snapshot issued as ``generation`` (``None`` when unknown or pruned)."""
        document = self._file.load() or {}
        found = document.get("snapshots", {}).get(str(generation))
        return found if isinstance(found, dict) else None

    def issue(self, snapshot: dict[str, Any]) -> int:
        """Store ``snapshot`` as a new generation and return its number."""
        document = self._file.load() or {}
        generation = int(document.get("next", 1))
        snapshots: dict[str, Any] = document.get("snapshots", {})
        snapshots[str(generation)] = snapshot
        for old in sorted(snapshots, key=int)[: -self.KEEP]:
            del snapshots[old]
        self._file.store({"next": generation + 1, "snapshots": snapshots})
        return generation
