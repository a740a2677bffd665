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
from collections.abc import Iterable, Iterator, Mapping

from indexer.analysis import FIELD_BY_LANGUAGE, OTHER_FIELD, Analyzers, field_for_language
from search.function_words import content_words
from search.models import Highlight
from search.query_parser import ParsedQuery
from search.vocabulary import Vocabulary

__all__ = ["Highlighter"]

_WORD = re.compile(r"\w+", re.UNICODE)
_QUERY_MEMO_LIMIT = 1024  # (field, query texts, query language) keys


class Highlighter:
    def __init__(self, analyzers: Analyzers) -> None:
        self._analyzers = analyzers
        self._vocabularies = {
            field: Vocabulary(analyzers.for_field(field))
            for field in (*FIELD_BY_LANGUAGE.values(), OTHER_FIELD)
        }
        self._query_tokens: dict[tuple[str, tuple[str, ...], str | None], frozenset[str]] = {}

    def highlights(
        self,
        text: str,
        *,
        lang: str,
        parsed: ParsedQuery,
        translations: Mapping[str, str],
        query_language: str | None = None,
        offset: int = 0,
    ) -> tuple[Highlight, ...]:
        """Matches in `text` (a passage in `lang`), sorted; `offset` shifts every span.

        The query's own words come first: a word matching both the query and its
        translation is an original match. `query_language`: the language the query
        reads as, when known; its stop words are marked nowhere, as the lexical leg
        searches them nowhere (`search.function_words`).
        """
        own = self._tokens(lang, (*parsed.terms, *parsed.phrases), query_language)
        translated: frozenset[str] = frozenset()
        if lang in translations:
            translated = self._tokens(lang, [translations[lang]], None) - own
        if not own and not translated:
            return ()
        words = set(_WORD.findall(text))
        vocabulary = self._vocabularies[field_for_language(lang)]
        own_words = vocabulary.matching(words, own)
        translated_words = vocabulary.matching(words, translated) - own_words
        if not own_words and not translated_words:
            return ()
        spans = sorted(
            (start, start + len(word), word in translated_words)
            for word in own_words | translated_words
            for start in _whole_word_starts(text, word)
        )
        return tuple(Highlight(start + offset, end + offset, mt) for start, end, mt in spans)

    def _tokens(
        self, lang: str, texts: Iterable[str], query_language: str | None
    ) -> frozenset[str]:
        """The query's tokens under `lang`'s analyzer, less `query_language`'s stop
        words; memoised, since every result of a page asks again (bounded: forgotten
        all at once when full)."""
        field = field_for_language(lang)
        key = (field, tuple(texts), query_language)
        tokens = self._query_tokens.get(key)
        if tokens is None:
            if len(self._query_tokens) >= _QUERY_MEMO_LIMIT:
                self._query_tokens = {}
            words = content_words(key[1], query_language, self._analyzers)
            tokens = frozenset(t for text in words for t in self._analyzers.analyze(field, text))
            self._query_tokens[key] = tokens
        return tokens


def _whole_word_starts(text: str, word: str) -> Iterator[int]:
    """Where `word` stands in `text` as a whole `\\w+` run: no word character (a letter,
    digit or underscore, as `re` reads `\\w`) on either side.

    Only the few matching words of a passage are placed, each by `str.find`. A regex
    of just them did the same, but it differs from passage to passage, so `re`
    compiled one per result: on the XQuAD index 10 compilations per query, about
    half of the highlighting's time.
    """
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if not (start and _is_word_character(text[start - 1])) and not (
            end < len(text) and _is_word_character(text[end])
        ):
            yield start
        start = text.find(word, end)


def _is_word_character(character: str) -> bool:
    return character.isalnum() or character == "_"
