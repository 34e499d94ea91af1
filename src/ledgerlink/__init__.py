"""ledgerlink: connects a project/time-tracking business (PSA) to the ERP it already uses."""

from __future__ import annotations

__version__ = "0.1.0"
