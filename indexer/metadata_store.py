"""Article and passage records read on demand, and the per-row columns filters use.

Parsing `articles.jsonl` and `passages.jsonl` into Python objects at start costs
~30 s and 1.7 GB for a million passages. Here the records live in SQLite
(`metadata.sqlite`), read one query at a time, and the per-row values a filter
needs are memory-mapped numpy columns, so opening a store costs the same at any
size:

    row_lang.npy     uint8   language code (see `languages`)
    row_source.npy   int32   source id (see `source_ids`), -1 when none
    row_date.npy     int32   the article's date as a proleptic ordinal, -1 when none
    row_article.npy  int32   the article's integer key (group passages without SQL)
    row_live.npy     bool    False for rows removed since the build
    row_content_free.npy bool True for content-free boilerplate (`indexer.boilerplate`)
    row_tiebreak.npy uint32  a hash of the passage id: equal scores rank by it, not by
                             row, so an index's order never depends on its history

Besides what a reader needs, the store keeps what an incremental change needs
(`indexer.update`): each passage's translation and lexical segment (a segment is
rewritten from here, without the model or Apertium, when one of its passages is
removed), each article's origin file and content hash, and the size and
modification time of source files (for tools; `indexer.sync` compares content hashes).
It also keeps name protection's evidence, `case_words`: per article language, how
often the archive writes each word capitalised and in lower case
(`indexer.names`), changed by each article added, replaced or removed. Counting it
when a server starts took 150-190 s (and a 2.5 GB peak) at a million passages.

Published generations never change, so readers open the database with
`mode=ro&immutable=1`: no file locks, no journal checks. That is safe only because
writing happens in a partial generation that no reader sees until it is published
(`indexer.layout`), and the writer leaves no journal behind (a crash there discards
the directory, so it runs without one). Lookup times were the same with and without
`immutable` (15-25 µs a passage at 100k rows).

Reads are thread-safe: a small pool of read-only connections, all opened with the
store, is shared by request threads, one connection per query at a time (sqlite3
connections must not be used by two threads at once; one connection behind a lock
serialises every request, as the scale benchmark before `make bench-scale` measured).
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import queue
import shutil
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import astuple
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.boilerplate import is_content_free
from indexer.errors import IndexCorruptError
from indexer.layout import ArticleHeading, ArticleRecord, GenerationPaths, PassageRecord
from indexer.lexical_segments import LexicalDocument
from indexer.names import case_counts

__all__ = [
    "MetadataStore",
    "MetadataWriter",
    "read_articles_store",
    "read_passages_store",
    "tiebreak_key",
    "write_metadata_store",
]

DATABASE_FILE = "metadata.sqlite"
_NONE = -1
# column name -> (array.array typecode, numpy dtype)
_COLUMNS = {
    "row_lang": ("B", np.uint8),
    "row_source": ("i", np.int32),
    "row_date": ("i", np.int32),
    "row_article": ("i", np.int32),
    "row_live": ("B", np.bool_),
    "row_content_free": ("B", np.bool_),
    "row_tiebreak": ("I", np.uint32),
}
# Per article language, how often the archive writes each word capitalised and in
# lower case (`indexer.names.case_counts`): name protection's evidence, kept up to
# date per article added, replaced or removed, so no server counts it at start-up.
_CASE_WORDS_SCHEMA = """
CREATE TABLE case_words (lang TEXT NOT NULL, word TEXT NOT NULL,
    capitalised INTEGER NOT NULL, lower INTEGER NOT NULL, PRIMARY KEY (lang, word))
    WITHOUT ROWID;
"""
_CASE_WORDS_EXIST = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_words'"
_CASE_WORDS_PENDING = 200_000  # (lang, word) changes held before they are written
_SCHEMA = (
    """
CREATE TABLE articles (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    text TEXT NOT NULL, lang TEXT NOT NULL, date TEXT, source TEXT, url TEXT,
    origin TEXT, content_hash TEXT);
