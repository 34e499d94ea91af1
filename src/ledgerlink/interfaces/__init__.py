"""Interfaces ERP vendors publish, transcribed from their documentation: what an
implementation in ledgerlink and the emulator of the same ERP must agree on.

Only in-process interfaces live here (an SDK's function names, constants and data shapes);
HTTP APIs are described by each connector and emulator. This package imports nothing else of
ours, so both FinancialHost and the emulators may import it (design §3, pyproject's
import-linter contracts).
"""
