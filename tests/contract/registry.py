"""The ERPs the contract suite (:mod:`ledgerlink.connectors.testing.contract`) runs against.

A :class:`CaseSpec` starts one ERP — its emulator, and for NAV and Visma a real FinancialHost
process in front of it — and yields a :class:`Case`: connectors to it (built with the suite's
quick retry policy), the ERP's user (book, pay, count documents in the ERP's own books) and its
faults. Each case's docstring says what every fault means there. A check a case cannot run
honestly is listed in ``expected_failures`` with the reason; the test reports it as a strict
expected failure. Adding an ERP means adding one entry to :data:`CASES`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx2

from ledgerlink.connectors._kit.limiter import LimiterKey, SlidingWindowLimiter
from ledgerlink.connectors._kit.oauth import OAuthClient, TokenSet, TokenSource
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.contract import ErpConnector, ErpDocument
from ledgerlink.connectors.economic import EconomicConnector, EconomicSettings
from ledgerlink.connectors.exact.spec import oauth_config as exact_oauth_config
from ledgerlink.connectors.financialhost import (
    FinancialHostConnector,
    FinancialHostCredentials,
    FinancialHostSettings,
)
from ledgerlink.connectors.financialhost.relay import RelayQueue
from ledgerlink.connectors.financialhost.spec import RELAY_SERVICE
from ledgerlink.connectors.fortnox.spec import oauth_config
from ledgerlink.connectors.registry import spec_for
from ledgerlink.connectors.spec import TOKEN_REF, ConnectorEnvironment
from ledgerlink.connectors.testing import (
    QUICK_RETRY,
    ContractViolation,
    ErpUser,
    FaultNotInjectable,
    Faults,
    LostAnswer,
)
from ledgerlink.domain.money import Money
from ledgerlink.emulators._kit.base import Emulator
from ledgerlink.emulators._kit.faults import FaultRule
from ledgerlink.emulators._kit.serve import running, running_all
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.emulators.exact import ExactEmulator
from ledgerlink.emulators.exact.seed import MAIN as EXACT_DIVISION
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.emulators.fortnox.seed import EXPENSE_ACCOUNTS as FORTNOX_EXPENSE_ACCOUNTS
from ledgerlink.emulators.fortnox.seed import EXPENSE_SERIES as FORTNOX_EXPENSE_SERIES
from ledgerlink.emulators.nav import NavEmulator
from ledgerlink.emulators.visma import (
    EmulatedAdk,
    book_invoice,
    create_company,
    register_payment,
    set_offline,
)
from ledgerlink.financialhost.vault import HubKey, Vault
from ledgerlink.interfaces.visma_adk import constants as adk
from ledgerlink.wire.client import tls_context
from ledgerlink.wire.signing import SigningKey
from tests.contract.host_process import KEY_ID, HostProcess, host_process
from tests.contract.hub_relay import AGENT_ID, HubRelay, hub_relay

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The FinancialHost write whose answer the cases lose.
DRAFT_CREATE = "document.create_draft"
NO_429 = (
    "FinancialHost never answers 429 (an unavailable ERP is 503 with a fixed Retry-After: 30, "
    "which storm_read covers) and on-premise NAV and Visma have no rate limit to hit"
)


@dataclass(frozen=True)
class ExpectedFailure:
    """A check a case cannot pass, and why (``raises``: the failure that is expected)."""

    reason: str
    raises: type[BaseException]


@dataclass
class Case:
    """One started ERP (implements :class:`~ledgerlink.connectors.testing.ContractCase`)."""

    name: str
    existing_customer: str
    product: str
    erp: ErpUser
    faults: Faults
    build: Callable[[int | None], ErpConnector]
    retry: RetryPolicy = QUICK_RETRY

    def connector(self, *, page_size: int | None = None) -> ErpConnector:
        return self.build(page_size)


@dataclass(frozen=True)
class CaseSpec:
    """A case: its name, the ConnectorSpec it proves (``erp``), how to start it, and the
    checks it cannot pass."""

    name: str
    erp: str
    start: Callable[[Path], AbstractContextManager[Case]]
    expected_failures: Mapping[str, ExpectedFailure] = field(default_factory=dict)


#: What the hub lends the connectors the cases build through their spec's factory.
QUICK = ConnectorEnvironment(retry=QUICK_RETRY)


# the emulators' fault injector and journal (e-conomic and NAV) ----------------------------------


class EmulatorFaults:
    """Faults through an in-process emulator's injector; requests counted in its journal."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._watchers: list[tuple[threading.Event, threading.Thread, Callable[[], bool]]] = []

    def once(self, rule: FaultRule, *, method: str | None, path_prefix: str) -> None:
        """Apply ``rule`` to the next matching request only: it is removed as soon as the
        journal shows that request (the retry, if any, comes after the server's wait)."""
        journal, injector = self.emulator.journal, self.emulator.faults
        before = journal.count(method, path_prefix)
        injector.add(rule)
        stop = threading.Event()

        def met() -> bool:
            return journal.count(method, path_prefix) > before

        def watch() -> None:
            while not stop.wait(0.002):
                if met():
                    injector.replace([r for r in injector.rules if r != rule])
                    return

        thread = threading.Thread(target=watch, daemon=True, name="contract-fault-once")
        thread.start()
        self._watchers.append((stop, thread, met))

    def flood(self, *, path_prefix: str = "", methods: frozenset[str] = frozenset()) -> None:
        """Answer every matching request 503 until :meth:`clear`."""
        self.emulator.faults.add(
            FaultRule(path_prefix, methods, error_rate=1.0, error_status=503, retry_after=None)
        )

    def clear(self) -> None:
        """End every fault and empty the journal. A fault armed for the next request that no
        request met is an error: the check it was armed for proved nothing."""
        unmet = [met for _, _, met in self._watchers if not met()]
        for stop, thread, _ in self._watchers:
            stop.set()
            thread.join()
        self._watchers.clear()
        self.emulator.faults.clear()
        self.emulator.journal.clear()
        if unmet:
            raise AssertionError(f"{len(unmet)} fault(s) armed for the next request never met one")

    def requests(self) -> int:
        return len(self.emulator.journal.entries)


