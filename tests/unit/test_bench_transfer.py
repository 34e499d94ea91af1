"""The pure helpers of ``bench/transfer.py`` (the benchmark itself is run by hand): how the SQL
count is split between the engine and the rate limiter, the statement names, the table row,
and the README block that keeps the other rows."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ledgerlink.store.database import StatementCount

BENCH = Path(__file__).resolve().parents[2] / "bench" / "transfer.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_transfer", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their own module up
    spec.loader.exec_module(module)
    return module


def test_the_limiter_s_statements_are_those_naming_its_table_plus_begin_on_sqlite(
    bench: ModuleType,
) -> None:
    texts = [
        "BEGIN IMMEDIATE",
        "SELECT rate_limits.paused_until, rate_limits.marks FROM rate_limits WHERE …",
        "UPDATE rate_limits SET paused_until=?, marks=? WHERE …",
        "BEGIN IMMEDIATE",
        "SELECT transfers.id FROM transfers WHERE transfers.id = ?",
    ]
    count = StatementCount(statements=len(texts), commits=2, texts=texts)
    sqlite = bench.SqlSplit.of(count, limiter_calls=1, sqlite=True)
    assert (sqlite.statements, sqlite.limiter_statements) == (5, 3)
    assert (sqlite.commits, sqlite.limiter_commits) == (2, 1)
    postgres = bench.SqlSplit.of(count, limiter_calls=1, sqlite=False)
    assert postgres.limiter_statements == 2


def test_statement_kind_names_the_verb_and_the_first_table(bench: ModuleType) -> None:
    kind = bench.statement_kind
    assert kind("SELECT transfers.id, transfers.status \nFROM transfers WHERE x") == (
        "SELECT transfers"
    )
    assert kind('INSERT INTO "transfer_steps" (transfer_id) VALUES (?)') == "INSERT transfer_steps"
    assert kind("UPDATE rate_limits SET marks=?") == "UPDATE rate_limits"
    assert kind("DELETE FROM external_keys WHERE id = ?") == "DELETE external_keys"
    assert kind("SELECT 1") == "SELECT"
    assert kind("BEGIN IMMEDIATE") == "BEGIN IMMEDIATE"
    assert kind("  ") == "?"


def measured(bench: ModuleType, **changes: object) -> Any:
    values: dict[str, object] = {
        "mode": "direct (transfer_now)",
        "database": "SQLite",
        "invoices": 100,
        "lines": 5,
        "seconds": 4.0,
        "latencies": [0.01 * n for n in range(1, 101)],
        "runs": [0.01 * n for n in range(1, 101)],
        "statuses": Counter({"successful": 100}),
        "routes": Counter({"POST /invoices/drafts": 100, "GET /customers/{n}": 2}),
        "rss_before": 100.0,
        "rss_peak": 120.4,
        "sql": bench.SqlSplit(2700, 500, 300, 200),
        "cpu_seconds": 2.5,
        "loads": (1.04, 1.96),
        "baseline_seconds": 2.0,
    }
    return bench.Measured(**{**values, **changes})


def test_row_reports_per_invoice_figures_and_the_ratio(bench: ModuleType) -> None:
    row = measured(bench).row()
    assert len(row) == len(bench.COLUMNS)
    assert row == [
        "direct (transfer_now)",
        "SQLite",
        "100 × 5",
        "25.0",
        "1.02",
        "24.0 + 3.0 limiter",
        "3.0 + 2.0 limiter",
        "25 ms",
        "500 ms / 950 ms",
        "500 ms / 950 ms",
        "120 MiB (100 before the run)",
        "50.0",
        "2.0×",
        "1.0 → 2.0",
    ]


def test_merge_block_replaces_the_same_run_keeps_others_and_drops_old_layouts(
    bench: ModuleType,
) -> None:
    columns = len(bench.COLUMNS)
    durable_pg = ["durable (DBOS queue)", "PostgreSQL", *["x"] * (columns - 2)]
    direct_sqlite_old = ["direct (transfer_now)", "SQLite", *["old"] * (columns - 2)]
    legacy = "| durable (DBOS queue) | SQLite | 1000 × 5 | 7.2 |"  # fewer columns
    block = f"\n{bench.table([durable_pg, direct_sqlite_old])}\n{legacy}\n\nMeasured long ago.\n"
    new = ["direct (transfer_now)", "SQLite", *["new"] * (columns - 2)]
    merged = bench.merge_block(block, new, "Last row written today.")
    assert merged == f"\n{bench.table([new, durable_pg])}\n\nLast row written today.\n"
