"""Highlighting: which words of a passage match the query, and an HTML snippet.

A word matches when the analyzer of the passage's language turns it into a token
that the query produced under the same analyzer, so "ataques" is marked for the
query "ataque" and "García" for "Garcia", exactly as the index matched them. All
text is HTML-escaped; the only markup is <mark>.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from indexer.analysis import Analyzers, field_for_language

__all__ = ["DEFAULT_SNIPPET_CHARS", "find_matches", "query_tokens", "render_snippet"]

DEFAULT_SNIPPET_CHARS = 320
_WORD = re.compile(r"\w+", re.UNICODE)


def query_tokens(analyzers: Analyzers, language: str, texts: Iterable[str]) -> frozenset[str]:
    """Tokens of the query texts under the analyzer of `language`'s field."""
    field = field_for_language(language)
    tokens: set[str] = set()
    for text in texts:
        tokens.update(analyzers.analyze(field, text))
    return frozenset(tokens)


def find_matches(
    analyzers: Analyzers, language: str, text: str, tokens: frozenset[str]
) -> list[tuple[int, int]]:
    """Character spans of the words in `text` that analyze to one of `tokens`."""
    if not tokens:
        return []
    field = field_for_language(language)
    spans = []
    for match in _WORD.finditer(text):
        word_tokens = analyzers.analyze_word(field, match.group())
        if any(token in tokens for token in word_tokens):
            spans.append(match.span())
    return spans


def render_snippet(
    text: str, spans: Sequence[tuple[int, int]], *, max_chars: int = DEFAULT_SNIPPET_CHARS
) -> str:
    """An escaped window of about `max_chars` around the densest run of matches."""
    start, end = _window(text, spans, max_chars)
    pieces = ["…"] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(html.escape(text[cursor:span_start]))
        pieces.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(html.escape(text[cursor:end]))
    if end < len(text.rstrip()):
        pieces.append("…")
    return "".join(pieces).strip()


def _window(text: str, spans: Sequence[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    stripped_end = len(text.rstrip())
    leading = len(text) - len(text.lstrip())
    if stripped_end - leading <= max_chars:
        return leading, stripped_end
    best_start, best_count = leading, 0
    for index, (span_start, _) in enumerate(spans):
        count = sum(1 for s, e in spans[index:] if e <= span_start + max_chars)
        if count > best_count:
            best_start, best_count = span_start, count
    # Open a little before the first match so it reads in context.
    start = max(leading, best_start - max_chars // 5)
    start = _snap_forward(text, start) if start > leading else leading
    end = min(stripped_end, start + max_chars)
    if end < stripped_end:
        end = _snap_backward(text, end)
    return start, end


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
