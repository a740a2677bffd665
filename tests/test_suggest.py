"""The did-you-mean suggester: each word's correction remembered per generation, and none
for a word the query's translation changed."""

from __future__ import annotations

from pathlib import Path

import pytest

import search.suggest
from search.engine import EngineOptions, SearchEngine
from search.models import Correction, Suggestion
from search.query_parser import parse_query
from search.suggest import Suggester, without_known_words
from tests.corpus import write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

FLOODS = {"en/floods.txt": "Floods\n\nHeavy flooding hit the coast of Acapulco on Monday.\n"}
TYPO = {"en/typo.txt": "River\n\nThe flodding of the river closed two roads.\n"}


def _snapshot(root: Path, articles: dict[str, str]):  # type: ignore[no-untyped-def]
    encoder = FakeEncoder()
    build_fake_index([write_corpus(root / "corpus", articles)], root / "index", encoder=encoder)
    options = EngineOptions(query_translation=False)
    return SearchEngine(root / "index", options=options, encoder=encoder).snapshot  # type: ignore[arg-type]


def test_a_word_is_looked_up_once_per_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = _snapshot(tmp_path / "without", FLOODS)
    holding = _snapshot(tmp_path / "holding", {**FLOODS, **TYPO})  # "flodding" is a word here
    looked_up: list[tuple[str, str]] = []
    unmatched = search.suggest._unmatched

    def counted(snapshot, word):  # type: ignore[no-untyped-def]
        looked_up.append((snapshot.generation, word))
        return unmatched(snapshot, word)

    monkeypatch.setattr(search.suggest, "_unmatched", counted)
    suggester = Suggester()
    query = "flodding coast"
    for _ in range(2):
        suggestion = suggester.suggest(without, parse_query(query), query)
        assert suggestion is not None and suggestion.query == "flooding coast"
    assert looked_up == [(without.generation, "flodding"), (without.generation, "coast")]
    assert suggester.suggest(holding, parse_query(query), query) is None  # its own answer
    assert len(looked_up) == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flodding?", "flooding?"),
        ("¿flodding en la costa?", "¿flooding en la costa?"),
        ("flodding, coast", "flooding, coast"),
        ("river-flodding", "river-flooding"),
    ],
)
def test_a_word_next_to_punctuation_is_corrected(tmp_path: Path, query: str, expected: str) -> None:
    """The query parser keeps punctuation on a term ("flodding?"); the analyzer splits
    it off, and so does the suggester, which once passed such a term over."""
    snapshot = _snapshot(tmp_path, FLOODS)
    suggestion = Suggester().suggest(snapshot, parse_query(query), query)
    assert suggestion is not None and suggestion.query == expected
    assert [c.word for c in suggestion.corrections] == ["flodding"]


SUGGESTED = Suggestion(
    query="cosecha de case en Acapulko",
    corrections=[
        Correction(word="café", suggestion="case"),
        Correction(word="Acapulko", suggestion="Acapulco"),
    ],
)


@pytest.mark.parametrize(
    ("translations", "expected"),
    [
        # Apertium knew "café", and passed the unknown "Acapulko" through
        (
            {"en": "Harvest of coffee in Acapulko"},
            Suggestion(
                query="cosecha de café en Acapulco",
                corrections=[Correction(word="Acapulko", suggestion="Acapulco")],
            ),
        ),
        ({"en": "Harvest of café in Acapulko"}, SUGGESTED),  # both passed through
        ({"en": "Harvest of coffee in Acapulco"}, None),  # both changed: nothing left
        ({}, SUGGESTED),  # nothing translated: nothing to tell them apart
    ],
)
def test_a_word_the_translation_changed_is_not_corrected(
    translations: dict[str, str], expected: Suggestion | None
) -> None:
    query = "cosecha de café en Acapulko"
    assert without_known_words(SUGGESTED, query, translations) == expected
    assert without_known_words(None, query, translations) is None
