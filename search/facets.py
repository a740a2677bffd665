"""Facet counts over the whole matched set, and the list of sources.

Counts are of articles, not passages (with per_article > 1 an article shows
several passages but counts once), over every match of the search, not only the
page shown; matches are capped by the retrievers' depth like `total`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from search.article_facts import NO_YEAR, ArticleFacts
from search.models import Facets, FacetValue, LangScope, SourceList

__all__ = ["count_facets", "list_sources"]


def count_facets(facts: ArticleFacts, rows: Iterable[int], *, lang_scope: LangScope) -> Facets:
    """`rows`: the matched passages. The language facet counts articles by their own
    language, or with lang_scope=passage by the matched passages' languages."""
    keys = np.fromiter(rows, dtype=np.int64)
    # the columns read for all rows at once, as Python values: indexing them row by
    # row (a numpy scalar each) was most of this function's time
    row_articles = facts.row_article[keys].tolist()
    row_langs = (facts.row_lang if lang_scope == "passage" else facts.row_article_lang)[keys]
    langs = Counter(lang for _, lang in set(zip(row_articles, row_langs.tolist(), strict=True)))
    articles = set(row_articles)
    sources = Counter(facts.article_source[a] for a in articles)
    years = Counter(facts.article_year[list(articles)].tolist())
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
