"""The hub's JSON API under ``/api/v1`` (issue 14 item 8): PSA data in, transfer state out."""

from __future__ import annotations

from ledgerlink.web.api.app import PREFIX, api_app, build_api
from ledgerlink.web.api.services import ApiServices

__all__ = ["PREFIX", "ApiServices", "api_app", "build_api"]
