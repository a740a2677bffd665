"""Fused hits -> `SearchResult`s: passage text, highlights, snippet window, leg ranks,
and why each one matched."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from indexer.layout import ArticleHeading, PassageRecord
from search.feedback import FEEDBACK_LEG
from search.fusion import FusedHit
from search.highlight import Highlighter
from search.models import Highlight, MatchKind, SearchResult
from search.plan import QueryPlan
from search.snapshot import IndexSnapshot
from search.snippets import snippet_window

__all__ = ["ResultBuilder"]


class ResultBuilder:
    def __init__(self, highlighter: Highlighter) -> None:
        self._highlighter = highlighter

    def build_all(
        self,
        snapshot: IndexSnapshot,
        hits: Sequence[FusedHit],
        plan: QueryPlan,
        *,
        highlight: bool = True,
        floor: float | None = None,
        keyword_rows: Collection[int] = (),
    ) -> list[SearchResult]:
        """A result per hit, in order, from one read of the store for all of them.

        `floor`: the meaning floor of `search.matching` (None: not applied);
        `keyword_rows`: passages known to hold a query word (semantic mode)."""
        shown = snapshot.shown_passages([hit.key for hit in hits])
        return [
            self._build(
                *shown[hit.key],
                hit,
                plan,
                highlight=highlight,
                floor=floor,
                keyword_rows=keyword_rows,
            )
            for hit in hits
        ]

    def _build(
        self,
        passage: PassageRecord,
        article: ArticleHeading,
        text: str,
        hit: FusedHit,
        plan: QueryPlan,
        *,
        highlight: bool,
        floor: float | None,
        keyword_rows: Collection[int],
    ) -> SearchResult:
        text = text.strip()
        highlights = (
            self._highlighter.highlights(
                text,
                lang=passage.lang,
                parsed=plan.parsed,
                translations=plan.translations,
                query_language=plan.query_language,
            )
            if highlight
            else ()
        )
        # The title is shown above the snippet already: the window starts after it.
        body_start = 0
        if (
            passage.start == 0
            and text.startswith(article.title)
            and text[len(article.title) :].strip()
        ):
            body_start = len(article.title)
        via_translation = (
            "lexical" in hit.legs
            and bool(highlights)
            and all(span.translated for span in highlights)
        )
        return SearchResult(
            article_id=article.id,
            passage_id=passage.passage_id,
            title=article.title,
            text=text,
            highlights=highlights,
            snippet=snippet_window(text, highlights, start=body_start),
            lang=passage.lang,
            start=passage.start,
            end=passage.end,
            date=article.date,
            source=article.source,
            url=article.url,
            score=hit.score,
            lexical=hit.legs.get("lexical"),
            semantic=hit.legs.get("semantic"),
            feedback=hit.legs.get(FEEDBACK_LEG),
            via_translation=via_translation,
            article_lang=article.lang,
            match=_match_kind(
                hit,
                highlights,
                highlight=highlight,
                floor=floor,
                keyword="lexical" in hit.legs or hit.key in keyword_rows,
            ),
        )


def _match_kind(
    hit: FusedHit,
    highlights: tuple[Highlight, ...],
    *,
    highlight: bool,
    floor: float | None,
    keyword: bool,
) -> MatchKind | None:
    """A passage holding a query word matched a keyword: as typed if some highlighted
    word matched the query itself, else only through translation (the query's or
    the passage's). Otherwise it matches by meaning when its cosine clears the floor."""
    if keyword:
        if not highlight or any(not span.translated for span in highlights):
            return "keyword"
        return "translated_keyword"
    semantic = hit.legs.get("semantic")
    if semantic is not None and (floor is None or semantic.score >= floor):
        return "meaning"
    return None
