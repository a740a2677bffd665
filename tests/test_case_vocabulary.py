"""Case counts of the archive's words, counted at load or in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from indexer.layout import ArticleRecord
from search.case_vocabulary import BackgroundCaseVocabulary, InMemoryCaseVocabulary

pytestmark = pytest.mark.fast


def _article(text: str) -> ArticleRecord:
    return ArticleRecord(id="a", title="", text=text, lang="es", date=None, source=None, url=None)


def test_a_background_count_says_when_it_is_ready() -> None:
    release = threading.Event()

    def articles() -> Iterator[ArticleRecord]:
        release.wait(timeout=30)
        yield _article("La sequía en Sonora. Sonora pide agua.")

    vocabulary = BackgroundCaseVocabulary(articles)
    assert not vocabulary.ready
    assert vocabulary.case_counts(["sonora"], lang="es") == {}  # nothing known yet
    release.set()
    for _ in range(300):
        if vocabulary.ready:
            break
        threading.Event().wait(0.01)
    assert vocabulary.ready
    assert vocabulary.case_counts(["sonora"], lang="es") == {
        "sonora": (1, 0)
    }  # articles, not occurrences
    assert InMemoryCaseVocabulary().ready
