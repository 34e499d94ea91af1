"""Turning an ERP's error response into a contract error, driven by a per-ERP table.

Each ERP supplies an :class:`ErrorTable`: a body parser (the ERP's error JSON → message and
field errors) and ordered :class:`ErrorRule` rows ``(status, code, field pattern, text)`` →
``(error class, hint template)``. :func:`classify_response` picks the first matching rule; when
none matches, the generic verdict of :func:`~ledgerlink.connectors._kit.retry.decide` decides
the class. Hints may use ``{path}``, ``{code}``, ``{value}``, ``{line}`` (1-based line number
from the path) and ``{erp_text}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx2

from ledgerlink.connectors._kit.retry import Verdict, decide, error_class, outcome_of_response
from ledgerlink.connectors.contract import ConnectorError, FieldError, Transient

_LINE_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class ParsedError:
    """What an ERP's error body says: its general message and the per-field errors."""

    message: str = ""
    code: str = ""
    field_errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRule:
    """One table row. ``None`` matches anything; ``field`` is a pattern over field
    paths (see :func:`path_matches`); ``text`` is a case-insensitive regex over the ERP's text.
    ``missing_product``: the fields this row matches name a product number the ERP does not
    have, in their ``value``."""

    status: int | None = None
    code: str | None = None
    field: str | None = None
    text: str | None = None
    error: type[ConnectorError]
    hint: str = ""
    missing_product: bool = False

    def match(self, status: int, parsed: ParsedError) -> FieldError | ParsedError | None:
        """The field error (or whole body) this rule matches, else ``None``."""
        if self.status is not None and self.status != status:
            return None
        if self.code is None and self.field is None:
            if self.text is None or _text_matches(self.text, _all_text(parsed)):
                return parsed
            return None
        candidates: list[FieldError] = list(parsed.field_errors)
        if self.field is None and parsed.code:
            candidates.append(FieldError(path="", message=parsed.message, code=parsed.code))
        for candidate in candidates:
            if self.code is not None and candidate.code != self.code:
                continue
            if self.field is not None and not path_matches(self.field, candidate.path):
                continue
            if self.text is not None and not _text_matches(self.text, candidate.message):
                continue
            return candidate
        return None


def path_matches(pattern: str, path: str) -> bool:
    """Whether a field ``path`` matches ``pattern``: ``[*]`` is any array index, ``*`` any
    run of characters (``lines[*].product``, ``project*``)."""
    regex = re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]").replace(r"\*", ".*")
    return re.fullmatch(regex, path) is not None


def _text_matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def _all_text(parsed: ParsedError) -> str:
    return " ".join([parsed.message, *(f.message for f in parsed.field_errors)])


def parse_generic_body(body: Any) -> ParsedError:
    """Fallback parser: ``message`` / ``error`` / ``errorCode`` keys of a JSON object."""
    if not isinstance(body, dict):
        return ParsedError(message=str(body) if body else "")
    message = body.get("message") or body.get("error") or body.get("Message") or ""
    code = body.get("errorCode") or body.get("code") or ""
    return ParsedError(message=str(message), code=str(code))


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorTable:
    """An ERP's error rules and body parser (see the module docstring)."""

    erp: str
    rules: tuple[ErrorRule, ...] = ()
    parse: Callable[[Any], ParsedError] = field(default=parse_generic_body)
    #: The server's wait (seconds) for a Transient answer without ``Retry-After``, read from
    #: the ERP's own signals (e.g. Exact's ``X-RateLimit-*-Reset``); ``None``: no other signal.
    server_wait: Callable[[httpx2.Response], float | None] | None = None

    def find(self, status: int, parsed: ParsedError) -> tuple[ErrorRule, FieldError | None] | None:
        """The first rule that matches, with the field error it matched on (if any)."""
        for rule in self.rules:
            hit = rule.match(status, parsed)
            if hit is not None:
                return rule, hit if isinstance(hit, FieldError) else None
        return None


def read_body(response: httpx2.Response) -> Any:
    """The response's JSON (numbers as Decimal), or its text when it is not JSON."""
    try:
        response.read()
        return json.loads(response.content, parse_float=Decimal) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return response.text


def line_of(path: str) -> str:
    """1-based line number from a path like ``lines[2].product`` (→ ``"3"``), else ``""``."""
    match = _LINE_INDEX.search(path)
    return str(int(match.group(1)) + 1) if match else ""


def erp_text(parsed: ParsedError) -> str:
    """The ERP's own words, one line: field errors as ``path: message`` or the message."""
    if parsed.field_errors:
        parts = [
            f"{f.path}: {f.message}" if f.path else f.message
            for f in parsed.field_errors
            if f.message or f.path
        ]
        return "; ".join(parts)
    return parsed.message


def classify_response(
    table: ErrorTable, response: httpx2.Response, *, method: str | None = None
) -> ConnectorError:
    """The contract error for a non-success ``response`` (see the module docstring)."""
    verb = (method or response.request.method).upper()
    decision = decide(verb, outcome_of_response(response))
    parsed = table.parse(read_body(response))
    found = table.find(response.status_code, parsed)
    text = erp_text(parsed)
    if found is not None:
        rule, hit = found
        cls = rule.error
        hint = rule.hint.format(
            path=hit.path if hit else "",
            code=hit.code if hit else parsed.code,
            value=hit.value if hit else "",
            line=line_of(hit.path) if hit else "",
            erp_text=text,
        )
    else:
        cls = error_class(
            decision.verdict if decision.verdict is not Verdict.OK else Verdict.PERMANENT
        )
        hint = ""
    where = response.request.url.path
    message = f"{table.erp} refused {verb} {where}: {decision.reason}"
    if text:
        message = f"{table.erp} refused {verb} {where} (HTTP {response.status_code}): {text}"
    if issubclass(cls, Transient):
        retry_after = decision.retry_after
        if retry_after is None and table.server_wait is not None:
            retry_after = table.server_wait(response)
        return cls(
            message,
            retry_after=retry_after,
            erp_text=text,
            hint=hint,
            status=response.status_code,
        )
    return cls(
        message,
        erp_text=text,
        hint=hint,
        status=response.status_code,
        field_errors=parsed.field_errors,
        missing_products=_missing_products(found[0], response.status_code, parsed)
        if found is not None
        else (),
    )


def _missing_products(rule: ErrorRule, status: int, parsed: ParsedError) -> tuple[str, ...]:
    """The product numbers named by every field error ``rule`` matches (one per line)."""
    if not rule.missing_product:
        return ()
    return tuple(
        sorted(
            {
                f.value
                for f in parsed.field_errors
                if f.value and rule.match(status, ParsedError(field_errors=(f,))) is not None
            }
        )
    )
