"""Per-connection settings of the e-conomic connector (chosen in the guided setup)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ledgerlink.domain.vat import VatTreatment

DEFAULT_VAT_ZONES: dict[VatTreatment, int] = {
    VatTreatment.DOMESTIC: 1,
    VatTreatment.EU_REVERSE_CHARGE: 2,
    VatTreatment.EXPORT: 3,
}


LEGACY_REST_URL = "https://restapi.e-conomic.com"
PROJECTS_API_URL = "https://apis.e-conomic.com/api/v20.0.0"


class EconomicSettings(BaseModel):
    """Defaults e-conomic requires when the hub creates customers and draft invoices.

    ``vat_zone`` maps a sale's VAT treatment to the e-conomic VAT zone number (the standard
    zones are domestic 1, EU 2, abroad 3). ``home_country`` is the agreement's country, used to
    decide a new customer's VAT treatment. ``requisition_in_text1`` keeps the behaviour of
    integrations created before 06-11-2018 (requisition number written into Text 1).
    ``project_module``: the agreement has e-conomic's project module; projects are then
    created through the Projects API (``projects_api_url``; default the real one for the real
    REST API, else ``<base_url>/api/v20.0.0``, where the emulator serves it) in
    ``project_group_number``, and invoices carry their project number. ``page_size``: items per
    page of the collection reads (e-conomic takes at most 1000).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    layout_number: int = Field(default=1, ge=1)
    customer_group_number: int = Field(default=1, ge=1)
    payment_terms_number: int = Field(default=1, ge=1)
    vat_zone: dict[VatTreatment, int] = Field(default_factory=lambda: dict(DEFAULT_VAT_ZONES))
    employee_group_number: int = Field(default=1, ge=1)
    project_module: bool = False
    project_group_number: int = Field(default=1, ge=1)
    projects_api_url: str = ""
    expense_accounts: list[int] = Field(default_factory=list)
    base_url: str = LEGACY_REST_URL
    app_public_token: str = ""
    requisition_in_text1: bool = True
    home_country: str = "DK"
    page_size: int = Field(default=1000, ge=1, le=1000)

    @field_validator("vat_zone")
    @classmethod
    def _every_treatment_has_a_zone(cls, value: dict[VatTreatment, int]) -> dict[VatTreatment, int]:
        missing = [t.value for t in VatTreatment if t not in value]
        if missing:
            raise ValueError(f"no e-conomic VAT zone for {', '.join(missing)}")
        return value

    @property
    def effective_projects_api_url(self) -> str:
        if self.projects_api_url:
            return self.projects_api_url.rstrip("/")
        if self.base_url == LEGACY_REST_URL:
            return PROJECTS_API_URL
        return f"{self.base_url}/api/v20.0.0"

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
