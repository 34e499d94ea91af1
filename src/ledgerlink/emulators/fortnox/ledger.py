"""Bookkeeping: financial years, the locked period, voucher series and vouchers (no PUT, no
DELETE: Fortnox's API cannot change a voucher), the inbox and archive files and the voucher
file connections expense export attaches receipts with, and who the token speaks for
(``/3/me``, ``/3/companyinformation``)."""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ledgerlink.emulators._kit.fields import Field, Kind
from ledgerlink.emulators._kit.multipart import MultipartError, uploaded_files
from ledgerlink.emulators.fortnox import errors
from ledgerlink.emulators.fortnox.state import Company, Document
from ledgerlink.emulators.fortnox.wire import (
    Listing,
    bad_parameter,
    checked,
    company,
    emulator,
    listing,
    public,
    read_wrapped,
    reply,
    resource_url,
)

__all__ = [
    "CONNECTION_FIELDS",
    "VOUCHER_FIELDS",
    "VOUCHER_ROW_FIELDS",
    "YEAR_FIELDS",
    "bookable_year",
    "post_voucher",
    "router",
]

router = APIRouter()
FOLDERS = {"inbox": ("inbox_root", "Inkorg"), "archive": ("archive_root", "Arkiv")}


# financial years and locked period ------------------------------------------------------------


def year_of(books: Company, day: str) -> int | None:
    """The id of the financial year covering ``day``."""
    for year in books.table("financialyears").values():
        if year["FromDate"] <= day <= year["ToDate"]:
            return int(year["Id"])
    return None


def bookable_year(books: Company, day: str) -> int:
    """The financial year ``day`` can be booked in; refused when none covers it or the day is
    in the locked period (both permanent: the user has to fix the books first)."""
    year = year_of(books, day)
    if year is None:
        raise errors.invalid(
            f"Det finns inget räkenskapsår för datumet {day}.", errors.NO_FINANCIAL_YEAR
        )
    locked = books.settings.locked_until
    if locked and day <= locked:
        raise errors.invalid(
            f"Perioden är låst t.o.m. {locked}. Lås upp perioden för att fortsätta.",
            errors.LOCKED_PERIOD,
        )
    return year


def _year_url(request: Request, year: Document) -> str:
    return resource_url(request, f"/3/financialyears/{year['Id']}")


@router.get("/3/financialyears")
async def list_years(request: Request) -> Response:
    books = company(request)
    years = list(books.table("financialyears").values())
    day = request.query_params.get("Date") or request.query_params.get("date")
    if day:
        years = [y for y in years if y["FromDate"] <= day <= y["ToDate"]]
    spec = Listing(plural="FinancialYears", key="Id")
    return listing(request, years, spec, lambda y: public(y, _year_url(request, y)))


@router.get("/3/financialyears/{year_id}")
async def read_year(request: Request, year_id: int) -> Response:
    year = company(request).get("financialyears", year_id)
    if year is None:
        raise errors.not_found("räkenskapsåret")
    return reply({"FinancialYear": public(year, _year_url(request, year))})


YEAR_FIELDS = (
    Field("FromDate", Kind.DATE, required=True),
    Field("ToDate", Kind.DATE, required=True),
    Field("AccountChartType", Kind.STRING),
    Field("AccountingMethod", Kind.STRING, enum=("ACCRUAL", "CASH")),
)


@router.post("/3/financialyears")
async def create_year(request: Request) -> Response:
    body = checked(await read_wrapped(request, "FinancialYear"), YEAR_FIELDS, read_only=("Id",))
    books = company(request)
    with emulator(request).state.change():
        if any(
            year["FromDate"] <= body["ToDate"] and body["FromDate"] <= year["ToDate"]
            for year in books.table("financialyears").values()
        ):
            raise errors.invalid("Räkenskapsåret överlappar ett befintligt räkenskapsår.")
        number = books.next_number("financialyears")
        year = {"Id": number, "AccountingMethod": "ACCRUAL", "AccountChartType": "BAS 2024", **body}
        books.table("financialyears")[str(number)] = year
    return reply({"FinancialYear": public(year, _year_url(request, year))}, 201)


