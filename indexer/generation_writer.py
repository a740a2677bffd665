"""Writes one new generation from the live one plus a change: the on-disk half of a
build, an `add`, a `remove` or a `sync`.

A full build is the same operation over no previous generation. Cost is that of
the change: the metadata store is copied (one file copy) and edited, the vectors
file is shared and appended to, the BM25 index keeps its untouched segments as
hard links and writes one new segment holding the new passages and those of any
segment that lost a passage (see `indexer.lexical_segments` for why no segment
carries deletes), and the approximate vector index (IVF lists or an HNSW graph),
when there is one, gets the new rows added and the dead ones removed.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import tantivy

from indexer.analysis import build_schema, register_analyzers
from indexer.layout import (
    ArticleRecord,
    GenerationPaths,
    IndexLayout,
    PassageRecord,
    extend_vectors,
    open_vectors,
)
from indexer.lexical_segments import (
    LexicalDocument,
    compose_index,
    segment_rows,
    segments_to_fold,
    write_segments,
)
from indexer.manifest import Manifest
from indexer.metadata_store import MetadataStore, MetadataWriter
from indexer.vector_index import DEFAULT_THRESHOLD, VectorIndexInfo, update_vector_index

__all__ = ["PreparedArticle", "WrittenGeneration", "new_generation_id", "write_generation"]


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article ready to store: its passages (rows not yet assigned: 0, 1, ...),
    their texts, vectors and translations, and where it came from."""

    record: ArticleRecord
    passages: Sequence[PassageRecord]
    texts: Sequence[str]
    vectors: npt.NDArray[np.float32]  # (passages, dimension)
    translations: Sequence[str | None]
    origin: str | None = None  # the source file
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class WrittenGeneration:
    paths: GenerationPaths  # the partial generation, complete but not yet published
    rows: int  # rows in the vectors file, dead ones included
    live_rows: int
    articles: int
    passages_by_language: dict[str, int]
    translated_passages: int
    vector_index: VectorIndexInfo
    lexical_segments: dict[str, dict[str, Any]]  # batch name -> tantivy segment entry
    rewritten_rows: int  # passages of untouched articles indexed again (see module doc)
    stage_seconds: dict[str, float]


