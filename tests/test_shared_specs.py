"""The one rule for tests that read ``../shared`` (:func:`tests.support.shared_specs`): a
missing folder skips the module with the reason, except with ``CI=true``, where it fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import SHARED, shared_specs

TESTS = Path(__file__).resolve().parent


def test_a_present_folder_is_returned(tmp_path: Path) -> None:
    (tmp_path / "specs" / "erp-docs").mkdir(parents=True)
    assert shared_specs("erp-docs", shared=tmp_path) == tmp_path / "specs" / "erp-docs"


def test_a_present_file_is_returned(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "erp-openapi.json").write_text("{}", encoding="utf-8")
    found = shared_specs("erp-openapi.json", shared=tmp_path)
    assert found == tmp_path / "specs" / "erp-openapi.json"


def test_a_missing_folder_skips_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="erp-docs"):
        shared_specs("erp-docs", shared=tmp_path)


def test_a_missing_folder_fails_on_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="erp-docs"):
        shared_specs("erp-docs", shared=tmp_path)


def test_the_shared_folder_is_the_one_beside_the_repository() -> None:
    assert TESTS.parent.parent / "shared" == SHARED


def test_every_test_reading_shared_goes_through_the_rule() -> None:
    """A test module that builds a ``shared`` path itself would skip on CI unnoticed."""
    own_path = re.compile(r"""["']shared["']|/work/shared""")
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name not in ("support.py", Path(__file__).name)
        and own_path.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"build the ../shared path with tests.support.shared_specs: {offenders}"
