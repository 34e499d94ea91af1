"""The e-conomic REST API's filter grammar (``?filter=``): parser, evaluator, formatter, sorting.

Grammar (as documented for the e-conomic REST API; the legacy API and the newer OpenAPI ones)::

    expression := term (("$and:" | "$or:") term)*
    term       := "(" expression ")" | predicate
    predicate  := property operator value
    operator   := "$eq:" | "$ne:" | "$gt:" | "$gte:" | "$lt:" | "$lte:" | "$like:"
                | "$in:" | "$nin:"
    value      := "$null:" | text            (for $in/$nin: "[" item ("," item)* "]")

``$and:`` binds tighter than ``$or:``; parentheses override. Inside a value ``$$ $( $) $* $, $[
$]`` escape the special characters. ``*`` in a ``$like:`` value is a wildcard; a ``$like:`` value
without wildcards means *contains*. String comparison is case-insensitive. ``$in:``/``$nin:`` are
allowed only on numeric properties and take at most 200 values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

__all__ = [
    "COMPARISON_OPERATORS",
    "MAX_IN_VALUES",
    "WILDCARD",
    "BoolOp",
    "Expression",
    "FieldKind",
    "FilterError",
    "InList",
    "Like",
    "Predicate",
    "SortKey",
    "escape",
    "evaluate",
    "format_expression",
    "lookup",
    "parse_date",
    "parse_filter",
    "parse_sort",
    "sort_records",
]

MAX_IN_VALUES = 200
COMPARISON_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")
_OPERATORS = (*COMPARISON_OPERATORS, "like", "in", "nin")
_ESCAPABLE = "$()*,[]"
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PROPERTY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` date (ISO-8601 full-date); ``20261201``, a datetime or a week date is
    refused with ``ValueError``."""
    if not _FULL_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a date formatted YYYY-MM-DD")
    return date.fromisoformat(text)


class FilterError(ValueError):
    """The filter or sort expression is malformed or uses a property that does not allow it."""


