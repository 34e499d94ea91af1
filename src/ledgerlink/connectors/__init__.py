"""ERP connectors: one subpackage per ERP, built on the shared kit in ``_kit``."""
