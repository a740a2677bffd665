"""Names survive query translation, with the real Apertium and a real index.

Apertium turned "sequía en Sonora" into "Drought in Audible" and "comisario Lobo"
into "Commissioner Wolf". These pin that the placeholders pass both directions
unchanged, that names the index writes capitalised come back as typed, and that
everything else (Varsovia -> Warsaw, words, names Apertium knows) still translates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.translation import ApertiumTranslator
from search.case_vocabulary import InMemoryCaseVocabulary
from search.engine import SearchEngine
from search.models import SearchRequest
from search.query_translation import QueryTranslator
from tests.corpus import write_corpus
from tests.names_corpus import ENGLISH, SPANISH, vocabulary_of_both

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


def test_the_engine_keeps_names_of_its_own_index(
    tmp_path: Path, build, encoder, translator: ApertiumTranslator
) -> None:  # type: ignore[no-untyped-def]
    corpus = write_corpus(tmp_path / "corpus", {"en/sonora.txt": ENGLISH, "es/sonora.txt": SPANISH})
    build([corpus], tmp_path / "index", translation="auto")
    with_names = SearchEngine(tmp_path / "index", encoder=encoder, translator=translator)
    response = with_names.search(SearchRequest(query="sequía en Sonora", mode="hybrid"))
    assert response.translations == {"en": "Drought in Sonora"}
    assert {result.article_id for result in response.results[:2]} == {
        "en/sonora.txt",
        "es/sonora.txt",
    }
