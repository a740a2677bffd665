"""Which words of a passage match the query, as character spans.

A word matches when the analyzer of the passage's language turns it into a token
that the query produced under the same analyzer, so "ataques" is marked for the
query "ataque" and "García" for "Garcia", exactly as the index matched them.
Words that match only the query's machine translation are marked `translated`.
One highlighter serves the result list and the article page, so both show the
same matches, translated ones included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from indexer.analysis import Analyzers, field_for_language
from search.models import Highlight
from search.query_parser import ParsedQuery

__all__ = ["Highlighter"]

_WORD = re.compile(r"\w+", re.UNICODE)


class Highlighter:
    def __init__(self, analyzers: Analyzers) -> None:
        self._analyzers = analyzers

    def highlights(
        self,
        text: str,
        *,
        lang: str,
        parsed: ParsedQuery,
        translations: Mapping[str, str],
        offset: int = 0,
    ) -> tuple[Highlight, ...]:
        """Matches in `text` (a passage in `lang`), sorted; `offset` shifts every span.

        The query's own words come first: a word matching both the query and its
        translation is an original match.
        """
        own = self._tokens(lang, (*parsed.terms, *parsed.phrases))
        translated: frozenset[str] = frozenset()
        if lang in translations:
            translated = self._tokens(lang, [translations[lang]]) - own
        if not own and not translated:
            return ()
        field = field_for_language(lang)
        spans = []
        for match in _WORD.finditer(text):
            tokens = self._analyzers.analyze_word(field, match.group())
            if any(token in own for token in tokens):
                spans.append(Highlight(match.start() + offset, match.end() + offset))
            elif any(token in translated for token in tokens):
                spans.append(Highlight(match.start() + offset, match.end() + offset, True))
        return tuple(spans)

    def _tokens(self, lang: str, texts: Iterable[str]) -> frozenset[str]:
        field = field_for_language(lang)
        tokens: set[str] = set()
        for text in texts:
            tokens.update(self._analyzers.analyze(field, text))
        return frozenset(tokens)
