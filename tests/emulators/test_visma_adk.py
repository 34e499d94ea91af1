"""EmulatedAdk: the Visma ADK surface over a SQLite company, checked call by call."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlink.emulators.visma import (
    AdminRefused,
    EmulatedAdk,
    add_country,
    book_invoice,
    create_company,
    create_project,
    create_seller,
    register_payment,
    set_licence_fault,
    set_offline,
)
from ledgerlink.interfaces.visma_adk import Adk, AdkData, AdkError, AdkFailure, check
from ledgerlink.interfaces.visma_adk import constants as c

Paths = tuple[str, str]
FieldValues = dict[int, str | float | bool | int]


def make_company(root: Path, folder: str = "FTG1", name: str = "Demo AB") -> Paths:
    system = root / "Gemensamma filer"
    company = root / "Företag" / folder
    create_company(system, company, name=name)
    return str(system), str(company)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return make_company(tmp_path)


@pytest.fixture
def adk(paths: Paths) -> Iterator[EmulatedAdk]:
    emulated = EmulatedAdk()
    check(emulated.AdkOpen(*paths), emulated)
    yield emulated
    emulated.AdkClose()


def put(adk: Adk, data: AdkData, values: FieldValues) -> None:
    """Set fields by their ADK type; a failing set fails the test with the ADK text."""
    for field_id, value in values.items():
        error, kind = adk.AdkGetType(data, field_id)
        check(error, adk)
        if kind == c.eChar:
            check(adk.AdkSetStr(data, field_id, str(value)), adk)
        elif kind == c.eDouble:
            check(adk.AdkSetDouble(data, field_id, float(value)), adk)
        elif kind == c.eBool:
            check(adk.AdkSetBool(data, field_id, bool(value)), adk)
        else:
            check(adk.AdkSetDate(data, field_id, int(value)), adk)


def number(adk: Adk, data: AdkData, field_id: int) -> float:
    error, value = adk.AdkGetDouble(data, field_id)
    check(error, adk)
    return value


def text(adk: Adk, data: AdkData, field_id: int) -> str:
    error, value = adk.AdkGetStr(data, field_id)
    check(error, adk)
    return value


def stamp(adk: Adk, data: AdkData, field_id: int) -> int:
    error, value = adk.AdkGetDate(data, field_id)
    check(error, adk)
    return value


def invoice(
    adk: Adk, rows: list[FieldValues], head: FieldValues | None = None
) -> tuple[AdkError, AdkData]:
    """Build an invoice head with rows (Synologen's sequence) and ``AdkAdd`` it."""
    data = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    put(adk, data, {c.ADK_OOI_HEAD_CUSTOMER_NUMBER: "1001", **(head or {})})
    row_array = adk.AdkCreateDataRow(c.ADK_DB_INVOICE_ROW, len(rows))
    for index, row in enumerate(rows):
        put(adk, adk.AdkGetDataRow(row_array, index), row)
    put(adk, data, {c.ADK_OOI_HEAD_NROWS: len(rows)})
    check(adk.AdkSetData(data, c.ADK_OOI_HEAD_ROWS, row_array), adk)
    return adk.AdkAdd(data), data


def consultant_row(hours: float = 7.5) -> FieldValues:
    return {c.ADK_OOI_ROW_ARTICLE_NUMBER: "KONSULT", c.ADK_OOI_ROW_QUANTITY1: hours}


def find_invoice(adk: Adk, document_number: float) -> AdkData:
    data = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    put(adk, data, {c.ADK_OOI_HEAD_DOCUMENT_NUMBER: document_number})
    check(adk.AdkFind(data), adk)
    return data


# --- session ----------------------------------------------------------------------------------


def test_the_emulator_satisfies_the_protocol() -> None:
    adk: Adk = EmulatedAdk()
    assert adk.AdkGetVersion()[0] > 0


def test_a_call_without_an_open_company_answers_no_db_open() -> None:
    adk = EmulatedAdk()
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    error = adk.AdkFirst(data)
    assert error.lRc == c.ADKE_NO_DB_OPEN == 80
    assert error.lFunction == c.ADKE_FIRST
    assert adk.AdkGetErrorText(error) == "Inget företag är öppnat."
    assert adk.AdkGetErrorText(error, c.elFunction) == "AdkFirst"


def test_a_wrong_company_path_answers_116_and_a_wrong_system_path_137(
    paths: Paths, tmp_path: Path
) -> None:
    adk = EmulatedAdk()
    assert adk.AdkOpen(paths[0], str(tmp_path / "nowhere")).lRc == c.ADKE_INVALID_PATH_COMPANY
    assert adk.AdkOpen(str(tmp_path / "no-common"), paths[1]).lRc == c.ADKE_INVALID_ADM_PATH
    assert adk.AdkFirst(adk.AdkCreateData(c.ADK_DB_CUSTOMER)).lRc == c.ADKE_NO_DB_OPEN


def test_a_second_open_closes_the_first_company(tmp_path: Path) -> None:
    first = make_company(tmp_path, "FTG1", "Första AB")
    second = make_company(tmp_path, "FTG2", "Andra AB")
    adk = EmulatedAdk()
    check(adk.AdkOpen(*first), adk)
    check(adk.AdkOpen(*second), adk)
    prm = adk.AdkCreateData(c.ADK_DB_PRM)
    check(adk.AdkFirst(prm), adk)
    assert text(adk, prm, c.ADK_PRM_NAME) == "Andra AB"
    assert adk.AdkOpen(first[0], str(tmp_path / "missing")).lRc == c.ADKE_INVALID_PATH_COMPANY
    assert adk.AdkFirst(prm).lRc == c.ADKE_NO_DB_OPEN
    assert adk.AdkGetCompanyName(first[1], True, first[0])[:3] == (
        AdkError(),
        "Första AB",
        c.ADKI_ADMIN1000,
    )


def test_visma_login_is_enforced_when_the_company_has_users(tmp_path: Path) -> None:
    system, company = tmp_path / "sys", tmp_path / "FTG"
    create_company(system, company, name="Login AB", seed=False, users={"anna": "hemligt"})
    adk = EmulatedAdk()
    assert adk.AdkIsLoginActivated(str(system), str(company)) == (AdkError(), True)
    assert adk.AdkOpen(str(system), str(company)).lRc == c.ADKE_LOGIN_DENIED
    assert adk.AdkOpen2(str(system), str(company), "anna", "fel").lRc == c.ADKE_LOGIN_FAIL
    assert adk.AdkOpen2(str(system), str(company), "anna", "hemligt").ok


# --- field metadata ---------------------------------------------------------------------------


def test_field_metadata_is_enforced(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    unknown = adk.AdkSetStr(data, 135, "x")
    assert (unknown.lRc, unknown.lDbTable, unknown.lField) == (
        c.ADKE_UNKNON_DB_FIELD,
        c.ADKE_DBTABLE_CUSTOMER,
        135,
    )
    assert adk.AdkSetDouble(data, c.ADK_CUSTOMER_NAME, 1.0).lRc == c.ADKE_INVALID_DATA_TYPE
    denied = adk.AdkSetDate(data, c.ADK_CUSTOMER_TIMESTAMP, 20240101)
    assert denied.lRc == c.ADKE_EDIT_DENIED_FIELD
    assert adk.AdkGetErrorText(denied) == "Fältet får inte ändras."
    assert adk.AdkIsReadWrite(data, c.ADK_CUSTOMER_TIMESTAMP) is False
    assert adk.AdkIsReadWrite(data, c.ADK_CUSTOMER_NAME) is True
    assert adk.AdkGetLength(data, c.ADK_CUSTOMER_NUMBER) == (AdkError(), 16)
    assert adk.AdkGetType(data, c.ADK_CUSTOMER_EU_CUSTOMER) == (AdkError(), c.eBool)
    too_long = adk.AdkSetStr(data, c.ADK_CUSTOMER_NUMBER, "X" * 17)
    assert (too_long.lRc, too_long.lField) == (c.ADKE_TOO_MANY_SIGNS, c.ADK_CUSTOMER_NUMBER)
    assert adk.AdkSetStr(data, c.ADK_CUSTOMER_NUMBER, "X" * 16).ok
    row = adk.AdkGetDataRow(adk.AdkCreateDataRow(c.ADK_DB_INVOICE_ROW, 1), 0)
    assert adk.AdkGetDecimals(row, c.ADK_OOI_ROW_QUANTITY1) == (AdkError(), 2)
    decimals = adk.AdkSetDouble(row, c.ADK_OOI_ROW_QUANTITY1, 1.234)
    assert decimals.lRc == c.ADKE_TOO_MANY_DECIMALS
    assert adk.AdkSetDate(data, c.ADK_CUSTOMER_LASTCHANGE, 1).lRc == c.ADKE_EDIT_DENIED_FIELD
    head = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    assert adk.AdkSetDate(head, c.ADK_OOI_HEAD_DOCUMENT_DATE1, 20241340).lRc == (
        c.ADKE_INVALID_DATA_TYPE
    )
    assert adk.AdkGetTimestampField(head) == (AdkError(), c.ADK_OOI_HEAD_TIMESTAMP)
    assert adk.AdkGetRowDbId(head) == (AdkError(), c.ADK_DB_INVOICE_ROW)


def test_dates_are_yyyymmdd_longs(adk: EmulatedAdk) -> None:
    assert adk.AdkDateToLong("2024-03-15") == (AdkError(), 20240315)
    assert adk.AdkLongToDate(20240315) == (AdkError(), "2024-03-15")
    assert adk.AdkDateToLong("15/3 2024")[0].lRc == c.ADKE_INVALID_DATA_TYPE
    assert adk.AdkLongToDate(20240230)[0].lRc == c.ADKE_INVALID_DATA_TYPE
    error, moment = adk.AdkDateTimeToLong("2024-03-15 12:30:00")
    assert adk.AdkLongToDateTime(moment) == (AdkError(), "2024-03-15 12:30:00")


# --- customers ---------------------------------------------------------------------------------


def test_create_find_and_update_a_customer(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(
        adk,
        data,
        {
            c.ADK_CUSTOMER_NUMBER: "1003",
            c.ADK_CUSTOMER_NAME: "Ny Kund AB",
            c.ADK_CUSTOMER_CODE_OF_COUNTRY: "NO",
            c.ADK_CUSTOMER_SELLER: "BB",
        },
    )
    check(adk.AdkAdd(data), adk)
    created = stamp(adk, data, c.ADK_CUSTOMER_TIMESTAMP)
    assert text(adk, data, c.ADK_CUSTOMER_COUNTRY) == "Norge"
    check(adk.AdkDeleteStruct(data), adk)

    found = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, found, {c.ADK_CUSTOMER_NUMBER: "1003"})
    check(adk.AdkFind(found), adk)
    assert text(adk, found, c.ADK_CUSTOMER_NAME) == "Ny Kund AB"
    assert stamp(adk, found, c.ADK_CUSTOMER_LASTCHANGE) > 20200101
    put(adk, found, {c.ADK_CUSTOMER_CITY: "Oslo"})
    check(adk.AdkUpdate(found), adk)
    assert stamp(adk, found, c.ADK_CUSTOMER_TIMESTAMP) > created

    again = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, again, {c.ADK_CUSTOMER_NUMBER: "1003"})
    check(adk.AdkFind(again), adk)
    assert text(adk, again, c.ADK_CUSTOMER_CITY) == "Oslo"
    put(adk, again, {c.ADK_CUSTOMER_NUMBER: "9999"})
    assert adk.AdkFind(again).lRc == c.ADKE_NOT_FOUND


def test_customer_number_and_name_are_required(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, data, {c.ADK_CUSTOMER_NAME: "Utan nummer AB"})
    error = adk.AdkAdd(data)
    assert (error.lRc, error.lFunction) == (c.ADKE_CUSTOMER_INVALID_CUSTOMERNR, c.ADKE_ADD)
    nameless = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, nameless, {c.ADK_CUSTOMER_NUMBER: "1004"})
    assert adk.AdkAdd(nameless).lRc == c.ADKE_NO_NAME
    duplicate = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, duplicate, {c.ADK_CUSTOMER_NUMBER: "1001", c.ADK_CUSTOMER_NAME: "Igen AB"})
    assert adk.AdkAdd(duplicate).lRc == c.ADKE_INVALID_INDEX


