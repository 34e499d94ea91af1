"""CRONUS-like seed data for each company (written without triggers, so no change-log rows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerlink.emulators.nav.logic import Books

__all__ = ["seed_company"]


def _rows(books: Books, table_id: int, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        books.seed(table_id, row)


def seed_company(books: Books) -> None:
    """Fill an empty company with master data a TimeLog integration needs."""
    t = books.ids
    config = books.config
    _rows(
        books,
        t.timelog_setup,
        [
            {
                "Primary_Key": "",
                "Company_Name": books.company.name[:30],
                "Use_Extended_Contact_Mgt": True,
                "Employee_Template": next(iter(config.employee_templates), ""),
            }
        ],
    )
    _rows(
        books,
        t.currency,
        [
            {"Code": "EUR", "Description": "Euro", "Exchange_Rate": Decimal("7.4560")},
            {"Code": "USD", "Description": "US dollar", "Exchange_Rate": Decimal("6.8912")},
            {"Code": "SEK", "Description": "Swedish krona", "Exchange_Rate": Decimal("0.6521")},
        ],
    )
    _rows(
        books,
        t.payment_terms,
        [
            {"Code": "14 DAYS", "Due_Date_Calculation": "14D", "Description": "Net 14 days"},
            {"Code": "30 DAYS", "Due_Date_Calculation": "30D", "Description": "Net 30 days"},
            {"Code": "CM", "Due_Date_Calculation": "CM", "Description": "Current month"},
            {"Code": "CM+8D", "Due_Date_Calculation": "CM+8D", "Description": "Month + 8 days"},
        ],
    )
    vat = {"DOMESTIC": Decimal(25), "EU": Decimal(0), "EXPORT": Decimal(0)}
    _rows(
        books,
        t.vat_posting_setup,
        [
            {
                "VAT_Bus_Posting_Group": business,
                "VAT_Prod_Posting_Group": product,
                "VAT_Percent": rate if product != "ZERO" else Decimal(0),
            }
            for business, rate in vat.items()
            for product in ("STANDARD", "SERVICES", "ZERO")
        ],
    )
    _rows(
        books,
        t.dimension,
        [
            {"Code": config.global_dimension_1, "Name": "Department"},
            {"Code": config.global_dimension_2, "Name": "Project"},
            {"Code": "AREA", "Name": "Area"},
        ],
    )
    dim1, dim2 = config.global_dimension_1, config.global_dimension_2
    _rows(
        books,
        t.dimension_value,
        [
            {"Dimension_Code": dim1, "Code": "ADM", "Name": "Administration"},
            {"Dimension_Code": dim1, "Code": "PROD", "Name": "Production"},
            {"Dimension_Code": dim1, "Code": "SALES", "Name": "Sales"},
            {"Dimension_Code": dim1, "Code": "OLD", "Name": "Closed department", "Blocked": True},
            {"Dimension_Code": dim2, "Code": "P1000", "Name": "Website relaunch"},
            {"Dimension_Code": dim2, "Code": "P1001", "Name": "ERP upgrade"},
            {"Dimension_Code": dim2, "Code": "P0999", "Name": "Closed project", "Blocked": True},
        ],
    )
    _rows(
        books,
        t.salesperson,
        [
            {"Code": "AH", "Name": "Annette Hill", "E_Mail": "ah@cronus.example"},
            {"Code": "JR", "Name": "John Roberts", "E_Mail": "jr@cronus.example"},
            {"Code": "PS", "Name": "Peter Saddow", "E_Mail": "ps@cronus.example"},
        ],
    )
    domestic = {
        "Gen_Bus_Posting_Group": "DOMESTIC",
        "VAT_Bus_Posting_Group": "DOMESTIC",
        "Customer_Posting_Group": "DOMESTIC",
    }
    _rows(
        books,
        t.customer,
        [
            {
                "No": "10000",
                "Name": "The Cannon Group PLC",
                "Address": "192 Market Square",
                "Post_Code": "2100",
                "City": "København Ø",
                "Country_Region_Code": "DK",
                "VAT_Registration_No": "DK12345678",
                "GLN": "5790000000012",
                "E_Mail": "invoices@cannon.example",
                "Contact": "Andy Teal",
                "Salesperson_Code": "JR",
                "Payment_Terms_Code": "14 DAYS",
                **domestic,
            },
            {
                "No": "20000",
                "Name": "Selangorian Ltd.",
                "Address": "Rue de la Loi 12",
                "City": "Bruxelles",
                "Post_Code": "1000",
                "Country_Region_Code": "BE",
                "Currency_Code": "EUR",
                "Contact": "Mark McArthur",
                "Salesperson_Code": "PS",
                "Payment_Terms_Code": "30 DAYS",
                "Gen_Bus_Posting_Group": "EU",
                "VAT_Bus_Posting_Group": "EU",
                "Customer_Posting_Group": "FOREIGN",
            },
            {
                "No": "30000",
                "Name": "John Haddock Insurance Co.",
                "City": "Miami",
                "Country_Region_Code": "US",
                "Currency_Code": "USD",
                "Payment_Terms_Code": "CM",
                "Gen_Bus_Posting_Group": "EXPORT",
                "VAT_Bus_Posting_Group": "EXPORT",
                "Customer_Posting_Group": "FOREIGN",
            },
            {
                "No": "40000",
                "Name": "Deerfield Graphics Company",
                "City": "Aarhus C",
                "Country_Region_Code": "DK",
                "Payment_Terms_Code": "14 DAYS",
                "Blocked": "All",
                **domestic,
            },
            {
                "No": "50000",
                "Name": "Guildford Water Department",
                "City": "Stockholm",
                "Country_Region_Code": "SE",
                "Currency_Code": "SEK",
                "Payment_Terms_Code": "CM+8D",
                "Gen_Bus_Posting_Group": "EU",
                "VAT_Bus_Posting_Group": "EU",
                "Customer_Posting_Group": "FOREIGN",
            },
        ],
    )
    for row in books.rows(t.customer):
        row["Last_Date_Modified"] = books.work_date().isoformat()
    _rows(
        books,
        t.contact,
        [
            {
                "No": "CT000001",
                "Type": "Company",
                "Name": "The Cannon Group PLC",
                "Company_No": "CT000001",
                "Company_Name": "The Cannon Group PLC",
            },
            {
                "No": "CT000002",
                "Type": "Person",
                "Name": "Andy Teal",
                "Company_No": "CT000001",
                "Company_Name": "The Cannon Group PLC",
                "E_Mail": "andy.teal@cannon.example",
                "Job_Title": "Purchasing Manager",
            },
        ],
    )
    _rows(
        books,
        t.contact_business_relation,
        [
            {
                "Contact_No": "CT000001",
                "Business_Relation_Code": "CUST",
                "Link_to_Table": "Customer",
                "No": "10000",
            }
        ],
    )
    _rows(
        books,
        t.employee,
        [
            {
                "No": "AH",
                "First_Name": "Annette",
                "Last_Name": "Hill",
                "Job_Title": "Consultant",
                "Global_Dimension_1_Code": "PROD",
            },
            {
                "No": "EH",
                "First_Name": "Esther",
                "Last_Name": "Huntington",
                "Job_Title": "Project manager",
                "Global_Dimension_1_Code": "SALES",
            },
        ],
    )
    _rows(
        books,
        t.item,
        [
            {
                "No": "1000",
                "Description": "Bicycle",
                "Base_Unit_of_Measure": "PCS",
                "Unit_Price": Decimal("4000"),
                "VAT_Prod_Posting_Group": "STANDARD",
            },
            {
                "No": "1100",
                "Description": "Front Wheel",
                "Base_Unit_of_Measure": "PCS",
                "Unit_Price": Decimal("120.50"),
                "VAT_Prod_Posting_Group": "STANDARD",
            },
            {
                "No": "70000",
                "Description": "Consultancy hour",
                "Base_Unit_of_Measure": "HOUR",
                "Unit_Price": Decimal("1000"),
                "VAT_Prod_Posting_Group": "SERVICES",
            },
            {
                "No": "70001",
                "Description": "Travel expenses",
                "Base_Unit_of_Measure": "PCS",
                "Unit_Price": Decimal(0),
                "VAT_Prod_Posting_Group": "SERVICES",
            },
            {
                "No": "80000",
                "Description": "Discontinued service",
                "Base_Unit_of_Measure": "HOUR",
                "Unit_Price": Decimal("800"),
                "VAT_Prod_Posting_Group": "SERVICES",
                "Blocked": True,
            },
        ],
    )
    _rows(
        books,
        t.gl_account,
        [
            {"No": "6000", "Name": "REVENUE", "Account_Type": "Heading"},
            {
                "No": "6110",
                "Name": "Sales, Retail - Dom.",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "STANDARD",
            },
            {
                "No": "6410",
                "Name": "Consulting fees",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "SERVICES",
            },
            {
                "No": "6420",
                "Name": "Travel re-invoiced",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "SERVICES",
            },
            {
                "No": "6130",
                "Name": "Sales, automatic only",
                "Direct_Posting": False,
                "VAT_Prod_Posting_Group": "STANDARD",
            },
            {
                "No": "6190",
                "Name": "Sales, closed account",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "STANDARD",
                "Blocked": True,
            },
            {
                "No": "8610",
                "Name": "Travel expenses",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "STANDARD",
            },
            {
                "No": "8620",
                "Name": "Meals and entertainment",
                "Direct_Posting": True,
                "VAT_Prod_Posting_Group": "STANDARD",
            },
        ],
    )
    _rows(
        books,
        t.resource,
        [
            {
                "No": "LINA",
                "Name": "Linda Martin",
                "Base_Unit_of_Measure": "HOUR",
                "Unit_Price": Decimal("950"),
                "VAT_Prod_Posting_Group": "SERVICES",
            },
            {
                "No": "MARTY",
                "Name": "Marty Horst",
                "Base_Unit_of_Measure": "HOUR",
                "Unit_Price": Decimal("850"),
                "VAT_Prod_Posting_Group": "SERVICES",
                "Blocked": True,
            },
        ],
    )
    _rows(
        books,
        t.fixed_asset,
        [{"No": "FA000010", "Description": "Company car", "VAT_Prod_Posting_Group": "STANDARD"}],
    )
    _rows(
        books,
        t.item_charge,
        [{"No": "P-FREIGHT", "Description": "Freight", "VAT_Prod_Posting_Group": "STANDARD"}],
    )
    _rows(
        books,
        t.expense_list,
        [
            {"G_L_Account_No": "8610", "Description": "Travel expenses"},
            {"G_L_Account_No": "8620", "Description": "Meals and entertainment"},
        ],
    )
    books.add_expense(
        {
            "Document_No": "INV-7781",
            "G_L_Account_No": "8610",
            "Description": "Taxi to customer",
            "Amount": Decimal("250.00"),
            "Job_No": "P1000",
        }
    )
