"""Outbound agent mode: the host calls the hub's relay over HTTPS for signed jobs and posts
back signed answers. Same operations, same signatures, same audit as inbound mode; nothing
connects to the host, and a job that is not the enrolled hub's never reaches the ERP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ledgerlink.connectors.contract import Transient
from ledgerlink.connectors.financialhost import FinancialHostConnector
from ledgerlink.connectors.financialhost.errors import AGENT_HINT
from ledgerlink.emulators._kit.serve import running
from ledgerlink.financialhost.agent import Agent
from ledgerlink.financialhost.audit import verify_chain
from ledgerlink.financialhost.guard import RELAY_ADDRESS
from ledgerlink.financialhost.runtime import build_host, serving
from ledgerlink.financialhost.server import Host
from ledgerlink.financialhost.settings import AgentSettings
from ledgerlink.financialhost.tls import ensure_certificate
from ledgerlink.financialhost.vault import Vault
from ledgerlink.wire import relay as wire
from ledgerlink.wire.client import SignedClient, tls_context
from ledgerlink.wire.signing import SigningKey, sign_request
from tests.connectors.builders import customer
from tests.connectors.financialhost_support import connector_for_agent
from tests.contract.hub_relay import AGENT_ID, HubRelay, hub_relay
from tests.financialhost.conftest import host_settings
from tests.financialhost.fakes import MemoryPlugin


@dataclass
class AgentHost:
    host: Host
    agent: Agent
    url: str  # the loopback listener (callbacks, health)
    certificate_file: Path
    key: SigningKey
    plugin: MemoryPlugin
    hub: HubRelay

    def connector(self, **settings: Any) -> FinancialHostConnector:
        return connector_for_agent(self.hub, key=self.key, **settings)

    def audit(self, event: str) -> list[dict[str, Any]]:
        return [r for r in self.host.audit.records() if r["event"] == event]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubRelay]:
    with hub_relay(tmp_path / "hub") as relay:
        yield relay


def _start_agent_host(tmp_path: Path, hub: HubRelay, **agent: Any) -> Iterator[AgentHost]:
    settings = host_settings(tmp_path / "host", mode="agent", agent=hub.agent_settings(**agent))
    secret = Vault(settings.data_dir).add_key("hub-1")
    key = SigningKey("hub-1", secret.encode())
    hub.enrol(key)
    plugin = MemoryPlugin()
    host, certificate = build_host(settings, plugin)
    agent = Agent(host, settings.agent)
    with serving(host, certificate) as url:
        agent.start()
        try:
            yield AgentHost(host, agent, url, certificate.cert_file, key, plugin, hub)
        finally:
            agent.stop()


@pytest.fixture
def agent_host(tmp_path: Path, hub: HubRelay) -> Iterator[AgentHost]:
    yield from _start_agent_host(tmp_path, hub)


def test_operations_travel_through_the_relay_and_are_audited_as_inbound(
    agent_host: AgentHost,
) -> None:
    with agent_host.connector() as connector:
        info = connector.verify()
        created = connector.create_customer(customer(number="4242"))
    assert info.company_name == "Memory A/S"
    assert created.external_id == "4242"
    assert "upsert_customer" in agent_host.plugin.calls
    executed = agent_host.audit("request")
    assert {r["operation"] for r in executed} >= {"connection.test", "customer.upsert"}
    assert {r["address"] for r in executed} == {RELAY_ADDRESS}
    assert verify_chain(agent_host.host.database, agent_host.host.settings.data_dir / "audit.head")


def test_the_hub_records_the_agents_heartbeat(agent_host: AgentHost) -> None:
    deadline = time.monotonic() + 10
    while (seen := agent_host.hub.relay.agent(AGENT_ID)) is None or seen.heartbeat is None:
        assert time.monotonic() < deadline, "no heartbeat within 10 s"
        time.sleep(0.1)
    assert seen.heartbeat["plugin"] == "memory"
    assert seen.heartbeat["erp_reachable"] is True
    assert seen.heartbeat["jobs_pending"] == 0


def test_a_host_in_agent_mode_refuses_inbound_operations(agent_host: AgentHost) -> None:
    client = SignedClient(
        agent_host.url,
        keys=[agent_host.key],
        verify=tls_context(verify=agent_host.certificate_file),
    )
    try:
        answer = client.call("connection.test", {})
    finally:
        client.close()
    assert answer.status == 403
    assert "agent mode" in answer.body["error"]["message"]
    assert [r["reason"] for r in agent_host.audit("request.refused")] == ["agent_mode"]
    assert agent_host.audit("request") == []
    with httpx2.Client(verify=tls_context(verify=agent_host.certificate_file)) as http:
        assert http.get(agent_host.url + "/health").status_code == 200


def test_a_job_tampered_with_after_signing_never_reaches_the_erp(agent_host: AgentHost) -> None:
    body = json.dumps({"customer": {"number": "1", "name": "x"}}).encode()
    path = "/v1/ops/customer.upsert"
    headers = sign_request(method="POST", path=path, body=body, keys=[agent_host.key])
    tampered = body.replace(b'"1"', b'"2"')
    relay = agent_host.hub.relay
    job_id = relay.submit(
        AGENT_ID,
        {
            "method": "POST",
            "path": path,
            "query": "",
            "headers": headers | {"content-type": "application/json"},
            "body_b64": wire.encode_body(tampered),
        },
        deadline=datetime.now(UTC) + timedelta(seconds=30),
    )
    deadline = time.monotonic() + 10
    while (outcome := relay.outcome(job_id)).response is None:
        assert time.monotonic() < deadline, "the agent did not answer within 10 s"
        time.sleep(0.05)
    assert outcome.response["status"] == 401
    assert "upsert_customer" not in agent_host.plugin.calls
    refused = agent_host.audit("request.refused")
    assert [(r["address"], r["reason"]) for r in refused] == [(RELAY_ADDRESS, "bad_signature")]


def test_without_a_running_agent_the_request_is_not_sent_and_the_hint_says_why(
    hub: HubRelay,
) -> None:
    hub.enrol(SigningKey("hub-1", b"a-secret"))
    connector = connector_for_agent(hub, key=SigningKey("hub-1", b"a-secret"), timeout_seconds=0.5)
    with connector, pytest.raises(Transient) as raised:
        connector.verify()
    assert "did not fetch the request" in str(raised.value)
    assert "never called the hub" in str(raised.value)
    assert raised.value.hint == AGENT_HINT
    assert hub.relay.lease(AGENT_ID, limit=10) == []  # abandoned, never offered later


def _hub_call(hub: HubRelay, path: str, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    with httpx2.Client(verify=tls_context(verify=hub.certificate_file)) as http:
        return http.post(hub.url + path, content=body, headers=headers)


def test_the_hub_answers_only_calls_signed_by_the_enrolled_agent(hub: HubRelay) -> None:
    key = SigningKey("hub-1", b"the-agent-secret")
    hub.enrol(key)
    path = wire.lease_path(AGENT_ID)
    body = wire.LeaseRequest(wait_seconds=0).model_dump_json().encode()

    assert _hub_call(hub, path, body, {}).status_code == 401
    wrong = sign_request(method="POST", path=path, body=body, keys=[SigningKey("hub-1", b"no")])
    assert _hub_call(hub, path, body, wrong).status_code == 401
    other = wire.lease_path("someone-else")
    signed_other = sign_request(method="POST", path=other, body=body, keys=[key])
    assert _hub_call(hub, other, body, signed_other).status_code == 401

    signed = sign_request(method="POST", path=path, body=body, keys=[key])
    first = _hub_call(hub, path, body, signed)
    assert first.status_code == 200
    assert first.json() == {"jobs": []}
    assert "x-fh-signature" in first.headers  # the answer is signed for the agent
    assert _hub_call(hub, path, body, signed).status_code == 401  # replayed nonce
    too_long = b'{"wait_seconds": 600}'  # above the 25 s a proxy keeps an idle call open
    signed = sign_request(method="POST", path=path, body=too_long, keys=[key])
    assert _hub_call(hub, path, too_long, signed).status_code == 422


def test_the_agent_runs_nothing_a_hub_did_not_sign(tmp_path: Path) -> None:
    """A server pretending to be the hub hands out a job with a valid job signature (it stole
    a request) but cannot sign its own answer: the agent refuses the answer, runs nothing."""
    plugin = MemoryPlugin()
    settings = host_settings(tmp_path / "host")
    secret = Vault(settings.data_dir).add_key("hub-1")
    key = SigningKey("hub-1", secret.encode())
    body, path = b'{"number": "1"}', "/v1/ops/customer.find"
    job = wire.RelayJob(
        job_id="stolen",
        method="POST",
        path=path,
        headers=sign_request(method="POST", path=path, body=body, keys=[key]),
        body_b64=wire.encode_body(body),
        deadline=datetime.now(UTC) + timedelta(minutes=1),
    )
    impostor = FastAPI()

    @impostor.post("/agent/v1/{agent_id}/lease")
    def lease(agent_id: str) -> JSONResponse:
        return JSONResponse({"jobs": [job.model_dump(mode="json")]})

    tls = ensure_certificate(
        data_dir=tmp_path / "tls", cert_file=None, key_file=None, hostnames=["127.0.0.1"]
    )
    host, _ = build_host(settings, plugin)
    with running(impostor, tls=(tls.cert_file, tls.key_file)) as url:
        agent = Agent(
            host,
            AgentSettings(
                hub_url=url,
                agent_id=AGENT_ID,
                verify=str(tls.cert_file),
                poll_seconds=0.05,
                lease_seconds=1,
                heartbeat_seconds=60,
            ),
        )
        host.start()
        agent.start()
        try:
            deadline = time.monotonic() + 10
            while not [r for r in host.audit.records() if r["event"] == "agent.hub_unreachable"]:
                assert time.monotonic() < deadline, "the agent never reported the bad hub"
                time.sleep(0.05)
            agent.stop()
            assert "find_customer" not in plugin.calls
            assert not [r for r in host.audit.records() if r["event"] == "request"]
            records = [r for r in host.audit.records() if r["event"] == "agent.hub_unreachable"]
            assert "not signed" in records[0]["error"]
        finally:
            agent.stop()
            host.stop()


def test_the_agent_rides_out_a_hub_outage(tmp_path: Path) -> None:
    """The hub goes away and comes back (same database, same port): the agent audits both and
    takes work again without a restart."""
    first = hub_relay(tmp_path / "hub")
    hub = first.__enter__()
    port = int(hub.url.rsplit(":", 1)[1])
    hosts = _start_agent_host(tmp_path, hub, poll_seconds=0.05)
    agent_host = next(hosts)
    try:
        with agent_host.connector() as connector:
            connector.verify()
        first.__exit__(None, None, None)
        deadline = time.monotonic() + 15
        while not agent_host.audit("agent.hub_unreachable"):
            assert time.monotonic() < deadline, "the agent did not notice the hub going away"
            time.sleep(0.05)
        with hub_relay(tmp_path / "hub", hub.database, port=port) as again:
            with connector_for_agent(again, key=agent_host.key) as connector:
                connector.verify()
            assert agent_host.audit("agent.hub_reachable")
    finally:
        hosts.close()


def test_agent_settings_from_the_environment_and_their_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEDGERLINK_HOST_MODE", "agent")
    monkeypatch.setenv("LEDGERLINK_HOST_AGENT__HUB_URL", "https://hub.example.com/")
    monkeypatch.setenv("LEDGERLINK_HOST_AGENT__AGENT_ID", "acme-nav")
    monkeypatch.setenv("LEDGERLINK_HOST_AGENT__VERIFY", "false")
    settings = host_settings(tmp_path)
    assert settings.mode == "agent"
    assert settings.agent.hub_url == "https://hub.example.com"
    assert settings.agent.verify is False  # the word, not a file called "false"
    with pytest.raises(ValueError, match="loopback only"):
        host_settings(tmp_path, host="0.0.0.0")
    monkeypatch.setenv("LEDGERLINK_HOST_AGENT__HUB_URL", "http://hub.example.com")
    with pytest.raises(ValueError, match="https"):
        host_settings(tmp_path)
    monkeypatch.delenv("LEDGERLINK_HOST_AGENT__HUB_URL")
    with pytest.raises(ValueError, match="needs \\[agent\\] hub_url and agent_id"):
        host_settings(tmp_path)