# --- invoices ----------------------------------------------------------------------------------


def test_invoice_gets_a_number_from_the_series_and_totals_from_the_rows(adk: EmulatedAdk) -> None:
    rows: list[FieldValues] = [
        consultant_row(7.5),
        {
            c.ADK_OOI_ROW_ARTICLE_NUMBER: "RESA",
            c.ADK_OOI_ROW_QUANTITY1: 1,
            c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY: 333.33,
        },
        {c.ADK_OOI_ROW_ARTICLE_NUMBER: "MIL", c.ADK_OOI_ROW_QUANTITY1: 10},
        {c.ADK_OOI_ROW_TEXT: "Avser mars 2024"},
    ]
    error, head = invoice(adk, rows, {c.ADK_OOI_HEAD_TEXT3: "ll:inv-1:1"})
    check(error, adk)
    assert number(adk, head, c.ADK_OOI_HEAD_DOCUMENT_NUMBER) == 1001.0
    assert number(adk, head, c.ADK_OOI_HEAD_EXCLUDING_OF_VAT) == 9983.33
    # 25 % of 9 000 + 6 % of 333.33 + 25 % of 650
    assert number(adk, head, c.ADK_OOI_HEAD_VAT_AMOUNT) == 2432.50
    assert number(adk, head, c.ADK_OOI_HEAD_ROUND_OFF) == pytest.approx(0.17)
    assert number(adk, head, c.ADK_OOI_HEAD_TOTAL_AMOUNT) == 12416.00
    assert number(adk, head, c.ADK_OOI_HEAD_BALANCE) == 12416.00
    assert text(adk, head, c.ADK_OOI_HEAD_CUSTOMER_NAME) == "Kund AB"
    assert text(adk, head, c.ADK_OOI_HEAD_SELLER_CODE) == "AA"
    assert number(adk, head, c.ADK_OOI_HEAD_NROWS) == 4
    error, text_row = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 3)
    check(error, adk)
    assert number(adk, text_row, c.ADK_OOI_ROW_AMOUNT_CURRENT_CURRENCY) == 0.0
    error, mileage = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 2)
    assert number(adk, mileage, c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY) == 65.0
    assert text(adk, mileage, c.ADK_OOI_ROW_ACCOUNT_NUMBER) == "3041"
    assert text(adk, mileage, c.ADK_OOI_ROW_TEXT) == "Milersättning"

    error, second = invoice(adk, [consultant_row(1)])
    check(error, adk)
    assert number(adk, second, c.ADK_OOI_HEAD_DOCUMENT_NUMBER) == 1002.0
    taken, _ = invoice(adk, [consultant_row(1)], {c.ADK_OOI_HEAD_DOCUMENT_NUMBER: 1001})
    assert (taken.lRc, taken.lDbTable) == (c.ADKE_KEY_TAKEN_IN_NUMBERSERIES, c.ADKE_DBTABLE_OOF)
    error, forced = invoice(adk, [consultant_row(1)], {c.ADK_OOI_HEAD_DOCUMENT_NUMBER: 5000})
    check(error, adk)
    assert number(adk, forced, c.ADK_OOI_HEAD_DOCUMENT_NUMBER) == 5000.0


