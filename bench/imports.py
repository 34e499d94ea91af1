"""Benchmark: reading and importing large CSV and JSON files of time registrations.

Not a test. Writes N registrations (default 100,000) of the sample company as a CSV file and as
a JSON array (``json.dumps(indent=2)``, one key per line, as exports are usually written), then
measures each format in its own fresh process, so its peak RSS is its own:

* **read**: ``read_rows`` — decoding, parsing, line numbers and the file-level checks;
* **import**: ``import_file`` of the first M rows (default: all) into a fresh SQLite database
  holding the sample company — reading plus validating and storing every row.

    .venv/bin/python bench/imports.py [--rows 100000] [--import-rows M] [--write-readme]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import resource
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from ledgerlink.domain.entity import require_id
from ledgerlink.psa.importing import ImportKind, import_file, read_rows
from ledgerlink.psa.sample import load_sample_data
from ledgerlink.store.database import Database
from ledgerlink.store.uow import UnitOfWork

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
BEGIN, END = "<!-- bench:imports:begin -->", "<!-- bench:imports:end -->"
EMPLOYEES = ("AH", "MJ", "SL", "EK", "LV")  # the sample company's staff
PROJECTS = ("P-100", "P-101", "P-200")
COLUMNS = (
    "format", "rows read", "file size", "read rows/s", "read peak RSS",
    "rows imported", "import rows/s", "import peak RSS",
)  # fmt: skip
VERSIONS = ("sqlalchemy",)


def registrations(count: int) -> list[dict[str, str]]:
    """``count`` distinct registrations the sample company accepts."""
    first = date(2026, 1, 1)
    return [
        {
            "ref": f"BENCH-{i:06d}",
            "date": (first + timedelta(days=i % 365)).isoformat(),
            "employee_initials": EMPLOYEES[i % len(EMPLOYEES)],
            "project_number": PROJECTS[i % len(PROJECTS)],
            "minutes": str(15 + (i * 37) % 465),
            "task": f"Task {i % 12}",
            "billable": "yes" if i % 9 else "no",
            "comment": f"Work item {i}",
        }
        for i in range(count)
    ]


def write_files(folder: Path, rows: list[dict[str, str]]) -> dict[str, Path]:
    """The same rows as ``registrations.csv`` and ``registrations.json``."""
    paths = {"CSV": folder / "registrations.csv", "JSON": folder / "registrations.json"}
    with paths["CSV"].open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    paths["JSON"].write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return paths


def peak_rss_mib() -> float:
    """This process's peak RSS since it started its program. ``ru_maxrss`` survives exec on
    Linux (a spawned child would show its parent's peak), the mm's ``VmHWM`` does not."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Result:
    fmt: str
    rows: int
    size: int
    read_seconds: float
    read_rss: float
    start_rss: float
    imported: int
    import_seconds: float
    import_rss: float

    def row(self) -> list[str]:
        return [
            self.fmt,
            f"{self.rows:,}",
            f"{self.size / 1024 / 1024:.1f} MiB",
            f"{self.rows / self.read_seconds:,.0f} ({self.read_seconds:.2f} s)",
            f"{self.read_rss:.0f} MiB ({self.start_rss:.0f} before)",
            f"{self.imported:,}",
            f"{self.imported / self.import_seconds:,.0f} ({self.import_seconds:.1f} s)",
            f"{self.import_rss:.0f} MiB",
        ]


def measure(fmt: str, path: Path, import_path: Path, folder: Path) -> Result:
    """Run in a fresh process: read ``path``, then import ``import_path`` into a new database."""
    start_rss = peak_rss_mib()
    started = time.perf_counter()
    rows = read_rows(path, ImportKind.REGISTRATIONS)
    read_seconds = time.perf_counter() - started
    read_rss = peak_rss_mib()
    count = len(rows)
    del rows
    database = Database(f"sqlite:///{folder / f'{fmt}.db'}")
    database.migrate()
    entity, _ = load_sample_data(UnitOfWork(database))
    started = time.perf_counter()
    report = import_file(
        UnitOfWork(database),
        legal_entity_id=require_id(entity),
        kind=ImportKind.REGISTRATIONS,
        path=import_path,
    )
    import_seconds = time.perf_counter() - started
    assert report.committed, report.errors[:3]
    return Result(
        fmt=fmt,
        rows=count,
        size=path.stat().st_size,
        read_seconds=read_seconds,
        read_rss=read_rss,
        start_rss=start_rss,
        imported=report.accepted,
        import_seconds=import_seconds,
        import_rss=peak_rss_mib(),
    )


def table(rows: list[list[str]]) -> str:
    lines = [f"| {' | '.join(COLUMNS)} |", f"|{'---|' * len(COLUMNS)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)])


def machine() -> str:
    """CPU count and model, memory, Python, SQLite and package versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown CPU",
    )
    memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1]) / 1024 / 1024
    packages = ", ".join(f"{name} {version(name)}" for name in VERSIONS)
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; {packages}"
    )


def write_readme(rows: list[list[str]], readme: Path = README) -> None:
    """Replace the table between the markers in bench/README.md."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    today = datetime.now(UTC).date().isoformat()
    load = os.getloadavg()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=BENCH,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    footer = (
        f"Measured on {today} with ledgerlink at {commit or 'an unknown commit'}; 1-minute load "
        f"average {load:.2f} at the end. Machine: {machine()}."
    )
    command = ".venv/bin/python bench/imports.py --write-readme"
    block = f"\n{table(rows)}\n\n{footer}\n\n```sh\n{command}\n```\n"
    readme.write_text(f"{head}{BEGIN}{block}{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to read per format")
    parser.add_argument("--import-rows", type=int, help="rows to import (default: --rows)")
    parser.add_argument("--write-readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-imports-") as workdir:
        folder = Path(workdir)
        rows = registrations(args.rows)
        read_folder = folder / "read"
        import_folder = folder / "import"
        read_folder.mkdir()
        import_folder.mkdir()
        to_read = write_files(read_folder, rows)
        to_import = write_files(import_folder, rows[: args.import_rows or args.rows])
        del rows
        context = multiprocessing.get_context("spawn")
        results = []
        for fmt in ("CSV", "JSON"):
            with context.Pool(1) as pool:
                results.append(pool.apply(measure, (fmt, to_read[fmt], to_import[fmt], folder)))
    rendered = [result.row() for result in results]
    print(table(rendered))
    if args.write_readme:
        write_readme(rendered)


if __name__ == "__main__":
    main()
