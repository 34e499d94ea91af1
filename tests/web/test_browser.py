"""The web console in a real browser (issue 14 item 10): Debian's Chromium driven by Playwright
against the console served by uvicorn on loopback, over the engine's hub (the sample data, two
posted invoices, a connection to the fake ERP; tests/sync/test_engine.py ``build_hub``), and for
the setup wizard over the product's own connector table and the e-conomic emulator.

Each test gets its own database and server; the browser is one per module. The run writes the
README's screenshots to docs/screenshots/.

Chromium is the Debian package (``/usr/bin/chromium``; ``./dev test`` installs it when it is
missing), never a browser ``playwright install`` downloads. Without it the tests skip with
the reason, except under ``CI=true``, where a missing browser fails them.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from ledgerlink.connectors.contract import Permanent
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.users import Role
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.economic import EconomicEmulator
from ledgerlink.psa import invoicing
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.web.app import create_app
from ledgerlink.web.auth import SESSION_COOKIE
from ledgerlink.web.console import ConsoleOptions
from ledgerlink.web.users import add_user
from tests.web.support import CHEAP, PASSWORD, Console, build_console

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("LEDGERLINK_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: One size for every screenshot, so the README's pictures line up.
VIEWPORT = {"width": 1280, "height": 720}
#: How long a step may take to show in the page (htmx polls every second).
WAIT_MS = 10_000


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{reason}. CI runs the browser tests: install Debian's 'chromium' package "
            "(./dev test does so when it may use apt-get)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        _no_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Exception as error:  # a browser that is there but does not start
            _no_browser(f"Chromium at {CHROMIUM} does not start: {error}")
            raise
        expect.set_options(timeout=WAIT_MS)
        yield launched
        launched.close()


def _in_a_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="console-transfer", daemon=True).start()


@dataclass
class Site:
    url: str
    console: Console

    def path(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[Site]:
    """The console on loopback over a fresh database (plain HTTP, so no Secure cookies)."""
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    database = Database(f"sqlite:///{tmp_path / 'ledgerlink.db'}")
    console = build_console(database, tmp_path, secure_cookies=False, background=_in_a_thread)
    with running(console.app) as url:
        yield Site(url, console)
    database.dispose()


@contextmanager
def new_page(browser: Browser, locale: str = "en-GB") -> Iterator[Page]:
    """A page in a context of its own (cookies, language) at the screenshots' size."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as opened:
        yield opened


def sign_in(
    page: Page, site: Site | Hub, role: Role = Role.FINANCE, at: str = "/transfers"
) -> None:
    """Open ``at``, be sent to the sign-in page, sign in and land back on ``at``."""
    page.goto(site.path(at))
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(role.value)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.path(at))


def nav(page: Page, name: str) -> None:
    """Follow the header's link ``name``."""
    page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def numbers(site: Site) -> list[int]:
    return [invoice.number for invoice in site.console.hub.invoices]


def row(page: Page, number: int) -> Locator:
    """The transfer table's row of document ``number``."""
    return page.locator("table.grid tbody tr").filter(
        has=page.get_by_role("cell", name=str(number), exact=True)
    )


# sign-in ----------------------------------------------------------------------------------------


def test_sign_in_refuses_a_wrong_password_then_lands_on_the_page_asked_for(
    page: Page, site: Site
) -> None:
    page.goto(site.path("/log"))
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)log$"))
    page.get_by_label("User name").fill("finance")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    page.get_by_label("User name").fill("finance")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(site.path("/log"))
    expect(page.get_by_role("heading", name=re.compile("Integration log"))).to_be_visible()
    (session,) = [c for c in page.context.cookies() if c.get("name") == SESSION_COOKIE]
    assert session.get("httpOnly") and session.get("sameSite") == "Lax"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(site.path("/transfers"))
    expect(page).to_have_url(re.compile(r"/login\?next="))


# transfer with progress -------------------------------------------------------------------------


