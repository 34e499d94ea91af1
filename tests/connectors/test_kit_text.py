"""The kit's shared text rules: shortening at a word and splitting into lines."""

from __future__ import annotations

import pytest

from ledgerlink.connectors._kit.text import shorten_at_word, split_at_words

pytestmark = pytest.mark.unit


def test_shorten_at_word_keeps_what_fits_and_cuts_at_a_word() -> None:
    assert shorten_at_word("Consulting March", 20) == "Consulting March"
    assert shorten_at_word("Consulting services for March and April", 20) == "Consulting services…"
    assert len(shorten_at_word("x" * 300, 250)) == 250


def test_split_at_words_breaks_at_spaces_and_keeps_every_word() -> None:
    text = "Development of the customer portal, sprint 14: login, invoices and reports"
    lines = split_at_words(text, 50)
    assert lines == [
        "Development of the customer portal, sprint 14:",
        "login, invoices and reports",
    ]
    assert " ".join(lines).split() == text.split()
    assert all(len(line) <= 50 for line in lines)


def test_split_at_words_cuts_a_word_longer_than_a_line_and_keeps_line_breaks() -> None:
    assert split_at_words("ab " + "x" * 7 + " cd", 3) == ["ab", "xxx", "xxx", "x", "cd"]
    assert split_at_words("first\nsecond line", 20) == ["first", "second line"]
    assert split_at_words("   ", 10) == []
