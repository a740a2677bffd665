"""Titles for articles that do not carry one.

A Markdown file that opens with a heading (`# Title`, any level from `#` to
`######`) carries its own: `leading_heading` finds it, and the heading line is the
title, not text. A heading too long for a title stays in the text.

The seed articles have no title line: they open with photo credits, datelines
("Mexico, Jul 28 . .- ") or a "date 2023-12-19" marker. A title is the first line
that reads like a headline (short, followed by a blank line), else the first
sentence of the first real paragraph, cut at a word boundary.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "MAX_TITLE_CHARS",
    "derive_title",
    "in_index_range",
    "leading_date",
    "leading_heading",
    "skip_blank_lines",
]

MAX_TITLE_CHARS = 110

_CREDIT = re.compile(
    r"^\W*(photo|foto|image|imagen|picture|credit|crédito|source|fuente)\b|editorial use only",
    re.IGNORECASE,
)
_DATE_MARKER = re.compile(r"^\s*(?:date|fecha)\s*:?\s*(\d{4}-\d{2}-\d{2})\b", re.IGNORECASE)
_DATELINE = re.compile(r"^[A-ZÁÉÍÓÚÑ][^\n.]{0,40}?\d{1,2}\s*[.\s]*[-–—]+\s*")
# CommonMark's ATX heading opens with up to 3 spaces, 1-6 '#' and a space or tab.
_ATX_OPENING = re.compile(r"[ ]{0,3}#{1,6}[ \t]")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t])#+$")  # an optional closing sequence: "# Title #"
_BLANK_LINES = re.compile(r"(?:[ \t\r\f\v]*\n)+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“«¿¡(A-ZÁÉÍÓÚÑ0-9])")


def in_index_range(day: date) -> bool:
    """tantivy stores dates as i64 nanoseconds: 1677-09-21 .. 2262-04-11."""
    return 1678 <= day.year <= 2261


def leading_date(text: str) -> date | None:
    """A `date YYYY-MM-DD` marker at the very start of the text, if any."""
    match = _DATE_MARKER.match(text)
    if not match:
        return None
    try:
        found = date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return found if in_index_range(found) else None


def leading_heading(text: str) -> tuple[str, int] | None:
    """The title a Markdown text opens with (its first non-blank line is a heading of
    at most `MAX_TITLE_CHARS`), and the offset where the text after that line starts."""
    start = skip_blank_lines(text)
    opening = _ATX_OPENING.match(text, start)
    if not opening:
        return None
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    line = text[opening.end() : end].strip()
    if len(line) > 4 * MAX_TITLE_CHARS:  # far too long; and keeps the search below short
        return None
    title = " ".join(_CLOSING_HASHES.sub("", line).split())
    if not title or len(title) > MAX_TITLE_CHARS:
        return None
    return title, end


def skip_blank_lines(text: str, start: int = 0) -> int:
    """The offset of the first line from `start` on that is not blank (or the end)."""
    match = _BLANK_LINES.match(text, start)
    return match.end() if match else start


def derive_title(text: str, *, markdown: bool) -> str:
    lines = [line.strip() for line in text.splitlines()]
    if markdown:
        for line in lines:
            if line.startswith("#") and line.lstrip("#").strip():
                return _shorten(line.lstrip("#").strip())
    for index, line in enumerate(lines):
        line = _DATE_MARKER.sub("", line).strip()
        if sum(ch.isalpha() for ch in line) < 12 or _CREDIT.search(line):
            continue
        followed_by_blank = index + 1 < len(lines) and not lines[index + 1]
        if followed_by_blank and len(line) <= MAX_TITLE_CHARS and line[-1:] not in ".:;,":
            return line
        line = _DATELINE.sub("", line)
        return _shorten(_SENTENCE_END.split(line, maxsplit=1)[0])
    return _shorten(" ".join(text.split())) or "(untitled)"


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"
