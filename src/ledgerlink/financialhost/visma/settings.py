"""The ``[visma]`` section of the FinancialHost settings: where Visma Administration lives and
the integration options of the reference product (``VismaCurrencyFactor[ISO]``,
``VismaAddProjectReferenceToInvoices``, ``VismaDefaultUnitType``, ``UseExpenseHandler``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class VismaSettings(BaseModel):
    """Settings of the Visma plugin.

    * ``system_path``: Visma's "Gemensamma filer" folder; ``company_path``: the company folder
      (``…\\Företag\\FTG1``); its folder name is the connection's ``account_id``.
    * ``adk``: ``dotnet`` (the real ``AdkNet4Wrapper.dll``, Windows) or ``emulated``.
    * ``user``: Visma login, used only when the company has login activated (``AdkOpen2``); the
      password is the vault secret ``visma:password``.
    * ``currency_factors``: ``VismaCurrencyFactor[ISO]`` — how many units of a currency Visma's
      rate is quoted for (1 or 100). Currencies not listed have factor 1. It must equal the
      currency's unit in Visma; if Visma is changed, the integration must be reconfigured.
    * ``default_unit``: the unit of invoice rows whose line has none (``VismaDefaultUnitType``).
    * ``default_country``: the country code of customers sent without one.
    * ``add_project_reference_to_invoices``: start each invoice with a text row naming the
      project and the heading.
    * ``auto_create_sellers``: create an unknown säljare (by initials) when an employee is
      ensured or an invoice names one; off, the säljare must exist in Visma.
    * ``correlation_field``: the invoice head field holding the correlation reference
      (``CUSTOMER_ORDER_NUMBER``, Visma's "order number" field, 25 characters, or ``TEXT3``,
      60). With ``CUSTOMER_ORDER_NUMBER`` the customer's requisition number goes to ``TEXT3``;
      with ``TEXT3`` it stays in ``CUSTOMER_ORDER_NUMBER``.
    * ``expense_state_file``: where the plugin keeps which supplier invoices were taken from or
      deleted in the expense pool (Visma cannot hold that; default
      ``<data_dir>/visma-expense-pool.sqlite``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    system_path: Path
    company_path: Path
    adk: Literal["emulated", "dotnet"] = "dotnet"
    user: str = ""
    currency_factors: dict[str, int] = Field(default_factory=lambda: {"DKK": 100, "NOK": 100})
    default_unit: str = Field(default="st", max_length=4)
    default_country: str = Field(default="SE", pattern=r"^[A-Z]{2}$")
    add_project_reference_to_invoices: bool = False
    auto_create_sellers: bool = False
    correlation_field: Literal["CUSTOMER_ORDER_NUMBER", "TEXT3"] = "CUSTOMER_ORDER_NUMBER"
    expense_state_file: Path | None = None

    @field_validator("currency_factors")
    @classmethod
    def _factors(cls, value: dict[str, int]) -> dict[str, int]:
        for currency, factor in value.items():
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise ValueError(f"'{currency}' is not an ISO currency code")
            if factor not in {1, 100}:
                raise ValueError(f"the factor of {currency} must be 1 or 100, not {factor}")
        return value

    def factor(self, currency: str) -> int:
        """The configured ``VismaCurrencyFactor`` of a currency (1 when not configured)."""
        return self.currency_factors.get(currency, 1)