def test_an_invoice_of_text_rows_only_has_no_amount(adk: EmulatedAdk) -> None:
    error, head = invoice(adk, [{c.ADK_OOI_ROW_TEXT: "Rad ett"}, {c.ADK_OOI_ROW_TEXT: "Rad två"}])
    check(error, adk)
    assert number(adk, head, c.ADK_OOI_HEAD_TOTAL_AMOUNT) == 0.0
    refused, _ = invoice(adk, [{c.ADK_OOI_ROW_TEXT: "Timmar", c.ADK_OOI_ROW_QUANTITY1: 2}])
    assert (refused.lRc, refused.lDbTable) == (
        c.ADKE_EDIT_DENIED_ON_TEXT_ROW,
        c.ADKE_DBTABLE_ARTRAD,
    )


def test_a_foreign_currency_invoice_uses_the_currency_unit_and_is_not_rounded(
    adk: EmulatedAdk,
) -> None:
    row = {**consultant_row(1), c.ADK_OOI_ROW_PRICE_EACH_CURRENT_CURRENCY: 1000.10}
    error, head = invoice(adk, [row], {c.ADK_OOI_HEAD_CUSTOMER_NUMBER: "2001"})
    check(error, adk)
    assert text(adk, head, c.ADK_OOI_HEAD_CURRENCY_CODE) == "DKK"
    assert number(adk, head, c.ADK_OOI_HEAD_CURRENCY_UNIT) == 100.0
    assert number(adk, head, c.ADK_OOI_HEAD_TOTAL_AMOUNT) == 1250.13
    error, stored_row = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 0)
    assert number(adk, stored_row, c.ADK_OOI_ROW_AMOUNT_DOMESTIC_CURRENCY) == 1542.15


