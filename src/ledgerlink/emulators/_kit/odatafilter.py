"""OData ``$filter`` expressions: parsed once into a predicate over records.

Common to every OData service (v2 and v4): comparisons ``eq ne gt ge lt le``, ``and``, ``or``,
``not``, parentheses, the string functions ``trim``, ``tolower``, ``toupper``, ``length``,
``substringof`` (v2: needle first), ``startswith``, ``endswith``, ``contains`` (v4), and the
literals ``'text'`` (``''`` is a quote), ``guid'…'``, ``datetime'…'``/``datetimeoffset'…'``,
integers (``123``, v2's ``123L``), decimals (``1.5``, ``1.5M``: :class:`~decimal.Decimal`,
never ``float``), ``true``, ``false`` and ``null``.

Literals become Python values: ``guid'…'`` a :class:`uuid.UUID`, ``datetime'…'`` a naive
:class:`datetime.datetime`. The ERP package says what a field of a record is worth with
``resolve(record, name)`` — in the same Python types, so a ``Guid`` field compares with a
``guid'…'`` literal — and raises :class:`FilterError` for a field it does not have. A
comparison of incompatible values (text with a number) raises :class:`FilterError` when it is
evaluated; the ERP package words every :class:`FilterError` in its own envelope.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["FilterError", "Predicate", "parse_filter"]

Predicate = Callable[[Any], bool]
Resolve = Callable[[Any, str], Any]
_Eval = Callable[[Any], Any]


class FilterError(ValueError):
    """The ``$filter`` is not valid (syntax, unknown field or incompatible operands)."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<typed>(?:guid|datetime|datetimeoffset)'[^']*')
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[LlMmDd]?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
      | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "trim": (1, lambda s: s.strip()),
    "tolower": (1, lambda s: s.lower()),
    "toupper": (1, lambda s: s.upper()),
    "length": (1, len),
    "substringof": (2, lambda needle, text: needle in text),
    "contains": (2, lambda text, needle: needle in text),
    "startswith": (2, lambda text, start: text.startswith(start)),
    "endswith": (2, lambda text, end: text.endswith(end)),
}
_WORDS = {"true": True, "false": False, "null": None}


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise FilterError(f"Syntax error at position {position} in '{text}'.")
        found.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return found


def _typed(token: str) -> Any:
    kind, _, rest = token.partition("'")
    value = rest[:-1]
    try:
        if kind == "guid":
            return uuid.UUID(value)
        parsed = datetime.fromisoformat(value.removesuffix("Z"))
        return parsed.replace(tzinfo=None)
    except ValueError:
        raise FilterError(f"Unrecognized '{kind}' literal '{token}'.") from None


def _number(token: str) -> int | Decimal:
    body = token.rstrip("LlMmDd")
    if re.fullmatch(r"-?\d+", body) and token[-1:] not in ("M", "m", "D", "d"):
        return int(body)
    return Decimal(body)


def _guarded(compare: Callable[[Any, Any], bool], operator: str) -> Callable[[Any, Any], bool]:
    def run(left: Any, right: Any) -> bool:
        if operator not in ("eq", "ne") and (left is None or right is None):
            return False
        try:
            return bool(compare(left, right))
        except TypeError:
            raise FilterError(
                f"Operator '{operator}' incompatible with operand types "
                f"'{type(left).__name__}' and '{type(right).__name__}'."
            ) from None

    return run


def _either(first: _Eval, second: _Eval) -> _Eval:
    return lambda record: bool(first(record)) or bool(second(record))


def _both(first: _Eval, second: _Eval) -> _Eval:
    return lambda record: bool(first(record)) and bool(second(record))


class _Parser:
    def __init__(self, text: str, resolve: Resolve) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.resolve = resolve

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def word(self) -> str | None:
        token = self.peek()
        return token[1].lower() if token is not None and token[0] == "name" else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1].lower() != value):
            raise FilterError(f"Syntax error in '{self.text}': expected {value or 'a value'}.")
        self.position += 1
        return token

    def parse(self) -> Predicate:
        evaluate = self.disjunction()
        rest = self.peek()
        if rest is not None:
            raise FilterError(f"Syntax error in '{self.text}' near '{rest[1]}'.")
        return lambda record: bool(evaluate(record))

    def disjunction(self) -> _Eval:
        left = self.conjunction()
        while self.word() == "or":
            self.take()
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> _Eval:
        left = self.negation()
        while self.word() == "and":
            self.take()
            left = _both(left, self.negation())
        return left

    def negation(self) -> _Eval:
        if self.word() == "not":
            self.take()
            inner = self.negation()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> _Eval:
        left = self.operand()
        operator = self.word()
        if operator not in _COMPARE:
            return left
        self.take()
        right = self.operand()
        compare = _guarded(_COMPARE[operator], operator)
        return lambda r: compare(left(r), right(r))

    def operand(self) -> _Eval:
        kind, value = self.take()
        if kind == "punct" and value == "(":
            inner = self.disjunction()
            self.take(")")
            return inner
        if kind == "typed":
            literal = _typed(value)
            return lambda _r: literal
        if kind == "string":
            text = value[1:-1].replace("''", "'")
            return lambda _r: text
        if kind == "number":
            number = _number(value)
            return lambda _r: number
        if kind != "name":
            raise FilterError(f"Syntax error in '{self.text}' near '{value}'.")
        if value.lower() in _WORDS:
            constant = _WORDS[value.lower()]
            return lambda _r: constant
        if self.peek() == ("punct", "("):
            return self.function(value)
        resolve, name = self.resolve, value
        return lambda r: resolve(r, name)

    def function(self, name: str) -> _Eval:
        known = _FUNCTIONS.get(name.lower())
        if known is None:
            raise FilterError(f"Unknown function '{name}'.")
        arity, run = known
        self.take("(")
        arguments = [self.disjunction()]
        while self.peek() == ("punct", ","):
            self.take()
            arguments.append(self.disjunction())
        self.take(")")
        if len(arguments) != arity:
            raise FilterError(f"No function signature for the function with name '{name}'.")

        def call(record: Any) -> Any:
            values = [argument(record) for argument in arguments]
            if any(value is None for value in values):
                return None
            if not all(isinstance(value, str) for value in values):
                raise FilterError(f"The function '{name}' takes text arguments.")
            return run(*values)

        return call


def parse_filter(text: str, resolve: Resolve) -> Predicate:
    """The predicate of the ``$filter`` ``text``; ``resolve(record, name)`` is a field's value
    (see the module docstring). Raises :class:`FilterError` for a filter that does not parse."""
    if not text.strip():
        return lambda _record: True
    return _Parser(text, resolve).parse()
