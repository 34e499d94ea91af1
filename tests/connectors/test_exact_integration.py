"""Exact Online end to end against the emulator over real HTTP.

Through the engine, on both databases: the Danish legal entity connects with OAuth2 (code
flow on a loopback redirect, tokens in the token store) to the Dutch division, imports the
items, and a posted EUR invoice of project P-300 (a Dutch business customer: EU reverse
charge) is transferred exactly once, its customer created, the project number as cost centre,
the totals agreeing; balancing brings back processed and paid, and then nothing. Expense
import brings each line of the division's purchase entries once, the one on cost centre P-300
to PSA project P-300, a second pull nothing new, and then only what was entered or changed.

Against the connector: each bad input the fact sheet names ends in a Permanent with a hint,
and the same document goes through once the cause is fixed; an access token that expires
mid-run is refreshed; a refresh token used twice ("Old refresh token used") and a division the
user cannot open send the user to connect again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest

from ledgerlink.connectors._kit.oauth import OAuthClient, TokenSet
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import AuthExpired, ErpConnector, Permanent
from ledgerlink.connectors.exact.spec import oauth_config
from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import TOKEN_REF, ConnectorEnvironment
from ledgerlink.connectors.testing import builders
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.invoices import Invoice, LineKind
from ledgerlink.domain.money import Money
from ledgerlink.domain.parties import Address
from ledgerlink.domain.transfers import (
    ProductNumberPrinciples,
    StepKind,
    StepStatus,
    TransferStatus,
)
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.exact import ExactEmulator, rules
from ledgerlink.emulators.exact.model import RESOURCES
from ledgerlink.emulators.exact.seed import MAIN, seed_id
from ledgerlink.psa import invoicing
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections, pulls, table
from ledgerlink.sync.engine import DeferPolicy, Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from tests.contract.registry import (
    EXACT_CLIENT,
    EXACT_SECRET,
    ExactTokens,
    exact_values,
    grant_on_emulator,
)
from tests.sample import load_sample_data

QUICK_RETRY = RetryPolicy(attempts=3, timeout=5, wait_initial=0.01, wait_max=0.05, wait_jitter=0)
PRINCIPLES = ProductNumberPrinciples(
    by_kind={
        LineKind.WORK: "WORK-DEV",
        LineKind.EXPENSE: "EXP",
        LineKind.TRAVEL: "TRAVEL",
        LineKind.MILEAGE: "MILEAGE",
    },
    default="EXP",
)
ADMIN = (EXACT_CLIENT, EXACT_SECRET)
INVOICES = "salesinvoice/SalesInvoices"


class Clock:
    """The emulator's time: now, moved on by a test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def emulator(clock: Clock | None = None) -> ExactEmulator:
    made = ExactEmulator(
        client_id=EXACT_CLIENT, client_secret=EXACT_SECRET, clock=clock or time.time
    )
    made.state.divisions[MAIN].settings.today = "2026-08-31"
    return made


def cost_centre(erp: ExactEmulator, code: str) -> None:
    """What the ERP user does by hand: a cost centre per PSA project (the seed has P-300's)."""
    with erp.state.change():
        centres = erp.state.divisions[MAIN].table(rules.COSTCENTERS).values()
        if any(centre["Code"] == code for centre in centres):
            return
        rules.create(
            erp.state.divisions[MAIN],
            RESOURCES[rules.COSTCENTERS],
            {"Code": code, "Description": code},
        )


def invoices(erp: ExactEmulator, correlation: str) -> list[dict[str, Any]]:
    with erp.state.lock:
        table_ = erp.state.divisions[MAIN].table(INVOICES)
        return [dict(r) for r in table_.values() if r.get("Remarks") == correlation]


# through the engine --------------------------------------------------------------------------


@dataclass
class World:
    engine: Engine
    emulator: ExactEmulator
    base_url: str
    connection_id: int
    invoice: Invoice


