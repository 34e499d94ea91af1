"""Column types that keep numbers exact on every database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal kept as its exact text (``'7.33'``, ``'-1.5'``) on SQLite and PostgreSQL alike.

    SQLite has no exact numeric type (NUMERIC is stored as REAL); text round-trips every
    Decimal unchanged, including its scale, and is the same on both databases.
    """

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing to store a float in an exact decimal column")
        decimal = Decimal(value)
        if not decimal.is_finite():
            raise ValueError(f"refusing to store {value!r} in an exact decimal column")
        return format(decimal, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
