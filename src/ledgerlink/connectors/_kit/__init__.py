"""Shared machinery of the connectors: one HTTP client builder, retry classification, error
tables, paginators and rate limiters. Connectors import from the submodules directly."""
