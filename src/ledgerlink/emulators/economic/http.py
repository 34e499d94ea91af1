"""Request plumbing shared by the e-conomic routers: auth, errors, bodies, links, collections."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.auth import header, tokens_match
from ledgerlink.emulators._kit.jsonio import dumps, loads
from ledgerlink.emulators.economic.filters import (
    FieldKind,
    FilterError,
    SortKey,
    evaluate,
    parse_filter,
    parse_sort,
    sort_records,
)
from ledgerlink.emulators.economic.paging import PageRequest, PagingError, envelope
from ledgerlink.emulators.economic.state import Agreement, EconomicState

if TYPE_CHECKING:
    from ledgerlink.emulators.economic.emulator import EconomicEmulator

__all__ = [
    "INVALID",
    "REQUIRED",
    "ApiError",
    "Ctx",
    "RequestContext",
    "Validation",
    "answer_text",
    "decode_id",
    "encode_id",
    "json_response",
]

DEMO_TOKEN = "demo"
_ID_REPLACEMENTS = {
    "<": "_0_",
    ">": "_1_",
    "*": "_2_",
    "%": "_3_",
    ":": "_4_",
    "&": "_5_",
    "/": "_6_",
    "\\": "_7_",
    "_": "_8_",
    " ": "_9_",
    "?": "_10_",
    ".": "_11_",
    "#": "_12_",
    "+": "_13_",
}
_ID_DECODE = {value: key for key, value in _ID_REPLACEMENTS.items()}
_ENCODED = re.compile(r"_(1[0-3]|[0-9])_")
# Error codes. The docs name four, all on annotated validation errors (introduction.md): E06000
# (the referenced entity does not exist), E04740 (more than two decimals), E04500 (a reference
# without identifier), E04730 (a property that must have a value when another is set). Every
# error their examples show carries a code, but they name none for anything else, so the
# emulator picks its own, all E9xxxx (ours, not e-conomic's): E9 and the HTTP status for a whole
# answer (a 401 is E90401), REQUIRED for a missing property, INVALID for any other refused value.
REQUIRED = "E90001"
INVALID = "E90000"


def status_code(status: int) -> str:
    """The emulator's own ``errorCode`` of a whole answer with HTTP ``status``."""
    return f"E9{status:04d}"


# Roles that cannot read the master data a sales integration needs (fact sheet §1.4).
_ROLE_FORBIDDEN_PREFIXES = {"Bookkeeping": ("/customers", "/products")}


def encode_id(value: object) -> str:
    """e-conomic's self-link encoding of an id (e.g. a product number)."""
    text = "".join(_ID_REPLACEMENTS.get(char, char) for char in str(value))
    return quote(text, safe="-~")


def decode_id(value: str) -> str:
    """Inverse of :func:`encode_id` (the path is already URL-decoded)."""
    return _ENCODED.sub(lambda match: _ID_DECODE[match.group()], value)


class ApiError(Exception):
    """An error response in e-conomic's format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        hint: str | None = None,
        error_code: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        openapi: bool = False,
    ) -> None:
        super().__init__(message)
        self.openapi = openapi
        self.status = status
        self.message = message
        self.hint = hint
        self.error_code = error_code
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, log_id: int) -> dict[str, Any]:
        """The JSON body: the legacy REST format, or (``openapi``) the newer APIs' ``Error``
        model ``{message, errorCode, developerHint, property, logId, logTimeUtc}``."""
        if self.openapi:
            return {
                "message": self.message,
                "errorCode": self.error_code,
                "developerHint": self.hint,
                **self.extra,
                "logId": str(uuid.UUID(int=log_id)),
                "logTimeUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            }
        document: dict[str, Any] = {
            "message": self.message,
            "errorCode": self.error_code or status_code(self.status),
        }
        if self.hint:
            document["developerHint"] = self.hint
        document.update(self.extra)
        document["logId"] = str(uuid.UUID(int=log_id))
        document["httpStatusCode"] = self.status
        if self.errors is not None:
            document["errors"] = self.errors
        document["logTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return document


def json_response(
    document: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response with booleans that are false omitted and internal keys removed."""
    return Response(
        answer_text(strip(document)),
        status_code=status,
        media_type="application/json; charset=utf-8",
        headers=dict(headers or {}),
    )


def answer_text(document: Any) -> str:
    """The JSON text of an answer; a negative zero (``-0.00``: a credit note's zero VAT, or a
    value sent back in an error) is written ``0.00``."""
    return dumps(_unsigned_zeros(document))


