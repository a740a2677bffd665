"""One article as the API and the article page show it: its text, its passages with
the highlights of a query, and machine translations of the passages asked for.

Passages overlap by a sentence or two, so a passage's *own* text runs from its
start to where the next passage starts; that is what a reader sees as one piece,
and what is translated when they ask for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Literal

from search.highlight import Highlighter
from search.models import ArticlePassage, ArticleView, MachineTranslation
from search.passage_translation import PassageTranslator, translation_target
from search.query_parser import ParsedQuery
from search.snapshot import IndexSnapshot

__all__ = ["build_article_view"]


def build_article_view(
    snapshot: IndexSnapshot,
    article_id: str,
    *,
    highlighter: Highlighter,
    parsed: ParsedQuery,
    translations: Mapping[str, str],
    query_language: str | None,
    translator: PassageTranslator,
    translate_passages: Collection[int] | Literal["all"],
) -> ArticleView:
    """`article_id` must exist in `snapshot`. `query_language`: the language the query
    reads as, when known (`search.function_words`). `translate_passages`: the passages whose
    own text is machine-translated, by number in the article (from 1), or "all";
    numbers beyond the article's passages are ignored."""
    article = snapshot.article(article_id)
    if article is None:
        raise ValueError(f"no article {article_id!r} in generation {snapshot.generation}")
    records = snapshot.passages_of(article_id)
    passages = []
    notes: list[str] = []
    for number, passage in enumerate(records):
        following = records[number + 1].start if number + 1 < len(records) else passage.end
        own_end = max(passage.start, min(passage.end, following))
        highlights = (
            highlighter.highlights(
                article.text[passage.start : passage.end],
                lang=passage.lang,
                parsed=parsed,
                translations=translations,
                query_language=query_language,
                offset=passage.start,
            )
            if not parsed.is_empty
            else ()
        )
        target = translation_target(passage.lang) if translator.available else None
        translation = None
        wanted = translate_passages == "all" or number + 1 in translate_passages
        if target is not None and wanted:
            text = translator.translate(
                article.text[passage.start : own_end], source=passage.lang, target=target
            )
            if text is None:
                notes.append(f"machine translation of {passage.passage_id} failed; try again")
            else:
                translation = MachineTranslation(
                    text=text,
                    source_lang=passage.lang,
                    target_lang=target,
                    start=passage.start,
                    end=own_end,
                )
        passages.append(
            ArticlePassage(
                passage_id=passage.passage_id,
                lang=passage.lang,
                start=passage.start,
                end=passage.end,
                highlights=highlights,
                own_end=own_end,
                translatable_to=target,
                translation=translation,
            )
        )
    record = {field.name: getattr(article, field.name) for field in fields(article)}
    return ArticleView(**record, passages=passages, notes=notes)