def user_approves(url: str) -> None:
    """The user opens the printed URL and approves; the browser follows the redirect to the
    command's loopback receiver."""
    with httpx2.Client(timeout=10, follow_redirects=True) as browser:
        browser.get(f"{url}&approve=yes").raise_for_status()


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    erp = emulator()
    cost_centre(erp, "P-300")
    with running(erp.app) as base_url:
        uow = UnitOfWork(database)
        entity, _ = load_sample_data(uow)
        draft = invoicing.draft_invoice(
            uow,
            invoicing.DraftRequest(
                legal_entity_id=require_id(entity),
                project_number="P-300",  # Van Dijk Installaties B.V., Amsterdam, in EUR
                period=(date(2026, 8, 1), date(2026, 8, 31)),
                invoice_date=date(2026, 8, 31),
            ),
        )
        posted = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 8, 31))
        secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
        engine = Engine(
            database,
            ConnectorProvider(
                secrets, environment=hub_environment(database, secrets, retry=QUICK_RETRY)
            ),
            defer=DeferPolicy(first_wait=0.01, max_runs=2),
        )
        connection, info = connections.connect_with_oauth(
            engine,
            secrets,
            spec_for("exact"),
            {k: str(v) for k, v in exact_values(base_url).items()},
            legal_entity_id=require_id(entity),
            show_url=user_approves,
            timeout=10,
            # The Exact code of reverse-charge sales within the EU ("Verlegd binnen EU").
            extra_settings={"vat_codes": {"eu_reverse_charge": "4"}},
        )
        assert (info.company_name, info.account_id, info.base_currency) == (
            "Lindeboom Advies B.V.",
            str(MAIN),
            "EUR",
        )
        connection_id = require_id(connection)
        connections.import_products(engine, connection_id)
        connections.configure(engine, connection_id, principles=PRINCIPLES)
        try:
            yield World(engine, erp, base_url, connection_id, posted)
        finally:
            engine.connectors.close()


def transfer(world: World) -> TransferStatus:
    started = world.engine.start_transfer(world.connection_id, require_id(world.invoice))
    return world.engine.transfer_now(require_id(started))


def test_a_posted_invoice_goes_to_exact_once_and_balancing_brings_it_back(world: World) -> None:
    correlation = f"LL-NORDLYS-{world.invoice.number}"
    status = transfer(world)
    (log,) = table.integration_log(world.engine, world.connection_id)
    assert status is TransferStatus.SUCCESSFUL, [(s.kind, s.status, s.message) for s in log.steps]
    steps = {s.kind: s.status for s in log.steps}
    assert steps[StepKind.CUSTOMER] is StepStatus.SUCCESSFUL
    assert steps[StepKind.TOTALS] is StepStatus.SUCCESSFUL

    (made,) = invoices(world.emulator, correlation)
    assert (made["Type"], made["Journal"], made["Currency"]) == (8020, "70", "EUR")
    division = world.emulator.state.divisions[MAIN]
    account = division.table("crm/Accounts")[made["OrderedBy"]]
    assert (account["Code"], account["Status"]) == (" " * 14 + "1003", "C")
    lines = [r for r in division.table("salesinvoice/SalesInvoiceLines").values()
             if r["InvoiceID"] == made["InvoiceID"]]  # fmt: skip
    assert lines and {line["CostCenter"] for line in lines} == {"P-300"}
    assert {line["VATCode"] for line in lines} == {"4"}

    # Transferring again sends nothing: one invoice, one customer, ever.
    transfer(world)
    assert len(invoices(world.emulator, correlation)) == 1
    journal = world.emulator.journal
    assert journal.count("POST", f"/api/v1/{MAIN}/{INVOICES}") == 1
    assert journal.count("POST", f"/api/v1/{MAIN}/crm/Accounts") == 1

    admin = f"{world.base_url}/_emulator/{MAIN}/salesinvoices/{made['InvoiceID']}"
    number = httpx2.post(f"{admin}/process", auth=ADMIN).json()["InvoiceNumber"]
    report = pulls.pull_balancing(world.engine, world.connection_id)
    assert report.applied == 1
    (row,) = table.transfer_table(world.engine, world.connection_id)
    assert row.erp is not None
    assert (row.erp.status, row.erp.booked_number, row.erp.paid) == ("booked", str(number), False)
    # Exact booked it on its InvoiceDate (the division's today when it was made).
    assert made["InvoiceDate"].startswith("2026-08-31")
    assert row.erp.booked_on == date(2026, 8, 31)

    gross = str(made["AmountFC"])
    httpx2.post(f"{admin}/payments", json={"amount": gross}, auth=ADMIN).raise_for_status()
    assert pulls.pull_balancing(world.engine, world.connection_id).applied == 1
    (row,) = table.transfer_table(world.engine, world.connection_id)
    assert row.erp is not None and row.erp.paid
    assert pulls.pull_balancing(world.engine, world.connection_id).read == 0


def purchase_entry(erp: ExactEmulator, **header: Any) -> dict[str, Any]:
    """What the ERP user enters: a supplier's invoice (the seed's supplier, travel costs)."""
    body = {
        "Supplier": seed_id(MAIN, "Accounts", "3001".rjust(18)),
        "Journal": "60",
        "EntryDate": "2026-08-20",
        "Description": "Taxi",
        "PurchaseEntryLines": [
            {
                "GLAccount": seed_id(MAIN, "GLAccounts", "4500"),
                "AmountFC": Decimal("42.00"),
                "VATCode": "2",
                "CostCenter": "P-300",
            }
        ],
        **header,
    }
    with erp.state.change():
        division = erp.state.divisions[MAIN]
        made: dict[str, Any] = rules.create(division, RESOURCES[rules.PURCHASES], body)
        return made


