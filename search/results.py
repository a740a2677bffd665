"""Fused hits -> `SearchResult`s: passage text, highlights, snippet window, leg ranks."""

from __future__ import annotations

from search.fusion import FusedHit
from search.highlight import Highlighter
from search.models import SearchResult
from search.plan import QueryPlan
from search.snapshot import IndexSnapshot
from search.snippets import snippet_window

__all__ = ["ResultBuilder"]


class ResultBuilder:
    def __init__(self, highlighter: Highlighter) -> None:
        self._highlighter = highlighter

    def build(
        self, snapshot: IndexSnapshot, hit: FusedHit, plan: QueryPlan, *, highlight: bool = True
    ) -> SearchResult:
        passage = snapshot.passages[hit.key]
        article = snapshot.articles[passage.article_id]
        text = snapshot.passage_text(hit.key).strip()
        highlights = (
            self._highlighter.highlights(
                text, lang=passage.lang, parsed=plan.parsed, translations=plan.translations
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
            via_translation=via_translation,
        )
