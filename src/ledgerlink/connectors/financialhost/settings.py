"""Per-connection settings and credentials of the FinancialHost connector.

The settings say where the host is and how long to wait for it; the credentials (from the
encrypted secret store) are the hub's signing key and, for hosts that require mTLS, a client
certificate. Both are checked when the connector is built, so a wrong address fails at setup,
not at the first invoice.
"""

from __future__ import annotations

import ssl
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


class FinancialHostSettings(BaseModel):
    """Where FinancialHost runs and how the hub talks to it.

    * ``base_url``: the host's HTTPS origin, e.g. ``https://erp.example.dk:8743``. Plain http is
      refused: the signed envelope protects integrity, not confidentiality.
    * ``agent_id``: instead of ``base_url``, for a host in outbound agent mode: the id the host
      calls the hub with (its ``[agent] agent_id``). Requests then wait in the hub's relay until
      the host fetches them; no connection goes to the customer's server.
    * ``erp_system``: the ERP behind the host (``nav`` or ``visma``); the capabilities follow.
    * ``tls_certificate``: PEM text of the certificate to trust for the host, and nothing else
      (the host's self-signed certificate, or its CA). Empty: the system trust store.
    * ``job_wait_seconds``: how long to keep polling a write the host has stored but not yet
      done (the ERP is unavailable) before reporting it as Transient. The host itself waits up
      to its ``sync_wait_seconds`` before it answers, so the total is about the sum.
    * ``poll_interval_seconds``: pause between two polls of such a job.
    * ``timeout_seconds``: per request; keep it above the host's ``sync_wait_seconds``.
    * ``page_size``: records per page of the incremental reads.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = ""
    agent_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._-]*$")
    erp_system: Literal["nav", "visma"]
    tls_certificate: str = ""
    job_wait_seconds: float = Field(default=20.0, ge=0, le=600)
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    page_size: int = Field(default=500, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _https_origin(cls, value: str) -> str:
        text = value.strip().rstrip("/")
        if not text:
            return ""
        parts = urlsplit(text)
        if parts.scheme.lower() != "https":
            raise ValueError(
                f"'{value}' is not an https:// address; FinancialHost is only reached over TLS"
            )
        if not parts.hostname:
            raise ValueError(f"'{value}' names no host")
        if parts.path or parts.query or parts.fragment or parts.username or parts.password:
            # The signature covers the request path, so the host must see /v1/ops/... as sent.
            raise ValueError(
                f"'{value}' must be the host's origin only (https://name:port), without a path, "
                "query or user"
            )
        return text

    @model_validator(mode="after")
    def _one_way_to_the_host(self) -> Self:
        if bool(self.base_url) == bool(self.agent_id):
            raise ValueError(
                "give either base_url (the host listens for the hub) or agent_id (the host runs "
                "in agent mode and calls the hub), not both or neither"
            )
        return self

    @property
    def via_agent(self) -> bool:
        return bool(self.agent_id)

    @property
    def host_name(self) -> str:
        """How messages name the host."""
        return f"agent '{self.agent_id}'" if self.agent_id else self.base_url

    @field_validator("tls_certificate")
    @classmethod
    def _pem_certificate(cls, value: str) -> str:
        text = value.strip()
        if not text:
            return ""
        if PEM_CERTIFICATE not in text:
            raise ValueError("tls_certificate must be PEM text starting with " + PEM_CERTIFICATE)
        try:
            ssl.create_default_context(cadata=text)
        except ssl.SSLError as error:
            raise ValueError(f"tls_certificate cannot be loaded: {error}") from None
        return text + "\n"


class FinancialHostCredentials(BaseModel):
    """The hub's signing key as enrolled on the host (``ledgerlink host key add``), and an
    optional client certificate and key (PEM) for hosts that require mTLS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(min_length=1, max_length=64)
    secret: SecretStr
    client_certificate: str = ""
    client_key: SecretStr = SecretStr("")

    @field_validator("secret")
    @classmethod
    def _secret_given(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the signing secret is empty")
        return value

    @model_validator(mode="after")
    def _certificate_with_key(self) -> Self:
        if bool(self.client_certificate.strip()) != bool(self.client_key.get_secret_value()):
            raise ValueError("client_certificate and client_key go together; give both or none")
        return self

    @property
    def uses_client_certificate(self) -> bool:
        return bool(self.client_certificate.strip())
