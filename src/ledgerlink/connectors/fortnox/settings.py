"""Per-connection settings of the Fortnox connector (chosen when connecting)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

API_URL = "https://api.fortnox.se"
AUTH_URL = "https://apps.fortnox.se/oauth-v1"
#: The scopes the connector's calls need (Fortnox's scope names): company information for
#: verify, customers, articles (product numbers), invoices, bookkeeping (accounts, vouchers,
#: financial years: expense import), projects and settings (the locked period); inbox and
#: connectfile for expense export's receipts (uploaded to the inbox, attached to vouchers).
DEFAULT_SCOPES = (
    "companyinformation customer article invoice bookkeeping project settings inbox connectfile"
)

#: BAS sales accounts for domestic sales at the reduced rates and without VAT.
BAS_VAT_ACCOUNTS = {12: 3002, 6: 3003, 0: 3004}

#: BAS cost accounts an exported expense is debited to, per PSA expense type (other
#: external costs, travel costs, tax-free mileage allowances); the setup may choose others.
BAS_EXPENSE_ACCOUNTS = {"expense": 6990, "travel": 5800, "mileage": 7331}
#: BAS account an exported expense is credited to: what the company owes the employee.
BAS_EXPENSE_CREDIT_ACCOUNT = 2890


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
    default. ``expense_import_series`` and ``expense_import_accounts``: expense import reads
    the rows on these accounts of the vouchers in this voucher series (the journal and
    accounts chosen in setup, fact sheet §1.1); without both, nothing is imported.

    Expense export (fact sheet §1.1, "activate expense export"): ``expense_voucher_series``
    is the journal (voucher series) exported expenses are booked in, with their receipts;
    empty leaves expense export off. ``expense_export_accounts``: the account debited per
    PSA expense type (expense, travel, mileage); ``expense_export_credit_account``: the
    account credited (what the company owes the employee). ``expense_export_from``: expenses
    dated before it are not exported (turning export on does not send years of history).
    ``expense_export_cost_centres``: book the PSA project's department as the rows' cost
    centre (it must be a Fortnox cost centre code)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    base_url: str = API_URL
    auth_url: str = AUTH_URL
    scopes: str = DEFAULT_SCOPES
    service_account: bool = False
    home_country: str = "SE"
    page_size: int = Field(default=100, ge=1, le=500)
    vat_accounts: dict[int, int] = Field(default_factory=lambda: dict(BAS_VAT_ACCOUNTS))
    expense_voucher_series: str = Field(default="", max_length=10)
    expense_export_accounts: dict[str, int] = Field(
        default_factory=lambda: dict(BAS_EXPENSE_ACCOUNTS)
    )
    expense_export_credit_account: int = Field(default=BAS_EXPENSE_CREDIT_ACCOUNT, ge=1000, le=9999)
    expense_export_from: date | None = None
    expense_export_cost_centres: bool = False
    expense_import_series: str = Field(default="", max_length=10)
    expense_import_accounts: tuple[int, ...] = ()

    @field_validator("expense_import_accounts", mode="before")
    @classmethod
    def _import_accounts(cls, value: Any) -> Any:
        """Accounts as a list, or as text as a setup prompt gives them ("5800 5831")."""
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(",", " ").split())
        return value

    @field_validator("expense_import_accounts")
    @classmethod
    def _import_account_numbers(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        wrong = [number for number in value if not 1000 <= number <= 9999]
        if wrong:
            raise ValueError(f"Fortnox accounts are 1000–9999, not {wrong[0]}")
        return value

    @property
    def expense_import_set_up(self) -> bool:
        """Whether a journal and accounts were chosen for expense import."""
        return bool(self.expense_import_series.strip() and self.expense_import_accounts)

    @field_validator("base_url", "auth_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