def _unsigned_zeros(document: Any) -> Any:
    if isinstance(document, Decimal) and document.is_zero():
        return document.copy_abs()
    if isinstance(document, dict):
        return {key: _unsigned_zeros(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_unsigned_zeros(item) for item in document]
    return document


def strip(document: Any) -> Any:
    """Drop ``False`` booleans and ``_internal`` keys, recursively (the API's convention)."""
    if isinstance(document, dict):
        return {
            key: strip(value)
            for key, value in document.items()
            if value is not False and not key.startswith("_") and value is not None
        }
    if isinstance(document, list):
        return [strip(item) for item in document]
    return document


_MISSING = object()


class Validation:
    """Collects annotated errors shaped like the request document (``arrayIndex`` for arrays)."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(
        self,
        path: Sequence[str | int],
        message: str,
        *,
        code: str | None = None,
        value: object = _MISSING,
        hint: str | None = None,
    ) -> None:
        """Record an error on the property at ``path`` (e.g. ``("lines", 0, "unitNetPrice")``)."""
        node: dict[str, Any] = self.tree
        parts = list(path)
        for index, part in enumerate(parts[:-1]):
            following = parts[index + 1]
            if isinstance(following, int):
                array = node.setdefault(str(part), [])
                item = next((i for i in array if i.get("arrayIndex") == following), None)
                if item is None:
                    item = {"arrayIndex": following}
                    array.append(item)
                node = item
            elif isinstance(part, str):
                node = node.setdefault(part, {})
        error: dict[str, Any] = {"errorCode": code or INVALID, "message": message}
        if value is not _MISSING:
            error["value"] = value
        if hint:
            error["developerHint"] = hint
        node.setdefault(str(parts[-1]), {"errors": []})["errors"].append(error)

    def raise_if_any(self) -> None:
        """Raise the 400 validation error if anything was recorded."""
        if self.tree:
            raise ApiError(
                400,
                "Validation error.",
                hint="Inspect validation errors and correct your request.",
                errors=self.tree,
            )


@dataclass
class RequestContext:
    """What a router needs for one request: the agreement, links, the emulator."""

    request: Request
    emulator: EconomicEmulator
    agreement: Agreement
    demo: bool
    demo_query: bool

    @property
    def state(self) -> EconomicState:
        """The emulator state (its ``lock`` guards every read-modify-write)."""
        return self.emulator.state

    def url(self, path: str, query: Mapping[str, object] | None = None) -> str:
        """An absolute link, carrying ``demo=true`` when the caller used the query-string demo."""
        parameters = {key: str(value) for key, value in (query or {}).items()}
        if self.demo_query:
            parameters["demo"] = "true"
        base = str(self.request.base_url).rstrip("/")
        suffix = f"?{urlencode(parameters, safe='$:*,[]()~')}" if parameters else ""
        return f"{base}{path}{suffix}"

    def ref(self, collection: str, id_key: str, identifier: object, **extra: Any) -> dict[str, Any]:
        """A reference ``{id_key: id, **extra, "self": link}`` to a resource of ``collection``."""
        return {
            id_key: identifier,
            **extra,
            "self": self.url(f"{collection}/{encode_id(identifier)}"),
        }

    def with_self(
        self, document: Mapping[str, Any] | None, collection: str, id_key: str
    ) -> dict[str, Any] | None:
        """Copy of a stored reference with its ``self`` link added (``None`` stays ``None``)."""
        if document is None:
            return None
        return {**document, "self": self.url(f"{collection}/{encode_id(document[id_key])}")}

    def commit(self) -> None:
        """Persist the state after a write."""
        self.state.save()

    def today(self) -> str:
        """Today's date as the agreement sees it."""
        return self.agreement.settings.current_date().isoformat()

    async def body(self) -> dict[str, Any]:
        """The JSON request body (numbers with fractions as ``Decimal``); nulls are rejected."""
        raw = await self.request.body()
        try:
            document = loads(raw) if raw.strip() else {}
        except ValueError:
            raise ApiError(
                400,
                "The request body is not valid JSON.",
                hint="Send a JSON document with Content-Type: application/json.",
            ) from None
        if not isinstance(document, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        problems = Validation()
        _reject_nulls(document, (), problems)
        problems.raise_if_any()
        return document

    def collection(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        filterable: Mapping[str, FieldKind],
        sortable: Mapping[str, FieldKind] | None = None,
        default_sort: Sequence[SortKey] = (),
        meta_data: Mapping[str, Any] | None = None,
    ) -> Response:
        """Filter, sort and page ``records`` into the collection envelope."""
        query = self.request.query_params
        lowered = {key.lower(): value for key, value in query.items()}
        sortable = filterable if sortable is None else sortable
        try:
            page = PageRequest.from_query(lowered)
            selected: Sequence[Mapping[str, Any]] = records
            if lowered.get("filter"):
                expression = parse_filter(lowered["filter"], filterable)
                selected = [r for r in records if evaluate(expression, r, filterable)]
            keys = parse_sort(lowered["sort"], sortable) if lowered.get("sort") else default_sort
            selected = sort_records(selected, keys, {**sortable, **filterable})
        except (FilterError, PagingError) as problem:
            raise ApiError(
                400,
                str(problem),
                hint="See the collection's schema for filterable and sortable properties.",
            ) from None
        keep = {k: v for k, v in lowered.items() if k in ("filter", "sort")}

        def link(skip: int | None) -> str:
            if skip is None:
                extra = {k: v for k, v in lowered.items() if k != "demo"}
                return self.url(self.request.url.path, extra)
            return self.url(
                self.request.url.path, {"skippages": skip, "pagesize": page.page_size, **keep}
            )

        return json_response(
            envelope(
                selected,
                page,
                results_without_filter=len(records),
                link=link,
                meta_data=meta_data,
            )
        )


def _reject_nulls(document: Any, path: tuple[str | int, ...], problems: Validation) -> None:
    if isinstance(document, dict):
        for key, value in document.items():
            if value is None:
                problems.add(
                    (*path, key),
                    f"Property {key} cannot be null. Omit the property to clear it.",
                    value=None,
                    hint="Null is not accepted; leave the property out instead.",
                )
            else:
                _reject_nulls(value, (*path, key), problems)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            _reject_nulls(item, (*path, index), problems)


def _unauthorized(request: Request, message: str) -> ApiError:
    separator = "&" if request.url.query else "?"
    demo_link = f"{request.url}{separator}demo=true"
    return ApiError(
        401,
        message,
        hint=(
            "Specify the X-AppSecretToken and X-AgreementGrantToken headers, or try the demo "
            "link to browse the API."
        ),
        extra={"demoLink": demo_link},
    )


def authenticate(request: Request, *, admin: bool = False) -> RequestContext:
    """Resolve the agreement from the token headers (or the demo) and apply its app role; an
    ``admin`` route is let through a revoked grant and any role. (Rate limits are the
    emulator's middleware, in front of this.)"""
    emulator: EconomicEmulator = request.app.state.emulator
    state = emulator.state
    demo_query = request.query_params.get("demo", "").lower() == "true"
    app_token = header(request.headers, "X-AppSecretToken")
    grant_token = header(request.headers, "X-AgreementGrantToken")
    demo = demo_query or (app_token == DEMO_TOKEN and grant_token == DEMO_TOKEN)
    if demo:
        agreement = state.demo
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            raise ApiError(
                403,
                "The demo agreement is read-only: only GET requests are allowed.",
                hint="Use your own X-AppSecretToken and X-AgreementGrantToken to write data.",
            )
    else:
        if app_token is None or grant_token is None:
            raise _unauthorized(request, "Missing X-AppSecretToken or X-AgreementGrantToken.")
        if not tokens_match(app_token, emulator.app_secret_token):
            raise _unauthorized(request, "The X-AppSecretToken is not valid.")
        if not tokens_match(grant_token, emulator.agreement_grant_token):
            raise _unauthorized(request, "The X-AgreementGrantToken is not valid.")
        agreement = state.main
        if agreement.revoked and not admin:
            raise _unauthorized(request, "The agreement has revoked the grant for this app.")
    context = RequestContext(request, emulator, agreement, demo, demo_query)
    if admin:
        return context
    forbidden = _ROLE_FORBIDDEN_PREFIXES.get(agreement.settings.app_role, ())
    if request.url.path.startswith(forbidden):
        raise ApiError(
            403,
            f"The app role {agreement.settings.app_role} does not give access to this resource.",
            hint="The grant must be issued for an app with a role that includes this resource.",
        )
    if request.method in ("POST", "PUT", "PATCH") and not _is_json(request):
        raise ApiError(
            415,
            "Unsupported media type. Only application/json is supported.",
            hint="Set Content-Type: application/json.",
        )
    return context


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == "application/json"


async def _context(request: Request) -> RequestContext:
    return authenticate(request)


Ctx = Annotated[RequestContext, Depends(_context)]


def reference_id(document: Mapping[str, Any], key: str, id_key: str) -> tuple[bool, object | None]:
    """Read a reference given by id or self link: ``(present, id)``; id ``None`` = no identifier."""
    if key not in document:
        return False, None
    value = document[key]
    if not isinstance(value, Mapping):
        return True, None
    if id_key in value:
        return True, value[id_key]
    link = value.get("self")
    if isinstance(link, str) and link:
        return True, decode_id(link.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
    return True, None