def test_expense_import_brings_each_purchase_entry_line_once_with_its_project(
    world: World,
) -> None:
    first = pulls.pull_expenses(world.engine, world.connection_id)
    assert (first.read, first.applied, first.skipped) == (4, 4, 0)  # 3 entries, 4 lines
    with world.engine.uow() as uow:
        imported = {e.text: e for e in uow.erp_expenses.list(world.connection_id)}
        p300 = uow.projects.by_number(world.invoice.legal_entity_id, "P-300")
    assert p300 is not None
    train = imported["Reisbureau Noord B.V.: Train Amsterdam-Zwolle"]
    assert (train.amount, train.base_amount) == (Money.of("80.00", "EUR"),) * 2  # without VAT
    assert (train.day, train.voucher_number, train.account) == (
        date(2025, 12, 3),
        "25600001",
        "4500",
    )
    assert train.project_id == require_id(p300)
    refund = imported["Reisbureau Noord B.V.: Cancelled return ticket"]
    assert refund.amount == Money.of("-25.00", "EUR") and refund.project_id == require_id(p300)
    assert imported["Reisbureau Noord B.V.: Parking"].project_id is None
    # Cost centre 100 is no PSA project: the expense comes without one.
    assert imported["Reisbureau Noord B.V.: Hotel De Wereld, 2 nights"].project_id is None

    again = pulls.pull_expenses(world.engine, world.connection_id)
    assert (again.read, again.applied) == (0, 0)
    entries = f"/api/v1/{MAIN}/purchaseentry/PurchaseEntries"
    assert world.emulator.journal.count("GET", entries) == 2  # one page each time

    made = purchase_entry(world.emulator)
    third = pulls.pull_expenses(world.engine, world.connection_id)
    assert (third.read, third.applied) == (1, 1)
    # A changed entry is read again; its line, known by its id, is not imported twice.
    with world.emulator.state.change():
        division = world.emulator.state.divisions[MAIN]
        rules.update(division, RESOURCES[rules.PURCHASES], made["EntryID"], {"YourRef": "T-9"})
    fourth = pulls.pull_expenses(world.engine, world.connection_id)
    assert (fourth.read, fourth.applied, fourth.skipped) == (1, 0, 1)
    with world.engine.uow() as uow:
        assert len(uow.erp_expenses.list(world.connection_id)) == 5


# against the connector ------------------------------------------------------------------------


@dataclass
class Direct:
    emulator: ExactEmulator
    base_url: str
    clock: Clock
    tokens: ExactTokens

    def connector(self, **settings: Any) -> ErpConnector:
        env = ConnectorEnvironment(retry=QUICK_RETRY, tokens=lambda _c, _o: self.tokens)
        values = exact_values(self.base_url, **settings)
        credentials = {"client_secret": values.pop("client_secret"), TOKEN_REF: "exact:test"}
        return spec_for("exact").factory(credentials, values, env)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx2.request(method, f"{self.base_url}/_emulator{path}", json=body, auth=ADMIN)
        answer.raise_for_status()
        return answer.json() if answer.content else None


@pytest.fixture
def direct() -> Iterator[Direct]:
    clock = Clock()
    erp = emulator(clock)
    with running(erp.app) as base_url:
        tokens = ExactTokens(base_url)
        try:
            yield Direct(erp, base_url, clock, tokens)
        finally:
            tokens.oauth.close()


def eur_invoice(product_quantity: Decimal = Decimal("7.5"), **changes: Any) -> Invoice:
    line = builders.work_line(quantity=product_quantity, unit_price=Money.of("100", "EUR"))
    return builders.invoice(line, **{"currency": "EUR", "seller_country": "NL", **changes})


def outgoing(invoice: Invoice, correlation: str, product: str = "WORK-DEV") -> Any:
    return builders.outgoing(
        invoice,
        correlation=correlation,
        customer_ref="1001",
        line_products=builders.line_products(invoice, product),
    )


def test_a_failing_vat_number_check_refuses_the_customer_until_it_is_corrected(
    direct: Direct,
) -> None:
    direct.admin("PUT", f"/{MAIN}/settings", {"invalidVatNumbers": ["NL853746333B01"]})
    customer = builders.customer(
        number="1003",
        vat_number="NL853746333B01",
        address=Address(country="NL"),
        currency="EUR",
    )
    with direct.connector() as connector:
        with pytest.raises(Permanent) as refused:
            connector.create_customer(customer)
        assert "VAT number" in refused.value.hint and refused.value.erp_text
        direct.admin("PUT", f"/{MAIN}/settings", {"invalidVatNumbers": []})
        created = connector.create_customer(customer)
        found = connector.find_customer("1003")
        assert found is not None and found.external_id == created.external_id


