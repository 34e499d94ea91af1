"""Store-and-forward and the audit chain, with the host served over HTTPS."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from typer.testing import CliRunner

from ledgerlink.cli.app import app
from ledgerlink.financialhost.audit import verify_chain
from tests.financialhost.conftest import LiveHost, start_host
from tests.financialhost.fakes import MemoryPlugin

DOC = {
    "idempotency_key": "document:ll:1:42:1",
    "document": {
        "kind": "invoice",
        "correlation": "ll:1:42:1",
        "customer_number": "10000",
        "currency": "DKK",
        "invoice_date": "2026-03-02",
        "due_date": "2026-04-01",
        "lines": [
            {
                "kind": "work",
                "description": "Consulting",
                "product_number": "WORK",
                "quantity": "7.5",
                "unit_price": "850.00",
            }
        ],
        "expected_net": "6375.00",
        "expected_gross": "7968.75",
    },
}


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_erp_down_the_write_waits_survives_a_restart_and_runs_once(tmp_path: Path) -> None:
    hosts = start_host(tmp_path)
    live: LiveHost = next(hosts)
    live.plugin.down = True
    client = live.client()
    answer = client.call("document.create_draft", DOC)
    assert answer.status == 202
    assert answer.body["state"] == "pending"
    status = client.call("job.status", {"idempotency_key": DOC["idempotency_key"]})
    assert status.body["state"] == "pending"
    assert "does not answer" in status.body["last_problem"]
    # Sending it again (the hub retrying) stores nothing new.
    assert client.call("document.create_draft", DOC).body["job_id"] == answer.body["job_id"]
    hosts.close()  # stop the host while the job waits

    restarted = start_host(tmp_path)  # same data folder, fresh process state
    again: LiveHost = next(restarted)
    # Nobody sends it again: the restarted host finds the stored job and runs it.
    wait_until(lambda: again.plugin.calls.count("create_draft") == 1)
    client = again.client()
    wait_until(
        lambda: (
            client.call("job.status", {"idempotency_key": DOC["idempotency_key"]}).body["state"]
            == "succeeded"
        )
    )
    done = client.call("job.status", {"idempotency_key": DOC["idempotency_key"]})
    assert done.body["result"]["net"] == "6375.000"
    assert client.call("document.create_draft", DOC).status == 200
    assert again.plugin.calls.count("create_draft") == 1
    restarted.close()


def test_a_draft_the_erp_already_has_is_found_not_created_again(live_host: LiveHost) -> None:
    # As after a crash between the ERP write and the local commit: the ERP has it already.
    first = live_host.client().call("document.create_draft", DOC)
    assert first.body["state"] == "succeeded"
    retry = {**DOC, "idempotency_key": "document:ll:1:42:1:after-crash"}
    second = live_host.client().call("document.create_draft", retry)
    assert second.body["state"] == "succeeded"
    assert second.body["result"]["external_id"] == first.body["result"]["external_id"]
    assert live_host.plugin.calls.count("create_draft") == 1


def test_same_key_other_body_is_a_conflict(live_host: LiveHost) -> None:
    client = live_host.client()
    assert client.call("document.create_draft", DOC).status == 200
    changed = {**DOC, "document": {**DOC["document"], "currency": "EUR"}}  # type: ignore[dict-item]
    answer = client.call("document.create_draft", changed)
    assert answer.status == 409
    assert answer.body["error"]["code"] == "conflict"


def test_erp_rejection_fails_the_job_with_the_erp_text(live_host: LiveHost) -> None:
    body = {
        "idempotency_key": "customer:1",
        "customer": {"number": "1", "name": "X", "currency": "SEK", "country": "XX"},
    }
    answer = live_host.client().call("customer.upsert", body)
    assert answer.status == 200
    assert answer.body["state"] == "failed"
    assert answer.body["error"]["erp_text"] == "Kan ej hitta angiven landskod."
    assert answer.body["error"]["hint"]


def test_reads_when_the_erp_is_down_are_503_with_retry_after(live_host: LiveHost) -> None:
    live_host.plugin.down = True
    answer = live_host.client().call("customer.find", {"number": "1"})
    assert answer.status == 503
    assert answer.retry_after == 30
    assert answer.body["error"]["code"] == "erp_unavailable"
    health = live_host.client().call("host.health", {})
    assert health.body["status"] == "degraded"
    assert health.body["erp_reachable"] is False


def test_callback_changes_are_forwarded_once(live_host: LiveHost) -> None:
    import httpx2

    from ledgerlink.wire.callback import PATH, sign_callback
    from ledgerlink.wire.client import tls_context

    body = (
        b'{"company": "CRONUS", "changes": [{"entry_no": 7, "table_id": 18, "table_name": '
        b'"Customer", "record_key": "10000", "change_type": "Modify", '
        b'"changed_at": "2026-11-24T10:00:00Z"}]}'
    )
    with httpx2.Client(verify=tls_context(verify=live_host.certificate.cert_file)) as http:
        for _ in range(2):  # NAV's job queue may resend a batch
            headers = sign_callback(handle="nav", secret="callback-secret", body=body)
            assert http.post(live_host.url + PATH, content=body, headers=headers).status_code == 200
        wrong = sign_callback(handle="nav", secret="guess", body=body)
        assert http.post(live_host.url + PATH, content=body, headers=wrong).status_code == 401
    page = live_host.client().call("changes.read", {"cursor": None})
    assert [(c["entity"], c["record_key"], c["change"]) for c in page.body["items"]] == [
        ("customer", "10000", "modify")
    ]
    assert (
        live_host.client().call("changes.read", {"cursor": page.body["cursor"]}).body["items"] == []
    )


def test_audit_verify_command_detects_edits_and_removals(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["host", "init", str(tmp_path / "fh"), "--plugin", "nav"])
    assert result.exit_code == 0, result.output
    settings = tmp_path / "fh" / "financialhost.toml"
    hosts = start_host(tmp_path)
    live = next(hosts)
    for number in range(5):
        live.client().call("customer.find", {"number": str(number)})
    hosts.close()
    # point the command at the test host's data
    settings.write_text(f'data_dir = "{tmp_path / "host"}"\n', encoding="utf-8")
    verify = ["host", "audit", "verify", "--settings", str(settings)]
    intact = runner.invoke(app, verify)
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output

    database = tmp_path / "host" / "host.sqlite"
    with sqlite3.connect(database) as conn:  # an attacker with file access
        try:
            conn.execute("UPDATE audit SET record = '{}' WHERE seq = 3")
            raise AssertionError("the append-only trigger should refuse this")
        except sqlite3.IntegrityError:
            pass
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET record = replace(record, '3', '4') WHERE seq = 3")
    edited = runner.invoke(app, verify)
    assert edited.exit_code == 1
    assert "record 3: was changed" in edited.output

    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE seq = 5")
    removed = runner.invoke(app, verify)
    assert "records 5–5 are missing" in removed.output
    assert "record 6: does not link" in removed.output


def test_audit_head_catches_removal_of_the_newest_records(tmp_path: Path) -> None:
    hosts = start_host(tmp_path)
    live = next(hosts)
    live.client().call("customer.find", {"number": "1"})
    hosts.close()
    database = live.host.database.path
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    from ledgerlink.financialhost.database import HostDatabase

    report = verify_chain(HostDatabase(database), live.host.settings.data_dir / "audit.head")
    assert not report.intact
    assert "missing from the end (truncated)" in report.problems[0].problem
    assert isinstance(live.plugin, MemoryPlugin)
