"""Texts ``AdkGetErrorText`` returns in the emulator, Swedish (as Visma) and English.

Only "Kan ej hitta angiven landskod." and "Kan ej hitta angiven säljare." are Visma's verified
texts (quoted in the reference integration's error log); the other Swedish texts are written in
the same style (GUESS) — the real ones live inside Adk.dll.
"""

from __future__ import annotations

from collections.abc import Mapping

from ledgerlink.interfaces.visma_adk import constants as c

TEXTS: Mapping[int, tuple[str, str]] = {
    c.ADKE_OK: ("OK", "OK"),
    c.ADKE_INTERNAL: ("Internt fel.", "Internal error."),
    c.ADKE_EDIT_DENIED_OBLITERATED: (
        "Dokumentet är makulerat och kan inte ändras.",
        "The document is cancelled and cannot be changed.",
    ),
    c.ADKE_COULD_NOT_FIND_ARTICLE: ("Kan ej hitta angiven artikel.", "Cannot find the article."),
    c.ADKE_COULD_NOT_FIND_CUSTOMER: ("Kan ej hitta angiven kund.", "Cannot find the customer."),
    c.ADKE_INVOICE_EDIT_DENIED_BOOKKEEPING: (
        "Fakturan är bokförd och kan inte ändras.",
        "The invoice is booked and cannot be changed.",
    ),
    c.ADKE_INVOICE_EDIT_DENIED_ALREADY_IN_LEDGER: (
        "Fakturan finns redan i kundreskontran och kan inte ändras.",
        "The invoice is already in the customer ledger and cannot be changed.",
    ),
    c.ADKE_CUSTOMER_INVALID_SELLER: (
        "Kan ej hitta angiven säljare.",
        "Cannot find the sales person.",
    ),
    c.ADKE_INVALID_PAYMENT_TERMS: (
        "Kan ej hitta angivna betalningsvillkor.",
        "Cannot find the terms of payment.",
    ),
    c.ADKE_INVALID_CURRENCY_CODE: ("Kan ej hitta angiven valutakod.", "Cannot find the currency."),
    c.ADKE_ARTICLE_INVALID_KONTKOD: (
        "Kan ej hitta angiven artikelkonteringskod.",
        "Cannot find the article accounting code.",
    ),
    c.ADKE_ARTICLE_INVALID_UNITCODE: ("Kan ej hitta angiven enhetskod.", "Cannot find the unit."),
    c.ADKE_OOF_INVALID_CUSTOMER: (
        "Kunden finns inte i kundregistret.",
        "The customer does not exist in the customer register.",
    ),
    c.ADKE_OOF_INVALID_ARTICLE: (
        "Artikeln finns inte i artikelregistret.",
        "The article does not exist in the article register.",
    ),
    c.ADKE_CUSTOMER_INVALID_CUSTOMERNR: ("Ogiltigt kundnummer.", "Invalid customer number."),
    c.ADKE_DBTABLE_CUSTOMER: ("Kundregistret", "Customer register"),
    c.ADKE_DBTABLE_ARTICLE: ("Artikelregistret", "Article register"),
    c.ADKE_DBTABLE_OOF: ("Offert/order/faktura", "Offer/order/invoice"),
    c.ADKE_DBTABLE_ARTRAD: ("Artikelrad", "Document row"),
    c.ADKE_DBTABLE_SELLER: ("Säljare", "Sales persons"),
    c.ADKE_DBTABLE_PAYMENT_TERMS: ("Betalningsvillkor", "Terms of payment"),
    c.ADKE_DBTABLE_CURRENCY_CODE: ("Valutakoder", "Currency codes"),
    c.ADKE_DBTABLE_ARTKNT_KONTKOD: ("Artikelkonteringskoder", "Article accounting codes"),
    c.ADKE_DBTABLE_UNIT_CODE: ("Enhetskoder", "Unit codes"),
    c.ADKE_DBTABLE_SUPPLIER: ("Leverantörsregistret", "Supplier register"),
    c.ADKE_DBTABLE_LEVFKT: ("Leverantörsfakturor", "Supplier invoices"),
    c.ADKE_DBTABLE_ACCOUNT: ("Kontoplan", "Chart of accounts"),
    c.ADKE_DBTABLE_PROJECT: ("Projekt", "Projects"),
    c.ADKE_DBTABLE_RESULT_UNIT: ("Resultatenheter", "Profit centres"),
    c.ADKE_DBTABLE_CODE_OF_COUNTRY: ("Landskoder", "Country codes"),
    c.ADKE_DBTABLE_CUSTOMERPAYMENT: ("Kundinbetalningar", "Customer payments"),
    c.ADKE_DBTABLE_PRM: ("Företagsuppgifter", "Company settings"),
    c.ADKE_BOF: ("Början av registret.", "Beginning of file."),
    c.ADKE_EOF: ("Slut på registret.", "End of file."),
    c.ADKE_NO_DB_OPEN: ("Inget företag är öppnat.", "No company is open."),
    c.ADKE_ADD: ("AdkAdd", "AdkAdd"),
    c.ADKE_FIND: ("AdkFind", "AdkFind"),
    c.ADKE_FIRST: ("AdkFirst", "AdkFirst"),
    c.ADKE_NEXT: ("AdkNext", "AdkNext"),
    c.ADKE_UPDATE: ("AdkUpdate", "AdkUpdate"),
    c.ADKE_SET_BOOL: ("AdkSetBool", "AdkSetBool"),
    c.ADKE_SET_DOUBLE: ("AdkSetDouble", "AdkSetDouble"),
    c.ADKE_SET_STRING: ("AdkSetStr", "AdkSetStr"),
    c.ADKE_SET_DATA: ("AdkSetData", "AdkSetData"),
    c.ADKE_SET_DATE: ("AdkSetDate", "AdkSetDate"),
    c.ADKE_GET_STRING: ("AdkGetStr", "AdkGetStr"),
    c.ADKE_GET_BOOL: ("AdkGetBool", "AdkGetBool"),
    c.ADKE_GET_DOUBLE: ("AdkGetDouble", "AdkGetDouble"),
    c.ADKE_GET_DATE: ("AdkGetDate", "AdkGetDate"),
    c.ADKE_GET_TYPE: ("AdkGetType", "AdkGetType"),
    c.ADKE_GET_DATA: ("AdkGetData", "AdkGetData"),
    c.ADKE_GET_DATA_ROW: ("AdkGetDataRow", "AdkGetDataRow"),
    c.ADKE_OPEN: ("AdkOpen", "AdkOpen"),
    c.ADKE_DELETE_STRUCT: ("AdkDeleteStruct", "AdkDeleteStruct"),
    c.ADKE_UNKNON_DB_FIELD: ("Okänt databasfält.", "Unknown database field."),
    c.ADKE_INVALID_DATA_TYPE: ("Felaktig datatyp för fältet.", "Invalid data type for the field."),
    c.ADKE_NOT_VALID_SORTORDER: ("Ogiltig sorteringsordning.", "Invalid sort order."),
    c.ADKE_COULD_NOT_FIND_SUPPLIER: (
        "Kan ej hitta angiven leverantör.",
        "Cannot find the supplier.",
    ),
    c.ADKE_INVALID_DB: ("Ogiltig databas.", "Invalid database."),
    c.ADKE_EDIT_DENIED_FIELD: ("Fältet får inte ändras.", "The field may not be changed."),
    c.ADKE_INVALID_INVOICE_TYPE: ("Ogiltig fakturatyp.", "Invalid invoice type."),
    c.ADKE_INVALID_INDEX: ("Posten finns redan.", "The record already exists."),
    c.ADKE_NO_KEY: ("Nyckelfältet saknar värde.", "The key field has no value."),
    c.ADKE_LONG_TO_DATE: ("AdkLongToDate", "AdkLongToDate"),
    c.ADKE_TO_SHORT_STRING: ("För kort sträng.", "String buffer too short."),
    c.ADKE_NOT_FOUND: ("Posten hittades inte.", "The record was not found."),
    c.ADKE_INVALID_PATH_COMPANY: (
        "Felaktig sökväg till företaget.",
        "Invalid path to the company.",
    ),
    c.ADKE_SET_SORT_ORDER: ("AdkSetSortOrder", "AdkSetSortOrder"),
    c.ADKE_INVALID_NET_LICENCE: ("Ogiltig nätverkslicens.", "Invalid network licence."),
    c.ADKE_TOO_MANY_LICENCE: (
        "Alla licenser för programmet används redan.",
        "All licences are in use.",
    ),
    c.ADKE_INVALID_ADM_PATH: (
        "Felaktig sökväg till Gemensamma filer.",
        "Invalid path to the common files.",
    ),
    c.ADKE_DATE_TO_LONG: ("AdkDateToLong", "AdkDateToLong"),
    c.ADKE_NO_NAME: ("Namn saknas.", "The name is missing."),
    c.ADKE_INVLAID_ACCOUNT: ("Kan ej hitta angivet konto.", "Cannot find the account."),
    c.ADKE_INVLAID_PROJECT: ("Kan ej hitta angivet projekt.", "Cannot find the project."),
    c.ADKE_INVLAID_RESULT_UNIT: (
        "Kan ej hitta angiven resultatenhet.",
        "Cannot find the profit centre.",
    ),
    c.ADKE_DELETE: ("AdkDeleteRecord", "AdkDeleteRecord"),
    c.ADKE_DELETE_DENIED_CONNECTION: (
        "Posten används och kan inte tas bort.",
        "The record is in use and cannot be deleted.",
    ),
    c.ADKE_DELETE_ROW: ("AdkDeleteRow", "AdkDeleteRow"),
    c.ADKE_INVALID_INVOICE: ("Ogiltig faktura.", "Invalid invoice."),
    c.ADKE_TOO_MANY_SIGNS: ("För många tecken.", "Too many characters."),
    c.ADKE_TOO_MANY_DECIMALS: ("För många decimaler.", "Too many decimals."),
    c.ADKE_EDIT_DENIED_ON_TEXT_ROW: (
        "En textrad kan inte ha antal eller pris.",
        "A text row cannot have a quantity or price.",
    ),
    c.ADKE_PREVIOUS: ("AdkPrevious", "AdkPrevious"),
    c.ADKE_LAST: ("AdkLast", "AdkLast"),
    c.ADKE_INVALID_STRUCT_POINTER: ("Ogiltig datastruktur.", "Invalid data structure."),
    c.ADKE_INVALID_STRUCT_POINTER_TO_ROW: (
        "Ogiltig datastruktur för rader.",
        "Invalid row data structure.",
    ),
    c.ADKE_KEY_TAKEN_IN_NUMBERSERIES: (
        "Numret är redan upptaget i nummerserien.",
        "The number is already taken in the number series.",
    ),
    c.ADKE_DENIED_CREDIT_CREDIT_INVOICE: (
        "En kreditfaktura kan inte krediteras.",
        "A credit invoice cannot be credited.",
    ),
    c.ADKE_DENIED_CREDIT_OBLITERATED_INVOICE: (
        "En makulerad faktura kan inte krediteras.",
        "A cancelled invoice cannot be credited.",
    ),
    c.ADKE_INVALID_COUNTRY_CODE: (
        "Kan ej hitta angiven landskod.",
        "Cannot find the country code.",
    ),
    c.ADKE_INVALID_VAT_CODE: ("Ogiltig momskod.", "Invalid VAT code."),
    c.ADKE_FIRSTEX: ("AdkFirstEx", "AdkFirstEx"),
    c.ADKE_NEXTEX: ("AdkNextEx", "AdkNextEx"),
    c.ADKE_FINDEX: ("AdkFindEx", "AdkFindEx"),
    c.ADKE_PREVIOUSEX: ("AdkPreviousEx", "AdkPreviousEx"),
    c.ADKE_LASTEX: ("AdkLastEx", "AdkLastEx"),
    c.ADKE_RESET_STRUCT: ("AdkResetStruct", "AdkResetStruct"),
    c.ADKE_CUSTOMERPAYMENT_INVOICE_ERROR: (
        "Fakturan finns inte i kundreskontran.",
        "The invoice is not in the customer ledger.",
    ),
    c.ADKE_CUSTOMERPAYMENT_INVALID_INVOICE: (
        "Kan ej hitta angiven faktura.",
        "Cannot find the invoice.",
    ),
    c.ADKE_CUSTOMERPAYMENT_ZERO_NOT_ALLOWED: (
        "Beloppet får inte vara noll.",
        "The amount may not be zero.",
    ),
    c.ADKE_GET_TIMESTAMP_FIELD: ("AdkGetTimestampField", "AdkGetTimestampField"),
    c.ADKE_GETCOMPANYNAME: ("AdkGetCompanyName", "AdkGetCompanyName"),
    c.ADKE_LOGIN_DENIED: (
        "Inloggning krävs för företaget.",
        "The company requires a login.",
    ),
    c.ADKE_LOGIN_FAIL: ("Felaktigt användarnamn eller lösenord.", "Wrong user name or password."),
    c.ADKE_OPEN2: ("AdkOpen2", "AdkOpen2"),
    c.ADKE_SETFILTER: ("AdkSetFilter", "AdkSetFilter"),
    c.ADKE_ISFILTERABLE: ("AdkIsFilterable", "AdkIsFilterable"),
    c.ADKE_CLEARFILTERS: ("AdkClearFilters", "AdkClearFilters"),
    c.ADKE_INVALID_FILTER_FIELD: ("Fältet kan inte filtreras.", "The field cannot be filtered."),
    c.ADKE_INVALID_FILTER_EXPRESSION: ("Ogiltigt filteruttryck.", "Invalid filter expression."),
    c.ADKE_INVALID_FILTER_SYNTAX_VERSION: (
        "Ogiltig version av filtersyntaxen.",
        "Invalid filter syntax version.",
    ),
}
"""Error code → (Swedish text, English text)."""


def text_for(code: int, *, english: bool = False) -> str:
    """The text of a code, or a generic one naming the code."""
    pair = TEXTS.get(code)
    if pair is None:
        return f"Unknown error ({code})." if english else f"Okänt fel ({code})."
    return pair[1] if english else pair[0]
