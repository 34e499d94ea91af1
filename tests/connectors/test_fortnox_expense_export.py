"""Fortnox expense export end to end, on both databases: the Swedish legal entity's PSA expenses
go to the Fortnox emulator over real HTTP as one voucher each in the voucher series chosen in
setup (cost account of the expense type debited, settlement account credited, the PSA project
as Fortnox's project) with the receipt uploaded to the inbox and attached through the voucher
file connection API — exactly once: a rerun sends nothing, a lost answer leaves one voucher,
and a row whose project or account Fortnox does not have ends in a clear log row that a retry
after the fix turns into a voucher (issue 13 items 2 and 7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.connectors._kit.retry import RetryPolicy
from ledgerlink.connectors.registry import spec_for
from ledgerlink.domain.entity import require_id
from ledgerlink.domain.expense_exports import ExportStepKind, expense_correlation
from ledgerlink.domain.transfers import EntityType, StepStatus, TransferStatus
from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.fortnox import FortnoxEmulator
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections, expense_export
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.expense_export import ExportReport, ReceiptFiles
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from tests.contract.registry import FORTNOX_CLIENT, FORTNOX_SECRET, fortnox_values
from tests.sample import load_sample_data

QUICK_RETRY = RetryPolicy(attempts=2, timeout=5, wait_initial=0.01, wait_max=0.02, wait_jitter=0)
#: The sample receipts of the Swedish project P-200 (SEK, employee SL).
RECEIPTS = {
    "receipts/2026-08-flight.pdf": b"%PDF-1.4 flight CPH-ARN",
    "receipts/2026-08-hotel.pdf": b"%PDF-1.4 hotel Stockholm",
    "receipts/2026-09-flight.pdf": b"%PDF-1.4 flight September",
    "receipts/2026-09-hotel.pdf": b"%PDF-1.4 hotel September",
}


@dataclass
class World:
    engine: Engine
    emulator: FortnoxEmulator
    connection_id: int
    receipts: Path
    expenses: dict[str, int]  # the sample expenses' refs → ids
    code: str

    def export(self, *refs: str, retry_failed: bool = True) -> ExportReport:
        return expense_export.export_expenses(
            self.engine.uow,
            self.engine.connectors,
            self.connection_id,
            receipts=ReceiptFiles(self.receipts),
            retry_failed=retry_failed,
            only=[self.expenses[r] for r in refs],
        )

    def correlation(self, ref: str) -> str:
        return expense_correlation(self.code, self.expenses[ref])

    def vouchers(self, ref: str) -> list[dict[str, Any]]:
        wanted = self.correlation(ref)
        with self.emulator.state.lock:
            return [
                dict(v)
                for v in self.emulator.state.company.table("vouchers").values()
                if wanted in str(v.get("Comments", ""))
            ]

    def attached(self, voucher: dict[str, Any]) -> list[dict[str, Any]]:
        """The files attached to ``voucher``, with their stored documents."""
        company = self.emulator.state.company
        with self.emulator.state.lock:
            return [
                {**c, "file": dict(company.files[c["FileId"]])}
                for c in company.table("voucherfileconnections").values()
                if (c["VoucherSeries"], c["VoucherNumber"], c["VoucherYear"])
                == (voucher["VoucherSeries"], str(voucher["VoucherNumber"]), voucher["Year"])
            ]

    def posts(self, path: str) -> int:
        return self.emulator.journal.count("POST", path)

    def fortnox_project(self, number: str, *, present: bool) -> None:
        state = self.emulator.state
        with state.change():
            projects = state.company.table("projects")
            if present:
                projects[number] = {
                    "ProjectNumber": number,
                    "Description": "ERP roll-out Sweden",
                    "Status": "ONGOING",
                }
            else:
                projects.pop(number, None)

    def key(self, ref: str) -> str | None:
        with self.engine.uow() as uow:
            key = uow.external_keys.get(self.connection_id, EntityType.EXPENSE, self.expenses[ref])
        return key.external_id if key is not None else None

    def log(self, ref: str) -> list[Any]:
        return expense_export.export_log(
            self.engine.uow, self.connection_id, expense_id=self.expenses[ref]
        )


def user_approves(url: str) -> None:
    with httpx2.Client(timeout=10, follow_redirects=True) as browser:
        browser.get(f"{url}&approve=yes").raise_for_status()


@pytest.fixture
def world(database: Database, tmp_path: Path) -> Iterator[World]:
    emulator = FortnoxEmulator(client_id=FORTNOX_CLIENT, client_secret=FORTNOX_SECRET)
    with running(emulator.app) as base_url:
        uow = UnitOfWork(database)
        entity, _ = load_sample_data(uow, country="SE", currency="SEK")
        with uow:
            expenses = {
                str(e.ref): require_id(e)
                for e in uow.expenses.list(legal_entity_id=require_id(entity))
            }
        for name, content in RECEIPTS.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=True)
        engine = Engine(
            database,
            ConnectorProvider(
                secrets, environment=hub_environment(database, secrets, retry=QUICK_RETRY)
            ),
        )
        connection, _ = connections.connect_with_oauth(
            engine,
            secrets,
            spec_for("fortnox"),
            fortnox_values(base_url, expense_voucher_series="U"),
            legal_entity_id=require_id(entity),
            show_url=user_approves,
            timeout=10,
        )
        world = World(engine, emulator, require_id(connection), tmp_path, expenses, entity.code)
        world.fortnox_project("P200", present=True)  # the PSA's P-200 in Fortnox
        try:
            yield world
        finally:
            engine.connectors.close()


def test_expenses_become_one_voucher_each_with_the_receipt_and_a_rerun_sends_nothing(
    world: World,
) -> None:
    report = world.export("E0001", "E0002")
    assert (report.exported, report.receipts, report.failed, report.pending) == (2, 2, 0, 0)

    (flight,) = world.vouchers("E0001")
    (hotel,) = world.vouchers("E0002")
    assert flight["VoucherSeries"] == hotel["VoucherSeries"] == "U"
    assert flight["TransactionDate"] == "2026-08-12"
    assert flight["Comments"] == f"Sofie Larsen ({world.correlation('E0001')})"
    rows = [(r["Account"], r["Debit"], r["Credit"], r["Project"]) for r in hotel["VoucherRows"]]
    assert rows == [  # 2 nights x 1802.00 without VAT, booked as an "expense"
        (6990, Decimal("3604.00"), Decimal("0.00"), "P200"),
        (2890, Decimal("0.00"), Decimal("3604.00"), ""),
    ]
    assert flight["VoucherRows"][0]["Account"] == 5800  # travel

    (attached,) = world.attached(flight)
    assert attached["file"]["Name"] == f"{world.correlation('E0001')}.pdf"
    assert attached["file"]["_folder"] == "archive"  # Fortnox files a connected receipt
    assert world.key("E0001") == f"U-{flight['VoucherNumber']}-{flight['Year']}"

    (logged,) = world.log("E0002")
    assert logged.status is TransferStatus.SUCCESSFUL
    assert [(s.kind, s.status) for s in logged.steps] == [
        (ExportStepKind.VOUCHER, StepStatus.SUCCESSFUL),
        (ExportStepKind.RECEIPT, StepStatus.SUCCESSFUL),
    ]

    again = world.export("E0001", "E0002")
    assert again.read == 0
    assert world.posts("/3/vouchers") == 2
    assert world.posts("/3/inbox") == 2
    assert world.posts("/3/voucherfileconnections") == 2


def test_a_lost_answer_leads_to_exactly_one_voucher(world: World) -> None:
    faults = world.emulator.faults
    faults.set("/3/vouchers", methods=["POST"], drop_after_commit_rate=1.0)
    report = world.export("E0001")
    faults.clear()
    assert (report.exported, report.receipts, report.failed) == (1, 1, 0)
    assert len(world.vouchers("E0001")) == 1
    (voucher,) = world.log("E0001")[0].steps[:1]
    assert "found (an earlier attempt had reached the ERP)" in voucher.message

    # The answer lost, and Fortnox not reachable for the lookup either: the export waits
    # (pending) and the next run looks the voucher up before it sends anything.
    faults.set("/3/vouchers", methods=["POST"], drop_after_commit_rate=1.0)
    faults.set("/3/vouchers/sublist", methods=["GET"], error_rate=1.0)
    waiting = world.export("E0002")
    faults.clear()
    assert (waiting.pending, waiting.stopped) == (1, "the ERP is not available now")
    assert world.key("E0002") is None
    resumed = world.export("E0002", retry_failed=False)  # pending goes on by itself
    assert (resumed.exported, resumed.receipts) == (1, 1)
    assert len(world.vouchers("E0002")) == 1
    assert world.posts("/3/vouchers") == 2  # one per expense, ever
    (logged,) = world.log("E0002")  # the same transaction, resumed
    assert logged.status is TransferStatus.SUCCESSFUL


def test_a_lost_upload_attaches_the_receipt_once(world: World) -> None:
    world.emulator.faults.set("/3/inbox", methods=["POST"], drop_after_commit_rate=1.0)
    first = world.export("E0008")
    world.emulator.faults.clear()
    assert (first.exported, first.receipts, first.pending) == (1, 0, 1)
    second = world.export("E0008", retry_failed=False)
    assert (second.exported, second.receipts) == (1, 1)
    (voucher,) = world.vouchers("E0008")
    (attached,) = world.attached(voucher)
    assert attached["file"]["Content"]  # the upload the lost answer made, not a second one
    assert world.posts("/3/inbox") == 1
    assert world.posts("/3/vouchers") == 1


def test_a_missing_project_fails_clearly_and_a_retry_after_the_fix_succeeds(
    world: World,
) -> None:
    world.fortnox_project("P200", present=False)
    report = world.export("E0001")
    assert (report.exported, report.failed) == (0, 1)
    (failure,) = report.failures
    assert "Fortnox has no project P200" in failure
    (logged,) = world.log("E0001")
    assert logged.status is TransferStatus.FAILED
    (step,) = logged.steps
    assert (step.kind, step.status) == (ExportStepKind.VOUCHER, StepStatus.FAILED)
    assert step.message == "Fortnox has no project P200"
    assert step.erp_text == "Kan inte hitta projektet (P200)."
    assert "create project P200 in Fortnox" in step.hint
    assert world.key("E0001") is None and world.vouchers("E0001") == []

    # The worker's round leaves a failed export to the user.
    assert world.export("E0001", retry_failed=False).read == 0

    world.fortnox_project("P200", present=True)
    retried = world.export("E0001")
    assert (retried.exported, retried.receipts, retried.failed) == (1, 1, 0)
    assert len(world.vouchers("E0001")) == 1
    newest, oldest = world.log("E0001")
    assert (oldest.attempt, oldest.status) == (0, TransferStatus.FAILED)  # kept as it was
    assert (newest.attempt, newest.status) == (1, TransferStatus.SUCCESSFUL)


def test_a_missing_account_fails_clearly_and_a_retry_after_the_fix_succeeds(
    world: World,
) -> None:
    accounts = {"expense": 6990, "travel": 5899, "mileage": 7331}
    connections.configure(
        world.engine, world.connection_id, settings={"expense_export_accounts": accounts}
    )
    report = world.export("E0001")
    assert (report.exported, report.failed) == (0, 1)
    (logged,) = world.log("E0001")
    (step,) = logged.steps
    assert step.message == "Fortnox has no account 5899"
    assert step.erp_text == "Kan inte hitta kontot."
    assert "expense_export_accounts" in step.hint
    assert world.vouchers("E0001") == []

    connections.configure(
        world.engine,
        world.connection_id,
        settings={"expense_export_accounts": {**accounts, "travel": 5800}},
    )
    retried = world.export("E0001")
    assert (retried.exported, retried.failed) == (1, 0)
    (voucher,) = world.vouchers("E0001")
    assert voucher["VoucherRows"][0]["Account"] == 5800


def test_a_missing_receipt_leaves_the_voucher_and_the_retry_attaches_it_only(
    world: World,
) -> None:
    receipt = world.receipts / "receipts" / "2026-09-hotel.pdf"
    content = receipt.read_bytes()
    receipt.unlink()
    report = world.export("E0009")
    assert (report.exported, report.receipts, report.failed) == (1, 0, 1)
    (logged,) = world.log("E0009")
    assert logged.status is TransferStatus.PARTIALLY_FAILED
    voucher_step, receipt_step = logged.steps
    assert voucher_step.status is StepStatus.SUCCESSFUL
    assert receipt_step.status is StepStatus.FAILED
    assert "2026-09-hotel.pdf cannot be read" in receipt_step.message
    assert world.key("E0009")  # exported: the voucher is in Fortnox

    receipt.write_bytes(content)
    retried = world.export("E0009")
    assert (retried.exported, retried.receipts, retried.failed) == (1, 1, 0)
    (voucher,) = world.vouchers("E0009")
    assert len(world.attached(voucher)) == 1
    assert world.posts("/3/vouchers") == 1
    assert world.log("E0009")[0].status is TransferStatus.SUCCESSFUL


def test_a_currency_fortnox_cannot_book_is_refused_and_can_be_ignored(world: World) -> None:
    report = world.export("E0005")  # EUR
    assert report.failed == 1
    assert "in EUR; Fortnox vouchers are in SEK" in report.failures[0]
    assert world.posts("/3/vouchers") == 0
    changed = expense_export.ignore_expenses(
        world.engine.uow, world.connection_id, [world.expenses["E0005"]], ignored=True
    )
    assert changed == 1
    assert world.export("E0005").read == 0


def test_no_voucher_series_no_expense_export(world: World) -> None:
    connections.configure(
        world.engine, world.connection_id, settings={"expense_voucher_series": ""}
    )
    report = world.export("E0001")
    assert not report.enabled and report.read == 0
    assert world.posts("/3/vouchers") == 0


def test_the_cli_exports_shows_the_log_and_says_what_failed(
    world: World, database: Database
) -> None:
    base = ["--data-dir", str(world.receipts), "--database-url", database.url, "expenses"]
    runner = CliRunner()
    world.fortnox_project("P200", present=False)
    ids = [str(world.expenses[r]) for r in ("E0001", "E0002")]
    picked = [arg for i in ids for arg in ("--expense", i)]
    receipts = ["--receipts", str(world.receipts)]
    failed = runner.invoke(app, [*base, "export", *receipts, *picked], env={"COLUMNS": "240"})
    assert failed.exit_code == 1, failed.output
    assert "0 exported" in failed.stdout and "2 failed" in failed.stdout
    assert "Fortnox has no project P200" in failed.stdout

    world.fortnox_project("P200", present=True)
    done = runner.invoke(app, [*base, "export", *receipts, *picked])
    assert done.exit_code == 0, done.output
    assert "2 exported, 2 receipts attached, 0 failed" in done.stdout

    shown = runner.invoke(app, [*base, "log", "--json"])
    assert shown.exit_code == 0, shown.output
    statuses = [(e["expense"], e["attempt"], e["status"]) for e in json.loads(shown.stdout)]
    assert sorted(statuses) == sorted(
        [(int(i), 0, "failed") for i in ids] + [(int(i), 1, "successful") for i in ids]
    )
