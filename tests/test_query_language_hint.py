"""The guess that decides whether a query is embedded while it is translated."""

from __future__ import annotations

import pytest

from search.query_language_hint import evident_language, may_be_spanish

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "query",
    [
        "¿Cuántos votantes hubo?",
        "sequía en Sonora",
        "los votantes eligen al próximo presidente",
        "CJNG cartel de Jalisco",
        "extorsion a comerciantes por el crimen",
        "AÑO ELECTORAL",
        "Omar García Harfuch",  # an accented name: waits for translation; slower, same result
    ],
)
def test_spanish_queries_are_not_embedded_ahead(query: str) -> None:
    assert may_be_spanish(query)


@pytest.mark.parametrize(
    "query",
    [
        "voters ballots",
        "Who won the 2024 election?",
        "hurricane landfall on the coast",
    ],
)
def test_english_queries_are_embedded_ahead(query: str) -> None:
    assert not may_be_spanish(query)


@pytest.mark.parametrize(
    ("query", "language"),
    [
        ("Who won the 2024 election?", "en"),
        ("hurricane landfall on the coast", "en"),
        ("How many points did the Panthers defense surrender?", "en"),
        ("¿Cuántos votantes hubo?", "es"),
        ("sequía en Sonora", "es"),  # a function word and a Spanish letter
        ("los votantes eligen al próximo presidente", "es"),
        ("extorsion a comerciantes por el crimen", "es"),  # two function words
        ("Los Angeles wildfires", None),  # one function word, likely a name's
        ("Banco de Mexico", None),
        ("the exile of José Martí", None),  # English words, a Spanish name
        ("CJNG cartel", None),  # no function word either way
        ("sequía Sonora", None),
        ("the cartel de Sinaloa", None),  # both
        ("", None),
    ],
)
def test_the_evident_language_comes_from_function_words(query: str, language: str | None) -> None:
    assert evident_language(query) == language
