"""The Fortnox API emulator (``ledgerlink emulate fortnox``).

Build it with :class:`FortnoxEmulator` and serve ``emulator.app``. It answers as Fortnox does
(fact sheet ``erp-facts/fortnox.md``, the official OpenAPI document):

* **OAuth2** on ``/oauth-v1/auth`` (consent page; ``approve=yes`` skips it;
  ``account_type=service`` makes the grant a service account's), ``/oauth-v1/token`` (HTTP
  Basic client authentication; codes live 10 minutes, access tokens 1 hour, refresh tokens 45
  days and are single use: each refresh answers a new one, a spent one answers
  ``invalid_grant`` and logs the grant out) and ``/oauth-v1/revoke``. Every ``/3/`` call needs
  ``Authorization: Bearer …`` with the resource's scope.
* **Bodies** wrapped in their PascalCase type (``{"Customer": {...}}``), lists under the plural
  with ``MetaInformation`` (``page`` from 1, ``limit`` 100 by default and at most 500,
  ``offset``), lower-case query parameters: one ``filter``, LIKE search parameters,
  ``lastmodified`` (minute granularity), ``sortby``/``sortorder``, ``fromdate``/``todate``.
* **Errors** ``{"ErrorInformation": {"error": 1, "message", "code"}}`` with Fortnox's codes.
* **Rate limit** 25 requests in any 5 seconds per access token: a bare 429, no headers.
* **Resources**: ``/3/me``, ``/3/companyinformation``, customers, articles, accounts, projects,
  cost centres, employees, voucher series, invoices (+ bookkeep, cancel, credit), invoice
  payments, financial years, the locked period, vouchers, inbox and archive files, voucher file
  connections.

Admin routes (``/_emulator/…``, open: the emulator listens on loopback): ``faults``,
``journal`` (the kit's), ``POST invoices/{n}/bookkeep``, ``POST invoices/{n}/payments``
``{"amount", "date"}``, ``PUT lockedperiod`` ``{"EndDate"}``, ``GET/PUT settings``
``{"easyVat", "lockedUntil", "today"}``, ``POST consents/revoke``, ``POST tokens/expire``.
"""

from __future__ import annotations

from ledgerlink.emulators.fortnox.emulator import FortnoxEmulator

__all__ = ["FortnoxEmulator"]
