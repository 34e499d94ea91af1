"""The default published services: the TimeLog (``Tlp*``) pages and codeunit, and the tables
behind them, with the object IDs of the TimeLog FOB (all of it relocatable through
:class:`~ledgerlink.emulators.nav.config.NavConfig`)."""

from __future__ import annotations

from ledgerlink.emulators.nav.schema import CodeunitDef, FieldDef, PageDef, TableDef, TableIds

__all__ = ["default_codeunits", "default_internal_tables", "default_pages"]

SALES_DOCUMENT_TYPES = ("Quote", "Order", "Invoice", "Credit Memo", "Blanket Order", "Return Order")
SALES_LINE_TYPES = (" ", "G/L Account", "Item", "Resource", "Fixed Asset", "Charge (Item)")
BLOCKED_CUSTOMER = (" ", "Ship", "Invoice", "All")


def code(caption: str, length: int = 20, *, name: str = "", editable: bool = True) -> FieldDef:
    """A Code field (upper-cased by NAV)."""
    return FieldDef(caption=caption, name=name, type="Code", length=length, editable=editable)


def text(caption: str, length: int = 50, *, name: str = "", editable: bool = True) -> FieldDef:
    """A Text field."""
    return FieldDef(caption=caption, name=name, type="Text", length=length, editable=editable)


def decimal(caption: str, *, editable: bool = True) -> FieldDef:
    """A Decimal field."""
    return FieldDef(caption=caption, type="Decimal", editable=editable)


def integer(caption: str, *, editable: bool = True) -> FieldDef:
    """An Integer field."""
    return FieldDef(caption=caption, type="Integer", editable=editable)


def boolean(caption: str, *, name: str = "", editable: bool = True) -> FieldDef:
    """A Boolean field."""
    return FieldDef(caption=caption, name=name, type="Boolean", editable=editable)


def day(caption: str, *, editable: bool = True) -> FieldDef:
    """A Date field."""
    return FieldDef(caption=caption, type="Date", editable=editable)


def moment(caption: str, *, editable: bool = True) -> FieldDef:
    """A DateTime field."""
    return FieldDef(caption=caption, type="DateTime", editable=editable)


def option(caption: str, options: tuple[str, ...], *, editable: bool = True) -> FieldDef:
    """An Option field (``options`` are captions; ``" "`` is the blank option)."""
    return FieldDef(caption=caption, type="Option", options=options, editable=editable)


def _customer() -> tuple[FieldDef, ...]:
    return (
        code("No."),
        text("Name"),
        text("Address"),
        text("Address 2"),
        code("Post Code"),
        text("City", 30),
        code("Country/Region Code", 10),
        code("Currency Code", 10),
        text("VAT Registration No.", 20),
        code("GLN", 13),
        text("E-Mail", 80),
        text("Phone No.", 30),
        text("Home Page", 80),
        text("Contact"),
        code("Salesperson Code", 10),
        code("Gen. Bus. Posting Group", 10),
        code("VAT Bus. Posting Group", 10),
        code("Customer Posting Group", 10),
        code("Payment Terms Code", 10),
        option("Blocked", BLOCKED_CUSTOMER),
        day("Last Date Modified", editable=False),
    )


def _sales_header() -> tuple[FieldDef, ...]:
    return (
        option("Document Type", SALES_DOCUMENT_TYPES),
        code("No."),
        code("Sell-to Customer No."),
        code("Bill-to Customer No."),
        text("Sell-to Customer Name"),
        text("Bill-to Name"),
        text("Sell-to Contact"),
        text("Bill-to Contact"),
        code("Currency Code", 10),
        day("Document Date"),
        day("Posting Date"),
        day("Order Date"),
        day("Due Date"),
        code("Payment Terms Code", 10),
        code("External Document No.", 35),
        text("Your Reference", 30),
        code("Quote No."),
        text("Posting Description"),
        code("Salesperson Code", 10),
        code("Shortcut Dimension 1 Code"),
        code("Shortcut Dimension 2 Code"),
        boolean("Prices Including VAT"),
        code("Invoice Disc. Code"),
        code("EAN No.", 13),
        decimal("Amount", editable=False),
        decimal("Amount Including VAT", editable=False),
    )


