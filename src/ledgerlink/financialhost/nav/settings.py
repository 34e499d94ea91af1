"""The ``[nav]`` section of the host settings: where NAV is and how PSA data maps onto it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["DEFAULT_SERVICES", "NavSettings"]

#: Role → published web-service name (the TimeLog FOB's names; relocatable per installation).
DEFAULT_SERVICES: dict[str, str] = {
    "customer": "TlpCustomerNavWS",
    "contact": "TlpContactNavWS",
    "customer_contact": "TlpCustomerContactWS",
    "employee": "TlpEmployeeNavWS",
    "salesperson": "TlpSalesPersonWS",
    "item": "TlpProductNumberNavWS",
    "gl_account": "TlpGLAccountNavWS",
    "dimension_value": "TlpDimensionValueWS",
    "invoice": "TlpInvoiceNavWS",
    "invoice_line": "TlpInvoiceLineWS",
    "posted_invoice": "TlpPostedInvoiceNavWS",
    "posted_invoice_line": "TlpPostedInvoiceLineWS",
    "posted_credit_memo": "TlpPostedCrMemoNavWS",
    "posted_credit_memo_line": "TlpPostedCrMemoLineWS",
    "expense": "TlpExpenseNavWS",
    "expense_list": "TlpExpenseList",
    "setup": "TlpSetup",
    "change_log": "TlpChangeLog",
    "functions": "TlpFunctionsWS",
}


class NavSettings(BaseModel):
    """How the plugin reaches NAV and maps documents (the reference host's settings file keys in
    brackets). The password or web-service access key is the vault secret ``nav:password``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # NAV serves SOAP and OData on two ports, each its own base URL (NAV's "SOAP Services" and
    # "OData Services" URLs in the server instance's settings).
    soap_url: str = Field(min_length=1)  # http(s)://server:7047/DynamicsNAV100/WS
    odata_url: str = Field(min_length=1)  # http(s)://server:7048/DynamicsNAV100/ODataV4
    company: str = Field(min_length=1)
    username: str = Field(min_length=1)
    # [InvoiceLineType] 0 Text, 1 G/L Account (PSA product numbers are G/L accounts), 2 Item,
    # 3 Resource.
    invoice_line_type: Literal[0, 1, 2, 3] = 2
    services: dict[str, str] = Field(default_factory=dict)
    template_customer: str = "10000"
    # NAV applies the employee template named in TimeLog Setup (50500); kept for the report.
    employee_template: str = "TIMELOG"
    use_dimension_1: bool = True  # [NavUseDimension1]
    use_dimension_2: bool = True  # [NavUseDimension2]
    project_dimension: Literal[1, 2] = 2  # [NavProjectDimensionNumber]; the other: department
    include_date_in_lines: bool = False  # [NavIncludeDateInInvoiceLine]
    date_format_in_lines: str = "%d-%m-%Y"  # [NavDateFormatInInvoiceLine]
    extended_contacts: bool = True  # "Brug udvidet kontakt mgr"
    default_country: str = "DK"  # [TransferDefaultCountry]
    timeout_seconds: float = Field(default=180, gt=0)  # [NavisionWebserviceOperationTimeout]
    page_size: int = Field(default=500, ge=1, le=1000)  # [NavisionPageSize]
    lcy_code: str = "DKK"  # the local currency: NAV wants a blank Currency Code for it
    # A new customer's VAT business posting group by where it is: in the company's own country,
    # elsewhere in the EU (reverse charge), or outside the EU. The template's group otherwise
    # taxes every customer as domestic.
    home_country: str = "DK"
    vat_bus_posting_groups: dict[str, str] = Field(
        default_factory=lambda: {"domestic": "DOMESTIC", "eu": "EU", "export": "EXPORT"}
    )
    # Send an employee's PSA department as its department dimension value (the value must exist
    # in NAV with the same code); off, NAV's employee template decides.
    employee_department_dimension: bool = False

    @model_validator(mode="before")
    @classmethod
    def _one_url_is_not_enough(cls, data: Any) -> Any:
        if isinstance(data, dict) and "base_url" in data:
            raise ValueError(
                "[nav] base_url is replaced by soap_url and odata_url: NAV serves SOAP and OData "
                'on two ports (e.g. soap_url = "http://navserver:7047/DynamicsNAV100/WS", '
                'odata_url = "http://navserver:7048/DynamicsNAV100/ODataV4")'
            )
        return data

    @field_validator("soap_url", "odata_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def service(self, role: str) -> str:
        """The published service name of ``role`` (configured, else the TimeLog default)."""
        return self.services.get(role) or DEFAULT_SERVICES[role]

    @property
    def department_dimension(self) -> Literal[1, 2]:
        """The global dimension carrying the department (the one the project does not use)."""
        return 1 if self.project_dimension == 2 else 2

    def dimension_enabled(self, number: int) -> bool:
        """Whether global dimension ``number`` is used."""
        return self.use_dimension_1 if number == 1 else self.use_dimension_2