@router.get("/3/settings/lockedperiod")
async def locked_period(request: Request) -> Response:
    """No date: nothing is locked (as Fortnox documents)."""
    locked = company(request).settings.locked_until
    return reply({"LockedPeriod": {"EndDate": locked} if locked else {}})


# vouchers -----------------------------------------------------------------------------------

VOUCHER_ROW_FIELDS = (
    Field("Account", Kind.INTEGER, required=True, minimum=1000, maximum=9999),
    Field("Debit", Kind.NUMBER),
    Field("Credit", Kind.NUMBER),
    Field("Description", Kind.STRING),
    Field("Project", Kind.STRING),
    Field("CostCenter", Kind.STRING),
    Field("TransactionInformation", Kind.STRING, max_length=100),
    Field("Quantity", Kind.NUMBER),
)
VOUCHER_FIELDS = (
    Field("Description", Kind.STRING, required=True, min_length=1, max_length=200),
    Field("TransactionDate", Kind.DATE, required=True),
    Field("VoucherSeries", Kind.STRING, required=True),
    # The spec's schema requires Year, but its POST description says a voucher without the
    # financialyear parameter goes into the preselected financial year, and clients post
    # without it; the emulator takes the year of the parameter, else Year, else today's.
    Field("Year", Kind.INTEGER),
    Field("Comments", Kind.STRING, max_length=1000),
    Field("CostCenter", Kind.STRING),
    Field("Project", Kind.STRING),
    Field("ReferenceNumber", Kind.STRING),
    Field(
        "ReferenceType",
        Kind.STRING,
        enum=(
            "INVOICE",
            "SUPPLIERINVOICE",
            "INVOICEPAYMENT",
            "SUPPLIERPAYMENT",
            "MANUAL",
            "CASHINVOICE",
            "ACCRUAL",
        ),
    ),
    # Not required by the spec, which asks for at least two rows (minItems) instead.
    Field("VoucherRows", Kind.ARRAY, min_length=2),
)
_VOUCHER_COLUMNS = (
    "ApprovalState", "Comments", "Description", "ReferenceNumber", "ReferenceType",
    "TransactionDate", "VoucherNumber", "VoucherSeries", "Year",
)  # fmt: skip


def _voucher_key(series: str, number: int, year: int) -> str:
    return f"{year}:{series}:{number}"


def post_voucher(
    books: Company,
    *,
    series: str,
    year: int,
    day: str,
    description: str,
    rows: list[tuple[int, Decimal]] | list[Document],
    reference: tuple[str, str] | None = None,
    comments: str = "",
) -> Document:
    """Store a balanced voucher in ``series`` of financial year ``year`` with the next number
    of that series in that year. ``rows`` are (account, debit − credit) or voucher rows."""
    if books.get("voucherseries", series) is None:
        raise errors.invalid(
            f"Kan inte hitta verifikationsserien ({series}).", errors.UNKNOWN_REFERENCE
        )
    shaped: list[Document] = []
    for row in rows:
        if isinstance(row, tuple):
            account, amount = row
            given: Document = {
                "Account": account,
                "Debit": max(amount, Decimal(0)),
                "Credit": max(-amount, Decimal(0)),
            }
        else:
            given = row
        shaped.append(_voucher_row(books, given))
    debit = sum((row["Debit"] for row in shaped), Decimal(0))
    credit = sum((row["Credit"] for row in shaped), Decimal(0))
    if debit != credit or debit == 0:
        raise errors.invalid("Verifikationen är inte balanserad.")
    number = books.next_number(f"voucher:{year}:{series}")
    kind, reference_number = reference or ("MANUAL", "")
    voucher: Document = {
        "VoucherSeries": series,
        "VoucherNumber": number,
        "Year": year,
        "Description": description,
        "TransactionDate": day,
        "Comments": comments,
        "CostCenter": "",
        "Project": "",
        "ReferenceType": kind,
        "ReferenceNumber": reference_number,
        "ApprovalState": 0,
        "VoucherRows": shaped,
        "_modified": books.now(),
    }
    books.table("vouchers")[_voucher_key(series, number, year)] = voucher
    return voucher


