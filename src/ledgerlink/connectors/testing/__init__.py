"""What ships for testing connectors and the engine: the fake ERP and its connector, the
contract suite every connector runs against its emulator, and builders of the domain objects a
connector is handed (design §6)."""

from __future__ import annotations

from ledgerlink.connectors.testing import builders
from ledgerlink.connectors.testing.contract import (
    CHECKS,
    QUICK_RETRY,
    Check,
    ContractCase,
    ContractViolation,
    ErpUser,
    FaultNotInjectable,
    Faults,
    LostAnswer,
    correlation,
)
from ledgerlink.connectors.testing.fake import FULL, FakeConnector, FakeErp, fake_spec

__all__ = [
    "CHECKS",
    "FULL",
    "QUICK_RETRY",
    "Check",
    "ContractCase",
    "ContractViolation",
    "ErpUser",
    "FakeConnector",
    "FakeErp",
    "FaultNotInjectable",
    "Faults",
    "LostAnswer",
    "builders",
    "correlation",
    "fake_spec",
]
