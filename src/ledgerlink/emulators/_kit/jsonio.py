"""JSON in and out with :class:`~decimal.Decimal` kept exact (money is never a float here)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

_MARK = "\x00dec\x00"
_MARKED = re.compile(r'"\\u0000dec\\u0000(-?[0-9]+(?:\.[0-9]+)?(?:E[+-]?[0-9]+)?)"')


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{_MARK}{value}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(document: Any, *, indent: int | None = None) -> str:
    """Serialise ``document``; a ``Decimal`` becomes a JSON number with its exact digits."""
    text = json.dumps(document, default=_default, ensure_ascii=False, indent=indent)
    return _MARKED.sub(r"\1", text)


def loads(text: str | bytes) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal`` (never ``float``)."""
    return json.loads(text, parse_float=Decimal)