def test_a_transfer_shows_its_progress_until_it_has_finished(page: Page, site: Site) -> None:
    first, second = numbers(site)
    # The ERP takes a while over the second document: the page polls meanwhile.
    site.console.hub.erp.slow_document(f"LL-NORDLYS-{second}", 3)
    sign_in(page, site)
    expect(row(page, first).get_by_role("checkbox")).to_be_checked()  # pre-selected
    expect(row(page, second).get_by_role("checkbox")).to_be_checked()
    screenshot(page, "transfer-table")
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if r.url.endswith("/progress") else None)
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Transfer to"))).to_be_visible()
    expect(page.get_by_text("Transferring…")).to_be_visible()
    expect(page.get_by_text("Finished:")).to_be_visible()
    assert polled, "the page did not poll the transfer's progress"
    progress = page.locator("#progress")
    expect(progress.locator("progress")).to_have_attribute("value", "2")
    expect(progress.locator(".status.successful")).to_have_count(2)
    assert site.console.hub.documents(site.console.hub.invoices[1]) == 1
    page.get_by_role("link", name="Back to the transfer table").click()
    expect(page.get_by_text("No documents in this view")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Transferred")).click()
    expect(row(page, first)).to_be_visible()
    expect(page.get_by_role("columnheader", name="ERP number")).to_be_visible()
    page.goto(site.path("/"))  # the dashboard
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "dashboard")


# a failed transfer, fixed and sent again --------------------------------------------------------


def test_a_failed_transfer_is_read_in_the_log_and_sent_again(page: Page, site: Site) -> None:
    first, second = numbers(site)
    site.console.hub.erp.fail(
        "create_document",
        Permanent(
            "Varenummer KONSULENT findes ikke",
            hint="Create the product in the ERP, then import the product numbers again",
        ),
    )
    sign_in(page, site)
    row(page, second).get_by_role("checkbox").uncheck()
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_text("Finished:")).to_be_visible()
    expect(page.locator("#progress .status.failed")).to_have_count(1)
    # The table: the document is in Failed and Attention.
    page.get_by_role("link", name="Back to the transfer table").click()
    failed_tab = page.get_by_role("link", name=re.compile(r"^Failed"))
    expect(failed_tab.locator(".count")).to_have_text("1")
    failed_tab.click()
    expect(row(page, first)).to_be_visible()
    # The log: a red row that opens to the step, the ERP's own text and the hint.
    nav(page, "Integration log")
    red = page.locator("tr.row-failed").first
    expect(red).to_be_visible()
    red.get_by_role("button", name=re.compile("show the steps")).click()
    steps = page.locator("table.inner")
    expect(steps).to_contain_text("Varenummer KONSULENT findes ikke")
    expect(steps).to_contain_text("import the product numbers again")
    expect(steps.locator("tr.row-failed")).to_have_count(1)
    # Fixed in the ERP (the refusal was once); sent again from the Failed view.
    page.goto(site.path("/transfers?view=failed"))
    expect(row(page, first).get_by_role("checkbox")).to_be_checked()
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_text("Finished:")).to_be_visible()
    expect(page.locator("#progress .status.successful")).to_have_count(1)
    assert site.console.hub.documents(site.console.hub.invoices[0]) == 1
    page.goto(site.path("/transfers?view=failed"))
    expect(page.get_by_text("No documents in this view")).to_be_visible()
    # The log has both transactions; the failed one still opens to its step.
    page.goto(site.path("/log"))
    expect(page.locator("tr.row-successful")).to_have_count(1)
    page.locator("tr.row-failed").get_by_role("button").click()
    expect(page.locator("table.inner")).to_contain_text("Varenummer KONSULENT findes ikke")
    screenshot(page, "integration-log")


# ignore and let in again ------------------------------------------------------------------------


