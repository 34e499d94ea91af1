"""DotNetAdk: on anything but Windows it refuses to start, with a message saying what to use."""

from __future__ import annotations

import sys

import pytest

from ledgerlink.financialhost.visma.dotnet import AdkUnavailable, DotNetAdk, registry_paths
from ledgerlink.interfaces.visma_adk import Adk


def as_protocol(adk: DotNetAdk) -> Adk:
    """Type-checks that DotNetAdk satisfies the Adk protocol (mypy)."""
    return adk


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows refusal")
def test_constructing_on_linux_fails_with_a_clear_message() -> None:
    with pytest.raises(AdkUnavailable, match="Windows-only; use EmulatedAdk"):
        DotNetAdk()
    with pytest.raises(AdkUnavailable, match="Windows-only"):
        registry_paths()