def _sales_line(*, posted: bool) -> tuple[FieldDef, ...]:
    editable = not posted
    key: tuple[FieldDef, ...] = (
        (code("Document No."), integer("Line No."))
        if posted
        else (
            option("Document Type", SALES_DOCUMENT_TYPES),
            code("Document No."),
            integer("Line No."),
        )
    )
    return (
        *key,
        option("Type", SALES_LINE_TYPES, editable=editable),
        code("No.", editable=editable),
        text("Description", editable=editable),
        decimal("Quantity", editable=editable),
        code("Unit of Measure Code", 10, editable=editable),
        decimal("Unit Price", editable=editable),
        decimal("Line Discount %", editable=editable),
        code("Shortcut Dimension 1 Code", editable=editable),
        code("Shortcut Dimension 2 Code", editable=editable),
        code("VAT Prod. Posting Group", 10, editable=False),
        decimal("VAT %", editable=False),
        decimal("Line Amount", editable=False),
        decimal("Amount", editable=False),
        decimal("Amount Including VAT", editable=False),
    )


def _posted_header(*, invoice: bool) -> tuple[FieldDef, ...]:
    fields = (
        code("No."),
        code("Pre-Assigned No."),
        code("Sell-to Customer No."),
        code("Bill-to Customer No."),
        text("Sell-to Customer Name"),
        code("Currency Code", 10),
        day("Document Date"),
        day("Posting Date"),
        day("Due Date"),
        code("External Document No.", 35),
        text("Your Reference", 30),
        text("Posting Description"),
        code("Salesperson Code", 10),
        code("Shortcut Dimension 1 Code"),
        code("Shortcut Dimension 2 Code"),
        decimal("Amount"),
        decimal("Amount Including VAT"),
        decimal("Remaining Amount"),
        boolean("Closed"),
        boolean("Cancelled"),
    )
    return fields if invoice else (*fields, code("Applies-to Doc. No."))


def _read_only(
    service: str,
    object_id: int,
    source: tuple[int, str, tuple[str, ...]],
    fields: tuple[FieldDef, ...],
) -> PageDef:
    table_id, table, key = source
    return PageDef(
        service_name=service,
        object_id=object_id,
        table_id=table_id,
        table_name=table,
        primary_key=key,
        fields=fields,
        insert_allowed=False,
        modify_allowed=False,
        delete_allowed=False,
    )


