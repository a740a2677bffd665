"""Passage embeddings and translations already computed, kept between builds and changes.

Encoding a passage (~30-130 ms on this 2-core machine) and translating it with
Apertium (~10 ms) are the costs of indexing; everything else is cheap. So both are
cached by what determines them: a vector by the encoder's identity (its exported
model's content hash, or its model reference) and the exact text it embedded; a
translation by the direction and the exact source text. A rebuild of unchanged
articles, or a change to one paragraph of a long article, then costs only the
passages whose text is new.

One SQLite file, `index/cache/encodings.sqlite`, outside the generations: it is
never part of what a search reads, only what a writer (who holds the build lock)
consults. Keys are BLAKE2b-128 digests of (space, text). WAL journaling: a writer
killed mid-change loses at most that change's new entries.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["CACHE_FILE", "EncodingCache"]

CACHE_FILE = Path("cache") / "encodings.sqlite"
_BATCH = 500  # keys per `IN (...)`
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS translations (key BLOB PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;
"""


class EncodingCache:
    """Vectors of one encoder (`vector_space`, `dimension`) and translations."""

    def __init__(self, index_dir: Path, *, vector_space: str, dimension: int) -> None:
        path = index_dir / CACHE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        # Shared by the build's translation thread and its encoding loop, one at a time.
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        self._connection.executescript(_SCHEMA)
        self._vector_space = f"vector {vector_space} {dimension}"
        self._dimension = dimension

    def vectors(self, texts: Sequence[str]) -> dict[int, npt.NDArray[np.float32]]:
        """Cached vectors by position in `texts`."""
        keys = [_key(self._vector_space, text) for text in texts]
        found = self._lookup("vectors", "vector", keys)
        return {
            position: np.frombuffer(found[key], dtype=np.float32).copy()
            for position, key in enumerate(keys)
            if key in found and len(found[key]) == 4 * self._dimension
        }

    def put_vectors(self, texts: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        rows = [
            (_key(self._vector_space, text), np.asarray(vector, dtype=np.float32).tobytes())
            for text, vector in zip(texts, vectors, strict=True)
        ]
        self._store("vectors", rows)

    def translations(self, texts: Sequence[str], *, source: str, target: str) -> dict[int, str]:
        """Cached translations by position in `texts`."""
        space = f"translation {source}-{target}"
        keys = [_key(space, text) for text in texts]
        found = self._lookup("translations", "text", keys)
        return {position: found[key] for position, key in enumerate(keys) if key in found}

    def put_translations(
        self, texts: Sequence[str], translations: Sequence[str | None], *, source: str, target: str
    ) -> None:
        """Only real translations are kept: a timeout (None) is tried again next time."""
        space = f"translation {source}-{target}"
        rows = [
            (_key(space, text), translation)
            for text, translation in zip(texts, translations, strict=True)
            if translation
        ]
        self._store("translations", rows)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> EncodingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lookup(self, table: str, column: str, keys: list[bytes]) -> dict[bytes, Any]:
        found: dict[bytes, Any] = {}
        unique = list(dict.fromkeys(keys))
        for at in range(0, len(unique), _BATCH):
            part = unique[at : at + _BATCH]
            marks = ", ".join("?" * len(part))
            query = f"SELECT key, {column} FROM {table} WHERE key IN ({marks})"
            with self._lock:
                found.update(self._connection.execute(query, part).fetchall())
        return found

    def _store(self, table: str, rows: Sequence[tuple[bytes, object]]) -> None:
        if rows:
            with self._lock:
                self._connection.execute("BEGIN")
                self._connection.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", rows)
                self._connection.execute("COMMIT")


def _key(space: str, text: str) -> bytes:
    return hashlib.blake2b(
        f"{space}\0{text}".encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()
