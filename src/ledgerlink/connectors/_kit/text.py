"""Text rules several ERPs share (design §6): shortening display text at a word, splitting a
long text into lines of a width at word boundaries, merging address lines into the fields an
ERP has, and keeping only the letters and digits of an identifier."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ELLIPSIS", "letters_and_digits", "merge_lines", "shorten_at_word", "split_at_words"]

ELLIPSIS = "…"


def shorten_at_word(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at the last word boundary before ``limit`` and end with
    an ellipsis; the result is never longer than ``limit``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    boundary = cut.rstrip().rfind(" ")
    if boundary > limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(" ,.;:-–") + ELLIPSIS


def split_at_words(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` characters, broken at spaces (line breaks in
    the text are kept); a word longer than ``width`` is cut into pieces of ``width``. Nothing
    is lost: joining the lines with spaces gives the text's words back. Empty text: ``[]``."""
    if width < 1:
        raise ValueError("width must be at least 1")
    lines: list[str] = []
    for paragraph in text.splitlines():
        current = ""
        for whole in paragraph.split():
            word = whole
            while len(word) > width:
                if current:
                    lines.append(current)
                    current = ""
                lines.append(word[:width])
                word = word[width:]
            if not current:
                current = word
            elif len(current) + 1 + len(word) <= width:
                current = f"{current} {word}"
            else:
                lines.append(current)
                current = word
        if current:
            lines.append(current)
    return lines


def merge_lines(lines: Sequence[str], fields: int, *, separator: str = ", ") -> list[str]:
    """``lines`` (stripped, empty ones dropped) fitted into ``fields`` fields: the lines that
    do not get a field of their own are joined to the last field with ``separator``, so
    nothing is lost. Fewer lines than fields: fewer items (never padded)."""
    if fields < 1:
        raise ValueError("fields must be at least 1")
    kept = [line.strip() for line in lines if line.strip()]
    if len(kept) <= fields:
        return kept
    return [*kept[: fields - 1], separator.join(kept[fields - 1 :])]


def letters_and_digits(text: str) -> str:
    """``text`` with everything but letters and digits removed (``"P-200 a"`` → ``"P200a"``),
    for identifiers an ERP allows only letters and digits in."""
    return "".join(character for character in text if character.isalnum())
