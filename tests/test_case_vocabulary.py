"""Case counts of the archive's words, counted at load or in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from indexer.layout import ArticleRecord
from indexer.metadata_store import MetadataStore, MetadataWriter
from search.case_vocabulary import (
    BackgroundCaseVocabulary,
    InMemoryCaseVocabulary,
    StoredCaseVocabulary,
)

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


def test_stored_counts_are_the_stores_and_each_word_is_looked_up_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = MetadataWriter.create(tmp_path)
    writer.put_article(_article("La sequía en Sonora. Sonora pide agua."), [])
    writer.commit()
    store = MetadataStore.open(tmp_path)
    words = ["sonora", "pide", "luna"]
    expected = store.case_words(words, lang="es")
    assert set(expected) == {"sonora", "pide"}  # no text has "luna"
    looked_up: list[list[str]] = []
    lookup = store.case_words

    def counted(words: Sequence[str], *, lang: str) -> dict[str, tuple[int, int]]:
        looked_up.append(list(words))
        return lookup(words, lang=lang)

    monkeypatch.setattr(store, "case_words", counted)
    vocabulary = StoredCaseVocabulary(store)
    assert vocabulary.case_counts(words, lang="es") == expected
    assert vocabulary.case_counts(["luna", "sonora"], lang="es") == {"sonora": expected["sonora"]}
    assert looked_up == [words]  # the second answer, "luna"'s absence too, from memory
    assert vocabulary.case_counts(["sonora", "agua"], lang="en") == {}
    assert looked_up == [words, ["sonora", "agua"]]  # another language: asked
