"""Store-and-forward with the ERP process really gone: a FinancialHost process in front of a NAV
emulator process (``ledgerlink emulate nav --state FILE``). While NAV is down (``kill -9``) the
host accepts the hub's writes (202, job pending) and keeps retrying them; once NAV is started
again on the same port from its state file, every job runs exactly once and ``job.status``
reports it succeeded. The hub sending the same writes again changes nothing in NAV."""

from __future__ import annotations

from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from ledgerlink.wire.client import SignedClient
from tests.contract.host_process import host_process, wait_for
from tests.financialhost.nav_process import NAV_PASSWORD, NavProcess, running


def customer(number: str, name: str) -> dict[str, Any]:
    return {
        "idempotency_key": f"customer:{number}:1",
        "customer": {
            "number": number,
            "name": name,
            "address_lines": ["Havnegade 4"],
            "postal_code": "1058",
            "city": "København K",
            "country": "DK",
            "currency": "DKK",
            "payment_terms_days": 14,
        },
    }


def draft(correlation: str, customer_number: str) -> dict[str, Any]:
    return {
        "idempotency_key": f"document:{correlation}:1",
        "document": {
            "kind": "invoice",
            "correlation": correlation,
            "customer_number": customer_number,
            "currency": "DKK",
            "invoice_date": "2026-11-24",
            "due_date": "2026-12-08",
            "heading": "November consulting",
            "lines": [
                {
                    "kind": "work",
                    "description": "Consulting",
                    "product_number": "70000",
                    "quantity": "3",
                    "unit_price": "900.00",
                }
            ],
            "expected_net": "2700.00",
            "expected_gross": "3375.00",
        },
    }


def job(client: SignedClient, key: str) -> dict[str, Any]:
    answer = client.call("job.status", {"idempotency_key": key})
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def change_log(nav: NavProcess) -> Counter[tuple[int, str, str]]:
    """NAV's change log as (table, record key, change type): what NAV itself saw written."""
    return Counter((r["Table_ID"], r["Record_Key"], r["Change_Type"]) for r in nav.records(50501))


def test_writes_wait_while_nav_is_stopped_and_run_once_after_its_restart(tmp_path: Path) -> None:
    state = tmp_path / "nav" / "nav-state.json"
    with (
        running(NavProcess(tmp_path / "nav", state_file=state), wait=False) as nav,
        host_process(
            tmp_path / "host",
            plugin="nav",
            plugin_settings=nav.plugin_settings,
            secrets={"nav:password": NAV_PASSWORD},
            sync_wait_seconds=0.5,
        ) as host,
        closing(host.client()) as client,
    ):
        nav.wait_ready()
        # NAV is up: a write goes straight through (and must survive NAV's restart).
        before = customer("4241", "Before the crash ApS")
        assert client.call("customer.upsert", before).status in (200, 202)
        key = before["idempotency_key"]
        wait_for(lambda: job(client, key)["state"] == "succeeded", 15, "a write while NAV is up")

        nav.stop(kill=True)  # the NAV server dies
        new_customer = customer("4242", "Nordlys Konsult ApS")
        invoice = draft("saf-1", "4242")
        writes = (("customer.upsert", new_customer), ("document.create_draft", invoice))
        for operation, body in writes:
            accepted = client.call(operation, body)
            assert accepted.status == 202, accepted.body
            assert accepted.body["state"] == "pending", accepted.body
        keys = [body["idempotency_key"] for _, body in writes]

        # The host keeps trying the oldest job (the draft waits behind its customer).
        wait_for(lambda: job(client, keys[0])["attempts"] >= 2, 15, "retries while NAV is down")
        waiting = [job(client, key) for key in keys]
        assert [w["state"] for w in waiting] == ["pending", "pending"]
        assert "NAV cannot be reached" in waiting[0]["last_problem"], waiting[0]
        assert waiting[1]["attempts"] == 0
        assert state.exists()

        nav.start()  # the same port, the same state file
        wait_for(
            lambda: all(job(client, key)["state"] == "succeeded" for key in keys),
            15,
            "the waiting jobs to run after NAV's restart",
        )
        done = [job(client, key) for key in keys]
        assert done[0]["result"] == {"external_id": "4242", "created": True}
        draft_number = done[1]["result"]["external_id"]

        # The hub sends both again (it never heard the outcome): the stored jobs answer.
        for (operation, body), first in zip(writes, done, strict=True):
            again = client.call(operation, body)
            assert again.status == 200, again.body
            assert again.body["job_id"] == first["job_id"]
            assert again.body["state"] == "succeeded"

        # NAV's own records, read after its restart.
        customers = {r["No"]: r for r in nav.records(18)}
        assert customers["4241"]["Name"] == "Before the crash ApS"  # kept in the state file
        assert customers["4242"]["Name"] == "Nordlys Konsult ApS"
        drafts = [r for r in nav.records(36) if r["External_Document_No"] == "SAF-1"]
        assert len(drafts) == 1, drafts
        assert drafts[0]["Sell_to_Customer_No"] == "4242"
        assert draft_number == drafts[0]["No"]
        assert done[1]["result"]["gross"] == "3375"
        lines = [r for r in nav.records(37) if r["Document_No"] == drafts[0]["No"]]
        assert [r["Description"] for r in lines] == ["Consulting"]
        log = change_log(nav)
        assert log[(18, "4241", "Insert")] == 1
        assert log[(18, "4242", "Insert")] == 1
        assert log[(36, f"Invoice,{drafts[0]['No']}", "Insert")] == 1
        assert not [entry for entry in log if entry[2] == "Delete"]
