"""Every emulated ERP, by the name ``ledgerlink emulate`` and ``ledgerlink demo --erp`` use
(a ``ConnectorSpec`` lists in ``demos`` the names it can rehearse on). The counterpart of the
connectors' spec table: adding an ERP's emulator is adding its ``EMULATED`` here."""

from __future__ import annotations

from ledgerlink.emulators._kit.rehearsal import EmulatedErp
from ledgerlink.emulators.economic.rehearsal import EMULATED as ECONOMIC
from ledgerlink.emulators.exact.rehearsal import EMULATED as EXACT
from ledgerlink.emulators.fortnox.rehearsal import EMULATED as FORTNOX
from ledgerlink.emulators.nav.rehearsal import EMULATED as NAV
from ledgerlink.emulators.visma.rehearsal import EMULATED as VISMA

EMULATED: dict[str, EmulatedErp] = {erp.name: erp for erp in (ECONOMIC, EXACT, FORTNOX, NAV, VISMA)}
