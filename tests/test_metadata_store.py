"""The metadata store: records from a real SQLite file read on demand, memory-mapped
per-row columns, changes by article without a rebuild, reads from many threads."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer.errors import IndexCorruptError
from indexer.layout import ArticleHeading, ArticleRecord, PassageRecord
from indexer.metadata_store import MetadataStore, MetadataWriter, write_metadata_store
from indexer.names import WORD, case_counts

ARTICLES = [
    ArticleRecord(
        "en/attack.txt",
        "Attack on the security chief",
        "Gunmen attacked the convoy at dawn. The chief survived with three wounds.",
        "en",
        "2020-06-26",
        "wire",
        "https://example.org/attack",
    ),
    ArticleRecord(
        "es/ataque.txt",
        "Ataque contra García Harfuch",
        "El ataque ocurrió en la Ciudad de México. 🚨 Harfuch sobrevivió: «estoy bien».",
        "es",
        "2020-06-27",
        "diario",
        None,
    ),
    ArticleRecord("notes.md", "Notes", "Nothing dated here.", "en", None, None, None),
]


def split(article: ArticleRecord, first_row: int, parts: int) -> list[PassageRecord]:
    """`parts` passages that tile the text (offsets in characters, end exclusive)."""
    bounds = [round(i * len(article.text) / parts) for i in range(parts + 1)]
    return [
        PassageRecord(
            first_row + i, f"{article.id}#{i}", article.id, article.lang, bounds[i], bounds[i + 1]
        )
        for i in range(parts)
    ]


PASSAGES = split(ARTICLES[0], 0, 2) + split(ARTICLES[1], 2, 3) + split(ARTICLES[2], 5, 1)


@pytest.fixture()
def store_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "first"
    directory.mkdir()
    write_metadata_store(directory, ARTICLES, PASSAGES)
    return directory


def test_records_come_back_as_written(store_dir: Path) -> None:
    store = MetadataStore.open(store_dir)
    assert store.count == 6
    for article in ARTICLES:
        assert store.article(article.id) == article
    for passage in PASSAGES:
        assert store.passage(passage.row) == passage
    assert store.passages_of("es/ataque.txt") == PASSAGES[2:5]
    assert store.article("missing") is None and store.passage(99) is None
    assert store.passages_of("missing") == []
    assert store.sources() == ["diario", "wire"]
    assert store.languages == ["en", "es"]


def test_passage_text_is_cut_in_characters_like_python(store_dir: Path) -> None:
    store = MetadataStore.open(store_dir)
    texts = {article.id: article.text for article in ARTICLES}
    for passage in PASSAGES:  # the Spanish text has accents, an emoji and «»
        assert (
            store.passage_text(passage.row)
            == texts[passage.article_id][passage.start : passage.end]
        )
    assert store.passage_text(99) is None


def test_a_shown_passage_is_the_passage_its_heading_and_its_text_in_one_read(
    store_dir: Path,
) -> None:
    store = MetadataStore.open(store_dir)
    articles = {article.id: article for article in ARTICLES}
    for passage in PASSAGES:
        article = articles[passage.article_id]
        assert store.shown_passage(passage.row) == (
            passage,
            ArticleHeading(
                article.id, article.title, article.lang, article.date, article.source, article.url
            ),
            article.text[passage.start : passage.end],
        )
    assert store.shown_passage(99) is None


def test_a_page_of_shown_passages_is_one_read_of_each_row(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MetadataStore.open(store_dir)
    rows = [passage.row for passage in reversed(PASSAGES)]
    reads: list[str] = []
    sql = store._sql

    def counted(query: str, parameters: Sequence[object] = ()) -> list[Any]:
        reads.append(query)
        return sql(query, parameters)

    monkeypatch.setattr(store, "_sql", counted)
    shown = store.shown_passages([*rows, 99, rows[0]])  # 99: no such row; a repeat
    assert len(reads) == 1
    assert shown == {row: store.shown_passage(row) for row in rows}


def test_columns_are_memory_mapped_and_filter_rows(store_dir: Path) -> None:
    store = MetadataStore.open(store_dir)
    assert isinstance(store.row_lang, np.memmap)
    spanish = np.isin(store.row_lang, store.lang_codes(["es"]))
    assert np.flatnonzero(spanish).tolist() == [2, 3, 4]
    from_wire = np.isin(store.row_source, store.source_ids(["wire", "unknown"]))
    assert np.flatnonzero(from_wire).tolist() == [0, 1]
    assert store.row_source[5] == -1 and store.row_date[5] == -1
    assert store.row_date[2] == date(2020, 6, 27).toordinal()
    june_26 = store.row_date == date(2020, 6, 26).toordinal()
    assert np.flatnonzero(june_26).tolist() == [0, 1]
    assert store.row_article.tolist()[:5] == [store.row_article[0]] * 2 + [store.row_article[2]] * 3
    assert store.row_live.all()
    assert store.lang_codes(["fr"]) == [] and store.source_ids([]) == []


def test_replace_delete_and_insert_by_article_id(store_dir: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    writer = MetadataWriter.update(store_dir, second)
    assert writer.next_row == 6
    revised = ArticleRecord(
        "en/attack.txt", "Attack, revised", "New text entirely.", "en", "2020-07-01", "wire2", None
    )
    assert writer.put_article(revised, split(revised, 6, 1)) == [0, 1]
    assert writer.delete_article("notes.md") == [5]
    assert writer.delete_article("never-there") == []
    added = ArticleRecord("fr.txt", "Bonjour", "Le texte français.", "fr", None, None, None)
    assert writer.put_article(added, split(added, 7, 2)) == []
    writer.commit()

    store = MetadataStore.open(second)
    assert store.count == 9
    assert store.row_live.tolist() == [False, False, True, True, True, False, True, True, True]
    assert store.article("en/attack.txt") == revised
    assert store.article("notes.md") is None
    assert store.passage(0) is None and store.passage(5) is None
    assert [p.row for p in store.passages_of("en/attack.txt")] == [6]
    assert store.passage_text(6) == "New text entirely."
    assert store.passage_text(8) == added.text[9:]
    assert store.sources() == ["diario", "wire2"]
    assert store.row_source[6] in store.source_ids(["wire2"])
    assert store.row_lang[7] in store.lang_codes(["fr"])
    assert store.row_article[6] == MetadataStore.open(store_dir).row_article[0]  # same key
    assert MetadataStore.open(store_dir).article("notes.md") is not None  # the old one is intact


def _recounted(store: MetadataStore) -> dict[str, dict[str, tuple[int, int]]]:
    """Case counts summed over the stored articles from scratch, per language."""
    totals: dict[str, dict[str, tuple[int, int]]] = {}
    for article in store.articles():
        language = totals.setdefault(article.lang, {})
        for word, (up, low) in case_counts(article.text).items():
            old = language.get(word, (0, 0))
            language[word] = (old[0] + up, old[1] + low)
    return totals


def _without_notes(store_dir: Path, directory: Path) -> MetadataStore:
    """The store updated into `directory` with `notes.md` deleted, opened."""
    directory.mkdir()
    writer = MetadataWriter.update(store_dir, directory)
    writer.delete_article("notes.md")
    writer.commit()
    return MetadataStore.open(directory)


def _stored(store: MetadataStore, words: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    return {lang: store.case_words(words, lang=lang) for lang in ("en", "es", "fr")}


WORDS = sorted(
    {word.lower() for article in ARTICLES for word in WORD.findall(article.text)}
    | {"new", "text", "texte", "français", "attack", "chief", "ciudad", "harfuch"}
)


def test_case_counts_follow_every_change_without_a_recount(store_dir: Path, tmp_path: Path) -> None:
    """The counts name protection reads equal a count over the articles from
    scratch, after a build and after a replace, a delete and an insert; a word no
    article holds any more is gone."""
    store = MetadataStore.open(store_dir)
    assert store.has_case_words
    recounted = _recounted(store)
    assert _stored(store, WORDS) == {lang: recounted.get(lang, {}) for lang in ("en", "es", "fr")}
    # "Harfuch" starts a sentence (after "México."), so it is not counted
    assert store.case_words(["harfuch", "méxico", "ataque", "ataque"], lang="es") == {
        "méxico": (1, 0),
        "ataque": (0, 1),
    }
    second = tmp_path / "second"
    second.mkdir()
    writer = MetadataWriter.update(store_dir, second)
    revised = ArticleRecord(
        "en/attack.txt", "Attack", "New text about Kyiv.", "en", None, None, None
    )
    writer.put_article(revised, split(revised, 6, 1))
    writer.delete_article("notes.md")
    added = ArticleRecord("fr.txt", "Bonjour", "Le texte français.", "fr", None, None, None)
    writer.put_article(added, split(added, 7, 1))
    writer.commit()
    changed = MetadataStore.open(second)
    recounted = _recounted(changed)
    assert _stored(changed, [*WORDS, "kyiv", "about"]) == {
        lang: recounted.get(lang, {}) for lang in ("en", "es", "fr")
    }
    assert changed.case_words(["convoy", "kyiv"], lang="en") == {"kyiv": (1, 0)}


def test_a_store_written_before_case_counts_gains_them_at_its_next_change(
    store_dir: Path, tmp_path: Path
) -> None:
    with contextlib.closing(sqlite3.connect(store_dir / "metadata.sqlite")) as connection:
        connection.execute("DROP TABLE case_words")
        connection.commit()
    assert not MetadataStore.open(store_dir).has_case_words
    changed = _without_notes(store_dir, tmp_path / "second")
    assert changed.has_case_words
    recounted = _recounted(changed)
    assert _stored(changed, WORDS) == {lang: recounted.get(lang, {}) for lang in ("en", "es", "fr")}


def test_a_text_sample_is_everything_when_small_and_stops_once_enough_is_read(
    store_dir: Path, tmp_path: Path
) -> None:
    texts = sorted(article.text for article in ARTICLES)
    store = MetadataStore.open(store_dir)
    try:
        assert sorted(store.article_text_sample(10**6)) == texts
        first = list(store.article_text_sample(1))
        assert len(first) == 1 and first[0] in texts
        assert list(store.article_text_sample(1, seed=0)) == first  # a fixed seed, one sample
    finally:
        store.close()
    changed = _without_notes(store_dir, tmp_path / "second")
    try:
        assert sorted(changed.article_text_sample(10**6)) == [
            text for text in texts if text != ARTICLES[2].text
        ]
    finally:
        changed.close()


def test_rows_must_be_appended(store_dir: Path, tmp_path: Path) -> None:
    writer = MetadataWriter.update(store_dir, tmp_path)
    with pytest.raises(ValueError, match="passage rows must be 6"):
        writer.put_article(ARTICLES[2], split(ARTICLES[2], 3, 1))
    wrong_owner = [PassageRecord(6, "x#0", "someone-else", "en", 0, 3)]
    with pytest.raises(ValueError, match="names another article"):
        writer.put_article(ARTICLES[2], wrong_owner)


def test_a_full_write_rejects_passages_of_unknown_articles(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown articles"):
        write_metadata_store(tmp_path, ARTICLES[:1], PASSAGES)


def test_reads_from_many_threads(store_dir: Path) -> None:
    store = MetadataStore.open(store_dir)
    errors: list[str] = []

    def read() -> None:
        for _ in range(200):
            for passage in PASSAGES:
                if store.passage(passage.row) != passage:
                    errors.append(f"row {passage.row}")

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store.close()


def test_missing_or_inconsistent_files_are_corrupt(store_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError, match=r"metadata\.sqlite is missing"):
        MetadataStore.open(tmp_path)
    np.save(store_dir / "row_date.npy", np.zeros(2, dtype=np.int32))
    with pytest.raises(IndexCorruptError, match=r"row_date\.npy holds"):
        MetadataStore.open(store_dir)
    (store_dir / "row_lang.npy").unlink()
    with pytest.raises(IndexCorruptError, match="Rebuild"):
        MetadataStore.open(store_dir)