def test_ignore_and_let_in_again_with_a_danish_reader(browser: Browser, site: Site) -> None:
    first, second = numbers(site)
    with new_page(browser, locale="da-DK") as page:
        sign_in(page, site)
        # A Danish browser reads Danish amounts and dates.
        expect(row(page, first)).to_contain_text(re.compile(r"\d,\d\d\s?kr\."))
        expect(row(page, first)).to_contain_text("31.08.2026")
        row(page, second).get_by_role("checkbox").uncheck()
        page.get_by_role("button", name="Ignore").click()
        expect(page.get_by_role("status")).to_have_text("1 document(s) ignored")
        expect(row(page, first)).to_have_count(0)
        page.get_by_role("link", name=re.compile(r"^Ignored")).click()
        expect(row(page, first).get_by_role("checkbox")).to_be_checked()
        page.get_by_role("button", name="Un-ignore").click()
        expect(page.get_by_role("status")).to_have_text("1 document(s) let in again")
        page.get_by_role("link", name=re.compile(r"^Non-transferred")).click()
        expect(row(page, first)).to_be_visible()
        expect(row(page, second)).to_be_visible()


# the log's CSV ----------------------------------------------------------------------------------


def test_the_log_exports_what_it_shows_as_csv(page: Page, site: Site, tmp_path: Path) -> None:
    first, _ = numbers(site)
    site.console.hub.erp.fail("create_document", Permanent("=1+1 Kunden mangler valuta"))
    sign_in(page, site)
    page.goto(site.path("/transfers"))
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_text("Finished:")).to_be_visible()
    nav(page, "Integration log")
    page.get_by_label("Successful").uncheck()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr.row-successful")).to_have_count(0)
    expect(page.locator("tr.row-failed")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("integration-log-connection-")
    with saved.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert {r["status"] for r in rows} == {"failed"}  # the page's status filter
    assert any(r["document"].endswith(str(first)) for r in rows)
    # The ERP's text, written so that a spreadsheet does not run it as a formula.
    texts = [cell for r in rows for cell in (r["message"], r["ERP text"])]
    assert "'=1+1 Kunden mangler valuta" in texts, rows
    assert not any(cell.startswith("=") for r in rows for cell in r.values())


# the setup wizard against the e-conomic emulator ------------------------------------------------

APP_SECRET, GRANT_TOKEN = "app-secret-browser", "grant-token-browser"


@dataclass
class Hub:
    """The console with the product's own connector table (no fake ERP), the sample data with
    one posted invoice, and the e-conomic emulator on loopback."""

    url: str
    economic_url: str
    emulator: EconomicEmulator
    invoice: int

    def path(self, path: str) -> str:
        return self.url + path


@pytest.fixture
def hub(tmp_path: Path, sqlite_template: Path) -> Iterator[Hub]:
    shutil.copy(sqlite_template, tmp_path / "ledgerlink.db")
    database = Database(f"sqlite:///{tmp_path / 'ledgerlink.db'}")
    uow = UnitOfWork(database)
    entity, _ = load_sample_data(uow)
    draft = invoicing.draft_invoice(
        uow,
        invoicing.DraftRequest(
            legal_entity_id=require_id(entity),
            project_number="P-101",
            period=(date(2026, 8, 1), date(2026, 8, 31)),
            invoice_date=date(2026, 8, 31),
        ),
    )
    posted = invoicing.post_invoice(uow, require_id(draft), posting_date=date(2026, 8, 31))
    add_user(lambda: UnitOfWork(database), CHEAP, "admin", Role.ADMIN, PASSWORD)
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
    app = create_app(
        database,
        secrets,
        console=ConsoleOptions(
            passwords=CHEAP,
            failed_sign_in_delay=0,
            secure_cookies=False,
            background=_in_a_thread,
        ),
    )
    emulator = EconomicEmulator(app_secret_token=APP_SECRET, agreement_grant_token=GRANT_TOKEN)
    with running(emulator.app) as economic_url, running(app) as url:
        assert posted.number is not None
        yield Hub(url, economic_url, emulator, posted.number)
    database.dispose()


def check(page: Page, step: str) -> Locator:
    """The check mark of a setup step."""
    return page.locator(f"#step-{step} .check")


def test_the_setup_wizard_connects_e_conomic_step_by_step_and_a_transfer_follows(
    page: Page, hub: Hub
) -> None:
    sign_in(page, hub, Role.ADMIN, at="/connections")
    page.get_by_role("link", name="Add e-conomic").click()
    page.locator('input[name="app_secret_token"]').fill(APP_SECRET)
    page.locator('input[name="agreement_grant_token"]').fill(GRANT_TOKEN)
    page.locator('input[name="base_url"]').fill(hub.economic_url)
    page.get_by_role("button", name="Connect and verify").click()
    expect(page.get_by_role("status")).to_contain_text("connected to e-conomic")
    expect(
        page.locator(".badge").get_by_text("✔ Connection established", exact=True)
    ).to_be_visible()
    expect(page.locator(".badge").get_by_text("Integration disabled", exact=True)).to_be_visible()
    expect(check(page, "connect")).to_have_class(re.compile(r"\bdone\b"))
    expect(check(page, "verify")).to_have_class(re.compile(r"\bdone\b"))
    expect(check(page, "products")).not_to_have_class(re.compile(r"\bdone\b"))
    expect(page.get_by_role("button", name="Activate")).to_be_disabled()
    page.get_by_role("button", name=re.compile("^Import product numbers")).click()
    expect(page.get_by_role("status")).to_contain_text("product numbers imported")
    expect(check(page, "products")).to_have_class(re.compile(r"\bdone\b"))
    page.get_by_label("Product number of default lines").select_option("WORK-DEV")
    page.get_by_role("button", name="Save the principles").click()
    expect(check(page, "principles")).to_have_class(re.compile(r"\bdone\b"))
    page.get_by_role("button", name="Activate").click()
    expect(page.locator(".badge").get_by_text("✔ Integration active", exact=True)).to_be_visible()
    expect(page.locator(".setup-steps .check:not(.done)")).to_have_count(0)
    screenshot(page, "setup")
    # The connection now takes the posted invoice to e-conomic.
    nav(page, "Transfer table")
    expect(row(page, hub.invoice).get_by_role("checkbox")).to_be_checked()
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_text("Finished:")).to_be_visible()
    expect(page.locator("#progress .status.successful")).to_have_count(1)
    page.get_by_role("link", name="Back to the transfer table").click()
    page.get_by_role("link", name=re.compile(r"^Transferred")).click()
    expect(row(page, hub.invoice)).to_be_visible()
    drafts = [
        e
        for e in hub.emulator.journal.entries
        if e.method == "POST" and e.path.endswith("/invoices/drafts") and e.status == 201
    ]
    assert drafts, "e-conomic got no draft invoice"


