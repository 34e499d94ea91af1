"""The FinancialHost connector against a real FinancialHost over HTTPS (self-signed, pinned
certificate; signed requests and answers) with the in-memory ERP plugin: writes as jobs,
store-and-forward while the ERP is down, and every refusal mapped to what the caller should do.
The NAV and Visma plugins join the contract suite against their emulators later
(``tests.connectors.financialhost_support.connector_for_host`` builds the connector)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pydantic
import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ledgerlink.connectors.contract import (
    AuthExpired,
    Connector,
    ErpConnector,
    OutgoingDocument,
    Permanent,
    Transient,
)
from ledgerlink.connectors.financialhost import FinancialHostConnector, FinancialHostCredentials
from ledgerlink.connectors.financialhost.connector import OPERATIONS_USED, signed_client
from ledgerlink.domain.invoices import LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address
from ledgerlink.domain.work import Project
from ledgerlink.financialhost.tls import create_self_signed
from ledgerlink.sync.registry import ConnectorProvider
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.wire import operations as ops
from ledgerlink.wire.operations import OPERATIONS
from ledgerlink.wire.signing import SigningKey
from tests.connectors.builders import (
    contact,
    credit_note,
    customer,
    employee,
    invoice,
    outgoing,
    work_line,
)
from tests.connectors.financialhost_support import connector_for, connector_for_host
from tests.financialhost.conftest import LiveHost, start_host

# The host answers a write after at most this long; our connector then polls job.status.
HOST_SYNC_WAIT = 0.3


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHost]:
    yield from start_host(tmp_path, sync_wait_seconds=HOST_SYNC_WAIT)


@pytest.fixture
def connector(live: LiveHost) -> Iterator[FinancialHostConnector]:
    with connector_for(live, job_wait_seconds=0.3) as built:
        yield built


def document(correlation: str = "LL-NORDLYS-1001") -> OutgoingDocument:
    inv = invoice()
    products = tuple("" if line.kind is LineKind.TEXT else "WORK" for line in inv.lines)
    return outgoing(inv, correlation=correlation, customer_ref="100", line_products=products)


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_verify(connector: FinancialHostConnector) -> None:
    assert isinstance(connector, Connector)
    typed: ErpConnector = connector  # mypy checks the whole protocol
    assert typed is connector
    info = connector.verify()
    assert (info.company_name, info.account_id, info.base_currency) == (
        "Memory A/S",
        "mem",
        "DKK",
    )
    details = dict(info.details)
    assert details["erp_system"] == "memory"
    assert details["erp_version"] == "1.0"
    assert details["host_version"]
    assert details["wire_version"] == "1"


def test_a_host_serving_the_other_erp_is_refused(live: LiveHost) -> None:
    with connector_for(live, erp_system="visma") as visma:
        visma.verify()  # the memory plugin is neither ERP: nothing to compare
    live.plugin.test = lambda: ops.ConnectionInfo(  # type: ignore[method-assign]
        system="visma", company_name="Spinit AB", account_id="spinit", base_currency="SEK"
    )
    with connector_for(live, erp_system="nav") as nav, pytest.raises(Permanent) as caught:
        nav.verify()
    assert "serves Visma Administration" in caught.value.message
    assert "erp_system to 'visma'" in caught.value.hint


def test_create_find_and_update_customer(live: LiveHost, connector: FinancialHostConnector) -> None:
    assert connector.find_customer("100") is None
    created = connector.create_customer(customer())
    assert (created.external_id, created.created) == ("100", True)
    found = connector.find_customer("100")
    assert found is not None
    assert (found.external_id, found.name, found.country) == ("100", "Hansen Byg A/S", "DK")
    assert found.address_lines == ("Havnegade 1", "2. sal")

    connector.update_customer(created.external_id, customer(name="Hansen Byg Holding A/S"))
    updated = connector.find_customer("100")
    assert updated is not None and updated.name == "Hansen Byg Holding A/S"
    assert live.plugin.calls.count("upsert_customer") == 2

    # Back to the first content: a finished upsert runs again, or the ERP would keep the
    # holding name while the PSA shows the old one.
    connector.update_customer(created.external_id, customer())
    reverted = connector.find_customer("100")
    assert reverted is not None and reverted.name == "Hansen Byg A/S"
    assert live.plugin.calls.count("upsert_customer") == 3


def test_the_same_upsert_while_the_erp_is_down_is_one_job(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    live.plugin.down = True
    for _ in range(3):
        with pytest.raises(Transient):
            connector.create_customer(customer())
    assert len(live.host.queue.pending()) == 1
    live.plugin.down = False
    wait_until(lambda: not live.host.queue.pending())
    assert live.plugin.calls.count("upsert_customer") == 1


def test_create_document_returns_the_erp_totals_and_can_be_found(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    doc = document()
    assert connector.find_document(doc.correlation) is None
    created = connector.create_document(doc)
    assert created.correlation == "LL-NORDLYS-1001"
    assert created.net == Money.of("6375.00", "DKK")  # 7.5 × 850.00, as the plugin summed it
    assert created.vat == Money.of("1593.75", "DKK")
    assert created.gross == Money.of("7968.75", "DKK")
    found = connector.find_document("LL-NORDLYS-1001")
    assert found is not None
    assert (found.external_id, found.gross) == (created.external_id, created.gross)
    sent = live.plugin.drafts["LL-NORDLYS-1001"]
    assert sent.external_id == created.external_id


def test_credit_note_goes_as_a_credit_note_with_negative_totals(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    note = credit_note(work_line(quantity=Decimal("-2")))
    credited = connector.create_document(
        outgoing(note, correlation="LL-NORDLYS-1002", customer_ref="100", line_products=("WORK",))
    )
    assert credited.net == Money.of("-1700.00", "DKK")
    assert credited.gross.amount < 0


def test_a_repeated_create_document_executes_once(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    first = connector.create_document(document())
    second = connector.create_document(document())
    assert second == first
    assert live.plugin.calls.count("create_draft") == 1


def test_erp_down_then_up_the_stored_job_completes_once(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    live.plugin.down = True
    with pytest.raises(Transient) as caught:
        connector.create_document(document())
    assert caught.value.message == (
        "FinancialHost has stored the request and will send it when the ERP answers: "
        "The ERP does not answer. (ERP said: connection refused)"
    )
    assert "create_draft" not in live.plugin.calls

    live.plugin.down = False
    # The host sends the stored job by itself once the ERP answers …
    wait_until(lambda: "LL-NORDLYS-1001" in live.plugin.drafts)
    # … and the engine's next attempt gets that draft, not a second one.
    again = connector.create_document(document())
    assert again.external_id == live.plugin.drafts["LL-NORDLYS-1001"].external_id
    assert live.plugin.calls.count("create_draft") == 1


def test_a_pending_write_is_polled_until_it_is_done(live: LiveHost) -> None:
    live.plugin.down = True
    threading.Timer(0.6, lambda: setattr(live.plugin, "down", False)).start()
    with connector_for(live, job_wait_seconds=10, poll_interval_seconds=0.05) as patient:
        created = patient.create_customer(customer())
    assert created.external_id == "100"
    assert live.plugin.calls.count("upsert_customer") == 1


def test_a_read_while_the_erp_is_down_is_transient_with_the_hosts_wait(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    live.plugin.down = True
    with pytest.raises(Transient) as caught:
        connector.find_customer("100")
    assert caught.value.retry_after == 30.0
    assert caught.value.erp_text == "connection refused"
    assert caught.value.status == 503


def test_erp_rejected_customer_is_permanent_and_runs_again_once_the_erp_is_fixed(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    foreign = customer(
        address=Address(lines=("Somewhere 1",), city="Nowhere", country="AQ"),
        registration_number="",
    )
    with pytest.raises(Permanent) as caught:
        connector.create_customer(foreign)
    assert caught.value.erp_text == "Kan ej hitta angiven landskod."
    assert caught.value.hint == "Create the country."
    assert "The country does not exist." in caught.value.message

    # The user creates the country in the ERP (as the hint says) and transfers again: the
    # same content must reach the ERP, not the stored refusal.
    def upsert_now_that_aq_exists(wired: ops.WireCustomer) -> ops.PushOutcome:
        live.plugin.calls.append("upsert_customer")
        live.plugin.customers_by_number[wired.number] = wired
        return ops.PushOutcome(external_id=wired.number)

    live.plugin.upsert_customer = upsert_now_that_aq_exists  # type: ignore[method-assign,assignment]
    assert connector.create_customer(foreign).external_id == "100"
    assert live.plugin.customers_by_number["100"].country == "AQ"
    assert live.plugin.calls.count("upsert_customer") == 2


def test_wrong_secret_is_auth_expired(live: LiveHost) -> None:
    wrong = SigningKey(live.key.key_id, b"not-the-secret")
    with (
        connector_for_host(
            live.url, key=wrong, certificate_file=live.certificate.cert_file
        ) as connector,
        pytest.raises(AuthExpired) as caught,
    ):
        connector.verify()
    assert caught.value.message.startswith("FinancialHost refused our signature: ")
    assert "both clocks" in caught.value.hint
    assert live.plugin.calls == []


def test_an_unknown_operation_cannot_be_sent(live: LiveHost) -> None:
    assert set(OPERATIONS) >= OPERATIONS_USED
    with connector_for(live) as connector:
        connector.verify()
    # The host may write the verify's audit record just after answering: wait for it.
    deadline = time.monotonic() + 10
    while not any(r["event"] == "request" for r in live.host.audit.records()):
        assert time.monotonic() < deadline, "the verify was never audited"
        time.sleep(0.01)
    before = len(live.host.audit.records())
    client = signed_client(connector.settings, _credentials(live))
    try:
        with pytest.raises(ValueError, match="not a wire operation"):
            client.call("erp.sql", {"query": "DELETE FROM customers"})
    finally:
        client.close()
    assert len(live.host.audit.records()) == before  # nothing reached the host


def _credentials(live: LiveHost) -> FinancialHostCredentials:
    return FinancialHostCredentials.model_validate(
        {"key_id": live.key.key_id, "secret": live.key.secret.decode()}
    )


def test_an_operation_off_the_hosts_allow_list_is_permanent(tmp_path: Path) -> None:
    allowed = sorted(set(OPERATIONS) - {"customer.upsert"})
    for live in start_host(tmp_path, allowed_operations=allowed, sync_wait_seconds=0.3):
        with connector_for(live) as connector:
            connector.verify()
            with pytest.raises(Permanent) as caught:
                connector.create_customer(customer())
        assert caught.value.status == 403
        assert "customer.upsert" in caught.value.message
        assert "allowed_operations" in caught.value.hint
        assert "upsert_customer" not in live.plugin.calls


def test_a_stopped_host_is_transient(tmp_path: Path) -> None:
    running = start_host(tmp_path)
    live = next(running)
    with connector_for(live) as connector:
        connector.verify()
    assert next(running, None) is None  # past its yield the host stops: the port refuses
    with connector_for(live) as connector, pytest.raises(Transient) as caught:
        connector.verify()
    assert caught.value.message.startswith(f"FinancialHost at {live.url} cannot be reached")
    assert "running" in caught.value.hint


def test_another_certificate_than_the_pinned_one_is_permanent(
    live: LiveHost, tmp_path: Path
) -> None:
    other = create_self_signed(tmp_path / "other", ["127.0.0.1"])
    with (
        connector_for_host(live.url, key=live.key, certificate_file=other.cert_file) as connector,
        pytest.raises(Permanent) as caught,
    ):
        connector.verify()
    assert "TLS handshake" in caught.value.message
    assert "tls_certificate" in caught.value.hint
    assert live.plugin.calls == []


def test_http_is_refused_when_the_connector_is_built() -> None:
    with pytest.raises(pydantic.ValidationError, match="https"):
        FinancialHostConnector.from_connection(
            {"key_id": "hub-1", "secret": "s"},
            {"base_url": "http://127.0.0.1:8743", "erp_system": "nav"},
        )


def test_contact_employee_and_project_on_nav(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    assert connector.ensure_contact("100", contact()).external_id == "100:Mette Hansen"
    assert connector.ensure_employee(employee()).external_id == "AB"
    project = Project(
        legal_entity_id=1, number="P-17", name="Harbour office", customer_id=1, currency="DKK"
    )
    assert connector.ensure_project(project, "100").external_id == "P-17"
    assert live.plugin.calls == ["upsert_contact", "ensure_employee", "ensure_project"]


def test_visma_takes_no_projects_or_contacts_and_sends_nothing(live: LiveHost) -> None:
    project = Project(
        legal_entity_id=1, number="P-17", name="Harbour office", customer_id=1, currency="SEK"
    )
    with connector_for(live, erp_system="visma") as visma:
        with pytest.raises(Permanent, match="does not take projects") as caught:
            visma.ensure_project(project, "100")
        assert "Projects must exist in Visma Administration" in caught.value.hint
        with pytest.raises(Permanent, match="does not take contacts"):
            visma.ensure_contact("100", contact())
        assert visma.ensure_employee(employee()).external_id == "AB"
    assert live.plugin.calls == ["ensure_employee"]


def test_reads_return_batches_with_the_hosts_cursor(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    assert [p.number for p in connector.products()] == ["WORK"]
    for read in (connector.customers, connector.statuses, connector.expenses):
        batch = read("cursor-7")
        assert (batch.items, batch.cursor, batch.more) == ((), "cursor-7", False)


def test_changes_reported_by_the_erp_are_read(
    live: LiveHost, connector: FinancialHostConnector
) -> None:
    from ledgerlink.wire import callback

    moment = datetime.now(UTC) - timedelta(seconds=5)
    change = {
        "entry_no": 41,
        "table_id": 18,
        "table_name": "Customer",
        "record_key": "10000",
        "change_type": "Modify",
        "changed_at": moment.isoformat(),
    }
    live.host.changes.store(
        callback.CallbackBatch.model_validate({"company": "CRONUS", "changes": [change]})
    )
    first = connector.changes(None)
    assert [(c.entity, c.table_id, c.record_key, c.change) for c in first.items] == [
        ("customer", 18, "10000", "modify")
    ]
    assert first.items[0].changed_at == moment
    assert first.cursor is not None and not first.more
    assert connector.changes(first.cursor).items == ()


def test_the_registry_builds_the_connector(live: LiveHost) -> None:
    connector = ConnectorProvider(SecretBox(Fernet.generate_key())).build(
        "financialhost",
        {"key_id": live.key.key_id, "secret": live.key.secret.decode()},
        {
            "base_url": live.url,
            "erp_system": "nav",
            "tls_certificate": live.certificate.cert_file.read_text(),
        },
    )
    try:
        assert connector.verify().company_name == "Memory A/S"
        assert connector.capabilities.project_push
    finally:
        connector.close()


# mTLS ------------------------------------------------------------------------------------------


def _client_ca(directory: Path) -> tuple[Path, str, str]:
    """A CA (written to a file for the host) and a client certificate and key it signed (PEM)."""
    directory.mkdir(parents=True)
    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("hub CA"))
        .issuer_name(name("hub CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("hub-1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "client-ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return ca_file, cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_mtls_with_the_client_certificate_from_the_credentials(tmp_path: Path) -> None:
    ca_file, cert_pem, key_pem = _client_ca(tmp_path / "pki")
    for live in start_host(tmp_path, client_ca_file=ca_file):
        with connector_for(
            live, credentials={"client_certificate": cert_pem, "client_key": key_pem}
        ) as with_certificate:
            assert with_certificate.verify().company_name == "Memory A/S"
        # Without one the host ends the TLS session; under TLS 1.3 that reaches the client
        # only as a closed connection, so it cannot be told apart from a dropped one.
        with connector_for(live) as without, pytest.raises((Permanent, Transient)) as caught:
            without.verify()
        assert "mTLS" in caught.value.hint or "certificate" in caught.value.hint
        assert live.plugin.calls == ["test"]  # only the verify with the certificate got in