# e-conomic ----------------------------------------------------------------------------------------

ECONOMIC_APP = "app-secret"
ECONOMIC_GRANT = "grant-token"
_ECONOMIC_ADMIN = {"X-AppSecretToken": ECONOMIC_APP, "X-AgreementGrantToken": ECONOMIC_GRANT}
#: The seeded agreement's expense accounts (finance entries in 2026).
ECONOMIC_EXPENSE_ACCOUNTS = [2800, 2810, 2820, 2850]


def economic_connector(
    base_url: str, *, retry: RetryPolicy | None = None, **settings: Any
) -> EconomicConnector:
    """A connector to the e-conomic emulator at ``base_url`` (``settings`` override)."""
    return EconomicConnector(
        app_secret_token=ECONOMIC_APP,
        agreement_grant_token=ECONOMIC_GRANT,
        settings=EconomicSettings(base_url=base_url, **settings),
        retry=retry,
    )


def economic_admin(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST to the e-conomic emulator's admin route ``/_emulator{path}``."""
    response = httpx2.post(f"{base_url}/_emulator{path}", headers=_ECONOMIC_ADMIN, json=body or {})
    response.raise_for_status()
    return response.json() if response.content else None


class EconomicErp:
    """e-conomic's user: books drafts and registers payments through the admin routes; counts
    drafts and booked invoices by ``references.other`` in the emulator's state."""

    def __init__(self, emulator: EconomicEmulator, base_url: str) -> None:
        self._emulator = emulator
        self._base_url = base_url

    def book(self, document: ErpDocument) -> str:
        booked = economic_admin(self._base_url, f"/invoices/drafts/{document.external_id}/book")
        return str(booked["bookedInvoiceNumber"])

    def pay(self, booked_number: str, amount: Money) -> None:
        economic_admin(
            self._base_url,
            f"/invoices/booked/{booked_number}/payments",
            {"amount": str(amount.amount)},
        )

    def count_documents(self, correlation: str) -> int:
        state = self._emulator.state
        with state.lock:
            return sum(
                1
                for table in ("drafts", "booked")
                for stored in state.main.table(table).values()
                if (stored.get("references") or {}).get("other") == correlation
            )


class EconomicFaults(EmulatorFaults):
    """e-conomic's faults, all at the emulator (the connector talks to it directly):

    * lost answer: the next ``POST /invoices/drafts`` is done, then its connection dropped
      (``drop_after_commit``) — the connector must say Uncertain;
    * 429: the next request of any kind answers 429 with the given ``Retry-After``;
    * storm: every request (or every POST/PUT/DELETE) answers 503 without Retry-After;
    * revoked credentials: the agreement revokes the app's grant (``/grants/revoke``), every
      API call then answers 401; ``clear`` restores it;
    * requests: the emulator's journal.
    """

    def __init__(self, emulator: EconomicEmulator, base_url: str) -> None:
        super().__init__(emulator)
        self._base_url = base_url
        self._revoked = False

    def lose_next_write_answer(self) -> LostAnswer:
        rule = FaultRule("/invoices/drafts", frozenset({"POST"}), drop_after_commit_rate=1.0)
        self.once(rule, method="POST", path_prefix="/invoices/drafts")
        return LostAnswer.UNCERTAIN

    def rate_limit_next(self, retry_after: float) -> None:
        self.once(
            FaultRule("", rate_limit_rate=1.0, retry_after=retry_after),
            method=None,
            path_prefix="",
        )

    def storm(self, *, writes_only: bool = False) -> None:
        self.flood(methods=WRITES if writes_only else frozenset())

    def revoke_credentials(self) -> None:
        economic_admin(self._base_url, "/grants/revoke")
        self._revoked = True

    def clear(self) -> None:
        if self._revoked:
            economic_admin(self._base_url, "/grants/restore")
            self._revoked = False
        super().clear()


def _economic(*, modules: bool) -> Callable[[Path], AbstractContextManager[Case]]:
    @contextmanager
    def start(_folder: Path) -> Iterator[Case]:
        emulator = EconomicEmulator(
            app_secret_token=ECONOMIC_APP, agreement_grant_token=ECONOMIC_GRANT
        )
        with running(emulator.app) as base_url:
            settings: dict[str, Any] = {}
            if modules:
                httpx2.put(
                    f"{base_url}/_emulator/settings",
                    headers=_ECONOMIC_ADMIN,
                    json={"projectModule": True},
                ).raise_for_status()
                settings = {
                    "project_module": True,
                    "expense_accounts": ECONOMIC_EXPENSE_ACCOUNTS,
                }

            def build(page_size: int | None) -> ErpConnector:
                paging = {"page_size": page_size} if page_size else {}
                credentials = {
                    "app_secret_token": ECONOMIC_APP,
                    "agreement_grant_token": ECONOMIC_GRANT,
                }
                values = {"base_url": base_url, **settings, **paging}
                return spec_for("economic").factory(credentials, values, QUICK)

            faults = EconomicFaults(emulator, base_url)
            try:
                yield Case(
                    name="economic" if modules else "economic-basic",
                    existing_customer="9001",
                    product="WORK-DEV",
                    erp=EconomicErp(emulator, base_url),
                    faults=faults,
                    build=build,
                )
            finally:
                faults.clear()

    return start


# Fortnox ------------------------------------------------------------------------------------------

FORTNOX_CLIENT, FORTNOX_SECRET = "ledgerlink", "fortnox-secret"
#: Where the emulator's consent sends the code back; nothing listens there: the approval is
#: given in the authorize URL (``approve=yes``) and the code read from the redirect.
FORTNOX_REDIRECT = "http://127.0.0.1:9/callback"
FORTNOX_CREDENTIAL = "fortnox:contract"


def fortnox_values(base_url: str, **settings: Any) -> dict[str, Any]:
    """Setup values of a connection to the Fortnox emulator at ``base_url``."""
    return {
        "client_id": FORTNOX_CLIENT,
        "client_secret": FORTNOX_SECRET,
        "base_url": base_url,
        "auth_url": f"{base_url}/oauth-v1",
        **settings,
    }


def grant_on_emulator(oauth: OAuthClient) -> TokenSet:
    """The authorization-code flow against an emulator's OAuth server, approved at once."""
    request = oauth.authorization_url(redirect_uri=FORTNOX_REDIRECT, params={"approve": "yes"})
    answer = httpx2.get(request.url, follow_redirects=False)
    if answer.status_code != 302:
        raise AssertionError(f"the emulator did not grant access: {answer.text}")
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    return oauth.exchange_code(code=code, redirect_uri=FORTNOX_REDIRECT)


class GrantedTokens(TokenSource):
    """One grant's tokens in memory (the hub keeps them in its token store), refreshed with
    Fortnox's rotation: a refresh another thread already did is not repeated."""

    def __init__(self, base_url: str) -> None:
        self.oauth = OAuthClient(oauth_config(fortnox_values(base_url)))
        self._lock = threading.Lock()
        self._tokens = grant_on_emulator(self.oauth)

    def regrant(self) -> None:
        with self._lock:
            self._tokens = grant_on_emulator(self.oauth)

    def current(self) -> TokenSet:
        with self._lock:
            return self._tokens

    def refresh(self, stale: TokenSet) -> TokenSet:
        with self._lock:
            if self._tokens.access_token == stale.access_token:
                self._tokens = self.oauth.refresh(stale.refresh_token)
            return self._tokens


class CaseLimiter:
    """The case's connectors share one rate budget, as one connection's workers share the
    database limiter; :meth:`reset` forgets a server's long pause (the long-wait check's)."""

    def __init__(self) -> None:
        self._inner = SlidingWindowLimiter()

    def acquire(self, key: LimiterKey) -> None:
        self._inner.acquire(key)

    def defer(self, key: LimiterKey, seconds: float) -> None:
        self._inner.defer(key, seconds)

    def reset(self) -> None:
        self._inner = SlidingWindowLimiter()


class FortnoxErp:
    """Fortnox's user: books invoices and registers payments through the admin routes (the
    document number stays when Fortnox books); counts invoices by ExternalInvoiceReference1
    in the emulator's state."""

    def __init__(self, emulator: FortnoxEmulator, base_url: str) -> None:
        self._emulator = emulator
        self._base_url = base_url

    def _admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx2.post(f"{self._base_url}/_emulator{path}", json=body or {})
        answer.raise_for_status()
        return answer.json()

    def book(self, document: ErpDocument) -> str:
        booked = self._admin(f"/invoices/{document.external_id}/bookkeep")
        return str(booked["Invoice"]["DocumentNumber"])

    def pay(self, booked_number: str, amount: Money) -> None:
        self._admin(f"/invoices/{booked_number}/payments", {"amount": str(amount.amount)})

    def count_documents(self, correlation: str) -> int:
        state = self._emulator.state
        with state.lock:
            return sum(
                1
                for invoice in state.company.table("invoices").values()
                if invoice.get("ExternalInvoiceReference1") == correlation
            )


class FortnoxFaults(EmulatorFaults):
    """Fortnox's faults, all at the emulator (the connector talks to it directly):

    * lost answer: the next ``POST /3/invoices`` is done, then its connection dropped — the
      connector must say Uncertain;
    * 429: the next request answers 429 with the given ``Retry-After`` (Fortnox's own 429s
      carry no header; the emulator's 25-per-5-s window stays on for every check);
    * storm: every request (or every POST/PUT/DELETE) answers 503;
    * revoked credentials: the company withdraws the integration's consent (every token
      ends, the refresh answers ``invalid_grant``); ``clear`` grants access again;
    * requests: the emulator's journal.
    """

    def __init__(
        self, emulator: FortnoxEmulator, base_url: str, tokens: GrantedTokens, limiter: CaseLimiter
    ) -> None:
        super().__init__(emulator)
        self._base_url = base_url
        self._tokens = tokens
        self._limiter = limiter
        self._revoked = False
        self._paused = False

    def lose_next_write_answer(self) -> LostAnswer:
        rule = FaultRule("/3/invoices", frozenset({"POST"}), drop_after_commit_rate=1.0)
        self.once(rule, method="POST", path_prefix="/3/invoices")
        return LostAnswer.UNCERTAIN

    def rate_limit_next(self, retry_after: float) -> None:
        self._paused = True
        self.once(
            FaultRule("", rate_limit_rate=1.0, retry_after=retry_after),
            method=None,
            path_prefix="",
        )

    def storm(self, *, writes_only: bool = False) -> None:
        self.flood(methods=WRITES if writes_only else frozenset())

    def revoke_credentials(self) -> None:
        httpx2.post(f"{self._base_url}/_emulator/consents/revoke").raise_for_status()
        self._revoked = True

    def clear(self) -> None:
        if self._revoked:
            self._tokens.regrant()
            self._revoked = False
        if self._paused:
            self._limiter.reset()
            self._paused = False
        super().clear()


@contextmanager
def _fortnox(_folder: Path) -> Iterator[Case]:
    """Fortnox (the emulator on loopback, its rate limit on), connected through OAuth2."""
    emulator = FortnoxEmulator(client_id=FORTNOX_CLIENT, client_secret=FORTNOX_SECRET)
    with running(emulator.app) as base_url:
        tokens = GrantedTokens(base_url)
        limiter = CaseLimiter()
        env = ConnectorEnvironment(
            retry=QUICK_RETRY, limiter=limiter, tokens=lambda _credential, _client: tokens
        )

        def build(page_size: int | None) -> ErpConnector:
            values = fortnox_values(
                base_url,
                # expense import from the seeded journal and accounts
                expense_import_series=FORTNOX_EXPENSE_SERIES,
                expense_import_accounts=" ".join(map(str, FORTNOX_EXPENSE_ACCOUNTS)),
                **({"page_size": page_size} if page_size else {}),
            )
            credentials = {
                "client_secret": values.pop("client_secret"),
                TOKEN_REF: FORTNOX_CREDENTIAL,
            }
            return spec_for("fortnox").factory(credentials, values, env)

        faults = FortnoxFaults(emulator, base_url, tokens, limiter)
        try:
            yield Case(
                name="fortnox",
                existing_customer="1",
                product="WORK",
                erp=FortnoxErp(emulator, base_url),
                faults=faults,
                build=build,
            )
        finally:
            faults.clear()
            tokens.oauth.close()


# Exact Online -------------------------------------------------------------------------------------

EXACT_CLIENT, EXACT_SECRET = "ledgerlink-exact", "exact-contract-secret"
EXACT_CREDENTIAL = "exact:contract"
_EXACT_ADMIN = (EXACT_CLIENT, EXACT_SECRET)


def exact_values(base_url: str, **settings: Any) -> dict[str, Any]:
    """Setup values of a connection to the Exact emulator's Dutch division at ``base_url``."""
    return {
        "client_id": EXACT_CLIENT,
        "client_secret": EXACT_SECRET,
        "base_url": base_url,
        "division": EXACT_DIVISION,
        **settings,
    }


class ExactTokens(GrantedTokens):
    """One grant's tokens at the Exact emulator (form client authentication, rotation)."""

    def __init__(self, base_url: str) -> None:
        self.oauth = OAuthClient(exact_oauth_config(exact_values(base_url)))
        self._lock = threading.Lock()
        self._tokens = grant_on_emulator(self.oauth)


def exact_vat_code(emulator: ExactEmulator, code: str, percent: str, text: str) -> None:
    """What the Exact administrator sets up for foreign sales (the contract's documents are
    Danish: 25 %): an exclusive VAT code of the division."""
    division = emulator.state.divisions[EXACT_DIVISION]
    with emulator.state.change():
        table = division.table("vat/VATCodes")
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"exact-contract-vat-{code}"))
        record = {
            "ID": key,
            "Code": code,
            "Description": text,
            "Percentage": Decimal(percent),
            "Type": "E",
            "Account": None,
            "Charged": False,
            "Division": EXACT_DIVISION,
        }
        division.stamp(record)
        table[key] = record