@pytest.mark.parametrize(
    ("head", "row", "code", "field_id", "swedish"),
    [
        (
            {c.ADK_OOI_HEAD_CUSTOMER_NUMBER: "9999"},
            {},
            c.ADKE_OOF_INVALID_CUSTOMER,
            c.ADK_OOI_HEAD_CUSTOMER_NUMBER,
            "Kunden finns inte i kundregistret.",
        ),
        (
            {},
            {c.ADK_OOI_ROW_ARTICLE_NUMBER: "OKAND"},
            c.ADKE_OOF_INVALID_ARTICLE,
            c.ADK_OOI_ROW_ARTICLE_NUMBER,
            "Artikeln finns inte i artikelregistret.",
        ),
        (
            {c.ADK_OOI_HEAD_CURRENCY_CODE: "XYZ"},
            {},
            c.ADKE_INVALID_CURRENCY_CODE,
            c.ADK_OOI_HEAD_CURRENCY_CODE,
            "Kan ej hitta angiven valutakod.",
        ),
        (
            {c.ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT: "99"},
            {},
            c.ADKE_INVALID_PAYMENT_TERMS,
            c.ADK_OOI_HEAD_CODE_OF_TERMS_OF_PAYMENT,
            "Kan ej hitta angivna betalningsvillkor.",
        ),
        (
            {c.ADK_OOI_HEAD_CODE_OF_COUNTRY: "XX"},
            {},
            c.ADKE_INVALID_COUNTRY_CODE,
            c.ADK_OOI_HEAD_CODE_OF_COUNTRY,
            "Kan ej hitta angiven landskod.",
        ),
        (
            {c.ADK_OOI_HEAD_SELLER_CODE: "ZZ"},
            {},
            c.ADKE_CUSTOMER_INVALID_SELLER,
            c.ADK_OOI_HEAD_SELLER_CODE,
            "Kan ej hitta angiven säljare.",
        ),
        (
            {c.ADK_OOI_HEAD_PROJECT_CODE: "NOPE"},
            {},
            c.ADKE_INVLAID_PROJECT,
            c.ADK_OOI_HEAD_PROJECT_CODE,
            "Kan ej hitta angivet projekt.",
        ),
        (
            {},
            {c.ADK_OOI_ROW_ACCOUNT_NUMBER: "9999"},
            c.ADKE_INVLAID_ACCOUNT,
            c.ADK_OOI_ROW_ACCOUNT_NUMBER,
            "Kan ej hitta angivet konto.",
        ),
        (
            {},
            {c.ADK_OOI_ROW_PROFIT_CENTRE: "999"},
            c.ADKE_INVLAID_RESULT_UNIT,
            c.ADK_OOI_ROW_PROFIT_CENTRE,
            "Kan ej hitta angiven resultatenhet.",
        ),
    ],
)
def test_invoice_validation_answers_the_erps_code_and_text(  # noqa: PLR0917 (parametrised)
    adk: EmulatedAdk, head: FieldValues, row: FieldValues, code: int, field_id: int, swedish: str
) -> None:
    error, _ = invoice(adk, [{**consultant_row(1), **row}], head)
    assert (error.lRc, error.lField, error.lFunction) == (code, field_id, c.ADKE_ADD)
    assert adk.AdkGetErrorText(error) == swedish


