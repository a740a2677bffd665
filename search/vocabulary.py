"""Which words of a text analyze to one of a few tokens: set algebra over a memo.

Highlighting asks, for every shown passage, which of its words the field's
analyzer turns into a token of the query. Analyzing word by word and testing each
word in a Python loop was most of the cost of a page of results (~0.3 ms per
passage). A `Vocabulary` remembers, for one analyzer, every word it has seen and
the inverse map token -> words; a passage's matching words are then its distinct
words (found by `re`, in C) intersected with the inverse entries of the query's
few tokens. Only words never seen before are analyzed, one crossing into Rust each.

Bounded: past `limit` words the memo starts afresh. A reader takes one memo for a
whole call and a reset replaces the memo whole, so a concurrent reset never shows
a reader half a memo.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Set

import tantivy

__all__ = ["Vocabulary"]


class _Memo:
    __slots__ = ("words", "words_by_token")

    def __init__(self) -> None:
        self.words: set[str] = set()
        self.words_by_token: dict[str, set[str]] = {}


class Vocabulary:
    """Words seen under one analyzer, and which words give which token."""

    def __init__(self, analyzer: tantivy.TextAnalyzer, *, limit: int = 200_000) -> None:
        self._analyzer = analyzer
        self._limit = limit
        self._memo = _Memo()
        self._lock = threading.Lock()

    def matching(self, words: Set[str], tokens: Collection[str]) -> set[str]:
        """Those of `words` that the analyzer turns into at least one of `tokens`."""
        if not tokens:
            return set()
        memo = self._memo
        if not words <= memo.words:
            memo = self._learn(words)
        found: set[str] = set()
        for token in tokens:
            given = memo.words_by_token.get(token)
            if given:
                found |= given & words
        return found

    def _learn(self, words: Set[str]) -> _Memo:
        """The current memo, with every one of `words` in it."""
        with self._lock:
            memo = self._memo
            unknown = words - memo.words
            if len(memo.words) + len(unknown) > self._limit:
                memo = _Memo()
                unknown = set(words)
            for word in unknown:
                for token in self._analyzer.analyze(word):
                    memo.words_by_token.setdefault(token, set()).add(word)
            memo.words |= unknown  # after the tokens: a word in `words` is fully known
            self._memo = memo
            return memo
