"""The BM25 index as a set of immutable tantivy segments shared between generations.

A tantivy index directory is `meta.json` (the schema and the list of segments)
plus each segment's files (`<segment id>.idx`, `.pos`, `.term`, ...), which
tantivy never changes once written. So a new generation's index is composed, not
rebuilt: its `tantivy/` hard-links the segment files it keeps from the previous
generation, adds the files of one new segment written for the change, and gets a
`meta.json` listing exactly those segments. A change costs the new segment, not
the archive.

No segment ever carries deletes. tantivy's BM25 statistics (document count,
document frequency, average field length) count deleted documents until a merge
drops them, so an index with deletes scores differently from a fresh build of the
same passages. Instead, a segment that loses a passage is written again without it
(`indexer.update` reads its other passages back from the metadata store, with
their stored translations: no model, no Apertium), and the statistics stay equal
to a full build's. Segments are kept small (`MAX_SEGMENT_ROWS`) so that rewriting
one stays cheap, and small ones are folded together (`segments_to_fold`) so their
number stays bounded.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tantivy

from indexer.analysis import (
    TRANSLATED_FIELD_BY_LANGUAGE,
    build_schema,
    field_for_language,
    register_analyzers,
)
from indexer.errors import IndexCorruptError

__all__ = [
    "MAX_SEGMENT_ROWS",
    "LexicalDocument",
    "compose_index",
    "read_segments",
    "segment_files",
    "segment_rows",
    "segments_to_fold",
    "write_segments",
]

# Passages per segment written in one go; rewriting one to drop a removed passage
# re-indexes at most this many (~8,000 passages/s on one core: about 2 s). Each
# segment costs every query a fixed share (its term dictionaries are looked up for
# every query word and field): at 100k passages, 26 segments of 4,096 against 4 of
# 32,768 made a lexical search 17.7 against 13.8 ms p50 (same index, alternating).
# 16,384 keeps a 1M-passage build at ~62 segments instead of ~245.
MAX_SEGMENT_ROWS = 16_384
# More segments than this and the smallest are folded into the change's new one.
MAX_SEGMENTS = 64
# tantivy flushes a segment of its own when its heap fills, and a batch must be one
# segment: 1 GB held 32,768 XQuAD-sized passages; pages are taken as they are used.
_WRITER_HEAP_BYTES = 512 * 1024 * 1024
_PRIMARY = ("en", "es")
_TANTIVY_OWN_FILES = ("meta.json", ".managed.json", ".tantivy-meta.lock", ".tantivy-writer.lock")


@dataclass(frozen=True, slots=True)
class LexicalDocument:
    """One passage as the BM25 index holds it."""

    row: int
    article_id: str
    lang: str
    text: str
    translation: str | None  # into the other primary language
    source: str | None
    date: str | None  # ISO date of the article


def write_segments(directory: Path, documents: Sequence[LexicalDocument]) -> list[dict[str, Any]]:
    """Index `documents` into a fresh tantivy index in `directory`, one segment per
    `MAX_SEGMENT_ROWS` documents; returns the segments' `meta.json` entries."""
    max_rows = MAX_SEGMENT_ROWS
    directory.mkdir(parents=True)
    index = tantivy.Index(build_schema(), path=str(directory))
    register_analyzers(index)
    writer = index.writer(heap_size=_WRITER_HEAP_BYTES, num_threads=1)
    for at in range(0, len(documents), max_rows):
        for document in documents[at : at + max_rows]:
            writer.add_document(_tantivy_document(document))
        writer.commit()  # one commit, one segment (the heap holds a whole batch)
    writer.wait_merging_threads()
    segments: list[dict[str, Any]] = _read_meta(directory)["segments"]
    if any(segment.get("deletes") for segment in segments):
        raise AssertionError("a freshly written segment has deletes")
    return segments


def compose_index(
    target: Path, parts: Iterable[tuple[Path, Sequence[Mapping[str, Any]]]], *, like: Path
) -> None:
    """A tantivy index in `target` made of the given segments of other indexes.

    `parts`: (index directory, the segment entries to take from it). Files are
    hard-linked (copied where the filesystem cannot link). `like`: an index whose
    `meta.json` gives the schema and settings."""
    target.mkdir(parents=True)
    meta = _read_meta(like)
    segments: list[Mapping[str, Any]] = []
    for directory, wanted in parts:
        for segment in wanted:
            for path in segment_files(directory, segment):
                _link(path, target / path.name)
            segments.append(segment)
    meta["segments"] = list(segments)
    (target / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def segment_files(directory: Path, segment: Mapping[str, Any]) -> list[Path]:
    """The files of one segment (named by its id without dashes)."""
    prefix = str(segment["segment_id"]).replace("-", "")
    files = [
        path
        for path in directory.iterdir()
        if path.name.split(".", 1)[0] == prefix and path.name not in _TANTIVY_OWN_FILES
    ]
    if not files:
        raise IndexCorruptError(f"{directory} has no files for segment {prefix}")
    return files


def segments_to_fold(sizes: Mapping[str, int], *, keep_at_most: int | None = None) -> set[str]:
    """The smallest segments to fold into a change's new segment so that at most
    `keep_at_most` remain; half-full or smaller ones only (folding a full one buys
    nothing). Folding rewrites their passages: cost bounded by the fold's size."""
    keep_at_most = MAX_SEGMENTS if keep_at_most is None else keep_at_most
    if len(sizes) <= keep_at_most:
        return set()
    small = sorted((n, name) for name, n in sizes.items() if n <= segment_rows() // 2)
    excess = len(sizes) - keep_at_most + 1
    return {name for _, name in small[: max(excess, 2)]} if len(small) >= 2 else set()


def segment_rows() -> int:
    """Passages per segment (a function, so tests can make segments tiny)."""
    return MAX_SEGMENT_ROWS


def read_segments(directory: Path) -> list[dict[str, Any]]:
    """The segment entries of the index in `directory`."""
    segments: list[dict[str, Any]] = _read_meta(directory)["segments"]
    return segments


def _tantivy_document(passage: LexicalDocument) -> tantivy.Document:
    document = tantivy.Document()
    document.add_unsigned("row", passage.row)
    document.add_text("article_id", passage.article_id)
    document.add_text("lang", passage.lang)
    document.add_text(field_for_language(passage.lang), passage.text)
    if passage.source:
        document.add_text("source", passage.source)
    if passage.date:
        document.add_date("date", datetime.fromisoformat(passage.date).replace(tzinfo=UTC))
    if passage.translation and passage.lang in _PRIMARY:
        other = "en" if passage.lang == "es" else "es"
        document.add_text(TRANSLATED_FIELD_BY_LANGUAGE[other], passage.translation)
    return document


def _read_meta(directory: Path) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IndexCorruptError(f"Cannot read {directory}/meta.json: {error}") from error
    return meta


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