class ExactErp:
    """Exact's user: processes invoices (number, status 50, open item) and registers
    payments through the admin routes; counts sales invoices by ``Remarks`` in the state."""

    def __init__(self, emulator: ExactEmulator, base_url: str) -> None:
        self._emulator = emulator
        self._base_url = base_url

    def _admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = httpx2.post(
            f"{self._base_url}/_emulator/{EXACT_DIVISION}{path}", json=body or {}, auth=_EXACT_ADMIN
        )
        answer.raise_for_status()
        return answer.json()

    def _invoices(self) -> list[dict[str, Any]]:
        state = self._emulator.state
        with state.lock:
            table = state.divisions[EXACT_DIVISION].table("salesinvoice/SalesInvoices")
            return [dict(record) for record in table.values()]

    def book(self, document: ErpDocument) -> str:
        processed = self._admin(f"/salesinvoices/{document.external_id}/process")
        return str(processed["InvoiceNumber"])

    def pay(self, booked_number: str, amount: Money) -> None:
        (invoice,) = [i for i in self._invoices() if str(i["InvoiceNumber"]) == booked_number]
        self._admin(
            f"/salesinvoices/{invoice['InvoiceID']}/payments", {"amount": str(amount.amount)}
        )

    def count_documents(self, correlation: str) -> int:
        return sum(1 for invoice in self._invoices() if invoice.get("Remarks") == correlation)


