"""Golden cases and properties for the search-box query parser (pure, fast)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.query_parser import ParsedQuery, parse_query

pytestmark = pytest.mark.fast


def pq(
    terms: tuple[str, ...] = (),
    phrases: tuple[str, ...] = (),
    excluded_terms: tuple[str, ...] = (),
    excluded_phrases: tuple[str, ...] = (),
) -> ParsedQuery:
    return ParsedQuery(
        terms=terms,
        phrases=phrases,
        excluded_terms=excluded_terms,
        excluded_phrases=excluded_phrases,
    )


GOLDEN = [
    # plain words keep their surface form
    ("Hola Mundo", pq(terms=("Hola", "Mundo"))),
    ("  spaced\t\nout  ", pq(terms=("spaced", "out"))),
    ("", pq()),
    ("   ", pq()),
    # phrases
    ('"climate change" policy', pq(terms=("policy",), phrases=("climate change",))),
    ('"  lots   of\tspace "', pq(phrases=("lots of space",))),
    ("“garcía harfuch” cartel", pq(terms=("cartel",), phrases=("garcía harfuch",))),
    ("«hola mundo» x", pq(terms=("x",), phrases=("hola mundo",))),
    ("„a b“", pq(phrases=("a b",))),
    ('“mixed quotes"', pq(phrases=("mixed quotes",))),
    ('"one"', pq(phrases=("one",))),
    ('foo"bar baz"', pq(terms=("foo",), phrases=("bar baz",))),
    ('"a" "b c"', pq(phrases=("a", "b c"))),
    # empty and punctuation-only phrases are dropped
    ('"" x', pq(terms=("x",))),
    ('"   "', pq()),
    ('"*"', pq()),
    # unclosed quotes: the quote is ignored, the rest are ordinary words
    ('"unclosed', pq(terms=("unclosed",))),
    ('"two words', pq(terms=("two", "words"))),
    ('a "b c" "d e', pq(terms=("a", "d", "e"), phrases=("b c",))),
    ("«abierta", pq(terms=("abierta",))),
    ('-"foo bar', pq(terms=("foo", "bar"))),
    ("stray » quote", pq(terms=("stray", "quote"))),
    # exclusions
    ("-foo", pq(excluded_terms=("foo",))),
    ("cartel -sinaloa", pq(terms=("cartel",), excluded_terms=("sinaloa",))),
    ('-"a b" c', pq(terms=("c",), excluded_phrases=("a b",))),
    ("-“frase excluida” sí", pq(terms=("sí",), excluded_phrases=("frase excluida",))),
    ("--foo", pq(excluded_terms=("-foo",))),
    ("-*", pq()),
    # a dash that is not an exclusion
    ("-", pq()),
    ("a - b", pq(terms=("a", "b"))),
    ("e-mail", pq(terms=("e-mail",))),
    ("covid-19 vacuna", pq(terms=("covid-19", "vacuna"))),
    ("foo-", pq(terms=("foo-",))),
    # plus is a plain word
    ("+word", pq(terms=("word",))),
    ('+"a b"', pq(phrases=("a b",))),
    ("+", pq()),
    ("c++", pq(terms=("c++",))),
    # query-language syntax is just words
    ("AND (", pq(terms=("AND",))),
    ("a OR b NOT c", pq(terms=("a", "OR", "b", "NOT", "c"))),
    ("(a AND b)", pq(terms=("(a", "AND", "b)"))),
    ("title:", pq(terms=("title:",))),
    ("lang:es", pq(terms=("lang:es",))),
    ("field:value", pq(terms=("field:value",))),
    ("*", pq()),
    ("? : ( ) * -", pq()),
    ("te?t wild* fuzzy~2 boost^3", pq(terms=("te?t", "wild*", "fuzzy~2", "boost^3"))),
    ("~2 ^3", pq(terms=("~2", "^3"))),
    ("http://x.com/a?b=c", pq(terms=("http://x.com/a?b=c",))),
    ("[a TO b]", pq(terms=("[a", "TO", "b]"))),
    ("{* TO *}", pq(terms=("TO",))),
    # control characters become spaces
    ("a\x00b", pq(terms=("a", "b"))),
    ("uno\u200bdos", pq(terms=("uno", "dos"))),
    ("x\x1b[31my", pq(terms=("x", "[31my"))),
    ('"a\x07b"', pq(phrases=("a b",))),
    ("\ud800lone surrogate", pq(terms=("lone", "surrogate"))),
    # symbols without a letter or digit cannot become tokens
    ("€ 🙂 ¿?", pq()),
    ("¿dónde?", pq(terms=("¿dónde?",))),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[repr(text) for text, _ in GOLDEN])
def test_golden(text: str, expected: ParsedQuery) -> None:
    assert parse_query(text) == expected


def test_only_excluded_is_empty() -> None:
    parsed = parse_query('-foo -"bar baz"')
    assert parsed.is_empty
    assert parsed.excluded_terms == ("foo",)
    assert parsed.excluded_phrases == ("bar baz",)
    assert parsed.positive_text() == ""


@pytest.mark.parametrize("text", ["", "-", "*", '""', "AND (", "title:"])
def test_is_empty_for_nothing_to_search(text: str) -> None:
    assert parse_query(text).is_empty == (text in {"", "-", "*", '""'})


def test_positive_text_joins_terms_then_phrases() -> None:
    parsed = parse_query("“garcía harfuch” cartel -sinaloa +mx")
    assert parsed.positive_text() == "cartel mx garcía harfuch"
    assert not parsed.is_empty


def test_deterministic() -> None:
    text = '«a b» -c "d e" f'
    assert parse_query(text) == parse_query(text)


def test_many_unclosed_quotes_is_fast_enough() -> None:
    # Guards against rescanning the text for every quote (quadratic time).
    assert parse_query("«" * 100_000).is_empty
    assert parse_query("x «" * 30_000).terms == ("x",) * 30_000


def _all_pieces(parsed: ParsedQuery) -> tuple[str, ...]:
    return parsed.terms + parsed.phrases + parsed.excluded_terms + parsed.excluded_phrases


_QUERYISH = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('"“”„«»-+ *():~^?\t\n\x00\x7f\u200b')),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


@given(st.one_of(st.text(), _QUERYISH))
def test_properties_on_arbitrary_text(text: str) -> None:
    parsed = parse_query(text)
    for piece in _all_pieces(parsed):
        assert piece, "no empty pieces"
        assert piece == piece.strip()
        assert not any(unicodedata.category(char).startswith("C") for char in piece)
        assert any(char.isalnum() for char in piece)
    for term in parsed.terms + parsed.excluded_terms:
        assert not any(char.isspace() for char in term)
    for phrase in parsed.phrases + parsed.excluded_phrases:
        assert "  " not in phrase
    assert parsed.is_empty == (not parsed.terms and not parsed.phrases)
    assert parsed.is_empty == (parsed.positive_text() == "")
    assert parse_query(text) == parsed


@given(st.lists(st.from_regex(r"[A-Za-záéíóúñ0-9]{1,8}", fullmatch=True), max_size=6))
def test_plain_words_pass_through_unchanged(words: list[str]) -> None:
    assert parse_query(" ".join(words)).terms == tuple(words)
