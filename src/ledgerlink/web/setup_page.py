"""Connection setup (issue 14 item 5, for admins), driven by the spec table: the connect form
has a field per :class:`~ledgerlink.connectors.spec.SetupField` of the ERP's spec (a secret
one is a password input, never filled in again: "stored" when the connection has it), and
the setup page lists the steps of :func:`ledgerlink.sync.connections.setup_steps`, each a
check mark: connect, verify, the company/division where the spec has such a field, import
product numbers, principles and defaults, customer master, automatic transfer, activate; and
reset, after a confirmation.

Connecting with OAuth2 sends the browser to the ERP's authorize page; the ERP sends it back
to ``/connections/oauth/callback``, which checks the state and completes the code exchange
(:func:`ledgerlink.sync.connections.finish_oauth_connect`, the CLI's flow with its own
callback instead of a loopback receiver). What the callback needs meanwhile — the state, and
the setup values with the app's client secret — stays in this process's memory for a few
minutes, bound to the admin who started it; never in a page or a cookie.

No ERP is named here: every difference between ERPs comes from their specs.
"""

from __future__ import annotations

import hmac
import secrets as secrets_module
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ledgerlink.connectors.contract import ConnectionInfo, ConnectorError
from ledgerlink.connectors.registry import SPECS, all_specs, spec_for
from ledgerlink.connectors.spec import ConnectorSpec, CredentialKind, FieldTarget, SetupField
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.transfers import Connection, CustomerMaster, ProductNumberPrinciples
from ledgerlink.sync import connections
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.oauth import PendingAuthorization
from ledgerlink.sync.registry import erp_title
from ledgerlink.sync.secrets import SecretBox, SecretKeyError
from ledgerlink.web.auth import Admin

if TYPE_CHECKING:
    from ledgerlink.web.console import Console
    from ledgerlink.web.users import Principal

_T = TypeVar("_T")

#: What an OAuth2 connect in progress is kept for (the user logs in at the ERP meanwhile).
GRANT_LIFETIME = 15 * 60.0
#: The principle fields of the principles step: the line kinds a number is sent for.
PRINCIPLE_KINDS = tuple(k.value for k in LineKind if k is not LineKind.TEXT)


def erp_call(work: Callable[[], _T], erp: str) -> _T:
    """Run a use-case that talks to the ERP; the ERP's refusal becomes the page's message
    (what went wrong, the ERP's own text, what to do)."""
    try:
        return work()
    except ConnectorError as error:
        raise ValidationError(f"{erp}: {error}") from None