class FieldKind(Enum):
    """How a property's values compare."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


class _Wildcard:
    """The unescaped ``*`` of a ``$like:`` value."""

    _instance: _Wildcard | None = None

    def __new__(cls) -> _Wildcard:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "WILDCARD"


WILDCARD = _Wildcard()


@dataclass(frozen=True)
class Predicate:
    """``property $op: value``; ``value`` is ``None`` for ``$null:``."""

    field: str
    op: str
    value: str | None


@dataclass(frozen=True)
class Like:
    """``property $like: pattern``: literal text and wildcards; ``None`` stands for ``$null:``."""

    field: str
    pattern: tuple[str | _Wildcard, ...] | None


@dataclass(frozen=True)
class InList:
    """``property $in: [..]`` or ``$nin:``; ``None`` stands for ``$null:``."""

    field: str
    negate: bool
    values: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class BoolOp:
    """Two or more expressions joined by ``and`` or ``or``."""

    op: str
    items: tuple[Expression, ...]


Expression = Predicate | Like | InList | BoolOp


def escape(text: str) -> str:
    """Escape every character the grammar treats as special."""
    return "".join("$" + char if char in _ESCAPABLE else char for char in text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> FilterError:
        return FilterError(f"{message} (at position {self.pos} of filter {self.text!r})")

    def startswith(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def parse(self) -> Expression:
        if not self.text:
            raise self.fail("empty filter")
        expression = self.expression()
        if self.pos != len(self.text):
            raise self.fail("unexpected text")
        return expression

    def expression(self) -> Expression:
        alternatives = [self.conjunction()]
        while self.startswith("$or:"):
            self.pos += 4
            alternatives.append(self.conjunction())
        return alternatives[0] if len(alternatives) == 1 else BoolOp("or", tuple(alternatives))

    def conjunction(self) -> Expression:
        terms = [self.term()]
        while self.startswith("$and:"):
            self.pos += 5
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else BoolOp("and", tuple(terms))

    def term(self) -> Expression:
        if self.startswith("("):
            self.pos += 1
            inner = self.expression()
            if not self.startswith(")"):
                raise self.fail("missing ')'")
            self.pos += 1
            return inner
        return self.predicate()

    def predicate(self) -> Expression:
        match = _PROPERTY.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a property name")
        field = match.group()
        self.pos = match.end()
        for op in sorted(_OPERATORS, key=len, reverse=True):
            token = f"${op}:"
            if self.startswith(token):
                self.pos += len(token)
                break
        else:
            raise self.fail(f"expected an operator after {field!r}")
        if op in ("in", "nin"):
            return InList(field, op == "nin", self.in_list())
        if self.startswith("$null:"):
            self.pos += 6
            return Like(field, None) if op == "like" else Predicate(field, op, None)
        parts = self.value()
        if op == "like":
            return Like(field, _merge(parts))
        if any(part is WILDCARD for part in parts):
            return Predicate(field, op, "".join("*" if p is WILDCARD else str(p) for p in parts))
        return Predicate(field, op, "".join(str(part) for part in parts))

    def value(self) -> list[str | _Wildcard]:
        parts: list[str | _Wildcard] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "$":
                following = self.text[self.pos + 1 : self.pos + 2]
                if following and following in _ESCAPABLE:
                    parts.append(following)
                    self.pos += 2
                    continue
                if self.startswith("$and:") or self.startswith("$or:"):
                    break
                raise self.fail("unescaped '$' in a value (write '$$')")
            if char == ")":
                break
            if char == "(":
                raise self.fail("unescaped '(' in a value (write '$(')")
            if char == "*":
                parts.append(WILDCARD)
            else:
                parts.append(char)
            self.pos += 1
        return parts

    def in_list(self) -> tuple[Decimal | None, ...]:
        if not self.startswith("["):
            raise self.fail("expected '[' after $in:/$nin:")
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.fail("missing ']'")
        raw = self.text[self.pos + 1 : end]
        self.pos = end + 1
        values: list[Decimal | None] = []
        for raw_item in raw.split(","):
            item = raw_item.strip()
            if item == "$null:":
                values.append(None)
                continue
            try:
                values.append(Decimal(item))
            except InvalidOperation:
                raise self.fail(f"$in:/$nin: accept numbers only, not {item!r}") from None
        if len(values) > MAX_IN_VALUES:
            raise self.fail(f"$in:/$nin: accept at most {MAX_IN_VALUES} values")
        return tuple(values)


def _merge(parts: Iterable[str | _Wildcard]) -> tuple[str | _Wildcard, ...]:
    merged: list[str | _Wildcard] = []
    for part in parts:
        if part is WILDCARD:
            if not merged or merged[-1] is not WILDCARD:
                merged.append(WILDCARD)
        elif merged and isinstance(merged[-1], str):
            merged[-1] += str(part)
        else:
            merged.append(part)
    return tuple(merged)


def parse_filter(text: str, fields: Mapping[str, FieldKind] | None = None) -> Expression:
    """Parse a filter expression; raise :class:`FilterError` if it is malformed or, given
    ``fields`` (the filterable properties and their kinds), if it names a property that is not
    filterable or compares one with a value not of its kind: refused before any record is
    read, so an empty collection refuses it too."""
    expression = _Parser(text).parse()
    if fields is not None:
        _check(expression, fields)
    return expression


def format_expression(expression: Expression) -> str:
    """The canonical text of ``expression`` (``parse_filter`` reads it back to the same tree)."""
    if isinstance(expression, Predicate):
        value = "$null:" if expression.value is None else escape(expression.value)
        return f"{expression.field}${expression.op}:{value}"
    if isinstance(expression, Like):
        if expression.pattern is None:
            return f"{expression.field}$like:$null:"
        text = "".join("*" if p is WILDCARD else escape(str(p)) for p in expression.pattern)
        return f"{expression.field}$like:{text}"
    if isinstance(expression, InList):
        values = ",".join("$null:" if v is None else str(v) for v in expression.values)
        return f"{expression.field}${'nin' if expression.negate else 'in'}:[{values}]"
    return f"${expression.op}:".join(
        f"({format_expression(item)})" if isinstance(item, BoolOp) else format_expression(item)
        for item in expression.items
    )


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a JSON-like record, or ``None``."""
    current: Any = record
    for key in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def _coerce(kind: FieldKind, field: str, raw: str) -> Any:
    try:
        if kind in (FieldKind.INTEGER, FieldKind.NUMBER):
            return Decimal(raw)
        if kind is FieldKind.DATE:
            return parse_date(raw)
        if kind is FieldKind.BOOLEAN:
            lowered = raw.lower()
            if lowered not in ("true", "false"):
                raise ValueError(raw)
            return lowered == "true"
    except (InvalidOperation, ValueError):
        raise FilterError(f"{raw!r} is not a valid {kind.value} for {field!r}") from None
    return raw.casefold()


def _normalise(kind: FieldKind, value: Any) -> Any:
    if value is None:
        return False if kind is FieldKind.BOOLEAN else None
    if kind in (FieldKind.INTEGER, FieldKind.NUMBER):
        return Decimal(str(value))
    if kind is FieldKind.DATE:
        return date.fromisoformat(str(value)[:10])
    if kind is FieldKind.BOOLEAN:
        return bool(value)
    return str(value).casefold()