# the reconciliation report ----------------------------------------------------------------------


def test_the_reconciliation_lists_each_difference_and_downloads_as_csv(
    page: Page, site: Site, tmp_path: Path
) -> None:
    differs, unsent = numbers(site)
    site.console.hub.erp.gross_difference = Decimal("5.00")  # the ERP rounds its own way
    sign_in(page, site)
    row(page, unsent).get_by_role("checkbox").uncheck()
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.get_by_text("Finished:")).to_be_visible()
    nav(page, "Reconciliation")
    page.get_by_label("Posted from").fill("2026-08-01")
    page.get_by_label("to", exact=True).fill("2026-08-31")
    page.get_by_role("button", name="Reconcile").click()
    expect(page.get_by_role("status")).to_have_text("2 document(s) differ.")
    differences = page.locator("tr.difference")
    expect(differences).to_have_count(2)
    expect(differences.filter(has_text=f"invoice {differs}")).to_contain_text("5.00")
    expect(differences.filter(has_text=f"invoice {unsent}")).to_be_visible()
    screenshot(page, "reconciliation")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert sorted(r["number"] for r in rows) == sorted([str(differs), str(unsent)])
    # The difference's link opens its transaction in the integration log.
    differences.filter(has_text=f"invoice {differs}").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/log\?connection=\d+&transaction=\d+"))
    expect(page.locator("tr.row-partially_failed")).to_have_count(1)  # the totals differ
