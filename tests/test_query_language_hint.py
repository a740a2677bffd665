"""The guess that decides whether a query is embedded while it is translated."""

from __future__ import annotations

import pytest

from search.query_language_hint import may_be_spanish

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
