"""Per-connection settings of the Exact Online connector (chosen when connecting)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The Dutch host; Exact has one per country (``start.exactonline.be``, ``.de``, ``.co.uk``,
#: ``.com``, ``.fr``, ``.es``). The API lives under ``/api/v1`` and OAuth2 under
#: ``/api/oauth2`` of the same host (fact sheet §2.1).
API_URL = "https://start.exactonline.nl"
#: The sales journal code of a Dutch division's default "Verkoopboek".
DEFAULT_SALES_JOURNAL = "70"


class ExactSettings(BaseModel):
    """``client_id``: the app's OAuth2 client id (its secret is a credential). ``base_url``:
    the country host (an emulator's to rehearse). ``division``: the Exact company the
    connection writes into (one connection = one division; never the user's *current*
    division, which the user may switch in Exact's web pages). ``sales_journal``: the sales
    journal invoices go into; it needs variable currency for foreign-currency invoices.
    ``vat_codes``: Exact VAT codes by the PSA's VAT percentage (``"21"``) or treatment
    (``"eu_reverse_charge"``, ``"export"``); a percentage not named is looked up among the
    division's exclusive VAT codes. ``page_size``: rows per incremental read (``$top``);
    ``None`` reads what Exact gives (1000 on ``sync/…``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    base_url: str = API_URL
    division: int = Field(gt=0)
    sales_journal: str = Field(default=DEFAULT_SALES_JOURNAL, min_length=1)
    vat_codes: dict[str, str] = Field(default_factory=dict)
    page_size: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