def _like(pattern: tuple[str | _Wildcard, ...], text: str) -> bool:
    if not any(part is WILDCARD for part in pattern):
        return "".join(str(p) for p in pattern).casefold() in text.casefold()
    regex = "".join(".*" if p is WILDCARD else re.escape(str(p)) for p in pattern)
    return re.fullmatch(regex, text, flags=re.IGNORECASE | re.DOTALL) is not None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "gt": lambda a, b: bool(a > b),
    "gte": lambda a, b: bool(a >= b),
    "lt": lambda a, b: bool(a < b),
    "lte": lambda a, b: bool(a <= b),
}


def _kind(fields: Mapping[str, FieldKind], field: str) -> FieldKind:
    kind = fields.get(field)
    if kind is None:
        raise FilterError(f"the property {field!r} is not filterable")
    return kind


def _leaf(expression: Predicate | Like | InList, fields: Mapping[str, FieldKind]) -> Any:
    """The value a comparison compares with, of its property's kind (``None`` for the other
    leaves); :class:`FilterError` if the property is not filterable or the leaf does not fit
    its kind."""
    kind = _kind(fields, expression.field)
    if isinstance(expression, InList) and kind not in (FieldKind.INTEGER, FieldKind.NUMBER):
        raise FilterError(
            f"$in:/$nin: are allowed on numeric properties only, not {expression.field!r}"
        )
    if not isinstance(expression, Predicate):
        return None
    if expression.value is None:
        if expression.op not in ("eq", "ne"):
            raise FilterError("$null: can only be compared with $eq: or $ne:")
        return None
    return _coerce(kind, expression.field, expression.value)


def _check(expression: Expression, fields: Mapping[str, FieldKind]) -> None:
    if isinstance(expression, BoolOp):
        for item in expression.items:
            _check(item, fields)
    else:
        _leaf(expression, fields)


def evaluate(
    expression: Expression, record: Mapping[str, Any], fields: Mapping[str, FieldKind]
) -> bool:
    """Whether ``record`` matches; ``fields`` names the filterable properties and their kinds."""
    if isinstance(expression, BoolOp):
        results = (evaluate(item, record, fields) for item in expression.items)
        return all(results) if expression.op == "and" else any(results)
    expected = _leaf(expression, fields)
    actual = _normalise(fields[expression.field], lookup(record, expression.field))
    if isinstance(expression, Like):
        if expression.pattern is None:
            return actual is None
        return actual is not None and _like(
            expression.pattern, str(lookup(record, expression.field))
        )
    if isinstance(expression, InList):
        found = actual in expression.values
        return not found if expression.negate else found
    if expression.value is None:
        return (actual is None) == (expression.op == "eq")
    if actual is None:
        return expression.op == "ne"
    try:
        return _COMPARE[expression.op](actual, expected)
    except TypeError:
        return False


@dataclass(frozen=True)
class SortKey:
    """One ``sort=`` item: ``-`` makes it descending, ``~`` forces alphabetic comparison."""

    field: str
    descending: bool = False
    alphabetic: bool = False


def parse_sort(text: str, sortable: Mapping[str, FieldKind]) -> list[SortKey]:
    """Parse ``sort=-name,~number``; raise :class:`FilterError` on a non-sortable property."""
    keys: list[SortKey] = []
    for raw in text.split(","):
        item = raw.strip()
        descending = alphabetic = False
        while item[:1] in ("-", "~"):
            descending |= item[0] == "-"
            alphabetic |= item[0] == "~"
            item = item[1:]
        if item not in sortable:
            raise FilterError(f"the property {item!r} is not sortable")
        keys.append(SortKey(item, descending, alphabetic))
    return keys


def sort_records(
    records: Sequence[Mapping[str, Any]], keys: Sequence[SortKey], kinds: Mapping[str, FieldKind]
) -> list[Mapping[str, Any]]:
    """Stable multi-key sort; missing values sort first; strings compare case-insensitively."""
    result = list(records)
    for key in reversed(keys):
        kind = kinds[key.field]

        def sort_value(
            record: Mapping[str, Any], key: SortKey = key, kind: FieldKind = kind
        ) -> Any:
            value = lookup(record, key.field)
            if value is None:
                return (0, "")
            if key.alphabetic or kind is FieldKind.STRING:
                return (1, str(value).casefold())
            return (1, _normalise(kind, value))

        result.sort(key=sort_value, reverse=key.descending)
    return result
