"""The hub's ASGI application (``ledgerlink serve``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledgerlink.store.database import Database
from ledgerlink.store.relay import RelayStore
from ledgerlink.sync.agents import AgentKeys
from ledgerlink.sync.engine import Engine
from ledgerlink.sync.registry import ConnectorProvider, hub_environment
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import Submitting
from ledgerlink.web.access_log import name_console_users
from ledgerlink.web.api import PREFIX, ApiServices, build_api
from ledgerlink.web.console import ConsoleOptions, install_console
from ledgerlink.web.metrics import HubMetrics, serving_router
from ledgerlink.web.relay import relay_router


def create_app(
    database: Database,
    secrets: SecretBox,
    *,
    console: ConsoleOptions | None = None,
    submitter: Submitting | None = None,
    metrics: HubMetrics | None = None,
) -> FastAPI:
    """The hub's endpoints: the FinancialHost agent relay under ``/agent/v1``, ``/health``,
    ``/metrics``, the JSON API under ``/api/v1`` and the web console (sign-in, transfer
    table, integration log). ``submitter`` queues the transfers the API starts (without one
    a worker's next round starts them); ``metrics`` holds this process's counters (``serve``
    feeds them; by default only the numbers read from the database)."""
    options = console or ConsoleOptions()
    engine = options.engine or Engine(
        database, ConnectorProvider(secrets, environment=hub_environment(database, secrets))
    )
    relay = RelayStore(database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        web.jobs.close()

    app = FastAPI(title="ledgerlink hub", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.include_router(relay_router(relay, AgentKeys(relay, secrets)))
    app.mount(PREFIX, build_api(ApiServices(database=database, engine=engine, submitter=submitter)))
    app.include_router(serving_router(database, metrics or HubMetrics(database)))
    web = install_console(app, engine, options, secrets=secrets)
    name_console_users(app, web.uow)
    return app
