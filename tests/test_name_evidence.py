"""Which words the index writes as names, and which query words are names to keep (pure)."""

from __future__ import annotations

import re

import pytest

from indexer.names import case_counts
from search.case_vocabulary import InMemoryCaseVocabulary
from search.name_evidence import keeps_name, name_positions, only_names
from search.name_masking import could_hold_placeholder, mask_spans, name_runs
from tests.names_corpus import vocabulary_of_both

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def vocabulary() -> InMemoryCaseVocabulary:
    return vocabulary_of_both()


def test_counts_skip_sentence_starts_and_headline_lines() -> None:
    counts = case_counts(
        "Drought Hits Sonora Farmers Hard\n"
        "HERMOSILLO, Sonora — The dams of Sonora ran dry. Sonora is dry: Dry land. "
        "«¿Quién dijo?» Nadie. The G20 met in 2023."
    )
    assert counts["sonora"] == (2, 0)  # the headline and the sentence start do not count
    assert counts["the"] == (1, 0)  # after a dash nothing forces a capital
    assert "hermosillo" not in counts  # a line's first word
    assert counts["dry"] == (0, 2)  # "Dry" after a colon is not counted
    assert "quién" not in counts and "nadie" not in counts and "drought" not in counts
    assert counts["g20"] == (1, 0) and "2023" not in counts


def test_vocabulary_adds_and_removes_articles_per_language() -> None:
    vocabulary = InMemoryCaseVocabulary()
    vocabulary.add("He met Lobo. Then he saw a wolf and Lobo again.", lang="en")
    vocabulary.add("Vio un lobo. Luego vio al comisario Lobo.", lang="es")
    assert vocabulary.case_counts(["lobo", "wolf", "nowhere"], lang="en") == {
        "lobo": (2, 0),
        "wolf": (0, 1),
    }
    assert vocabulary.case_counts(["lobo"], lang="es") == {"lobo": (1, 1)}
    vocabulary.remove("He met Lobo. Then he saw a wolf and Lobo again.", lang="en")
    assert vocabulary.case_counts(["lobo", "wolf"], lang="en") == {}
    assert vocabulary.case_counts(["lobo"], lang="fr") == {}


def _names(query: str, vocabulary: InMemoryCaseVocabulary, source: str, target: str) -> list[str]:
    forms = re.findall(r"[^\W_]+", query)
    positions = name_positions(forms, vocabulary, source=source, target=target)
    return [forms[position] for position in sorted(positions)]


@pytest.mark.parametrize(
    ("query", "source", "target", "names"),
    [
        ("sequía en Sonora", "es", "en", ["Sonora"]),
        ("sequía en sonora", "es", "en", ["sonora"]),  # one case only: the texts decide
        ("comisario Lobo", "es", "en", ["Lobo"]),
        ("lobo mexicano en Chihuahua", "es", "en", ["Chihuahua"]),  # typed as a word
        ("acuerdo de paz en Oaxaca", "es", "en", ["Oaxaca"]),
        ("Varsovia", "es", "en", []),  # the English texts write Warsaw
        ("drought in Sonora", "en", "es", ["Sonora"]),
        ("capital of Poland", "en", "es", []),
    ],
)
def test_a_name_is_what_the_target_texts_write_capitalised(
    vocabulary: InMemoryCaseVocabulary, query: str, source: str, target: str, names: list[str]
) -> None:
    assert _names(query, vocabulary, source, target) == names


def test_a_translation_into_a_word_never_beats_the_name(
    vocabulary: InMemoryCaseVocabulary,
) -> None:
    assert keeps_name("Sonora", "Audible", vocabulary, target="en")
    assert keeps_name("Lobo", "Wolf", vocabulary, target="en")  # "wolf" is a word there
    # Both are names in the English texts, which write Poland more often.
    assert not keeps_name("Polonia", "Poland", vocabulary, target="en")
    assert keeps_name("Sonora", "Sonora", vocabulary, target="en")


def test_a_query_of_names_only(vocabulary: InMemoryCaseVocabulary) -> None:
    both = ["en", "es"]
    assert only_names(["arturo", "lobo"], vocabulary, languages=both)
    assert only_names(["tierra", "caliente"], vocabulary, languages=both)
    assert not only_names(["comisario", "lobo"], vocabulary, languages=both)
    assert not only_names(["rosa", "lobo"], vocabulary, languages=both)  # never seen: no evidence
    assert not only_names([], vocabulary, languages=both)


def test_runs_of_names_share_one_placeholder_and_come_back() -> None:
    text = "violencia en Tierra Caliente y Loret de Mola"
    words = list(re.finditer(r"[^\W_]+", text))
    spans = name_runs(text, words, {2, 3, 5, 7})
    assert [text[start:end] for start, end in spans] == ["Tierra Caliente", "Loret", "Mola"]
    masked = mask_spans(text, spans)
    assert masked.text == "violencia en Zqxa y Zqxb de Zqxc"
    assert masked.translatable_words == ("violencia", "en", "y", "de")
    assert masked.restore("Violence in Zqxa and Zqxb of Zqxc") == (
        "Violence in Tierra Caliente and Loret of Mola"
    )
    assert masked.translated_words("Violence in Zqxa and ZQXB") == ["violence", "in", "and"]
    # A placeholder Apertium dropped: its name is appended, not lost.
    assert masked.restore("Violence in Zqxa and Zqxb of") == (
        "Violence in Tierra Caliente and Loret of Mola"
    )


def test_a_query_holding_a_placeholder_lookalike_is_not_masked() -> None:
    assert could_hold_placeholder("what is zqxa")
    assert not could_hold_placeholder("sequía en Sonora")
