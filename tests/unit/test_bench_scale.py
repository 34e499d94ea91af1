"""The pure helpers of ``bench/scale.py`` (the benchmark itself is run by hand): the window
arithmetic, the exactly-once check, CPU between two moments, the rows and the README block."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their own module up
    spec.loader.exec_module(module)
    return module


def test_parse_window(bench: ModuleType) -> None:
    assert bench.parse_window("25/5") == (25, 5.0)
    assert bench.parse_window("50000/86400") == (50_000, 86_400.0)
    for bad in ("0/5", "25/0", "25"):
        with pytest.raises(ValueError, match=r"CALLS/SECONDS|invalid literal|could not convert"):
            bench.parse_window(bad)


def test_most_in_any_window_counts_a_half_open_sliding_window(bench: ModuleType) -> None:
    most = bench.most_in_any_window
    assert most([], 1.0) == 0
    assert most([5.0], 1.0) == 1
    assert most([1.0, 0.0, 0.5, 0.9, 1.5], 1.0) == 3  # unsorted on purpose
    assert most([0.0, 1.0, 2.0, 3.0], 1.0) == 1  # t + 1 s is outside [t, t + 1 s)
    assert most([0.0, 1.0, 2.0, 3.0], 1.001) == 2
    assert most([0.0] * 7, 5.0) == 7


def test_exactly_once_tells_duplicates_missing_and_strangers(bench: ModuleType) -> None:
    expected = ["LL-LE01-1", "LL-LE01-2", "LL-LE01-3"]
    assert bench.exactly_once(expected, list(reversed(expected))) == (3, 0, 0)
    found = ["LL-LE01-1", "LL-LE01-1", "LL-LE01-1", "LL-LE01-2", "LL-LE02-9", ""]
    assert bench.exactly_once(expected, found) == (1, 4, 1)


def test_cpu_between_takes_the_last_sample_at_or_before_each_moment(bench: ModuleType) -> None:
    times = [10.0, 11.0, 12.0, 13.0]
    values = [
        {"workers": 1.0, "machine": 100.0},
        {"workers": 2.0, "machine": 101.5},
        {"workers": 4.0, "machine": 103.5, "postgres": 0.5},
        {"workers": 5.0, "machine": 105.0, "postgres": 0.7},
    ]
    assert bench.cpu_between(times, values, 11.5, 12.9) == {
        "workers": 2.0,
        "machine": 2.0,
        "postgres": 0.5,
        "seconds": 1.0,
    }
    assert bench.cpu_between(times, values, 0.0, 99.0)["workers"] == 4.0
    assert bench.cpu_between([], [], 0.0, 1.0) == {}


def test_percentile_and_route(bench: ModuleType) -> None:
    assert bench.percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert bench.percentile([3.0, 1.0, 2.0, 4.0], 95) == 4.0
    assert bench.percentile([], 50) == 0.0
    assert bench.route("GET", "/customers/100") == "GET /customers/{n}"
    assert bench.route("POST", "/invoices/drafts") == "POST /invoices/drafts"


def a_run(bench: ModuleType, workers: int, span: float, **changes: object) -> Any:
    values: dict[str, object] = {
        "workers": workers,
        "connections": 20,
        "invoices": 30,
        "window": (50_000, 86_400.0),
        "wall": span + 3,
        "span": (1000.0, 1000.0 + span),
        "runs": [0.2] * 599 + [0.9],
        "workflows": Counter({"SUCCESS": 600}),
        "statuses": Counter({"successful": 600}),
        "routes": Counter({"POST /invoices/drafts": 600, "GET /customers/{n}": 60}),
        "exactly_once": 600,
        "duplicates": 0,
        "missing": 0,
        "run_twice": 0,
        "dispatched_twice": 2,
        "most": (5, 20, 45),
        "refused": 0,
        "cpu": {"workers": 12.0, "postgres": 3.0, "emulator": 1.8, "machine": 24.0},
        "emulator_cpu": 2.0,
        "peak_connections": 31,
        "loads": (0.5, 1.75),
        "exit_codes": [0] * workers,
    }
    return bench.Run(**{**values, **changes})


def test_rows(bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    one, two = a_run(bench, 1, 20.0), a_run(bench, 2, 12.0, duplicates=1, missing=2)
    assert one.row(one.rate) == [
        "1",
        "20 × 30",
        "30.0",
        "1.00×",
        "20.0 s",
        f"{len(one.runs)} ({600 / len(one.runs):.1f})",
        "200 ms / 200 ms",
        "1.10",
        "600 of 600",
        "2 dispatched, 0 invoice steps",
        "5 / 20 / 45 (limit 50000/86400 s)",
        "0",
        "0.5 → 1.8",
    ]
    row = two.row(one.rate)
    assert row[2:4] == ["50.0", "1.67×"]
    assert row[8] == "600 of 600 (1 duplicated, 2 missing)"
    assert one.cpu_row() == [
        "1", "20 ms", "5 ms + 0 ms", "3 ms", "0 ms", "60 %", "12 ms", "–", "31",
    ]  # fmt: skip
    assert a_run(bench, 1, 20.0, idle_cpu=0.123).cpu_row()[7] == "12 % of a core"
    text = bench.tables([one, two])
    assert text.count("\n| 1 |") == 2 and text.count("\n| 2 |") == 2


def test_write_readme_replaces_only_its_block(bench: ModuleType, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    other = "## `transfer.py`\n\n<!-- bench:begin -->\n| old |\n<!-- bench:end -->\n"
    readme.write_text(
        f"# Benchmarks\n\n{other}\n## `scale.py`\n\n{bench.BEGIN}\nold\n{bench.END}\n\nAfter.\n",
        encoding="utf-8",
    )
    bench.write_readme("| new |", readme)
    assert readme.read_text(encoding="utf-8") == (
        f"# Benchmarks\n\n{other}\n## `scale.py`\n\n{bench.BEGIN}\n| new |\n{bench.END}\n\nAfter.\n"
    )
