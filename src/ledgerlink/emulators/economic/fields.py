"""Property checks for request documents, recording annotated errors on a :class:`Validation`.

Each check reads ``document[key]``, records an error at ``path + (key,)`` when the value is
missing (and required), of the wrong type or too long, and returns the value (or ``None``).
The checks are the kit's field specs; what is e-conomic's here is the wording of each problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerlink.emulators._kit.fields import Field, Kind, Rule, check_field
from ledgerlink.emulators.economic.filters import parse_date
from ledgerlink.emulators.economic.http import REQUIRED, Validation, reference_id

__all__ = [
    "boolean",
    "integer",
    "iso_date",
    "money",
    "number",
    "reference",
    "required_message",
    "text",
]

Path = Sequence[str | int]
TWO_PLACES = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    """Round half-up to two decimals (the API's amount scale)."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def required_message(key: str) -> str:
    """The message for a missing required property."""
    return f"Property {key} is required."


_KINDS = {
    Kind.STRING: "a string",
    Kind.INTEGER: "an integer",
    Kind.NUMBER: "a number",
    Kind.BOOLEAN: "true or false",
}


def _checked(document: Mapping[str, Any], spec: Field, v: Validation, path: Path) -> Any:
    """The value of ``spec``'s property, or ``None`` after recording e-conomic's error."""
    problem = check_field(document, spec, path=tuple(path))
    if problem is None:
        return document.get(spec.name)
    key, value, at = spec.name, problem.value, problem.path
    if problem.rule is Rule.REQUIRED:
        v.add(at, required_message(key), code=REQUIRED, hint="Please check your request data.")
    elif problem.rule is Rule.KIND:
        v.add(at, f"{key} must be {_KINDS[spec.kind]}.", value=value)
    elif problem.rule is Rule.MAX_LENGTH:
        v.add(
            at,
            f"{key} is too long: {len(value)} characters, at most {spec.max_length} allowed.",
            value=value,
            hint="Please check the length of your data.",
        )
    elif problem.rule is Rule.MIN_LENGTH:
        v.add(at, f"{key} must have at least {spec.min_length} characters.", value=value)
    elif problem.rule is Rule.RANGE:
        v.add(at, f"{key} must be between {spec.minimum} and {spec.maximum}.", value=value)
    else:
        v.add(
            at,
            f"{key} scale cannot be greater then two decimal places.",
            code="E04740",
            value=value,
            hint="Please check the format of your data.",
        )
    return None


def text(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    max_length: int | None = None,
    min_length: int = 0,
    required: bool = False,
) -> str | None:
    """A string property."""
    least = max(min_length, 1 if required else 0)
    spec = Field(key, required=required, max_length=max_length, min_length=least)
    value: str | None = _checked(document, spec, v, path)
    return value


def integer(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    minimum: int | None = None,
    maximum: int | None = None,
    required: bool = False,
) -> int | None:
    """An integer property (a JSON number without fraction)."""
    spec = Field(key, Kind.INTEGER, required=required, minimum=minimum, maximum=maximum)
    value: int | None = _checked(document, spec, v, path)
    return value


def number(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    required: bool = False,
    max_scale: int | None = None,
) -> Decimal | None:
    """A decimal property; ``max_scale=2`` gives E04740 on more than two decimals."""
    value = _checked(
        document, Field(key, Kind.NUMBER, required=required, max_scale=max_scale), v, path
    )
    return None if value is None else Decimal(value)


def boolean(document: Mapping[str, Any], key: str, v: Validation, *, path: Path = ()) -> bool:
    """A boolean property (absent means false)."""
    return bool(_checked(document, Field(key, Kind.BOOLEAN), v, path))


def iso_date(
    document: Mapping[str, Any],
    key: str,
    v: Validation,
    *,
    path: Path = (),
    required: bool = False,
) -> str | None:
    """A ``YYYY-MM-DD`` property (the docs' ISO-8601 full-date, nothing else)."""
    value = text(document, key, v, path=path, required=required)
    if value is None:
        return None
    try:
        return parse_date(value).isoformat()
    except ValueError:
        v.add((*path, key), f"{key} must be a date formatted YYYY-MM-DD.", value=value)
        return None


def reference(
    document: Mapping[str, Any],
    key: str,
    id_key: str,
    v: Validation,
    *,
    exists: Callable[[Any], bool],
    collection_url: str,
    path: Path = (),
    required: bool = False,
    as_int: bool = True,
) -> Any:
    """A reference ``{"<id_key>": id}`` or ``{"self": url}``: E04500 without id, E06000 unknown."""
    present, identifier = reference_id(document, key, id_key)
    if not present:
        if required:
            v.add(
                (*path, key),
                required_message(key),
                code=REQUIRED,
                hint="Please check your request data.",
            )
        return None
    if identifier is None:
        v.add(
            (*path, key),
            f"No identifiers present on {key}. Please include either a self link or a {id_key}.",
            code="E04500",
            hint=f"Find a list of resources at {collection_url}.",
        )
        return None
    if as_int:
        try:
            identifier = int(str(identifier))
        except ValueError:
            v.add(
                (*path, key),
                f"{key} does not exist.",
                code="E06000",
                value=identifier,
                hint=f"Find a list of resources at {collection_url}.",
            )
            return None
    if not exists(identifier):
        v.add(
            (*path, key),
            f"{key} does not exist.",
            code="E06000",
            value=identifier,
            hint=f"Find a list of resources at {collection_url}.",
        )
        return None
    return identifier