class ExactFaults(EmulatorFaults):
    """Exact's faults, all at the emulator (the connector talks to it directly):

    * lost answer: the next ``POST …/salesinvoice/SalesInvoices`` is done, then its connection
      dropped — the connector must say Uncertain;
    * 429: the next request answers 429 with the given ``Retry-After`` (Exact's own 429s name
      their wait in ``X-RateLimit-*-Reset``; its 60-a-minute window stays on for every check);
    * storm: every request (or every POST/PUT/DELETE) answers 503;
    * revoked credentials: the user withdraws the app's access (every token ends, a refresh
      answers ``invalid_grant``); ``clear`` grants access again;
    * requests: the emulator's journal.
    """

    def __init__(
        self, emulator: ExactEmulator, base_url: str, tokens: ExactTokens, limiter: CaseLimiter
    ) -> None:
        super().__init__(emulator)
        self._base_url = base_url
        self._tokens = tokens
        self._limiter = limiter
        self._revoked = False
        self._paused = False

    def lose_next_write_answer(self) -> LostAnswer:
        path = f"/api/v1/{EXACT_DIVISION}/salesinvoice/SalesInvoices"
        self.once(
            FaultRule(path, frozenset({"POST"}), drop_after_commit_rate=1.0),
            method="POST",
            path_prefix=path,
        )
        return LostAnswer.UNCERTAIN

    def rate_limit_next(self, retry_after: float) -> None:
        self._paused = True
        self.once(
            FaultRule("", rate_limit_rate=1.0, retry_after=retry_after),
            method=None,
            path_prefix="",
        )

    def storm(self, *, writes_only: bool = False) -> None:
        self.flood(methods=WRITES if writes_only else frozenset())

    def revoke_credentials(self) -> None:
        httpx2.post(
            f"{self._base_url}/_emulator/tokens/revoke", auth=_EXACT_ADMIN
        ).raise_for_status()
        self._revoked = True

    def clear(self) -> None:
        if self._revoked:
            self._tokens.regrant()
            self._revoked = False
        if self._paused:
            self._limiter.reset()
            self._paused = False
        super().clear()


