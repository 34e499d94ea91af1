"""A console over the engine's hub (tests/sync/test_engine.py ``build_hub``: the sample data,
two posted invoices, a connection to the in-memory fake ERP), users of every role, and a
signed-in TestClient per role. TestClient runs the app in-process over https://testserver,
so the Secure cookies travel as in production."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledgerlink.domain.users import Role
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork
from ledgerlink.sync import connections
from ledgerlink.sync.secrets import SecretBox
from ledgerlink.sync.transfers import DirectRunner
from ledgerlink.web.app import create_app
from ledgerlink.web.console import ConsoleOptions
from ledgerlink.web.users import Passwords, add_user
from tests.sync.test_engine import Hub, build_hub

#: The connection's credential: no page may ever contain it.
SECRET = "tok-3e9f1c6b-SECRET-do-not-render"
PASSWORD = "correct horse battery"
#: argon2 at its cheapest: the tests sign in dozens of times.
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    app: FastAPI
    hub: Hub
    database: Database

    @property
    def connection_id(self) -> int:
        return self.hub.connection_id

    @contextmanager
    def client(self, role: Role | None = None) -> Iterator[Browser]:
        """A browser, signed in as the user of ``role`` (anonymous for None)."""
        with TestClient(self.app, base_url="https://testserver", follow_redirects=False) as http:
            browser = Browser(http)
            if role is not None:
                browser.sign_in(role.value, PASSWORD)
            yield browser


class Browser:
    def __init__(self, http: TestClient) -> None:
        self.http = http
        self.csrf = ""

    def sign_in(self, name: str, password: str) -> object:
        page = self.http.get("/login")
        token = CSRF_INPUT.search(page.text)
        assert token, page.text
        answer = self.http.post(
            "/login", data={"name": name, "password": password, "csrf_token": token.group(1)}
        )
        if answer.status_code == 303:
            home = self.http.get("/")
            found = CSRF_INPUT.search(home.text)
            assert found, home.text
            self.csrf = found.group(1)
        return answer

    def post(self, path: str, data: dict[str, object] | None = None, **kw: object):  # type: ignore[no-untyped-def]
        form = {"csrf_token": self.csrf, **(data or {})}
        return self.http.post(path, data=form, **kw)  # type: ignore[arg-type]


def build_console(database: Database, tmp_path: Path, **options: object) -> Console:
    from ledgerlink.connectors.testing import FakeErp

    hub = build_hub(database, tmp_path, FakeErp())
    secrets = SecretBox.from_key_file(tmp_path / "secret.key", create=False)
    with hub.engine.uow() as uow:
        entity_id = uow.connections.get(hub.connection_id).legal_entity_id
    # The same connection again, now with a credential we can look for in every page.
    connections.connect(
        hub.engine,
        secrets,
        legal_entity_id=entity_id,
        erp="fake",
        credentials={"token": SECRET},
        settings={},
    )
    for role in Role:
        add_user(lambda: UnitOfWork(database), CHEAP, role.value, role, PASSWORD)
    app = create_app(
        database,
        secrets,
        console=ConsoleOptions(
            engine=hub.engine,
            runner=DirectRunner(hub.engine),
            passwords=CHEAP,
            failed_sign_in_delay=0,
            **{"background": lambda work: work(), **options},  # type: ignore[arg-type]
        ),
    )
    return Console(app, hub, database)
