"""ERP emulators: faithful local stand-ins of the ERP APIs ledgerlink integrates with.

They are product code (``ledgerlink emulate <erp>``), used by the tests, the demo and the
benchmarks. This package imports nothing from the rest of ledgerlink.
"""