@contextmanager
def _exact(_folder: Path) -> Iterator[Case]:
    """Exact Online (the emulator on loopback, its rate limits on), connected through OAuth2
    to the Dutch division, which has a 25 % VAT code for the contract's Danish documents."""
    emulator = ExactEmulator(client_id=EXACT_CLIENT, client_secret=EXACT_SECRET)
    exact_vat_code(emulator, "25", "0.25", "OSS Denemarken 25%")
    with running(emulator.app) as base_url:
        tokens = ExactTokens(base_url)
        limiter = CaseLimiter()
        env = ConnectorEnvironment(
            retry=QUICK_RETRY, limiter=limiter, tokens=lambda _credential, _client: tokens
        )

        def build(page_size: int | None) -> ErpConnector:
            values = exact_values(base_url, **({"page_size": page_size} if page_size else {}))
            credentials = {
                "client_secret": values.pop("client_secret"),
                TOKEN_REF: EXACT_CREDENTIAL,
            }
            return spec_for("exact").factory(credentials, values, env)

        faults = ExactFaults(emulator, base_url, tokens, limiter)
        try:
            yield Case(
                name="exact",
                existing_customer="1001",
                product="WORK-DEV",
                erp=ExactErp(emulator, base_url),
                faults=faults,
                build=build,
            )
        finally:
            faults.clear()
            tokens.oauth.close()


# FinancialHost: the hub's signing key, and the wire to the host --------------------------------


class HostKey:
    """The hub's signing key in a FinancialHost's vault (the host reads it on every request):
    retired, the host refuses our signatures (401); restored, it accepts them again."""

    def __init__(self, data_dir: Path) -> None:
        self._vault = Vault(data_dir)
        self._retired = False

    def retire(self) -> None:
        self._vault.retire_key(KEY_ID, datetime.now(UTC) - timedelta(minutes=5))
        self._retired = True

    def restore(self) -> None:
        if self._retired:
            keys = [HubKey(k.key_id, k.created, None).to_json() for k in self._vault.hub_keys()]
            self._vault.set("keys", json.dumps(keys))
            self._retired = False


