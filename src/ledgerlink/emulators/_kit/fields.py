"""Declarative field validation: a :class:`Field` per property of a JSON body (kind, required,
read-only, length, range, scale, enum, pattern), checked in one pass, giving one
:class:`Problem` per failing field that the ERP package words and renders in its own error
envelope.

Checks run in this order and the first failure is the field's problem: presence (a problem
only when required), read-only, kind (``null`` is of no kind unless the field is ``nullable``),
enum, length, pattern, range, scale.
Numbers are ``int`` or ``Decimal`` (the kit's JSON reader never makes a ``float``; one is
accepted all the same), never ``bool``; dates are ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

__all__ = ["MISSING", "Field", "Kind", "Problem", "Rule", "check", "check_field", "unknown"]

Path = tuple[str | int, ...]


class Kind(enum.StrEnum):
    """What a property holds."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    OBJECT = "object"
    ARRAY = "array"


class Rule(enum.StrEnum):
    """The check a value failed."""

    REQUIRED = "required"
    READ_ONLY = "read_only"
    KIND = "kind"
    ENUM = "enum"
    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    PATTERN = "pattern"
    RANGE = "range"
    SCALE = "scale"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The value of a :class:`Problem` about a property the body does not have."""


@dataclass(frozen=True)
class Field:
    """What one property may hold. ``min_length``/``max_length`` count the characters of a
    string or the items of an array; ``minimum``/``maximum`` bound a number; ``max_scale`` is
    the most decimals a number may have; ``pattern`` must match a whole string."""

    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    nullable: bool = False
    read_only: bool = False
    min_length: int = 0
    max_length: int | None = None
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    max_scale: int | None = None
    enum: Collection[Any] | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Problem:
    """Why ``field`` failed ``rule`` at ``path`` (the field's name last) with ``value``
    (:data:`MISSING` when absent)."""

    field: Field
    rule: Rule
    path: Path
    value: Any = MISSING

    @property
    def message(self) -> str:
        """A plain English text; ERP packages usually word problems their own way."""
        spec, name = self.field, self.field.name
        texts = {
            Rule.REQUIRED: f"{name} is required.",
            Rule.READ_ONLY: f"{name} is read-only.",
            Rule.KIND: f"{name} must be {_ARTICLES[spec.kind]}.",
            Rule.ENUM: f"{name} must be one of {', '.join(map(str, spec.enum or ()))}.",
            Rule.MIN_LENGTH: f"{name} must have at least {spec.min_length} characters.",
            Rule.MAX_LENGTH: f"{name} must have at most {spec.max_length} characters.",
            Rule.PATTERN: f"{name} does not have the expected format.",
            Rule.RANGE: f"{name} must be between {spec.minimum} and {spec.maximum}.",
            Rule.SCALE: f"{name} may have at most {spec.max_scale} decimals.",
        }
        return texts[self.rule]


_ARTICLES = {
    Kind.STRING: "a string",
    Kind.INTEGER: "an integer",
    Kind.NUMBER: "a number",
    Kind.BOOLEAN: "true or false",
    Kind.DATE: "a date formatted YYYY-MM-DD",
    Kind.OBJECT: "an object",
    Kind.ARRAY: "an array",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_kind(kind: Kind, value: Any) -> bool:
    if kind is Kind.STRING:
        return isinstance(value, str)
    if kind is Kind.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is Kind.NUMBER:
        return isinstance(value, int | Decimal | float) and not isinstance(value, bool)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind is Kind.DATE:
        return isinstance(value, str) and _DATE.fullmatch(value) is not None and _is_date(value)
    if kind is Kind.OBJECT:
        return isinstance(value, Mapping)
    return isinstance(value, list)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _rule_broken(spec: Field, value: Any) -> Rule | None:
    if spec.read_only:
        return Rule.READ_ONLY
    if not _is_kind(spec.kind, value):
        return Rule.KIND
    if spec.enum is not None and value not in spec.enum:
        return Rule.ENUM
    if isinstance(value, str | list):
        if spec.max_length is not None and len(value) > spec.max_length:
            return Rule.MAX_LENGTH
        if len(value) < spec.min_length:
            return Rule.MIN_LENGTH
    if spec.pattern is not None and re.fullmatch(spec.pattern, str(value)) is None:
        return Rule.PATTERN
    if spec.kind in (Kind.INTEGER, Kind.NUMBER):
        number = Decimal(str(value))
        low, high = spec.minimum, spec.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            return Rule.RANGE
        exponent = number.normalize().as_tuple().exponent
        if spec.max_scale is not None and isinstance(exponent, int) and -exponent > spec.max_scale:
            return Rule.SCALE
    return None


def check_field(document: Mapping[str, Any], spec: Field, *, path: Path = ()) -> Problem | None:
    """The problem of one property of ``document`` (``path`` is where the document is)."""
    at = (*path, spec.name)
    value = document.get(spec.name, MISSING)
    if value is MISSING:
        return Problem(spec, Rule.REQUIRED, at) if spec.required else None
    if value is None and spec.nullable:
        return None
    rule = _rule_broken(spec, value)
    return None if rule is None else Problem(spec, rule, at, value)


def check(document: Mapping[str, Any], specs: Iterable[Field], *, path: Path = ()) -> list[Problem]:
    """The problems of every property ``specs`` describe, in the order of ``specs``."""
    found = (check_field(document, spec, path=path) for spec in specs)
    return [problem for problem in found if problem is not None]


def unknown(document: Mapping[str, Any], specs: Sequence[Field]) -> list[str]:
    """The properties of ``document`` no spec describes, sorted (``additionalProperties``)."""
    known = {spec.name for spec in specs}
    return sorted(name for name in document if name not in known)