CREATE INDEX articles_by_source ON articles (source);
CREATE INDEX articles_by_origin ON articles (origin);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT NOT NULL,
    article_id TEXT NOT NULL, lang TEXT NOT NULL, start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL, boilerplate TEXT, translation TEXT, segment TEXT);
CREATE INDEX passages_by_article ON passages (article_id, row);
CREATE INDEX passages_by_segment ON passages (segment, row);
CREATE TABLE source_files (path TEXT PRIMARY KEY, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL);
CREATE TABLE languages (code INTEGER PRIMARY KEY, lang TEXT NOT NULL UNIQUE);
CREATE TABLE sources (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE counts (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
    + _CASE_WORDS_SCHEMA
)
_CONNECTIONS = 8  # more than the service's request workers (4) + background work
_BATCH = 500  # ids per `IN (...)`: under SQLite's default limit of 999 parameters
_CODE_COLUMNS = {"languages": ("code", "lang"), "sources": ("id", "name")}
_ARTICLE = "SELECT id, title, text, lang, date, source, url FROM articles"
_PASSAGE = (
    "SELECT row, passage_id, article_id, lang, start_offset, end_offset, boilerplate FROM passages"
)
_SHOWN_PASSAGES = (
    "SELECT p.row, p.passage_id, p.article_id, p.lang, p.start_offset, p.end_offset, "
    "p.boilerplate, a.title, a.lang, a.date, a.source, a.url, "
    "substr(a.text, p.start_offset + 1, p.end_offset - p.start_offset) "
    "FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.row IN ({marks})"
)


def write_metadata_store(
    directory: Path, articles: Iterable[ArticleRecord], passages: Iterable[PassageRecord]
) -> None:
    """A new store for a full build; `passages` rows must be 0, 1, 2, ..."""
    by_article: dict[str, list[PassageRecord]] = {}
    for passage in passages:
        by_article.setdefault(passage.article_id, []).append(passage)
    writer = MetadataWriter.create(directory)
    pending = [(article, by_article.pop(article.id, [])) for article in articles]
    if by_article:
        raise ValueError(f"passages of unknown articles: {sorted(by_article)[:3]}")
    for article, own in sorted(pending, key=lambda item: item[1][0].row if item[1] else -1):
        writer.put_article(article, own)
    writer.commit()


class MetadataWriter:
    """Changes to a store in a directory no reader sees yet (a partial generation)."""

    def __init__(self, directory: Path, columns: dict[str, array.array[int]]) -> None:
        self._connection = sqlite3.connect(directory / DATABASE_FILE, isolation_level=None)
        self._connection.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN")
        self._directory = directory
        self._columns = columns
        self._codes: dict[tuple[str, str], int] = {}  # (table, name) -> code
        # (lang, word) -> [capitalised, lower] changes not yet in `case_words`
        self._case_changes: dict[tuple[str, str], list[int]] = {}

    @classmethod
    def create(cls, directory: Path) -> MetadataWriter:
        with contextlib.closing(sqlite3.connect(directory / DATABASE_FILE)) as connection:
            connection.executescript(_SCHEMA)
        return cls(directory, {name: array.array(code) for name, (code, _) in _COLUMNS.items()})

    @classmethod
    def update(cls, source: Path, directory: Path) -> MetadataWriter:
        """Start from the store in `source` (a published generation), written to `directory`."""
        shutil.copyfile(source / DATABASE_FILE, directory / DATABASE_FILE)
        columns = {
            name: array.array(code, np.load(source / f"{name}.npy").astype(dtype).tobytes())
            for name, (code, dtype) in _COLUMNS.items()
        }
        writer = cls(directory, columns)
        writer._add_missing_case_words()
        return writer

    @property
    def next_row(self) -> int:
        """The row the next inserted passage must have (rows are never reused)."""
        return len(self._columns["row_live"])

    def put_article(
        self,
        article: ArticleRecord,
        passages: Sequence[PassageRecord],
        *,
        translations: Sequence[str | None] | None = None,
        segment: str | None = None,
        origin: str | None = None,
        content_hash: str | None = None,
    ) -> list[int]:
        """Insert or replace an article and its passages; returns the replaced passages'
        rows (for `VectorSearcher.remove`). New rows must be `next_row`, `next_row + 1`, ...

        `translations`: each passage's text in the other primary language (or None);
        `segment`: the lexical segment its passages are indexed in; `origin`: the
        source file it was read from; `content_hash`: of what was read (see `indexer.sync`).
        """
        rows = [p.row for p in passages]
        if rows != list(range(self.next_row, self.next_row + len(rows))):
            raise ValueError(
                f"{article.id}: passage rows must be {self.next_row}..; got {rows[:3]}..."
            )
        if any(p.article_id != article.id for p in passages):
            raise ValueError(f"{article.id}: a passage names another article")
        translated = list(translations) if translations is not None else [None] * len(passages)
        if len(translated) != len(passages):
            raise ValueError(
                f"{article.id}: {len(translated)} translations for {len(rows)} passages"
            )
        removed = self._remove_passages(article.id)
        self._count_case_words_of(article.id, sign=-1)  # the version it replaces, if any
        self._count_case_words(article.text, article.lang, sign=1)
        sql = self._connection.execute
        key = sql(
            "INSERT INTO articles (id, title, text, lang, date, source, url, origin, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "title = excluded.title, text = excluded.text, lang = excluded.lang, "
            "date = excluded.date, source = excluded.source, url = excluded.url, "
            "origin = excluded.origin, content_hash = excluded.content_hash RETURNING key",
            (*astuple(article), origin, content_hash),  # the columns' order is the record's
        ).fetchone()[0]
        self._connection.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (*astuple(passage), translation, segment)
                for passage, translation in zip(passages, translated, strict=True)
            ],
        )
        source = self._code("sources", article.source) if article.source else _NONE
        ordinal = date.fromisoformat(article.date).toordinal() if article.date else _NONE
        for passage in passages:
            self._columns["row_lang"].append(self._code("languages", passage.lang))
            self._columns["row_source"].append(source)
            self._columns["row_date"].append(ordinal)
            self._columns["row_article"].append(key)
            self._columns["row_live"].append(1)
            self._columns["row_content_free"].append(is_content_free(passage.boilerplate))
            self._columns["row_tiebreak"].append(tiebreak_key(passage.passage_id))
        return removed

    def segment_sizes(self) -> dict[str, int]:
        """Live passages per lexical segment."""
        found = self._connection.execute(
            "SELECT segment, count(*) FROM passages WHERE segment IS NOT NULL GROUP BY segment"
        )
        return {str(segment): int(count) for segment, count in found}

    def segments_of(self, article_ids: Iterable[str]) -> set[str]:
        """The segments holding any passage of these articles."""
        ids = list(article_ids)
        found: set[str] = set()
        for at in range(0, len(ids), _BATCH):
            part = ids[at : at + _BATCH]
            marks = ", ".join("?" * len(part))
            found.update(
                str(segment)
                for (segment,) in self._connection.execute(
                    f"SELECT DISTINCT segment FROM passages WHERE article_id IN ({marks}) "
                    "AND segment IS NOT NULL",
                    part,
                )
            )
        return found

    def segment_documents(self, segments: Iterable[str]) -> list[LexicalDocument]:
        """The lexical documents of every live passage in `segments`, by row: what
        writing those segments again needs (texts and stored translations)."""
        names = list(segments)
        documents: list[LexicalDocument] = []
        for at in range(0, len(names), _BATCH):
            part = names[at : at + _BATCH]
            marks = ", ".join("?" * len(part))
            documents.extend(
                LexicalDocument(
                    row=row,
                    article_id=article_id,
                    lang=lang,
                    text=str(text),
                    translation=translation,
                    source=source,
                    date=day,
                )
                for row, article_id, lang, text, translation, source, day in self._execute(
                    "SELECT p.row, p.article_id, p.lang, "
                    "substr(a.text, p.start_offset + 1, p.end_offset - p.start_offset), "
                    "p.translation, a.source, a.date FROM passages p JOIN articles a "
                    f"ON a.id = p.article_id WHERE p.segment IN ({marks}) ORDER BY p.row",
                    part,
                )
            )
        return sorted(documents, key=lambda document: document.row)

    def _execute(self, query: str, parameters: Sequence[object]) -> sqlite3.Cursor:
        return self._connection.execute(query, parameters)

    def assign_segment(self, rows: Sequence[int], segment: str) -> None:
        self._connection.executemany(
            "UPDATE passages SET segment = ? WHERE row = ?", [(segment, row) for row in rows]
        )

    def record_source_files(self, files: Iterable[tuple[str, int, int]]) -> None:
        """(path, size in bytes, mtime in ns) of source files read in full."""
        self._connection.executemany(
            "INSERT OR REPLACE INTO source_files VALUES (?, ?, ?)", list(files)
        )

    def forget_source_files(self, paths: Iterable[str]) -> None:
        self._connection.executemany(
            "DELETE FROM source_files WHERE path = ?", [(path,) for path in paths]
        )

    def delete_article(self, article_id: str) -> list[int]:
        """Remove an article and its passages; returns the passages' rows ([] if unknown)."""
        self._count_case_words_of(article_id, sign=-1)
        self._connection.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return self._remove_passages(article_id)

    def commit(self) -> None:
        """Write the columns and the database; the writer cannot be used afterwards."""
        self._connection.execute(
            "INSERT OR REPLACE INTO counts VALUES ('rows', ?)", (self.next_row,)
        )
        self._write_case_words()
        self._connection.execute("COMMIT")
        self._connection.execute("PRAGMA optimize")
        self._connection.close()
        for name, (_, dtype) in _COLUMNS.items():
            np.save(self._directory / f"{name}.npy", np.frombuffer(self._columns[name], dtype))

    def _count_case_words_of(self, article_id: str, *, sign: int) -> None:
        found = self._connection.execute(
            "SELECT text, lang FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        if found is not None:
            self._count_case_words(str(found[0]), str(found[1]), sign=sign)

    def _count_case_words(self, text: str, lang: str, *, sign: int) -> None:
        changes = self._case_changes
        for word, (capitalised, lower) in case_counts(text).items():
            change = changes.setdefault((lang, word), [0, 0])
            change[0] += sign * capitalised
            change[1] += sign * lower
        if len(changes) > _CASE_WORDS_PENDING:
            self._write_case_words()

    def _write_case_words(self) -> None:
        """Add the pending changes to `case_words`; drop words no article has left."""
        changes = [
            (lang, word, up, low)
            for (lang, word), (up, low) in self._case_changes.items()
            if up or low
        ]
        self._case_changes = {}
        self._connection.executemany(
            "INSERT INTO case_words VALUES (?, ?, ?, ?) ON CONFLICT (lang, word) DO UPDATE SET "
            "capitalised = capitalised + excluded.capitalised, lower = lower + excluded.lower",
            changes,
        )
        self._connection.executemany(
            "DELETE FROM case_words WHERE lang = ? AND word = ? AND capitalised <= 0 "
            "AND lower <= 0",
            [(lang, word) for lang, word, up, low in changes if up < 0 or low < 0],
        )

    def _add_missing_case_words(self) -> None:
        """A store written before `case_words` existed gains it, counted over every
        article once (its next change pays what the servers paid at each start)."""
        exists = self._connection.execute(_CASE_WORDS_EXIST).fetchone()
        if exists:
            return
        self._connection.execute(_CASE_WORDS_SCHEMA)  # executescript would commit
        for text, lang in self._connection.execute("SELECT text, lang FROM articles ORDER BY key"):
            self._count_case_words(str(text), str(lang), sign=1)

    def _remove_passages(self, article_id: str) -> list[int]:
        sql = self._connection.execute
        found = sql("DELETE FROM passages WHERE article_id = ? RETURNING row", (article_id,))
        rows = sorted(row for (row,) in found)
        for row in rows:
            self._columns["row_live"][row] = 0
        return rows

    def _code(self, table: str, value: str) -> int:
        """The small integer standing for a language or a source in the columns."""
        code = self._codes.get((table, value))
        if code is None:
            code_column, name_column = _CODE_COLUMNS[table]
            sql = self._connection.execute
            found = sql(f"SELECT {code_column} FROM {table} WHERE {name_column} = ?", (value,))
            row = (
                found.fetchone()
                or sql(
                    f"INSERT INTO {table} ({name_column}) VALUES (?) RETURNING {code_column}",
                    (value,),
                ).fetchone()
            )
            code = self._codes[(table, value)] = int(row[0])
        if table == "languages" and code > np.iinfo(np.uint8).max:
            raise ValueError(f"more than 255 languages; {value!r} has no code")
        return code


class MetadataStore:
    """One generation's records, read-only, safe to share between request threads."""

    def __init__(self, columns: dict[str, npt.NDArray[Any]], *, uri: str) -> None:
        self._uri = uri
        # Opened now, not per thread on first use: a generation may be pruned (its
        # file unlinked) while a server still answers from it for a moment, and an
        # open connection keeps reading an unlinked file; a new one could not open it.
        self._connections = [
            sqlite3.connect(uri, uri=True, check_same_thread=False) for _ in range(_CONNECTIONS)
        ]
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        for connection in self._connections:
            self._idle.put(connection)
        self.row_lang: npt.NDArray[np.uint8] = columns["row_lang"]
        self.row_source: npt.NDArray[np.int32] = columns["row_source"]
        self.row_date: npt.NDArray[np.int32] = columns["row_date"]
        self.row_article: npt.NDArray[np.int32] = columns["row_article"]
        self.row_live: npt.NDArray[np.bool_] = columns["row_live"]
        self.row_content_free: npt.NDArray[np.bool_] = columns["row_content_free"]
        self.row_tiebreak: npt.NDArray[np.uint32] = columns["row_tiebreak"]
        self._lang_codes: dict[str, int] = dict(self._sql("SELECT lang, code FROM languages"))

    @classmethod
    def open(cls, directory: Path, *, immutable: bool = True) -> MetadataStore:
        """`immutable`: the files will not change while open (true of a published
        generation); SQLite then skips locking and change detection."""
        path = directory / DATABASE_FILE
        if not path.is_file():
            raise _corrupt(f"{path} is missing")
        uri = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            columns = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in _COLUMNS}
            store = cls(columns, uri=uri)
            (rows,) = store._sql("SELECT value FROM counts WHERE name = 'rows'")[0]
        except (OSError, ValueError, IndexError, sqlite3.DatabaseError) as error:
            raise _corrupt(f"cannot read the metadata store in {directory} ({error})") from error
        for name, (_, dtype) in _COLUMNS.items():
            column = columns[name]
            if column.shape != (rows,) or column.dtype != dtype:
                raise _corrupt(f"{name}.npy holds {column.shape} {column.dtype}, not {rows} rows")
        return store

    @property
    def count(self) -> int:
        """Passage rows, removed ones included (row ids are 0..count-1)."""
        return len(self.row_live)

    def article(self, article_id: str) -> ArticleRecord | None:
        found = self._sql(_ARTICLE + " WHERE id = ?", (article_id,))
        return ArticleRecord(*found[0]) if found else None

    def passage(self, row: int) -> PassageRecord | None:
        found = self._sql(_PASSAGE + " WHERE row = ?", (row,))
        return PassageRecord(*found[0]) if found else None

    def passages_of(self, article_id: str) -> list[PassageRecord]:
        return [
            PassageRecord(*found)
            for found in self._sql(_PASSAGE + " WHERE article_id = ? ORDER BY row", (article_id,))
        ]

    def shown_passage(self, row: int) -> tuple[PassageRecord, ArticleHeading, str] | None:
        """A search result's data: the passage, its article's heading and its
        characters (cut by SQLite), never the article's whole text."""
        return self.shown_passages([row]).get(row)

    def shown_passages(
        self, rows: Collection[int]
    ) -> dict[int, tuple[PassageRecord, ArticleHeading, str]]:
        """`shown_passage` of each row, for a page of results in one query; rows with
        no passage are left out. Three queries per result (passage, article,
        passage_text) cost 3x the SQLite round trips, and `article` copied the whole
        text out, megabytes for a long article, to show its title. One query per
        result still released and retook the GIL for each: with 4 requests at once,
        each retake waited on another request's Python."""
        distinct = list(dict.fromkeys(rows))
        shown: dict[int, tuple[PassageRecord, ArticleHeading, str]] = {}
        for at in range(0, len(distinct), _BATCH):
            part = distinct[at : at + _BATCH]
            marks = ", ".join("?" * len(part))
            for values in self._sql(_SHOWN_PASSAGES.format(marks=marks), part):
                shown[int(values[0])] = (
                    PassageRecord(*values[:7]),
                    ArticleHeading(values[2], *values[7:12]),
                    str(values[12]),
                )
        return shown

    def passage_text(self, row: int) -> str | None:
        """The passage's characters, cut by SQLite (substr counts characters, like str)."""
        found = self._sql(
            "SELECT substr(a.text, p.start_offset + 1, p.end_offset - p.start_offset) "
            "FROM passages p JOIN articles a ON a.id = p.article_id WHERE p.row = ?",
            (row,),
        )
        return str(found[0][0]) if found else None

    @property
    def has_case_words(self) -> bool:
        """The store keeps name protection's case counts (stores written before it
        existed do not)."""
        return bool(self._sql(_CASE_WORDS_EXIST))

    def case_words(self, words: Sequence[str], *, lang: str) -> dict[str, tuple[int, int]]:
        """(capitalised, lower-case) counts of lowercased `words` in `lang` articles;
        words no such article contains are left out."""
        distinct = list(dict.fromkeys(words))
        found: dict[str, tuple[int, int]] = {}
        for at in range(0, len(distinct), _BATCH):
            part = distinct[at : at + _BATCH]
            marks = ", ".join("?" * len(part))
            for word, capitalised, lower in self._sql(
                "SELECT word, capitalised, lower FROM case_words "
                f"WHERE lang = ? AND word IN ({marks})",
                [lang, *part],
            ):
                found[str(word)] = (int(capitalised), int(lower))
        return found

    def articles(self) -> Iterator[ArticleRecord]:
        """Every article, in the order they were stored (a build stores them in source
        order), streamed: a million articles' texts never sit in memory."""
        for found in self._stream(_ARTICLE + " ORDER BY key"):
            yield ArticleRecord(*found)

    def article_text_sample(self, characters: int, *, seed: int = 0) -> Iterator[str]:
        """Article texts in a random order (fixed by `seed`) until at least
        `characters` have been read; every article when they hold fewer. The cost
        follows `characters`, not the archive: keys are drawn, then read in batches
        by primary key (a removed article's key reads nothing)."""
        (top,) = self._sql("SELECT coalesce(max(key), 0) FROM articles")[0]
        keys = np.random.default_rng(seed).permutation(int(top)) + 1
        read = 0
        for at in range(0, len(keys), _BATCH):
            part = [int(key) for key in keys[at : at + _BATCH]]
            marks = ", ".join("?" * len(part))
            for (text,) in self._sql(f"SELECT text FROM articles WHERE key IN ({marks})", part):
                yield str(text)
                read += len(text)
                if read >= characters:
                    return

    def passages(self) -> Iterator[PassageRecord]:
        """Every live passage, by row."""
        for found in self._stream(_PASSAGE + " ORDER BY row"):
            yield PassageRecord(*found)

    def article_count(self) -> int:
        return int(self._sql("SELECT count(*) FROM articles")[0][0])

    def article_columns(self) -> list[tuple[int, str, str | None, str | None]]:
        """(key, lang, source, date) of every article: what `row_article` points to."""
        return [
            (int(key), str(lang), source, day)
            for key, lang, source, day in self._sql("SELECT key, lang, source, date FROM articles")
        ]

    def language_codes(self) -> dict[str, int]:
        """Language -> its small integer in `row_lang`."""
        return dict(self._lang_codes)

    def translated_count(self) -> int:
        """Live passages stored with a translation."""
        found = self._sql("SELECT count(*) FROM passages WHERE translation IS NOT NULL")
        return int(found[0][0])

    def article_origins(self) -> dict[str, tuple[str | None, str | None]]:
        """Article id -> (origin file, content hash), for `indexer.sync`."""
        return {
            str(article_id): (origin, content_hash)
            for article_id, origin, content_hash in self._sql(
                "SELECT id, origin, content_hash FROM articles"
            )
        }

    def source_files(self) -> dict[str, tuple[int, int]]:
        """Source file path -> (size, mtime_ns) when it was last read in full."""
        return {
            str(path): (int(size), int(mtime))
            for path, size, mtime in self._sql("SELECT path, size, mtime_ns FROM source_files")
        }

    def translations(self, rows: Sequence[int]) -> dict[int, str]:
        """Stored passage translations (the other primary language) of these rows."""
        found: dict[int, str] = {}
        for at in range(0, len(rows), _BATCH):
            part = list(rows[at : at + _BATCH])
            marks = ", ".join("?" * len(part))
            found.update(
                (int(row), str(text))
                for row, text in self._sql(
                    f"SELECT row, translation FROM passages WHERE row IN ({marks}) "
                    "AND translation IS NOT NULL",
                    part,
                )
            )
        return found

    def sources(self) -> list[str]:
        """Sources of the articles present now, sorted."""
        sql = "SELECT DISTINCT source FROM articles WHERE source IS NOT NULL ORDER BY source"
        return [name for (name,) in self._sql(sql)]

    @property
    def languages(self) -> list[str]:
        """Languages of the rows ever written, sorted."""
        return sorted(self._lang_codes)

    def lang_codes(self, langs: Iterable[str]) -> list[int]:
        """Codes for `row_lang`; unknown languages have none (they match no row)."""
        return [self._lang_codes[lang] for lang in langs if lang in self._lang_codes]

    def source_ids(self, sources: Iterable[str]) -> list[int]:
        """Ids for `row_source`; unknown sources have none (they match no row)."""
        names = list(sources)
        marks = ", ".join("?" * len(names))
        return [i for (i,) in self._sql(f"SELECT id FROM sources WHERE name IN ({marks})", names)]

    def close(self) -> None:
        for connection in self._connections:
            connection.close()

    def _stream(self, query: str) -> Iterator[Any]:
        """Rows one at a time (a million articles never sit in memory), holding one
        pooled connection until the iteration ends."""
        connection = self._idle.get()
        try:
            yield from connection.execute(query)
        finally:
            self._idle.put(connection)

    def _sql(self, query: str, parameters: Sequence[object] = ()) -> list[Any]:
        connection = self._idle.get()  # waits while every connection is in use
        try:
            return connection.execute(query, parameters).fetchall()
        finally:
            self._idle.put(connection)


def tiebreak_key(passage_id: str) -> int:
    """A stable 32-bit hash of a passage id (BLAKE2b): the order among equal scores."""
    return int.from_bytes(hashlib.blake2b(passage_id.encode(), digest_size=4).digest(), "little")


def read_articles_store(paths: GenerationPaths) -> list[ArticleRecord]:
    """Every article of a generation, by id (for tools and tests: loads them all)."""
    store = MetadataStore.open(paths.root)
    try:
        return list(store.articles())
    finally:
        store.close()


def read_passages_store(paths: GenerationPaths) -> list[PassageRecord]:
    """Every live passage of a generation, by row (for tools and tests)."""
    store = MetadataStore.open(paths.root)
    try:
        return list(store.passages())
    finally:
        store.close()


def _corrupt(message: str) -> IndexCorruptError:
    return IndexCorruptError(f"Metadata store: {message}. Rebuild with: python -m indexer build")