class Wire:
    """What went from the case's connectors to FinancialHost: requests counted, and the
    answer of one operation to be lost (the host has done it; the connector hears nothing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent = 0
        self._lose: str | None = None

    def lose_next(self, operation: str) -> None:
        with self._lock:
            self._lose = operation

    def reset(self) -> None:
        with self._lock:
            self.sent, self._lose = 0, None

    def send(self, operation: str) -> bool:
        """Count one request; whether its answer is to be lost."""
        with self._lock:
            self.sent += 1
            if self._lose == operation:
                self._lose = None
                return True
            return False


def _operation(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class WireTransport(httpx2.BaseTransport):
    """HTTPS to the host, trusting only its certificate (as the connector's own client does),
    through a :class:`Wire`: a lost answer is read in full — the host has done the work —
    and then reported as a dropped connection."""

    def __init__(self, wire: Wire, certificate_file: Path) -> None:
        self._wire = wire
        self._inner = httpx2.HTTPTransport(verify=tls_context(verify=certificate_file))

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        operation = _operation(request.url.path)
        lose = self._wire.send(operation)
        response = self._inner.handle_request(request)
        if lose:
            response.read()
            response.close()
            raise httpx2.ReadError(f"injected: the answer to {operation} was lost", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


class WireRelay:
    """The hub's relay (agent mode) through a :class:`Wire`: a lost answer is taken from the
    host, then reported as the relay transport reports an answer that never came back."""

    def __init__(self, relay: RelayQueue, wire: Wire) -> None:
        self._relay = relay
        self._wire = wire
        self._losing: set[str] = set()

    def submit(self, agent_id: str, request: dict[str, Any], *, deadline: datetime) -> str:
        lose = self._wire.send(_operation(str(request["path"])))
        job_id = self._relay.submit(agent_id, request, deadline=deadline)
        if lose:
            self._losing.add(job_id)
        return job_id

    def outcome(self, job_id: str) -> Any:
        outcome = self._relay.outcome(job_id)
        if job_id in self._losing and outcome.response is not None:
            self._losing.discard(job_id)
            # What RelayTransport raises when the agent took a request and its answer did not
            # come back in time, without waiting the connector's whole timeout for it.
            raise httpx2.ReadTimeout("injected: the agent's answer did not come back")
        return outcome

    def abandon(self, job_id: str) -> Any:
        return self._relay.abandon(job_id)

    def agent(self, agent_id: str) -> Any:
        return self._relay.agent(agent_id)


def _host_settings(page_size: int | None, **where: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "job_wait_seconds": 1.0,
        "poll_interval_seconds": 0.05,
        "timeout_seconds": 10.0,
    } | where
    if page_size:
        fields["page_size"] = page_size
    return fields


def _credentials(key: SigningKey) -> dict[str, str]:
    return {"key_id": key.key_id, "secret": key.secret.decode()}


def _direct(host: HostProcess, wire: Wire, erp_system: str) -> Callable[[int | None], ErpConnector]:
    """Connectors to a host that listens: built as the spec's factory builds them, but with
    the :class:`WireTransport` (the factory takes no transport; the connector does)."""

    def build(page_size: int | None) -> ErpConnector:
        settings = _host_settings(
            page_size,
            base_url=host.url,
            erp_system=erp_system,
            tls_certificate=host.certificate_file.read_text(encoding="utf-8"),
        )
        return FinancialHostConnector(
            credentials=FinancialHostCredentials.model_validate(_credentials(host.key)),
            settings=FinancialHostSettings.model_validate(settings),
            transport=WireTransport(wire, host.certificate_file),
            retry=QUICK.retry,
        )

    return build


# Dynamics NAV behind FinancialHost --------------------------------------------------------------

NAV_USER, NAV_PASSWORD = "WEBSERVICE", "Passw0rd!"
NAV_COMPANY = "CRONUS International Ltd."
NAV_INSTANCE = "DynamicsNAV100"
#: The SOAP page the NAV plugin writes a draft's lines to: only writes are POSTed there (the
#: header's page also takes the lookups, which are POSTs too in SOAP).
NAV_DRAFT_LINES = f"/{NAV_INSTANCE}/WS/{NAV_COMPANY}/Page/TlpInvoiceLineWS"
#: NAV's tables of drafts (Sales Header) and posted invoices and credit memos.
NAV_DOCUMENT_TABLES = (36, 112, 114)


def nav_admin(
    base_url: str, path: str, body: dict[str, Any] | None = None, *, method: str = "POST"
) -> Any:
    """Call the NAV emulator's admin route ``/_emulator{path}``."""
    response = httpx2.request(
        method,
        f"{base_url}/_emulator{path}",
        auth=(NAV_USER, NAV_PASSWORD),
        json=body if method != "GET" else None,
    )
    response.raise_for_status()
    return response.json() if response.content else None


class NavErp:
    """NAV's user: posts drafts (Sales-Post) and registers payments through the admin routes;
    counts drafts and postings by External Document No. (upper case in NAV) in its tables."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._company = f"/companies/{quote(NAV_COMPANY, safe='')}"

    def book(self, document: ErpDocument) -> str:
        kind = "Credit_Memo" if document.gross.amount < 0 else "Invoice"
        posted = nav_admin(
            self._root, f"{self._company}/sales-documents/{kind}/{document.external_id}/post"
        )
        return str(posted["posted_no"])

    def pay(self, booked_number: str, amount: Money) -> None:
        nav_admin(
            self._root,
            f"{self._company}/posted/{booked_number}/payments",
            {"amount": str(amount.amount)},
        )

    def count_documents(self, correlation: str) -> int:
        wanted = correlation.upper()
        return sum(
            1
            for table in NAV_DOCUMENT_TABLES
            for row in nav_admin(self._root, f"{self._company}/records/{table}", method="GET")[
                "records"
            ]
            if str(row.get("External_Document_No", "")).upper() == wanted
        )


class NavFaults(EmulatorFaults):
    """NAV behind FinancialHost. The connector talks to the host, the host to NAV:

    * lost answer, ``at_nav=True`` (direct mode): NAV writes the draft's lines and drops the
      connection before answering; the host takes NAV as unavailable, removes the half draft,
      retries the job (looking the correlation up first) — the connector gets its one document
      (reconciled). ``at_nav=False`` (agent mode): the host's answer to the create is lost on
      its way back through the hub's relay — the connector must say Uncertain;
    * 429: not injectable (:data:`NO_429`);
    * storm: NAV answers every request 503 (``writes_only`` too: the host's writes are NAV
      reads and writes in one job); the host answers reads 503 with Retry-After: 30 and keeps
      writes as pending jobs it retries;
    * revoked credentials: the hub's key is retired in the host's vault; the host refuses our
      signature (401);
    * requests: the requests the connectors sent to the host (counted on the wire).
    """

    def __init__(self, emulator: NavEmulator, key: HostKey, wire: Wire, *, at_nav: bool) -> None:
        super().__init__(emulator)
        self._key = key
        self._wire = wire
        self._at_nav = at_nav

    def lose_next_write_answer(self) -> LostAnswer:
        if self._at_nav:
            rule = FaultRule(NAV_DRAFT_LINES, frozenset({"POST"}), drop_after_commit_rate=1.0)
            self.once(rule, method="POST", path_prefix=NAV_DRAFT_LINES)
            return LostAnswer.RECONCILED
        self._wire.lose_next(DRAFT_CREATE)
        return LostAnswer.UNCERTAIN

    def rate_limit_next(self, retry_after: float) -> None:
        raise FaultNotInjectable(NO_429)

    def storm(self, *, writes_only: bool = False) -> None:
        self.flood()

    def revoke_credentials(self) -> None:
        self._key.retire()

    def clear(self) -> None:
        self._key.restore()
        self._wire.reset()
        super().clear()

    def requests(self) -> int:
        return self._wire.sent


def _nav_settings(urls: dict[str, str]) -> dict[str, Any]:
    return {
        "soap_url": urls["soap"],
        "odata_url": urls["odata"],
        "company": NAV_COMPANY,
        "username": NAV_USER,
    }


def _nav_case(
    name: str, root: str, faults: NavFaults, build: Callable[[int | None], ErpConnector]
) -> Case:
    return Case(
        name=name,
        existing_customer="10000",
        product="70000",
        erp=NavErp(root),
        faults=faults,
        build=build,
    )


@contextmanager
def _nav(folder: Path) -> Iterator[Case]:
    """Dynamics NAV (the emulator on loopback) behind a FinancialHost process."""
    emulator = NavEmulator()
    with (
        running_all(emulator.apps) as roots,
        host_process(
            folder / "host",
            plugin="nav",
            plugin_settings=_nav_settings(emulator.base_urls(roots)),
            secrets={"nav:password": NAV_PASSWORD},
        ) as host,
    ):
        wire = Wire()
        faults = NavFaults(emulator, HostKey(host.data_dir), wire, at_nav=True)
        try:
            yield _nav_case("nav", roots["soap"], faults, _direct(host, wire, "nav"))
        finally:
            faults.clear()
            emulator.close()


@contextmanager
def _nav_agent(folder: Path) -> Iterator[Case]:
    """Dynamics NAV behind a FinancialHost process in outbound agent mode: the host calls the
    hub's relay (HTTPS) for the connector's requests; nothing connects to the host."""
    emulator = NavEmulator()
    with running_all(emulator.apps) as roots, hub_relay(folder / "hub") as hub:
        secret = Vault(folder / "host" / "data").add_key(KEY_ID)
        hub.enrol(SigningKey(KEY_ID, secret.encode()))
        with host_process(
            folder / "host",
            plugin="nav",
            plugin_settings=_nav_settings(emulator.base_urls(roots)),
            secrets={"nav:password": NAV_PASSWORD},
            mode="agent",
            agent=hub.agent_settings(),
        ) as host:
            wire = Wire()
            faults = NavFaults(emulator, HostKey(host.data_dir), wire, at_nav=False)
            try:
                yield _nav_case("nav-agent", roots["soap"], faults, _relayed(hub, host, wire))
            finally:
                faults.clear()
                emulator.close()


def _relayed(hub: HubRelay, host: HostProcess, wire: Wire) -> Callable[[int | None], ErpConnector]:
    """Connectors to a host in agent mode, built by the spec's factory with the hub's relay
    (through the :class:`Wire`) as its relay service."""
    env = ConnectorEnvironment(
        retry=QUICK.retry, services={RELAY_SERVICE: WireRelay(hub.relay, wire)}
    )

    def build(page_size: int | None) -> ErpConnector:
        settings = _host_settings(page_size, agent_id=AGENT_ID, erp_system="nav")
        return spec_for("financialhost").factory(_credentials(host.key), settings, env)

    return build


# Visma Administration behind FinancialHost ------------------------------------------------------


class VismaErp:
    """Visma's user: books invoices and registers payments in the company folder; counts
    invoices (drafts and booked are one table) by their order number field."""

    def __init__(self, system: Path, company: Path) -> None:
        self._system = system
        self._company = company

    def book(self, document: ErpDocument) -> str:
        book_invoice(self._company, int(document.external_id))
        return document.external_id  # Visma keeps the number when it books

    def pay(self, booked_number: str, amount: Money) -> None:
        register_payment(self._company, int(booked_number), float(Decimal(amount.amount)))

    def count_documents(self, correlation: str) -> int:
        ledger = EmulatedAdk()
        opened = ledger.AdkOpen(str(self._system), str(self._company))
        if opened.lRc != adk.ADKE_OK:
            raise ContractViolation(f"the Visma company does not open: {opened.lRc}")
        head = ledger.AdkCreateData(adk.ADK_DB_INVOICE_HEAD)
        found = 0
        try:
            step = ledger.AdkFirst(head)
            while step.lRc == adk.ADKE_OK:
                _, reference = ledger.AdkGetStr(head, adk.ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER)
                found += reference == correlation
                step = ledger.AdkNext(head)
        finally:
            ledger.AdkDeleteStruct(head)
            ledger.AdkClose()
        return found


class VismaFaults:
    """Visma Administration (the emulated ADK, in the host process, on a company folder)
    behind FinancialHost:

    * lost answer: the host's answer to the create is lost on the wire back to the hub (the
      host has done it) — the connector must say Uncertain. (The ADK is called in-process by
      the host; there is no network between them to lose an answer on.)
    * 429: not injectable (:data:`NO_429`);
    * storm: the ERP is down (invalid network licence, ``set_offline``): the host answers
      reads 503 with Retry-After: 30 and keeps writes as pending jobs it retries;
    * revoked credentials: the hub's key is retired in the host's vault (401);
    * requests: the requests the connectors sent to the host (counted on the wire).
    """

    def __init__(self, company: Path, key: HostKey, wire: Wire) -> None:
        self._company = company
        self._key = key
        self._wire = wire

    def lose_next_write_answer(self) -> LostAnswer:
        self._wire.lose_next(DRAFT_CREATE)
        return LostAnswer.UNCERTAIN

    def rate_limit_next(self, retry_after: float) -> None:
        raise FaultNotInjectable(NO_429)

    def storm(self, *, writes_only: bool = False) -> None:
        set_offline(self._company, True)

    def revoke_credentials(self) -> None:
        self._key.retire()

    def clear(self) -> None:
        set_offline(self._company, False)
        self._key.restore()
        self._wire.reset()

    def requests(self) -> int:
        return self._wire.sent


@contextmanager
def _visma(folder: Path) -> Iterator[Case]:
    """Visma Administration (EmulatedAdk on a company folder) behind a FinancialHost process."""
    system = folder / "Gemensamma filer"
    company = create_company(system, folder / "FTG1", name="Kontrakt AB")
    settings = {
        "system_path": str(system),
        "company_path": str(company),
        "adk": "emulated",
        "auto_create_sellers": True,
    }
    with host_process(folder / "host", plugin="visma", plugin_settings=settings) as host:
        wire = Wire()
        faults = VismaFaults(company, HostKey(host.data_dir), wire)
        try:
            yield Case(
                name="visma",
                existing_customer="2001",
                product="KONSULT",
                erp=VismaErp(system, company),
                faults=faults,
                build=_direct(host, wire, "visma"),
            )
        finally:
            faults.clear()


_CANNOT_429 = {
    check: ExpectedFailure(NO_429, FaultNotInjectable)
    for check in ("rate_limit_short_wait", "rate_limit_long_wait")
}

CASES = [
    CaseSpec("economic", "economic", _economic(modules=True)),
    CaseSpec("economic-basic", "economic", _economic(modules=False)),
    CaseSpec("fortnox", "fortnox", _fortnox),
    CaseSpec("exact", "exact", _exact),
    CaseSpec("nav", "financialhost", _nav, _CANNOT_429),
    CaseSpec("nav-agent", "financialhost", _nav_agent, _CANNOT_429),
    CaseSpec("visma", "financialhost", _visma, _CANNOT_429),
]
