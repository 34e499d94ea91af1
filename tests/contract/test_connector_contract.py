"""The connector contract suite (:data:`ledgerlink.connectors.testing.CHECKS`): every check,
for every ERP in :data:`tests.contract.registry.CASES`, against its emulator over real HTTP
(and real FinancialHost processes for NAV and Visma).

One ERP (and host) is started per case and shared by that case's checks: the checks use their
own correlations and customer numbers, and each gets a fresh connector, with the faults cleared
after it. A check a case cannot pass is a strict expected failure with the case's reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledgerlink.connectors.contract import ErpConnector
from ledgerlink.connectors.registry import SPECS as CONNECTOR_SPECS
from ledgerlink.connectors.testing import CHECKS
from tests.contract.registry import CASES, Case, CaseSpec

CASES_BY_NAME = {spec.name: spec for spec in CASES}


@pytest.fixture(scope="module", params=CASES, ids=list(CASES_BY_NAME))
def case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Case]:
    spec: CaseSpec = request.param
    with spec.start(tmp_path_factory.mktemp(spec.name)) as started:
        yield started


@pytest.fixture
def connector(case: Case) -> Iterator[ErpConnector]:
    case.faults.clear()
    built = case.connector()
    try:
        yield built
    finally:
        built.close()
        case.faults.clear()


@pytest.mark.parametrize("check", list(CHECKS))
def test_contract(
    case: Case, connector: ErpConnector, check: str, request: pytest.FixtureRequest
) -> None:
    expected = CASES_BY_NAME[case.name].expected_failures.get(check)
    if expected is not None:
        # Marked here because the mark depends on the (module-scoped) case: a mark per
        # (case, check) parameter would start the ERP once per check.
        request.applymarker(
            pytest.mark.xfail(strict=True, reason=expected.reason, raises=expected.raises)
        )
    CHECKS[check](case, connector)


def test_every_connector_has_a_case() -> None:
    assert {spec.erp for spec in CASES} == set(CONNECTOR_SPECS)
    names = [spec.name for spec in CASES]
    assert len(names) == len(set(names))
    for spec in CASES:
        assert set(spec.expected_failures) <= set(CHECKS), spec.name
