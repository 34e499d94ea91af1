"""What people read names the ERP as people do: the spec's display name, not the stored key."""

from __future__ import annotations

from ledgerlink.sync.registry import erp_title


def test_a_connections_erp_is_named_by_its_display_name() -> None:
    assert erp_title("economic") == "e-conomic"
    assert erp_title("financialhost") == "FinancialHost (Dynamics NAV, Visma Administration)"


def test_an_erp_without_a_spec_keeps_its_stored_name() -> None:
    assert erp_title("retired-erp") == "retired-erp"
