"""ERP emulators: faithful local stand-ins of the ERP APIs ledgerlink integrates with.

They are product code (``ledgerlink emulate <erp>``), used by the tests, the demo and the
benchmarks. :mod:`._kit` holds what every emulator is built from; each ERP package holds only
what is that ERP's (routes, rules, seed data, error codes): :mod:`.economic`, :mod:`.nav`, and
:mod:`.visma` (the Visma ADK twin, an in-process implementation of the ADK interface rather
than an HTTP app). This package imports nothing from the rest of ledgerlink but the vendors'
published interfaces (:mod:`ledgerlink.interfaces`).
"""