def test_customer_validation_names_the_missing_country_and_seller(adk: EmulatedAdk) -> None:
    for field_id, value, code, message in [
        (c.ADK_CUSTOMER_CODE_OF_COUNTRY, "XX", 279, "Kan ej hitta angiven landskod."),
        (
            c.ADK_CUSTOMER_SELLER,
            "ZZ",
            c.ADKE_CUSTOMER_INVALID_SELLER,
            "Kan ej hitta angiven säljare.",
        ),
    ]:
        data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
        put(
            adk, data, {c.ADK_CUSTOMER_NUMBER: "1010", c.ADK_CUSTOMER_NAME: "X AB", field_id: value}
        )
        error = adk.AdkAdd(data)
        assert (error.lRc, error.lDbTable, error.lField) == (
            code,
            c.ADKE_DBTABLE_CUSTOMER,
            field_id,
        )
        assert adk.AdkGetErrorText(error) == message
        assert EmulatedAdk(english=True).AdkGetErrorText(error).startswith("Cannot find")


def test_the_erp_user_can_add_what_validation_asked_for(adk: EmulatedAdk, paths: Paths) -> None:
    head: FieldValues = {
        c.ADK_OOI_HEAD_CODE_OF_COUNTRY: "IS",
        c.ADK_OOI_HEAD_SELLER_CODE: "DE",
        c.ADK_OOI_HEAD_PROJECT_CODE: "P300",
    }
    assert invoice(adk, [consultant_row(1)], head)[0].lRc == c.ADKE_CUSTOMER_INVALID_SELLER
    create_seller(paths[1], "DE", "Dag Ek")
    assert invoice(adk, [consultant_row(1)], head)[0].lRc == c.ADKE_INVALID_COUNTRY_CODE
    add_country(paths[1], "IS", "Island")
    assert invoice(adk, [consultant_row(1)], head)[0].lRc == c.ADKE_INVLAID_PROJECT
    create_project(paths[1], "P300", "Nytt projekt", customer_number="1001")
    assert invoice(adk, [consultant_row(1)], head)[0].ok
    with pytest.raises(AdminRefused) as refused:
        create_project(paths[1], "P301", "Fel kund", customer_number="9999")
    assert refused.value.code == c.ADKE_COULD_NOT_FIND_CUSTOMER


# --- iteration and timestamps -----------------------------------------------------------------


