"""FinancialHost's own settings: a TOML file beside its data, overridable by environment
variables ``LEDGERLINK_HOST_*`` (nested with ``__``, e.g. ``LEDGERLINK_HOST_PORT=8743``).

The file holds no secret. The hub's signing keys, the callback secret and ERP passwords live in
the encrypted vault (:mod:`ledgerlink.financialhost.vault`), managed with ``ledgerlink host
key …`` and ``ledgerlink host secret …``.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ledgerlink.financialhost.alerts import AlertSettings
from ledgerlink.wire.operations import OPERATIONS

SETTINGS_FILE = "financialhost.toml"
LOOPBACK = ("127.0.0.1/32", "::1/128")


class RetrySettings(BaseModel):
    """Backoff of jobs the ERP could not take: ``initial`` seconds, doubled per attempt up to
    ``maximum``, with up to ``jitter`` (fraction) added."""

    model_config = ConfigDict(extra="forbid")

    initial: float = Field(default=2.0, gt=0)
    maximum: float = Field(default=300.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, le=1)


class AgentSettings(BaseModel):
    """Outbound agent mode: the host calls the hub for signed jobs (no inbound port).

    * ``hub_url``: the hub's HTTPS origin; ``agent_id``: the id the hub's connection names.
    * ``lease_seconds``: how long one call to the hub waits for work (at most 25 s, below the
      idle limit of common proxies); ``poll_seconds``: the first pause after a failed call,
      doubled per failure up to a minute.
    * ``heartbeat_seconds``: how often the host reports its state to the hub.
    * ``max_parallel``: jobs run at the same time (writes still reach the ERP one by one).
    * ``verify``: true (the system's CAs), a CA/certificate file to trust instead, or false
      (tests only).
    """

    model_config = ConfigDict(extra="forbid")

    hub_url: str = ""
    agent_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._-]*$")
    poll_seconds: float = Field(default=2.0, gt=0)
    lease_seconds: float = Field(default=20.0, gt=0, le=25)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    max_parallel: int = Field(default=4, ge=1, le=20)
    verify: bool | str = True

    @field_validator("verify", mode="before")
    @classmethod
    def _verify_words(cls, value: object) -> object:
        # From the environment every value is text: "false" must not become a file name.
        words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        return words.get(value.strip().lower(), value) if isinstance(value, str) else value

    @field_validator("hub_url")
    @classmethod
    def _https(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        if text and not text.lower().startswith("https://"):
            raise ValueError(f"'{value}' is not an https:// address; the hub is reached over TLS")
        return text


class HostSettings(BaseSettings):
    """Everything ``ledgerlink host serve`` needs.

    * ``data_dir``: certificates, the vault key, the job queue and the audit log.
    * ``host``/``port``: where to listen (HTTPS only).
    * ``tls_cert_file``/``tls_key_file``: a real certificate; unset, a self-signed one is
      generated in ``data_dir`` on first run.
    * ``client_ca_file``: set it to require client certificates signed by that CA (mTLS).
    * ``allowed_ips``: addresses or networks that may call the operations.
    * ``trusted_proxies``: reverse proxies in front of the host (addresses or networks). Only
      for a request from one of these is ``X-Forwarded-For`` read, and the address it names is
      the one the allow-lists check; otherwise the header is ignored (default: no proxy).
    * ``allowed_operations``: the operations this host executes (default: all of the wire
      contract); anything else is refused with 403.
    * ``callback_handle``: the ERP side's handle; its secret is ``callback:<handle>`` in the vault.
      Callbacks are accepted from ``callback_allowed_ips`` only (loopback by default).
    * ``plugin``: ``nav`` or ``visma``; the plugin's own section is ``[nav]`` / ``[visma]``.
    * ``mode``: ``inbound`` (the hub calls this host) or ``agent`` (this host calls the hub,
      section ``[agent]``; it then listens on loopback only, for the ERP's callbacks).
    * ``header_timeout_seconds``: the TLS handshake, then a request's line and headers, must
      each arrive within this time; ``body_timeout_seconds``: the whole body (else 408).
    * ``refusal_limit``: refused requests from one address within ``refusal_interval_seconds``
      before the rest of that interval is answered 429; the audit log keeps refusals as one
      record per address and reason per interval, with a count.
    * ``max_in_flight``: signed operations in progress at once (each may wait on the ERP); one
      more is answered 503 with Retry-After.
    """

    model_config = SettingsConfigDict(
        env_prefix="LEDGERLINK_HOST_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("financialhost-data")
    customer_name: str = ""
    mode: Literal["inbound", "agent"] = "inbound"
    host: str = "127.0.0.1"
    port: int = Field(default=8743, ge=0, le=65535)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    client_ca_file: Path | None = None
    certificate_hostnames: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"])
    allowed_ips: list[str] = Field(default_factory=lambda: list(LOOPBACK))
    trusted_proxies: list[str] = Field(default_factory=list)
    allowed_operations: list[str] = Field(default_factory=lambda: sorted(OPERATIONS))
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    window_seconds: int = Field(default=300, ge=30, le=900)
    callback_handle: str = ""
    callback_allowed_ips: list[str] = Field(default_factory=lambda: list(LOOPBACK))
    sync_wait_seconds: float = Field(default=10.0, ge=0)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    refusal_limit: int = Field(default=20, ge=1)
    refusal_interval_seconds: float = Field(default=60.0, gt=0)
    max_in_flight: int = Field(default=16, ge=1, le=1000)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    plugin: Literal["nav", "visma"] = "nav"
    nav: dict[str, Any] = Field(default_factory=dict)
    visma: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the settings file (which arrives as init arguments).
        return env_settings, init_settings

    @model_validator(mode="after")
    def _agent_mode_complete(self) -> HostSettings:
        if self.mode == "agent" and not (self.agent.hub_url and self.agent.agent_id):
            raise ValueError("mode = 'agent' needs [agent] hub_url and agent_id")
        if self.mode == "agent" and not self.listens_on_loopback:
            raise ValueError(
                "in agent mode the host listens on loopback only (for the ERP's callbacks); "
                f"set host = '127.0.0.1', not '{self.host}'"
            )
        return self

    @property
    def listens_on_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    @field_validator("allowed_ips", "callback_allowed_ips", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"'{item}' is not an IP address or network") from None
        return value

    @field_validator("allowed_operations")
    @classmethod
    def _known_operations(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(OPERATIONS))
        if unknown:
            raise ValueError(
                f"unknown operations {unknown}; the wire contract has {sorted(OPERATIONS)}"
            )
        return value

    @property
    def plugin_settings(self) -> dict[str, Any]:
        return self.nav if self.plugin == "nav" else self.visma

    @property
    def database_file(self) -> Path:
        return self.data_dir / "host.sqlite"

    def allows(self, address: str, *, callback: bool = False) -> bool:
        return _within(address, self.callback_allowed_ips if callback else self.allowed_ips)

    def trusts_proxy(self, address: str) -> bool:
        return _within(address, self.trusted_proxies)


def _within(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def load_settings(path: Path) -> HostSettings:
    """Read the TOML settings file; environment variables override it. Relative paths in the
    file are relative to the file's folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"No FinancialHost settings at {path}; create them with 'ledgerlink host init'."
        ) from None
    for name in ("data_dir", "tls_cert_file", "tls_key_file", "client_ca_file"):
        if isinstance(data.get(name), str) and not Path(data[name]).is_absolute():
            data[name] = str(path.parent / data[name])
    return HostSettings(**data)