def test_a_non_numeric_customer_number_is_refused_before_anything_is_sent(direct: Direct) -> None:
    with direct.connector() as connector:
        direct.emulator.journal.clear()
        with pytest.raises(Permanent) as refused:
            connector.create_customer(builders.customer(number="C-1003"))
        assert "numeric customer number" in refused.value.hint
        with pytest.raises(Permanent):
            connector.find_customer("C-1003")
        assert direct.emulator.journal.entries == []
        assert connector.create_customer(builders.customer(number="1003")).external_id


def test_a_foreign_currency_needs_a_journal_with_variable_currency(direct: Direct) -> None:
    document = outgoing(eur_invoice(currency="EUR", seller_country="NL"), "LL-T-1")
    usd_line = builders.work_line(unit_price=Money.of("100", "USD"))
    usd = outgoing(builders.invoice(usd_line, currency="USD", seller_country="NL"), "LL-T-2")
    with direct.connector(sales_journal="71") as connector:
        assert connector.create_document(document).gross.currency == "EUR"  # home currency
        with pytest.raises(Permanent) as refused:
            connector.create_document(usd)
        assert "variable currency" in refused.value.hint
    with direct.connector(sales_journal="70") as connector:  # the journal that has it
        made = connector.create_document(usd)
        assert made.gross.currency == "USD"
    assert len(invoices(direct.emulator, "LL-T-2")) == 1


def test_a_decimal_quantity_of_a_non_divisible_item_is_refused_until_whole(direct: Direct) -> None:
    with direct.connector() as connector:
        with pytest.raises(Permanent) as refused:
            connector.create_document(outgoing(eur_invoice(Decimal("1.5")), "LL-T-3", "LICENSE"))
        assert "divisible" in refused.value.hint
        assert invoices(direct.emulator, "LL-T-3") == []
        made = connector.create_document(outgoing(eur_invoice(Decimal("2")), "LL-T-3", "LICENSE"))
        assert made.gross.amount == Decimal("242.00")


def test_an_access_token_that_expires_mid_run_is_refreshed(direct: Direct) -> None:
    with direct.connector() as connector:
        assert connector.verify().account_id == str(MAIN)
        direct.clock.offset += 601  # Exact's 600 s are up; a refresh is allowed again
        assert connector.find_customer("1001") is not None
        assert connector.products()
    # The grant, then one refresh (on the 401), not one per request.
    assert direct.emulator.journal.count("POST", "/api/oauth2/token") == 2


class StaleCopy:
    """A second process that kept its own copy of the tokens instead of the token store's
    lock: it refreshes with a refresh token another process already spent."""

    def __init__(self, oauth: OAuthClient, tokens: TokenSet) -> None:
        self._oauth = oauth
        self._tokens = tokens

    def current(self) -> TokenSet:
        return self._tokens

    def refresh(self, stale: TokenSet) -> TokenSet:
        self._tokens = self._oauth.refresh(stale.refresh_token)
        return self._tokens


def test_a_refresh_token_used_twice_sends_the_user_to_connect_again(direct: Direct) -> None:
    first = direct.tokens.current()
    copy = StaleCopy(direct.tokens.oauth, first)
    direct.clock.offset += 601
    direct.tokens.refresh(first)  # the first process refreshes: the refresh token is spent
    env = ConnectorEnvironment(retry=QUICK_RETRY, tokens=lambda _c, _o: copy)
    values = exact_values(direct.base_url)
    credentials = {"client_secret": values.pop("client_secret"), TOKEN_REF: "exact:stale"}
    connector = spec_for("exact").factory(credentials, values, env)
    try:
        with pytest.raises(AuthExpired) as expired:
            connector.verify()
    finally:
        connector.close()
    assert "Old refresh token used" in expired.value.erp_text
    assert "connect the integration again" in expired.value.hint


def test_a_division_the_user_cannot_open_names_the_ones_they_can(direct: Direct) -> None:
    with direct.connector(division=700001) as connector, pytest.raises(Permanent) as refused:
        connector.verify()
    assert "614223 Lindeboom Advies B.V." in refused.value.hint
    assert "614224" in refused.value.hint


def test_the_oauth_config_is_exacts() -> None:
    config = oauth_config(exact_values("https://start.exactonline.be/"))
    assert config.authorize_url == "https://start.exactonline.be/api/oauth2/auth"
    assert config.token_url == "https://start.exactonline.be/api/oauth2/token"
    assert config.client_auth.value == "form"
    assert (config.pkce, config.default_expires_in) == (False, 600.0)
    assert grant_on_emulator  # the contract registry's code flow serves these tests too
