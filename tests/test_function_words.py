"""A Spanish query about something an English archive lacks: its function words match
nothing, and its known words are not "corrected".

A query's stop words are searched and marked in no field once its language is
known. English news about Mexico writes Spanish names: "Lomas de Chapultepec",
"Carlos Loret de Mola". The English field keeps "de" (it is no English stop
word), and there it is rare, so BM25 weighs it high: a Spanish query about
something the archive lacks matched such passages on "de" alone, as keyword
matches. And "did you mean" offered the archive's "case" for "café", a word
Apertium knew ("coffee").
"""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzers
from indexer.translation import ApertiumTranslator
from search.engine import SearchEngine
from search.function_words import content_words, split_stop_words
from search.models import SearchRequest, SearchResponse
from search.query_translation import _reads_as
from tests.corpus import ARTICLES, write_corpus

NAMES_IN_ENGLISH = (
    "Gunmen fire on a convoy in Lomas de Chapultepec\n\n"
    "Gunmen opened fire on a convoy in Lomas de Chapultepec, a wealthy district of the "
    "capital, the columnist Carlos Loret de Mola reported on Monday. Nobody was hurt, "
    "and the police said the case was closed."
)
# "de" and nothing else of "Loret de Mola"
PARK = "A park opens in Santa Fe\n\nA new park opened on Sunday in Lomas de Santa Fe.\n"


@pytest.fixture(scope="module")
def analyzers() -> Analyzers:
    return Analyzers.create()


@pytest.mark.fast
@pytest.mark.parametrize(
    ("words", "language", "kept"),
    [
        (("cosecha", "de", "café"), "es", ("cosecha", "café")),
        (("Ciudad de México",), "es", ("Ciudad México",)),  # a phrase keeps its other words
        (("de la",), "es", ()),  # only stop words: nothing left to search
        (("son", "era"), "es", ()),  # Spanish function words...
        (("son", "era"), "en", ("son", "era")),  # ...are English words
        (("the", "impact", "of", "tariffs"), "en", ("impact", "tariffs")),
        (("Loret", "de", "Mola"), None, ("Loret", "de", "Mola")),  # language unknown
        (("de",), "pt", ("de",)),  # no stop list of its own
        (("García-Harfuch",), "es", ("García-Harfuch",)),  # as typed when nothing drops
    ],
)
def test_content_words_drop_the_stop_words_of_the_querys_language(
    analyzers: Analyzers, words: tuple[str, ...], language: str | None, kept: tuple[str, ...]
) -> None:
    assert content_words(words, language, analyzers) == kept


@pytest.mark.fast
def test_a_query_of_no_known_language_has_its_stop_words_set_apart(
    analyzers: Analyzers,
) -> None:
    words = ("Sheinbaum", "y", "Loret de Mola", "the", "son")
    kept, stops = split_stop_words(words, ("en", "es"), analyzers)
    assert kept == ("Sheinbaum", "Loret Mola")
    assert stops == ("y", "de", "the", "son")


@pytest.mark.fast
@pytest.mark.parametrize(
    ("outcomes", "language"),
    [
        ({("es", "en"): "Harvest of coffee", ("en", "es"): ""}, "es"),
        ({("es", "en"): "", ("en", "es"): "Cosecha de café"}, "en"),
        ({("es", "en"): "", ("en", "es"): ""}, None),  # a name: both repeat it
        ({("es", "en"): "Harvest of coffee", ("en", "es"): None}, None),  # one failed
        ({("es", "en"): "Harvest", ("en", "es"): "Cosecha"}, None),  # both changed it
        ({("es", "en"): "Harvest of coffee"}, None),  # one direction ran: no comparison
    ],
)
def test_a_query_reads_as_the_language_of_the_one_direction_that_changed_it(
    outcomes: dict[tuple[str, str], str | None], language: str | None
) -> None:
    assert _reads_as(outcomes) == language