def _voucher_row(books: Company, row: Document) -> Document:
    account = row["Account"]
    if books.get("accounts", account) is None:
        raise errors.invalid("Kan inte hitta kontot.", errors.ACCOUNT_NOT_FOUND)
    for name, table, what in (
        ("Project", "projects", "projektet"),
        ("CostCenter", "costcenters", "kostnadsstället"),
    ):
        if row.get(name) and books.get(table, row[name]) is None:
            raise errors.invalid(f"Kan inte hitta {what} ({row[name]}).", errors.UNKNOWN_REFERENCE)
    return {
        "Account": account,
        "Debit": Decimal(str(row.get("Debit", 0))).quantize(Decimal("0.01")),
        "Credit": Decimal(str(row.get("Credit", 0))).quantize(Decimal("0.01")),
        "Description": row.get("Description", ""),
        "Project": row.get("Project", ""),
        "CostCenter": row.get("CostCenter", ""),
        "TransactionInformation": row.get("TransactionInformation", ""),
        "Quantity": Decimal(str(row.get("Quantity", 0))),
        "Removed": False,
    }


def _voucher_url(request: Request, voucher: Document) -> str:
    path = f"/3/vouchers/{voucher['VoucherSeries']}/{voucher['VoucherNumber']}"
    return resource_url(request, f"{path}?financialyear={voucher['Year']}")


def _financial_year(request: Request, books: Company) -> int:
    """``?financialyear=`` (an id), or the year of ``?financialyeardate=``, else today's."""
    query = request.query_params
    given = query.get("financialyear")
    if given is not None:
        if not given.isdigit() or books.get("financialyears", given) is None:
            raise bad_parameter()
        return int(given)
    day = query.get("financialyeardate") or books.settings.current_date().isoformat()
    year = year_of(books, day)
    if year is None:
        raise errors.invalid(
            f"Det finns inget räkenskapsår för datumet {day}.", errors.NO_FINANCIAL_YEAR
        )
    return year


def _voucher_listing(request: Request, series: str | None) -> Response:
    books = company(request)
    year = _financial_year(request, books)
    items = [
        v for v in books.table("vouchers").values()
        if v["Year"] == year and (series is None or v["VoucherSeries"] == series)
    ]  # fmt: skip
    items.sort(key=lambda v: (v["VoucherSeries"], v["VoucherNumber"]))
    spec = Listing(plural="Vouchers", key="_order", dates="TransactionDate")
    ordered = [{**v, "_order": index} for index, v in enumerate(items)]

    def item(voucher: Document) -> Document:
        return {
            "@url": _voucher_url(request, voucher),
            **{n: voucher.get(n) for n in _VOUCHER_COLUMNS},
        }

    return listing(request, ordered, spec, item)


@router.get("/3/vouchers")
async def list_vouchers(request: Request) -> Response:
    return _voucher_listing(request, None)


@router.get("/3/vouchers/sublist")
async def sublist(request: Request) -> Response:
    return _voucher_listing(request, None)


@router.get("/3/vouchers/sublist/{series}")
async def sublist_of_series(request: Request, series: str) -> Response:
    return _voucher_listing(request, series)