def default_pages(ids: TableIds | None = None) -> tuple[PageDef, ...]:
    """The ``Tlp*`` page services (names from the TimeLog install guide, page IDs 50500–50520)."""
    t = ids or TableIds()
    return (
        _read_only(
            "TlpProductNumberNavWS",
            50500,
            (t.item, "Item", ("No",)),
            (
                code("No."),
                text("Description"),
                code("Base Unit of Measure", 10),
                decimal("Unit Price"),
                code("VAT Prod. Posting Group", 10),
                boolean("Blocked"),
            ),
        ),
        PageDef(
            service_name="TlpContactNavWS",
            object_id=50501,
            table_id=t.contact,
            table_name="Contact",
            primary_key=("No",),
            fields=(
                code("No."),
                option("Type", ("Company", "Person")),
                text("Name"),
                code("Company No."),
                text("Company Name", editable=False),
                text("E-Mail", 80),
                text("Phone No.", 30),
                text("Job Title", 30),
            ),
        ),
        PageDef(
            service_name="TlpCustomerNavWS",
            object_id=50502,
            table_id=t.customer,
            table_name="Customer",
            primary_key=("No",),
            fields=_customer(),
        ),
        PageDef(
            service_name="TlpEmployeeNavWS",
            object_id=50503,
            table_id=t.employee,
            table_name="Employee",
            primary_key=("No",),
            fields=(
                code("No."),
                text("First Name", 30),
                text("Last Name", 30),
                text("E-Mail", 80),
                text("Job Title", 30),
                code("Global Dimension 1 Code"),
            ),
        ),
        PageDef(
            service_name="TlpExpenseNavWS",
            object_id=50504,
            table_id=t.expense_entry,
            table_name="TimeLog Expense Entry",
            primary_key=("Entry_No",),
            fields=(
                integer("Entry No.", editable=False),
                day("Posting Date", editable=False),
                code("Document No.", editable=False),
                code("G/L Account No.", editable=False),
                text("Description", editable=False),
                decimal("Amount", editable=False),
                code("Currency Code", 10, editable=False),
                decimal("Amount (LCY)", editable=False),
                code("Job No.", editable=False),
                option("Status", ("Open", "Taken", "Deleted")),
                moment("Last Modified", editable=False),
            ),
            insert_allowed=False,
            delete_allowed=False,
        ),
        PageDef(
            service_name="TlpInvoiceNavWS",
            object_id=50505,
            table_id=t.sales_header,
            table_name="Sales Header",
            primary_key=("Document_Type", "No"),
            fields=_sales_header(),
            table_view={"Document_Type": "Invoice|Credit_Memo"},
        ),
        PageDef(
            service_name="TlpInvoiceLineWS",
            object_id=50506,
            table_id=t.sales_line,
            table_name="Sales Line",
            primary_key=("Document_Type", "Document_No", "Line_No"),
            fields=_sales_line(posted=False),
            table_view={"Document_Type": "Invoice|Credit_Memo"},
        ),
        _read_only(
            "TlpPostedInvoiceNavWS",
            50507,
            (t.sales_invoice_header, "Sales Invoice Header", ("No",)),
            _posted_header(invoice=True),
        ),
        _read_only(
            "TlpPostedInvoiceLineWS",
            50508,
            (t.sales_invoice_line, "Sales Invoice Line", ("Document_No", "Line_No")),
            _sales_line(posted=True),
        ),
        _read_only(
            "TlpPostedCrMemoNavWS",
            50509,
            (t.sales_cr_memo_header, "Sales Cr.Memo Header", ("No",)),
            _posted_header(invoice=False),
        ),
        _read_only(
            "TlpPostedCrMemoLineWS",
            50510,
            (t.sales_cr_memo_line, "Sales Cr.Memo Line", ("Document_No", "Line_No")),
            _sales_line(posted=True),
        ),
        PageDef(
            service_name="TlpCustomerContactWS",
            object_id=50511,
            table_id=t.contact_business_relation,
            table_name="Contact Business Relation",
            primary_key=("Contact_No", "Business_Relation_Code"),
            fields=(
                code("Contact No."),
                code("Business Relation Code", 10),
                option("Link to Table", (" ", "Customer", "Vendor", "Bank Account")),
                code("No."),
            ),
        ),
        PageDef(
            service_name="TlpSalesPersonWS",
            object_id=50512,
            table_id=t.salesperson,
            table_name="Salesperson/Purchaser",
            primary_key=("Code",),
            fields=(code("Code", 10), text("Name"), text("E-Mail", 80)),
        ),
        PageDef(
            service_name="TlpSetup",
            object_id=50515,
            table_id=t.timelog_setup,
            table_name="TimeLog Setup",
            primary_key=("Primary_Key",),
            fields=(
                code("Primary Key", 10),
                text("Company Name", 30),
                text("TimeLog Host URL", 250),
                text("TimeLog User Name", 50),
                text("TimeLog Password", 50),
                moment("Last Import"),
                boolean("Brug udvidet kontakt mgr", name="Use_Extended_Contact_Mgt"),
                code("Employee Template", 10),
            ),
            insert_allowed=False,
            delete_allowed=False,
        ),
        PageDef(
            service_name="TlpChangeLog",
            object_id=50516,
            table_id=t.change_log,
            table_name="TimeLog Change Log",
            primary_key=("Entry_No",),
            fields=(
                integer("Entry No.", editable=False),
                integer("Table ID", editable=False),
                text("Table Name", 30, editable=False),
                text("Record Key", 250, editable=False),
                option("Change Type", ("Insert", "Modify", "Delete"), editable=False),
                moment("Changed At", editable=False),
                boolean("Processed"),
            ),
            insert_allowed=False,
        ),
        _read_only(
            "TlpGLAccountNavWS",
            50518,
            (t.gl_account, "G/L Account", ("No",)),
            (
                code("No."),
                text("Name"),
                option("Account Type", ("Posting", "Heading", "Total", "Begin-Total", "End-Total")),
                boolean("Direct Posting"),
                code("VAT Prod. Posting Group", 10),
                boolean("Blocked"),
            ),
        ),
        PageDef(
            service_name="TlpDimensionValueWS",
            object_id=50519,
            table_id=t.dimension_value,
            table_name="Dimension Value",
            primary_key=("Dimension_Code", "Code"),
            fields=(code("Dimension Code"), code("Code"), text("Name"), boolean("Blocked")),
        ),
        PageDef(
            service_name="TlpExpenseList",
            object_id=50520,
            table_id=t.expense_list,
            table_name="TimeLog Expense List",
            primary_key=("G_L_Account_No",),
            fields=(code("G/L Account No."), text("Description")),
        ),
    )


