"""The e-conomic (Visma e-conomic) legacy REST API emulator.

Build it with :class:`EconomicEmulator` and serve ``emulator.app`` (``ledgerlink emulate
economic``, or :func:`ledgerlink.emulators._kit.serve.running` in tests). Every API call needs
``X-AppSecretToken`` and ``X-AgreementGrantToken`` (or the read-only demo: both ``demo``, or
``?demo=true``).

Rate limits are on by default, per ``X-AgreementGrantToken``: at most 300 calls in any 10
seconds (the announced token bucket; no published numbers, so ours) and 50,000 in any 24 hours
(fair use); beyond them 429 in e-conomic's envelope with ``Retry-After``. The numbers are
settings (below).

Admin routes (same two token headers; never faulted, journaled or rate-limited):

* ``GET/PUT/DELETE /_emulator/faults`` — fault rules (``{"seed": n, "rules": [{"path_prefix":
  "/invoices", "methods": ["POST"], "error_rate": 1.0, "error_status": 503,
  "rate_limit_rate": 0, "retry_after": 1, "slow_seconds": 0, "drop_after_commit_rate": 0,
  "reset_rate": 0}]}``).
* ``GET/DELETE /_emulator/journal`` — the request journal.
* ``POST /_emulator/invoices/drafts/{n}/book`` — book a draft as the ERP user would (optional
  ``{"bookWithNumber": N}``).
* ``POST /_emulator/invoices/booked/{n}/payments`` ``{"amount": "123.45"}`` — register a payment
  (reduces ``remainder``; the full amount makes the invoice paid).
* ``POST /_emulator/grants/revoke`` (every API call then answers 401) and
  ``POST /_emulator/grants/restore``.
* ``POST /_emulator/accounting-years/{year}/close`` and ``POST
  /_emulator/accounting-years/{year}/open``.
* ``POST /_emulator/currencies`` ``{"code": "CHF", "exchangeRate": 780.00, "name": "...",
  "isoNumber": "756"}`` — add a currency to the agreement (rate: cost of 100 units in DKK).
* ``POST /_emulator/entries`` ``{"account": 2800, "date": "2026-03-01", "amount": "100.00",
  "text": "...", "currency": "DKK", "project": 17}`` — a finance entry (expense import).
* ``GET/PUT /_emulator/settings`` ``{"projectModule": true, "dailyLimit": 50000,
  "burstLimit": 300, "burstSeconds": 10, "retryAfterOnLimit": true, "appRole": "SuperUser",
  "today": "2026-03-01"}``.

The app-grant flow: ``GET /secure/api1/requestaccess.aspx?appPublicToken=...&redirectUrl=...``
shows a sign-in form (agreement number, user ID, password); posting it redirects (302) to
``redirectUrl`` with ``?token=<agreement grant token>``.
"""

from __future__ import annotations

from ledgerlink.emulators.economic.emulator import EconomicEmulator

__all__ = ["EconomicEmulator"]
