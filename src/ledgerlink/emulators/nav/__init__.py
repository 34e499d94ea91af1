"""Microsoft Dynamics NAV 2017-style web services emulator (SOAP pages/codeunits, OData V4).

Build it with :class:`NavEmulator` (optionally with a :class:`NavConfig`) and serve its two
apps, as NAV serves SOAP and OData V4 on two ports (7047 and 7048 by default), each with its own
base URL: ``emulator.apps["soap"]`` and ``emulator.apps["odata"]`` (``ledgerlink emulate nav
--soap-port 7047 --odata-port 7048``, or :func:`ledgerlink.emulators._kit.serve.running_all` in
tests; :meth:`NavEmulator.base_urls` names the base URLs). Defaults: instance
``DynamicsNAV100``; companies ``CRONUS International Ltd.`` and ``TEST``; credential type
NavUserPassword with user ``WEBSERVICE`` / ``Passw0rd!`` (HTTP Basic; a configured 44-character
web service access key works as the password until it expires).

Endpoints on the SOAP port (company percent-encoded in the path):

* ``GET|POST /{instance}/WS/{company}/Page/{Service}`` — WSDL / page operations (Read,
  ReadByRecId, ReadMultiple, IsUpdated, GetRecIdFromKey, Create, CreateMultiple, Update,
  UpdateMultiple, Delete).
* ``GET|POST /{instance}/WS/{company}/Codeunit/{Service}``;
  ``GET /{instance}/WS/{company}/services``;
  ``GET|POST /{instance}/WS/SystemService`` (``Companies``).

Endpoints on the OData port (company quoted, and percent-encoded, in the path):

* ``/{instance}/ODataV4/$metadata``, ``/{instance}/ODataV4/Company``,
  ``/{instance}/ODataV4/Company('{name}')/{Service}[({key})]`` (GET, POST, PATCH, DELETE).

Admin routes on both ports (same Basic credentials, also under the Windows credential type;
never faulted or journaled):

* ``GET/PUT/DELETE /_emulator/faults``, ``GET/DELETE /_emulator/journal`` (the kit's).
* ``GET|POST /_emulator/companies/{company}/records/{table_id}`` — list / insert rows as the
  NAV user (triggers and change log run); ``POST …/records/{table_id}/modify`` (primary-key
  fields name the row, the other fields change) and ``POST …/records/{table_id}/delete``.
* ``POST /_emulator/companies/{company}/sales-documents/{Invoice|Credit_Memo}/{no}/post`` —
  Sales-Post; answers ``posted_no``, ``pre_assigned_no``, amounts and the posted record.
* ``POST /_emulator/companies/{company}/posted/{no}/payments`` ``{"amount": "100.00"}``.
* ``POST /_emulator/companies/{company}/expenses`` — add TimeLog Expense Entries (50511).
* ``POST /_emulator/job-queue/run[?company=]`` — run "Tlp Change Handler" now;
  ``GET /_emulator/job-queue`` — each company's job queue entry (status, error, pending).
"""

from __future__ import annotations

from ledgerlink.emulators.nav.config import NavConfig
from ledgerlink.emulators.nav.emulator import NavEmulator
from ledgerlink.emulators.nav.schema import CodeunitDef, FieldDef, PageDef, TableDef, UserDef

__all__ = ["CodeunitDef", "FieldDef", "NavConfig", "NavEmulator", "PageDef", "TableDef", "UserDef"]
