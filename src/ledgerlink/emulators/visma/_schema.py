"""Field metadata of the databases :class:`~.adk.EmulatedAdk` models.

Field ids and types come from ``Adk.h``. Lengths come from the reference integration's truncation
rules where it states them (customer number 16, address 35, city 24, project code 10, customer
order number 25, invoice row text 60, EAN 13, electronic reference 35, head texts 60, account
6); every other length and every decimal count is an emulator choice (GUESS) — the header does
not carry them, the real ADK reports them through ``AdkGetLength``/``AdkGetDecimals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledgerlink.interfaces.visma_adk import constants as c


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: id, name, ``e*`` type, length, decimals and whether it is read-only."""

    field_id: int
    name: str
    type: int
    length: int = 0
    decimals: int = 0
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class DbSpec:
    """One database: its fields, key, timestamp, sort orders and (for heads) its rows."""

    db_id: int
    table_code: int
    fields: Mapping[int, FieldSpec]
    key_field: int
    sort_orders: Mapping[int, int]
    timestamp_field: int | None = None
    rows_field: int | None = None
    nrows_field: int | None = None
    row_db: int | None = None
    numbered: bool = False

    @property
    def key_is_number(self) -> bool:
        """Whether the key is a double (document numbers) rather than a string."""
        return self.fields[self.key_field].type == c.eDouble


def _f(name: str, type_: int, length: int = 0, decimals: int = 0, *, ro: bool = False) -> FieldSpec:
    return FieldSpec(getattr(c, name), name, type_, length, decimals, ro)


def _fields(*specs: FieldSpec) -> dict[int, FieldSpec]:
    return {spec.field_id: spec for spec in specs}


B, C, D, T, X = c.eBool, c.eChar, c.eDouble, c.eDate, c.eData
MONEY = (15, 2)

CUSTOMER = DbSpec(
    c.ADK_DB_CUSTOMER,
    c.ADKE_DBTABLE_CUSTOMER,
    _fields(
        _f("ADK_CUSTOMER_NUMBER", C, 16),
        _f("ADK_CUSTOMER_NAME", C, 50),
        _f("ADK_CUSTOMER_SHORT_NAME", C, 10),
        _f("ADK_CUSTOMER_MAILING_ADDRESS", C, 35),
        _f("ADK_CUSTOMER_MAILING_ADDRESS2", C, 35),
        _f("ADK_CUSTOMER_VISITING_ADDRESS", C, 35),
        _f("ADK_CUSTOMER_ZIPCODE", C, 10),
        _f("ADK_CUSTOMER_CITY", C, 24),
        _f("ADK_CUSTOMER_COUNTRY", C, 24),
        _f("ADK_CUSTOMER_TELEPHONE", C, 20),
        _f("ADK_CUSTOMER_REFERENCE", C, 50),
        _f("ADK_CUSTOMER_ORGANISATION_NUMBER", C, 15),
        _f("ADK_CUSTOMER_SELLER", C, 6),
        _f("ADK_CUSTOMER_CODE_OF_TERMS_OF_PAYMENT", C, 4),
        _f("ADK_CUSTOMER_CODE_OF_CURRENCY", C, 3),
        _f("ADK_CUSTOMER_CLAIM", D, *MONEY, ro=True),
        _f("ADK_CUSTOMER_VAT_NUMBER", C, 20),
        _f("ADK_CUSTOMER_EU_CUSTOMER", B),
        _f("ADK_CUSTOMER_EMAIL", C, 80),
        _f("ADK_CUSTOMER_LASTCHANGE", T, ro=True),
        _f("ADK_CUSTOMER_EANLOC", C, 13),
        _f("ADK_CUSTOMER_CODE_OF_COUNTRY", C, 2),
        _f("ADK_CUSTOMER_TIMESTAMP", T, ro=True),
        _f("ADK_CUSTOMER_PROFIT_CENTRE", C, 6),
        _f("ADK_CUSTOMER_PROJECT", C, 10),
        _f("ADK_CUSTOMER_INACTIVE", B),
        _f("ADK_CUSTOMER_ELECTRONIC_REFERENCE", C, 35),
    ),
    c.ADK_CUSTOMER_NUMBER,
    {
        c.eCustomerNr: c.ADK_CUSTOMER_NUMBER,
        c.eCustomerName: c.ADK_CUSTOMER_NAME,
        c.eCustomerShortName: c.ADK_CUSTOMER_SHORT_NAME,
        c.eCustomerPostCode: c.ADK_CUSTOMER_ZIPCODE,
        c.eCustomerEmail: c.ADK_CUSTOMER_EMAIL,
        c.eTimeStamp: c.ADK_CUSTOMER_TIMESTAMP,
    },
    timestamp_field=c.ADK_CUSTOMER_TIMESTAMP,
)

