"""The import contracts have no holes: on a copy of the package, one forbidden import per
contract (the imports a review once added as trials and saw "kept") breaks every contract.

A contract that does not fail on a forbidden import is a hole (design §3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import ledgerlink

ROOT = Path(__file__).resolve().parents[1]

#: module written into the copy → the forbidden import it makes
TRIALS = {
    "domain/_trial.py": "import ledgerlink.wire.signing",
    "connectors/_trial.py": "import ledgerlink.settings",
    "sync/_trial.py": "import ledgerlink.financialhost.vault",
    "psa/_trial.py": "import ledgerlink.emulators._kit.serve",
    "connectors/economic/_trial.py": "import ledgerlink.connectors.financialhost.settings",
    "emulators/nav/_trial.py": "import ledgerlink.emulators.economic",
    "emulators/_kit/_trial.py": "import ledgerlink.domain.money",
    "interfaces/_trial.py": "import ledgerlink.wire",
    "financialhost/_trial.py": "import ledgerlink.web.app",
    "wire/_trial.py": "import ledgerlink.interfaces",
    "store/_trial.py": "import ledgerlink.sync.engine",
}


def lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_breaks_on_a_forbidden_import(tmp_path: Path) -> None:
    copy = tmp_path / "ledgerlink"
    shutil.copytree(
        Path(ledgerlink.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    clean = lint(tmp_path)
    assert clean.returncode == 0, clean.stdout  # the copy itself keeps every contract
    for module, line in TRIALS.items():
        (copy / module).write_text(f'"""A trial."""\n\n{line}\n', encoding="utf-8")
    broken = lint(tmp_path)
    assert broken.returncode != 0
    out = " ".join(broken.stdout.split())  # contract names wrap in the report
    kept = clean.stdout.count(" KEPT")
    assert f"Contracts: 0 kept, {kept} broken." in out, broken.stdout
    for module in TRIALS:
        name = "ledgerlink." + module.removesuffix(".py").replace("/", ".")
        assert name in out, f"{name} is not reported:\n{broken.stdout}"