@router.post("/3/vouchers")
async def create_voucher(request: Request) -> Response:
    """The ``financialyear`` parameter wins over the body's ``Year`` (fact sheet §2.3)."""
    body = checked(
        await read_wrapped(request, "Voucher"),
        VOUCHER_FIELDS,
        read_only=("@url", "VoucherNumber", "ApprovalState"),
    )
    rows = body.get("VoucherRows", [])
    if len(rows) < 2:
        raise errors.invalid("En verifikation måste ha minst två rader.")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise errors.invalid("Ingen eller felaktig typ av data.", errors.NO_DATA)
    rows = [checked(row, VOUCHER_ROW_FIELDS, read_only=("Removed",)) for row in rows]
    books = company(request)
    with emulator(request).state.change():
        if "financialyear" in request.query_params:
            chosen = _financial_year(request, books)
        elif "Year" in body:
            chosen = int(body["Year"])
        else:
            chosen = _financial_year(request, books)
        year = bookable_year(books, body["TransactionDate"])
        if year != chosen:
            raise errors.invalid(
                f"Datumet {body['TransactionDate']} ligger inte i räkenskapsåret.",
                errors.NO_FINANCIAL_YEAR,
            )
        voucher = post_voucher(
            books,
            series=body["VoucherSeries"],
            year=year,
            day=body["TransactionDate"],
            description=body["Description"],
            rows=rows,
            reference=(body.get("ReferenceType", "MANUAL"), body.get("ReferenceNumber", "")),
            comments=body.get("Comments", ""),
        )
    return reply({"Voucher": public(voucher, _voucher_url(request, voucher))}, 201)


@router.get("/3/vouchers/{series}/{number}")
async def read_voucher(request: Request, series: str, number: int) -> Response:
    books = company(request)
    year = _financial_year(request, books)
    voucher = books.get("vouchers", _voucher_key(series, number, year))
    if voucher is None:
        raise errors.not_found("verifikationen")
    return reply({"Voucher": public(voucher, _voucher_url(request, voucher))})


# files --------------------------------------------------------------------------------------


def _file_row(request: Request, folder: str, file: Document) -> Document:
    return {
        "@url": resource_url(request, f"/3/{folder}/{file['Id']}"),
        "Id": file["Id"],
        "Name": file["Name"],
        "Size": file["Size"],
        "Path": f"{FOLDERS[folder][1]}/{file['Name']}",
        "Comments": "",
        "ArchiveFileId": file["ArchiveFileId"],
    }


def _folder(request: Request, folder: str) -> Document:
    root, name = FOLDERS[folder]
    files = [f for f in company(request).files.values() if f["_folder"] == folder]
    return {
        "@url": resource_url(request, f"/3/{folder}"),
        "Id": root,
        "Name": name,
        "Email": "",
        "Files": [_file_row(request, folder, f) for f in files],
        "Folders": [],
    }


def _file_routes(folder: str) -> None:
    @router.get(f"/3/{folder}")
    async def read_folder(request: Request) -> Response:
        return reply({"Folder": _folder(request, folder)})

    @router.post(f"/3/{folder}")
    async def upload(request: Request) -> Response:
        try:
            uploads = uploaded_files(await request.body(), request.headers.get("content-type", ""))
        except MultipartError as problem:
            raise errors.invalid(str(problem), errors.FILE_ERROR) from None
        # The spec's form has one field, "file".
        if len(uploads) != 1 or uploads[0].field != "file":
            raise errors.invalid("Skicka en fil i fältet file.", errors.FILE_ERROR)
        upload = uploads[0]
        books = company(request)
        with emulator(request).state.change():
            file_id = secrets.token_hex(16)
            file: Document = {
                "Id": file_id,
                "ArchiveFileId": secrets.token_hex(8),
                "Name": upload.filename,
                "Size": len(upload.content),
                "ContentType": upload.content_type,
                "Content": base64.b64encode(upload.content).decode("ascii"),
                "_folder": folder,
            }
            books.files[file_id] = file
        return reply({"File": _file_row(request, folder, file)}, 201)

    @router.get(f"/3/{folder}/{{file_id}}")
    async def download(request: Request, file_id: str) -> Response:
        file = company(request).files.get(file_id)
        if file is None or file["_folder"] != folder:
            raise errors.not_found("filen")
        return Response(base64.b64decode(file["Content"]), media_type=file["ContentType"])


for _name in FOLDERS:
    _file_routes(_name)

