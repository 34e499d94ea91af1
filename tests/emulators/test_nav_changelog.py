"""NAV emulator: change log, the "Tlp Change Handler" job queue pushing signed callbacks to a
real HTTP receiver, the state file across restarts, and fault injection."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ledgerlink.emulators._kit.serve import running
from ledgerlink.emulators.nav.jobqueue import JobQueueTimer
from tests.emulators.test_nav_support import COMPANY, Nav, config, serve_nav

SECRET = "fh-secret-7"
HANDLE = "nav-cronus"


class Receiver:
    """A tiny FinancialHost stand-in: verifies the signature, records the changes."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.app = Starlette(routes=[Route("/callback/v1/changes", self.changes, methods=["POST"])])

    async def changes(self, request: Request) -> Response:
        body = await request.body()
        timestamp = request.headers["x-fh-callback-timestamp"]
        handle = request.headers["x-fh-callback-handle"]
        message = f"{timestamp}\n{handle}\n{hashlib.sha256(body).hexdigest()}"
        expected = "v1=" + hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers["x-fh-callback-signature"]):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if self.status != 200:
            return JSONResponse({"error": "down"}, status_code=self.status)
        assert request.headers["content-type"] == "application/json"
        self.received.append({"handle": handle, **json.loads(body)})
        return JSONResponse({"accepted": True})


def _configure(nav: Nav, url: str, secret: str = SECRET) -> None:
    response = nav.company_admin(
        "POST",
        "/records/50500/modify",
        {"Primary_Key": "", "TimeLog_Host_URL": url, "TimeLog_User_Name": HANDLE,
         "TimeLog_Password": secret},
    )  # fmt: skip
    assert response.status_code == 200, response.text


def test_changes_are_logged_and_pushed_with_a_valid_signature() -> None:
    receiver = Receiver()
    with running(receiver.app) as fh_url, serve_nav() as nav:
        callback = f"{fh_url}/callback/v1/changes"
        _configure(nav, callback)
        customer = nav.create("TlpCustomerNavWS", {"Name": "Pushed A/S"})
        nav.update("TlpCustomerNavWS", {"Key": customer["Key"], "City": "Aalborg"})
        seeded = nav.company_admin("POST", "/records/18", {"No": "90000", "Name": "Made in NAV"})
        assert seeded.status_code == 201, seeded.text
        header = nav.create("TlpInvoiceNavWS", {"Sell_to_Customer_No": "10000"})
        nav.create("TlpSalesPersonWS", {"Code": "NEW", "Name": "Not logged"})
        log = nav.read_multiple("TlpChangeLog", [("Processed", "false")])
        assert [(e["Table_ID"], e["Record_Key"], e["Change_Type"]) for e in log] == [
            ("18", "C00010", "Insert"),
            ("18", "C00010", "Modify"),
            ("18", "90000", "Insert"),
            ("36", f"Invoice,{header['No']}", "Insert"),
        ]
        run = nav.admin("POST", "/job-queue/run", None).json()["results"]
        assert run[0] == {
            "company": COMPANY,
            "status": "Ready",
            "sent": 4,
            "error": "",
            "url": callback,
        }
        assert run[1]["company"] == "TEST" and run[1]["status"] == "Error"  # TEST has no host URL
        assert len(receiver.received) == 1
        batch = receiver.received[0]
        assert batch["handle"] == HANDLE and batch["company"] == COMPANY
        first = batch["changes"][0]
        assert set(first) == {
            "entry_no",
            "table_id",
            "table_name",
            "record_key",
            "change_type",
            "changed_at",
        }
        assert first["table_id"] == 18 and first["table_name"] == "Customer"
        assert first["changed_at"].endswith("Z")
        assert nav.read_multiple("TlpChangeLog", [("Processed", "false")]) == []
        again = nav.admin("POST", f"/job-queue/run?company={COMPANY}").json()["results"]
        assert again[0]["sent"] == 0 and len(receiver.received) == 1


