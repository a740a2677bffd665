"""Names survive query translation, with the real Apertium and a real index.

Apertium turned "sequía en Sonora" into "Drought in Audible" and "comisario Lobo"
into "Commissioner Wolf". These pin that the placeholders pass both directions
unchanged, that names the index writes capitalised come back as typed, and that
everything else (Varsovia -> Warsaw, words, names Apertium knows) still translates.
"""

from __future__ import annotations

import pytest

from indexer.translation import ApertiumTranslator
from search.case_vocabulary import InMemoryCaseVocabulary
from search.engine import SearchEngine
from search.models import SearchRequest
from search.query_translation import QueryTranslator
from tests.corpus import write_corpus
from tests.names_corpus import ENGLISH, SPANISH, vocabulary_of_both

OTHER = (
    "Avocado exports rise\n\n"
    "Farmers in Michoacán shipped more avocados this year, and the ports were busy."
)

if not ApertiumTranslator.is_available():
    pytest.skip(
        "Apertium eng-spa is not installed (apt-get install apertium-eng-spa)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def vocabulary() -> InMemoryCaseVocabulary:
    return vocabulary_of_both()


@pytest.fixture(scope="module")
def queries(translator: ApertiumTranslator) -> QueryTranslator:
    return QueryTranslator(translator)


@pytest.mark.parametrize(
    ("text", "source", "target", "expected"),
    [
        ("sequía en Zqxa", "es", "en", "Drought in Zqxa"),
        ("¿Quién es Zqxa?", "es", "en", "Who is Zqxa?"),
        ("huracán Zqxa y Zqxb", "es", "en", "Hurricane Zqxa and Zqxb"),
        ("Zqxa cartel", "en", "es", "Zqxa Cártel"),
        ("drought in Zqxa", "en", "es", "Sequía en Zqxa"),
        ("Hurricane Zqxa Zqxb", "en", "es", "Huracán Zqxa Zqxb"),
    ],
)
def test_placeholders_pass_both_directions_unchanged(
    translator: ApertiumTranslator, text: str, source: str, target: str, expected: str
) -> None:
    assert translator.translate(text, source=source, target=target) == expected


@pytest.mark.parametrize(
    ("query", "target", "expected"),
    [
        ("sequía en Sonora", "en", "Drought in Sonora"),
        ("sequía en sonora", "en", "Drought in sonora"),
        ("comisario Lobo", "en", "Commissioner Lobo"),
        ("violencia en Tierra Caliente", "en", "Violence in Tierra Caliente"),
        ("lluvia en Varsovia", "en", "Rain in Warsaw"),
        ("drought in Sonora", "es", "Sequía en Sonora"),
    ],
)
def test_names_the_index_writes_capitalised_are_kept(
    queries: QueryTranslator,
    vocabulary: InMemoryCaseVocabulary,
    query: str,
    target: str,
    expected: str,
) -> None:
    assert queries.translate(query, names=vocabulary).texts.get(target) == expected


def test_without_the_index_names_are_translated(queries: QueryTranslator) -> None:
    assert queries.translate("sequía en Sonora").texts == {"en": "Drought in Audible"}


def test_a_name_apertium_keeps_is_not_masked(
    queries: QueryTranslator, vocabulary: InMemoryCaseVocabulary
) -> None:
    """Masking would cost Apertium's grammar ("del Guadalajara" at the end)."""
    query = "Who attacked the Guadalajara police chief?"
    assert queries.translate(query, names=vocabulary) == queries.translate(query)


def test_only_names_left_means_no_translation(
    queries: QueryTranslator, vocabulary: InMemoryCaseVocabulary
) -> None:
    """ "Tierra Caliente" was searched as "Hot earth"; "Arturo Lobo" as "Arturo Wolf"."""
    assert queries.translate("Tierra Caliente", names=vocabulary).texts == {}
    assert queries.translate("Arturo Lobo", names=vocabulary).texts == {}


@pytest.fixture(scope="module")
def engine(tmp_path_factory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("names")
    articles = {"en/sonora.txt": ENGLISH, "es/sonora.txt": SPANISH, "en/other.txt": OTHER}
    build([write_corpus(root / "corpus", articles)], root / "index", translation="auto")
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


def test_the_engine_keeps_names_of_its_own_index(engine: SearchEngine) -> None:
    response = engine.search(SearchRequest(query="sequía en Sonora", mode="hybrid"))
    assert response.translations == {"en": "Drought in Sonora"}
    assert {result.article_id for result in response.results[:2]} == {
        "en/sonora.txt",
        "es/sonora.txt",
    }


def test_a_query_of_names_only_is_answered_by_the_passages_holding_them(
    engine: SearchEngine,
) -> None:
    """The semantic leg's ranking of "Arturo Lobo" is noise; hybrid keeps the lexical
    one. A query with a word besides its names still fuses both legs."""
    names = engine.search(SearchRequest(query="Arturo Lobo", mode="hybrid"))
    lexical = engine.search(SearchRequest(query="Arturo Lobo", mode="lexical"))
    assert [r.passage_id for r in names.results] == [r.passage_id for r in lexical.results]
    assert all(result.semantic is None for result in names.results)
    worded = engine.search(SearchRequest(query="comisario Arturo Lobo", mode="hybrid"))
    assert any(result.semantic is not None for result in worded.results)
