"""kill -9 of a FinancialHost process (NAV plugin) in the middle of a batch of drafts sent to a
NAV emulator process: the kill lands after NAV committed a draft's lines but before the host
heard NAV's answer. After a restart and a full resend by the hub, every document is in NAV
exactly once (by External Document No.): the jobs survive in the host's database, and before
creating a draft the host looks its correlation up in NAV, so the draft written before the kill
(marked in progress by the plugin) is replaced, not created a second time. With that lookup
switched off the interrupted draft ends up in NAV twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import Any

from ledgerlink.wire.client import SignedClient
from tests.contract.host_process import HostProcess, host_process, send_until_gone, stop, wait_for
from tests.financialhost.nav_process import NAV_COMPANY, NAV_PASSWORD, NavProcess, running

BATCH = 100
OPERATION = "document.create_draft"


def draft(i: int) -> dict[str, Any]:
    return {
        "idempotency_key": f"document:kill:{i}",
        "document": {
            "kind": "invoice",
            "correlation": f"kill:{i}",
            "customer_number": "10000",
            "currency": "DKK",
            "invoice_date": "2026-11-24",
            "due_date": "2026-12-24",
            "lines": [
                {
                    "kind": "work",
                    "description": f"Consulting {i}",
                    "product_number": "70000",
                    "quantity": "2",
                    "unit_price": "1000.00",
                }
            ],
            "expected_net": "2000.00",
            "expected_gross": "2500.00",
        },
    }


def nav_correlations(nav: NavProcess) -> Counter[str]:
    """How many drafts NAV holds per correlation (NAV upper-cases External Document No.)."""
    return Counter(
        r["External_Document_No"]
        for r in nav.records(36)
        if r["External_Document_No"].startswith("KILL:")
    )


def written_but_unheard(nav: NavProcess, client: SignedClient) -> int | None:
    """The newest draft NAV holds complete (header and lines) while the host still has its job
    pending — NAV wrote it, the host has not heard of it yet — or ``None``."""
    numbers = {r["No"]: r["External_Document_No"] for r in nav.records(36)}
    with_lines = {numbers[r["Document_No"]] for r in nav.records(37) if r["Document_No"] in numbers}
    ours = sorted(int(c.removeprefix("KILL:")) for c in with_lines if c.startswith("KILL:"))
    if not ours:
        return None
    newest = client.call("job.status", {"idempotency_key": f"document:kill:{ours[-1]}"})
    return ours[-1] if newest.body["state"] == "pending" else None


def stored_state(host: HostProcess, key: str) -> str:
    """A job's state in the host's own database (read while the host is dead)."""
    with closing(sqlite3.connect(host.data_dir / "host.sqlite")) as database:
        (state,) = database.execute(
            "SELECT state FROM jobs WHERE idempotency_key = ?", (key,)
        ).fetchone()
    return str(state)


def start_host(tmp_path: Path, nav: NavProcess) -> AbstractContextManager[HostProcess]:
    """``ledgerlink host serve`` with the NAV plugin; writes answer 202 at once."""
    return host_process(
        tmp_path / "host",
        plugin="nav",
        plugin_settings=nav.plugin_settings,
        secrets={"nav:password": NAV_PASSWORD},
        sync_wait_seconds=0,
    )


def all_succeeded(client: SignedClient) -> bool:
    """Whether every job of the batch succeeded (jobs run in order: the last one is asked
    first, and all of them only once it is done)."""
    keys = [f"document:kill:{i}" for i in range(BATCH)]
    for key in (keys[-1], *keys):
        if client.call("job.status", {"idempotency_key": key}).body["state"] != "succeeded":
            time.sleep(0.2)
            return False
    return True


def test_kill_9_mid_batch_leaves_every_nav_draft_exactly_once(tmp_path: Path) -> None:
    batch = [draft(i) for i in range(BATCH)]
    with running(NavProcess(tmp_path / "nav"), wait=False) as nav:
        with start_host(tmp_path, nav) as host:
            nav.wait_ready()
            sender = threading.Thread(
                target=send_until_gone, args=(host, OPERATION, batch), daemon=True
            )
            sender.start()
            wait_for(lambda: sum(nav_correlations(nav).values()) >= 10, 60, "the first drafts")
            # From now on NAV answers a draft's lines only 30 s after writing them: the kill
            # lands in that window, the hardest case for exactly-once.
            lines = f"/DynamicsNAV100/WS/{NAV_COMPANY}/Page/TlpInvoiceLineWS"
            nav.call("PUT", "/faults", {"path_prefix": lines, "hold_seconds": 30})
            unheard: list[int | None] = []
            with closing(host.client()) as client:

                def nav_wrote_what_the_host_did_not_hear() -> bool:
                    unheard.append(written_but_unheard(nav, client))
                    return unheard[-1] is not None

                wait_for(nav_wrote_what_the_host_did_not_hear, 30, "a write the host did not hear")
            stop(host.process, kill=True)
            nav.call("DELETE", "/faults")
            sender.join(timeout=30)
            # The host died knowing the job only as pending; NAV holds its complete draft.
            assert stored_state(host, f"document:kill:{unheard[-1]}") == "pending"
        before = nav_correlations(nav)
        assert 0 < sum(before.values()) < BATCH, "the kill should land mid-batch"
        assert before[f"KILL:{unheard[-1]}"] == 1

        with start_host(tmp_path, nav) as host, closing(host.client()) as client:
            send_until_gone(host, OPERATION, batch)  # the hub sends everything again
            wait_for(lambda: all_succeeded(client), 60, "every job to succeed after the restart")
        assert nav_correlations(nav) == Counter({f"KILL:{i}": 1 for i in range(BATCH)})
        drafts = [r for r in nav.records(36) if r["External_Document_No"].startswith("KILL:")]
        lines_per_draft = Counter(r["Document_No"] for r in nav.records(37))
        assert all(lines_per_draft[d["No"]] == 1 for d in drafts), "a draft without its line"
        nav.stop(kill=True)  # at once: its held answer to the dead host is of no interest
