"""Fortnox expense export (contract :class:`~ledgerlink.connectors.contract.ExpenseExport`):
one voucher per PSA expense in the voucher series chosen in setup (``POST /3/vouchers``), its
receipt uploaded to the inbox (``POST /3/inbox``, multipart) and attached to the voucher
(``POST /3/voucherfileconnections``, which moves the file to the archive). The mappings are
:mod:`~ledgerlink.connectors.fortnox.voucher_mapping`'s; see its docstring for the correlation.

Requests per expense: one financial-year read per year (kept for the connector's life), the
voucher, the upload and the connection. A lookup (only when an earlier attempt may have
reached Fortnox) reads the series' vouchers of the expense's date; a receipt lookup reads the
voucher file connections and the inbox.

:class:`FortnoxExpenseExport` is a mixin of :class:`~ledgerlink.connectors.fortnox.connector.
FortnoxConnector`: it uses the connector's requestor (the one owner of retries) and settings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from ledgerlink.connectors._kit.requestor import Requestor
from ledgerlink.connectors.contract import (
    Capabilities,
    ExpenseReceipt,
    ExportedExpense,
    OutgoingExpense,
    Permanent,
)
from ledgerlink.connectors.fortnox import voucher_mapping as vm
from ledgerlink.connectors.fortnox.dtos import to_wire
from ledgerlink.connectors.fortnox.settings import FortnoxSettings

#: Fortnox's code for an account that is not in the chart ("Kan inte hitta kontot.").
ACCOUNT_NOT_FOUND = "2000423"


def export_capabilities(capabilities: Capabilities, settings: FortnoxSettings) -> Capabilities:
    """``capabilities`` with expense export on when the setup chose a voucher series (the
    spec declares what Fortnox can do; a connection's settings narrow it)."""
    return replace(capabilities, expense_export=bool(settings.expense_voucher_series.strip()))


class FortnoxExpenseExport:
    """Expense export for :class:`FortnoxConnector` (see the module docstring)."""

    settings: FortnoxSettings
    _api: Requestor
    #: Financial years read so far (a connector lives for one connection's round).
    _voucher_years: list[vm.FinancialYearDto] | None = None

    # contract --------------------------------------------------------------------------------
    def expense_export_start(self) -> date | None:
        """``expense_export_from`` of the setup."""
        return self.settings.expense_export_from

    def find_expense(self, expense: OutgoingExpense) -> ExportedExpense | None:
        """The voucher of the setup's series on the expense's date whose ``Comments`` carry
        the correlation (the lowest number, should there be two)."""
        series = self.settings.expense_voucher_series.strip()
        day = expense.expense.day
        year = self._financial_year(day)
        found: list[vm.VoucherListItemDto] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self._api.json(
                "GET",
                f"/3/vouchers/sublist/{series}",
                params=(
                    ("financialyear", str(year)),
                    ("fromdate", day.isoformat()),
                    ("todate", day.isoformat()),
                    ("limit", str(self.settings.page_size)),
                    ("page", str(page)),
                ),
            )
            pages = int((answer.get("MetaInformation") or {}).get("@TotalPages") or 1)
            for item in answer.get("Vouchers") or []:
                dto = vm.VoucherListItemDto.model_validate(item)
                if vm.carries_correlation(dto.Comments, expense.correlation):
                    found.append(dto)
            page += 1
        if not found:
            return None
        return _exported(min(found, key=lambda dto: dto.VoucherNumber), expense.correlation)

    def export_expense(self, expense: OutgoingExpense) -> ExportedExpense:
        """Create the voucher; Fortnox's refusal of an account or project the company does
        not have says which one and what to do."""
        year = self._financial_year(expense.expense.day)
        dto = vm.expense_voucher(expense, self._voucher_setup(), year=year)
        try:
            answer = self._api.json(
                "POST",
                "/3/vouchers",
                params=(("financialyear", str(year)),),
                body={"Voucher": to_wire(dto)},
            )
        except Permanent as refused:
            raise self._explained(refused, dto) from refused
        created = vm.VoucherListItemDto.model_validate(answer["Voucher"])
        return _exported(created, expense.correlation)

    def attach_receipt(
        self, voucher: ExportedExpense, receipt: ExpenseReceipt, *, look_first: bool
    ) -> str:
        """Upload the receipt to the inbox under the correlation's name and attach it to the
        voucher. With ``look_first`` (an earlier attempt may have reached Fortnox) a file
        already attached to the voucher is the answer, and one already in the inbox under
        that name is attached instead of uploading it again."""
        key = vm.VoucherKey.parse(voucher.external_id)
        name = vm.receipt_file_name(voucher.correlation, receipt.name)
        file_id: str | None = None
        if look_first:
            attached = self._attached_file(key)
            if attached is not None:
                return attached
            file_id = self._inbox_file(name)
        if file_id is None:
            answer = self._api.json(
                "POST",
                "/3/inbox",
                files={"file": (name, receipt.content, receipt.content_type)},
            )
            file_id = vm.FileRowDto.model_validate(answer["File"]).Id
        connection = vm.VoucherFileConnectionDto(
            FileId=file_id,
            VoucherNumber=str(key.number),
            VoucherSeries=key.series,
            VoucherYear=key.year,
        )
        self._api.json(
            "POST",
            "/3/voucherfileconnections",
            body={"VoucherFileConnection": to_wire(connection)},
        )
        return file_id

    # plumbing --------------------------------------------------------------------------------
    def _voucher_setup(self) -> vm.ExpenseVoucherSetup:
        return vm.ExpenseVoucherSetup(
            series=self.settings.expense_voucher_series,
            accounts=self.settings.expense_export_accounts,
            credit_account=self.settings.expense_export_credit_account,
            cost_centres=self.settings.expense_export_cost_centres,
        )

    def _financial_year(self, day: date) -> int:
        """Fortnox's id of the financial year covering ``day`` (a voucher is numbered per
        year; ``POST /3/vouchers`` without one books into the preselected year)."""
        years = self._voucher_years or []
        found = vm.financial_year_of(years, day)
        if found is not None:
            return found
        answer = self._api.json("GET", "/3/financialyears", params=(("Date", day.isoformat()),))
        fresh = [vm.FinancialYearDto.model_validate(y) for y in answer.get("FinancialYears") or []]
        self._voucher_years = years + fresh
        found = vm.financial_year_of(fresh, day)
        if found is None:
            raise Permanent(
                f"Fortnox has no financial year for {day.isoformat()}",
                hint="Create the financial year in Fortnox (Inställningar → Räkenskapsår), "
                "then export again.",
            )
        return found

    def _explained(self, refused: Permanent, dto: vm.VoucherDto) -> Permanent:
        """Fortnox's refusal of a voucher, naming the account or project it did not find."""
        codes = {field.code for field in refused.field_errors}
        # Fortnox's own words: the error table may prefix them with the field it infers, which
        # names an invoice's field for an account (Fortnox's errors name none).
        said = next((f.message for f in refused.field_errors if f.message), refused.erp_text)
        text = said or refused.message
        if ACCOUNT_NOT_FOUND in codes or "hitta kontot" in text.lower():
            missing = [row.Account for row in dto.VoucherRows if not self._account_exists(row)]
            which = ", ".join(str(a) for a in missing) or "of a row"
            return Permanent(
                f"Fortnox has no account {which}",
                erp_text=said,
                status=refused.status,
                hint="Create the account in Fortnox's chart of accounts, or choose one it has "
                "for the expense type (setting expense_export_accounts) or for the settlement "
                "(expense_export_credit_account) with 'ledgerlink connections set', then "
                "export again.",
            )
        if "projekt" in text.lower():
            project = next((row.Project for row in dto.VoucherRows if row.Project), "")
            return Permanent(
                f"Fortnox has no project {project}",
                erp_text=said,
                status=refused.status,
                hint=f"The PSA project number must match a Fortnox project: create project "
                f"{project} in Fortnox (Register → Projekt), then export again.",
            )
        if "kostnadsställe" in text.lower():
            centre = next((row.CostCenter for row in dto.VoucherRows if row.CostCenter), "")
            return Permanent(
                f"Fortnox has no cost centre {centre}",
                erp_text=said,
                status=refused.status,
                hint=f"Create cost centre {centre} in Fortnox (Register → Kostnadsställen), or "
                "turn expense_export_cost_centres off, then export again.",
            )
        return refused

    def _account_exists(self, row: vm.VoucherRowDto) -> bool:
        try:
            self._api.json("GET", f"/3/accounts/{row.Account}")
        except Permanent as error:
            if error.status == 404:
                return False
            raise
        return True

    def _attached_file(self, key: vm.VoucherKey) -> str | None:
        """The id of a file already attached to the voucher."""
        for item in self._all("/3/voucherfileconnections", "VoucherFileConnections"):
            dto = vm.VoucherFileConnectionDto.model_validate(item)
            if (dto.VoucherSeries, dto.VoucherNumber, dto.VoucherYear) == (
                key.series,
                str(key.number),
                key.year,
            ):
                return dto.FileId
        return None

    def _inbox_file(self, name: str) -> str | None:
        """The id of the inbox file named ``name`` (what a lost upload left)."""
        folder = self._api.json("GET", "/3/inbox").get("Folder") or {}
        for item in folder.get("Files") or []:
            dto = vm.FileRowDto.model_validate(item)
            if dto.Name == name:
                return dto.Id
        return None

    def _all(self, path: str, plural: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self._api.json(
                "GET", path, params=(("limit", str(self.settings.page_size)), ("page", str(page)))
            )
            pages = int((answer.get("MetaInformation") or {}).get("@TotalPages") or 1)
            items.extend(answer.get(plural) or [])
            page += 1
        return items


def _exported(dto: vm.VoucherListItemDto, correlation: str) -> ExportedExpense:
    key = vm.voucher_key(dto)
    return ExportedExpense(external_id=key.external_id, number=key.shown, correlation=correlation)
