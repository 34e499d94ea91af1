"""What ships for testing connectors and the engine: the fake ERP and its connector, and the
contract suite every connector runs against its emulator (design §6)."""

from __future__ import annotations

from ledgerlink.connectors.testing.fake import FULL, FakeConnector, FakeErp, fake_spec

__all__ = ["FULL", "FakeConnector", "FakeErp", "fake_spec"]
