"""Text rules several ERPs share (design §6): shortening display text at a word, and
splitting a long text into lines of a width, both at word boundaries."""

from __future__ import annotations

__all__ = ["ELLIPSIS", "shorten_at_word", "split_at_words"]

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
