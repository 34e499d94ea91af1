"""A FinancialHost the hub calls directly (inbound mode) hands the hub its audit head with
every ``connection.test``, and the hub keeps it (design §10, issue 11 item 2): a host whose log
was rewritten by someone holding its key — re-chained, so the host's own check passes — no
longer agrees with what the hub saw, and verifying the connection says so."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlink.connectors.contract import Permanent
from ledgerlink.connectors.financialhost import FinancialHostConnector
from ledgerlink.connectors.financialhost.spec import SPEC
from ledgerlink.connectors.spec import ConnectorEnvironment
from ledgerlink.store.database import Database
from ledgerlink.store.relay import AuditAnchorStore
from tests.financialhost.conftest import LiveHost, start_host


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHost]:
    yield from start_host(tmp_path)


def built(live: LiveHost, anchors: AuditAnchorStore) -> FinancialHostConnector:
    """The connector as the hub's registry builds it, with the hub's audit anchors."""
    connector = SPEC.factory(
        {"key_id": live.key.key_id, "secret": live.key.secret.decode()},
        {
            "base_url": live.url,
            "erp_system": "nav",
            "tls_certificate": live.certificate.cert_file.read_text(encoding="utf-8"),
        },
        ConnectorEnvironment(services={"audit_anchors": anchors}),
    )
    assert isinstance(connector, FinancialHostConnector)
    return connector


def test_the_hub_keeps_a_direct_hosts_audit_head_and_sees_a_rewritten_record(
    live: LiveHost, database: Database
) -> None:
    anchors = AuditAnchorStore(database)
    with built(live, anchors) as connector:
        connector.verify()
        first = anchors.held(live.url)
        assert first is not None and first > 0
        connector.verify()  # the host audited the first test: its log grew, and still agrees
        held = anchors.held(live.url)
        assert held is not None and held > first

        # Someone with the host's files and key rewrites the record the hub holds (the
        # append-only triggers dropped first): the host's chain may be re-MAC'd to match, but
        # the hub remembers the record's MAC as it was.
        with sqlite3.connect(live.host.settings.database_file) as db:
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
                db.execute(f'DROP TRIGGER "{name}"')
            db.execute("UPDATE audit SET mac = ? WHERE seq = ?", ("0" * 64, held))

        with pytest.raises(Permanent, match=f"record {held} is not the one the hub saw"):
            connector.verify()
        with pytest.raises(Permanent, match="audit chain disagrees"):
            connector.verify()  # kept until someone looks into it


def test_a_host_in_agent_mode_keeps_its_anchor_with_the_heartbeat_not_here(
    database: Database,
) -> None:
    """Agents send their audit head with the heartbeat; the connector keeps no second one."""
    anchors = AuditAnchorStore(database)
    connector = SPEC.factory(
        {"key_id": "hub-1", "secret": "s" * 43},
        {"agent_id": "acme-nav", "erp_system": "nav"},
        ConnectorEnvironment(services={"audit_anchors": anchors, "relay": object()}),
    )
    assert getattr(connector, "_anchors") is None  # noqa: B009 - the wiring under test
