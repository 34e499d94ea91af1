"""The pure helpers of ``bench/financialhost.py`` (the benchmark itself is run by hand): the
percentile, a table row, and the README block that must leave the other sections alone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "financialhost.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_financialhost", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their own module up
    spec.loader.exec_module(module)
    return module


def test_percentile_is_nearest_rank(bench: ModuleType) -> None:
    hundred = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert bench.percentile(hundred, 50) == 50.0
    assert bench.percentile(hundred, 99) == 99.0
    assert bench.percentile(hundred, 100) == 100.0
    assert bench.percentile([float(v) for v in range(1, 201)], 99) == 198.0
    assert bench.percentile([7.0], 99) == 7.0
    assert bench.percentile([1.0, 2.0], 0) == 1.0
    with pytest.raises(ValueError, match="no values"):
        bench.percentile([], 50)


def test_row_reports_raw_and_added_latency(bench: ModuleType) -> None:
    direct = bench.Side([0.001] * 99 + [0.003], busy=0.2)
    host = bench.Side([0.004] * 99 + [0.010], busy=0.5)
    row = bench.Measured("nav", "`customer.find`", direct, host, host_cpu=0.3).row()
    assert row == [
        "NAV (emulator)",
        "`customer.find`",
        "100",
        "1.0 ms / 1.0 ms",
        "4.0 ms / 4.0 ms",
        "+3.0 ms / +3.0 ms",
        "500",
        "200",
        "–",
        "3.0 ms",
    ]


def test_row_without_a_direct_side_adds_the_whole_host_latency(bench: ModuleType) -> None:
    host = bench.Side([0.002, 0.004], busy=0.01)
    concurrent = bench.Side([0.003, 0.003], busy=0.004)
    row = bench.Measured(
        "visma", "`job.status`", bench.Side(), host, host_cpu=0.002, clients=4,
        concurrent=concurrent,
    ).row()  # fmt: skip
    assert row[3] == "–" and row[6] == "–"
    assert row[4] == "2.0 ms / 4.0 ms"
    assert row[5] == "+2.0 ms / +4.0 ms"
    assert row[7:] == ["200", "500", "1.0 ms"]


def test_write_readme_replaces_only_its_block(bench: ModuleType, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    other = "## `transfer.py`\n\n<!-- bench:begin -->\n| old |\n<!-- bench:end -->\n"
    readme.write_text(
        f"# Benchmarks\n\n{other}\n## `financialhost.py`\n\n{bench.BEGIN}\nold table\n"
        f"{bench.END}\n\nAfter.\n",
        encoding="utf-8",
    )
    bench.write_readme("| new |", readme)
    assert readme.read_text(encoding="utf-8") == (
        f"# Benchmarks\n\n{other}\n## `financialhost.py`\n\n{bench.BEGIN}\n| new |\n"
        f"{bench.END}\n\nAfter.\n"
    )
