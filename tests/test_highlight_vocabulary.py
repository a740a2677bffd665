"""Highlighting through the word vocabulary marks exactly what analyzing every word
of the passage would mark, whatever the memo holds."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest

from indexer.analysis import Analyzers, field_for_language
from search.highlight import Highlighter
from search.models import Highlight
from search.query_parser import parse_query
from search.vocabulary import Vocabulary

pytestmark = pytest.mark.fast

TEXTS = {
    "en": "The security chief's convoy was attacked; attackers fled. Security_forces "
    "and the National Guard (2,000 troops) secured García's route. ATTACK! attack? x_attack",
    "es": "Ataque contra el secretario de Seguridad: los atacantes huyeron; la seguridad "
    "de García Harfuch, según el gabinete, está garantizada. Ataques, ataque… ¿ataque? "
    # a word is placed only where it stands whole: not inside ataque_2, ataque², ¹ataque
    "ataque_2 ataque² ¹ataque ataqueé seguridad-ataque",
    "fr": "L'attaque du convoi: sécurité renforcée à Paris, attaque_2 et attaques.",
}
QUERIES = [
    ("security attack", {}),
    ("ataque seguridad", {"en": "attack security"}),
    ('"national guard" garcia', {"es": "guardia nacional"}),
    ("attack -convoy", {"es": "ataque", "en": "attack"}),
    ("secured", {}),
    ("nothing matches here", {"es": "nada"}),
]


def _every_word(
    analyzers: Analyzers, text: str, lang: str, query: str, translations: Mapping[str, str]
) -> tuple[Highlight, ...]:
    """The plain definition: analyze each word, compare with the query's tokens."""
    field = field_for_language(lang)
    parsed = parse_query(query)
    own = {t for text_ in (*parsed.terms, *parsed.phrases) for t in analyzers.analyze(field, text_)}
    translated = (
        set(analyzers.analyze(field, translations[lang])) - own if lang in translations else set()
    )
    spans = []
    for match in re.finditer(r"\w+", text):
        tokens = set(analyzers.analyze(field, match.group()))
        if tokens & own:
            spans.append(Highlight(match.start() + 7, match.end() + 7))
        elif tokens & translated:
            spans.append(Highlight(match.start() + 7, match.end() + 7, True))
    return tuple(spans)


@pytest.mark.parametrize(("query", "translations"), QUERIES)
@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_highlights_equal_analyzing_every_word(
    query: str, translations: dict[str, str], lang: str
) -> None:
    analyzers = Analyzers.create()
    highlighter = Highlighter(analyzers)
    expected = _every_word(analyzers, TEXTS[lang], lang, query, translations)
    for _ in range(2):  # a cold memo, then a warm one
        got = highlighter.highlights(
            TEXTS[lang], lang=lang, parsed=parse_query(query), translations=translations, offset=7
        )
        assert got == expected


def test_the_vocabulary_finds_words_by_token_and_forgets_when_full() -> None:
    analyzers = Analyzers.create()
    vocabulary = Vocabulary(analyzers.for_field("text_en"), limit=5)
    words = {"attacks", "attacked", "Security", "the", "convoy"}
    assert vocabulary.matching(words, {"attack"}) == {"attacks", "attacked"}
    assert vocabulary.matching(words, {"secur", "convoy"}) == {"Security", "convoy"}
    more = {"attacker", "securing", "attack"}  # over the limit: the memo starts afresh
    assert vocabulary.matching(more, {"attack", "secur"}) == {"attacker", "securing", "attack"}
    assert vocabulary.matching(words, {"attack"}) == {"attacks", "attacked"}
    assert vocabulary.matching(words, set()) == set()
