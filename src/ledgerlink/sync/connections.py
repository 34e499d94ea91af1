"""Setting a connection up: connect and verify, settings, product numbers and principles,
customer master and linking (design §1.1 of each fact sheet)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledgerlink.connectors._kit.oauth import OAuthClient
from ledgerlink.connectors.contract import (
    Capabilities,
    ConnectionInfo,
    ConnectorError,
    ErpCustomer,
)
from ledgerlink.connectors.registry import SPECS
from ledgerlink.connectors.spec import TOKEN_REF, ConnectorSpec, FieldTarget, SetupField
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import NotFoundError, ValidationError
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.parties import Address, Customer
from ledgerlink.domain.transfers import (
    Connection,
    CustomerMaster,
    EntityType,
    ProductNumberPrinciples,
    TransferView,
)
from ledgerlink.store.integration import ProductNumber
from ledgerlink.store.relay import RelayStore
from ledgerlink.store.tokens import TokenStore
from ledgerlink.sync import table
from ledgerlink.sync.agents import agent_of, enrol
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.oauth import (
    AuthorizationFailed,
    LoopbackReceiver,
    PendingAuthorization,
    authorize_via_loopback,
    begin_authorization,
    complete_authorization,
)
from ledgerlink.sync.registry import erp_title
from ledgerlink.sync.secrets import SecretBox, SecretKeyError


def connect(
    engine: Engine,
    secrets: SecretBox,
    *,
    legal_entity_id: int,
    erp: str,
    credentials: dict[str, str],
    settings: dict[str, Any],
    customer_master: CustomerMaster | None = None,
    automatic_transfer: bool | None = None,
    active: bool | None = None,
) -> tuple[Connection, ConnectionInfo]:
    """Verify the credentials against the ERP, then store the connection (credentials
    encrypted). Nothing is stored if the ERP refuses them. A connection through a FinancialHost
    agent enrols the agent first: the verification travels through it. ``active`` False: the
    integration stays disabled until it is activated (the web console's setup)."""
    connector = engine.connectors.build(erp, credentials, settings)
    try:
        agent_id = agent_of(settings)
        relay = engine.connectors.environment.service("relay", RelayStore)
        if agent_id and relay is not None:
            enrol(relay, secrets, agent_id, credentials)
        info = connector.verify()
        if customer_master is not None and customer_master not in (
            connector.capabilities.customer_master_modes
        ):
            modes = ", ".join(sorted(m.value for m in connector.capabilities.customer_master_modes))
            raise ValidationError(
                f"{erp} supports customer master {modes}, not {customer_master.value}"
            )
    finally:
        connector.close()
    with engine.uow() as uow:
        connection = uow.connections.find(legal_entity_id, erp) or Connection(
            legal_entity_id=legal_entity_id, erp=erp, credentials=""
        )
        connection.credentials = secrets.seal(credentials)
        connection.settings = {**connection.settings, **settings}
        if customer_master is not None:
            connection.customer_master = customer_master
        if automatic_transfer is not None:
            connection.automatic_transfer = automatic_transfer
        if active is not None:
            connection.active = active
        connection.account_id = info.account_id
        connection.company_name = info.company_name
        connection.verified_at = datetime.now(UTC)
        uow.connections.save(connection)
        uow.commit()
    return connection, info


def connect_with_oauth(
    engine: Engine,
    secrets: SecretBox,
    spec: ConnectorSpec,
    values: Mapping[str, str],
    *,
    legal_entity_id: int,
    show_url: Callable[[str], None],
    timeout: float = 300.0,
    port: int = 0,
    extra_settings: Mapping[str, Any] | None = None,
    customer_master: CustomerMaster | None = None,
    automatic_transfer: bool | None = None,
) -> tuple[Connection, ConnectionInfo]:
    """Connect an OAuth2 ERP from a command line: the authorization-code flow on a loopback
    redirect (the user opens the printed URL and grants access), the tokens kept encrypted in
    the token store under a new credential id, then :func:`connect` verifies and stores the
    connection with that id as its ``token_ref``. Nothing is kept if any of it fails.
    Connecting again replaces the connection's tokens: the earlier grant's are deleted."""
    if spec.oauth is None:
        raise ValidationError(f"{spec.display_name} does not connect with OAuth2")
    credential_id = f"{spec.name}:{uuid.uuid4().hex}"
    store = TokenStore(engine.database, secrets)
    with OAuthClient(spec.oauth(values)) as client:
        try:
            authorize_via_loopback(
                client,
                store,
                credential_id=credential_id,
                show_url=show_url,
                timeout=timeout,
                port=port,
            )
        except AuthorizationFailed as error:
            raise ValidationError(f"{spec.display_name} was not connected: {error}") from None
    return _connect_granted(
        engine,
        secrets,
        spec,
        values,
        credential_id,
        legal_entity_id=legal_entity_id,
        extra_settings=extra_settings,
        customer_master=customer_master,
        automatic_transfer=automatic_transfer,
    )


def _connect_granted(
    engine: Engine,
    secrets: SecretBox,
    spec: ConnectorSpec,
    values: Mapping[str, str],
    credential_id: str,
    *,
    legal_entity_id: int,
    extra_settings: Mapping[str, Any] | None = None,
    customer_master: CustomerMaster | None = None,
    automatic_transfer: bool | None = None,
    active: bool | None = None,
) -> tuple[Connection, ConnectionInfo]:
    """:func:`connect` with the tokens just stored under ``credential_id``; on failure the
    tokens are deleted, on success the connection's earlier ones."""
    credentials, settings = spec.split(values)
    store = TokenStore(engine.database, secrets)
    replaced = _token_ref(engine, secrets, legal_entity_id, spec.name)
    try:
        connected = connect(
            engine,
            secrets,
            legal_entity_id=legal_entity_id,
            erp=spec.name,
            credentials={**credentials, TOKEN_REF: credential_id},
            settings={**settings, **(extra_settings or {})},
            customer_master=customer_master,
            automatic_transfer=automatic_transfer,
            active=active,
        )
    except Exception:
        store.delete(credential_id)
        raise
    if replaced and replaced != credential_id:
        store.delete(replaced)
    return connected


def begin_oauth_connect(
    spec: ConnectorSpec, values: Mapping[str, str], *, redirect_uri: str
) -> PendingAuthorization:
    """Start connecting an OAuth2 ERP from a web page: the ERP's authorize URL to send the
    browser to, with the state (and PKCE verifier) to keep until the redirect arrives at
    ``redirect_uri`` (:func:`finish_oauth_connect`)."""
    if spec.oauth is None:
        raise ValidationError(f"{spec.display_name} does not connect with OAuth2")
    try:
        config = spec.oauth(values)
    except KeyError as error:
        raise ValidationError(f"{spec.display_name} needs {error.args[0]} to connect") from None
    with OAuthClient(config) as client:
        return begin_authorization(
            client,
            credential_id=f"{spec.name}:{uuid.uuid4().hex}",
            redirect_uri=redirect_uri,
        )


def finish_oauth_connect(
    engine: Engine,
    secrets: SecretBox,
    spec: ConnectorSpec,
    values: Mapping[str, str],
    *,
    pending: PendingAuthorization,
    callback: Mapping[str, str],
    legal_entity_id: int,
    active: bool | None = None,
) -> tuple[Connection, ConnectionInfo]:
    """Finish :func:`begin_oauth_connect` with the redirect's query: check the state, trade
    the code for tokens (kept in the token store), then verify and store the connection as
    :func:`connect_with_oauth` does. Nothing is kept if any of it fails."""
    if spec.oauth is None:
        raise ValidationError(f"{spec.display_name} does not connect with OAuth2")
    store = TokenStore(engine.database, secrets)
    with OAuthClient(spec.oauth(values)) as client:
        try:
            complete_authorization(client, store, pending, callback)
        except (AuthorizationFailed, ConnectorError) as error:
            raise ValidationError(f"{spec.display_name} was not connected: {error}") from None
    return _connect_granted(
        engine,
        secrets,
        spec,
        values,
        pending.credential_id,
        legal_entity_id=legal_entity_id,
        active=active,
    )


def _token_ref(engine: Engine, secrets: SecretBox, legal_entity_id: int, erp: str) -> str | None:
    """The ``token_ref`` of the entity's connection to ``erp``, if it has one that opens."""
    with engine.uow() as uow:
        earlier = uow.connections.find(legal_entity_id, erp)
    if earlier is None or not earlier.credentials:
        return None
    try:
        return secrets.open(earlier.credentials).get(TOKEN_REF)
    except SecretKeyError:
        return None  # sealed with another key: connecting again is how that is mended


def grant_via_loopback(
    spec: ConnectorSpec,
    values: Mapping[str, str],
    *,
    show_url: Callable[[str], None],
    timeout: float = 300.0,
) -> dict[str, str]:
    """Obtain the credential of ``spec``'s authorize flow for a command line: the user opens
    the printed URL and grants access; the ERP's redirect arrives on a loopback address.
    Returns the credentials the flow produced (the web console completes the same flow on
    its own callback route with :meth:`AuthorizeFlow.complete`)."""
    flow = spec.authorize
    if flow is None:
        raise ValidationError(f"{spec.display_name} has no grant flow; give every credential")
    with LoopbackReceiver(path="/granted") as receiver:
        request = flow.begin(values, receiver.redirect_uri)
        if request.state:
            receiver.expect(request.state)
        show_url(request.url)
        try:
            query = receiver.wait(timeout)
        except AuthorizationFailed as error:
            raise ValidationError(f"no grant arrived: {error}; run the command again") from None
    try:
        return flow.complete(query)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def configure(
    engine: Engine,
    connection_id: int,
    *,
    settings: dict[str, Any] | None = None,
    principles: ProductNumberPrinciples | None = None,
    customer_master: CustomerMaster | None = None,
    automatic_transfer: bool | None = None,
) -> Connection:
    """Change settings, principles, customer master or automatic transfer."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        if settings:
            connection.settings = {**connection.settings, **settings}
        if principles is not None:
            known = {p.number for p in uow.product_numbers.list(connection_id)}
            wanted = {*principles.by_kind.values(), principles.default} - {""}
            unknown = sorted(wanted - known) if known else []
            if unknown:
                raise ValidationError(
                    f"product number(s) {', '.join(unknown)} are not among the "
                    f"{len(known)} imported from {erp_title(connection.erp)}; import product "
                    "numbers again or pick one of them"
                )
            connection.principles = principles
        if customer_master is not None:
            connection.customer_master = customer_master
        if automatic_transfer is not None:
            connection.automatic_transfer = automatic_transfer
        uow.connections.save(connection)
        uow.commit()
    return connection


@dataclass(frozen=True, slots=True)
class ProductImport:
    """What a product-number import did. ``warnings`` name each number the ERP no longer has
    that a principle or a document waiting to be transferred still uses."""

    total: int
    changed: int
    removed: int
    warnings: tuple[str, ...] = ()


def import_products(engine: Engine, connection_id: int) -> ProductImport:
    """Replace the stored product numbers with the ERP's, and warn about removed numbers
    still in use (the transfers that use them would fail)."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        before = {p.number for p in uow.product_numbers.list(connection_id)}
    connector = engine.connectors(connection)
    products = connector.products()
    with engine.uow() as uow:
        changed, removed = uow.product_numbers.replace_all(
            connection_id,
            [ProductNumber(p.number, p.name, p.unit, p.department, p.barred) for p in products],
        )
        uow.commit()
    gone = before - {p.number for p in products}
    warnings = _removed_in_use(engine, connection, gone) if gone else ()
    return ProductImport(len(products), changed, removed, warnings)


def _removed_in_use(engine: Engine, connection: Connection, gone: set[str]) -> tuple[str, ...]:
    erp = erp_title(connection.erp)
    uses = principle_uses(connection.principles)
    waiting: dict[str, list[str]] = {}
    rows = table.transfer_table(
        engine,
        require_id(connection),
        table.TableFilter(views=(TransferView.NON_TRANSFERRED, TransferView.FAILED)),
    )
    for row in rows:
        for number in connection.principles.numbers_for(row.invoice):
            waiting.setdefault(number, []).append(str(row.invoice.number))
    warnings = []
    for number in sorted(gone):
        users = [f"the {name} principle" for name in uses.get(number, ())]
        if number in waiting:
            documents = waiting[number]
            users.append(f"document{'s' * (len(documents) > 1)} {', '.join(documents)}")
        if users:
            warnings.append(
                f"product number {number} was removed in {erp} but is still used by "
                f"{' and '.join(users)}: choose another with 'ledgerlink connections "
                f"principles', or create it again in {erp}"
            )
    return tuple(warnings)


def principle_uses(principles: ProductNumberPrinciples) -> dict[str, tuple[str, ...]]:
    """Product number → the principles that name it (line kinds, ``default``)."""
    uses: dict[str, list[str]] = {}
    for name, number in principles.to_json().items():
        if number:
            uses.setdefault(number, []).append(name)
    return {number: tuple(names) for number, names in uses.items()}


@dataclass(frozen=True, slots=True)
class ImportedProduct:
    """An imported product number and the principles that use it."""

    number: str
    name: str
    unit: str
    barred: bool
    principles: tuple[str, ...]


def list_products(engine: Engine, connection_id: int) -> list[ImportedProduct]:
    """The connection's imported product numbers, each with the principles that use it."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        stored = uow.product_numbers.list(connection_id)
    uses = principle_uses(connection.principles)
    return [
        ImportedProduct(p.number, p.name, p.unit, p.barred, uses.get(p.number, ())) for p in stored
    ]


@dataclass(frozen=True, slots=True)
class PrincipleRow:
    """One product-number principle: a line kind (or ``default``), the number its lines are
    sent with (``from_default`` when the default serves it; ``""`` when none) and whether
    that number is among the imported ones (its name if so)."""

    kind: str
    number: str
    from_default: bool
    imported: bool
    product_name: str


def show_principles(engine: Engine, connection_id: int) -> list[PrincipleRow]:
    """The connection's principles, one row per line kind and one for the default."""
    with engine.uow() as uow:
        principles = uow.connections.get(connection_id).principles
        names = {p.number: p.name for p in uow.product_numbers.list(connection_id)}
    own = {k.value: principles.by_kind.get(k, "") for k in LineKind if k is not LineKind.TEXT}
    own["default"] = principles.default
    rows = []
    for kind, number in own.items():
        sent = number or principles.default
        # Without an import there is nothing to check against (as the transfer does).
        imported = not sent or not names or sent in names
        rows.append(PrincipleRow(kind, sent, sent != number, imported, names.get(sent, "")))
    return rows


@dataclass
class CustomerImport:
    """What a customer import did."""

    linked: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (number, reason)
    unchanged: int = 0


def import_customers(engine: Engine, connection_id: int) -> CustomerImport:
    """Read the ERP's customers (incrementally) and link each to the PSA customer with the
    same number; with customer master ``erp`` create the missing ones in the PSA. Rows that
    cannot be created are reported, not lost: the cursor only moves past a batch whose rows
    were all handled."""
    report = CustomerImport()
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        cursor = uow.cursors.get(connection_id, "customers")
    connector = engine.connectors(connection)
    while True:
        batch = connector.customers(cursor)
        with engine.uow() as uow:
            for erp_customer in batch.items:
                _link_customer(uow, connection, erp_customer, report)
            if batch.cursor is not None:
                uow.cursors.set(connection_id, "customers", batch.cursor)
            uow.commit()
        cursor = batch.cursor
        if not batch.more:
            return report


def _link_customer(
    uow: Any, connection: Connection, erp: ErpCustomer, report: CustomerImport
) -> None:
    connection_id = require_id(connection)
    local = uow.customers.by_number(connection.legal_entity_id, erp.number)
    if local is None:
        if connection.customer_master is CustomerMaster.PSA:
            report.rejected.append(
                (erp.number, "not in the PSA (customer master is the PSA; create it there)")
            )
            return
        try:
            local = Customer(
                legal_entity_id=connection.legal_entity_id,
                number=erp.number,
                name=erp.name,
                address=Address(
                    lines=erp.address_lines,
                    postal_code=erp.postal_code,
                    city=erp.city,
                    country=erp.country,
                ),
                vat_number=erp.vat_number,
                ean=erp.ean,
                currency=erp.currency,
                email=erp.email,
                phone=erp.phone,
                website=erp.website,
                active=not erp.barred,
            )
            with uow.savepoint():
                uow.customers.save(local)
        except ValidationError as error:
            report.rejected.append((erp.number, str(error)))
            return
        report.created.append(erp.number)
    key = uow.external_keys.get(connection_id, EntityType.CUSTOMER, require_id(local))
    if key is not None and key.external_id == erp.external_id:
        report.unchanged += 1
        return
    uow.external_keys.link(connection_id, EntityType.CUSTOMER, require_id(local), erp.external_id)
    if erp.number not in report.created:
        report.linked.append(erp.number)


# the console's setup steps ----------------------------------------------------------------------


def verify(
    engine: Engine,
    secrets: SecretBox,
    connection_id: int,
    *,
    settings: Mapping[str, Any] | None = None,
) -> tuple[Connection, ConnectionInfo]:
    """Verify the stored credentials again (with ``settings`` changed, e.g. another division
    or company: kept only if the ERP accepts them) and record what the ERP said."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
    if not connection.credentials:
        raise ValidationError(
            f"{connection.describe()} has no credentials: connect it first (the setup's first step)"
        )
    try:
        credentials = secrets.open(connection.credentials)
    except SecretKeyError:
        raise ValidationError(
            f"{connection.describe()}'s credentials were sealed with another key: connect again"
        ) from None
    return connect(
        engine,
        secrets,
        legal_entity_id=connection.legal_entity_id,
        erp=connection.erp,
        credentials=credentials,
        settings={**connection.settings, **(settings or {})},
    )


def reset(engine: Engine, secrets: SecretBox, connection_id: int) -> Connection:
    """Forget a connection's credentials (and its OAuth2 tokens) and disable it, so its setup
    starts again from connecting. Settings, product numbers, principles, customer links and
    the transfer history are kept."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
    token_ref = _token_ref(engine, secrets, connection.legal_entity_id, connection.erp)
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        connection.credentials = ""
        connection.verified_at = None
        connection.active = False
        connection.automatic_transfer = False
        connection.account_id = ""
        connection.company_name = ""
        uow.connections.save(connection)
        uow.commit()
    if token_ref:
        TokenStore(engine.database, secrets).delete(token_ref)
    return connection


def _spec_of(erp: str) -> ConnectorSpec | None:
    return SPECS.get(erp)


def account_setting(spec: ConnectorSpec | None) -> SetupField | None:
    """The setting that picks what the credentials open (a division, a company) where the
    spec has one: the setting named as the spec's ``account_label``."""
    if spec is None:
        return None
    return next((f for f in spec.fields(FieldTarget.SETTING) if f.name == spec.account_label), None)


@dataclass(frozen=True, slots=True)
class SetupStep:
    """One step of a connection's setup, a check mark when ``done``. ``required`` steps must
    be done before the integration can be activated; ``summary`` says what is set."""

    name: str
    title: str
    done: bool
    summary: str
    required: bool = True


def setup_steps(engine: Engine, connection_id: int) -> list[SetupStep]:
    """The setup steps of a connection as its ERP's spec has them (the company/division step
    only where the spec has a setting named as what the credentials open; product numbers
    only where the ERP has them), each with whether it is done."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        products = len(uow.product_numbers.list(connection_id))
    spec = _spec_of(connection.erp)
    connected = bool(connection.credentials)
    label = spec.account_label if spec else "account"
    capabilities: Capabilities | None = None
    if connected:
        capabilities = engine.connectors(connection).capabilities
    elif spec is not None:
        capabilities = spec.capabilities
    verified = connection.verified_at is not None
    steps = [
        SetupStep(
            "connect",
            "Connection established",
            connected,
            "credentials stored" if connected else "not connected",
        ),
        SetupStep(
            "verify",
            "Connection verified",
            connected and verified,
            f"{label} {connection.account_id} · {connection.company_name}"
            if connected and verified
            else "not verified",
        ),
    ]
    account_field = account_setting(spec)
    if account_field is not None:
        chosen = str(connection.settings.get(account_field.name) or "")
        steps.append(
            SetupStep(
                "account",
                f"{label.capitalize()} chosen",
                bool(chosen),
                f"{label} {chosen}" if chosen else f"no {label} chosen",
            )
        )
    if capabilities is None or capabilities.product_import:
        steps.append(
            SetupStep(
                "products",
                "Product numbers imported",
                products > 0,
                f"{products} product numbers" if products else "none imported",
            )
        )
    rows = show_principles(engine, connection_id)
    missing = [r.kind for r in rows if r.kind != "default" and (not r.number or not r.imported)]
    steps += [
        SetupStep(
            "principles",
            "Product-number principles and defaults",
            not missing,
            f"missing or not imported: {', '.join(missing)}" if missing else "every line kind set",
        ),
        SetupStep(
            "customer_master",
            "Customer master",
            True,
            f"customer master: {connection.customer_master.value}",
        ),
        SetupStep(
            "automatic",
            "Automatic transfer",
            True,
            "automatic when posted" if connection.automatic_transfer else "manual",
        ),
        SetupStep(
            "activate",
            "Integration active",
            connection.active,
            "active" if connection.active else "Integration disabled",
            required=False,
        ),
    ]
    return steps


def customer_master_modes(engine: Engine, connection: Connection) -> frozenset[CustomerMaster]:
    """The customer master modes the connection's ERP supports (its connector's capabilities
    once connected, else its spec's)."""
    if connection.credentials:
        return engine.connectors(connection).capabilities.customer_master_modes
    spec = _spec_of(connection.erp)
    return spec.capabilities.customer_master_modes if spec else frozenset({CustomerMaster.PSA})


def set_customer_master(engine: Engine, connection_id: int, mode: CustomerMaster) -> Connection:
    """Choose who creates customers, among the modes the ERP supports."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
    modes = customer_master_modes(engine, connection)
    if mode not in modes:
        supported = ", ".join(sorted(m.value for m in modes))
        raise ValidationError(
            f"{erp_title(connection.erp)} supports customer master {supported}, not {mode.value}"
        )
    return configure(engine, connection_id, customer_master=mode)


def activate(engine: Engine, connection_id: int, *, active: bool = True) -> Connection:
    """Activate the integration once every setup step is done (or disable it again)."""
    if active:
        missing = [s.title for s in setup_steps(engine, connection_id) if s.required and not s.done]
        if missing:
            raise ValidationError(
                f"the integration cannot be activated yet: {'; '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not done"
            )
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        connection.active = active
        uow.connections.save(connection)
        uow.commit()
    return connection


# customers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerLink:
    """A PSA customer and the ERP customer it is linked to on a connection (``""``: not
    linked)."""

    customer: Customer
    external_id: str

    @property
    def linked(self) -> bool:
        return bool(self.external_id)


def customer_links(engine: Engine, connection_id: int) -> list[CustomerLink]:
    """The connection's legal entity's customers, each with its link state."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        customers = uow.customers.list(connection.legal_entity_id)
        keys = uow.external_keys.for_type(connection_id, EntityType.CUSTOMER)
    return [
        CustomerLink(c, keys[require_id(c)].external_id if require_id(c) in keys else "")
        for c in customers
    ]


def link_customer(
    engine: Engine, connection_id: int, customer_number: str, erp_number: str = ""
) -> ErpCustomer:
    """Link a PSA customer to the ERP customer with ``erp_number`` (default: the same
    number), found by searching the ERP; nothing is sent to the ERP."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        customer = uow.customers.by_number(connection.legal_entity_id, customer_number)
    if customer is None:
        raise NotFoundError(f"there is no customer {customer_number}")
    wanted = erp_number.strip() or customer.number
    found = engine.connectors(connection).find_customer(wanted)
    if found is None:
        raise NotFoundError(
            f"{erp_title(connection.erp)} has no customer {wanted}: give the number the "
            f"customer has in {erp_title(connection.erp)}, or import customers"
        )
    with engine.uow() as uow:
        uow.external_keys.link(
            connection_id, EntityType.CUSTOMER, require_id(customer), found.external_id
        )
        uow.commit()
    return found


def unlink_customer(engine: Engine, connection_id: int, customer_number: str) -> bool:
    """Break a PSA customer's link on the connection (the next transfer searches again)."""
    with engine.uow() as uow:
        connection = uow.connections.get(connection_id)
        customer = uow.customers.by_number(connection.legal_entity_id, customer_number)
        if customer is None:
            raise NotFoundError(f"there is no customer {customer_number}")
        removed = uow.external_keys.unlink(connection_id, EntityType.CUSTOMER, require_id(customer))
        uow.commit()
    return removed
