"""A query's words less the stop words of the language it reads as.

Each text field's analyzer drops its own language's stop words only. So a Spanish
query's "de" used to be searched in the English field, where it is rare and BM25
gives it a high weight: English news about Mexico is full of "Lomas de
Chapultepec" and "Carlos Loret de Mola". On the seeds, "cosecha de café" (no
article is about coffee) matched two English passages on "de" alone, which the
page showed as keyword matches with "de" marked. The same held the other way, for
an English query's "the" or "of" in a Spanish passage that quotes an English
title, and for every function word in `text_other`, which has no stop list.

Where the query's language is known (`QueryTranslations.language`: evident from
its function words, or from which translation changed it), its stop words are
dropped before the words are analyzed for any field. The lexical leg searches
what is left, and the highlighter marks the same words. Where the language is
not known, nothing is dropped, since "Loret de Mola" may be a name typed in
either language. There the lexical leg scores a stop word of either language
like any word, but a passage must hold another word of the query to match: on
the seeds "Loret de Mola" matched a passage about "Lomas de Chapultepec" on "de".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from indexer.analysis import FIELD_BY_LANGUAGE, Analyzers

__all__ = ["content_words", "split_stop_words"]

_PART = re.compile(r"\w+")


def content_words(
    words: Iterable[str], language: str | None, analyzers: Analyzers
) -> tuple[str, ...]:
    """`words` (a query's terms, or its quoted phrases) without the stop words of
    `language` ("en" or "es"), in order. A word with a stop word inside ("Ciudad de
    México") keeps its other parts, joined by spaces; a word made only of stop
    words is left out. Unchanged when `language` is None or has no field of its
    own, since no stop list is known then."""
    if language is None or language not in FIELD_BY_LANGUAGE:
        return tuple(words)
    return split_stop_words(words, (language,), analyzers)[0]


def split_stop_words(
    words: Iterable[str], languages: Iterable[str], analyzers: Analyzers
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(`words` without the stop words of any of `languages`, as `content_words`
    keeps them; the stop words taken out, one per occurrence).

    A query of no known language cannot drop "de": "Loret de Mola" may be a name
    typed as such. The lexical leg searches such words for their score only: a
    passage must hold one of the other words to match at all."""
    fields = [FIELD_BY_LANGUAGE[language] for language in languages]
    kept: list[str] = []
    stops: list[str] = []
    for word in words:
        parts = _PART.findall(word)
        content = []
        for part in parts:
            if all(analyzers.analyze(field, part) for field in fields):
                content.append(part)
            else:
                stops.append(part)
        if len(content) == len(parts):
            kept.append(word)  # nothing dropped: the word as typed
        elif content:
            kept.append(" ".join(content))
    return tuple(kept), tuple(stops)