ARTICLE = DbSpec(
    c.ADK_DB_ARTICLE,
    c.ADKE_DBTABLE_ARTICLE,
    _fields(
        _f("ADK_ARTICLE_NUMBER", C, 16),
        _f("ADK_ARTICLE_NAME", C, 30),
        _f("ADK_ARTICLE_SHORT_NAME", C, 10),
        _f("ADK_ARTICLE_ACCOUNTING_CODE", C, 4),
        _f("ADK_ARTICLE_UNIT_CODE", C, 4),
        _f("ADK_ARTICLE_PRICE", D, *MONEY),
        _f("ADK_ARTICLE_TIMESTAMP", T, ro=True),
        _f("ADK_ARTICLE_INACTIVE", B),
    ),
    c.ADK_ARTICLE_NUMBER,
    {
        c.eArticleNr: c.ADK_ARTICLE_NUMBER,
        c.eArticleName: c.ADK_ARTICLE_NAME,
        c.eTimeStamp: c.ADK_ARTICLE_TIMESTAMP,
    },
    timestamp_field=c.ADK_ARTICLE_TIMESTAMP,
)

INVOICE_HEAD = DbSpec(
    c.ADK_DB_INVOICE_HEAD,
    c.ADKE_DBTABLE_OOF,
    _fields(
        _f("ADK_OOI_HEAD_DOCUMENT_NUMBER", D, 10, 0),
        _f("ADK_OOI_HEAD_DOCUMENT_NOT_DONE", B),
        _f("ADK_OOI_HEAD_DOCUMENT_PRINTED", B),
        _f("ADK_OOI_HEAD_DOCUMENT_CANCELLED", B),
        _f("ADK_OOI_HEAD_DOCUMENT_DATE1", T),
        _f("ADK_OOI_HEAD_DOCUMENT_DATE2", T),
        _f("ADK_OOI_HEAD_TYPE_OF_INVOICE", C, 1),
        _f("ADK_OOI_HEAD_CUSTOMER_NUMBER", C, 16),
        _f("ADK_OOI_HEAD_CUSTOMER_NAME", C, 50),
        _f("ADK_OOI_HEAD_MAILING_ADDRESS1", C, 35),
        _f("ADK_OOI_HEAD_MAILING_ADDRESS2", C, 35),
        _f("ADK_OOI_HEAD_ZIPCODE", C, 10),
        _f("ADK_OOI_HEAD_CITY", C, 24),
        _f("ADK_OOI_HEAD_COUNTRY", C, 24),
        _f("ADK_OOI_HEAD_CUSTOMER_REFERENCE_NAME", C, 50),
        _f("ADK_OOI_HEAD_CUSTOMER_ORDER_NUMBER", C, 25),
        _f("ADK_OOI_HEAD_OUR_REFERENCE_NAME", C, 50),
        _f("ADK_OOI_HEAD_SELLER_CODE", C, 6),
        _f("ADK_OOI_HEAD_CURRENCY_CODE", C, 3),
        _f("ADK_OOI_HEAD_CURRENCY_RATE", D, 12, 6),
        _f("ADK_OOI_HEAD_CURRENCY_UNIT", D, 5, 0),
        _f("ADK_OOI_HEAD_INCLUDING_VAT", B),
        _f("ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT", C, 4),
        _f("ADK_OOI_HEAD_TEXT1", C, 60),
        _f("ADK_OOI_HEAD_TEXT2", C, 60),
        _f("ADK_OOI_HEAD_TEXT3", C, 60),
        _f("ADK_OOI_HEAD_ROUND_OFF", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_TOTAL_AMOUNT", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_BALANCE", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_PROJECT_CODE", C, 10),
        _f("ADK_OOI_HEAD_PROFIT_CENTRE", C, 6),
        _f("ADK_OOI_HEAD_BALANCE2", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE", D, 10, 0),
        _f("ADK_OOI_HEAD_CUSTOMER_INVOICE_VAT_NUMBER", C, 20),
        _f("ADK_OOI_HEAD_EXCLUDING_OF_VAT", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_VAT_AMOUNT", D, *MONEY, ro=True),
        _f("ADK_OOI_HEAD_ROWS", X),
        _f("ADK_OOI_HEAD_NROWS", D, 5, 0),
        _f("ADK_OOI_HEAD_OCR_NUMBER", C, 25, ro=True),
        _f("ADK_OOI_HEAD_CODE_OF_COUNTRY", C, 2),
        _f("ADK_OOI_HEAD_LAST_PAYMENT", T, ro=True),
        _f("ADK_OOI_HEAD_TIMESTAMP", T, ro=True),
        _f("ADK_OOI_HEAD_ELECTRONIC_REFERENCE", C, 35),
    ),
    c.ADK_OOI_HEAD_DOCUMENT_NUMBER,
    {
        c.eInvoiceNr: c.ADK_OOI_HEAD_DOCUMENT_NUMBER,
        c.eInvoiceDate: c.ADK_OOI_HEAD_DOCUMENT_DATE1,
        c.eCustomerNr: c.ADK_OOI_HEAD_CUSTOMER_NUMBER,
        c.eCustomerName: c.ADK_OOI_HEAD_CUSTOMER_NAME,
        c.eTimeStamp: c.ADK_OOI_HEAD_TIMESTAMP,
    },
    timestamp_field=c.ADK_OOI_HEAD_TIMESTAMP,
    rows_field=c.ADK_OOI_HEAD_ROWS,
    nrows_field=c.ADK_OOI_HEAD_NROWS,
    row_db=c.ADK_DB_INVOICE_ROW,
    numbered=True,
)

INVOICE_ROW = DbSpec(
    c.ADK_DB_INVOICE_ROW,
    c.ADKE_DBTABLE_ARTRAD,
    _fields(
        _f("ADK_OOI_ROW_ARTICLE_NUMBER", C, 16),
        _f("ADK_OOI_ROW_QUANTITY1", D, 12, 2),
        _f("ADK_OOI_ROW_QUANTITY2", D, 12, 2),
        _f("ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY", D, *MONEY),
        _f("ADK_OOI_ROW_DISCOUNT", D, 5, 2),
        _f("ADK_OOI_ROW_AMOUNT_CURRENT_CURRENCY", D, *MONEY, ro=True),
        _f("ADK_OOI_ROW_AMOUNT_DOMESTIC_CURRENCY", D, *MONEY, ro=True),
        _f("ADK_OOI_ROW_ACCOUNT_NUMBER", C, 6),
        _f("ADK_OOI_ROW_PROFIT_CENTRE", C, 6),
        _f("ADK_OOI_ROW_PROJECT", C, 10),
        _f("ADK_OOI_ROW_TEXT", C, 60),
        _f("ADK_OOI_ROW_UNIT", C, 4),
        _f("ADK_OOI_ROW_VAT_CODE", C, 1),
        _f("ADK_OOI_ROW_TYPE_OF_ROW", C, 1, ro=True),
        _f("ADK_OOI_ROW_ROWNUMBER", D, 5, 0, ro=True),
        _f("ADK_OOI_ROW_TIMESTAMP", T, ro=True),
        _f("ADK_OOI_ROW_HOURS_WORKED", D, 12, 2),
    ),
    c.ADK_OOI_ROW_ROWNUMBER,
    {},
    timestamp_field=c.ADK_OOI_ROW_TIMESTAMP,
)

SUPPLIER_INVOICE_HEAD = DbSpec(
    c.ADK_DB_SUPPLIER_INVOICE_HEAD,
    c.ADKE_DBTABLE_LEVFKT,
    _fields(
        _f("ADK_SUP_INV_HEAD_GIVEN_NUMBER", D, 10, 0),
        _f("ADK_SUP_INV_HEAD_SUPPLIER_NUMBER", C, 16),
        _f("ADK_SUP_INV_HEAD_SUPPLIER_NAME", C, 50),
        _f("ADK_SUP_INV_HEAD_INVOICE_NUMBER", C, 25),
        _f("ADK_SUP_INV_HEAD_INVOICE_DATE", T),
        _f("ADK_SUP_INV_HEAD_DUE_DATE", T),
        _f("ADK_SUP_INV_HEAD_CURRENCY_CODE", C, 3),
        _f("ADK_SUP_INV_HEAD_CURRENCY_RATE", D, 12, 6),
        _f("ADK_SUP_INV_HEAD_TOTAL", D, *MONEY),
        _f("ADK_SUP_INV_HEAD_BALANCE_CURRENT_CURRENCY", D, *MONEY, ro=True),
        _f("ADK_SUP_INV_HEAD_VAT_AMOUNT", D, *MONEY),
        _f("ADK_SUP_INV_HEAD_CANCELLED", B),
        _f("ADK_SUP_INV_HEAD_PROJECT", C, 10),
        _f("ADK_SUP_INV_HEAD_PROFIT_CENTRE", C, 6),
        _f("ADK_SUP_INV_HEAD_NOTE1", C, 60),
        _f("ADK_SUP_INV_HEAD_NOTE2", C, 60),
        _f("ADK_SUP_INV_HEAD_NOTE3", C, 60),
        _f("ADK_SUP_INV_HEAD_TIMESTAMP", T, ro=True),
    ),
    c.ADK_SUP_INV_HEAD_GIVEN_NUMBER,
    {
        c.eSupplierInvoiceNr: c.ADK_SUP_INV_HEAD_GIVEN_NUMBER,
        c.eSupplierInvoiceExpireDate: c.ADK_SUP_INV_HEAD_DUE_DATE,
        c.eSupplierNr: c.ADK_SUP_INV_HEAD_SUPPLIER_NUMBER,
        c.eSupplierName: c.ADK_SUP_INV_HEAD_SUPPLIER_NAME,
        c.eTimeStamp: c.ADK_SUP_INV_HEAD_TIMESTAMP,
    },
    timestamp_field=c.ADK_SUP_INV_HEAD_TIMESTAMP,
    numbered=True,
)

PROJECT = DbSpec(
    c.ADK_DB_PROJECT,
    c.ADKE_DBTABLE_PROJECT,
    _fields(
        _f("ADK_PROJECT_CODE_OF_PROJECT", C, 10),
        _f("ADK_PROJECT_NAME", C, 30),
        _f("ADK_PROJECT_DATE_OF_BEGINNING", T),
        _f("ADK_PROJECT_DATE_OF_END", T),
        _f("ADK_PROJECT_RESPONSIBLE_OF_PROJECT", C, 6),
        _f("ADK_PROJECT_CUSTOMER_NUMBER", C, 16),
        _f("ADK_PROJECT_CUSTOMER_NAME", C, 50, ro=True),
        _f("ADK_PROJECT_CLOSED", B),
        _f("ADK_PROJECT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_PROJECT_CODE_OF_PROJECT,
    {
        c.eProjectCode: c.ADK_PROJECT_CODE_OF_PROJECT,
        c.eProjectName: c.ADK_PROJECT_NAME,
        c.eTimeStamp: c.ADK_PROJECT_TIMESTAMP,
    },
    timestamp_field=c.ADK_PROJECT_TIMESTAMP,
)

ACCOUNT = DbSpec(
    c.ADK_DB_ACCOUNT,
    c.ADKE_DBTABLE_ACCOUNT,
    _fields(
        _f("ADK_ACCOUNT_NUMBER", C, 6),
        _f("ADK_ACCOUNT_TEXT", C, 40),
        _f("ADK_ACCOUNT_VAT_CODE", C, 2),
        _f("ADK_ACCOUNT_NOT_ACTIVE", B),
        _f("ADK_ACCOUNT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_ACCOUNT_NUMBER,
    {
        c.eAccountNr: c.ADK_ACCOUNT_NUMBER,
        c.eAccountText: c.ADK_ACCOUNT_TEXT,
        c.eTimeStamp: c.ADK_ACCOUNT_TIMESTAMP,
    },
    timestamp_field=c.ADK_ACCOUNT_TIMESTAMP,
)

SUPPLIER = DbSpec(
    c.ADK_DB_SUPPLIER,
    c.ADKE_DBTABLE_SUPPLIER,
    _fields(
        _f("ADK_SUPPLIER_NUMBER", C, 16),
        _f("ADK_SUPPLIER_NAME", C, 50),
        _f("ADK_SUPPLIER_ORGANISATION_NUMBER", C, 15),
        _f("ADK_SUPPLIER_CODE_OF_CURRENCY", C, 3),
        _f("ADK_SUPPLIER_CODE_OF_COUNTRY", C, 2),
        _f("ADK_SUPPLIER_TIMESTAMP", T, ro=True),
    ),
    c.ADK_SUPPLIER_NUMBER,
    {
        c.eSupplierNr: c.ADK_SUPPLIER_NUMBER,
        c.eSupplierName: c.ADK_SUPPLIER_NAME,
        c.eTimeStamp: c.ADK_SUPPLIER_TIMESTAMP,
    },
    timestamp_field=c.ADK_SUPPLIER_TIMESTAMP,
)

TERMS_OF_PAYMENT = DbSpec(
    c.ADK_DB_CODE_OF_TERMS_OF_PAYMENT,
    c.ADKE_DBTABLE_PAYMENT_TERMS,
    _fields(
        _f("ADK_CODE_OF_TERMS_OF_PAYMENT_CODE", C, 4),
        _f("ADK_CODE_OF_TERMS_OF_PAYMENT_TEXT", C, 30),
        _f("ADK_CODE_OF_TERMS_OF_PAYMENT_PAYMENT_CODE", C, 2),
        _f("ADK_CODE_OF_TERMS_OF_PAYMENT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_TERMS_OF_PAYMENT_CODE,
    {
        c.eCodeOfTermsOfPayment: c.ADK_CODE_OF_TERMS_OF_PAYMENT_CODE,
        c.eTimeStamp: c.ADK_CODE_OF_TERMS_OF_PAYMENT_TIMESTAMP,
    },
    timestamp_field=c.ADK_CODE_OF_TERMS_OF_PAYMENT_TIMESTAMP,
)

CURRENCY = DbSpec(
    c.ADK_DB_CODE_OF_CURRENCY,
    c.ADKE_DBTABLE_CURRENCY_CODE,
    _fields(
        _f("ADK_CODE_OF_CURRENCY_CODE", C, 3),
        _f("ADK_CODE_OF_CURRENCY_COUNTRY", C, 24),
        _f("ADK_CODE_OF_CURRENCY_UNIT", D, 5, 0),
        _f("ADK_CODE_OF_CURRENCY_DATE_OF_REGISTRATION", T),
        _f("ADK_CODE_OF_CURRENCY_SELL", D, 12, 6),
        _f("ADK_CODE_OF_CURRENCY_BUY", D, 12, 6),
        _f("ADK_CODE_OF_CURRENCY_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_CURRENCY_CODE,
    {
        c.eCodeOfCurrency: c.ADK_CODE_OF_CURRENCY_CODE,
        c.eTimeStamp: c.ADK_CODE_OF_CURRENCY_TIMESTAMP,
    },
    timestamp_field=c.ADK_CODE_OF_CURRENCY_TIMESTAMP,
)

SELLER = DbSpec(
    c.ADK_DB_CODE_OF_SELLER,
    c.ADKE_DBTABLE_SELLER,
    _fields(
        _f("ADK_CODE_OF_SELLER_SIGN", C, 6),
        _f("ADK_CODE_OF_SELLER_NAME", C, 25),
        _f("ADK_CODE_OF_SELLER_SELLER", B),
        _f("ADK_CODE_OF_SELLER_REF", B),
        _f("ADK_CODE_OF_SELLER_ATT", B),
        _f("ADK_CODE_OF_SELLER_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_SELLER_SIGN,
    {c.eCodeOfSeller: c.ADK_CODE_OF_SELLER_SIGN, c.eTimeStamp: c.ADK_CODE_OF_SELLER_TIMESTAMP},
    timestamp_field=c.ADK_CODE_OF_SELLER_TIMESTAMP,
)

ARTICLE_ACCOUNT = DbSpec(
    c.ADK_DB_CODE_OF_ARTICLE_ACCOUNT,
    c.ADKE_DBTABLE_ARTKNT_KONTKOD,
    _fields(
        _f("ADK_CODE_OF_ARTICLE_ACCOUNT_CODE", C, 4),
        _f("ADK_CODE_OF_ARTICLE_ACCOUNT_TEXT", C, 30),
        _f("ADK_CODE_OF_ARTICLE_ACCOUNT_SALES", C, 6),
        _f("ADK_CODE_OF_ARTICLE_ACCOUNT_VAT", C, 1),
        _f("ADK_CODE_OF_ARTICLE_ACCOUNT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_ARTICLE_ACCOUNT_CODE,
    {
        c.eCodeOfArticleAccount: c.ADK_CODE_OF_ARTICLE_ACCOUNT_CODE,
        c.eTimeStamp: c.ADK_CODE_OF_ARTICLE_ACCOUNT_TIMESTAMP,
    },
    timestamp_field=c.ADK_CODE_OF_ARTICLE_ACCOUNT_TIMESTAMP,
)

UNIT = DbSpec(
    c.ADK_DB_CODE_OF_UNIT,
    c.ADKE_DBTABLE_UNIT_CODE,
    _fields(
        _f("ADK_CODE_OF_UNIT_CODE", C, 4),
        _f("ADK_CODE_OF_UNIT_DOMESTIC", B),
        _f("ADK_CODE_OF_UNIT_TEXT", C, 20),
        _f("ADK_CODE_OF_UNIT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_UNIT_CODE,
    {c.eCodeOfUnit: c.ADK_CODE_OF_UNIT_CODE, c.eTimeStamp: c.ADK_CODE_OF_UNIT_TIMESTAMP},
    timestamp_field=c.ADK_CODE_OF_UNIT_TIMESTAMP,
)

PROFIT_CENTRE = DbSpec(
    c.ADK_DB_CODE_OF_PROFIT_CENTRE,
    c.ADKE_DBTABLE_RESULT_UNIT,
    _fields(
        _f("ADK_CODE_OF_PROFIT_CENTRE_CODE", C, 6),
        _f("ADK_CODE_OF_PROFIT_CENTRE_NAME", C, 30),
        _f("ADK_CODE_OF_PROFIT_CENTRE_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_PROFIT_CENTRE_CODE,
    {
        c.eCodeOfProfitCentreUnit: c.ADK_CODE_OF_PROFIT_CENTRE_CODE,
        c.eTimeStamp: c.ADK_CODE_OF_PROFIT_CENTRE_TIMESTAMP,
    },
    timestamp_field=c.ADK_CODE_OF_PROFIT_CENTRE_TIMESTAMP,
)

COUNTRY = DbSpec(
    c.ADK_DB_CODE_OF_COUNTRY_CODE,
    c.ADKE_DBTABLE_CODE_OF_COUNTRY,
    _fields(
        _f("ADK_CODE_OF_COUNTRY_CODE_CODE", C, 2),
        _f("ADK_CODE_OF_COUNTRY_CODE_COUNTRY", C, 24),
        _f("ADK_CODE_OF_COUNTRY_CODE_ISO", B),
        _f("ADK_CODE_OF_COUNTRY_CODE_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CODE_OF_COUNTRY_CODE_CODE,
    {
        c.eCodeOfCountryCode: c.ADK_CODE_OF_COUNTRY_CODE_CODE,
        c.eTimeStamp: c.ADK_CODE_OF_COUNTRY_CODE_TIMESTAMP,
    },
    timestamp_field=c.ADK_CODE_OF_COUNTRY_CODE_TIMESTAMP,
)

PRM = DbSpec(
    c.ADK_DB_PRM,
    c.ADKE_DBTABLE_PRM,
    _fields(
        _f("ADK_PRM_NAME", C, 50),
        _f("ADK_PRM_ORGANISATION_NUMBER", C, 15),
        _f("ADK_PRM_CODE_OF_CURRENCY", C, 3, ro=True),
    ),
    c.ADK_PRM_NAME,
    {},
)

CUSTOMERPAYMENT = DbSpec(
    c.ADK_DB_CUSTOMERPAYMENT,
    c.ADKE_DBTABLE_CUSTOMERPAYMENT,
    _fields(
        _f("ADK_CUSTOMERPAYMENT_NR", D, 10, 0, ro=True),
        _f("ADK_CUSTOMERPAYMENT_INVOICE_NUMBER", D, 10, 0),
        _f("ADK_CUSTOMERPAYMENT_DATE", T),
        _f("ADK_CUSTOMERPAYMENT_CURRENCY_RATE", D, 12, 6, ro=True),
        _f("ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY", D, *MONEY),
        _f("ADK_CUSTOMERPAYMENT_AMOUNT_KR", D, *MONEY, ro=True),
        _f("ADK_CUSTOMERPAYMENT_PAYTEXT", C, 30),
        _f("ADK_CUSTOMERPAYMENT_CURRENCY_CODE", C, 3, ro=True),
        _f("ADK_CUSTOMERPAYMENT_CANCELLED", B, ro=True),
        _f("ADK_CUSTOMERPAYMENT_TIMESTAMP", T, ro=True),
    ),
    c.ADK_CUSTOMERPAYMENT_NR,
    {
        c.eCustomerPaymentInvoice: c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER,
        c.eCustomerPaymentDate: c.ADK_CUSTOMERPAYMENT_DATE,
        c.eTimeStamp: c.ADK_CUSTOMERPAYMENT_TIMESTAMP,
    },
    timestamp_field=c.ADK_CUSTOMERPAYMENT_TIMESTAMP,
    numbered=True,
)

DATABASES: Mapping[int, DbSpec] = {
    spec.db_id: spec
    for spec in (
        CUSTOMER,
        ARTICLE,
        INVOICE_HEAD,
        INVOICE_ROW,
        SUPPLIER_INVOICE_HEAD,
        PROJECT,
        ACCOUNT,
        SUPPLIER,
        TERMS_OF_PAYMENT,
        CURRENCY,
        SELLER,
        ARTICLE_ACCOUNT,
        UNIT,
        PROFIT_CENTRE,
        COUNTRY,
        PRM,
        CUSTOMERPAYMENT,
    )
}
"""Databases the emulator models, by ``ADK_DB_*`` id."""

NUMBER_SERIES_START: Mapping[int, int] = {
    c.ADK_DB_INVOICE_HEAD: 1001,
    c.ADK_DB_SUPPLIER_INVOICE_HEAD: 1,
    c.ADK_DB_CUSTOMERPAYMENT: 1,
}
"""First number of each number series (emulator choice)."""
