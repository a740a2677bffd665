"""Per-row facts about each passage's *article* (language, source, year) as columns.

Built once per generation from the metadata store (one pass over the articles
table, the per-row columns memory-mapped) and cached, so filters, facets and
sorting read numpy columns instead of looking articles up per row. Articles are
numbered by their store key; numbers of removed articles are marked absent.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from search.lru import LruCache
from search.snapshot import IndexSnapshot

__all__ = ["ArticleFacts", "ArticleFactsCache", "LanguageRows", "SourceMatch"]

NO_YEAR = -1


@dataclass(frozen=True, slots=True, eq=False)
class LanguageRows:
    """The rows of articles in some languages, for filtering by *article* language.

    `mask` is what the semantic leg needs. The lexical leg reuses the index's
    per-passage `lang` field and corrects it with the few passages whose language
    differs from their article's: `extra_rows` (in the mask, passage in another
    language: an English quote in a Spanish article) and `foreign_rows` (not in the
    mask, passage in a wanted language: a Spanish tweet in an English article).
    """

    langs: tuple[str, ...]
    mask: npt.NDArray[np.bool_]
    extra_rows: tuple[int, ...]
    foreign_rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SourceMatch:
    """Requested source names mapped to the index's stored ones, case-insensitively."""

    stored: tuple[str, ...]  # what the filters use; an unknown request stays as given
    unknown: tuple[str, ...]  # requested names no article has


@dataclass(frozen=True, slots=True, eq=False)
class ArticleFacts:
    generation: str
    row_article: npt.NDArray[np.int64]  # row -> article number (its store key)
    row_live: npt.NDArray[np.bool_]  # False for removed passages
    row_lang: npt.NDArray[np.str_]  # the passage's own language
    row_article_lang: npt.NDArray[np.str_]  # the passage's article's language
    row_date: npt.NDArray[np.int64]  # article date as a proleptic ordinal, -1 undated
    # By article number: its source as shown (names differing only in case are one
    # source, shown in its most frequent spelling), and its year (NO_YEAR: undated).
    article_source: list[str | None]
    article_year: npt.NDArray[np.int64]
    article_present: npt.NDArray[np.bool_]  # False for numbers of removed articles
    _sources_by_folded: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, snapshot: IndexSnapshot) -> ArticleFacts:
        store = snapshot.store
        langs, sources, dates, present = _read_articles(snapshot)
        article_lang = np.array(langs, dtype=np.str_)
        years = np.array([int(d[:4]) if d else NO_YEAR for d in dates], dtype=np.int64)
        spellings = Counter(s for s in sources if s)
        by_folded: dict[str, list[str]] = {}
        for source, _ in sorted(spellings.items(), key=lambda item: (-item[1], item[0])):
            by_folded.setdefault(source.casefold(), []).append(source)  # most frequent first
        shown = [by_folded[s.casefold()][0] if s else None for s in sources]
        rows = np.asarray(store.row_article, dtype=np.int64)
        names = np.array(_language_names(snapshot), dtype=np.str_)
        return cls(
            generation=snapshot.generation,
            row_article=rows,
            row_live=np.asarray(store.row_live, dtype=bool),
            row_lang=names[np.asarray(store.row_lang, dtype=np.int64)]
            if len(rows)
            else np.array([], dtype=np.str_),
            row_article_lang=article_lang[rows] if len(rows) else np.array([], dtype=np.str_),
            row_date=np.asarray(store.row_date, dtype=np.int64),
            article_source=shown,
            article_year=years,
            article_present=np.array(present, dtype=bool),
            _sources_by_folded=by_folded,
        )

    def language_rows(self, langs: Iterable[str]) -> LanguageRows:
        wanted = tuple(langs)
        mask = np.isin(self.row_article_lang, list(wanted)) & self.row_live
        passage_in = np.isin(self.row_lang, list(wanted)) & self.row_live
        return LanguageRows(
            langs=wanted,
            mask=mask,
            extra_rows=tuple(int(r) for r in np.flatnonzero(mask & ~passage_in)),
            foreign_rows=tuple(int(r) for r in np.flatnonzero(~mask & passage_in)),
        )

    def match_sources(self, requested: Iterable[str]) -> SourceMatch:
        stored: list[str] = []
        unknown: list[str] = []
        for name in requested:
            found = self._sources_by_folded.get(name.strip().casefold())
            if found:
                stored.extend(found)
            else:
                stored.append(name)
                unknown.append(name)
        return SourceMatch(tuple(dict.fromkeys(stored)), tuple(unknown))

    def source_counts(self) -> tuple[list[tuple[str, int]], int]:
        """(source as shown, articles) most first, then by name; and the unsourced
        articles. Names differing only in case count as one source."""
        counts = Counter(
            s
            for s, present in zip(self.article_source, self.article_present, strict=True)
            if present
        )
        unsourced = counts.pop(None, 0)
        named = sorted(((s, n) for s, n in counts.items() if s), key=lambda i: (-i[1], i[0]))
        return named, unsourced


class ArticleFactsCache:
    """The facts of the last two generations (a reload keeps the old one briefly)."""

    def __init__(self) -> None:
        self._cache: LruCache[str, ArticleFacts] = LruCache(2)
        self._lock = threading.Lock()

    def of(self, snapshot: IndexSnapshot) -> ArticleFacts:
        facts = self._cache.get(snapshot.generation)
        if facts is None:
            with self._lock:  # one build per generation, even under concurrent requests
                facts = self._cache.get(snapshot.generation)
                if facts is None:
                    facts = ArticleFacts.of(snapshot)
                    self._cache.put(snapshot.generation, facts)
        return facts


def _read_articles(
    snapshot: IndexSnapshot,
) -> tuple[list[str], list[str | None], list[str | None], list[bool]]:
    """Languages, sources, dates and presence of articles by number (store key)."""
    found = snapshot.store.article_columns()
    row_article = snapshot.store.row_article  # dead rows may name removed articles' keys
    size = max(max((key for key, *_ in found), default=-1), int(row_article.max(initial=-1))) + 1
    langs = [""] * size
    sources: list[str | None] = [None] * size
    dates: list[str | None] = [None] * size
    present = [False] * size
    for key, lang, source, day in found:
        langs[key], sources[key], dates[key], present[key] = lang, source, day, True
    return langs, sources, dates, present


def _language_names(snapshot: IndexSnapshot) -> list[str]:
    """Language code by the store's small integer for it (`row_lang`)."""
    codes = snapshot.store.language_codes()
    names = [""] * (max(codes.values(), default=-1) + 1)
    for lang, code in codes.items():
        names[code] = lang
    return names
