"""e-conomic's paging: skippages/pagesize and the legacy collection envelope."""

from __future__ import annotations

import pytest

from ledgerlink.emulators.economic.paging import PageRequest, PagingError, envelope


def test_page_request_defaults_limits_and_errors() -> None:
    assert PageRequest.from_query({}) == PageRequest(0, 20, 1000)
    assert PageRequest.from_query({"SkipPages": "2", "PageSize": "1000"}) == PageRequest(
        2, 1000, 1000
    )
    for bad in ({"pagesize": "1001"}, {"pagesize": "0"}, {"skippages": "-1"}, {"pagesize": "x"}):
        with pytest.raises(PagingError):
            PageRequest.from_query(bad)


def test_envelope_links_and_counts() -> None:
    items = list(range(45))
    document = envelope(
        items, PageRequest(1, 20), results_without_filter=50, link=lambda n: f"p{n}"
    )
    assert document["collection"] == list(range(20, 40))
    assert document["pagination"] == {
        "skipPages": 1,
        "pageSize": 20,
        "maxPageSizeAllowed": 1000,
        "results": 45,
        "resultsWithoutFilter": 50,
        "firstPage": "p0",
        "previousPage": "p0",
        "nextPage": "p2",
        "lastPage": "p2",
    }
    assert document["self"] == "pNone"
    last = envelope(items, PageRequest(2, 20), results_without_filter=45, link=lambda n: f"p{n}")
    assert "nextPage" not in last["pagination"]
    assert last["collection"] == list(range(40, 45))
    empty = envelope([], PageRequest(), results_without_filter=0, link=lambda n: f"p{n}")
    assert empty["pagination"]["lastPage"] == "p0"
    assert empty["collection"] == []