@pytest.fixture(scope="module")
def engine(tmp_path_factory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    """English articles only, one of them full of Spanish names."""
    root = tmp_path_factory.mktemp("function-words")
    articles = {name: text for name, text in ARTICLES.items() if name.startswith("en/")}
    articles["en/lomas.txt"] = NAMES_IN_ENGLISH
    articles["en/park.txt"] = PARK
    build([write_corpus(root / "corpus", articles)], root / "index", translation="off")
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


def _search(engine: SearchEngine, query: str, *, translate: bool) -> SearchResponse:
    return engine.search(SearchRequest(query=query, mode="hybrid", translate=translate))


def _marked(response: SearchResponse, article_id: str) -> set[str]:
    result = next(r for r in response.results if r.article_id == article_id)
    return {result.text[span.start : span.end].lower() for span in result.highlights}


@pytest.mark.parametrize(
    "translate",
    [
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                not ApertiumTranslator.is_available(), reason="Apertium not installed"
            ),
        ),
        False,
    ],
)
def test_a_spanish_query_matches_no_english_passage_by_its_function_words(
    engine: SearchEngine, translate: bool
) -> None:
    """Nothing in the archive is about a coffee harvest, so no passage holds a word
    of the query. Before, the Spanish names' "de" made the Lomas passage the
    keyword leg's first answer and a keyword match in hybrid."""
    lexical = engine.search(
        SearchRequest(query="cosecha de café", mode="lexical", translate=translate)
    )
    assert lexical.results == []
    hybrid = _search(engine, "cosecha de café", translate=translate)
    assert [r.article_id for r in hybrid.results if r.match == "keyword"] == []


@pytest.mark.parametrize("translate", [True, False])
def test_the_words_that_match_are_marked_and_the_function_words_are_not(
    engine: SearchEngine, translate: bool
) -> None:
    if translate and not ApertiumTranslator.is_available():
        pytest.skip("Apertium not installed")
    response = _search(engine, "el ataque en Lomas de Chapultepec", translate=translate)
    lomas = next(r for r in response.results if r.article_id == "en/lomas.txt")
    assert lomas.match == "keyword"
    assert _marked(response, "en/lomas.txt") == {"lomas", "chapultepec"}


@pytest.mark.parametrize("translate", [True, False])
def test_a_query_of_no_evident_language_keeps_every_word(
    engine: SearchEngine, translate: bool
) -> None:
    """ "Loret de Mola" may be a name typed in either language: its "de" is searched,
    for its score only. A passage that holds no other word of it does not match."""
    if translate and not ApertiumTranslator.is_available():
        pytest.skip("Apertium not installed")
    response = _search(engine, "Loret de Mola", translate=translate)
    assert _marked(response, "en/lomas.txt") == {"loret", "de", "mola"}
    assert "en/park.txt" not in {r.article_id for r in response.results}

    def lexical_score(query: str) -> float:
        request = SearchRequest(query=query, mode="lexical", translate=translate)
        (result,) = engine.search(request).results
        assert result.article_id == "en/lomas.txt" and result.lexical is not None
        return result.lexical.score

    assert lexical_score("Loret de Mola") > lexical_score("Loret Mola")


def test_the_article_page_marks_what_the_result_marked(engine: SearchEngine) -> None:
    view = engine.article("en/lomas.txt", query="el ataque en Lomas de Chapultepec")
    text = engine.snapshot.article("en/lomas.txt")
    assert text is not None
    marked = {
        text.text[span.start : span.end].lower()
        for passage in view.passages
        for span in passage.highlights
    }
    assert marked == {"lomas", "chapultepec"}


@pytest.mark.skipif(not ApertiumTranslator.is_available(), reason="Apertium not installed")
def test_a_word_apertium_knows_is_not_corrected_into_a_word_of_the_archive(
    engine: SearchEngine,
) -> None:
    """ "café" is one edit from the archive's "case". Apertium translated it
    ("Harvest of coffee"), so it is a Spanish word the archive lacks, not a typo.
    A word Apertium passes through unchanged still gets its correction."""
    assert _search(engine, "cosecha de café", translate=True).did_you_mean is None
    typo = _search(engine, "el caso de Lomas de Chapultepcc", translate=True).did_you_mean
    assert typo is not None
    assert [(c.word, c.suggestion) for c in typo.corrections] == [("Chapultepcc", "chapultepec")]


def test_without_translation_nothing_tells_a_known_word_from_a_typo(
    engine: SearchEngine,
) -> None:
    """The limit of the rule: untranslated, "café" is corrected as before."""
    suggestion = _search(engine, "cosecha de café", translate=False).did_you_mean
    assert suggestion is not None and suggestion.query == "cosecha de case"


@pytest.mark.skipif(not ApertiumTranslator.is_available(), reason="Apertium not installed")
def test_a_query_reads_as_the_language_its_translation_shows(engine: SearchEngine) -> None:
    """One Spanish function word and no accent: no language is evident, so both
    directions run. es->en changes "ataque de" and en->es only repeats the query:
    it reads as Spanish, and its "de" is marked nowhere."""
    response = _search(engine, "ataque Lomas de Chapultepec", translate=True)
    assert set(response.translations) == {"en"}
    assert _marked(response, "en/lomas.txt") == {"lomas", "chapultepec"}
