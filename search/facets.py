"""Facet counts over the whole matched set, and the list of sources.

Counts are of articles, not passages (with per_article > 1 an article shows
several passages but counts once), over every match of the search, not only the
page shown; matches are capped by the retrievers' depth like `total`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from search.article_facts import NO_YEAR, ArticleFacts
from search.models import Facets, FacetValue, LangScope, SourceList

__all__ = ["count_facets", "list_sources"]


def count_facets(facts: ArticleFacts, rows: Iterable[int], *, lang_scope: LangScope) -> Facets:
    """`rows`: the matched passages. The language facet counts articles by their own
    language, or with lang_scope=passage by the matched passages' languages."""
    langs: Counter[str] = Counter()
    seen_lang: set[tuple[int, str]] = set()
    articles: set[int] = set()
    for row in rows:
        article = int(facts.row_article[row])
        lang = str((facts.row_lang if lang_scope == "passage" else facts.row_article_lang)[row])
        if (article, lang) not in seen_lang:
            seen_lang.add((article, lang))
            langs[lang] += 1
        articles.add(article)
    sources = Counter(facts.article_source[a] for a in articles)
    years = Counter(int(facts.article_year[a]) for a in articles)
    return Facets(
        lang=_most_first(langs.items()),
        source=_most_first(sources.items()),
        year=[
            FacetValue(None if year == NO_YEAR else str(year), count)
            for year, count in sorted(
                years.items(), key=lambda item: (item[0] == NO_YEAR, -item[0])
            )
        ],
    )


def list_sources(facts: ArticleFacts) -> SourceList:
    named, unsourced = facts.source_counts()
    return SourceList(
        generation=facts.generation,
        sources=[FacetValue(name, count) for name, count in named],
        unsourced=unsourced,
    )


def _most_first(counts: Iterable[tuple[str | None, int]]) -> list[FacetValue]:
    """Most articles first, then by value; the unknown value (None) last."""
    ordered = sorted(counts, key=lambda item: (item[0] is None, -item[1], item[0] or ""))
    return [FacetValue(value, count) for value, count in ordered]