def new_generation_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def write_generation(
    layout: IndexLayout,
    base: tuple[GenerationPaths, Manifest] | None,
    articles: Sequence[PreparedArticle],
    removals: Sequence[str],
    *,
    dimension: int,
    source_files: Sequence[tuple[str, int, int]] = (),
    forgotten_files: Sequence[str] = (),
    vector_threshold: int = DEFAULT_THRESHOLD,
    partial: GenerationPaths | None = None,
) -> WrittenGeneration:
    """Everything of the new generation, in a partial directory (`partial`, made by
    the caller when it started the change; else a new one); the caller writes the
    manifest and publishes. `articles` replace stored ones of the same id;
    `removals` are ids to drop (unknown ones are ignored)."""
    stages: dict[str, float] = {}
    mark = time.perf_counter()
    partial = partial or layout.new_partial(new_generation_id())
    base_paths = base[0] if base else None
    base_manifest = base[1] if base else None
    store = (
        MetadataWriter.update(base_paths.root, partial.root)
        if base_paths is not None
        else MetadataWriter.create(partial.root)
    )
    base_rows = store.next_row
    touched_ids = {a.record.id for a in articles} | set(removals)
    touched_segments = store.segments_of(touched_ids)
    for article_id in removals:
        store.delete_article(article_id)
    new_documents: list[LexicalDocument] = []
    new_vectors: list[npt.NDArray[np.float32]] = []
    for article in articles:
        first = store.next_row
        passages = [replace(p, row=first + n) for n, p in enumerate(article.passages)]
        store.put_article(
            article.record,
            passages,
            translations=article.translations,
            origin=article.origin,
            content_hash=article.content_hash,
        )
        new_vectors.append(article.vectors)
        new_documents.extend(
            LexicalDocument(
                row=p.row,
                article_id=p.article_id,
                lang=p.lang,
                text=text,
                translation=translation,
                source=article.record.source,
                date=article.record.date,
            )
            for p, text, translation in zip(
                passages, article.texts, article.translations, strict=True
            )
        )
    store.record_source_files(source_files)
    store.forget_source_files(forgotten_files)
    stages["store"] = time.perf_counter() - mark

    mark = time.perf_counter()
    sizes = store.segment_sizes()
    rewritten = touched_segments | segments_to_fold(
        {name: n for name, n in sizes.items() if name not in touched_segments}
    )
    documents = sorted(store.segment_documents(rewritten) + new_documents, key=lambda d: d.row)
    kept = {
        name: entry
        for name, entry in (base_manifest.lexical_segments if base_manifest else {}).items()
        if name not in rewritten and name in sizes
    }
    written = _write_lexical(partial, base_paths, kept, documents, store)
    stages["lexical"] = time.perf_counter() - mark

    mark = time.perf_counter()
    added = (
        np.concatenate(new_vectors) if new_vectors else np.zeros((0, dimension), dtype=np.float32)
    )
    base_vectors = base_paths.vectors if base_paths is not None else None
    extend_vectors(base_vectors, partial.vectors, base_rows, dimension, added)
    store.commit()
    reader = MetadataStore.open(partial.root, immutable=False)
    try:
        live = np.asarray(reader.row_live, dtype=bool)
        by_language = {
            lang: int(np.count_nonzero(live & (reader.row_lang == code)))
            for lang, code in zip(
                reader.languages, reader.lang_codes(reader.languages), strict=True
            )
        }
        articles_count = reader.article_count()
        translated = reader.translated_count()
    finally:
        reader.close()
    rows = base_rows + len(added)
    vectors = open_vectors(partial.vectors, rows, dimension)
    vector_index = update_vector_index(
        vectors,
        live,
        partial.root,
        base=(base_paths.root, base_manifest.vector_index)
        if base_paths and base_manifest
        else None,
        first_new_row=base_rows,
        threshold=vector_threshold,
    )
    stages["vectors"] = time.perf_counter() - mark
    return WrittenGeneration(
        paths=partial,
        rows=rows,
        live_rows=int(np.count_nonzero(live)),
        articles=articles_count,
        passages_by_language={k: v for k, v in sorted(by_language.items()) if v},
        translated_passages=translated,
        vector_index=vector_index,
        lexical_segments={**kept, **written},
        rewritten_rows=len(documents) - len(new_documents),
        stage_seconds=stages,
    )


def _write_lexical(
    partial: GenerationPaths,
    base: GenerationPaths | None,
    kept: Mapping[str, Mapping[str, Any]],
    documents: Sequence[LexicalDocument],
    store: MetadataWriter,
) -> dict[str, dict[str, Any]]:
    """New segments for `documents` (at most `segment_rows()` each), composed with
    the kept ones into `partial.tantivy`; returns the new batch names' entries."""
    scratch = partial.root / "new-segments"
    written: dict[str, dict[str, Any]] = {}
    parts: list[tuple[Path, list[Mapping[str, Any]]]] = []
    if base is not None and kept:
        parts.append((base.tantivy, list(kept.values())))
    for at in range(0, len(documents), segment_rows()):
        batch = documents[at : at + segment_rows()]
        name = uuid.uuid4().hex[:12]
        directory = scratch / name
        (entry,) = write_segments(directory, batch)
        written[name] = entry
        parts.append((directory, [entry]))
        store.assign_segment([d.row for d in batch], name)
    if parts:
        like = parts[-1][0] if written else base.tantivy if base is not None else None
        assert like is not None
        compose_index(partial.tantivy, parts, like=like)
    else:
        partial.tantivy.mkdir()
        register_analyzers(tantivy.Index(build_schema(), path=str(partial.tantivy)))
    shutil.rmtree(scratch, ignore_errors=True)
    return written
