"""The "Tlp Change Handler" job queue entry: push unprocessed TimeLog change-log rows to the
FinancialHost callback URL from TimeLog Setup, signed with the setup's user name and password.

Wire format (fixed; FinancialHost implements the receiving side)::

    POST <TimeLog Host URL>
    Content-Type: application/json
    X-FH-Callback-Handle: <TimeLog User Name>
    X-FH-Callback-Timestamp: <unix seconds>
    X-FH-Callback-Signature: v1=<hex HMAC-SHA256(key=TimeLog Password,
                                  msg="<timestamp>\\n<handle>\\n<hex sha256(body)>")>
    {"company": "...", "changes": [{"entry_no": 1, "table_id": 18, "table_name": "Customer",
     "record_key": "10000", "change_type": "Insert", "changed_at": "2026-11-24T10:00:00Z"}]}

A 2xx answer marks the rows processed and sets the entry's status ``Ready``; anything else
sets ``Error`` with the error text, and the rows are sent again on the next run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2

if TYPE_CHECKING:
    from ledgerlink.emulators.nav.emulator import NavEmulator

__all__ = ["JobQueueTimer", "RunResult", "run_change_handler", "sign"]


def sign(secret: str, handle: str, timestamp: int, body: bytes) -> str:
    """The ``X-FH-Callback-Signature`` value for ``body``."""
    message = f"{timestamp}\n{handle}\n{hashlib.sha256(body).hexdigest()}"
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"v1={digest}"


@dataclass(frozen=True)
class RunResult:
    """What one run of the change handler did for one company."""

    company: str
    status: str
    sent: int
    error: str = ""
    url: str = ""

    def to_json(self) -> dict[str, Any]:
        """The admin route's form."""
        return asdict(self)


def _verify(setting: bool | Path) -> bool | ssl.SSLContext:
    if isinstance(setting, Path):
        return ssl.create_default_context(cafile=str(setting))
    return setting


def run_change_handler(emulator: NavEmulator, company: str) -> RunResult:
    """Run the job queue entry of ``company`` once (the HTTP call is made without the lock)."""
    state = emulator.state
    with state.lock:
        books = emulator.books(company)
        ids = books.ids
        entry = books.company.job_queue
        setup = books.get(ids.timelog_setup, ("",)) or {}
        url = str(setup.get("TimeLog_Host_URL", ""))
        handle = str(setup.get("TimeLog_User_Name", ""))
        secret = str(setup.get("TimeLog_Password", ""))
        pending = [row for row in books.rows(ids.change_log) if not row.get("Processed")]
        if not url:
            error = (
                "TimeLog Host URL must have a value in TimeLog Setup: Primary Key=. "
                "It cannot be zero or empty."
            )
            return _finish(emulator, company, [], error, url)
        changes = [
            {
                "entry_no": row["Entry_No"],
                "table_id": row["Table_ID"],
                "table_name": row["Table_Name"],
                "record_key": row["Record_Key"],
                "change_type": row["Change_Type"],
                "changed_at": row["Changed_At"],
            }
            for row in pending
        ]
        entry.runs += 1
    if not changes:
        return _finish(emulator, company, [], "", url)
    body = json.dumps({"company": company, "changes": changes}, separators=(",", ":")).encode()
    timestamp = int(emulator.clock().timestamp())
    headers = {
        "Content-Type": "application/json",
        "X-FH-Callback-Handle": handle,
        "X-FH-Callback-Timestamp": str(timestamp),
        "X-FH-Callback-Signature": sign(secret, handle, timestamp, body),
    }
    config = emulator.config
    try:
        with httpx2.Client(
            verify=_verify(config.callback_verify), timeout=config.callback_timeout_seconds
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx2.HTTPError as problem:
        return _finish(
            emulator, company, [], f"Unable to connect to the remote server: {problem}", url
        )
    if not 200 <= response.status_code < 300:
        error = (
            f"The remote server returned an error: ({response.status_code}) "
            f"{response.reason_phrase}."
        )
        return _finish(emulator, company, [], error, url)
    return _finish(emulator, company, [c["entry_no"] for c in changes], "", url)


def _finish(
    emulator: NavEmulator, company: str, processed: list[int], error: str, url: str
) -> RunResult:
    with emulator.state.lock:
        books = emulator.books(company)
        table = books.ids.change_log
        for number in processed:
            row = books.get(table, (number,))
            if row is not None:
                books.modify(table, {**row, "Processed": True}, row)
        entry = books.company.job_queue
        entry.status = "Error" if error else "Ready"
        entry.error_message = error
        entry.last_run = books.stamp()
        entry.last_sent = len(processed)
        emulator.state.save()
        return RunResult(company, entry.status, len(processed), error, url)


class JobQueueTimer:
    """Runs every company's change handler every ``interval`` seconds, but only while the
    local hour is inside ``window`` (NAV's "Starting Time"/"Ending Time", default 06–23)."""

    def __init__(self, emulator: NavEmulator, *, interval: float, window: tuple[int, int]) -> None:
        self._emulator = emulator
        self._interval = interval
        self._window = window
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="nav-job-queue", daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the timer thread and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def in_window(self) -> bool:
        """Whether the emulator's local time is inside the window."""
        hour = self._emulator.clock().astimezone().hour
        start, end = self._window
        return start <= hour < end

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            if self.in_window():
                for company in self._emulator.config.companies:
                    run_change_handler(self._emulator, company)
