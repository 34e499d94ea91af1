"""Setting a connection up: connect and verify, settings, product numbers and principles,
customer master and linking (design §1.1 of each fact sheet)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledgerlink.connectors._kit.oauth import OAuthClient
from ledgerlink.connectors.contract import ConnectionInfo, ErpCustomer
from ledgerlink.connectors.spec import TOKEN_REF, ConnectorSpec
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.errors import ValidationError
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
from ledgerlink.sync.oauth import AuthorizationFailed, LoopbackReceiver, authorize_via_loopback
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
) -> tuple[Connection, ConnectionInfo]:
    """Verify the credentials against the ERP, then store the connection (credentials
    encrypted). Nothing is stored if the ERP refuses them. A connection through a FinancialHost
    agent enrols the agent first: the verification travels through it."""
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
    credentials, settings = spec.split(values)
    credential_id = f"{spec.name}:{uuid.uuid4().hex}"
    store = TokenStore(engine.database, secrets)
    replaced = _token_ref(engine, secrets, legal_entity_id, spec.name)
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
        )
    except Exception:
        store.delete(credential_id)
        raise
    if replaced and replaced != credential_id:
        store.delete(replaced)
    return connected


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