def test_iteration_with_a_filter_ends_with_eof(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    check(adk.AdkSetFilter(data, c.ADK_CUSTOMER_NAME, "*AB*", 0), adk)
    check(adk.AdkSetSortOrder(data, c.eCustomerName), adk)
    seen = []
    error = adk.AdkFirstEx(data, False)
    while error.ok:
        seen.append(text(adk, data, c.ADK_CUSTOMER_NAME))
        error = adk.AdkNextEx(data, False)
    assert error.lRc == c.ADKE_EOF == 79
    assert seen == ["Kund AB", "Nordisk Handel AB"]
    check(adk.AdkSetFilter(data, c.ADK_CUSTOMER_NAME, "*handel*", 0), adk)
    check(adk.AdkFirst(data), adk)
    assert text(adk, data, c.ADK_CUSTOMER_NUMBER) == "1002"
    assert adk.AdkNext(data).lRc == c.ADKE_EOF
    check(adk.AdkClearFilters(data), adk)
    check(adk.AdkLast(data), adk)
    assert text(adk, data, c.ADK_CUSTOMER_NAME) == "Nordisk Handel AB"
    assert adk.AdkSetFilter(data, c.ADK_CUSTOMER_NAME, "*x*", 1).lRc == 687
    assert adk.AdkSetSortOrder(data, c.eInvoiceNr).lRc == c.ADKE_NOT_VALID_SORTORDER


def test_supplier_invoices_of_the_expense_pool_can_be_filtered_by_project(
    adk: EmulatedAdk,
) -> None:
    data = adk.AdkCreateData(c.ADK_DB_SUPPLIER_INVOICE_HEAD)
    check(adk.AdkSetFilter(data, c.ADK_SUP_INV_HEAD_PROJECT, "P100", 0), adk)
    found = []
    error = adk.AdkFirst(data)
    while error.ok:
        found.append(text(adk, data, c.ADK_SUP_INV_HEAD_SUPPLIER_NAME))
        error = adk.AdkNext(data)
    assert found == ["SJ AB", "Taxi Stockholm AB"]


def test_timestamps_move_on_every_write_and_serve_as_a_cursor(adk: EmulatedAdk) -> None:
    first = number(adk, invoice(adk, [consultant_row(1)])[1], c.ADK_OOI_HEAD_DOCUMENT_NUMBER)
    second = number(adk, invoice(adk, [consultant_row(2)])[1], c.ADK_OOI_HEAD_DOCUMENT_NUMBER)
    head = find_invoice(adk, first)
    before = stamp(adk, head, c.ADK_OOI_HEAD_TIMESTAMP)
    error, row = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 0)
    row_before = stamp(adk, row, c.ADK_OOI_ROW_TIMESTAMP)
    put(adk, head, {c.ADK_OOI_HEAD_TEXT1: "Ändrad"})
    check(adk.AdkUpdate(head), adk)
    after = stamp(adk, head, c.ADK_OOI_HEAD_TIMESTAMP)
    assert after > before
    error, row = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 0)
    assert stamp(adk, row, c.ADK_OOI_ROW_TIMESTAMP) > row_before

    cursor = adk.AdkCreateData(c.ADK_DB_INVOICE_HEAD)
    check(adk.AdkSetSortOrder(cursor, c.eTimeStamp), adk)
    order = []
    error = adk.AdkFirstEx(cursor, False)
    while error.ok:
        order.append(number(adk, cursor, c.ADK_OOI_HEAD_DOCUMENT_NUMBER))
        error = adk.AdkNextEx(cursor, False)
    assert order == [second, first]


# --- ledger, credit, payments -----------------------------------------------------------------


def test_a_booked_invoice_cannot_be_edited(adk: EmulatedAdk, paths: Paths) -> None:
    error, head = invoice(adk, [consultant_row(1)])
    document_number = number(adk, head, c.ADK_OOI_HEAD_DOCUMENT_NUMBER)
    book_invoice(paths[1], int(document_number))
    booked = find_invoice(adk, document_number)
    put(adk, booked, {c.ADK_OOI_HEAD_TEXT1: "För sent"})
    error = adk.AdkUpdate(booked)
    assert (error.lRc, error.lFunction) == (c.ADKE_INVOICE_EDIT_DENIED_BOOKKEEPING, c.ADKE_UPDATE)
    assert adk.AdkGetErrorText(error) == "Fakturan är bokförd och kan inte ändras."
    assert adk.AdkDeleteRecord(booked).lRc == c.ADKE_INVOICE_EDIT_DENIED_BOOKKEEPING


