"""The hub's ASGI application (``ledgerlink serve``)."""

from __future__ import annotations

from fastapi import FastAPI

from ledgerlink.store.database import Database
from ledgerlink.store.relay import RelayStore
from ledgerlink.sync.agents import AgentKeys
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.web.relay import relay_router


def create_app(database: Database, secrets: SecretBox) -> FastAPI:
    """The hub's endpoints: the FinancialHost agent relay under ``/agent/v1``."""
    relay = RelayStore(database)
    app = FastAPI(title="ledgerlink hub", docs_url=None, redoc_url=None)
    app.include_router(relay_router(relay, AgentKeys(relay, secrets)))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
