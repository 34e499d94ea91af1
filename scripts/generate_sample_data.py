"""Write the sample consultancy shipped in ``ledgerlink/psa/sample_data``.

Run ``python scripts/generate_sample_data.py`` to regenerate the files; the output is fully
determined by ``SEED`` (a test checks that the shipped files match), so the demo's figures are
the same on every machine.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

SEED = 20260801
FIRST_DAY = date(2026, 8, 1)
LAST_DAY = date(2026, 10, 31)
TARGET = Path(__file__).resolve().parent.parent / "src" / "ledgerlink" / "psa" / "sample_data"

# The consultancy bills from a Danish company; its Swedish and Dutch sisters bill the same
# customers from Sweden and the Netherlands, for an ERP whose company is Swedish (Visma
# Administration, Fortnox) or Dutch (Exact Online).
LEGAL_ENTITIES = [
    {
        "code": "NORDLYS",
        "name": "Nordlys Consulting ApS",
        "country": "DK",
        "currency": "DKK",
        "vat_number": "DK16480894",
        "registration_number": "16480894",
        "next_invoice_number": 1001,
    },
    {
        "code": "NORDLYS-SE",
        "name": "Nordlys Konsult AB",
        "country": "SE",
        "currency": "SEK",
        "vat_number": "SE559000000501",
        "registration_number": "559000-0005",
        "next_invoice_number": 1001,
    },
    {
        "code": "NORDLYS-NL",
        "name": "Nordlys Consulting B.V.",
        "country": "NL",
        "currency": "EUR",
        "vat_number": "NL863401557B01",
        "registration_number": "86340155",
        "next_invoice_number": 1001,
    },
]

CUSTOMERS = [
    {
        "number": "1001",
        "name": "Havnens Logistik A/S",
        "address1": "Kajgade 4",
        "address2": "3. sal",
        "postal_code": "2100",
        "city": "København Ø",
        "country": "DK",
        "vat_number": "DK13585628",
        "registration_number": "13585628",
        "ean": "5790000123452",
        "currency": "DKK",
        "payment_terms": "eom 30",
        "email": "faktura@havnenslogistik.dk",
        "phone": "+45 33 12 34 56",
    },
    {
        "number": "1002",
        "name": "Svensson Bygg AB",
        "address1": "Storgatan 5",
        "postal_code": "111 22",
        "city": "Stockholm",
        "country": "SE",
        "vat_number": "SE556036079301",
        "registration_number": "556036-0793",
        "currency": "SEK",
        "payment_terms": "net 30",
        "email": "ekonomi@svenssonbygg.se",
    },
    {
        "number": "1003",
        "name": "Van Dijk Installaties B.V.",
        "address1": "Keizersgracht 120",
        "postal_code": "1015 CX",
        "city": "Amsterdam",
        "country": "NL",
        "vat_number": "NL853746333B01",
        "registration_number": "34274317",
        "currency": "EUR",
        "payment_terms": "net 14",
        "email": "crediteuren@vandijk-installaties.nl",
    },
]

CONTACTS = [
    ("1001", "Mette Lund", "ml@havnenslogistik.dk", "+45 33 12 34 57", "Økonomichef"),
    ("1001", "Jonas Krogh", "jk@havnenslogistik.dk", "", "IT-chef"),
    ("1002", "Karin Svensson", "karin@svenssonbygg.se", "+46 8 123 456", "CFO"),
    ("1003", "Pieter van Dijk", "pieter@vandijk-installaties.nl", "", "Directeur"),
]

EMPLOYEES = [
    ("AH", "Anna Holm", "ah@nordlys.dk", "Management"),
    ("MJ", "Mads Jensen", "mj@nordlys.dk", "Consulting"),
    ("SL", "Sofie Larsen", "sl@nordlys.dk", "Consulting"),
    ("EK", "Erik Karlsson", "ek@nordlys.dk", "Development"),
    ("LV", "Lotte Vos", "lv@nordlys.dk", "Development"),
]

# number, name, customer, manager, department, hourly rate, currency, tasks
PROJECTS = [
    ("P-100", "Warehouse management system", "1001", "AH", "Development", "1150.00", "DKK",
     ("Analysis", "Development", "Test", "Project management")),
    ("P-101", "Support agreement 2026", "1001", "MJ", "Consulting", "950.00", "DKK",
     ("Support", "Maintenance")),
    ("P-200", "ERP roll-out Sweden", "1002", "SL", "Consulting", "1450.00", "SEK",
     ("Workshop", "Configuration", "Training", "Project management")),
    ("P-300", "Installer portal", "1003", "AH", "Development", "135.00", "EUR",
     ("Design", "Development", "Test")),
]  # fmt: skip

# Who works where, with a weight per project.
STAFFING = {
    "AH": {"P-100": 3, "P-300": 2, "P-200": 1},
    "MJ": {"P-101": 4, "P-200": 2},
    "SL": {"P-200": 4, "P-100": 1},
    "EK": {"P-100": 4, "P-300": 3},
    "LV": {"P-300": 4, "P-101": 2},
}
# A senior rate that overrides the project's rate on some of Anna's registrations.
SENIOR_RATES = {"DKK": "1450.00", "EUR": "175.00", "SEK": "1750.00"}


def weekdays() -> list[date]:
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def registrations(rng: random.Random) -> list[dict[str, str]]:
    projects = {p[0]: p for p in PROJECTS}
    rows: list[dict[str, str]] = []
    for day in weekdays():
        for initials, staffing in STAFFING.items():
            if rng.random() < 0.08:  # a day off now and then
                continue
            left = rng.choice((420, 450, 480))
            while left >= 30:
                number = rng.choices(list(staffing), weights=list(staffing.values()))[0]
                minutes = min(left, 15 * rng.randint(2, 16))
                left -= minutes
                project = projects[number]
                internal = rng.random() < 0.06
                rate = ""
                if initials == "AH" and not internal and rng.random() < 0.3:
                    rate = SENIOR_RATES[project[6]]
                rows.append(
                    {
                        "ref": f"R{len(rows) + 1:05d}",
                        "date": day.isoformat(),
                        "employee_initials": initials,
                        "project_number": number,
                        "minutes": str(minutes),
                        "task": "Internal meeting" if internal else rng.choice(project[7]),
                        "billable": "no" if internal else "yes",
                        "hourly_rate": rate,
                        "comment": "",
                    }
                )
                if rng.random() < 0.2:  # some days are not fully logged
                    break
    return rows


def expenses(rng: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    days = weekdays()

    def add(**row: object) -> None:
        rows.append({"ref": f"E{len(rows) + 1:04d}", **row})

    for month in (8, 9, 10):
        in_month = [d for d in days if d.month == month]
        trip = rng.choice(in_month[:-3])
        add(
            date=trip.isoformat(),
            employee_initials="SL",
            project_number="P-200",
            type="travel",
            description=f"Flight CPH–ARN {trip:%d %b}",
            quantity="1",
            unit="pcs",
            unit_price=f"{rng.randint(1800, 3200)}.00",
            currency="SEK",
            vat_category="standard",
            receipt_file=f"receipts/2026-{month:02d}-flight.pdf",
        )
        add(
            date=(trip + timedelta(days=1)).isoformat(),
            employee_initials="SL",
            project_number="P-200",
            type="expense",
            description="Hotel Stockholm, 2 nights",
            quantity="2",
            unit="nights",
            unit_price=f"{rng.randint(1200, 1900)}.00",
            currency="SEK",
            vat_category="reduced",
            receipt_file=f"receipts/2026-{month:02d}-hotel.pdf",
        )
        for _ in range(2):
            day = rng.choice(in_month)
            add(
                date=day.isoformat(),
                employee_initials=rng.choice(["AH", "EK"]),
                project_number="P-100",
                type="mileage",
                description="Mileage to Havnens Logistik",
                quantity=str(rng.randint(18, 64)),
                unit="km",
                unit_price="3.79",
                vat_category="standard",  # re-invoiced mileage is part of the taxable service
            )
        day = rng.choice(in_month)
        add(
            date=day.isoformat(),
            employee_initials="LV",
            project_number="P-300",
            type="travel",
            description="Train Amsterdam Centraal return",
            quantity="1",
            unit="pcs",
            unit_price=f"{rng.randint(60, 140)}.{rng.randint(0, 99):02d}",
            currency="EUR",
            vat_category="reduced",
        )
        day = rng.choice(in_month)
        add(
            date=day.isoformat(),
            employee_initials="MJ",
            project_number="P-101",
            type="expense",
            description="Replacement barcode scanner",
            quantity="1",
            unit="pcs",
            unit_price=f"{rng.randint(900, 2400)}.{rng.choice(['00', '50', '95'])}",
            vat_category="standard",
            receipt_file=f"receipts/2026-{month:02d}-scanner.pdf",
        )
        day = rng.choice(in_month)
        add(
            date=day.isoformat(),
            employee_initials="AH",
            project_number="P-100",
            type="expense",
            description="Team lunch (internal)",
            quantity="1",
            unit="pcs",
            unit_price="640.00",
            billable=False,
        )
    return rows


def _csv(header: list[str], rows: list[dict[str, str]] | list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)
    return out.getvalue()


def render() -> dict[str, str]:
    """File name → content of every sample file."""
    rng = random.Random(SEED)
    customer_columns = [
        "number", "name", "address1", "address2", "postal_code", "city", "country",
        "vat_number", "registration_number", "ean", "currency", "payment_terms", "email",
        "phone",
    ]  # fmt: skip
    project_rows = [p[:7] for p in PROJECTS]
    registration_rows = registrations(rng)
    return {
        "legal_entities.json": json.dumps(LEGAL_ENTITIES, indent=2, ensure_ascii=False) + "\n",
        "customers.csv": _csv(customer_columns, CUSTOMERS),  # type: ignore[arg-type]
        "contacts.csv": _csv(["customer_number", "name", "email", "phone", "title"], CONTACTS),
        "employees.csv": _csv(["initials", "name", "email", "department"], EMPLOYEES),
        "projects.csv": _csv(
            [
                "number",
                "name",
                "customer_number",
                "manager_initials",
                "department",
                "hourly_rate",
                "currency",
            ],
            project_rows,
        ),
        "registrations.csv": _csv(list(registration_rows[0]), registration_rows),
        "expenses.json": json.dumps(expenses(rng), indent=2, ensure_ascii=False) + "\n",
    }


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, content in render().items():
        (TARGET / name).write_text(content, encoding="utf-8")
        print(f"wrote {TARGET / name}")


if __name__ == "__main__":
    main()
