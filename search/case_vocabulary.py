"""The index's capitalisation evidence, per language: what name protection asks.

`search.name_protection` needs, for a handful of query words, how often the
index writes each one capitalised and in lower case, in each language
(`indexer.names.case_counts` defines the counting). It depends only on the
`CaseVocabulary` protocol, so the store that keeps the counts can change. The
metadata store keeps them in a table updated on every article added, replaced
or removed (`indexer.metadata_store`), read by `StoredCaseVocabulary` a few
words at a time: nothing is counted when a generation loads. An index written
before that table existed is counted by `InMemoryCaseVocabulary` over the
snapshot's articles, at load or in the background, until its next change adds
the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from indexer.layout import ArticleRecord
from indexer.metadata_store import MetadataStore
from indexer.names import case_counts
from search.heap import freeze_loaded, return_freed_memory
from search.lru import LruCache

__all__ = [
    "SYNCHRONOUS_VOCABULARY_ARTICLES",
    "BackgroundCaseVocabulary",
    "CaseVocabulary",
    "InMemoryCaseVocabulary",
    "StoredCaseVocabulary",
]

# Up to this many articles the counts are made while the generation loads (~1 s);
# above, in a background thread, so start-up does not grow with the archive.
SYNCHRONOUS_VOCABULARY_ARTICLES = 20_000
_WORDS_REMEMBERED = 16_384  # (language, word) pairs per generation: ~3 MB at most


class CaseVocabulary(Protocol):
    """(capitalised, lower-case) counts of lowercased `words` in one language's texts.

    Words the language's texts never contain may be left out of the answer.
    """

    def case_counts(self, words: Sequence[str], *, lang: str) -> Mapping[str, tuple[int, int]]: ...

    @property
    def ready(self) -> bool:
        """The counts cover the whole archive (False while a background count runs)."""
        ...


class StoredCaseVocabulary:
    """The counts in the metadata store's `case_words` table: one indexed SQLite
    query per query's words (tens of microseconds), at any archive size.

    Answers are remembered per word (a published generation never changes, and
    each generation has its own vocabulary): a query asks for its words twice,
    for name protection before translation and for the names-only test of the
    legs, and most words recur across queries. Each SQLite call releases the GIL
    and must win it back, which under concurrent requests costs more than the
    lookup itself.
    """

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        # (lang, word) -> (counts,), or (None,) for a word no `lang` text contains
        # (the cache's own None means "not asked yet")
        self._known: LruCache[tuple[str, str], tuple[tuple[int, int] | None]] = LruCache(
            _WORDS_REMEMBERED
        )

    @property
    def ready(self) -> bool:
        return True

    def case_counts(self, words: Sequence[str], *, lang: str) -> Mapping[str, tuple[int, int]]:
        counts: dict[str, tuple[int, int]] = {}
        unknown = []
        for word in dict.fromkeys(words):
            known = self._known.get((lang, word))
            if known is None:
                unknown.append(word)
            elif known[0] is not None:
                counts[word] = known[0]
        if unknown:
            found = self._store.case_words(unknown, lang=lang)
            for word in unknown:
                self._known.put((lang, word), (found.get(word),))
            counts.update(found)
        return counts


class InMemoryCaseVocabulary:
    """Per-language totals in dicts, updated one article at a time.

    Built at load, it reads every article once: about 2 s per million words of
    text on one core (0.12 s for XQuAD's 64,000 words), so some 5 minutes for a
    million passages of 150 words: past a few hundred thousand passages the
    metadata store's table, updated per article, is the way. Memory: one dict
    entry per distinct word per language.
    """

    def __init__(self) -> None:
        self._totals: dict[str, dict[str, list[int]]] = {}

    @classmethod
    def from_articles(cls, articles: Iterable[ArticleRecord]) -> InMemoryCaseVocabulary:
        vocabulary = cls()
        for article in articles:
            vocabulary.add(article.text, lang=article.lang)
        return vocabulary

    def add(self, text: str, *, lang: str) -> None:
        self._update(text, lang, sign=1)

    def remove(self, text: str, *, lang: str) -> None:
        """Undo `add` of the same text (an article removed or replaced)."""
        self._update(text, lang, sign=-1)

    @property
    def ready(self) -> bool:
        return True

    def case_counts(self, words: Sequence[str], *, lang: str) -> Mapping[str, tuple[int, int]]:
        totals = self._totals.get(lang, {})
        return {word: (totals[word][0], totals[word][1]) for word in words if word in totals}

    def _update(self, text: str, lang: str, *, sign: int) -> None:
        totals = self._totals.setdefault(lang, {})
        for word, (capitalised, lower) in case_counts(text).items():
            entry = totals.setdefault(word, [0, 0])
            entry[0] += sign * capitalised
            entry[1] += sign * lower
            if entry[0] <= 0 and entry[1] <= 0:
                del totals[word]


class BackgroundCaseVocabulary:
    """`InMemoryCaseVocabulary` counted in a daemon thread; until it is done, no word
    has index evidence and name protection goes by the query's own capitals."""

    def __init__(self, articles: Callable[[], Iterable[ArticleRecord]]) -> None:
        self._ready: InMemoryCaseVocabulary | None = None
        thread = threading.Thread(
            target=self._count, args=(articles,), name="case-vocabulary", daemon=True
        )
        thread.start()

    @property
    def ready(self) -> bool:
        return self._ready is not None

    def case_counts(self, words: Sequence[str], *, lang: str) -> Mapping[str, tuple[int, int]]:
        ready = self._ready
        return ready.case_counts(words, lang=lang) if ready is not None else {}

    def _count(self, articles: Callable[[], Iterable[ArticleRecord]]) -> None:
        self._ready = InMemoryCaseVocabulary.from_articles(articles())
        return_freed_memory()  # the articles it read, freed in this thread's arena
        freeze_loaded()  # the counts, out of the collector's walks (`search.heap`)
