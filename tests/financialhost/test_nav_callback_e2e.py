"""NAV's change log reaches the hub end to end, over real processes: the NAV emulator's job
queue ("Tlp Change Handler") pushes its unprocessed change-log rows to a running FinancialHost's
``/callback/v1/changes`` over HTTPS (verifying the host's certificate), signed with the callback
secret the operator put in the host's vault (``ledgerlink host secret set``); the hub reads them
with the connector's ``changes()``. Each change NAV logged arrives exactly once: a second run
sends nothing, later changes arrive alone, and a re-delivery of everything (NAV never heard the
host's answer) adds nothing."""

from __future__ import annotations

import secrets
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from ledgerlink.connectors.financialhost import FinancialHostConnector
from tests.connectors.financialhost_support import connector_for_host
from tests.contract.host_process import host_process
from tests.financialhost.nav_process import NAV_COMPANY, NAV_PASSWORD, NavProcess, running

Change = tuple[int | None, str, str]


def nav_log(nav: NavProcess) -> list[Change]:
    """NAV's change log in entry order, as (table, record key, change)."""
    rows = sorted(nav.records(50501), key=lambda r: int(r["Entry_No"]))
    return [(r["Table_ID"], r["Record_Key"], r["Change_Type"].lower()) for r in rows]


def read_changes(connector: FinancialHostConnector, cursor: str | None) -> tuple[list[Change], str]:
    """Every change the hub can read after ``cursor`` (all pages), and the next cursor."""
    changes: list[Change] = []
    while True:
        batch = connector.changes(cursor)
        changes += [(c.table_id, c.record_key, c.change) for c in batch.items]
        cursor = batch.cursor
        if not batch.more:
            assert cursor is not None
            return changes, cursor


def run_job_queue(nav: NavProcess) -> dict[str, object]:
    """Run "Tlp Change Handler" of the CRONUS company now; its result."""
    results = nav.call("POST", "/job-queue/run", None)["results"]
    (result,) = [r for r in results if r["company"] == NAV_COMPANY]
    return dict(result)


def set_callback(nav: NavProcess, url: str, secret: str) -> None:
    """The NAV user fills in "TimeLog Setup": the host's callback URL, handle and secret."""
    setup = {
        "Primary_Key": "",
        "TimeLog_Host_URL": url,
        "TimeLog_User_Name": "nav",
        "TimeLog_Password": secret,
    }
    nav.company("POST", "/records/50500/modify", setup)


def set_vault_secret(settings_file: Path, name: str, value: str) -> None:
    """``ledgerlink host secret set NAME --value VALUE --settings FILE``."""
    command = [
        sys.executable, "-c", "from ledgerlink.cli.app import main; main()", "host", "secret",
        "set", name, "--value", value, "--settings", str(settings_file),
    ]  # fmt: skip
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nav_job_queue_changes_reach_the_hub_exactly_once(tmp_path: Path) -> None:
    nav = NavProcess(tmp_path / "nav")  # its port is known now; it starts once the host has
    with host_process(  # made its certificate, which NAV's callback then verifies
        tmp_path / "host",
        plugin="nav",
        plugin_settings=nav.plugin_settings,
        secrets={"nav:password": NAV_PASSWORD},
        sync_wait_seconds=15,  # the draft below is answered when done
    ) as host:
        nav.callback_verify = str(host.certificate_file)
        with (
            running(nav, wait=False),
            connector_for_host(
                host.url, key=host.key, certificate_file=host.certificate_file, page_size=4
            ) as connector,
            closing(host.client()) as hub,  # the hub's signed client: a draft for NAV to post
        ):
            # The operator sets the callback secret in the host's vault (while both run).
            secret = secrets.token_urlsafe(24)
            set_vault_secret(tmp_path / "host" / "financialhost.toml", "callback:nav", secret)
            nav.wait_ready()
            callback_url = f"{host.url}/callback/v1/changes"

            # The hub sends a draft; the NAV user posts it and edits a customer.
            draft = hub.call("document.create_draft", _draft("cb-1"))
            assert draft.body["state"] == "succeeded", draft.body
            number = draft.body["result"]["external_id"]
            nav.company("POST", f"/sales-documents/Invoice/{number}/post")
            nav.company("POST", "/records/18/modify", {"No": "20000", "City": "Odense"})
            logged = nav_log(nav)
            assert (18, "20000", "modify") in logged
            assert (36, f"Invoice,{number}", "insert") in logged
            assert (36, f"Invoice,{number}", "delete") in logged  # posting removes the draft

            # NAV signs with the secret the host had before (host_process's): the host
            # refuses, and NAV keeps the rows for the next run.
            set_callback(nav, callback_url, "callback-secret")
            refused = run_job_queue(nav)
            assert refused["status"] == "Error" and refused["sent"] == 0, refused
            assert "(401)" in str(refused["error"])
            assert read_changes(connector, None)[0] == []

            set_callback(nav, callback_url, secret)
            first = run_job_queue(nav)
            assert first["status"] == "Ready" and first["sent"] == len(logged), first
            changes, cursor = read_changes(connector, None)
            assert changes == logged  # each once, in NAV's order

            # A second run sends nothing; the hub reads nothing new.
            assert run_job_queue(nav)["sent"] == 0
            assert read_changes(connector, cursor) == ([], cursor)

            # A later edit in NAV arrives alone.
            nav.company("POST", "/records/18/modify", {"No": "30000", "City": "Vejle"})
            assert run_job_queue(nav)["sent"] == 1
            later, cursor = read_changes(connector, cursor)
            assert later == [(18, "30000", "modify")]

            # NAV never heard the host's answers and sends every row again: nothing is added.
            everything = nav_log(nav)
            for entry_no in range(1, len(everything) + 1):
                unsent = {"Entry_No": entry_no, "Processed": False}
                nav.company("POST", "/records/50501/modify", unsent)
            again = run_job_queue(nav)
            assert again["status"] == "Ready" and again["sent"] == len(everything), again
            assert read_changes(connector, cursor) == ([], cursor)
            assert read_changes(connector, None)[0] == everything


def _draft(correlation: str) -> dict[str, object]:
    return {
        "idempotency_key": f"document:{correlation}:1",
        "document": {
            "kind": "invoice",
            "correlation": correlation,
            "customer_number": "10000",
            "currency": "DKK",
            "invoice_date": "2026-11-24",
            "due_date": "2026-12-24",
            "lines": [
                {
                    "kind": "work",
                    "description": "Consulting",
                    "product_number": "70000",
                    "quantity": "1",
                    "unit_price": "800.00",
                }
            ],
            "expected_net": "800.00",
            "expected_gross": "1000.00",
        },
    }
