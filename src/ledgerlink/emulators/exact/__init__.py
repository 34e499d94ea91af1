"""The Exact Online REST API emulator (``ledgerlink emulate exact``).

Build it with :class:`ExactEmulator` and serve ``emulator.app``. What it reproduces (the fact
sheet's Part 2):

* **OAuth2** code flow: ``GET /api/oauth2/auth`` (consent page; ``approve=yes`` skips it),
  ``POST /api/oauth2/token`` with ``client_id``/``client_secret`` in the form; access tokens
  live 600 s (``"expires_in": "600"``); refresh tokens are single use and rotate (a spent one:
  400 ``invalid_grant`` "Old refresh token used"); a refresh sooner than 570 s after the last:
  400 ``access_denied`` "Rate limit exceeded: access_token not expired"; unused refresh tokens
  expire after 30 days. Default app: ``exact-client`` / ``exact-secret``.
* **Divisions**: ``GET /api/v1/current/Me`` (``CurrentDivision`` 614223, the Dutch company
  Lindeboom Advies B.V., EUR), ``system/Divisions`` (it and its Belgian sister 614224);
  division 700001 exists but the user may not open it (403).
* **OData v2 verbose**: ``{"d": {"results": [...], "__next": …$skiptoken=guid'…'}}``, 60 per
  page, ``__metadata``, ``/Date(ms)/``, ``$filter`` with ``guid'…'``/``datetime'…'``/``123L``
  and ``trim()``, ``$select`` (required with ``$top`` other than 1 on sales invoices:
  "Please add a $select or a $top=1 statement to the query string."), ``$orderby``,
  ``$top``/``$skip``, ``$expand=SalesInvoiceLines``.
* **Resources**: ``crm/Accounts`` (numeric ``Code`` padded to 18 characters, the VAT-number
  check), ``crm/Contacts``, ``payroll/Employees``, ``users/Users``, ``logistics/Items``
  (``IsFractionAllowedItem``), ``financial/GLAccounts``, ``vat/VATCodes``,
  ``financial/Journals`` (``AllowVariableCurrency``), ``hrm/Costcenters`` (the line
  ``CostCenter``), ``salesinvoice/SalesInvoices`` (types 8020/8021, status 20 → 50 when
  processed, immutable then; lines inline), ``salesinvoice/SalesInvoiceLines``,
  ``salesinvoice/PrintedSalesInvoices`` (process), ``read/financial/ReceivablesList`` (one
  row per open item; part payments add rows; gone when paid), ``purchaseentry/PurchaseEntries``
  and ``…/PurchaseEntryLines`` (supplier invoices and credit notes with cost centres, for
  expense import: amounts in the division's currency by ``Rate``, ``Modified`` to the
  millisecond, PUT of the header and DELETE; three seeded, one on project P-300's cost centre).
* **Sync**: ``sync/CRM/Accounts``, ``sync/Logistics/Items``, ``sync/SalesInvoice/SalesInvoices``
  (``Timestamp`` Int64 row versions, ``$select`` mandatory, 1000 a page) and ``sync/Deleted``.
* **Rate limits** per app × division: 60 a minute and 5,000 a day, fixed windows, with
  ``X-RateLimit-Minutely-Limit/-Remaining/-Reset`` and ``X-RateLimit-Limit/-Remaining/-Reset``
  (epoch ms) on every answer; a 429 carries the headers of the window that refused it only.
  More than 10 answers 400/401/403/404 per app, user, division and endpoint in an hour block
  that endpoint for an hour (429).
* **Errors** as ``{"error": {"code": "", "message": {"lang": "", "value": "…"}}}``.

Admin routes (HTTP Basic with the app's client id and secret; never faulted, journaled or
rate-limited): ``GET/PUT/DELETE /_emulator/faults``, ``GET/DELETE /_emulator/journal``,
``POST /_emulator/{division}/salesinvoices/{id}/process``, ``POST
/_emulator/{division}/salesinvoices/{id}/payments`` ``{"amount": "121.00"}``, ``POST
/_emulator/{division}/periods/{year}/{month}/lock`` (and ``/unlock``), ``GET/PUT
/_emulator/{division}/settings`` ``{"invalidVatNumbers": [...], "today": "2026-03-15"}``,
``POST /_emulator/tokens/expire``, ``POST /_emulator/tokens/revoke``, ``DELETE
/_emulator/ratelimits`` (rate-limit counts and the error budget).

Not yet: per-country hosts (one host serves all), ``bulk/*``, ``salesentry/SalesEntries``,
and ``$expand`` pages of their own (60 lines, own ``__next``).
"""

from __future__ import annotations

from ledgerlink.emulators.exact.emulator import ExactEmulator

__all__ = ["ExactEmulator"]