CONNECTION_FIELDS = (
    Field("FileId", Kind.STRING, required=True),
    Field("VoucherNumber", Kind.STRING, required=True),
    Field("VoucherSeries", Kind.STRING, required=True),
    Field("VoucherYear", Kind.INTEGER),
)


def _connection_url(request: Request, connection: Document) -> str:
    return resource_url(request, f"/3/voucherfileconnections/{connection['FileId']}")


@router.post("/3/voucherfileconnections")
async def connect_file(request: Request) -> Response:
    """Attach an inbox or archive file to a voucher (a receipt to an exported expense)."""
    body = checked(
        await read_wrapped(request, "VoucherFileConnection"),
        CONNECTION_FIELDS,
        read_only=("@url", "VoucherDescription"),
    )
    books = company(request)
    with emulator(request).state.change():
        file = books.files.get(body["FileId"])
        if file is None:
            raise errors.invalid(
                f"Kan inte hitta filen ({body['FileId']}).", errors.UNKNOWN_REFERENCE
            )
        year = int(body.get("VoucherYear") or _financial_year(request, books))
        number = body["VoucherNumber"]
        voucher = books.get(
            "vouchers",
            _voucher_key(body["VoucherSeries"], int(number) if number.isdigit() else 0, year),
        )
        if voucher is None:
            raise errors.invalid("Kan inte hitta verifikationen.", errors.UNKNOWN_REFERENCE)
        if body["FileId"] in books.table("voucherfileconnections"):
            raise errors.invalid("Filen är redan kopplad.", errors.FILE_ERROR)
        connection: Document = {
            "FileId": body["FileId"],
            "VoucherNumber": str(voucher["VoucherNumber"]),
            "VoucherSeries": voucher["VoucherSeries"],
            "VoucherYear": year,
            "VoucherDescription": voucher["Description"],
        }
        books.table("voucherfileconnections")[body["FileId"]] = connection
        # Fortnox moves a connected inbox file to the archive.
        file["_folder"] = "archive"
    return reply(
        {"VoucherFileConnection": public(connection, _connection_url(request, connection))}, 201
    )


@router.get("/3/voucherfileconnections")
async def list_connections(request: Request) -> Response:
    items = company(request).table("voucherfileconnections").values()
    spec = Listing(plural="VoucherFileConnections", key="FileId")
    return listing(request, items, spec, lambda c: public(c, _connection_url(request, c)))


@router.get("/3/voucherfileconnections/{file_id}")
async def read_connection(request: Request, file_id: str) -> Response:
    connection = company(request).get("voucherfileconnections", file_id)
    if connection is None:
        raise errors.not_found("filkopplingen")
    return reply(
        {"VoucherFileConnection": public(connection, _connection_url(request, connection))}
    )


@router.delete("/3/voucherfileconnections/{file_id}", status_code=204)
async def delete_connection(request: Request, file_id: str) -> Response:
    books = company(request)
    with emulator(request).state.change():
        if books.table("voucherfileconnections").pop(file_id, None) is None:
            raise errors.not_found("filkopplingen")
    return Response(status_code=204)


# who am I -------------------------------------------------------------------------------------


def me(books: Company, params: dict[str, Any]) -> Document:
    """The user the token speaks for: the consenting administrator, or — for a grant made
    with ``account_type=service`` — the company's service account (not a person)."""
    if params.get("account_type") == "service":
        return {
            "Email": "",
            "Id": "service-account",
            "Locale": "sv_SE",
            "Name": "Tjänstekonto",
            "SysAdmin": False,
        }
    return {
        "Email": "admin@nordlys.se",
        "Id": "1",
        "Locale": "sv_SE",
        "Name": "Anna Berg",
        "SysAdmin": True,
    }


@router.get("/3/me")
async def read_me(request: Request) -> Response:
    principal = request.state.principal
    return reply({"MeInformation": me(company(request), dict(principal.params))})


@router.get("/3/companyinformation")
async def read_company(request: Request) -> Response:
    return reply({"CompanyInformation": dict(company(request).information)})