def test_a_printed_invoice_is_in_the_ledger_and_a_cancelled_one_is_closed(
    adk: EmulatedAdk,
) -> None:
    printed = invoice(adk, [consultant_row(1)])[1]
    put(adk, printed, {c.ADK_OOI_HEAD_DOCUMENT_PRINTED: True})
    check(adk.AdkUpdate(printed), adk)
    put(adk, printed, {c.ADK_OOI_HEAD_TEXT2: "x"})
    assert adk.AdkUpdate(printed).lRc == c.ADKE_INVOICE_EDIT_DENIED_ALREADY_IN_LEDGER

    draft = invoice(adk, [consultant_row(1)])[1]
    put(adk, draft, {c.ADK_OOI_HEAD_DOCUMENT_CANCELLED: True})
    check(adk.AdkUpdate(draft), adk)
    assert number(adk, draft, c.ADK_OOI_HEAD_BALANCE) == 0.0
    put(adk, draft, {c.ADK_OOI_HEAD_TEXT2: "x"})
    assert adk.AdkUpdate(draft).lRc == c.ADKE_EDIT_DENIED_OBLITERATED
    credit, _ = invoice(
        adk,
        [consultant_row(1)],
        {c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE: number(adk, draft, 0)},
    )
    assert credit.lRc == c.ADKE_DENIED_CREDIT_OBLITERATED_INVOICE


def test_a_credit_invoice_links_to_its_original_and_is_negative(adk: EmulatedAdk) -> None:
    original = number(adk, invoice(adk, [consultant_row(2)])[1], c.ADK_OOI_HEAD_DOCUMENT_NUMBER)
    error, credit = invoice(
        adk, [consultant_row(2)], {c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE: original}
    )
    check(error, adk)
    assert text(adk, credit, c.ADK_OOI_HEAD_TYPE_OF_INVOICE) == "K"
    assert number(adk, credit, c.ADK_OOI_HEAD_TOTAL_AMOUNT) == -3000.0
    credit_number = number(adk, credit, c.ADK_OOI_HEAD_DOCUMENT_NUMBER)
    again, _ = invoice(
        adk, [consultant_row(1)], {c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE: credit_number}
    )
    assert again.lRc == c.ADKE_DENIED_CREDIT_CREDIT_INVOICE
    missing, _ = invoice(
        adk, [consultant_row(1)], {c.ADK_OOI_HEAD_NUMBER_OF_ORIGINAL_INVOICE: 424242}
    )
    assert missing.lRc == c.ADKE_INVALID_INVOICE


def test_payments_lower_the_balance_and_are_found_by_invoice_number(
    adk: EmulatedAdk, paths: Paths
) -> None:
    head = invoice(adk, [consultant_row(1)])[1]
    document_number = int(number(adk, head, c.ADK_OOI_HEAD_DOCUMENT_NUMBER))
    payments = adk.AdkCreateData(c.ADK_DB_CUSTOMERPAYMENT)
    check(adk.AdkSetSortOrder(payments, c.eCustomerPaymentInvoice), adk)
    put(adk, payments, {c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER: document_number})
    assert adk.AdkFind(payments).lRc == c.ADKE_NOT_FOUND  # unpaid
    with pytest.raises(AdminRefused) as refused:
        register_payment(paths[1], document_number, 100.0)
    assert refused.value.code == c.ADKE_CUSTOMERPAYMENT_INVOICE_ERROR

    book_invoice(paths[1], document_number)
    before = stamp(adk, find_invoice(adk, document_number), c.ADK_OOI_HEAD_TIMESTAMP)
    register_payment(paths[1], document_number, 1000.0)
    check(adk.AdkFind(payments), adk)
    assert number(adk, payments, c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY) == 1000.0
    paid = find_invoice(adk, document_number)
    assert number(adk, paid, c.ADK_OOI_HEAD_BALANCE) == 500.0
    assert stamp(adk, paid, c.ADK_OOI_HEAD_TIMESTAMP) > before

    through_adk = adk.AdkCreateData(c.ADK_DB_CUSTOMERPAYMENT)
    put(
        adk,
        through_adk,
        {
            c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER: document_number,
            c.ADK_CUSTOMERPAYMENT_AMOUNT_CURRENCY: 500.0,
        },
    )
    check(adk.AdkAdd(through_adk), adk)
    assert number(adk, find_invoice(adk, document_number), c.ADK_OOI_HEAD_BALANCE) == 0.0
    zero = adk.AdkCreateData(c.ADK_DB_CUSTOMERPAYMENT)
    put(adk, zero, {c.ADK_CUSTOMERPAYMENT_INVOICE_NUMBER: document_number})
    assert adk.AdkAdd(zero).lRc == c.ADKE_CUSTOMERPAYMENT_ZERO_NOT_ALLOWED


