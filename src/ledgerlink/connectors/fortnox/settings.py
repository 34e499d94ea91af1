"""Per-connection settings of the Fortnox connector (chosen when connecting)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

API_URL = "https://api.fortnox.se"
AUTH_URL = "https://apps.fortnox.se/oauth-v1"
#: The scopes the connector's calls need (Fortnox's scope names): company information for
#: verify, customers, articles (product numbers), invoices, bookkeeping (accounts, vouchers,
#: financial years) and projects.
DEFAULT_SCOPES = "companyinformation customer article invoice bookkeeping project"

#: BAS sales accounts for domestic sales at the reduced rates and without VAT.
BAS_VAT_ACCOUNTS = {12: 3002, 6: 3003, 0: 3004}


class FortnoxSettings(BaseModel):
    """``client_id``: the app's OAuth2 client id (its secret is a credential). ``base_url``
    (``/3/…`` lives under it) and ``auth_url`` (``/auth``, ``/token``, ``/revoke``) are the
    real Fortnox's by default, an emulator's to rehearse. ``scopes``: space-separated, asked
    for when connecting. ``service_account``: connect as Fortnox's service account
    (``account_type=service``) instead of the consenting user. ``home_country``: the
    company's country, which decides a new customer's VAT type. ``page_size``: items per
    page of list reads (Fortnox documents at most 500). ``vat_accounts``: the sales account
    a domestic row gets when its VAT rate is not the article's standard 25 % (Fortnox's
    EasyVat refuses a custom rate on a row without an account, 2004167); BAS accounts by
    default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    base_url: str = API_URL
    auth_url: str = AUTH_URL
    scopes: str = DEFAULT_SCOPES
    service_account: bool = False
    home_country: str = "SE"
    page_size: int = Field(default=100, ge=1, le=500)
    vat_accounts: dict[int, int] = Field(default_factory=lambda: dict(BAS_VAT_ACCOUNTS))

    @field_validator("base_url", "auth_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
