"""Which part of a passage to show: a window of about 320 characters around the
densest run of highlighted words, opening and closing on word boundaries.

Pure offsets in, offsets out: rendering (`<mark>` on the page, `**` in the
terminal) belongs to each interface.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.models import Highlight, TextWindow

__all__ = ["DEFAULT_SNIPPET_CHARS", "snippet_window"]

DEFAULT_SNIPPET_CHARS = 320


def snippet_window(
    text: str,
    highlights: Sequence[Highlight],
    *,
    start: int = 0,
    max_chars: int = DEFAULT_SNIPPET_CHARS,
) -> TextWindow:
    """The window of `text[start:]` to show, without leading or trailing whitespace."""
    stripped_end = len(text.rstrip())
    leading = start + len(text[start:]) - len(text[start:].lstrip())
    if stripped_end - leading <= max_chars:
        return TextWindow(leading, max(leading, stripped_end))
    start_of_body = leading
    best_start, best_count = leading, 0
    spans = [h for h in highlights if h.start >= leading]
    for index, span in enumerate(spans):
        count = sum(1 for later in spans[index:] if later.end <= span.start + max_chars)
        if count > best_count:
            best_start, best_count = span.start, count
    # Open a little before the first match so it reads in context.
    window_start = max(leading, best_start - max_chars // 5)
    window_start = _snap_forward(text, window_start) if window_start > leading else leading
    window_end = min(stripped_end, window_start + max_chars)
    if window_end < stripped_end:
        window_end = _snap_backward(text, window_end)
    return TextWindow(
        window_start,
        window_end,
        cut_before=window_start > start_of_body,
        cut_after=window_end < stripped_end,
    )


def _snap_forward(text: str, at: int) -> int:
    """Move to the start of the next word so the snippet never opens mid-word."""
    while at < len(text) and not text[at - 1].isspace():
        at += 1
    return at


def _snap_backward(text: str, at: int) -> int:
    cut = at
    while cut > 0 and not text[cut].isspace():
        cut -= 1
    return cut if cut > 0 else at
