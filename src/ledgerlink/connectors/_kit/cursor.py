"""Incremental-read cursors of a floor and marks: ``floor|mark,mark,…``.

An ERP whose change filter is inclusive at some granularity (``Modified ge …``, a minute of
``lastmodified``) returns again, on the next read, the records at the floor itself. The cursor
therefore keeps, besides the floor, a short mark (:func:`mark`) of each record at or above the
floor that was already reported, and the next read passes those over. As many marks as fit
the hub's cursor column are kept; a record whose mark did not fit is reported again, which an
importer that stores each record once by its id takes as already known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MARK_LENGTH", "MAX_CURSOR", "MarkedCursor", "mark"]

#: The longest cursor the hub stores (``sync_cursors.cursor``).
MAX_CURSOR = 200
MARK_LENGTH = 8


def mark(*parts: str) -> str:
    """A short mark of a record as reported (its id and what makes a change of it news)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:MARK_LENGTH]


@dataclass(frozen=True, slots=True)
class MarkedCursor:
    """A floor (the ERP's own change value, as text without ``|``) and the marks of the
    records at or above it already reported."""

    floor: str
    marks: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, cursor: str | None) -> MarkedCursor | None:
        """The cursor as stored, or ``None`` for no cursor (read from the start)."""
        if not cursor:
            return None
        floor, _, marks = cursor.partition("|")
        return cls(floor, frozenset(filter(None, marks.split(","))))

    def text(self, *, limit: int = MAX_CURSOR) -> str:
        """The cursor to store: the floor and as many marks as fit ``limit`` characters."""
        if "|" in self.floor or len(self.floor) >= limit:
            raise ValueError(f"a cursor floor must be short and without '|': {self.floor!r}")
        room = (limit - len(self.floor) - 1) // (MARK_LENGTH + 1)
        return f"{self.floor}|{','.join(sorted(self.marks)[:room])}"

    def seen(self, record_mark: str) -> bool:
        """Whether a record with this mark was reported already."""
        return record_mark in self.marks

    @staticmethod
    def of(floor: str, marks: Iterable[str]) -> MarkedCursor:
        return MarkedCursor(floor, frozenset(marks))