def default_internal_tables(ids: TableIds | None = None) -> tuple[TableDef, ...]:
    """Tables the logic needs that are not published as pages (seedable via the admin API)."""
    t = ids or TableIds()
    return (
        TableDef(
            table_id=t.currency,
            name="Currency",
            primary_key=("Code",),
            fields=(code("Code", 10), text("Description", 30), decimal("Exchange Rate")),
        ),
        TableDef(
            table_id=t.payment_terms,
            name="Payment Terms",
            primary_key=("Code",),
            fields=(
                code("Code", 10),
                text("Due Date Calculation", 32),
                text("Description"),
            ),
        ),
        TableDef(
            table_id=t.resource,
            name="Resource",
            primary_key=("No",),
            fields=(
                code("No."),
                text("Name"),
                code("Base Unit of Measure", 10),
                decimal("Unit Price"),
                code("VAT Prod. Posting Group", 10),
                boolean("Blocked"),
            ),
        ),
        TableDef(
            table_id=t.fixed_asset,
            name="Fixed Asset",
            primary_key=("No",),
            fields=(code("No."), text("Description"), boolean("Blocked")),
        ),
        TableDef(
            table_id=t.item_charge,
            name="Item Charge",
            primary_key=("No",),
            fields=(code("No."), text("Description"), code("VAT Prod. Posting Group", 10)),
        ),
        TableDef(
            table_id=t.vat_posting_setup,
            name="VAT Posting Setup",
            primary_key=("VAT_Bus_Posting_Group", "VAT_Prod_Posting_Group"),
            fields=(
                code("VAT Bus. Posting Group", 10),
                code("VAT Prod. Posting Group", 10),
                decimal("VAT %"),
            ),
        ),
        TableDef(
            table_id=t.dimension,
            name="Dimension",
            primary_key=("Code",),
            fields=(code("Code"), text("Name", 30), boolean("Blocked")),
        ),
        TableDef(
            table_id=t.cust_ledger_entry,
            name="Cust. Ledger Entry",
            primary_key=("Entry_No",),
            fields=(
                integer("Entry No."),
                code("Customer No."),
                day("Posting Date"),
                option(
                    "Document Type",
                    (
                        " ",
                        "Payment",
                        "Invoice",
                        "Credit Memo",
                        "Finance Charge Memo",
                        "Reminder",
                        "Refund",
                    ),
                ),
                code("Document No."),
                code("Currency Code", 10),
                decimal("Amount"),
                decimal("Remaining Amount"),
                boolean("Open"),
                day("Due Date"),
            ),
        ),
    )


def default_codeunits(version_text: str) -> tuple[CodeunitDef, ...]:
    """Codeunit ``TlpFunctionsWS`` (50500 "Tlp Functions WS")."""
    return (
        CodeunitDef(
            service_name="TlpFunctionsWS",
            object_id=50500,
            functions={"GetVersion": version_text, "TestAccess": "true"},
        ),
    )