def test_a_failing_host_sets_the_job_queue_entry_to_error_and_keeps_the_rows() -> None:
    receiver = Receiver()
    receiver.status = 503
    with running(receiver.app) as fh_url, serve_nav() as nav:
        _configure(nav, f"{fh_url}/callback/v1/changes")
        nav.create("TlpContactNavWS", {"Name": "Queued"})
        result = nav.admin("POST", f"/job-queue/run?company={COMPANY}").json()["results"][0]
        assert result["status"] == "Error"
        assert result["error"] == "The remote server returned an error: (503) Service Unavailable."
        entry = nav.admin("GET", "/job-queue").json()["entries"][0]
        assert entry["status"] == "Error" and entry["pending"] == 1 and entry["error_message"]
        _configure(nav, f"{fh_url}/callback/v1/changes", secret="wrong")
        assert nav.emulator.run_job_queue(COMPANY)[0].error.startswith(
            "The remote server returned an error: (401)"
        )
        _configure(nav, f"{fh_url}/callback/v1/changes")
        receiver.status = 200
        recovered = nav.admin("POST", f"/job-queue/run?company={COMPANY}").json()["results"][0]
        assert recovered["status"] == "Ready" and recovered["sent"] == 1
        assert receiver.received[0]["changes"][0]["table_name"] == "Contact"


def test_unreachable_host_and_missing_url_are_reported() -> None:
    with serve_nav() as nav:
        missing = nav.emulator.run_job_queue(COMPANY)[0]
        assert missing.error == (
            "TimeLog Host URL must have a value in TimeLog Setup: Primary Key=. "
            "It cannot be zero or empty."
        )
        _configure(nav, "http://127.0.0.1:9/callback/v1/changes")
        nav.create("TlpEmployeeNavWS", {"No": "ZZ", "First_Name": "Zed"})
        unreachable = nav.emulator.run_job_queue(COMPANY)[0]
        assert unreachable.status == "Error"
        assert unreachable.error.startswith("Unable to connect to the remote server")


def test_timer_runs_only_inside_the_hourly_window() -> None:
    with serve_nav() as nav:
        inside = JobQueueTimer(nav.emulator, interval=3600, window=(0, 24))
        outside = JobQueueTimer(nav.emulator, interval=3600, window=(0, 0))
        assert inside.in_window() and not outside.in_window()
    receiver = Receiver()
    with running(receiver.app) as fh_url:
        with serve_nav(config(job_queue_interval_seconds=0.05, job_queue_window=(0, 24))) as nav:
            _configure(nav, f"{fh_url}/callback/v1/changes")
            nav.create("TlpCustomerNavWS", {"Name": "Timed"})
            deadline = time.monotonic() + 5
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.02)
        assert receiver.received and receiver.received[0]["changes"][0]["record_key"] == "C00010"


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "nav.json"
    with serve_nav(state_file=state) as nav:
        header = nav.create("TlpInvoiceNavWS", {"Sell_to_Customer_No": "10000"})
        line = nav.create(
            "TlpInvoiceLineWS",
            {"Document_No": header["No"], "Type": "Item", "No": "1100", "Quantity": "3"},
        )
        customer = nav.create("TlpCustomerNavWS", {"Name": "Persisted"})
    assert state.exists()
    with serve_nav(state_file=state) as nav:
        again = nav.read("TlpInvoiceNavWS", Document_Type="Invoice", No=header["No"])
        assert again is not None and again["Amount"] == "361.5"
        assert again["Key"] == header["Key"]
        lines = nav.read_multiple("TlpInvoiceLineWS", [("Document_No", header["No"])])
        assert lines[0]["Key"] == line["Key"] and lines[0]["Unit_Price"] == "120.5"
        stale = nav.read("TlpCustomerNavWS", No=customer["No"])
        assert stale is not None and stale["Key"] == customer["Key"]
        assert nav.create("TlpCustomerNavWS", {"Name": "Next"})["No"] == "C00011"
        assert nav.create("TlpInvoiceNavWS", {"Sell_to_Customer_No": "10000"})["No"] == "103002"
        pending = nav.admin("GET", "/job-queue").json()["entries"][0]["pending"]
        assert pending == 5  # header, line, customer before the restart; customer, header after


def test_fault_injection_and_journal() -> None:
    with serve_nav() as nav:
        rule = {
            "path_prefix": "/DynamicsNAV100/WS",
            "methods": ["POST"],
            "error_rate": 1.0,
            "error_status": 503,
        }
        assert nav.admin("PUT", "/faults", rule).status_code == 200
        response = nav.post_soap(
            nav.page_url("TlpCustomerNavWS"),
            "urn:microsoft-dynamics-schemas/page/tlpcustomernavws",
            '<Read xmlns="NS"><No>10000</No></Read>',
        )
        assert response.status_code == 503
        assert nav.http.get(nav.page_url("TlpCustomerNavWS")).status_code == 200
        assert nav.admin("DELETE", "/faults").status_code == 204
        assert nav.read("TlpCustomerNavWS", No="10000") is not None
        journal = nav.admin("GET", "/journal").json()["entries"]
        assert [e["method"] for e in journal] == ["POST", "GET", "POST"]
        assert "<No>10000</No>" in journal[-1]["body"]