def test_rows_can_be_deleted_and_replaced_on_a_draft(adk: EmulatedAdk) -> None:
    head = invoice(adk, [consultant_row(1), consultant_row(2)])[1]
    check(adk.AdkDeleteRow(head, 1), adk)
    check(adk.AdkUpdate(head), adk)
    assert number(adk, head, c.ADK_OOI_HEAD_NROWS) == 1
    assert number(adk, head, c.ADK_OOI_HEAD_EXCLUDING_OF_VAT) == 2400.0
    error, row = adk.AdkGetData(head, c.ADK_OOI_HEAD_ROWS, 0)
    put(adk, row, {c.ADK_OOI_ROW_QUANTITY1: 3})
    check(adk.AdkUpdate(head), adk)
    assert number(adk, head, c.ADK_OOI_HEAD_EXCLUDING_OF_VAT) == 3600.0


# --- faults and processes ---------------------------------------------------------------------


def test_licence_faults_make_the_erp_unavailable(adk: EmulatedAdk, paths: Paths) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    check(adk.AdkFirst(data), adk)
    set_offline(paths[1], True)
    assert adk.AdkNext(data).lRc == c.ADKE_NO_DB_OPEN
    error = adk.AdkOpen(*paths)
    assert error.lRc == c.ADKE_INVALID_NET_LICENCE == 128
    assert adk.AdkGetErrorText(error) == "Ogiltig nätverkslicens."
    set_licence_fault(paths[1], c.ADKE_TOO_MANY_LICENCE)
    assert adk.AdkOpen(*paths).lRc == 135
    set_offline(paths[1], False)
    check(adk.AdkOpen(*paths), adk)
    check(adk.AdkFirst(data), adk)
    with pytest.raises(ValueError, match="not a licence fault"):
        set_licence_fault(paths[1], c.ADKE_EOF)


def test_check_raises_adk_failure_with_the_text(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, data, {c.ADK_CUSTOMER_NUMBER: "nope"})
    with pytest.raises(AdkFailure) as failure:
        check(adk.AdkFind(data), adk)
    assert failure.value.code == c.ADKE_NOT_FOUND
    assert failure.value.text == "Posten hittades inte."


def test_two_instances_on_one_company_see_each_others_writes(
    adk: EmulatedAdk, paths: Paths
) -> None:
    other = EmulatedAdk()
    check(other.AdkOpen(*paths), other)
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, data, {c.ADK_CUSTOMER_NUMBER: "1020", c.ADK_CUSTOMER_NAME: "Delad AB"})
    check(adk.AdkAdd(data), adk)
    seen = other.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(other, seen, {c.ADK_CUSTOMER_NUMBER: "1020"})
    check(other.AdkFind(seen), other)
    put(other, seen, {c.ADK_CUSTOMER_CITY: "Lund"})
    check(other.AdkUpdate(seen), other)
    check(adk.AdkFind(data), adk)
    assert text(adk, data, c.ADK_CUSTOMER_CITY) == "Lund"
    other.AdkClose()


def test_another_process_writes_to_the_same_company_file(adk: EmulatedAdk, paths: Paths) -> None:
    script = (
        "import sys\n"
        "from ledgerlink.interfaces.visma_adk import constants as c\n"
        "from ledgerlink.emulators.visma import EmulatedAdk\n"
        "adk = EmulatedAdk()\n"
        "assert adk.AdkOpen(sys.argv[1], sys.argv[2]).ok\n"
        "d = adk.AdkCreateData(c.ADK_DB_CUSTOMER)\n"
        "adk.AdkSetStr(d, c.ADK_CUSTOMER_NUMBER, '1030')\n"
        "adk.AdkSetStr(d, c.ADK_CUSTOMER_NAME, 'Annan process AB')\n"
        "assert adk.AdkAdd(d).ok\n"
    )
    subprocess.run([sys.executable, "-c", script, *paths], check=True, timeout=60)
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    put(adk, data, {c.ADK_CUSTOMER_NUMBER: "1030"})
    check(adk.AdkFind(data), adk)
    assert text(adk, data, c.ADK_CUSTOMER_NAME) == "Annan process AB"


def test_freed_and_foreign_buffers_are_refused(adk: EmulatedAdk) -> None:
    data = adk.AdkCreateData(c.ADK_DB_CUSTOMER)
    check(adk.AdkDeleteStruct(data), adk)
    assert adk.AdkFirst(data).lRc == c.ADKE_INVALID_STRUCT_POINTER
    assert adk.AdkFirst(adk.AdkCreateData(c.ADK_DB_ORDER_HEAD)).lRc == c.ADKE_INVALID_DB