# OAuth2 connects waiting for the ERP's redirect ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A connect waiting for the ERP's redirect: who started it, for which legal entity and
    ERP, the setup values (holding the app's secrets), and either the pending OAuth2
    authorization or (a spec's own grant flow) the state its answer must carry."""

    user_id: int
    erp: str
    legal_entity_id: int
    values: Mapping[str, str]
    pending: PendingAuthorization | None = None
    state: str = ""
    new: bool
    started: float = field(default_factory=time.monotonic)


class Grants:
    """The connects in progress of this app, by the key their answer carries (the OAuth2
    state, or the ``grant`` parameter of a grant flow's redirect address)."""

    def __init__(self, lifetime: float = GRANT_LIFETIME) -> None:
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._by_key: dict[str, Grant] = {}

    def keep(self, key: str, grant: Grant) -> None:
        with self._lock:
            self._drop_expired()
            self._by_key[key] = grant

    def take(self, key: str, user_id: int) -> Grant | None:
        """The grant ``user_id`` started under ``key`` (used once), or None."""
        with self._lock:
            self._drop_expired()
            grant = self._by_key.get(key) if key else None
            if grant is None or grant.user_id != user_id:
                return None
            del self._by_key[key]
            return grant

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, g in self._by_key.items() if now - g.started > self._lifetime]:
            del self._by_key[key]


# the connect form ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormField:
    """A setup field as the form shows it: ``value`` is never a secret's; ``stored`` says the
    connection has the secret already (left empty, it is kept)."""

    spec: SetupField
    kind: str  # text, password, select, textarea
    value: str
    stored: bool

    @property
    def required(self) -> bool:
        return self.spec.required and not self.stored


def _stored_credentials(secrets: SecretBox, connection: Connection | None) -> dict[str, str]:
    if connection is None or not connection.credentials:
        return {}
    try:
        return secrets.open(connection.credentials)
    except SecretKeyError:
        return {}


def form_fields(
    spec: ConnectorSpec, connection: Connection | None, stored: Mapping[str, str]
) -> list[FormField]:
    fields = []
    for setup in spec.setup:
        if setup.secret:
            fields.append(FormField(setup, "password", "", bool(stored.get(setup.name))))
            continue
        current = ""
        if setup.target is FieldTarget.SETTING and connection is not None:
            current = str(connection.settings.get(setup.name) or "")
        elif setup.target is FieldTarget.CREDENTIAL:
            current = stored.get(setup.name, "")
        value = current or setup.default or ""
        kind = "select" if setup.choices else "textarea" if setup.from_file else "text"
        fields.append(FormField(setup, kind, value, False))
    return fields


def form_values(
    spec: ConnectorSpec, form: Mapping[str, Any], stored: Mapping[str, str]
) -> dict[str, str]:
    """The setup values a connect form gives: a secret left empty keeps the stored one, an
    empty field takes its default; required fields and choices are checked."""
    values: dict[str, str] = {}
    for setup in spec.setup:
        raw = form.get(setup.name)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text and setup.secret:
            text = stored.get(setup.name, "")
        if not text:
            text = setup.default or ""
        if setup.required and not text:
            raise ValidationError(f"'{setup.label}' is required for {spec.display_name}")
        if text and setup.choices and text not in setup.choices:
            raise ValidationError(
                f"'{setup.label}' must be one of: {', '.join(setup.choices)}, not '{text}'"
            )
        if text:
            values[setup.name] = text
    return values


def _connect_with_grant(
    engine: Engine, secrets: SecretBox, spec: ConnectorSpec, grant: Grant, query: Mapping[str, str]
) -> tuple[Connection, ConnectionInfo]:
    """Connect with the credential a spec's grant flow answered (its state checked)."""
    flow = spec.authorize
    if flow is None:
        raise ValidationError(f"{spec.display_name} has no grant flow")
    if grant.state and not hmac.compare_digest(
        query.get("state", "").encode(), grant.state.encode()
    ):
        raise ValidationError(
            f"the answer from {spec.display_name} does not belong to this connect; start again"
        )
    try:
        granted = flow.complete(query)
    except ValueError as error:
        raise ValidationError(f"{spec.display_name} was not connected: {error}") from None
    credentials, settings = spec.split(grant.values)
    return connections.connect(
        engine,
        secrets,
        legal_entity_id=grant.legal_entity_id,
        erp=spec.name,
        credentials={**credentials, **granted},
        settings=settings,
        active=False if grant.new else None,
    )


# routes -------------------------------------------------------------------------------------------


def to_setup(connection_id: int, done: str) -> Response:
    """Back to the setup page, saying what was done."""
    return RedirectResponse(
        f"/connections/{connection_id}/setup?{urlencode({'done': done})}", status_code=303
    )


def add_routes(router: APIRouter, console: Console, secrets: SecretBox) -> None:
    _form_routes(router, console, secrets)
    _connect_routes(router, console, secrets)
    _step_routes(router, console, secrets)


def _form_routes(router: APIRouter, console: Console, secrets: SecretBox) -> None:
    @router.get("/connections", response_class=HTMLResponse, include_in_schema=False)
    def connections_page(request: Request, principal: Admin) -> HTMLResponse:
        with console.uow() as uow:
            entities = uow.legal_entities.list()
        return console.page(
            request,
            "connections.html",
            principal,
            connections=console.connections(),
            specs=all_specs(),
            entities=entities,
        )

    @router.get("/connections/new", response_class=HTMLResponse, include_in_schema=False)
    def connect_form(request: Request, principal: Admin) -> HTMLResponse:
        spec = spec_for(request.query_params.get("erp", ""))
        with console.uow() as uow:
            entities = uow.legal_entities.list()
        chosen = request.query_params.get("legal_entity", "")
        entity_id = int(chosen) if chosen.isdigit() else (entities[0].id if entities else None)
        connection = None
        if entity_id is not None:
            with console.uow() as uow:
                connection = uow.connections.find(entity_id, spec.name)
        stored = _stored_credentials(secrets, connection)
        return console.page(
            request,
            "connect.html",
            principal,
            spec=spec,
            oauth=spec.credential_kind is CredentialKind.OAUTH2,
            callback=str(request.url_for("oauth_callback")),
            fields=form_fields(spec, connection, stored),
            entities=entities,
            entity_id=entity_id,
            connection=connection,
        )


def _connect_routes(router: APIRouter, console: Console, secrets: SecretBox) -> None:
    engine = console.engine
    grants = Grants()

    def to_erp(request: Request, principal: Principal, spec: ConnectorSpec, url: str) -> Response:
        # A page that goes on to the ERP, not a redirect: the console's CSP allows forms to
        # submit only to itself, and browsers apply that to a redirect after a submission.
        return console.page(request, "grant.html", principal, erp=spec.display_name, url=url)

    @router.post("/connections/new", include_in_schema=False)
    async def connect(request: Request, principal: Admin) -> Response:
        form = await request.form()
        spec = spec_for(str(form.get("erp") or ""))
        entity = str(form.get("legal_entity") or "")
        if not entity.isdigit():
            raise ValidationError("choose the legal entity to connect")
        entity_id = int(entity)
        with console.uow() as uow:
            uow.legal_entities.get(entity_id)
            earlier = uow.connections.find(entity_id, spec.name)
        values = form_values(spec, form, _stored_credentials(secrets, earlier))
        # A new connection stays disabled until its setup is done and an admin activates it.
        active = False if earlier is None else None
        grant = Grant(
            user_id=require_id(principal.user),
            erp=spec.name,
            legal_entity_id=entity_id,
            values=values,
            new=earlier is None,
        )
        callback = str(request.url_for("oauth_callback"))
        if spec.credential_kind is CredentialKind.OAUTH2:
            pending = connections.begin_oauth_connect(spec, values, redirect_uri=callback)
            grants.keep(pending.state, replace(grant, pending=pending))
            return to_erp(request, principal, spec, pending.url)
        credentials, settings = spec.split(values)
        flow = spec.authorize
        if flow is not None and not credentials.get(flow.credential):
            # The spec's own grant flow: its answer comes back to our callback, which the
            # ``grant`` key in the address ties to this connect.
            key = secrets_module.token_urlsafe(24)
            try:
                asked = flow.begin(values, f"{callback}?{urlencode({'grant': key})}")
            except ValueError as error:
                raise ValidationError(f"{spec.display_name}: {error}") from None
            grants.keep(key, replace(grant, state=asked.state))
            return to_erp(request, principal, spec, asked.url)
        connection, info = await run_in_threadpool(
            erp_call,
            lambda: connections.connect(
                engine,
                secrets,
                legal_entity_id=entity_id,
                erp=spec.name,
                credentials=credentials,
                settings=settings,
                active=active,
            ),
            spec.display_name,
        )
        return to_setup(
            require_id(connection),
            f"connected to {spec.display_name} {spec.account_label} {info.account_id} "
            f"({info.company_name})",
        )

    @router.get("/connections/oauth/callback", include_in_schema=False)
    async def oauth_callback(request: Request, principal: Admin) -> Response:
        query = dict(request.query_params)
        key = query.get("grant") or query.get("state", "")
        grant = grants.take(key, require_id(principal.user))
        if grant is None:
            raise ValidationError(
                "this answer belongs to no connect in progress here (it expired, was already "
                "used, or was started by another user); start connecting again"
            )
        spec = SPECS[grant.erp]
        pending = grant.pending
        if pending is not None:
            connection, info = await run_in_threadpool(
                erp_call,
                lambda: connections.finish_oauth_connect(
                    engine,
                    secrets,
                    spec,
                    grant.values,
                    pending=pending,
                    callback=query,
                    legal_entity_id=grant.legal_entity_id,
                    active=False if grant.new else None,
                ),
                spec.display_name,
            )
        else:
            connection, info = await run_in_threadpool(
                erp_call,
                lambda: _connect_with_grant(engine, secrets, spec, grant, query),
                spec.display_name,
            )
        return to_setup(
            require_id(connection),
            f"connected to {spec.display_name} {spec.account_label} {info.account_id} "
            f"({info.company_name})",
        )


def _step_routes(router: APIRouter, console: Console, secrets: SecretBox) -> None:
    engine = console.engine

    def erp_of(connection_id: int) -> str:
        return erp_title(console.connection(connection_id).erp)

    @router.get(
        "/connections/{connection_id}/setup", response_class=HTMLResponse, include_in_schema=False
    )
    def setup_page(request: Request, connection_id: int, principal: Admin) -> HTMLResponse:
        connection = console.connection(connection_id)
        spec = SPECS.get(connection.erp)
        steps = connections.setup_steps(engine, connection_id)
        with console.uow() as uow:
            entity = uow.legal_entities.get(connection.legal_entity_id)
        return console.page(
            request,
            "setup.html",
            principal,
            connection=connection,
            spec=spec,
            entity=entity,
            steps={s.name: s for s in steps},
            step_list=steps,
            account=connections.account_setting(spec),
            products=connections.list_products(engine, connection_id),
            principles=connections.show_principles(engine, connection_id),
            own_principles=connection.principles.to_json(),
            principle_kinds=PRINCIPLE_KINDS,
            modes=sorted(m.value for m in connections.customer_master_modes(engine, connection)),
            done=request.query_params.get("done", ""),
        )

    @router.post("/connections/{connection_id}/verify", include_in_schema=False)
    async def verify(connection_id: int, principal: Admin) -> Response:
        _, info = await run_in_threadpool(
            erp_call,
            lambda: connections.verify(engine, secrets, connection_id),
            erp_of(connection_id),
        )
        return to_setup(connection_id, f"verified: {info.company_name} ({info.account_id})")

    @router.post("/connections/{connection_id}/account", include_in_schema=False)
    async def choose_account(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        chosen = connections.account_setting(SPECS.get(console.connection(connection_id).erp))
        if chosen is None:
            raise ValidationError("this ERP has nothing to choose: its credentials open one")
        value = str(form.get("value") or "").strip()
        if not value:
            raise ValidationError(f"give the {chosen.name} to use")
        _, info = await run_in_threadpool(
            erp_call,
            lambda: connections.verify(
                engine, secrets, connection_id, settings={chosen.name: value}
            ),
            erp_of(connection_id),
        )
        return to_setup(
            connection_id, f"{chosen.name} {value} chosen: {info.company_name} ({info.account_id})"
        )

    @router.post("/connections/{connection_id}/products", include_in_schema=False)
    async def import_products(connection_id: int, principal: Admin) -> Response:
        report = await run_in_threadpool(
            erp_call,
            lambda: connections.import_products(engine, connection_id),
            erp_of(connection_id),
        )
        said = (
            f"{report.total} product numbers imported ({report.changed} new or changed, "
            f"{report.removed} removed)"
        )
        return to_setup(connection_id, " ".join([said, *report.warnings]))

    @router.post("/connections/{connection_id}/principles", include_in_schema=False)
    async def principles(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        by_kind = {
            LineKind(kind): str(form.get(kind) or "").strip()
            for kind in PRINCIPLE_KINDS
            if str(form.get(kind) or "").strip()
        }
        chosen = ProductNumberPrinciples(
            by_kind=by_kind, default=str(form.get("default") or "").strip()
        )
        await run_in_threadpool(
            lambda: connections.configure(engine, connection_id, principles=chosen)
        )
        return to_setup(connection_id, "product-number principles saved")

    @router.post("/connections/{connection_id}/customer-master", include_in_schema=False)
    async def customer_master(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        value = str(form.get("customer_master") or "")
        try:
            mode = CustomerMaster(value)
        except ValueError:
            raise ValidationError(f"'{value}' is not a customer master mode") from None
        await run_in_threadpool(connections.set_customer_master, engine, connection_id, mode)
        return to_setup(connection_id, f"customer master: {mode.value}")

    @router.post("/connections/{connection_id}/automatic", include_in_schema=False)
    async def automatic(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        on = str(form.get("automatic") or "") == "true"
        await run_in_threadpool(
            lambda: connections.configure(engine, connection_id, automatic_transfer=on)
        )
        return to_setup(
            connection_id, "invoices transfer when posted" if on else "invoices transfer on request"
        )

    @router.post("/connections/{connection_id}/activate", include_in_schema=False)
    async def activate(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        on = str(form.get("active") or "true") != "false"
        await run_in_threadpool(lambda: connections.activate(engine, connection_id, active=on))
        return to_setup(connection_id, "integration active" if on else "integration disabled")

    @router.post("/connections/{connection_id}/reset", include_in_schema=False)
    async def reset(request: Request, connection_id: int, principal: Admin) -> Response:
        form = await request.form()
        connection = console.connection(connection_id)
        if str(form.get("confirm") or "") != "yes":
            return console.page(request, "reset.html", principal, connection=connection)
        await run_in_threadpool(connections.reset, engine, secrets, connection_id)
        return to_setup(
            connection_id,
            "the connection was reset: its credentials are forgotten and the integration is "
            "disabled; connect again to go on",
        )
