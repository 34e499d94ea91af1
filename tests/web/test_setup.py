"""The connection setup wizard (issue 14 item 5), driven by the spec table: e-conomic's static
tokens against its emulator, Fortnox's OAuth2 through the console's own callback route
against its emulator (consent given programmatically), each step a check mark, activation
only when every step is done, reset after a confirmation; no secret rendered, ever."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledgerlink.connectors.spec import TOKEN_REF
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.transfers import Connection
from ledgerlink.domain.users import Role
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.store.database import Database
from ledgerlink.store.tokens import TokenStore
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.web.app import create_app
from ledgerlink.web.console import ConsoleOptions
from ledgerlink.web.users import add_user
from tests.financialhost.conftest import start_host
from tests.sample import load_sample_data
from tests.web.support import CHEAP, PASSWORD, Browser

APP_SECRET = "app-SECRET-7f3a9c"
GRANT_TOKEN = "grant-SECRET-51be0d"
CLIENT_ID, CLIENT_SECRET = "ledgerlink-web", "fortnox-SECRET-c0ffee"
SECRETS = (APP_SECRET, GRANT_TOKEN, CLIENT_SECRET, PASSWORD, "$argon2")
CALLBACK = "https://testserver/connections/oauth/callback"


@pytest.fixture(scope="module")
def economic() -> Iterator[str]:
    emulator = EconomicEmulator(app_secret_token=APP_SECRET, agreement_grant_token=GRANT_TOKEN)
    with running(emulator.app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def fortnox() -> Iterator[str]:
    emulator = FortnoxEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with running(emulator.app) as base_url:
        yield base_url


@dataclass
class Hub:
    app: FastAPI
    database: Database
    secrets: SecretBox
    entity_id: int
    pages: list[str]

    @contextmanager
    def client(self, role: Role = Role.ADMIN) -> Iterator[Browser]:
        with TestClient(self.app, base_url="https://testserver", follow_redirects=False) as http:
            browser = Browser(http)
            browser.sign_in(role.value, PASSWORD)
            yield browser

    def get(self, browser: Browser, path: str) -> str:
        """A page (200), kept to check that no page shows a secret."""
        answer = browser.http.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:400])
        self.pages.append(answer.text)
        return answer.text

    def connection(self, erp: str) -> Connection:
        with UnitOfWork(self.database) as uow:
            found = uow.connections.find(self.entity_id, erp)
        assert found is not None
        return found


@pytest.fixture
def hub(database: Database, tmp_path: Path) -> Iterator[Hub]:
    entity, _ = load_sample_data(UnitOfWork(database))
    for role in Role:
        add_user(lambda: UnitOfWork(database), CHEAP, role.value, role, PASSWORD)
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
    app = create_app(
        database,
        secrets,
        console=ConsoleOptions(
            passwords=CHEAP, failed_sign_in_delay=0, background=lambda work: work()
        ),
    )
    made = Hub(app, database, secrets, require_id(entity), [])
    yield made
    for page in made.pages:
        for secret in SECRETS:
            assert secret not in page


def _checks(page: str) -> dict[str, bool]:
    """Step id → whether its check mark is done."""
    found = re.findall(r'<li id="step-([a-z-]+)">\s*<span class="check( done)?"', page)
    return {step: bool(done) for step, done in found}


def _done(browser: Browser, answer: object) -> str:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    return parse_qs(urlsplit(location).query).get("done", [""])[0]


def test_every_erp_of_the_spec_table_can_be_added_by_an_admin_only(hub: Hub) -> None:
    with hub.client() as browser:
        page = hub.get(browser, "/connections")
        for name in ("e-conomic", "Exact Online", "Fortnox", "FinancialHost"):
            assert f"Add {name}" in page
        # The form is the spec's: FinancialHost's host address, certificate and agent id.
        form = hub.get(browser, "/connections/new?erp=financialhost")
        assert '<select name="erp_system" required>' in form
        assert '<input type="password" name="secret"' in form
        assert '<textarea name="tls_certificate"' in form
        assert 'name="agent_id"' in form
        assert browser.http.get("/connections/new?erp=nope").status_code == 400
    for role in (Role.FINANCE, Role.VIEWER):
        with hub.client(role) as browser:
            assert browser.http.get("/connections").status_code == 403
            assert browser.post("/connections/new", {"erp": "economic"}).status_code == 403
            assert 'href="/connections"' not in browser.http.get("/log").text


def test_economic_is_set_up_step_by_step_and_activated(hub: Hub, economic: str) -> None:
    with hub.client() as browser:
        form = hub.get(browser, "/connections/new?erp=economic")
        assert '<input type="password" name="app_secret_token"' in form
        answer = browser.post("/connections/new", _economic_form(hub, economic))
        assert answer.status_code == 303, answer.text[:500]
        connection = hub.connection("economic")
        setup = f"/connections/{connection.id}/setup"
        assert answer.headers["location"].startswith(setup)
        assert "connected to e-conomic agreement" in _done(browser, answer)
        assert not connection.active  # disabled until every step is done

        page = hub.get(browser, setup)
        assert _checks(page) == {
            "connect": True,
            "verify": True,
            "products": False,
            "principles": False,
            "customer-master": True,
            "automatic": True,
            "activate": False,
        }
        assert "Integration disabled" in page
        assert "✔ Connection established" in page

        refused = browser.post(f"{setup[:-6]}/activate", {"active": "true"})
        assert refused.status_code == 400
        assert "cannot be activated yet" in refused.text

        imported = browser.post(f"/connections/{connection.id}/products")
        assert "product numbers imported" in _done(browser, imported)
        page = hub.get(browser, setup)
        assert _checks(page)["products"]
        assert '<option value="WORK-DEV"' in page

        saved = browser.post(
            f"/connections/{connection.id}/principles", {"work": "WORK-DEV", "default": "WORK-DEV"}
        )
        assert saved.status_code == 303
        unknown = browser.post(f"/connections/{connection.id}/principles", {"default": "NOPE"})
        assert unknown.status_code == 400
        assert "not among the" in unknown.text

        both = browser.post(
            f"/connections/{connection.id}/customer-master", {"customer_master": "both"}
        )
        assert both.status_code == 400
        assert "supports customer master erp, psa" in both.text
        erp = browser.post(
            f"/connections/{connection.id}/customer-master", {"customer_master": "erp"}
        )
        assert erp.status_code == 303
        auto = browser.post(f"/connections/{connection.id}/automatic", {"automatic": "true"})
        assert auto.status_code == 303
        active = browser.post(f"/connections/{connection.id}/activate", {"active": "true"})
        assert active.status_code == 303

        page = hub.get(browser, setup)
        assert all(_checks(page).values()), _checks(page)
        assert "✔ Integration active" in page
        connection = hub.connection("economic")
        assert (connection.customer_master.value, connection.automatic_transfer) == ("erp", True)
        assert connection.principles.default == "WORK-DEV"
        assert connection.active


def test_connecting_again_shows_the_secrets_as_stored_and_keeps_them(
    hub: Hub, economic: str
) -> None:
    with hub.client() as browser:
        connect = _economic_form(hub, economic)
        assert browser.post("/connections/new", connect).status_code == 303
        connection = hub.connection("economic")
        again = hub.get(browser, f"/connections/new?erp=economic&legal_entity={hub.entity_id}")
        assert again.count('placeholder="stored"') == 2
        kept = browser.post(
            "/connections/new", {**connect, "app_secret_token": "", "agreement_grant_token": ""}
        )
        assert kept.status_code == 303, kept.text[:500]
        assert hub.secrets.open(hub.connection("economic").credentials) == hub.secrets.open(
            connection.credentials
        )
        verified = browser.post(f"/connections/{connection.id}/verify")
        assert "verified:" in _done(browser, verified)
        hub.get(browser, "/connections")
        hub.get(browser, "/")


def _economic_form(hub: Hub, economic: str) -> dict[str, object]:
    return {
        "erp": "economic",
        "legal_entity": hub.entity_id,
        "app_secret_token": APP_SECRET,
        "agreement_grant_token": GRANT_TOKEN,
        "base_url": economic,
    }


def test_economic_without_a_grant_token_sends_the_user_to_its_grant_page_and_back(
    hub: Hub, economic: str
) -> None:
    with hub.client() as browser:
        form = {
            **_economic_form(hub, economic),
            "agreement_grant_token": "",
            "app_public_token": "app-public",
            "grant_page": economic,
        }
        answer = browser.post("/connections/new", form)
        page = _onward(answer)
        assert page.startswith(f"{economic}/secure/api1/requestaccess.aspx?")
        (redirect,) = parse_qs(urlsplit(page).query)["redirectUrl"]
        assert redirect.startswith(f"{CALLBACK}?grant=")
        # The customer signs in at e-conomic and grants access; e-conomic sends them back.
        granted = httpx2.post(
            f"{economic}/secure/api1/requestaccess.aspx",
            data={
                "appPublicToken": "app-public",
                "redirectUrl": redirect,
                "agreementNumber": "7654321",
                "userId": "finance",
                "password": "their own",
            },
            follow_redirects=False,
        )
        assert granted.status_code == 302, granted.text
        back = granted.headers["location"].removeprefix("https://testserver")
        assert browser.http.get(back.replace("grant=", "grant=x")).status_code == 400
        connected = browser.http.get(back)
        assert connected.status_code == 303, connected.text[:500]
        assert "connected to e-conomic agreement" in _done(browser, connected)
        credentials = hub.secrets.open(hub.connection("economic").credentials)
        assert credentials["agreement_grant_token"] == GRANT_TOKEN
        assert browser.http.get(back).status_code == 400  # used once
        hub.get(browser, f"/connections/{hub.connection('economic').id}/setup")


def test_wrong_tokens_store_nothing_and_the_page_says_what_the_erp_said(
    hub: Hub, economic: str
) -> None:
    with hub.client() as browser:
        answer = browser.post(
            "/connections/new",
            {
                "erp": "economic",
                "legal_entity": hub.entity_id,
                "app_secret_token": "wrong",
                "agreement_grant_token": GRANT_TOKEN,
                "base_url": economic,
            },
        )
        assert answer.status_code == 400
        assert "e-conomic" in answer.text
        missing = browser.post(
            "/connections/new",
            {"erp": "economic", "legal_entity": hub.entity_id, "base_url": economic},
        )
        assert missing.status_code == 400
        assert "is required for e-conomic" in missing.text
    with UnitOfWork(hub.database) as uow:
        assert uow.connections.find(hub.entity_id, "economic") is None


def test_reset_asks_first_then_forgets_the_credentials_and_disables(
    hub: Hub, economic: str
) -> None:
    with hub.client() as browser:
        browser.post("/connections/new", _economic_form(hub, economic))
        connection = hub.connection("economic")
        asked = browser.post(f"/connections/{connection.id}/reset")
        assert asked.status_code == 200
        assert "Yes, reset the connection" in asked.text
        assert hub.connection("economic").credentials == connection.credentials
        done = browser.post(f"/connections/{connection.id}/reset", {"confirm": "yes"})
        assert done.status_code == 303
        after = hub.connection("economic")
        assert (after.credentials, after.active, after.verified_at) == ("", False, None)
        page = hub.get(browser, f"/connections/{connection.id}/setup")
        checks = _checks(page)
        assert not checks["connect"] and not checks["verify"]
        verify = browser.post(f"/connections/{connection.id}/verify")
        assert verify.status_code == 400
        assert "connect it first" in verify.text


def _start_fortnox(hub: Hub, browser: Browser, fortnox: str) -> str:
    answer = browser.post(
        "/connections/new",
        {
            "erp": "fortnox",
            "legal_entity": hub.entity_id,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "base_url": fortnox,
            "auth_url": f"{fortnox}/oauth-v1",
        },
    )
    authorize = _onward(answer)
    assert authorize.startswith(f"{fortnox}/oauth-v1/auth?")
    assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [CALLBACK]
    assert CLIENT_SECRET not in authorize
    return authorize


def _onward(answer: object) -> str:
    """Where the page after the connect form sends the browser on to (the ERP's page): a
    page with a link and a refresh, since the console's CSP keeps forms (and the redirects
    after them) to the console itself."""
    assert answer.status_code == 200, answer.text[:500]  # type: ignore[attr-defined]
    text: str = answer.text  # type: ignore[attr-defined]
    link = re.search(r'<a id="grant" class="button primary" href="([^"]+)"', text)
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', text)
    assert link and refresh, text[:500]
    assert link.group(1) == refresh.group(1)
    return html.unescape(link.group(1))


def _consent(authorize: str, decision: str = "yes") -> str:
    """The user approves (or denies) on the ERP's page; the ERP sends the browser back."""
    answer = httpx2.get(f"{authorize}&approve={decision}", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = answer.headers["location"]
    assert back.startswith(CALLBACK)
    return back.removeprefix("https://testserver")


def test_fortnox_connects_through_the_consoles_own_oauth_callback(hub: Hub, fortnox: str) -> None:
    with hub.client() as browser:
        authorize = _start_fortnox(hub, browser, fortnox)
        callback = _consent(authorize)
        answer = browser.http.get(callback)
        assert answer.status_code == 303, answer.text[:500]
        assert "connected to Fortnox company" in _done(browser, answer)
        connection = hub.connection("fortnox")
        credentials = hub.secrets.open(connection.credentials)
        assert credentials["client_secret"] == CLIENT_SECRET
        assert TokenStore(hub.database, hub.secrets).load(credentials[TOKEN_REF]) is not None
        assert not connection.active

        page = hub.get(browser, f"/connections/{connection.id}/setup")
        assert _checks(page)["connect"] and _checks(page)["verify"]
        assert "step-account" not in page  # Fortnox's credentials open one company
        imported = browser.post(f"/connections/{connection.id}/products")
        assert imported.status_code == 303, imported.text[:500]
        assert _checks(hub.get(browser, f"/connections/{connection.id}/setup"))["products"]

        # The answer is used once.
        replayed = browser.http.get(callback)
        assert replayed.status_code == 400
        assert "no connect in progress" in replayed.text

        # Connecting again replaces the tokens; the stored client secret is kept.
        form = hub.get(browser, f"/connections/new?erp=fortnox&legal_entity={hub.entity_id}")
        assert 'placeholder="stored"' in form
        assert f'<code id="redirect-uri">{CALLBACK}</code>' in form
        again = browser.post(
            "/connections/new",
            {
                "erp": "fortnox",
                "legal_entity": hub.entity_id,
                "client_id": CLIENT_ID,
                "base_url": fortnox,
                "auth_url": f"{fortnox}/oauth-v1",
            },
        )
        assert browser.http.get(_consent(_onward(again))).status_code == 303
        renewed = hub.secrets.open(hub.connection("fortnox").credentials)
        assert renewed[TOKEN_REF] != credentials[TOKEN_REF]
        store = TokenStore(hub.database, hub.secrets)
        assert store.load(credentials[TOKEN_REF]) is None
        assert store.load(renewed[TOKEN_REF]) is not None


def test_a_callback_with_another_state_another_user_or_a_denial_connects_nothing(
    hub: Hub, fortnox: str
) -> None:
    with hub.client() as browser:
        authorize = _start_fortnox(hub, browser, fortnox)
        callback = _consent(authorize)
        forged = re.sub(r"state=[^&]+", "state=forged", callback)
        answer = browser.http.get(forged)
        assert answer.status_code == 400
        assert "no connect in progress" in answer.text
        # Another admin cannot finish what this one started.
        add_user(lambda: UnitOfWork(hub.database), CHEAP, "other", Role.ADMIN, PASSWORD)
        with TestClient(hub.app, base_url="https://testserver", follow_redirects=False) as http:
            other = Browser(http)
            other.sign_in("other", PASSWORD)
            assert other.http.get(callback).status_code == 400

        denied = _consent(_start_fortnox(hub, browser, fortnox), decision="no")
        answer = browser.http.get(denied)
        assert answer.status_code == 400
        assert "did not grant access" in answer.text
        hub.pages.append(answer.text)
    with UnitOfWork(hub.database) as uow:
        assert uow.connections.find(hub.entity_id, "fortnox") is None


def test_a_spec_with_a_division_field_has_the_choose_step(hub: Hub) -> None:
    with UnitOfWork(hub.database) as uow:
        connection = uow.connections.save(
            Connection(
                legal_entity_id=hub.entity_id,
                erp="exact",
                credentials=hub.secrets.seal({"client_secret": CLIENT_SECRET, TOKEN_REF: "x"}),
                settings={"client_id": CLIENT_ID, "division": "4711"},
                active=False,
            )
        )
        uow.commit()
    with hub.client() as browser:
        page = hub.get(browser, f"/connections/{connection.id}/setup")
    assert _checks(page)["account"]
    assert "division 4711" in page
    assert f'action="/connections/{connection.id}/account"' in page


def test_financialhost_connects_with_its_address_certificate_and_key(
    hub: Hub, tmp_path: Path
) -> None:
    """FinancialHost's form (issue 14 item 5): the host's https address, the certificate to
    trust and the hub key; connecting verifies against the running host (a signed
    connection.test over TLS) and a wrong secret is the host's own refusal, nothing stored."""
    for live in start_host(tmp_path):
        pem = Path(live.certificate.cert_file).read_text(encoding="ascii")
        form = {
            "erp": "financialhost",
            "legal_entity": hub.entity_id,
            "erp_system": "nav",
            "key_id": live.key.key_id,
            "base_url": live.url,
            "tls_certificate": pem,
        }
        with hub.client() as browser:
            wrong = browser.post("/connections/new", {**form, "secret": "not-the-secret"})
            assert wrong.status_code == 400, wrong.text[:500]
            assert "FinancialHost refused our signature" in html.unescape(wrong.text)
            with UnitOfWork(hub.database) as uow:
                assert uow.connections.find(hub.entity_id, "financialhost") is None
            answer = browser.post("/connections/new", {**form, "secret": live.key.secret.decode()})
            assert answer.status_code == 303, answer.text[:500]
            connection = hub.connection("financialhost")
            page = hub.get(browser, f"/connections/{connection.id}/setup")
            checks = _checks(page)
            assert checks["connect"] and checks["verify"], checks
            assert "✔ Connection established" in page
            assert pem not in page and "not-the-secret" not in page
